"""The server's memory between calls in Redis, shared by every replica pointed at it (the official client, asyncio).

Every call is bounded by `REDIS_SECONDS`, retried by nobody (an unreachable Redis must be reported, not waited for),
and any failure becomes `StateUnavailable`.
"""

from __future__ import annotations

import logging
import secrets
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
local fields = {string.format('%.3f', ws), tostring(used), tostring(limit), string.format('%.3f', blocked),
    string.format('%.3f', quota)}
redis.call('HSET', KEYS[1], 'window_started', fields[1], 'used', fields[2], 'limit', fields[3],
    'blocked_until', fields[4], 'quota_until', fields[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return fields
"""
_BUDGET_FIELDS = ("window_started", "used", "limit", "blocked_until", "quota_until")


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
        claimed = await self._call(lambda: self._redis.set(self._prefix + key, "1", nx=True, px=_ms(seconds)))
        return bool(claimed)

    async def get(self, key: str) -> str | None:
        value: Any = await self._call(lambda: self._redis.get(self._prefix + key))
        return value if isinstance(value, str) else None

    async def put(self, key: str, value: str, seconds: float) -> None:
        await self._call(lambda: self._redis.set(self._prefix + key, value, px=_ms(seconds)))

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
        # No holder keeps a lock longer than `seconds`: waiting longer means Redis keeps it for one that is stuck.
        with anyio.move_on_after(seconds):
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
        return None if fields[0] is None else _budget(fields)

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
        return _budget(fields)

    async def ping(self) -> None:
        await self._call(self._redis.ping)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(self._timeout):
            await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _budget(fields: list[Any]) -> Budget:
    window_started, used, limit, blocked_until, quota_until = fields
    return Budget(
        window_started=float(window_started),
        used=int(used),
        limit=int(limit),
        blocked_until=float(blocked_until),
        quota_until=float(quota_until),
    )
