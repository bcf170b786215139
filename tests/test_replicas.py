"""Replicas that share one truth: two servers with one state secret and one Redis, behind no sticky routing, as a
team runs them, spoken to by the official SDK client on 2026-07-28.

Each test runs twice: with both replicas served in this process (`serving_here`, in the default suite), and as two
real `ayrshare-mcp --transport streamable-http` processes (`serving`, behind the `hosting` marker). One emulator
serves both over HTTP, and its request log says what reached "Ayrshare".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from tests.envelope import call, envelope_of
from tests.modern import MODERN
from tests.redis_server import RunningRedis, redis_server
from tests.support import (
    API_KEY,
    BEARER,
    PROCESS_WAIT,
    RAW_ACCEPT,
    RAW_INITIALIZE,
    WAIT,
    Log,
    RunningEmulator,
    User,
    client_from,
    http_session,
    posts_sent,
    run_cli,
    server_env,
    serving,
    serving_here,
)

pytestmark = pytest.mark.anyio

STATE_SECRET = "CANARY-STATE-SECRET-0123456789abcdefghijklmnop"
DELETE = "AYRSHARE_DELETE_DELETE_POST"
HISTORY = "AYRSHARE_GET_POST_HISTORY"
CREATE = "AYRSHARE_CREATE_POST"
SET_SCHEDULE = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
SCHEDULED_POST = {"post": "Launch day: we are live!", "platforms": ["linkedin"], "scheduleDate": "2030-01-01T09:00:00Z"}
LATER = datetime(2030, 1, 1, 9, tzinfo=UTC)

Launcher = Callable[..., AbstractAsyncContextManager[tuple[Any, str, Log]]]
LAUNCHERS = pytest.mark.parametrize(
    "launch",
    [pytest.param(serving_here, id="in-process"), pytest.param(serving, id="processes", marks=pytest.mark.hosting)],
)


@asynccontextmanager
async def replicas(
    launch: Launcher, emulator: RunningEmulator, home: Path, redis_url: str, **env: str
) -> AsyncIterator[tuple[str, str]]:
    """Two replicas of one deployment: the same key, access token, state secret and Redis; their URLs."""
    shared = server_env(
        emulator,
        home,
        AYRSHARE_API_KEY=API_KEY,
        AYRSHARE_MCP_STATE_SECRET=STATE_SECRET,
        AYRSHARE_MCP_REDIS_URL=redis_url,
        **env,
    )
    command = ["--transport", "streamable-http", "--toolsets", "all"]
    with anyio.fail_after(PROCESS_WAIT):
        async with launch(command, shared) as (_, a, _log_a), launch(command, shared) as (_, b, _log_b):
            yield a, b


async def modern(url: str, stack: AsyncExitStack, **options: Any) -> Client:
    client = await stack.enter_async_context(http_session(url, mode="auto", **options))
    assert client.protocol_version == MODERN
    return client


def deletes(emulator: RunningEmulator) -> list[Any]:
    return [request.body for request in emulator.app.received("/post", method="DELETE")]


def yes() -> types.InputResponses:
    return {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}


@LAUNCHERS
async def test_an_approval_spent_on_one_replica_is_refused_on_the_other(
    launch: Launcher, emulator: RunningEmulator, home: Path, redis_url: str
) -> None:
    emulator.seed_post(schedule_date=LATER)
    args = {"deleteAllScheduled": True}
    async with replicas(launch, emulator, home, redis_url) as (a, b), AsyncExitStack() as stack:
        # Clients that can ask a person; this test answers for the person, by hand, to replay the answer.
        on_a = await modern(a, stack, elicitation=User())
        on_b = await modern(b, stack, elicitation=User())
        with anyio.fail_after(WAIT):
            asked = await on_a.session.call_tool(DELETE, args, allow_input_required=True)
            assert isinstance(asked, types.InputRequiredResult)
            assert asked.request_state is not None
            spent = await on_a.session.call_tool(
                DELETE, args, input_responses=yes(), request_state=asked.request_state, allow_input_required=True
            )
            assert isinstance(spent, types.CallToolResult)
            assert envelope_of(spent)["successful"] is True
            emulator.seed_post(schedule_date=LATER + timedelta(days=1))
            replayed = await on_b.session.call_tool(
                DELETE, args, input_responses=yes(), request_state=asked.request_state, allow_input_required=True
            )

    # Replica B opened the state (the secret is shared) but knew it was spent: it asks again, and deletes nothing.
    assert isinstance(replayed, types.InputRequiredResult), replayed
    assert deletes(emulator) == [args]


@LAUNCHERS
async def test_a_rate_budget_spent_through_one_replica_is_not_spent_again_through_the_other(
    launch: Launcher, emulator: RunningEmulator, home: Path, redis_url: str
) -> None:
    emulator.service.switches.rate_limit = 2
    async with replicas(launch, emulator, home, redis_url) as (a, b), AsyncExitStack() as stack:
        on_a, on_b = await modern(a, stack), await modern(b, stack)
        with anyio.fail_after(WAIT):
            for _ in range(2):
                assert (await call(on_a, HISTORY, {}))["successful"] is True
            sent = len(emulator.app.requests)
            refused = await call(on_b, HISTORY, {})

    assert refused["successful"] is False
    assert "rate limit" in refused["error"]
    assert "not sent" in refused["error"] or "nothing was sent" in refused["error"].lower(), refused["error"]
    assert len(emulator.app.requests) == sent, "replica B must refuse without asking Ayrshare"


@LAUNCHERS
async def test_identical_creates_sent_to_both_replicas_at_once_reach_ayrshare_once(
    launch: Launcher, emulator: RunningEmulator, home: Path, redis_url: str
) -> None:
    emulator.app.latency = 0.3  # Ayrshare is slow: both creates are in flight together
    results: list[dict[str, Any]] = []
    async with (
        replicas(launch, emulator, home, redis_url, AYRSHARE_PUBLISH="direct") as (a, b),
        AsyncExitStack() as stack,
    ):
        clients = [await modern(a, stack), await modern(b, stack)]

        async def create(client: Client) -> None:
            results.append(await call(client, CREATE, SCHEDULED_POST))

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                for client in clients:
                    tg.start_soon(create, client)

    assert len(posts_sent(emulator)) == 1
    assert [result["successful"] for result in results].count(True) == 1
    assert all("already submitted" in result["error"] for result in results if not result["successful"])


@LAUNCHERS
async def test_with_redis_gone_a_create_is_refused_saying_so_and_a_read_still_works(
    launch: Launcher, emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    async with (
        replicas(launch, emulator, home, own_redis.url, AYRSHARE_PUBLISH="direct") as (a, _),
        AsyncExitStack() as stack,
    ):
        client = await modern(a, stack)
        own_redis.stop()
        with anyio.fail_after(WAIT):
            created = await call(client, CREATE, SCHEDULED_POST)
            scheduled = await call(client, SET_SCHEDULE, {"schedule": ["13:05Z"], "title": "weekdays"})
            read = await call(client, HISTORY, {})
            again = await call(client, HISTORY, {})

    assert created["successful"] is False
    assert "Redis" in created["error"]
    assert "unreachable" in created["error"]
    assert "Nothing was sent" in created["error"]
    assert posts_sent(emulator) == []
    # Not only creates: nothing that changes anything but a delete goes without the shared budget.
    assert scheduled["successful"] is False
    assert "Redis" in scheduled["error"]
    assert emulator.app.received("/auto-schedule/set") == []
    assert read["successful"] is True
    assert again["successful"] is True


async def test_with_redis_gone_an_approval_is_refused_saying_so_and_nothing_is_deleted(
    emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    emulator.seed_post(schedule_date=LATER)
    args = {"deleteAllScheduled": True}
    async with replicas(serving_here, emulator, home, own_redis.url) as (a, _), AsyncExitStack() as stack:
        client = await modern(a, stack, elicitation=User())
        with anyio.fail_after(WAIT):
            asked = await client.session.call_tool(DELETE, args, allow_input_required=True)
            assert isinstance(asked, types.InputRequiredResult)
            own_redis.stop()
            answered = await client.session.call_tool(
                DELETE, args, input_responses=yes(), request_state=asked.request_state, allow_input_required=True
            )

    assert isinstance(answered, types.CallToolResult)
    refused = envelope_of(answered)
    assert refused["successful"] is False
    assert "Redis" in refused["error"]
    assert "unreachable" in refused["error"]
    assert deletes(emulator) == []


async def test_with_redis_gone_nobody_is_asked_a_question_whose_answer_would_be_refused(
    emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    emulator.seed_post(schedule_date=LATER)
    async with replicas(serving_here, emulator, home, own_redis.url) as (a, _), AsyncExitStack() as stack:
        client = await modern(a, stack, elicitation=User())
        own_redis.stop()
        with anyio.fail_after(WAIT):
            result = await client.session.call_tool(DELETE, {"deleteAllScheduled": True}, allow_input_required=True)

    assert isinstance(result, types.CallToolResult), "a question was asked"
    assert "unreachable" in envelope_of(result)["error"]
    assert deletes(emulator) == []


async def test_an_unreachable_redis_is_logged_once_not_per_call_and_its_password_never(
    emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    url = own_redis.url.replace("unix://", "unix://:CANARY-REDIS-PASSWORD@")
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_REDIS_URL=url)
    own_redis.stop()
    with anyio.fail_after(PROCESS_WAIT):
        async with serving_here(["--transport", "streamable-http"], env) as (_, a, log), AsyncExitStack() as stack:
            client = await modern(a, stack)
            with anyio.fail_after(WAIT):
                reads = [await call(client, HISTORY, {}) for _ in range(3)]

    assert all(read["successful"] for read in reads)
    assert log.count(b"is unreachable") == 1, log
    assert "CANARY" not in log.decode()


async def test_when_redis_comes_back_publishing_is_allowed_again_and_that_is_logged_once(
    emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_REDIS_URL=own_redis.url)
    async with serving_here(["--transport", "streamable-http", "--toolsets", "all"], env) as (_, a, log):
        async with AsyncExitStack() as stack:
            client = await modern(a, stack)
            own_redis.stop()
            with anyio.fail_after(WAIT):
                assert (await call(client, HISTORY, {}))["successful"] is True
        with redis_server(own_redis.socket), anyio.fail_after(WAIT):
            async with AsyncExitStack() as stack:
                client = await modern(a, stack)
                reads = [await call(client, HISTORY, {}) for _ in range(2)]
                created = await call(client, SET_SCHEDULE, {"schedule": ["13:05Z"], "title": "weekdays"})

    assert all(read["successful"] for read in reads)
    assert created["successful"] is True, created
    assert log.count(b"is unreachable") == 1
    assert log.count(b"Redis answers again") == 1, log


async def test_check_says_redis_answers_when_it_is_configured(
    emulator: RunningEmulator, home: Path, redis_url: str
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_REDIS_URL=redis_url)

    code, stdout, stderr = await run_cli("check", env=env)

    assert code == 0, stdout
    assert f"Redis at {redis_url} answers" in stdout
    assert "CANARY" not in stdout + stderr


async def test_check_fails_with_a_fix_when_redis_is_unreachable_and_never_shows_its_password(
    emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    own_redis.stop()
    url = own_redis.url.replace("unix://", "unix://:CANARY-REDIS-PASSWORD@")
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_REDIS_URL=url)

    code, stdout, stderr = await run_cli("check", env=env)

    assert code == 1
    assert f"Redis at {own_redis.url} (AYRSHARE_MCP_REDIS_URL) is unreachable" in stdout
    assert "fix: Start Redis" in stdout
    assert "CANARY" not in stdout + stderr


@LAUNCHERS
async def test_a_2025_era_session_lives_on_one_replica_only_so_those_clients_need_sticky_routing(
    launch: Launcher, emulator: RunningEmulator, home: Path, redis_url: str
) -> None:
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    async with replicas(launch, emulator, home, redis_url) as (a, b), client_from(None, headers=BEARER) as http:
        with anyio.fail_after(WAIT):
            opened = await http.post(a + "/mcp", json=RAW_INITIALIZE, headers=RAW_ACCEPT)
            session = {**RAW_ACCEPT, "Mcp-Session-Id": opened.headers.get("mcp-session-id", "none")}
            on_a = await http.post(a + "/mcp", json=ping, headers=session)
            on_b = await http.post(b + "/mcp", json=ping, headers=session)

    assert opened.status_code == 200
    assert on_a.status_code == 200
    # A session is held in one replica's memory: the deployment guide says to route these by Mcp-Session-Id.
    assert on_b.status_code == 404
