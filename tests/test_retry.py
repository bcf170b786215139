"""The retry decision table, tested directly: no sockets, no clock."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from ayrshare_mcp.client import retry
from ayrshare_mcp.client.errors import (
    AyrshareAPIError,
    AyrshareConnectionError,
    AyrshareInvalidResponse,
    AyrshareTimeoutError,
)

POLICY = retry.RetryPolicy(max_retries=2, base_delay=0.5, max_delay=8.0, max_retry_after=20.0)
PLENTY = 30.0


def api_error(status: int) -> AyrshareAPIError:
    return AyrshareAPIError(status, {"status": "error", "code": 1, "message": "x"})


def decide(failure: retry.Failure, *, repeatable: bool, attempt: int = 0, time_left: float = PLENTY) -> object:
    return retry.decide(failure, repeatable=repeatable, attempt=attempt, time_left=time_left, policy=POLICY, jitter=1)


CONNECT = retry.not_sent(AyrshareConnectionError("refused"))
TIMED_OUT = retry.maybe_sent(AyrshareTimeoutError("slow"))
DEADLINE = retry.deadline_passed(AyrshareTimeoutError("out of time"))


@pytest.mark.parametrize(
    ("failure", "repeatable", "expected"),
    [
        (CONNECT, True, retry.Wait(0.5)),
        (CONNECT, False, retry.Wait(0.5)),
        (retry.answered(api_error(429), {}), False, retry.Wait(0.5)),
        (retry.answered(api_error(503), {}), True, retry.Wait(0.5)),
        (TIMED_OUT, True, retry.Wait(0.5)),
        (retry.answered(AyrshareInvalidResponse(200, "text/html"), {}), True, retry.Wait(0.5)),
    ],
    ids=["connect/read", "connect/delete", "429/delete", "503/read", "timeout/read", "html-200/read"],
)
def test_what_cannot_act_twice_is_tried_again(failure: retry.Failure, repeatable: bool, expected: object) -> None:
    assert decide(failure, repeatable=repeatable) == expected


@pytest.mark.parametrize(
    "failure",
    [retry.answered(api_error(503), {}), TIMED_OUT, retry.answered(api_error(500), {}), DEADLINE],
    ids=["503", "timeout", "500", "deadline"],
)
def test_a_delete_that_may_have_reached_ayrshare_is_never_repeated_and_its_outcome_is_unknown(
    failure: retry.Failure,
) -> None:
    assert decide(failure, repeatable=False) == retry.GiveUp(failure.error, outcome_unknown=True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 419])
def test_a_refusal_is_final_and_known(status: int) -> None:
    failure = retry.answered(api_error(status), {})

    assert failure.sent == "no"
    assert decide(failure, repeatable=True) == retry.GiveUp(failure.error)
    assert decide(failure, repeatable=False) == retry.GiveUp(failure.error)


def test_a_500_is_not_retried_even_for_a_read() -> None:
    failure = retry.answered(api_error(500), {})

    assert decide(failure, repeatable=True) == retry.GiveUp(failure.error)


def test_backoff_doubles_up_to_the_retry_budget() -> None:
    assert decide(CONNECT, repeatable=True, attempt=1) == retry.Wait(1.0)
    assert decide(CONNECT, repeatable=True, attempt=2) == retry.GiveUp(CONNECT.error)


def test_jitter_shortens_the_wait_by_at_most_a_quarter() -> None:
    waits = {
        retry.decide(CONNECT, repeatable=True, attempt=1, time_left=PLENTY, policy=POLICY, jitter=jitter)
        for jitter in (0.75, 1.0)
    }

    assert waits == {retry.Wait(0.75), retry.Wait(1.0)}


def test_retry_after_wins_over_backoff_but_not_beyond_the_cap_or_the_deadline() -> None:
    soon = retry.answered(api_error(429), {"retry-after": "3"})
    late = retry.answered(api_error(429), {"retry-after": "3600"})

    assert decide(soon, repeatable=False) == retry.Wait(3.0)
    assert decide(soon, repeatable=True, time_left=2.0) == retry.GiveUp(soon.error)
    assert decide(late, repeatable=True) == retry.GiveUp(late.error)


def test_no_wait_is_longer_than_the_time_left() -> None:
    assert decide(CONNECT, repeatable=True, time_left=0.4) == retry.GiveUp(CONNECT.error)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    in_ninety = format_datetime(datetime(2026, 11, 27, 12, 1, 30, tzinfo=UTC), usegmt=True)

    def clock() -> float:
        return now.timestamp()

    assert retry.parse_retry_after({"retry-after": "2.5"}, clock) == 2.5
    assert retry.parse_retry_after({"retry-after": in_ninety}, clock) == 90.0
    assert retry.parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, clock) == 0.0
    assert retry.parse_retry_after({"retry-after": "soon"}, clock) is None
    assert retry.parse_retry_after({}, clock) is None


def test_a_spent_rate_limit_budget_is_waited_out_only_within_the_calls_deadline() -> None:
    rate_limited = retry.answered(api_error(429), {})

    def blocked(seconds: float, time_left: float) -> object:
        return retry.decide(
            rate_limited, repeatable=True, attempt=0, time_left=time_left, policy=POLICY, blocked_for=seconds, jitter=1
        )

    assert blocked(3.0, time_left=30.0) == retry.Wait(3.0)
    assert isinstance(blocked(3.0, time_left=2.0), retry.GiveUp)
    assert isinstance(blocked(300.0, time_left=600.0), retry.GiveUp)


def test_the_monthly_post_quota_is_never_tried_again() -> None:
    quota = retry.answered(AyrshareAPIError(429, {"status": "error", "code": 106, "message": "limit"}), {})

    assert quota.monthly_quota_spent
    assert not quota.rate_limited
    assert decide(quota, repeatable=True) == retry.GiveUp(quota.error)
