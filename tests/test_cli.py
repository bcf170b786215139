"""The command line a new user meets first: --sandbox, call, tools, check and config.

Run in this process, and once as the real console script."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.emulator import bind
from ayrshare_mcp.settings import Settings
from tests.envelope import succeed
from tests.support import (
    API_KEY,
    CANARY,
    PROCESS_WAIT,
    PROFILE_KEY,
    WAIT,
    X_API_KEY,
    X_API_SECRET,
    RunningEmulator,
    child_env,
    memory_client,
    run_cli,
    server_env,
)
from tests.test_media import PNG

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"


async def run(*args: str, env: dict[str, str], stdin: bytes | None = None) -> tuple[int, str, str]:
    with anyio.fail_after(WAIT):
        return await run_cli(*args, env=env, stdin=(stdin or b"").decode())


async def test_a_sandbox_call_prints_a_simulated_result_and_says_so(home: Path) -> None:
    code, stdout, _ = await run("--sandbox", "call", HISTORY, "{}", env={"HOME": str(home)})

    envelope = json.loads(stdout)
    assert code == 0
    assert envelope["successful"] is True
    assert len(envelope["data"]["history"]) == 3
    assert "emulator" in envelope["sandbox"]


async def test_the_sandbox_never_uses_real_keys_or_the_network(home: Path) -> None:
    env = {"HOME": str(home), "AYRSHARE_API_KEY": API_KEY, "AYRSHARE_BASE_URL": "http://127.0.0.1:9/api"}

    code, stdout, stderr = await run("--sandbox", "call", HISTORY, '{"limit": 1}', env=env)

    assert code == 0
    assert json.loads(stdout)["data"]["count"] == 1
    assert CANARY not in stdout + stderr


async def test_a_call_that_fails_prints_the_error_envelope_and_exits_1(home: Path) -> None:
    code, stdout, _ = await run("--sandbox", "call", "AYRSHARE_DELETE_DELETE_POST", '{"id": "nope"}', env={})

    envelope = json.loads(stdout)
    assert code == 1
    assert envelope["successful"] is False
    assert "code 114" in envelope["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("call", "AYRSHARE_NOPE", "{}"), "no tool 'AYRSHARE_NOPE'; the tools are: AYRSHARE_CREATE_AUTO_SCHEDULE"),
        (("call", HISTORY, "{limit: 5}"), "not valid JSON"),
        (("call", HISTORY, "[1]"), "must be a JSON object"),
        (("--trust-proxy", "nowhere", "tools"), "'nowhere' is not an IP address or network; give the proxies'"),
    ],
)
async def test_a_malformed_call_exits_2_with_what_to_type_instead(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    code, stdout, stderr = await run("--sandbox", *args, env={"HOME": str(home)})

    assert code == 2
    assert stdout == ""
    assert message in stderr


async def test_call_is_the_users_own_act_so_a_bulk_delete_needs_no_second_yes(home: Path) -> None:
    code, stdout, _ = await run(
        "--sandbox", "call", "AYRSHARE_DELETE_DELETE_POST", '{"deleteAllScheduled": true}', env={"HOME": str(home)}
    )

    assert code == 0
    assert json.loads(stdout)["data"]["deleteAllScheduled"] is True


async def test_call_reads_its_arguments_from_stdin_when_given_a_dash(home: Path) -> None:
    code, stdout, _ = await run("--sandbox", "call", HISTORY, "-", env={"HOME": str(home)}, stdin=b'{"limit": 2}')

    assert code == 0
    assert json.loads(stdout)["data"]["count"] == 2


async def test_tools_prints_the_catalog_and_its_json_matches_tools_list() -> None:
    _, plain, _ = await run("tools", env={})
    _, as_json, _ = await run("tools", "--json", env={})

    assert all(f"{tool.name}  ({tool.title};" in plain for tool in listing().tools)
    assert "* schedule" in plain
    assert max(map(len, plain.splitlines())) <= 100, "every line fits the width (100 when there is no terminal)"
    assert json.loads(as_json) == listing().model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_check_passes_when_ayrshare_accepts_the_key_and_shows_only_its_last_four_characters(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_PROFILE_KEY=PROFILE_KEY)

    code, stdout, stderr = await run("check", env=env)

    assert code == 0
    assert f"ending ...{API_KEY[-4:]}" in stdout
    assert f"profile key ...{PROFILE_KEY[-4:]}" in stdout
    assert stdout.rstrip().endswith("All good.")
    assert API_KEY not in stdout + stderr
    assert PROFILE_KEY not in stdout + stderr
    assert [r.header("profile-key") for r in emulator.app.received("/user")] == [None, PROFILE_KEY]


async def test_check_says_whether_an_x_pair_is_configured_and_shows_only_the_keys_last_four_characters(
    emulator: RunningEmulator, home: Path
) -> None:
    without = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    with_pair = {**without, "AYRSHARE_X_API_KEY": X_API_KEY, "AYRSHARE_X_API_SECRET": X_API_SECRET}

    _, none_configured, _ = await run("check", env=without)
    code, configured, stderr = await run("check", env=with_pair)

    assert "X/Twitter pair: none configured" in none_configured
    assert code == 0
    assert f"X/Twitter pair: configured, API key ending ...{X_API_KEY[-4:]}." in configured
    for secret in (X_API_KEY, X_API_SECRET, X_API_SECRET[-4:]):
        assert secret not in configured.replace(f"...{X_API_KEY[-4:]}", "") + stderr


async def test_check_fails_with_a_fix_when_ayrshare_rejects_the_key(emulator: RunningEmulator, home: Path) -> None:
    code, stdout, _ = await run("check", env=server_env(emulator, home, AYRSHARE_API_KEY="CANARY-WRONG-KEY-1234"))

    assert code == 1
    assert "[FAIL] Ayrshare did not accept the API key." in stdout
    assert "fix: Ayrshare answered HTTP 403, code 102" in stdout


async def test_check_fails_without_any_key_and_names_both_ways_to_add_one(home: Path) -> None:
    code, stdout, _ = await run("check", env={"HOME": str(home)})

    assert code == 1
    assert "[FAIL] No usable Ayrshare API key." in stdout
    assert "AYRSHARE_API_KEY" in stdout
    assert "credentials.toml" in stdout


async def test_check_flags_a_credentials_file_other_users_can_read(emulator: RunningEmulator, home: Path) -> None:
    path = home / ".config" / "ayrshare" / "credentials.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'api_key = "{API_KEY}"\n', encoding="utf-8")
    path.chmod(0o644)

    code, stdout, _ = await run("check", env=server_env(emulator, home))

    assert code == 1
    assert f"chmod 600 {path}" in stdout


@pytest.mark.parametrize("host", ["claude", "cursor", "vscode"])
async def test_config_prints_json_that_launches_this_installation_by_absolute_path(host: str) -> None:
    code, stdout, stderr = await run("config", host, env={})

    document = json.loads(stdout)
    servers: dict[str, Any] = document["servers" if host == "vscode" else "mcpServers"]
    entry = servers["ayrshare"]
    assert code == 0
    assert Path(entry["command"]).is_absolute()
    assert await anyio.Path(entry["command"]).exists()
    assert entry["env"] == {"AYRSHARE_API_KEY": "YOUR-AYRSHARE-API-KEY"}
    assert f"ayrshare-mcp --toolsets core,calendar config {host}" in stderr, "how to see the calendar in this host"


async def test_config_with_the_calendar_passes_it_on_and_says_nothing_more_of_it() -> None:
    code, stdout, stderr = await run("--toolsets", "core,calendar", "config", "claude", env={})

    assert code == 0
    assert json.loads(stdout)["mcpServers"]["ayrshare"]["args"][-2:] == ["--toolsets", "core,calendar"]
    assert "calendar toolset" not in stderr


async def test_config_for_claude_code_is_a_command_line_and_sandbox_configs_need_no_key() -> None:
    _, claude_code, _ = await run("config", "claude-code", env={})
    _, sandboxed, _ = await run("--sandbox", "config", "claude", env={})

    assert claude_code.startswith("claude mcp add ayrshare --env AYRSHARE_API_KEY=YOUR-AYRSHARE-API-KEY -- /")
    entry = json.loads(sandboxed)["mcpServers"]["ayrshare"]
    assert entry["args"][-1] == "--sandbox"
    assert "env" not in entry


async def test_a_sandboxed_server_marks_every_result(home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(Settings.from_environ({"HOME": str(home), "AYRSHARE_SANDBOX": "true"})) as client:
            result = await client.call_tool(HISTORY, {"status": "pending"})
            data = await succeed(client, "AYRSHARE_POST_SET_AUTO_SCHEDULE", {"schedule": ["10:00Z"]})

    assert result.structured_content is not None
    assert "emulator" in result.structured_content["sandbox"]
    assert data["schedule"] == ["10:00Z"]


async def test_an_unfilled_host_placeholder_counts_as_no_key(home: Path) -> None:
    env = {
        "HOME": str(home),
        "AYRSHARE_API_KEY": "${user_config.api_key}",
        "AYRSHARE_SANDBOX": "${user_config.sandbox}",
    }

    code, stdout, _ = await run("call", HISTORY, "{}", env=env)

    assert code == 1
    assert "No Ayrshare API key is configured" in json.loads(stdout)["error"]


async def test_the_console_script_itself_runs_a_call_and_exits_with_its_code(home: Path) -> None:
    command = [sys.executable, "-m", "ayrshare_mcp", "--sandbox", "call", "AYRSHARE_DELETE_DELETE_POST", '{"id": "x"}']

    with anyio.fail_after(PROCESS_WAIT):
        environ = child_env({"HOME": str(home)}, measured=False)
        result = await anyio.run_process(command, env=environ, check=False)

    assert result.returncode == 1
    assert json.loads(result.stdout)["successful"] is False


async def test_read_only_is_honoured_by_tools_config_and_call(home: Path) -> None:
    _, tools, _ = await run("--read-only", "tools", env={})
    _, config, _ = await run("--read-only", "config", "claude", env={})
    code, stdout, stderr = await run("--read-only", "call", "AYRSHARE_DELETE_DELETE_POST", '{"id": "x"}', env={})

    assert [line.split()[0] for line in tools.splitlines() if line.startswith("AYRSHARE_")] == [HISTORY]
    assert json.loads(config)["mcpServers"]["ayrshare"]["args"][-1] == "--read-only"
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert "not available: this server runs read-only" in stderr


async def test_check_says_ayrshare_could_not_be_reached_rather_than_blaming_the_key(home: Path) -> None:
    with bind() as sock:
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api"

    code, stdout, _ = await run(
        "check", env={"HOME": str(home), "AYRSHARE_API_KEY": API_KEY, "AYRSHARE_BASE_URL": closed}
    )

    assert code == 1
    assert "Ayrshare could not be reached, so the API key was not checked." in stdout
    assert "did not accept" not in stdout


async def test_messages_and_media_from_one_sandbox_run_are_there_in_the_next(home: Path) -> None:
    env = {"HOME": str(home), "AYRSHARE_PUBLISH": "direct"}  # nobody to ask on the command line: the operator's yes
    message = {"message": "Thanks for asking!", "recipientId": "person-1"}
    picture = {"file": "data:image/png;base64," + base64.b64encode(PNG).decode(), "fileName": "logo.png"}

    sent = await run("--sandbox", "--toolsets", "all", "call", "AYRSHARE_SEND_MESSAGE",
                     json.dumps({"platform": "facebook", **message}), env=env)  # fmt: skip
    uploaded = await run(
        "--sandbox", "--toolsets", "all", "call", "AYRSHARE_UPLOAD_MEDIA", json.dumps(picture), env=env
    )
    messages = await run("--sandbox", "--toolsets", "all", "call", "AYRSHARE_LIST_MESSAGES", '{"platform": "facebook"}',
                         env=env)  # fmt: skip
    library = await run("--sandbox", "--toolsets", "all", "call", "AYRSHARE_LIST_MEDIA", "{}", env=env)

    assert (sent[0], uploaded[0]) == (0, 0), (sent, uploaded)
    assert "Thanks for asking!" in [each["message"] for each in json.loads(messages[1])["data"]["messages"]]
    assert [item["fileName"] for item in json.loads(library[1])["data"]["media"]] == ["logo.png"]


async def test_the_sandbox_remembers_between_runs_until_it_is_reset(home: Path) -> None:
    env = {"HOME": str(home)}
    delete = ("call", "AYRSHARE_DELETE_DELETE_POST", '{"id": "sandboxPostRoundup3"}')

    first = await run("--sandbox", *delete, env=env)
    again = await run("--sandbox", *delete, env=env)
    listed = await run("--sandbox", "call", HISTORY, '{"status": "deleted"}', env=env)
    after_reset = await run("--sandbox-reset", *delete, env=env)

    assert first[0] == 0
    assert again[0] == 1
    assert "code 383" in json.loads(again[1])["error"]
    assert [post["id"] for post in json.loads(listed[1])["data"]["history"]] == ["sandboxPostRoundup3"]
    assert after_reset[0] == 0
    assert "starts over" in after_reset[2]
    assert (home / ".local/state/ayrshare-mcp/sandbox.json").exists()
