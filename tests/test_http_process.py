"""`ayrshare-mcp --transport ...` as a real process: start-up refusals, signals, clean exits and released ports."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.emulator import Fault, bind
from tests.envelope import succeed
from tests.support import API_KEY, PROCESS_WAIT, RunningEmulator, http_session, run_cli, server_env, serving

pytestmark = pytest.mark.anyio


async def run_to_exit(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """A start-up refusal happens before any process boundary matters: run the command in this process."""
    code, _, stderr = await run_cli(*args, env=env)
    return code, stderr


async def test_a_token_file_others_can_read_is_refused_with_the_chmod_fix(home: Path) -> None:
    token_file = home / "token"
    token_file.write_text("a-long-enough-random-access-token\n", encoding="utf-8")
    token_file.chmod(0o644)

    with anyio.fail_after(PROCESS_WAIT):
        code, stderr = await run_to_exit(["--transport", "sse", "--token-file", str(token_file)], {"HOME": str(home)})

    assert code != 0
    assert f"chmod 600 {token_file}" in stderr


async def test_a_short_access_token_is_refused(home: Path) -> None:
    with anyio.fail_after(PROCESS_WAIT):
        code, stderr = await run_to_exit(
            ["--transport", "streamable-http"], {"HOME": str(home), "AYRSHARE_MCP_TOKEN": "secret"}
        )

    assert code != 0
    assert "too short" in stderr


@pytest.mark.parametrize(("transport", "signum"), [("streamable-http", signal.SIGTERM), ("sse", signal.SIGINT)])
async def test_a_signal_stops_the_server_with_exit_code_0_and_releases_the_port(
    emulator: RunningEmulator, home: Path, transport: str, signum: signal.Signals
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(PROCESS_WAIT):
        async with serving(["--transport", transport], env) as (process, url, _):
            async with http_session(url, transport=transport) as client:
                await succeed(client, "AYRSHARE_GET_POST_HISTORY", {})
            process.send_signal(signum)
            code = await process.wait()

    assert code == 0
    with bind(port=int(url.rsplit(":", 1)[1])):
        pass  # the port is free again


async def test_a_call_in_flight_at_shutdown_still_gets_its_answer(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(Fault(status=200, body={"history": [], "count": 0}, path="/history", delay=1))
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    answers: list[dict[str, object]] = []

    async def call(url: str) -> None:
        async with http_session(url) as client:
            await client.list_tools()  # as hosts do; the SDK client would otherwise fetch it after the call
            answers.append(await succeed(client, "AYRSHARE_GET_POST_HISTORY", {}))

    with anyio.fail_after(PROCESS_WAIT):
        async with serving(["--transport", "streamable-http"], env, measured=False) as (process, url, _):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, url)
                await emulator.app.wait_for_requests(1)
                process.send_signal(signal.SIGTERM)
            code = await process.wait()

    assert answers == [{"history": [], "count": 0}]
    assert code == 0
