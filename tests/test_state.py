"""The shared state, in this process and in a real Redis: the same promises from both (single-use claims, records
that expire, locks one holder at a time, budgets merged), and an unreachable Redis reported, never waited for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from ayrshare_mcp.state import Budget, MemoryState, SharedState, StateUnavailable, open_state
from ayrshare_mcp.state.redis_store import LockBusy, RedisState, describe_url
from tests.redis_server import RunningRedis, eventually
from tests.support import WAIT

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[SharedState]:
    """Each implementation in turn: this process's memory, and a real Redis."""
    if request.param == "memory":
        yield MemoryState()
        return
    store = open_state(redis_url)
    try:
        yield store
    finally:
        await store.aclose()


async def test_a_claim_is_won_once_and_won_again_once_it_expired(state: SharedState) -> None:
    assert await state.claim("spent:a", 0.2)
    assert not await state.claim("spent:a", 0.2)
    assert await state.claim("spent:b", 0.2)
    await eventually(lambda: state.claim("spent:a", 0.2))


async def test_of_fifty_concurrent_claims_of_one_nonce_exactly_one_wins(state: SharedState) -> None:
    won: list[bool] = []

    async def claim() -> None:
        won.append(await state.claim("spent:nonce", 60))

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(claim)
    assert won.count(True) == 1
    assert len(won) == 50


async def test_a_record_is_read_back_until_it_expires(state: SharedState) -> None:
    assert await state.get("submitted:x") is None
    await state.put("submitted:x", "when", 0.2)
    assert await state.get("submitted:x") == "when"
    await eventually(lambda: _gone(state, "submitted:x"))


async def test_a_lock_has_one_holder_at_a_time(state: SharedState) -> None:
    inside, most = 0, 0

    async def hold() -> None:
        nonlocal inside, most
        async with state.lock("submit:k", 30):
            inside += 1
            most = max(most, inside)
            await anyio.sleep(0.01)
            inside -= 1

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(hold)
    assert most == 1


async def test_locks_of_different_keys_do_not_wait_for_each_other(state: SharedState) -> None:
    with anyio.fail_after(WAIT):
        async with state.lock("submit:one", 30), state.lock("submit:two", 30):
            pass


async def test_budgets_merge_to_the_later_window_and_the_longer_pause(state: SharedState) -> None:
    assert await state.budget("budget:p") is None
    first = await state.merge_budget("budget:p", Budget(window_started=10.0, used=3, limit=5, blocked_until=50.0), 60)
    assert first == Budget(window_started=10.0, used=3, limit=5, blocked_until=50.0)
    # An older window's counts and a shorter pause change nothing; a newer window's counts replace the old.
    older = await state.merge_budget("budget:p", Budget(window_started=5.0, used=1, limit=5, blocked_until=20.0), 60)
    assert older == first
    newer = Budget(window_started=20.0, used=5, limit=5, blocked_until=40.0, quota_until=99.5)
    merged = await state.merge_budget("budget:p", newer, 60)
    assert merged == Budget(window_started=20.0, used=5, limit=5, blocked_until=50.0, quota_until=99.5)
    assert await state.budget("budget:p") == merged


async def test_two_stores_on_one_redis_share_claims_records_locks_and_budgets(redis_url: str) -> None:
    a, b = RedisState(redis_url), RedisState(redis_url)
    try:
        assert await a.claim("spent:s", 60)
        assert not await b.claim("spent:s", 60)
        await a.put("user:acct", "{}", 60)
        assert await b.get("user:acct") == "{}"
        await a.merge_budget("budget:acct", Budget(window_started=1.0, used=5, limit=5, blocked_until=9e9), 60)
        assert (await b.budget("budget:acct") or Budget()).blocked_until == 9e9
        held = anyio.Event()
        order: list[str] = []

        async def second() -> None:
            await held.wait()
            async with b.lock("submit:k", 30):
                order.append("b")

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(second)
                async with a.lock("submit:k", 30):
                    held.set()
                    await anyio.sleep(0.1)
                    order.append("a")
        assert order == ["a", "b"]
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_lock_whose_holder_vanished_is_free_after_its_lifetime(redis_url: str) -> None:
    store = RedisState(redis_url)
    try:
        # A replica that died holding the lock: its key stays until it expires, and nobody else may delete it.
        assert await store.claim("lock-test", 0.3)
        with anyio.fail_after(WAIT):
            async with store.lock("lock-test", 30):
                pass
    finally:
        await store.aclose()


async def test_a_lock_is_released_only_by_its_holder(redis_url: str) -> None:
    store = RedisState(redis_url)
    try:
        async with store.lock("submit:mine", 0.2):
            # The lock outlived its lifetime and another holder took it: leaving must not free theirs.
            await eventually(lambda: store.claim("submit:mine", 30))
        assert not await store.claim("submit:mine", 30)
    finally:
        await store.aclose()


async def test_a_lock_held_past_its_lifetime_by_a_stuck_holder_is_refused_not_waited_for(redis_url: str) -> None:
    store = RedisState(redis_url)
    try:
        async with store.lock("submit:stuck", 30):
            with anyio.fail_after(WAIT), pytest.raises(LockBusy):
                async with store.lock("submit:stuck", 0.2):
                    pass
    finally:
        await store.aclose()


async def test_an_unreachable_redis_is_reported_within_the_timeout_and_names_no_password(
    own_redis: RunningRedis,
) -> None:
    store = RedisState(own_redis.url.replace("unix://", "unix://:CANARY-REDIS-PASSWORD@"), timeout=0.5)
    own_redis.stop()
    try:
        for call in (store.ping(), store.claim("spent:x", 1), store.get("x"), store.put("x", "1", 1)):
            with anyio.fail_after(WAIT), pytest.raises(StateUnavailable) as refused:
                await call
            assert "unreachable" in str(refused.value)
            assert "CANARY" not in str(refused.value)
        with anyio.fail_after(WAIT), pytest.raises(StateUnavailable):
            async with store.lock("submit:x", 1):
                pass
    finally:
        await store.aclose()


def test_a_redis_url_is_described_without_its_password() -> None:
    assert describe_url("redis://user:CANARY-PW@cache.internal:6380/2") == "redis://cache.internal:6380"
    assert describe_url("rediss://:CANARY-PW@cache.internal") == "rediss://cache.internal:6379"
    assert describe_url("unix://:CANARY-PW@/run/redis.sock?db=1") == "unix:///run/redis.sock"


async def _gone(state: SharedState, key: str) -> bool:
    return await state.get(key) is None


async def test_a_store_closed_when_its_last_borrower_left_answers_when_borrowed_again(redis_url: str) -> None:
    # SSE borrows the server's client (and its state) per connection: closing must not end the store for good.
    store = RedisState(redis_url)
    await store.ping()
    await store.aclose()
    assert await store.claim("spent:after-close", 5)
    await store.aclose()
