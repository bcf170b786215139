"""Whether to try an Ayrshare request again, as a decision table: pure functions, no sockets, no clock.

Deletes are irreversible and posts must go out at most once, so the question is never just "did it fail": it is
whether Ayrshare may already have acted. Each failure is classified once (`Failure`): was the request sent, may it
be repeated, and did Ayrshare say when to come back. `decide` then answers "wait this long" or "give up with this
error", from the failure, the operation, the attempt number and the time left before the call's deadline.

| What happened                                   | Sent?  | Repeat a repeatable op? | Repeat any op? |
|-------------------------------------------------|--------|-------------------------|----------------|
| connect failed / connect or pool timeout        | no     | yes                     | yes            |
| 429 Too Many Requests                           | no     | yes                     | yes            |
| 429 with code 106 (the monthly post quota)      | no     | no                      | no             |
| 502 / 503 / 504                                 | maybe  | yes                     | no: unknown    |
| attempt timed out, connection dropped, garbage  | maybe  | yes                     | no: unknown    |
| an answer too large to read                     | maybe  | no                      | no: unknown    |
| 500 and other 5xx                               | maybe  | no                      | no: unknown    |
| other 4xx (Ayrshare refused)                    | no (*) | no                      | no             |
| the call's deadline ran out                     | maybe  | no                      | no: unknown    |

(*) A refusal is a definitive answer: Ayrshare did not act, so it is not an "unknown outcome".
"Unknown" means the error says the outcome is unknown and how to check it, instead of the failure itself.
A wait, whatever asked for it (backoff, Retry-After, the profile's spent rate-limit budget), never runs past the
call's deadline: `decide` is the one place a wait is chosen.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from ayrshare_mcp.client.errors import AyrshareError
from ayrshare_mcp.settings import DEFAULT_BASE_DELAY, DEFAULT_MAX_RETRIES

RETRYABLE_SERVER_STATUSES = frozenset({502, 503, 504})
# The longest an answer can make this server hold a profile's calls back: whatever a header says, a day.
MAX_PAUSE_SECONDS = 86_400.0
# Ayrshare's answer once a profile's monthly post quota is used up: 429, until the quota resets.
MONTHLY_QUOTA_CODE = 106

Sent = Literal["no", "maybe"]
Repeat = Literal["never", "if_repeatable", "always"]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    base_delay: float = DEFAULT_BASE_DELAY
    max_delay: float = 8.0
    # A Retry-After longer than this is not waited out within a tool call: the error says when to come back.
    max_retry_after: float = 20.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Exponential from `base_delay`, capped, scaled by `jitter` in (0.75, 1]."""
        return float(min(self.base_delay * 2**attempt, self.max_delay) * jitter)


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified: the error to report, whether Ayrshare may have acted, whether to repeat."""

    error: AyrshareError
    sent: Sent
    repeat: Repeat
    retry_after: float | None = None

    @property
    def rate_limited(self) -> bool:
        return self.error.status == 429 and not self.monthly_quota_spent

    @property
    def monthly_quota_spent(self) -> bool:
        return self.error.status == 429 and self.error.code == MONTHLY_QUOTA_CODE


def not_sent(error: AyrshareError) -> Failure:
    """The request never left this process (connect failed or timed out, no pooled connection in time)."""
    return Failure(error, sent="no", repeat="always")


def maybe_sent(error: AyrshareError) -> Failure:
    """The request may have reached Ayrshare, and no usable answer came back (timeout, dropped connection)."""
    return Failure(error, sent="maybe", repeat="if_repeatable")


def deadline_passed(error: AyrshareError) -> Failure:
    """The call's time ran out while its request was in flight."""
    return Failure(error, sent="maybe", repeat="never")


def no_time_to_send(error: AyrshareError) -> Failure:
    """The call's time ran out before this attempt was sent: it did nothing, and there is no time to try again."""
    return Failure(error, sent="no", repeat="never")


def unreadable(error: AyrshareError) -> Failure:
    """Ayrshare answered, but the answer could not be used (too large): it acted, and asking again would repeat it."""
    return Failure(error, sent="maybe", repeat="never")


def answered(error: AyrshareError, headers: Mapping[str, str], now: Callable[[], float] = time.time) -> Failure:
    """Ayrshare answered with an error status (or a body that is not JSON)."""
    status = error.status or 0
    if status == 429 and error.code == MONTHLY_QUOTA_CODE:
        # Not a burst: Ayrshare answers the same until the month turns, and every 429 counts towards suspension.
        return Failure(error, sent="no", repeat="never")
    if status == 429:
        # Ayrshare refused before doing anything; every operation may come back later.
        return Failure(error, sent="no", repeat="always", retry_after=parse_retry_after(headers, now))
    if status < 400:
        # A success we cannot read (an HTML page from a proxy, say): Ayrshare may have acted.
        return maybe_sent(error)
    if status >= 500:
        # Ayrshare may have acted before it failed; only a gateway's answer suggests trying again.
        return Failure(error, sent="maybe", repeat="if_repeatable" if status in RETRYABLE_SERVER_STATUSES else "never")
    return Failure(error, sent="no", repeat="never")


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class GiveUp:
    error: AyrshareError
    # Ayrshare may have acted and the operation must not be repeated: the caller is told how to check instead.
    outcome_unknown: bool = False


def decide(
    failure: Failure,
    *,
    repeatable: bool,
    attempt: int,
    time_left: float,
    policy: RetryPolicy,
    blocked_for: float = 0.0,
    jitter: float | None = None,
) -> Wait | GiveUp:
    """Wait and try again, or give up: `attempt` counts from 0, `time_left` is seconds until the call's deadline,
    `blocked_for` is how long the profile's rate-limit budget says nothing may be sent."""
    if failure.sent == "maybe" and not repeatable:
        return GiveUp(failure.error, outcome_unknown=True)
    allowed = failure.repeat == "always" or (failure.repeat == "if_repeatable" and repeatable)
    if not allowed or attempt >= policy.max_retries:
        return GiveUp(failure.error)
    if failure.retry_after is not None:
        delay = failure.retry_after
    else:
        delay = policy.backoff(attempt, jitter if jitter is not None else 1 - 0.25 * random.random())  # noqa: S311
    delay = max(delay, blocked_for)
    if delay > policy.max_retry_after or delay >= time_left:
        return GiveUp(failure.error)
    return Wait(delay)


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), at most a day; None when absent or
    unreadable ("inf" and "nan" included: a number is finite, and an answer cannot block a profile for ever)."""
    raw = headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return min(max(0.0, seconds), MAX_PAUSE_SECONDS) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime  # rare: Ayrshare sends seconds, if anything

    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, moment.timestamp() - now()), MAX_PAUSE_SECONDS)
