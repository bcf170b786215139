"""Attacks on a real HTTP server process meant to stop it, or to lock other callers out: running it out of file
descriptors, and flooding sessions, SSE streams and connections from several addresses with invented keys.

Each runs a real server process, as a stranger would meet it: the descriptor limit and the exit status belong to the
whole process, and a lockout is proven against the server as it is launched. Loopback has many addresses: 127.0.0.2
and up are other clients, as the server sees them.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
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
    PROCESS_WAIT,
    TOKEN,
    Log,
    RunningEmulator,
    client_from,
    fill_the_unproven_half,
    http_session,
    open_session,
    server_env,
    serving,
    session_alive,
)

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
LIMITED = (sys.executable, str(Path(__file__).with_name("descriptors.py")))
FLOODERS = [f"127.0.0.{n}" for n in range(2, 7)]
VICTIM = "127.0.0.9"


def target(args: list[str], env: Mapping[str, str]) -> AbstractAsyncContextManager[tuple[anyio.abc.Process, str, Log]]:
    """The server process a flood meets, left out of the run's coverage: the rules it puts to the test are measured
    in process (test_quotas.py, test_http_attacks.py), and measuring thirteen floods cost 8 s of the suite's CPU."""
    return serving(args, env, measured=False)


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
    return (await open_session(http, url, key, **headers))[0]


# --- file descriptors ------------------------------------------------------------------------------------------


async def test_half_sent_connections_from_many_addresses_cannot_exhaust_the_descriptors_or_lock_anyone_out(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    # Under 512 files the caps come to about 250 connections (1,024 gives about 700): the flood is more than fits.
    launcher = (*LIMITED, "512")

    with anyio.fail_after(PROCESS_WAIT):
        async with serving(["--transport", "streamable-http"], env, launcher=launcher) as (process, url, log):
            flood = [await half_sent(url, source) for source in FLOODERS * 60]
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

    with anyio.fail_after(PROCESS_WAIT):
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
    emulator.service.api_keys = {API_KEY}
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions", "10", "--max-sessions-per-address", "4"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, env) as (_, url, log), AsyncExitStack() as clients:
            codes = []
            for n, source in enumerate(FLOODERS * 4):
                http = await clients.enter_async_context(client_from(source))
                codes.append(await initialize(http, url, f"INVENTED-{n}"))
            async with session_from(VICTIM, url, API_KEY) as victim:
                await succeed(victim, HISTORY, {})
                # Now proven by a successful call, the victim may hold sessions beyond the unproven pool.
                async with session_from(VICTIM, url, API_KEY) as again:
                    await succeed(again, HISTORY, {})

    assert codes.count(200) == 5, "the flood got the unproven half of the server"
    assert 429 in codes or 503 in codes, "and no more than that"
    assert b"Ayrshare accepted the key of a caller refused for room" in log, "the victim's real key got it in"


async def test_a_caller_with_a_real_key_is_held_to_its_quota_and_others_from_its_address_still_get_in(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions", "20", "--max-sessions-per-caller", "5"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, env) as (_, url, _), client_from(None) as http:
            async with session_from(None, url, API_KEY) as first:
                await succeed(first, HISTORY, {})  # the key is proven: its sessions are its own, not the address's
            flood = [await open_session(http, url, API_KEY) for _ in range(30)]
            held = [await session_alive(http, url, API_KEY, session) for _, session in flood]
            async with session_from(None, url, OTHER_API_KEY) as other:
                await succeed(other, HISTORY, {})

    assert [status for status, _ in flood] == [200] * 30, "each new session takes the place of its oldest idle one"
    assert held == [False] * 25 + [True] * 5


async def test_concurrent_initializes_cannot_race_past_the_address_quota(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "streamable-http", "--max-sessions-per-address", "5"]
    sessions: list[tuple[str, str | None]] = []

    async def one(http: httpx2.AsyncClient, url: str, n: int) -> None:
        sessions.append((f"INVENTED-{n}", (await open_session(http, url, f"INVENTED-{n}"))[1]))

    with anyio.fail_after(PROCESS_WAIT):
        async with (
            target(args, env) as (_, url, _),
            client_from(None, limits=httpx2.Limits(max_connections=50)) as http,
        ):
            async with anyio.create_task_group() as tg:
                for n in range(40):
                    tg.start_soon(one, http, url, n)
            held = [await session_alive(http, url, key, session) for key, session in sessions]

    assert held.count(True) == 5


# --- SSE streams -----------------------------------------------------------------------------------------------


async def test_sse_streams_from_many_addresses_cannot_lock_a_new_caller_out(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home)
    args = ["--transport", "sse", "--max-sessions", "20", "--max-sessions-per-address", "3"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, env) as (_, url, _), AsyncExitStack() as open_:
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

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, env) as (_, url, _), client_from(VICTIM) as http:
            flood = [await half_sent(url, source) for source in FLOODERS * 10]
            statuses = []
            for _ in range(25):
                answer = await http.get(url + "/healthz", headers={"Connection": "close"})
                statuses.append(answer.status_code)
            for stream in flood:
                await stream.aclose()

    assert statuses == [200] * 25


async def test_token_holders_sending_invented_keys_cannot_lock_another_token_holder_out(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    args = ["--transport", "streamable-http", "--max-sessions", "20", "--max-sessions-per-caller", "5"]
    with_token = {"Authorization": f"Bearer {TOKEN}"}

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, env) as (_, url, _), client_from(None, headers=with_token) as http:
            flood = [await initialize(http, url, f"INVENTED-{n}") for n in range(30)]
            async with http_session(url, mode="legacy") as colleague:  # the server's key, as a team shares it
                await succeed(colleague, HISTORY, {})

    assert flood == [200] * 5 + [429] * 25, "a token's holders inventing keys share one quota"


async def test_a_token_holder_opening_sessions_never_ends_another_token_holders_session(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    args = ["--transport", "streamable-http", "--max-sessions-per-caller", "5"]
    with_token = {"Authorization": f"Bearer {TOKEN}"}

    with anyio.fail_after(PROCESS_WAIT):
        async with (
            target(args, env) as (_, url, _),
            client_from(None, headers=with_token) as victim,
            client_from("127.0.0.2", headers=with_token) as attacker,
        ):
            _, mine = await open_session(victim, url, "")  # the server's key, as a token holder may use it
            opened = [await initialize(attacker, url, "CANARY-INVENTED-KEY-123456") for _ in range(6)]
            alive = await session_alive(victim, url, "", mine)

    assert opened == [200] * 6, "the attacker's own sessions gave way to its new ones"
    assert alive, "the victim's session was not the attacker's to end"


async def test_a_caller_with_a_real_key_gets_in_when_unproven_callers_fill_their_half_of_the_server(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    args = ["--transport", "streamable-http", "--max-sessions", "10"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, server_env(emulator, home)) as (_, url, log), AsyncExitStack() as clients:
            for source in FLOODERS:  # one session each: nobody holds more than a newcomer would
                http = await clients.enter_async_context(client_from(source))
                assert await initialize(http, url, "") == 200
            newcomer = await clients.enter_async_context(client_from(VICTIM))
            invented = await initialize(newcomer, url, "CANARY-INVENTED-KEY-123456")
            real = await initialize(newcomer, url, API_KEY)

    assert (invented, real) == (503, 200)
    assert b"Ayrshare accepted the key of a caller refused for room" in log


async def test_in_the_sandbox_a_successful_call_proves_no_key(home: Path) -> None:
    env = {"HOME": str(home), "XDG_STATE_HOME": str(home / "state")}
    args = ["--sandbox", "--transport", "streamable-http", "--max-sessions", "2"]

    with anyio.fail_after(PROCESS_WAIT):
        async with (
            target(args, env) as (_, url, _),
            session_from("127.0.0.2", url, "CANARY-INVENTED-KEY-A1") as first,
            client_from("127.0.0.3") as http,
        ):
            await succeed(first, HISTORY, {})  # the emulator takes any key
            second = await initialize(http, url, "CANARY-INVENTED-KEY-B2")

    assert second == 503, "the first key, still unproven, holds the unproven half of the server"


async def test_a_server_for_one_session_admits_a_caller_with_its_own_key(emulator: RunningEmulator, home: Path) -> None:
    args = ["--transport", "streamable-http", "--max-sessions", "1"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, server_env(emulator, home)) as (_, url, _), client_from(None) as http:
            status = await initialize(http, url, "CANARY-FIRST-KEY-1234")

    assert status == 200


async def test_ipv4_clients_behind_a_dual_stack_proxy_are_separate_callers(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    args = ["--transport", "streamable-http", "--trust-proxy", "127.0.0.1", "--max-sessions-per-address", "3"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, server_env(emulator, home)) as (_, url, _), client_from(None) as proxy:
            _, mine = await open_session(proxy, url, "VICTIM-KEY-1", X_Forwarded_For="::ffff:198.51.100.7")
            others = [
                await initialize(proxy, url, f"OTHER-KEY-{n}", X_Forwarded_For="::ffff:203.0.113.9") for n in range(4)
            ]
            alive = await session_alive(proxy, url, "VICTIM-KEY-1", mine)

    assert others == [200, 200, 200, 429]
    assert alive


# --- vouching: a real key refused for room is put to Ayrshare ------------------------------------------------


async def test_invented_keys_from_one_network_cannot_spend_the_vouches_that_admit_a_real_key_from_another(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    args = ["--transport", "streamable-http", "--max-sessions", "4"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, server_env(emulator, home)) as (_, url, _), AsyncExitStack() as clients:
            await fill_the_unproven_half(url, clients)
            attacker = await clients.enter_async_context(client_from("127.0.0.7"))
            flood = [await initialize(attacker, url, f"CANARY-INVENTED-{n:04d}-xyz") for n in range(60)]
            asked = len(emulator.app.received("/user"))
            victim = await clients.enter_async_context(client_from(VICTIM))
            real = await initialize(victim, url, API_KEY)

    assert flood == [503] * 60
    assert asked == 6, "a network's invented keys are put to Ayrshare a few a minute, not one each"
    assert real == 200


async def test_a_slow_ayrshare_does_not_let_a_few_invented_keys_keep_a_real_one_out(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.api_keys = {API_KEY}
    args = ["--transport", "streamable-http", "--max-sessions", "4"]

    with anyio.fail_after(PROCESS_WAIT):
        async with target(args, server_env(emulator, home)) as (_, url, _), AsyncExitStack() as clients:
            await fill_the_unproven_half(url, clients)
            emulator.app.latency = 0.8
            attackers = [await clients.enter_async_context(client_from(f"127.0.1.{n}")) for n in range(1, 5)]
            victim = await clients.enter_async_context(client_from(VICTIM, timeout=30))
            async with anyio.create_task_group() as tg:
                for n, attacker in enumerate(attackers):
                    tg.start_soon(initialize, attacker, url, f"CANARY-INVENTED-SLOW-{n}-abc")
                await emulator.app.wait_for_requests(len(emulator.app.requests) + 4)
                real = await initialize(victim, url, API_KEY)

    assert real == 200
