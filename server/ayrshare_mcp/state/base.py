"""The shared-state contract: what a store offers (`SharedState`), the budget it keeps, and its one failure."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


class StateUnavailable(Exception):
    """The shared state (Redis) did not answer in time or refused: what depends on it must not go ahead."""

    def __init__(self, where: str) -> None:
        # Where Redis is (scheme, host and port, or socket), never its password.
        self.where = where
        self.message = (
            f"Refused: the shared state in Redis ({where}, from AYRSHARE_MCP_REDIS_URL) is unreachable, so this "
            "server cannot know whether another replica already did this. Nothing was sent. Check that Redis is "
            "running and reachable from this server, and the URL's host, port and password; reads still work."
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class Budget:
    """A profile's rate budget as Ayrshare last described it, in wall-clock seconds (comparable across replicas).

    Zero means "not known": no window seen, no limit seen, not blocked, monthly quota not spent.
    """

    window_started: float = 0.0
    used: int = 0
    limit: int = 0
    blocked_until: float = 0.0
    quota_until: float = 0.0

    def merged(self, newer: Budget) -> Budget:
        """What both say: the later window's counts, and the longer of each pause."""
        counts = newer if newer.limit and newer.window_started >= self.window_started else self
        return Budget(
            window_started=counts.window_started,
            used=counts.used,
            limit=counts.limit,
            blocked_until=max(self.blocked_until, newer.blocked_until),
            quota_until=max(self.quota_until, newer.quota_until),
        )


class SharedState(Protocol):
    """Where the server's memory between calls lives; `shared` says whether other processes see it too."""

    @property
    def shared(self) -> bool: ...

    async def claim(self, key: str, seconds: float) -> bool:
        """Mark `key` used for `seconds`; False when it already was (by anyone sharing this state)."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, seconds: float) -> None:
        """Remember `value` under `key` for `seconds`."""
        ...

    async def forget(self, key: str) -> None:
        """Forget what is under `key`."""
        ...

    def lock(self, key: str, seconds: float) -> AbstractAsyncContextManager[None]:
        """Hold `key` against everyone sharing this state; a holder that vanishes loses it after `seconds`."""
        ...

    async def budget(self, key: str) -> Budget | None: ...

    async def merge_budget(self, key: str, budget: Budget, seconds: float) -> Budget:
        """Fold what this process saw into the shared budget (kept for `seconds`); the result."""
        ...

    async def ping(self) -> None:
        """Raises StateUnavailable when the state cannot be reached."""
        ...

    async def aclose(self) -> None: ...
