"""The four tools, driven by the official SDK client over its in-memory transport, against the emulator over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.settings import Settings
from tests.envelope import fail, succeed
from tests.support import API_KEY, PROFILE_KEY, WAIT, RunningEmulator, memory_client, settings_for

pytestmark = pytest.mark.anyio

CREATE = "AYRSHARE_CREATE_AUTO_SCHEDULE"
SET = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
DELETE = "AYRSHARE_DELETE_DELETE_POST"
HISTORY = "AYRSHARE_GET_POST_HISTORY"


def keyed(emulator: RunningEmulator, home: Path, **extra: str) -> Settings:
    return settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, **extra)


async def test_lists_exactly_the_four_tools_with_their_titles_and_annotations(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert {name: tool.title for name, tool in tools.items()} == {
        CREATE: "Create Auto Schedule",
        SET: "Set Auto Schedule",
        DELETE: "Delete a previously published Ayrshare post",
        HISTORY: "Get Post History",
    }
    hints = {
        name: (t.annotations.read_only_hint, t.annotations.destructive_hint, t.annotations.idempotent_hint)
        for name, t in tools.items()
        if t.annotations
    }
    assert hints == {
        CREATE: (False, False, False),
        SET: (False, False, True),
        DELETE: (False, True, False),
        HISTORY: (True, False, True),
    }
    assert all(tool.annotations and tool.annotations.open_world_hint for tool in tools.values())
    assert emulator.app.requests == []


async def test_create_auto_schedule_lists_then_sets_when_the_title_is_new(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            data = await succeed(
                client, CREATE, {"schedule": ["13:05Z", "20:14Z"], "title": "Weekdays", "daysOfWeek": [1, 2, 3, 4, 5]}
            )

    assert data["title"] == "Weekdays"
    assert data["schedule"] == ["13:05Z", "20:14Z"]
    assert [(r.method, r.path) for r in emulator.app.requests] == [
        ("GET", "/api/auto-schedule/list"),
        ("POST", "/api/auto-schedule/set"),
    ]
    assert all(r.header("authorization") == f"Bearer {API_KEY}" for r in emulator.app.requests)
    assert emulator.app.requests[1].body == {
        "schedule": ["13:05Z", "20:14Z"],
        "title": "Weekdays",
        "daysOfWeek": [1, 2, 3, 4, 5],
    }


async def test_create_auto_schedule_refuses_an_existing_title_and_names_the_set_tool(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.set_auto_schedule(emulator.service.profile(API_KEY, None), {"schedule": ["09:00Z"]})

    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            envelope = await fail(client, CREATE, {"schedule": ["10:00Z"]})

    assert SET in envelope["error"]
    assert "'default' already exists" in envelope["error"]
    assert envelope["data"]["schedules"]["default"]["schedule"] == ["09:00Z"]
    assert [(r.method, r.path) for r in emulator.app.requests] == [("GET", "/api/auto-schedule/list")]


async def test_set_auto_schedule_replaces_an_existing_schedule(emulator: RunningEmulator, home: Path) -> None:
    profile = emulator.service.profile(API_KEY, None)
    emulator.service.set_auto_schedule(profile, {"schedule": ["09:00Z"], "title": "Main"})

    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            await succeed(client, SET, {"schedule": ["18:30Z"], "title": "Main", "excludeDates": ["2026-12-25"]})

    assert profile.schedules["Main"]["schedule"] == ["18:30Z"]
    assert profile.schedules["Main"]["excludeDates"] == ["2026-12-25"]
    assert [(r.method, r.path) for r in emulator.app.requests] == [("POST", "/api/auto-schedule/set")]


async def test_profile_key_argument_travels_as_a_header_and_never_in_the_body(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            await succeed(client, CREATE, {"schedule": ["07:45Z"], "Profile-Key": PROFILE_KEY})
            await succeed(client, HISTORY, {"Profile-Key": PROFILE_KEY, "limit": 5})

    assert [r.header("profile-key") for r in emulator.app.requests] == [PROFILE_KEY] * 3
    assert all(PROFILE_KEY not in str(r.body) and PROFILE_KEY not in str(r.query) for r in emulator.app.requests)
    assert "default" in emulator.service.profile(API_KEY, PROFILE_KEY).schedules
    assert emulator.service.profile(API_KEY, None).schedules == {}


async def test_the_configured_default_profile_key_applies_when_a_call_names_none(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home, AYRSHARE_PROFILE_KEY=PROFILE_KEY)) as client:
            await succeed(client, HISTORY, {})
            await succeed(client, HISTORY, {"Profile-Key": "ANOTHER-PROFILE-1234"})

    assert [r.header("profile-key") for r in emulator.app.requests] == [PROFILE_KEY, "ANOTHER-PROFILE-1234"]


async def test_delete_post_sends_a_json_body_on_delete_and_the_post_leaves_history(
    emulator: RunningEmulator, home: Path
) -> None:
    post = emulator.seed_post(platforms=["twitter", "linkedin"])

    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            deleted = await succeed(client, DELETE, {"id": post["id"]})
            remaining = await succeed(client, HISTORY, {})

    assert deleted["status"] == "success"
    assert deleted["id"] == post["id"]
    assert set(deleted) >= {"twitter", "linkedin"}
    [delete] = emulator.app.received("/post", method="DELETE")
    assert delete.body == {"id": post["id"]}
    assert delete.header("content-type") == "application/json"
    assert remaining["history"] == []


async def test_deleting_an_unknown_post_is_a_tool_error_carrying_ayrshare_code_114(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            envelope = await fail(client, DELETE, {"id": "doesNotExist123"})

    assert envelope["data"]["code"] == 114
    assert envelope["data"]["status"] == "error"
    assert "code 114" in envelope["error"]
    assert "post history" in envelope["error"]


async def test_history_sends_its_filters_as_query_parameters(emulator: RunningEmulator, home: Path) -> None:
    now = datetime.now(UTC)
    emulator.seed_post(platforms=["instagram"], created=now - timedelta(days=2))
    emulator.seed_post(platforms=["twitter"], created=now - timedelta(days=1))

    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            data = await succeed(
                client,
                HISTORY,
                {
                    "platforms": ["instagram", "facebook"],
                    "status": "success",
                    "limit": 10,
                    "startDate": (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S+02:00"),
                    "endDate": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )

    assert [post["platforms"] for post in data["history"]] == [["instagram"]]
    [request] = emulator.app.received("/history")
    query = request.query_dict()
    assert query["platforms[0]"] == "instagram"
    assert query["platforms[1]"] == "facebook"
    assert query["status"] == "success"
    assert query["limit"] == "10"
    assert query["startDate"] == (now - timedelta(days=7, hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_empty_history_is_a_success_with_an_empty_list(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            data = await succeed(client, HISTORY, {"lastDays": 7})

    assert data["history"] == []
    assert data["count"] == 0


async def test_a_key_ayrshare_rejects_is_a_tool_error_naming_code_102(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY="CANARY-NOT-A-VALID-KEY")) as client:
            envelope = await fail(client, HISTORY, {})

    assert envelope["data"]["code"] == 102
    assert "code 102" in envelope["error"]
    assert "API key" in envelope["error"]


async def test_an_html_error_page_from_ayrshare_becomes_a_clear_error(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(Fault(status=502, body="<html><h1>Bad Gateway</h1></html>", content_type="text/html", times=3))

    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            envelope = await fail(client, HISTORY, {})
            recovered = await succeed(client, HISTORY, {})

    assert envelope["data"] == {"status": 502}
    assert "HTTP 502" in envelope["error"]
    assert "not JSON (text/html)" in envelope["error"]
    assert recovered["history"] == []


async def test_invalid_arguments_are_refused_without_calling_ayrshare(emulator: RunningEmulator, home: Path) -> None:
    bad_calls: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {}),
        (CREATE, {"schedule": ["25:00Z"]}),
        (SET, {"schedule": "13:05Z"}),
        (SET, {"schedule": ["13:05Z"], "daysOfWeek": [7]}),
        (DELETE, {"id": "abc", "bulk": ["def"]}),
        (DELETE, {}),
        (DELETE, {"deleteAllScheduled": "true"}),
        (HISTORY, {"startDate": "2026-02-01T00:00:00Z", "endDate": "2026-01-01T00:00:00Z"}),
        (HISTORY, {"limit": 5000}),
        (HISTORY, {"colour": "blue"}),
    ]
    with anyio.fail_after(WAIT):
        async with memory_client(keyed(emulator, home)) as client:
            errors = [(await fail(client, tool, arguments))["error"] for tool, arguments in bad_calls]

    assert all(error.startswith("Invalid arguments for AYRSHARE_") for error in errors)
    assert all(error.endswith("Nothing was sent to Ayrshare.") for error in errors)
    assert emulator.app.requests == []


async def test_without_any_key_tools_are_listed_and_calls_say_how_to_provide_one(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home)) as client:
            tools = (await client.list_tools()).tools
            envelope = await fail(client, HISTORY, {})

    assert len(tools) == 4
    assert "AYRSHARE_API_KEY" in envelope["error"]
    assert str(home / ".config" / "ayrshare" / "credentials.toml") in envelope["error"]
    assert emulator.app.requests == []
