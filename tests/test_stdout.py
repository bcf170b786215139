"""On stdio, stdout belongs to the protocol: every byte the server writes there must be a JSON-RPC message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.support import API_KEY, PROCESS_WAIT, RunningEmulator, child_env, server_env

pytestmark = pytest.mark.anyio


def request(message_id: int, method: str, params: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": message_id, "method": method, "params": params}).encode() + b"\n"


INITIALIZE = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
INITIALIZED = b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n'


async def test_stdout_carries_nothing_but_json_rpc_even_with_debug_logging(
    emulator: RunningEmulator, home: Path
) -> None:
    environ = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_LOG_LEVEL="DEBUG")
    env = child_env(environ, measured=False)
    command = [sys.executable, "-m", "ayrshare_mcp"]
    with anyio.fail_after(PROCESS_WAIT):
        async with await anyio.open_process(command, env=env, stderr=subprocess.PIPE) as process:
            assert process.stdin
            assert process.stdout
            assert process.stderr
            await process.stdin.send(request(1, "initialize", INITIALIZE) + INITIALIZED)
            await process.stdin.send(request(2, "tools/list", {}))
            await process.stdin.send(request(3, "tools/call", {"name": "AYRSHARE_GET_POST_HISTORY", "arguments": {}}))
            await process.stdin.send(request(4, "tools/call", {"name": "AYRSHARE_DELETE_DELETE_POST", "arguments": {}}))
            stdout = await _read_until_answered(process.stdout, {1, 2, 3, 4})
            await process.stdin.aclose()
            stderr = b"".join([chunk async for chunk in process.stderr])
            exit_code = await process.wait()

    messages = [json.loads(line) for line in stdout.splitlines()]
    assert all(message["jsonrpc"] == "2.0" for message in messages)
    assert {message.get("id") for message in messages} >= {1, 2, 3, 4}
    assert b"DEBUG" in stderr
    assert b"GET /history -> 400" in stderr  # the empty-history answer, logged on stderr
    assert exit_code == 0


async def _read_until_answered(stdout: anyio.abc.ByteReceiveStream, ids: set[int]) -> bytes:
    received = b""
    while not ids <= {json.loads(line).get("id") for line in received.splitlines() if line.strip()}:
        received += await stdout.receive()
    return received


async def test_garbage_truncated_json_and_an_early_eof_get_protocol_errors_and_a_clean_exit(home: Path) -> None:
    env = child_env({"HOME": str(home), "AYRSHARE_SANDBOX": "1", "AYRSHARE_MCP_LOG_LEVEL": "DEBUG"})
    lines = [
        b"this is not json\n",
        request(1, "initialize", INITIALIZE) + INITIALIZED,
        b'{"jsonrpc": "2.0", "id": 2, "method": "tools/li\n',
        b"[1, 2, 3]\n",
        b'{"jsonrpc": "2.0", "id": 3}\n',
        request(4, "tools/call", {"name": "AYRSHARE_GET_POST_HISTORY", "arguments": {"limit": 1}}),
        b'{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"na',  # EOF in the middle of a line
    ]
    with anyio.fail_after(PROCESS_WAIT):
        result = await anyio.run_process([sys.executable, "-m", "ayrshare_mcp"], input=b"".join(lines), env=env)

    messages = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [message["error"]["code"] for message in messages if "error" in message]
    answered = {message["id"] for message in messages if "result" in message}
    assert errors == [-32700, -32700, -32600, -32600, -32700]
    assert answered == {1, 4}
    assert all(message["jsonrpc"] == "2.0" for message in messages)
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr
