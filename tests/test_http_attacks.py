"""Attacks on the HTTP server as the command line serves it (in this process; the attacks that need a process of
their own are in test_lockout.py): hosts and origins, unusable key headers, floods, slow requests, tokens,
and what they leave in the log. Each was seen to succeed before its defence was written."""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest

from ayrshare_mcp.emulator import Fault
from tests.envelope import succeed
from tests.support import (
    API_KEY,
    BEARER,
    PROFILE_KEY,
    RAW_ACCEPT,
    RAW_INITIALIZE,
    WAIT,
    Log,
    RunningEmulator,
    client_from,
    fill_the_unproven_half,
    http_session,
    one_emulator_per_module,
    open_session,
    run_cli,
    server_env,
    serving_here,
    session_alive,
)

pytestmark = pytest.mark.anyio

TOKEN = "CANARY-TOKEN-3b9d7f1e5a2c8e4b"
# Another client, as the server sees it: loopback has many addresses.
ELSEWHERE = "127.0.0.2"


# One emulator and a few servers serve the whole module; each test starts from a reset emulator.
anyio_backend, emulator = one_emulator_per_module()


@asynccontextmanager
async def server_for_module(
    emulator: RunningEmulator, home: Path, args: list[str], **env: str
) -> AsyncIterator[tuple[str, Log]]:
    command, environ = ["--transport", "streamable-http", *args], server_env(emulator, home, **env)
    async with serving_here(command, environ, log_level="DEBUG") as (_, url, log):
        yield url, log


@pytest.fixture(scope="module")
async def keyless_server(
    module_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Log]]:
    async with server_for_module(module_emulator, tmp_path_factory.mktemp("home"), []) as running:
        yield running


@pytest.fixture(scope="module")
async def keyed_server(
    module_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Log]]:
    async with server_for_module(module_emulator, tmp_path_factory.mktemp("home"), [], AYRSHARE_API_KEY=API_KEY) as up:
        yield up


@pytest.fixture(scope="module")
async def token_server(
    module_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Log]]:
    home = tmp_path_factory.mktemp("home")
    async with server_for_module(module_emulator, home, [], AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_TOKEN=TOKEN) as up:
        yield up


HISTORY = "AYRSHARE_GET_POST_HISTORY"


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def raw(url: str, request: bytes) -> bytes:
    """Send bytes as they are, no client library in between; the answer, once whole (or once the server closes)."""
    async with await anyio.connect_tcp("127.0.0.1", port_of(url)) as stream:
        await stream.send(request)
        answer = b""
        with anyio.move_on_after(5):
            while not _whole(answer):
                try:
                    answer += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    break
        return answer


def _whole(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    length = next(
        (line.split(b":", 1)[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), None
    )
    return length is not None and len(body) >= int(length)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def modern_call(name: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments, "_meta": meta},
    }
    headers = {**RAW_ACCEPT, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": name}
    return body, headers


# --- Host and Origin -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "origin", "status"),
    [
        ("127.0.0.1:1.evil.com", None, 421),
        ("localhost.evil.com", None, 421),
        ("127.0.0.1:99999", None, 421),
        ("127.0.0.1:", None, 421),
        ("evil.com:8000", None, 421),
        ("127.0.0.1", "http://127.0.0.1:1.evil.com", 403),
        ("127.0.0.1", "http://localhost.evil.com:3000", 403),
        ("127.0.0.1", "https://127.0.0.1", 403),
        ("127.0.0.1", "null", 403),
        ("[::1]:8000", "http://localhost:3000", 200),
        ("LOCALHOST:8000", None, 200),
    ],
)
async def test_host_and_origin_must_name_this_server_exactly(
    keyless_server: tuple[str, Log], host: str, origin: str | None, status: int
) -> None:
    url, log = keyless_server
    origin_line = f"Origin: {origin}\r\n" if origin else ""
    body = json.dumps(RAW_INITIALIZE).encode()
    request = (
        f"POST /mcp HTTP/1.1\r\nHost: {host}\r\n{origin_line}"
        "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body

    with anyio.fail_after(WAIT):
        answer = await raw(url, request)

    assert status_of(answer) == status
    assert b"Traceback" not in log


@pytest.mark.parametrize("where", [[], ["--allowed-host", "mcp.example.com"], ["--host", "0.0.0.0"]])
async def test_a_server_with_its_own_key_and_no_token_will_not_serve_http_anywhere(
    home: Path, where: list[str]
) -> None:
    # Seen before: behind a reverse proxy (or a tunnel) a loopback server lent the operator's key to anyone, since
    # every request looked local. Where a request came from cannot be told, so the key needs the token everywhere.
    env = {"HOME": str(home), "AYRSHARE_API_KEY": API_KEY}

    with anyio.fail_after(WAIT):
        code, _, stderr = await run_cli("--transport", "streamable-http", *where, env=env)

    assert code != 0
    assert "through a reverse proxy or tunnel" in stderr
    assert "AYRSHARE_MCP_TOKEN" in stderr
    assert API_KEY not in stderr


# --- key headers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"", b"   ", b"${user_config.api_key}", b"x" * 8000, b"has a space", "caf\u00e9-key-1234".encode("latin-1")],
    ids=["blank", "spaces", "placeholder", "8000-chars", "inner-space", "non-ascii"],
)
@pytest.mark.parametrize("header", ["X-Ayrshare-Api-Key", "X-Ayrshare-Profile-Key", "X-Twitter-OAuth1-Api-Key"])
async def test_an_unusable_key_header_is_an_error_naming_it_and_never_falls_back_to_the_servers_key(
    emulator: RunningEmulator, keyed_server: tuple[str, Log], header: str, value: bytes
) -> None:
    url, log = keyed_server
    body, headers = modern_call(HISTORY, {})
    if header.startswith("X-Twitter"):
        headers["X-Twitter-OAuth1-Api-Secret"] = "CANARY-X-SECRET-5a5a5a5a"
    lines = b"".join(f"{name}: {text}\r\n".encode() for name, text in {**BEARER, **headers}.items())
    payload = json.dumps(body).encode()
    request = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n" + lines + header.encode() + b": " + value + b"\r\n"
        b"Content-Length: " + str(len(payload)).encode() + b"\r\nConnection: close\r\n\r\n" + payload
    )

    with anyio.fail_after(WAIT):
        answer = await raw(url, request)

    result = json.loads(answer.split(b"\r\n\r\n", 1)[1])["result"]
    assert result["isError"] is True
    assert header in result["structuredContent"]["error"]
    assert emulator.app.requests == []
    assert b"Traceback" not in log


# --- floods ----------------------------------------------------------------------------------------------------


async def test_a_caller_inventing_a_key_per_session_holds_no_more_than_the_address_cap(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "8"]

    with anyio.fail_after(WAIT):
        async with serving_here(args, env) as (_, url, _), client_from(None) as http:
            keys = [f"JUNK-KEY-{n}" for n in range(12)]
            opened = [await open_session(http, url, key) for key in keys]
            again = await open_session(http, url, keys[-1])
            alive = [
                await session_alive(http, url, key, session) for key, (_, session) in zip(keys, opened, strict=True)
            ]

    assert [status for status, _ in opened] == [200] * 8 + [429] * 4
    assert alive == [True] * 8 + [False] * 4, "nobody else's session gave way"
    assert again[0] == 429
    assert len(emulator.app.received("/user")) == 4, "each refused key was put to Ayrshare once, not again"


async def test_an_oversized_initialize_is_refused_since_a_session_keeps_it(
    keyless_server: tuple[str, Log],
) -> None:
    url, _ = keyless_server
    padded = {
        **RAW_INITIALIZE,
        "params": {**RAW_INITIALIZE["params"], "clientInfo": {"name": "x" * 70_000, "version": "0"}},
    }

    with anyio.fail_after(WAIT):
        async with client_from(None) as http:
            answer = await http.post(url + "/mcp", json=padded, headers=RAW_ACCEPT)

    assert answer.status_code == 413


async def test_a_half_sent_request_is_closed_after_the_request_timeout(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "streamable-http", "--request-timeout", "1"], env) as (_, url, _):
            slow = [await anyio.connect_tcp("127.0.0.1", port_of(url)) for _ in range(20)]
            for stream in slow:
                await stream.send(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            async with http_session(url) as client:
                await succeed(client, HISTORY, {})
            closed = 0
            for stream in slow:
                with anyio.fail_after(WAIT):
                    try:
                        await stream.receive()
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        closed += 1
                await stream.aclose()

    assert closed == 20


async def test_connections_beyond_the_cap_are_turned_away_at_once(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    args = ["--transport", "streamable-http", "--max-connections", "3", "--request-timeout", "30"]

    with anyio.fail_after(WAIT):
        async with serving_here(args, env) as (_, url, _):
            idle = [await anyio.connect_tcp("127.0.0.1", port_of(url)) for _ in range(3)]
            turned_away = await raw(url, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            for stream in idle:
                await stream.aclose()
            async with client_from(None) as http:
                served = await http.get(url + "/healthz")

    assert status_of(turned_away) == 503
    assert served.status_code == 200


# --- tokens ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("${user_config.token}", "is an unfilled placeholder"),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "repeats too few characters"),
        ("abababababababababababab", "repeats too few characters"),
        ("abcdefgh12345678", "is too short"),
        ("abcdefgh12345678abcdefgh", "follows a pattern"),
        ("Qz7-tK2m-0123456-pLx9wR4e", "follows a pattern"),
        ("YOUR-ACCESS-TOKEN", "is an unfilled placeholder"),
        ("short", "is too short"),
    ],
)
async def test_a_token_that_is_no_secret_is_refused_at_start(home: Path, token: str, problem: str) -> None:
    with anyio.fail_after(WAIT):
        env = {"HOME": str(home), "AYRSHARE_MCP_TOKEN": token}
        code, _, stderr = await run_cli("--transport", "streamable-http", env=env)

    assert code != 0
    assert problem in stderr


async def test_the_bearer_scheme_is_accepted_in_any_case(token_server: tuple[str, Log]) -> None:
    url, _ = token_server
    token = TOKEN

    with anyio.fail_after(WAIT):
        async with client_from(None) as http:
            answers = [
                await http.post(
                    url + "/mcp", json=RAW_INITIALIZE, headers={**RAW_ACCEPT, "Authorization": f"{scheme} {token}"}
                )
                for scheme in ("Bearer", "bearer", "BEARER")
            ]
            wrong = await http.post(
                url + "/mcp", json=RAW_INITIALIZE, headers={**RAW_ACCEPT, "Authorization": f"Basic {token}"}
            )

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert wrong.status_code == 401


# --- the log ---------------------------------------------------------------------------------------------------


async def test_a_newline_in_a_refused_path_cannot_forge_a_log_line(token_server: tuple[str, Log]) -> None:
    url, log = token_server

    forged = b"/x%0a2026-01-01%2000:00:00%20WARNING%20forged:%20admin%20logged%20in"

    with anyio.fail_after(WAIT):
        await raw(url, b"GET " + forged + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")

    lines = log.decode().splitlines()
    assert not any(line.startswith("2026-01-01 00:00:00 WARNING forged") for line in lines)
    assert any("Refused GET /x\\n2026-01-01 00:00:00 WARNING forged" in line for line in lines)


async def test_floods_of_rejected_requests_leave_a_few_lines_and_no_traceback(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home, AYRSHARE_MCP_TOKEN=TOKEN)

    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "sse"], env) as (_, url, log), client_from(None) as http:
            for _ in range(30):
                await http.get(url + "/sse", headers={"Authorization": "Bearer wrong"})
                await http.get(url + "/sse", headers={"Host": "evil.example"})

    text = log.decode()
    assert "Traceback" not in text
    assert text.count("missing or wrong access token") <= 6
    assert text.count("Refused a request for Host") <= 6


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_at_debug_the_log_holds_no_session_id_no_argument_and_no_key(
    emulator: RunningEmulator, home: Path, transport: str
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    session_ids: list[str] = []

    with anyio.fail_after(WAIT):
        async with (
            serving_here(["--transport", transport], env, log_level="DEBUG") as (_, url, log),
            http_session(
                url,
                transport=transport,
                mode="legacy",
                headers={"X-Ayrshare-Profile-Key": PROFILE_KEY},
                session_ids=session_ids,
            ) as client,
        ):
            await succeed(client, HISTORY, {"Profile-Key": PROFILE_KEY, "status": "deleted"})

    text = log.decode()
    assert "DEBUG" in text, "the server did not log at DEBUG, so this test proves nothing"
    assert PROFILE_KEY not in text
    assert API_KEY not in text
    assert '"status"' not in text, "tool arguments reached the log"
    assert "'status'" not in text, "tool arguments reached the log"
    assert all(session_id not in text for session_id in session_ids)
    assert transport == "sse" or session_ids


async def test_every_failed_call_leaves_one_warning_line_without_secrets_or_post_text(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    post = emulator.seed_post(text="CANARY-POST-TEXT the launch is secret")
    emulator.service.profile(API_KEY, None).posts.clear()

    with anyio.fail_after(WAIT):
        async with (
            serving_here(["--transport", "streamable-http"], env, log_level="WARNING") as (_, url, log),
            http_session(url) as client,
        ):
            await client.call_tool("AYRSHARE_DELETE_DELETE_POST", {"id": post["id"]})
            await client.call_tool(HISTORY, {"limit": "many"})

    lines = [line for line in log.decode().splitlines() if " failed: " in line]
    assert lines[0].endswith("AYRSHARE_DELETE_DELETE_POST failed: HTTP 404, Ayrshare code 114")
    assert lines[1].endswith("AYRSHARE_GET_POST_HISTORY failed: invalid arguments")
    assert len(lines) == 2
    assert "CANARY" not in log.decode()


# --- found by an independent attack on the first round of defences ---------------------------------------------


async def test_a_half_sent_request_pipelined_behind_a_whole_one_is_still_cut_off(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    whole = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "streamable-http", "--request-timeout", "1"], env) as (_, url, _):
            stream = await anyio.connect_tcp("127.0.0.1", port_of(url))
            await stream.send(whole + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half")
            received = b""
            with anyio.fail_after(WAIT):
                try:
                    while True:
                        received += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    pass
            await stream.aclose()

    assert received.count(b"HTTP/1.1 200") == 1


async def test_a_websocket_upgrade_is_refused_and_leaves_no_traceback(keyless_server: tuple[str, Log]) -> None:
    url, log = keyless_server
    upgrade = (
        b"GET /mcp HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )

    with anyio.fail_after(WAIT):
        answer = await raw(url, upgrade)

    assert status_of(answer) != 101
    assert b"Traceback" not in log


async def test_two_origins_are_refused_unless_both_are_allowed(keyless_server: tuple[str, Log]) -> None:
    url, _ = keyless_server
    body = json.dumps(RAW_INITIALIZE).encode()
    request = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost\r\nOrigin: http://evil.example\r\n"
        b"Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )

    with anyio.fail_after(WAIT):
        answer = await raw(url, request)

    assert status_of(answer) == 403


async def test_the_sdks_own_warnings_cannot_forge_lines_or_flood_the_log(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home)

    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "sse"], env) as (_, url, log), client_from(None) as http:
            for _ in range(40):
                await http.post(url + "/messages/?session_id=x%0a2026-01-01 00:00:00 CRITICAL forged", json={})

    lines = log.decode().splitlines()
    assert not any(line.startswith("2026-01-01 00:00:00 CRITICAL forged") for line in lines)
    assert sum("forged" in line for line in lines) <= 5


async def test_sse_session_ids_are_masked_in_the_log_at_debug(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home)

    with anyio.fail_after(WAIT):
        async with (
            serving_here(["--transport", "sse"], env, log_level="DEBUG") as (_, url, log),
            client_from(None, timeout=10) as http,
            http.stream("GET", url + "/sse") as events,
        ):
            async for line in events.aiter_lines():
                if "session_id=" in line:
                    session_id = line.split("session_id=", 1)[1].strip()
                    break

    assert session_id
    assert session_id not in log.decode()
    assert session_id.replace("-", "") not in log.decode()


async def test_sdk_warnings_that_name_a_new_session_each_time_stay_a_few_lines(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)

    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "sse"], env) as (_, url, log), client_from(None) as http:
            for _ in range(300):
                await http.post(url + f"/messages/?session_id={uuid.uuid4().hex}", json={})

    assert 1 <= log.count(b"Could not find session") <= 5


async def test_a_malformed_message_for_an_sse_session_leaves_no_body_text_in_the_log(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    secret = "CANARY-IN-A-BODY-4e1f"

    with anyio.fail_after(WAIT):
        async with (
            serving_here(["--transport", "sse"], env) as (_, url, log),
            client_from(None, timeout=30) as http,
            http.stream("GET", url + "/sse") as stream,
        ):
            endpoint = ""
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    endpoint = line
                    break
            await http.post(url + endpoint.removeprefix("data:").strip(), json={"jsonrpc": "2.0", "note": secret})
            await log.wait_for(b"Failed to parse message")

    assert secret.encode() not in log
    assert b"Failed to parse message (ValidationError)" in log
    assert b"Traceback" not in log, log.decode()


async def test_a_deeply_nested_body_opening_no_session_is_refused_with_400_and_no_traceback(
    keyless_server: tuple[str, Log],
) -> None:
    url, log = keyless_server
    nested = b"[" * 200_000 + b"]" * 200_000

    with anyio.fail_after(WAIT):
        async with client_from(None) as http:
            answer = await http.post(url + "/mcp", content=nested, headers=RAW_ACCEPT)

    assert answer.status_code == 400
    assert b"RecursionError" not in log
    assert b"Traceback" not in log


async def test_a_body_that_stops_arriving_is_cut_off_at_the_deadline_without_a_traceback(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)

    async def cut_off(url: str, headers: bytes) -> None:
        head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
        accept = b"Accept: application/json, text/event-stream\r\n"
        async with await anyio.connect_tcp("127.0.0.1", port_of(url)) as stream:
            await stream.send(head + accept + headers + b'\r\n{"jsonrpc"')
            with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):  # closed, and nothing said
                await stream.receive()

    with anyio.fail_after(WAIT):
        async with (
            serving_here(["--transport", "streamable-http", "--request-timeout", "1"], env) as (_, url, log),
            client_from(None) as http,
        ):
            opened = await http.post(url + "/mcp", json=RAW_INITIALIZE, headers=RAW_ACCEPT)
            session = opened.headers["mcp-session-id"].encode()
            await cut_off(url, b"")
            await cut_off(url, b"Mcp-Session-Id: " + session + b"\r\n")
            await log.wait_for(b"Closed a connection whose request did not arrive in time")
            assert (await http.get(url + "/healthz")).status_code == 200

    assert log.count(b"did not arrive in time") == 2
    assert b"Traceback" not in log


# --- behind a reverse proxy ------------------------------------------------------------------------------------


async def sessions_through(http: httpx2.AsyncClient, url: str, clients: list[str]) -> list[bool]:
    """Open a session as each of `clients` (named in X-Forwarded-For), then see which are still alive."""
    sessions = [
        await open_session(http, url, f"INVENTED-{n}", X_Forwarded_For=client) for n, client in enumerate(clients)
    ]
    return [await session_alive(http, url, f"INVENTED-{n}", session) for n, (_, session) in enumerate(sessions)]


@pytest.fixture
async def behind_a_proxy(emulator: RunningEmulator, home: Path) -> AsyncIterator[tuple[str, Log]]:
    emulator.service.api_keys = {API_KEY}  # the keys these callers send are invented: Ayrshare refuses them
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "2", "--trust-proxy", "127.0.0.1"]
    async with serving_here(args, env) as (_, url, log):
        yield url, log


async def test_behind_a_trusted_proxy_each_client_has_its_own_address(behind_a_proxy: tuple[str, Log]) -> None:
    url, log = behind_a_proxy
    with anyio.fail_after(WAIT):
        async with client_from(None) as http:
            held = await sessions_through(http, url, [f"203.0.113.{n % 4}" for n in range(8)])

    assert held == [True] * 8
    assert b"Believing X-Forwarded-For and Forwarded from the reverse proxies at 127.0.0.1/32" in log


async def test_a_forwarded_address_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    behind_a_proxy: tuple[str, Log],
) -> None:
    url, _ = behind_a_proxy
    with anyio.fail_after(WAIT):
        async with client_from(ELSEWHERE) as http:
            held = await sessions_through(http, url, [f"203.0.113.{n}" for n in range(4)])

    assert held == [True, True, False, False], "all four count as one address: the last two were refused"


async def test_without_trust_proxy_forwarded_addresses_are_ignored(emulator: RunningEmulator, home: Path) -> None:
    emulator.service.api_keys = {API_KEY}
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "2"]

    with anyio.fail_after(WAIT):
        async with serving_here(args, env) as (_, url, _), client_from(None) as http:
            held = await sessions_through(http, url, [f"203.0.113.{n}" for n in range(4)])

    assert held == [True, True, False, False]


# --- vouching: a first-time key refused for room is put to Ayrshare ----------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault(status=500, path="/user", times=3), Fault(status=200, path="/user", times=1, delay=2.0)],
    ids=["Ayrshare answers 500", "Ayrshare is slower than a vouch may take"],
)
async def test_a_real_key_is_not_held_in_doubt_because_ayrshare_had_a_bad_moment(
    emulator: RunningEmulator, home: Path, fault: Fault
) -> None:
    emulator.service.api_keys = {API_KEY}
    args = ["--transport", "streamable-http", "--max-sessions", "4"]
    env = server_env(emulator, home, AYRSHARE_TIMEOUT="1")  # a vouch takes at most a call's time

    with anyio.fail_after(WAIT):
        async with serving_here(args, env) as (_, url, _), AsyncExitStack() as clients:
            await fill_the_unproven_half(url, clients)
            emulator.app.inject(fault)
            victim = await clients.enter_async_context(client_from("127.0.0.9", timeout=30))
            during = (await open_session(victim, url, API_KEY))[0]
            emulator.app.faults.clear()
            after = (await open_session(victim, url, API_KEY))[0]

    assert (during, after) == (503, 200)


async def test_a_vouch_asks_about_the_key_the_caller_is_known_by_not_a_second_one(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    args = ["--transport", "streamable-http", "--max-sessions", "4"]
    headers = [
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
        ("X-Ayrshare-Api-Key", "CANARY-INVENTED-FIRST-abcdef"),
        ("X-Ayrshare-Api-Key", API_KEY),
    ]

    with anyio.fail_after(WAIT):
        async with serving_here(args, server_env(emulator, home)) as (_, url, log), AsyncExitStack() as clients:
            await fill_the_unproven_half(url, clients)
            attacker = await clients.enter_async_context(client_from("127.0.0.7"))
            answer = await attacker.post(url + "/mcp", json=RAW_INITIALIZE, headers=headers)

    [asked] = emulator.app.received("/user")
    assert answer.status_code == 503
    assert asked.header("authorization") == "Bearer CANARY-INVENTED-FIRST-abcdef"
    assert b"Ayrshare accepted the key" not in log


# --- making room: what gives way is ended as its owner would end it ------------------------------------------------
# The floods in test_lockout.py reach these too, in a process of their own; here each is seen in this process.


async def test_a_session_that_gives_way_at_its_holders_quota_is_ended_so_the_sdk_forgets_it_too(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    args = ["--transport", "streamable-http", "--max-sessions-per-caller", "2"]

    with anyio.fail_after(WAIT):
        async with serving_here(args, env) as (_, url, _), client_from(None, headers=BEARER) as http:
            opened = [await open_session(http, url, "") for _ in range(3)]  # the server's key, as a token holder
            alive = [await session_alive(http, url, "", session) for _, session in opened]

    assert [status for status, _ in opened] == [200] * 3
    # Forgotten by the quotas alone, the first would still answer: the SDK was told, with a DELETE.
    assert alive == [False, True, True], "the holder's longest-idle session gave way to its newest"


# The SDK closes an SSE connection's streams only when its response returns: a stream the server ends is ended as if
# its client had left, so nothing is left for the garbage collector to find (which would warn, failing the test).
async def test_an_sse_stream_that_gives_way_is_closed_and_a_caller_with_no_key_is_refused_when_nobody_can(
    emulator: RunningEmulator, home: Path
) -> None:
    args = ["--transport", "sse", "--max-sessions", "4"]  # unproven callers get half: 2 streams

    async def stream_from(source: str, key: str, open_: AsyncExitStack) -> httpx2.Response:
        http = await open_.enter_async_context(client_from(source, timeout=WAIT))
        headers = {"X-Ayrshare-Api-Key": key} if key else {}
        return await open_.enter_async_context(http.stream("GET", url + "/sse", headers=headers))

    with anyio.fail_after(WAIT):
        async with serving_here(args, server_env(emulator, home)) as (_, url, _), AsyncExitStack() as open_:
            first = await stream_from(ELSEWHERE, "CANARY-INVENTED-SSE-1", open_)
            second = await stream_from(ELSEWHERE, "CANARY-INVENTED-SSE-2", open_)
            newcomer = await stream_from("127.0.0.3", "CANARY-INVENTED-SSE-3", open_)
            closed = b"".join([chunk async for chunk in first.aiter_bytes()])  # ends only if the server ended it
            keyless = await stream_from("127.0.0.4", "", open_)
    gc.collect()

    assert [first.status_code, second.status_code, newcomer.status_code] == [200, 200, 200]
    assert b"event: endpoint" in closed, "the stream had begun, and was then ended whole"
    assert keyless.status_code == 503, "each address now holds one: nobody holds more than a newcomer would"
