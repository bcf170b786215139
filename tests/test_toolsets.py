"""Toolsets: core (the four seed tools, unchanged) by default, others on request from the command line, the
environment or the bundle's settings; read-only across all of them. And the schedules and account toolsets' tools."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import MCPError

from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.settings import TOOLSETS, Settings
from ayrshare_mcp.tools import TOOLS_BY_NAME, TOOLS_OF
from tests.envelope import fail, succeed
from tests.support import API_KEY, PROFILE_KEY, WAIT, RunningEmulator, memory_client, run_cli, settings_for

pytestmark = pytest.mark.anyio

CORE = [
    "AYRSHARE_CREATE_AUTO_SCHEDULE",
    "AYRSHARE_POST_SET_AUTO_SCHEDULE",
    "AYRSHARE_DELETE_DELETE_POST",
    "AYRSHARE_GET_POST_HISTORY",
]
# What clients are told is read-only; test_fuzz.py checks that these tools send nothing that changes anything.
READ_ONLY = [
    tool.name for tool in listing(TOOLSETS).tools if tool.annotations and tool.annotations.read_only_hint is True
]


async def served(settings: Settings) -> list[str]:
    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            return [tool.name for tool in (await client.list_tools()).tools]


# --- selection ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, CORE),
        ({"AYRSHARE_TOOLSETS": ""}, CORE),
        ({"AYRSHARE_TOOLSETS": "${user_config.toolsets}"}, CORE),
        ({"AYRSHARE_TOOLSETS": " Account , core "}, [*CORE, "AYRSHARE_GET_USER", "AYRSHARE_LIST_PROFILES"]),
        ({"AYRSHARE_TOOLSETS": "schedules"}, ["AYRSHARE_LIST_AUTO_SCHEDULES", "AYRSHARE_DELETE_AUTO_SCHEDULE"]),
        ({"AYRSHARE_TOOLSETS": "all"}, [spec.name for name in TOOLSETS for spec in TOOLS_OF[name]]),
        ({"AYRSHARE_TOOLSETS": "all", "AYRSHARE_READ_ONLY": "1"}, READ_ONLY),
    ],
    ids=["default", "empty", "unfilled placeholder", "a list, any case", "one toolset", "all", "all, read-only"],
)
async def test_the_toolsets_named_are_the_tools_served(home: Path, env: dict[str, str], expected: list[str]) -> None:
    settings = Settings.from_environ({"HOME": str(home), **env})

    assert await served(settings) == expected


async def test_every_tool_belongs_to_exactly_one_toolset_and_core_is_the_four_seed_tools() -> None:
    names = [spec.name for tools in TOOLS_OF.values() for spec in tools]

    assert tuple(TOOLS_OF) == TOOLSETS
    assert len(names) == len(set(names)) == len(TOOLS_BY_NAME)
    assert [spec.name for spec in TOOLS_OF["core"]] == CORE
    assert all(name.startswith("AYRSHARE_") and name.isupper() for name in names)


@pytest.mark.parametrize("where", ["flag", "environment"])
async def test_an_unknown_toolset_stops_the_server_with_the_names_there_are(home: Path, where: str) -> None:
    flag = ["--toolsets", "core,post"] if where == "flag" else []
    env = {"HOME": str(home)} | ({} if where == "flag" else {"AYRSHARE_TOOLSETS": "core,post"})

    code, stdout, stderr = await run_cli(*flag, "tools", env=env)

    assert code == 1
    assert stdout == ""
    assert "no toolset named 'post'" in stderr
    assert f"{', '.join(TOOLSETS)} (or all)" in stderr


async def test_the_flag_wins_over_the_environment_and_tools_prints_each_toolset_under_its_name(home: Path) -> None:
    env = {"HOME": str(home), "AYRSHARE_TOOLSETS": "core"}

    code, stdout, _ = await run_cli("--toolsets", "schedules,account", "tools", env=env)

    headings = [line.split(":")[0] for line in stdout.splitlines() if line.startswith("== ")]
    assert code == 0
    assert headings == ["== schedules", "== account"]
    assert "AYRSHARE_CREATE_AUTO_SCHEDULE" not in stdout


async def test_config_passes_the_toolsets_through_to_the_host() -> None:
    _, some, _ = await run_cli("--toolsets", "posts,core", "config", "claude", env={})
    _, every, _ = await run_cli("--toolsets", "all", "config", "claude-code", env={})
    _, default, _ = await run_cli("config", "claude", env={})

    assert json.loads(some)["mcpServers"]["ayrshare"]["args"][-2:] == ["--toolsets", "core,posts"]
    assert every.endswith("--toolsets all\n")
    assert "--toolsets" not in default


async def test_a_tool_of_a_toolset_not_served_says_how_to_turn_it_on(emulator: RunningEmulator, home: Path) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool("AYRSHARE_CREATE_POST", {"post": "hi", "platforms": ["linkedin"]})

    assert "in the posts toolset" in refused.value.error.message
    assert "--toolsets core,posts" in refused.value.error.message
    assert emulator.app.requests == []


async def test_read_only_refuses_a_write_tool_of_a_served_toolset(emulator: RunningEmulator, home: Path) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_TOOLSETS="all", AYRSHARE_READ_ONLY="1")

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool("AYRSHARE_DELETE_AUTO_SCHEDULE", {"title": "default"})

    assert "read-only" in refused.value.error.message
    assert emulator.app.requests == []


# --- the schedules toolset ---------------------------------------------------------------------------------------


def connected(emulator: RunningEmulator, home: Path, **env: str) -> Any:
    return memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_TOOLSETS="all", **env))


async def test_schedules_are_listed_and_one_is_deleted_by_its_title(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with connected(emulator, home) as client:
            empty = await succeed(client, "AYRSHARE_LIST_AUTO_SCHEDULES", {})
            for title in ("mornings", "evenings"):
                await succeed(client, "AYRSHARE_POST_SET_AUTO_SCHEDULE", {"title": title, "schedule": ["09:00Z"]})
            deleted = await succeed(client, "AYRSHARE_DELETE_AUTO_SCHEDULE", {"title": "mornings"})
            left = await succeed(client, "AYRSHARE_LIST_AUTO_SCHEDULES", {})

    assert empty["schedules"] == {}
    assert deleted["title"] == "mornings"
    assert list(left["schedules"]) == ["evenings"]


async def test_restarting_a_schedule_keeps_it_and_forgets_only_its_last_slot(
    emulator: RunningEmulator, home: Path
) -> None:
    profile = emulator.service.profile(API_KEY, None)

    with anyio.fail_after(WAIT):
        async with connected(emulator, home) as client:
            await succeed(client, "AYRSHARE_POST_SET_AUTO_SCHEDULE", {"title": "t", "schedule": ["09:00Z"]})
            profile.schedules["t"]["lastScheduleDate"] = "2030-01-01T09:00:00Z"
            await succeed(client, "AYRSHARE_DELETE_AUTO_SCHEDULE", {"title": "t", "deleteLastScheduleDate": True})

    assert "t" in profile.schedules
    assert "lastScheduleDate" not in profile.schedules["t"]


async def test_deleting_a_schedule_that_does_not_exist_names_those_that_do_and_deletes_nothing(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with connected(emulator, home) as client:
            await succeed(client, "AYRSHARE_POST_SET_AUTO_SCHEDULE", {"title": "Evenings", "schedule": ["19:00Z"]})
            refused = await fail(client, "AYRSHARE_DELETE_AUTO_SCHEDULE", {"title": "evenings"})

    assert "No auto schedule is titled 'evenings'. The schedules are: Evenings." in refused["error"]
    assert emulator.app.received("/auto-schedule/delete") == []


# --- the account toolset -----------------------------------------------------------------------------------------


async def test_get_user_shows_the_linked_networks_an_agent_may_post_to(emulator: RunningEmulator, home: Path) -> None:
    emulator.service.switches.linked_platforms = ["bluesky", "linkedin"]

    with anyio.fail_after(WAIT):
        async with connected(emulator, home) as client:
            user = await succeed(client, "AYRSHARE_GET_USER", {"Profile-Key": PROFILE_KEY})

    assert user["activeSocialAccounts"] == ["bluesky", "linkedin"]
    assert emulator.app.requests[-1].header("profile-key") == PROFILE_KEY


@pytest.mark.parametrize("legacy_keys", [False, True], ids=["keys withheld (docs)", "keys sent anyway"])
async def test_profiles_are_listed_but_no_profile_key_reaches_the_model_or_the_log(
    emulator: RunningEmulator, home: Path, legacy_keys: bool, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.service.switches.profiles_answer_keys = legacy_keys
    emulator.service.profile(API_KEY, PROFILE_KEY)
    caplog.set_level(logging.DEBUG)

    with anyio.fail_after(WAIT):
        async with connected(emulator, home, AYRSHARE_MCP_LOG_LEVEL="DEBUG") as client:
            result = await client.call_tool("AYRSHARE_LIST_PROFILES", {})

    assert result.structured_content is not None
    [profile] = result.structured_content["data"]["profiles"]
    assert profile["refId"]
    assert PROFILE_KEY not in json.dumps(result.model_dump(mode="json")) + caplog.text
    assert "profileKey" not in profile


async def test_a_server_acting_for_one_profile_does_not_list_the_others(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with connected(emulator, home, AYRSHARE_PROFILE_KEY=PROFILE_KEY) as client:
            refused = await fail(client, "AYRSHARE_LIST_PROFILES", {})
            schema = next(t for t in (await client.list_tools()).tools if t.name == "AYRSHARE_LIST_PROFILES")

    assert "acts for one User Profile" in refused["error"]
    assert emulator.app.requests == []
    assert "Profile-Key" not in schema.input_schema["properties"]
