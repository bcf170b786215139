"""The server's memory between calls in Redis, shared by every replica pointed at it (the official client, asyncio).

Every call is bounded by `REDIS_SECONDS`, retried by nobody (an unreachable Redis must be reported, not waited for),
and any failure becomes `StateUnavailable`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ayrshare_mcp.state.base import Budget, StateUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Redis answers in well under a millisecond on a network a team runs replicas on; a call that takes longer than
# this is a Redis that is down or cut off, and the call it holds up is refused rather than left hanging.
REDIS_SECONDS = 2.0
PREFIX = "ayrshare-mcp:"
# How often a call waiting for a lock held by another replica looks again.
LOCK_POLL_SECONDS = 0.05

# Delete the lock only if it still holds this holder's token: a holder whose lock expired must not free another's.
# A claim is made only in the Redis whose memory this server knows (its epoch): one that restarted without its data,
# or a replica it failed over to that missed recent writes, has forgotten claims already made.
_CLAIM = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"""
EPOCH = "epoch"
# After Redis lost its memory, claims are refused this long: every approval given before it has expired by then
# (a 2026-era approval lives 120 s, and replicas' clocks may differ by up to 120 s).
FORGETFUL_SECONDS = 240.0
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Fold one replica's view of a budget into the shared one, atomically: the later window's counts, the longer pauses.
_MERGE = """
local b = redis.call('HMGET', KEYS[1], 'window_started', 'used', 'limit', 'blocked_until', 'quota_until')
local ws, used, limit = tonumber(b[1]) or 0, tonumber(b[2]) or 0, tonumber(b[3]) or 0
local blocked, quota = tonumber(b[4]) or 0, tonumber(b[5]) or 0
local nws, nused, nlimit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if nlimit > 0 and nws >= ws then ws, used, limit = nws, nused, nlimit end
blocked = math.max(blocked, tonumber(ARGV[4]))
quota = math.max(quota, tonumber(ARGV[5]))
local fields = {string.format('%.3f', ws), string.format('%d', used), string.format('%d', limit),
    string.format('%.3f', blocked),
    string.format('%.3f', quota)}
redis.call('HSET', KEYS[1], 'window_started', fields[1], 'used', fields[2], 'limit', fields[3],
    'blocked_until', fields[4], 'quota_until', fields[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return fields
"""
_BUDGET_FIELDS = ("window_started", "used", "limit", "blocked_until", "quota_until")


LOCK_WAIT_SHARE = 4


class ForgetfulRedis(StateUnavailable):
    """Redis began a new memory lately (it restarted without its data, or failed over to a replica that missed the
    latest writes): an approval may have been spent in the memory it lost."""

    def __init__(self, where: str, seconds: float) -> None:
        super().__init__(where)
        self.message = (
            f"Refused: the shared state in Redis ({where}) lost what it remembered lately (a restart without "
            f"persistence, or a failover), so an approval given before could be used twice. Nothing was done. "
            f"Approvals work again in {max(1, round(seconds))} s; ask the person again then. Redis with persistence "
            "(appendonly yes) keeps this from happening."
        )
        self.args = (self.message,)


class LockBusy(StateUnavailable):
    """A lock stayed held by another call for longer than any holder may keep it."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.message = (
            "Refused: another call (perhaps on another replica) is still sending the same thing, for longer than it "
            "should take. Nothing was sent by this call; check whether the other one went out before trying again."
        )
        Exception.__init__(self, self.message)


def describe_url(url: str) -> str:
    """Where a Redis URL points, for messages: scheme, host and port, or the socket's path; never its password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379
    return f"{parts.scheme}://{parts.hostname or ''}:{port}"


class RedisState:
    """The shared state in one Redis: keys under `ayrshare-mcp:`, each with its lifetime."""

    shared = True

    def __init__(self, url: str, *, timeout: float = REDIS_SECONDS, prefix: str = PREFIX) -> None:
        self._where = describe_url(url)
        self._timeout = timeout
        self._prefix = prefix
        self._redis: redis.asyncio.Redis = redis.asyncio.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._release = self._redis.register_script(_RELEASE)
        self._claim = self._redis.register_script(_CLAIM)
        # The epoch of the Redis memory claims are made in (see `claim`), and until when claims are refused after
        # this server found Redis had lost one.
        self._epoch: str | None = None
        self._claims_from = 0.0
        self._merge = self._redis.register_script(_MERGE)

    @property
    def where(self) -> str:
        return self._where

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            with anyio.fail_after(self._timeout):
                return await call()
        except (TimeoutError, RedisError, OSError) as exc:
            logger.debug("Redis at %s: %s", self._where, type(exc).__name__)
            raise StateUnavailable(self._where) from None

    async def claim(self, key: str, seconds: float) -> bool:
        """Raises:
        StateUnavailable: Redis cannot be reached, or lost its memory lately (`ForgetfulRedis`), when a claim
            already made may have been forgotten.
        """
        if self._epoch is None:
            await self._learn_epoch()
        for _ in range(2):
            if time.time() < self._claims_from:
                raise ForgetfulRedis(self._where, self._claims_from - time.time())
            claimed = await self._claim_in_epoch(key, seconds)
            if claimed is not None:
                return claimed
            await self._learn_epoch()
        raise ForgetfulRedis(self._where, FORGETFUL_SECONDS)

    async def _claim_in_epoch(self, key: str, seconds: float) -> bool | None:
        """The claim, made in the memory this server knows; None when Redis has another memory now."""
        keys = [self._prefix + key, self._prefix + EPOCH]
        args: list[str | int] = [_ms(seconds), str(self._epoch)]
        claimed: Any = await self._call(lambda: self._claim(keys=keys, args=args))
        return None if claimed == -1 else bool(claimed)

    async def _learn_epoch(self) -> None:
        """The epoch of Redis's memory, begun now if it has none. When it is not the one this server knew, Redis
        lost its memory since (or failed over): claims are refused until any made in the lost memory has expired."""
        name = self._prefix + EPOCH
        await self._call(lambda: self._redis.set(name, secrets.token_hex(16), nx=True))
        epoch: Any = await self._call(lambda: self._redis.get(name))
        if not isinstance(epoch, str):
            raise StateUnavailable(self._where)
        if self._epoch is not None and epoch != self._epoch:
            logger.warning(
                "Redis at %s lost what it remembered (a restart or a failover): approvals are refused for %.0f s, so "
                "none given before can be used twice",
                self._where,
                FORGETFUL_SECONDS,
            )
            self._claims_from = time.time() + FORGETFUL_SECONDS
        self._epoch = epoch

    async def get(self, key: str) -> str | None:
        value: Any = await self._call(lambda: self._redis.get(self._prefix + key))
        return value if isinstance(value, str) else None

    async def put(self, key: str, value: str, seconds: float) -> None:
        await self._call(lambda: self._redis.set(self._prefix + key, value, px=_ms(seconds)))

    async def forget(self, key: str) -> None:
        await self._call(lambda: self._redis.delete(self._prefix + key))

    @asynccontextmanager
    async def lock(self, key: str, seconds: float) -> AsyncIterator[None]:
        name, token = self._prefix + key, secrets.token_hex(16)
        try:
            await self._acquire(name, token, seconds)
        except BaseException:
            # A cancelled SET may still have taken the lock: free it now rather than after its lifetime.
            with anyio.CancelScope(shield=True):
                await self._free(name, token)
            raise
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):
                await self._free(name, token)

    async def _acquire(self, name: str, token: str, seconds: float) -> None:
        # No holder keeps a lock longer than `seconds`, and a caller waits a quarter of that: a call holding a few
        # locks one after another still holds the first when it has the last.
        with anyio.move_on_after(seconds / LOCK_WAIT_SHARE):
            # Another process holds it: nothing here can tell when it lets go but asking again.
            while not await self._call(lambda: self._redis.set(name, token, nx=True, px=_ms(seconds))):  # noqa: ASYNC110
                await anyio.sleep(LOCK_POLL_SECONDS)
            return
        raise LockBusy(self._where)

    async def _free(self, name: str, token: str) -> None:
        try:
            await self._call(lambda: self._release(keys=[name], args=[token]))
        except StateUnavailable:
            logger.warning("Could not release a lock in Redis at %s; it expires by itself.", self._where)

    async def budget(self, key: str) -> Budget | None:
        fields: Any = await self._call(lambda: self._redis.hmget(self._prefix + key, list(_BUDGET_FIELDS)))
        return None if fields[0] is None else _budget(fields, self._where)

    async def merge_budget(self, key: str, budget: Budget, seconds: float) -> Budget:
        args = [
            repr(budget.window_started),
            str(budget.used),
            str(budget.limit),
            repr(budget.blocked_until),
            repr(budget.quota_until),
            str(_ms(seconds)),
        ]
        fields: Any = await self._call(lambda: self._merge(keys=[self._prefix + key], args=args))
        return _budget(fields, self._where)

    async def ping(self) -> None:
        await self._call(self._redis.ping)
        if self._epoch is None:
            # Known from the start, so that a Redis that loses its memory later is noticed (see `claim`).
            await self._learn_epoch()

    async def keeping(self) -> tuple[str, bool]:
        """How Redis keeps what it is told: its eviction policy, and whether it writes every change to disk (AOF)."""
        memory: Any = await self._call(lambda: self._redis.info("memory"))
        persistence: Any = await self._call(lambda: self._redis.info("persistence"))
        return str(memory.get("maxmemory_policy", "")), bool(int(persistence.get("aof_enabled", 0)))

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(self._timeout):
            await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _budget(fields: list[Any], where: str) -> Budget:
    window_started, used, limit, blocked_until, quota_until = fields
    try:
        return Budget(
            window_started=float(window_started),
            used=int(float(used)),
            limit=int(float(limit)),
            blocked_until=float(blocked_until),
            quota_until=float(quota_until),
        )
    except (TypeError, ValueError, OverflowError):
        # Not what this server writes: whatever wrote it, a budget nobody can read is no budget to go by.
        logger.warning("Redis at %s holds a rate budget that is not numbers; calls that need it are refused", where)
        raise StateUnavailable(where) from None
