"""Attacks on the shared state, found by an independent review and kept as tests: a Redis that restarts without its
memory or evicts it, a public act sent while Redis blinked, a skewed or broken replica's budget, a lock that expires
while its holder waits for the next, and Redis URLs that crash later or turn TLS verification off."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
import pytest
import redis

from ayrshare_mcp.client import AyrshareClient
from ayrshare_mcp.client.retry import MAX_PAUSE_SECONDS
from ayrshare_mcp.confirmation import SEALED_CLOCK_SKEW_SECONDS, SpentStates
from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.settings import ConfigError, Settings
from ayrshare_mcp.state import StateUnavailable
from ayrshare_mcp.state.redis_store import FORGETFUL_SECONDS, LockBusy, RedisState
from tests.envelope import envelope_of
from tests.redis_server import RunningRedis, redis_server
from tests.support import API_KEY, CANARY, WAIT, RunningEmulator, User, run_cli, server_env, serving_here
from tests.test_replicas import DELETE, LATER, deletes, modern, replicas, yes

pytestmark = pytest.mark.anyio


async def test_an_approval_spent_before_redis_lost_its_memory_is_not_accepted_again_after(
    emulator: RunningEmulator, home: Path, own_redis: RunningRedis
) -> None:
    emulator.seed_post(schedule_date=LATER)
    args = {"deleteAllScheduled": True}
    async with replicas(serving_here, emulator, home, own_redis.url) as (a, b), AsyncExitStack() as stack:
        on_a, on_b = await modern(a, stack, elicitation=User()), await modern(b, stack, elicitation=User())
        with anyio.fail_after(WAIT):
            asked = await on_a.session.call_tool(DELETE, args, allow_input_required=True)
            assert isinstance(asked, types.InputRequiredResult)
            spent = await on_a.session.call_tool(
                DELETE, args, input_responses=yes(), request_state=asked.request_state, allow_input_required=True
            )
        # Redis restarts without persistence (or fails over to a replica without the data): the claim is gone.
        own_redis.stop()
        with redis_server(own_redis.socket), anyio.fail_after(WAIT):
            emulator.seed_post(schedule_date=LATER + timedelta(days=1))
            replayed = await on_b.session.call_tool(
                DELETE, args, input_responses=yes(), request_state=asked.request_state, allow_input_required=True
            )

    assert isinstance(spent, types.CallToolResult)
    assert envelope_of(spent)["successful"] is True
    assert isinstance(replayed, types.CallToolResult)
    assert "lost what it remembered" in envelope_of(replayed)["error"]
    assert deletes(emulator) == [args]


async def test_check_refuses_a_redis_that_may_evict_what_must_stay(
    own_redis: RunningRedis, emulator: RunningEmulator, home: Path
) -> None:
    with redis.Redis(unix_socket_path=str(own_redis.socket)) as admin:
        admin.config_set("maxmemory-policy", "volatile-lru")
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_MCP_REDIS_URL=own_redis.url)
    code, stdout, _ = await run_cli("check", env=env)

    assert code == 1
    assert "maxmemory-policy volatile-lru" in stdout
    assert "fix: Set maxmemory-policy noeviction" in stdout
    assert f"approvals are refused for {FORGETFUL_SECONDS / 60:.0f} minutes" in stdout


def a_client(state: RedisState, answer: httpx2.Response | None = None) -> AyrshareClient:
    def reply(request: httpx2.Request) -> httpx2.Response:
        return answer or httpx2.Response(200, json={"status": "success", "history": []})

    transport = httpx2.MockTransport(reply)
    return AyrshareClient(
        lambda: httpx2.AsyncClient(base_url="https://api.example/api/", transport=transport),
        call_timeout=5,
        attempt_timeout=5,
        state=state,
    )


async def test_a_public_act_is_recorded_before_it_is_sent_so_a_blink_of_redis_cannot_let_it_out_twice(
    redis_url: str,
) -> None:
    credentials = Credentials(api_key=API_KEY)
    sender, other = RedisState(redis_url), RedisState(redis_url)
    try:
        async with a_client(sender).submitting(credentials, "comment-key"):
            # In flight at Ayrshare: whatever happens to Redis from here on, another replica already knows.
            seen_elsewhere = await a_client(other).already_submitted(credentials, "comment-key")
    finally:
        await sender.aclose()
        await other.aclose()

    assert seen_elsewhere is True


async def test_a_public_act_whose_record_cannot_be_written_is_not_sent(own_redis: RunningRedis) -> None:
    state = RedisState(own_redis.url)
    sent = False
    try:
        own_redis.stop()
        with pytest.raises(StateUnavailable):
            async with a_client(state).submitting(Credentials(api_key=API_KEY), "comment-key"):
                sent = True
    finally:
        await state.aclose()

    assert sent is False


async def test_a_spent_approval_is_remembered_for_as_long_as_a_replica_with_a_skewed_clock_accepts_it(
    redis_url: str,
) -> None:
    window = 120.0
    state = RedisState(redis_url)
    try:
        assert await SpentStates(window, state).spend("confirm-v3:abc")
        remembered_ms = await state._redis.pttl(next(iter(await state._redis.keys("*spent*"))))
    finally:
        await state.aclose()

    assert remembered_ms > (window + SEALED_CLOCK_SKEW_SECONDS - 5) * 1000


async def test_a_pause_learnt_from_a_replica_whose_clock_runs_days_ahead_is_held_to_a_day(redis_url: str) -> None:
    bucket = Credentials(api_key=API_KEY).account_key
    fast, honest = RedisState(redis_url), RedisState(redis_url)
    try:
        skewed = a_client(fast)
        skewed.rate_limits.clock = lambda: time.time() + 3 * 86_400  # its NTP is broken: three days fast
        skewed.rate_limits.pause(bucket, 60)  # a 429 with Retry-After: 60
        await skewed._share_budget(bucket)
        other = a_client(honest)
        await other._take_in_budget(bucket, publishes=False)
        wait, _, _ = other.rate_limits.wait(bucket)
    finally:
        await fast.aclose()
        await honest.aclose()

    assert 0 < wait <= MAX_PAUSE_SECONDS


async def test_a_rate_limit_header_beyond_any_plan_leaves_the_shared_budget_readable(redis_url: str) -> None:
    huge = {"x-ratelimit-max": "100000000000000", "x-ratelimit-count": "100000000000000"}
    state = RedisState(redis_url)
    credentials = Credentials(api_key=API_KEY)
    try:
        client = a_client(state, httpx2.Response(200, json={"status": "success", "history": []}, headers=huge))
        for _ in range(2):
            await client.account(credentials).get_history({})
        shared = await state.budget("budget:" + credentials.account_key)
    finally:
        await state.aclose()

    assert shared is None or shared.limit <= 1_000_000


async def test_a_budget_in_redis_that_is_not_numbers_is_refused_as_unavailable_not_a_crash(redis_url: str) -> None:
    state = RedisState(redis_url)
    try:
        fields = {"window_started": "nan?", "used": "1", "limit": "1", "blocked_until": "0", "quota_until": "0"}
        for name, value in fields.items():
            await state._redis.hset("ayrshare-mcp:budget:x", name, value)
        with pytest.raises(StateUnavailable):
            await state.budget("budget:x")
    finally:
        await state.aclose()


async def test_a_caller_waiting_for_a_second_lock_gives_up_while_it_still_holds_the_first(redis_url: str) -> None:
    holder, waiter = RedisState(redis_url), RedisState(redis_url)
    lifetime = 2.0
    try:
        async with holder.lock("submitting:2", lifetime):
            with anyio.fail_after(lifetime), pytest.raises(LockBusy):
                async with waiter.lock("submitting:1", lifetime), waiter.lock("submitting:2", lifetime):
                    pass
            first_left_ms = await holder._redis.pttl("ayrshare-mcp:submitting:1")
    finally:
        await holder.aclose()
        await waiter.aclose()

    # Given up (and the first let go) before the first lock could have expired under its holder.
    assert first_left_ms == -2


def test_a_redis_url_with_an_option_the_client_cannot_read_is_refused_at_start_without_its_password() -> None:
    url = "redis://:CANARY-REDIS-PASSWORD@127.0.0.1:1/0?socket_timeout=soon"
    with pytest.raises(ConfigError, match="socket_timeout") as refused:
        Settings.from_environ({"AYRSHARE_MCP_REDIS_URL": url})
    assert CANARY not in str(refused.value)


@pytest.mark.parametrize("option", ["ssl_cert_reqs=none", "ssl_check_hostname=false"])
def test_a_redis_url_that_turns_tls_verification_off_is_refused(option: str) -> None:
    url = f"rediss://:CANARY-REDIS-PASSWORD@redis.internal:6380/0?{option}"
    with pytest.raises(ConfigError, match="turns TLS verification off") as refused:
        Settings.from_environ({"AYRSHARE_MCP_REDIS_URL": url})
    assert CANARY not in str(refused.value)
