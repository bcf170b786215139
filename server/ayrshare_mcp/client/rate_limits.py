"""What Ayrshare's rate-limit headers and 429s said about each profile's budget, so a spent budget is not spent again.

Ayrshare allows 300 requests per 5 minutes per profile and suspends a profile after 1,000 rate-limited requests in a
day. So once a profile's budget is known to be spent, further calls for it are refused here, not sent to earn more
429s. The same holds for the monthly post quota (code 106), which lasts until the 1st of the next month, 00:07 UTC.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import anyio

from ayrshare_mcp.client.retry import MAX_PAUSE_SECONDS
from ayrshare_mcp.state import Budget

# More requests than any Ayrshare plan allows in a window: a count beyond it is no count.
MAX_COUNT = 1_000_000

RATE_WINDOW_SECONDS = 300.0
# When Ayrshare's monthly post quotas reset (its help center): the 1st of each month, at 00:07 UTC.
QUOTA_RESET_DAY_OFFSET = timedelta(minutes=7)


def monthly_quota_reset(now: datetime) -> datetime:
    """The next reset of the monthly post quota after `now` (aware, any zone)."""
    now = now.astimezone(UTC)
    this_month = datetime(now.year, now.month, 1, tzinfo=UTC) + QUOTA_RESET_DAY_OFFSET
    if now < this_month:
        return this_month
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC) + QUOTA_RESET_DAY_OFFSET


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
    wall_clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    # Profiles whose monthly post quota is spent, and until when (bounded: one entry per profile that hit it).
    _quota_spent: dict[str, datetime] = field(default_factory=dict)

    def quota_spent(self, bucket: str, until: datetime) -> None:
        now = self.wall_clock()
        self._quota_spent = {name: moment for name, moment in self._quota_spent.items() if moment > now}
        self._quota_spent[bucket] = until

    def quota_spent_until(self, bucket: str) -> datetime | None:
        """When this profile's monthly post quota resets, if it is known to be spent; else None."""
        until = self._quota_spent.get(bucket)
        return until if until is not None and until > self.wall_clock() else None

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

    def headroom(self, bucket: str) -> int | None:
        """Requests this profile may still send in the current window, as last seen; None when unknown."""
        state = self._buckets.get(bucket)
        if state is None:
            return None
        now = self.clock()
        if state.blocked_until > now:
            return 0
        if not state.limit or state.window_started is None or now - state.window_started >= RATE_WINDOW_SECONDS:
            return None
        return max(0, state.limit - state.used)

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        try:
            limit, used = int(headers["x-ratelimit-max"]), int(headers["x-ratelimit-count"])
        except (KeyError, ValueError):
            return
        if not (0 <= used <= MAX_COUNT and 0 < limit <= MAX_COUNT):
            return  # no budget Ayrshare has: nothing to go by, and nothing for replicas to share
        self._forget_the_idle()
        state = self._buckets.setdefault(bucket, _Bucket())
        now = self.clock()
        if state.window_started is None or used < state.used:
            # A count that went down means a new window; its start is at most one request ago.
            state.window_started = now
        state.used, state.limit = used, limit
        if used >= limit:
            reset = _reset_header(headers)
            state.blocked_until = now + reset if reset is not None else state.window_started + RATE_WINDOW_SECONDS

    def _forget_the_idle(self) -> None:
        # A bucket matters only while its window runs or it is blocked; one is kept per key and profile seen.
        if len(self._buckets) < 1000:
            return
        now = self.clock()
        self._buckets = {
            name: state
            for name, state in self._buckets.items()
            if state.blocked_until > now or (state.window_started or 0.0) + RATE_WINDOW_SECONDS > now
        }

    def pause(self, bucket: str, seconds: float) -> None:
        """Send nothing for this profile for `seconds` (after a 429; at most a day), unless already blocked for
        longer."""
        self._forget_the_idle()
        state = self._buckets.setdefault(bucket, _Bucket())
        state.blocked_until = max(state.blocked_until, self.clock() + min(seconds, MAX_PAUSE_SECONDS))

    def snapshot(self, bucket: str) -> Budget | None:
        """What is known of this profile's budget, for replicas sharing it (times on this instance's clock)."""
        state, quota = self._buckets.get(bucket), self._quota_spent.get(bucket)
        if state is None and quota is None:
            return None
        state = state or _Bucket()
        return Budget(
            window_started=state.window_started or 0.0,
            used=state.used,
            limit=state.limit,
            blocked_until=state.blocked_until,
            quota_until=quota.timestamp() if quota else 0.0,
        )

    def adopt(self, bucket: str, shared: Budget) -> None:
        """Take in what another replica learnt of this profile's budget: the later window, the longer pauses, none
        longer than any pause this replica would take itself (another replica's clock may be far ahead)."""
        now = self.clock()
        shared = replace(
            shared,
            window_started=min(shared.window_started, now),
            blocked_until=min(shared.blocked_until, now + MAX_PAUSE_SECONDS),
            quota_until=min(shared.quota_until, monthly_quota_reset(datetime.now(UTC)).timestamp() + 86_400),
        )
        budget = (self.snapshot(bucket) or Budget()).merged(shared)
        if budget.limit or budget.blocked_until:
            self._forget_the_idle()
            state = self._buckets.setdefault(bucket, _Bucket())
            state.window_started = budget.window_started or None
            state.used, state.limit, state.blocked_until = budget.used, budget.limit, budget.blocked_until
        if budget.quota_until:
            self.quota_spent(bucket, datetime.fromtimestamp(budget.quota_until, UTC))


def _reset_header(headers: Mapping[str, str]) -> float | None:
    # Older Ayrshare docs name x-ratelimit-reset: milliseconds until the window resets.
    try:
        seconds = float(headers["x-ratelimit-reset"]) / 1000
    except (KeyError, ValueError):
        return None
    return min(max(0.0, seconds), MAX_PAUSE_SECONDS) if math.isfinite(seconds) else None
