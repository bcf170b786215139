"""Attacks on a real HTTP server process meant to stop it, or to lock other callers out: running it out of file
descriptors, and flooding sessions, SSE streams and connections from several addresses with invented keys.

The limits and the exit status belong to the whole process, so these keep a real one. Loopback has many addresses:
127.0.0.2 and up are other clients, as the server sees them.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest

from tests.envelope import succeed
from tests.support import (
    API_KEY,
    OTHER_API_KEY,
    TOKEN,
    Log,
    RunningEmulator,
    client_from,
    http_session,
    server_env,
    serving,
)

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIMITED = (sys.executable, str(Path(__file__).with_name("descriptors.py")))
FLOODERS = [f"127.0.0.{n}" for n in range(2, 7)]
VICTIM = "127.0.0.9"


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def half_sent(url: str, source: str) -> anyio.abc.SocketStream:
    """A connection from `source` that starts a request and never finishes it."""
    stream = await anyio.connect_tcp("127.0.0.1", port_of(url), local_host=source)
    await stream.send(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
    return stream


def session_from(source: str | None, url: str, key: str, transport: str = "streamable-http") -> Any:
    """An SDK client session of the 2025 era (the one with sessions), sending `key`, connecting from `source`."""
    return http_session(url, transport=transport, headers={"X-Ayrshare-Api-Key": key}, source=source, mode="legacy")


async def initialize(http: httpx2.AsyncClient, url: str, key: str, **headers: str) -> int:
    return (await opened(http, url, key, **headers))[0]


async def opened(http: httpx2.AsyncClient, url: str, key: str, **headers: str) -> tuple[int, str | None]:
    """Open a 2025-era session sending `key`: the status, and the session's id if it opened."""
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    answer = await http.post(url + "/mcp", json=INITIALIZE, headers={**ACCEPT, "X-Ayrshare-Api-Key": key, **extra})
    return answer.status_code, answer.headers.get("mcp-session-id")


async def alive(http: httpx2.AsyncClient, url: str, key: str, session: str | None) -> bool:
    """Whether a session still answers its owner."""
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    headers = {**ACCEPT, "X-Ayrshare-Api-Key": key, "Mcp-Session-Id": session or "none"}
    return (await http.post(url + "/mcp", json=ping, headers=headers)).status_code == 200


# --- file descriptors ------------------------------------------------------------------------------------------


async def test_half_sent_connections_from_many_addresses_cannot_exhaust_the_descriptors_or_lock_anyone_out(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    launcher = (*LIMITED, "1024")  # the common soft limit

    with anyio.fail_after(60):
        async with serving(["--transport", "streamable-http"], env, launcher=launcher) as (process, url, log):
            flood = [await half_sent(url, source) for source in FLOODERS * 240]
            async with client_from(VICTIM) as http:
                health = await http.get(url + "/healthz")
            async with session_from(VICTIM, url, API_KEY) as victim:
                await succeed(victim, HISTORY, {})
            for stream in flood:
                await stream.aclose()
            alive = process.returncode is None

    assert health.status_code == 200
    assert alive
    assert b"Serving at most" in log, "the caps were fitted under the descriptor limit, and it says so"
    assert b"Traceback" not in log


async def test_the_server_outlives_running_out_of_descriptors_and_serves_again_once_some_are_free(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    launcher = (*LIMITED, "256")

    with anyio.fail_after(60):
        async with serving(["--transport", "streamable-http"], env, launcher=launcher) as (process, url, log):
            process.send_signal(signal.SIGUSR1)  # the server's own files take every descriptor left
            async with client_from(None) as http:
                waiting = [await anyio.connect_tcp("127.0.0.1", port_of(url)) for _ in range(5)]
                for stream in waiting:
                    await stream.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                await log.wait_for(b"out of system resource")
                assert process.returncode is None
                process.send_signal(signal.SIGUSR2)
                for stream in waiting:
                    await stream.aclose()
                health = await http.get(url + "/healthz")
            alive = process.returncode is None

    assert alive
    assert health.status_code == 200
    assert b"Exception in default exception handler" not in log
    assert b"unicode_escape" not in log


# --- sessions --------------------------------------------------------------------------------------------------


async def test_invented_keys_from_many_addresses_cannot_lock_a_new_caller_out_of_sessions(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions", "20", "--max-sessions-per-address", "8"]

    with anyio.fail_after(60):
        async with serving(args, env) as (_, url, log), AsyncExitStack() as clients:
            codes = []
            for n, source in enumerate(FLOODERS * 10):
                http = await clients.enter_async_context(client_from(source))
                codes.append(await initialize(http, url, f"INVENTED-{n}"))
            async with session_from(VICTIM, url, API_KEY) as victim:
                await succeed(victim, HISTORY, {})
                # Now proven by a successful call, the victim may hold sessions beyond the unproven pool.
                async with session_from(VICTIM, url, API_KEY) as again:
                    await succeed(again, HISTORY, {})

    assert codes.count(200) >= 10, "the flood got the unproven half of the server"
    assert 429 in codes or 503 in codes, "and no more than that"
    assert b"to make room for another" in log


async def test_a_caller_with_a_real_key_is_held_to_its_quota_and_others_from_its_address_still_get_in(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions", "20", "--max-sessions-per-caller", "5"]

    with anyio.fail_after(60):
        async with serving(args, env) as (_, url, _), httpx2.AsyncClient() as http:
            async with session_from(None, url, API_KEY) as first:
                await succeed(first, HISTORY, {})  # the key is proven: its sessions are its own, not the address's
            flood = [await opened(http, url, API_KEY) for _ in range(30)]
            held = [await alive(http, url, API_KEY, session) for _, session in flood]
            async with session_from(None, url, OTHER_API_KEY) as other:
                await succeed(other, HISTORY, {})

    assert [status for status, _ in flood] == [200] * 30, "each new session takes the place of its oldest idle one"
    assert held == [False] * 25 + [True] * 5


async def test_concurrent_initializes_cannot_race_past_the_address_quota(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "5"]
    sessions: list[tuple[str, str | None]] = []

    async def one(http: httpx2.AsyncClient, url: str, n: int) -> None:
        sessions.append((f"INVENTED-{n}", (await opened(http, url, f"INVENTED-{n}"))[1]))

    with anyio.fail_after(60):
        async with (
            serving(args, env) as (_, url, _),
            httpx2.AsyncClient(limits=httpx2.Limits(max_connections=50)) as http,
        ):
            async with anyio.create_task_group() as tg:
                for n in range(40):
                    tg.start_soon(one, http, url, n)
            held = [await alive(http, url, key, session) for key, session in sessions]

    assert held.count(True) == 5


# --- SSE streams -----------------------------------------------------------------------------------------------


async def test_sse_streams_from_many_addresses_cannot_lock_a_new_caller_out(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "sse", "--max-sessions", "20", "--max-sessions-per-address", "3"]

    with anyio.fail_after(60):
        async with serving(args, env) as (_, url, _), AsyncExitStack() as open_:
            statuses = []
            for n, source in enumerate(FLOODERS * 3):
                http = await open_.enter_async_context(client_from(source, timeout=30))
                stream = await open_.enter_async_context(
                    http.stream("GET", url + "/sse", headers={"X-Ayrshare-Api-Key": f"INVENTED-{n}"})
                )
                statuses.append(stream.status_code)
            async with session_from(VICTIM, url, OTHER_API_KEY, transport="sse") as victim:
                await succeed(victim, HISTORY, {})

    assert statuses == [200] * 10 + [503] * 5, "the flood got the unproven half of the server, and no more"


# --- connections -----------------------------------------------------------------------------------------------


async def test_idle_connections_from_many_addresses_cannot_lock_out_a_client_that_keeps_reconnecting(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    args = [
        "--transport", "streamable-http", "--max-connections", "30", "--max-connections-per-address", "10",
        "--request-timeout", "60",
    ]  # fmt: skip

    with anyio.fail_after(60):
        async with serving(args, env) as (_, url, _), client_from(VICTIM) as http:
            flood = [await half_sent(url, source) for source in FLOODERS * 10]
            statuses = []
            for _ in range(25):
                answer = await http.get(url + "/healthz", headers={"Connection": "close"})
                statuses.append(answer.status_code)
            for stream in flood:
                await stream.aclose()

    assert statuses == [200] * 25


# --- behind a reverse proxy ------------------------------------------------------------------------------------


async def sessions_through(http: httpx2.AsyncClient, url: str, clients: list[str]) -> list[bool]:
    """Open a session as each of `clients` (named in X-Forwarded-For), then see which are still alive."""
    sessions = [await opened(http, url, f"INVENTED-{n}", X_Forwarded_For=client) for n, client in enumerate(clients)]
    return [await alive(http, url, f"INVENTED-{n}", session) for n, (_, session) in enumerate(sessions)]


@pytest.fixture
async def behind_a_proxy(emulator: RunningEmulator, home: Path) -> AsyncIterator[tuple[str, Log]]:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "2", "--trust-proxy", "127.0.0.1"]
    async with serving(args, env) as (_, url, log):
        yield url, log


async def test_behind_a_trusted_proxy_each_client_has_its_own_address(behind_a_proxy: tuple[str, Log]) -> None:
    url, log = behind_a_proxy
    with anyio.fail_after(30):
        async with httpx2.AsyncClient() as http:
            held = await sessions_through(http, url, [f"203.0.113.{n % 4}" for n in range(8)])

    assert held == [True] * 8
    assert b"Believing X-Forwarded-For and Forwarded from the reverse proxies at 127.0.0.1/32" in log


async def test_a_forwarded_address_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    behind_a_proxy: tuple[str, Log],
) -> None:
    url, _ = behind_a_proxy
    with anyio.fail_after(30):
        async with client_from(FLOODERS[0]) as http:
            held = await sessions_through(http, url, [f"203.0.113.{n}" for n in range(4)])

    assert held == [False, False, True, True], "all four count as one address: the first two gave way"


async def test_without_trust_proxy_forwarded_addresses_are_ignored(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "2"]

    with anyio.fail_after(30):
        async with serving(args, env) as (_, url, _), httpx2.AsyncClient() as http:
            held = await sessions_through(http, url, [f"203.0.113.{n}" for n in range(4)])

    assert held == [False, False, True, True]


async def test_token_holders_sending_invented_keys_cannot_lock_another_token_holder_out(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    args = ["--transport", "streamable-http", "--max-sessions", "20", "--max-sessions-per-caller", "5"]
    with_token = {"Authorization": f"Bearer {TOKEN}"}

    with anyio.fail_after(60):
        async with serving(args, env) as (_, url, _), httpx2.AsyncClient(headers=with_token) as http:
            flood = [await initialize(http, url, f"INVENTED-{n}") for n in range(30)]
            async with http_session(url, mode="legacy") as colleague:  # the server's key, as a team shares it
                await succeed(colleague, HISTORY, {})

    assert flood == [200] * 30, "one shared token is one caller: each new session replaces its oldest idle one"
