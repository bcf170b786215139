"""When the Ayrshare client retries, how long it waits, and when it does not send at all.

Ayrshare allows 300 requests per 5 minutes per profile and suspends a profile after 1,000 rate-limited requests in a
day; deletes are irreversible. So: few retries, only where repeating cannot act twice, and no request that is
already known to earn a 429.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import anyio

RATE_WINDOW_SECONDS = 300.0
RETRYABLE_SERVER_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    # A Retry-After longer than this is not waited out within a tool call: the error says when to come back.
    max_retry_after: float = 20.0

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1`: Retry-After when given, else exponential with jitter."""
        if retry_after is not None:
            return retry_after
        jitter = 1 - 0.25 * random.random()  # noqa: S311 - spreads retries out; not a secret
        return float(min(self.base_delay * 2**attempt, self.max_delay) * jitter)


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], float] | None = None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date); None when absent or unreadable."""
    raw = headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare: Ayrshare sends seconds, if anything

    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - (now or time.time)())


def identity(api_key: str, profile_key: str | None) -> str:
    """A stable name for one rate-limit bucket that does not keep the keys themselves in memory."""
    return hashlib.sha256(f"{api_key}\0{profile_key or ''}".encode()).hexdigest()[:32]


@dataclass
class _Bucket:
    window_started: float | None = None
    used: int = 0
    limit: int = 0
    blocked_until: float = 0.0


@dataclass
class RateLimits:
    """What Ayrshare's x-ratelimit-* headers and 429s said about each profile's budget."""

    clock: Callable[[], float] = field(default=anyio.current_time)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def wait(self, bucket: str) -> tuple[float, int | None, int | None]:
        """Seconds until this profile may send again (0 when it may now), and the budget last seen."""
        state = self._buckets.get(bucket)
        if state is None:
            return 0.0, None, None
        remaining = state.blocked_until - self.clock()
        if remaining <= 0:
            return 0.0, None, None
        # A bucket paused by a 429 that carried no x-ratelimit headers has no budget to report.
        return (remaining, state.used, state.limit) if state.limit else (remaining, None, None)

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        try:
            limit, used = int(headers["x-ratelimit-max"]), int(headers["x-ratelimit-count"])
        except (KeyError, ValueError):
            return
        state = self._buckets.setdefault(bucket, _Bucket())
        now = self.clock()
        if state.window_started is None or used < state.used:
            # A count that went down means a new window; its start is at most one request ago.
            state.window_started = now
        state.used, state.limit = used, limit
        if used >= limit:
            reset = _reset_header(headers)
            state.blocked_until = now + reset if reset is not None else state.window_started + RATE_WINDOW_SECONDS

    def pause(self, bucket: str, seconds: float) -> None:
        """Send nothing for this profile for `seconds` (after a 429), unless already blocked for longer."""
        state = self._buckets.setdefault(bucket, _Bucket())
        state.blocked_until = max(state.blocked_until, self.clock() + seconds)


def _reset_header(headers: Mapping[str, str]) -> float | None:
    # Older Ayrshare docs name x-ratelimit-reset: milliseconds until the window resets.
    try:
        return max(0.0, float(headers["x-ratelimit-reset"]) / 1000)
    except (KeyError, ValueError):
        return None
