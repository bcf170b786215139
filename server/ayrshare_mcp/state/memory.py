"""The server's memory between calls in this process alone: what it always was, for one server or one replica."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio

from ayrshare_mcp.state.base import Budget

# How many records of one kind (the part of a key before its first ":") are kept at most: a server for many callers
# must not keep every one it saw. Single-use claims are never dropped before they expire: dropping one early would let
# an approval be used twice.
MAX_REMEMBERED = 10_000


class MemoryState:
    """This process's memory: records that expire, claims, locks and budgets, none seen by another process."""

    shared = False

    def __init__(self, clock: Callable[[], float] = anyio.current_time) -> None:
        self._clock = clock
        self._records: dict[str, OrderedDict[str, tuple[str, float]]] = {}
        self._claims: dict[str, float] = {}
        self._locks = KeyedLocks()
        self._budgets: dict[str, Budget] = {}

    async def claim(self, key: str, seconds: float) -> bool:
        now = self._clock()
        self._claims = {known: until for known, until in self._claims.items() if until > now}
        if key in self._claims:
            return False
        self._claims[key] = now + seconds
        return True

    async def get(self, key: str) -> str | None:
        value, until = self._kind(key).get(key, ("", 0.0))
        return value if until > self._clock() else None

    async def forget(self, key: str) -> None:
        self._kind(key).pop(key, None)

    async def put(self, key: str, value: str, seconds: float) -> None:
        records = self._kind(key)
        now = self._clock()
        for name in [name for name, (_, until) in records.items() if until <= now]:
            del records[name]
        records[key] = (value, now + seconds)
        records.move_to_end(key)
        while len(records) > MAX_REMEMBERED:
            records.popitem(last=False)

    def lock(self, key: str, seconds: float) -> AbstractAsyncContextManager[None]:
        # A lock in this process dies with it: no holder can outlive the process, so none needs a lifetime.
        return self._locks.hold(key)

    async def budget(self, key: str) -> Budget | None:
        return self._budgets.get(key)

    async def merge_budget(self, key: str, budget: Budget, seconds: float) -> Budget:
        merged = self._budgets.get(key, Budget()).merged(budget)
        self._budgets[key] = merged
        return merged

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def _kind(self, key: str) -> OrderedDict[str, tuple[str, float]]:
        return self._records.setdefault(key.partition(":")[0], OrderedDict())


class KeyedLocks:
    """One lock per name, kept only while someone holds it or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        lock, holders = self._locks.get(name, (anyio.Lock(), 0))
        self._locks[name] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self._locks[name]
            if holders <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, holders - 1)
