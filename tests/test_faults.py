"""Fault injection: what the server sends Ayrshare, and what the model is told, when Ayrshare misbehaves.

Each test asserts the exact upstream requests (so a retry that could act twice would show) and the envelope.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client

from ayrshare_mcp.client.rate_limits import monthly_quota_reset
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, Fault, bind
from ayrshare_mcp.server import SharedClient, build_server
from ayrshare_mcp.settings import Settings
from tests.envelope import call, fail, succeed
from tests.support import API_KEY, PROCESS_WAIT, WAIT, RunningEmulator, User, server_env, stdio_session

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
DELETE = "AYRSHARE_DELETE_DELETE_POST"
SET = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
CREATE = "AYRSHARE_CREATE_AUTO_SCHEDULE"
HTML_502 = Fault(status=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html")


@asynccontextmanager
async def server(
    ayrshare_url: str, home: Path, call_timeout: float = 10.0, attempt_timeout: float | None = None
) -> AsyncIterator[Client]:
    """The real server in this process, its backoff shortened so tests do not wait for it; Ayrshare over HTTP."""
    environ = {"AYRSHARE_BASE_URL": ayrshare_url, "AYRSHARE_API_KEY": API_KEY, "HOME": str(home)}
    settings = replace(
        Settings.from_environ(environ),
        retry_base_delay=0.01,
        call_timeout=call_timeout,
        attempt_timeout=attempt_timeout or call_timeout,
    )
    with anyio.fail_after(call_timeout + 20):
        # A person who says yes whenever a bulk delete asks.
        async with Client(build_server(settings), elicitation_callback=User()) as client:
            yield client


def sent(emulator: RunningEmulator) -> list[tuple[str, str]]:
    return [(request.method, request.path.removeprefix("/api")) for request in emulator.app.requests]


def published_post(emulator: RunningEmulator) -> str:
    return str(emulator.seed_post()["id"])


async def test_a_429_with_retry_after_is_retried_after_that_long(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(
        Fault(status=429, body={"status": "error", "message": "Too many"}, headers={"Retry-After": "0.3"})
    )

    async with server(emulator.url, home) as client:
        await succeed(client, HISTORY, {})

    first, second = emulator.app.requests
    assert sent(emulator) == [("GET", "/history"), ("GET", "/history")]
    # A test of a time-based feature: the wait Ayrshare asked for was kept.
    assert second.arrived - first.arrived >= 0.3


async def test_a_429_without_retry_after_is_retried_with_backoff_for_every_tool_even_delete(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = published_post(emulator)
    emulator.app.inject(Fault(status=429, body={"status": "error", "message": "Too many"}, method="DELETE"))

    async with server(emulator.url, home) as client:
        await succeed(client, DELETE, {"id": post_id})

    assert sent(emulator) == [("DELETE", "/post"), ("DELETE", "/post")]


async def test_a_429_that_persists_ends_after_two_retries_with_when_to_come_back(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=429, body={"status": "error", "message": "Too many"}, times=None))

    async with server(emulator.url, home) as client:
        envelope = await fail(client, HISTORY, {})

    assert sent(emulator) == [("GET", "/history")] * 3
    assert "rate limit" in envelope["error"]
    assert envelope["data"] == {"status": "error", "message": "Too many"}


async def test_a_long_retry_after_is_not_waited_out_and_the_next_call_is_not_sent(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=429, body={"status": "error"}, headers={"Retry-After": "3600"}))

    async with server(emulator.url, home) as client:
        first = await fail(client, HISTORY, {})
        second = await fail(client, HISTORY, {})
        third = await fail(client, DELETE, {"id": "abc"})

    assert sent(emulator) == [("GET", "/history")]
    assert "Try again in about 3600 s" in first["error"]
    assert "nothing was sent" in second["error"]
    assert "nothing was sent" in third["error"]


async def test_when_the_budget_is_spent_calls_are_answered_at_once_without_earning_a_429(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.rate_limit = 2

    async with server(emulator.url, home) as client:
        await succeed(client, HISTORY, {})
        await succeed(client, HISTORY, {})
        refused = await fail(client, HISTORY, {})

    assert len(emulator.app.requests) == 2
    assert "(2 of 2 requests used)" in refused["error"]
    assert "nothing was sent" in refused["error"]
    assert "Try again in about 300 s" in refused["error"]


async def test_a_429_that_spends_the_budget_never_waits_past_the_calls_deadline(
    emulator: RunningEmulator, home: Path
) -> None:
    spent = {"x-ratelimit-max": "300", "x-ratelimit-count": "300"}
    emulator.app.inject(Fault(status=429, body={"status": "error", "message": "Too many"}, headers=spent))

    # The helper's bound is the call's 2 s and 20 s to spare: the budget's window is 300 s.
    async with server(emulator.url, home, call_timeout=2) as client:
        envelope = await fail(client, HISTORY, {})

    assert sent(emulator) == [("GET", "/history")]
    assert "Try again in about 300 s" in envelope["error"]


async def test_a_spent_monthly_post_quota_is_never_retried_and_remembered_until_the_reset(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.monthly_post_quota = 0
    post = published_post(emulator)

    async with server(emulator.url, home) as client:
        first = await fail(client, DELETE, {"id": post})
        second = await fail(client, DELETE, {"id": post})
        await succeed(client, HISTORY, {})

    assert sent(emulator) == [("DELETE", "/post"), ("GET", "/history")]
    assert "monthly post quota (Ayrshare answered 429 with code 106)" in first["error"]
    assert "monthly post quota (nothing was sent)" in second["error"]
    reset = monthly_quota_reset(datetime.now(UTC))
    assert f"resets on {reset:%Y-%m-%d} at 00:07 UTC" in second["error"]
    assert first["data"]["code"] == 106


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        (datetime(2026, 12, 4, 19, 0, tzinfo=UTC), datetime(2027, 1, 1, 0, 7, tzinfo=UTC)),
        (datetime(2026, 12, 1, 0, 6, tzinfo=UTC), datetime(2026, 12, 1, 0, 7, tzinfo=UTC)),
        (datetime(2026, 12, 1, 0, 7, tzinfo=UTC), datetime(2027, 1, 1, 0, 7, tzinfo=UTC)),
        (datetime(2026, 2, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 1, 0, 7, tzinfo=UTC)),
    ],
)
def test_the_monthly_quota_resets_on_the_first_at_seven_past_midnight_utc(now: datetime, reset: datetime) -> None:
    assert monthly_quota_reset(now) == reset


@pytest.mark.parametrize(
    ("headers", "window"),
    [({"Retry-After": "inf"}, False), ({"Retry-After": "nan"}, False),
     ({"x-ratelimit-max": "1", "x-ratelimit-count": "1", "x-ratelimit-reset": "inf"}, True)],
    ids=["Retry-After inf", "Retry-After nan", "reset inf"],
)  # fmt: skip
async def test_a_rate_limit_answer_with_an_endless_wait_does_not_break_the_profile(
    emulator: RunningEmulator, home: Path, headers: dict[str, str], window: bool
) -> None:
    emulator.app.inject(Fault(status=429, body={"status": "error", "message": "Too many"}, headers=headers))

    async with server(emulator.url, home) as client:
        first = await call(client, HISTORY, {})
        second = await call(client, HISTORY, {})

    assert "unexpected error" not in first.get("error", "")
    if window:  # the budget is spent: the profile waits out the 5-minute window, not for ever
        assert "Try again in about 300 s" in second["error"]
    else:
        assert second["successful"] is True


async def test_a_500_is_not_retried(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(Fault(status=500, body={"status": "error", "code": 999, "message": "Boom"}))

    async with server(emulator.url, home) as client:
        envelope = await fail(client, HISTORY, {})

    assert sent(emulator) == [("GET", "/history")]
    assert "HTTP 500, code 999: Boom" in envelope["error"]
    assert "server-side problem" in envelope["error"]


async def test_a_502_with_an_html_body_is_retried_for_history(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(replace(HTML_502))

    async with server(emulator.url, home) as client:
        data = await succeed(client, HISTORY, {})

    assert sent(emulator) == [("GET", "/history")] * 2
    assert data["history"] == []


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_are_retried_when_setting_a_schedule(
    emulator: RunningEmulator, home: Path, status: int
) -> None:
    emulator.app.inject(Fault(status=status, body={"status": "error"}, times=2))

    async with server(emulator.url, home) as client:
        await succeed(client, SET, {"schedule": ["10:00Z"]})

    assert sent(emulator) == [("POST", "/auto-schedule/set")] * 3


async def test_create_retries_its_listing_and_its_setting(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(Fault(status=503, body={"status": "error"}, path="/list"))
    emulator.app.inject(Fault(status=503, body={"status": "error"}, path="/set"))

    async with server(emulator.url, home) as client:
        await succeed(client, CREATE, {"schedule": ["10:00Z"]})

    assert sent(emulator) == [("GET", "/auto-schedule/list")] * 2 + [("POST", "/auto-schedule/set")] * 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=503, body={"status": "error"}),
        replace(HTML_502),
        Fault(status=200, body='{"status": "succ', content_type="application/json"),
        Fault(status=200, body={"status": "success"}, action="reset"),
    ],
    ids=["503", "502-html", "malformed-json", "reset-mid-response"],
)
async def test_a_delete_that_ayrshare_may_have_received_is_never_retried_and_says_how_to_check(
    emulator: RunningEmulator, home: Path, fault: Fault
) -> None:
    post_id = published_post(emulator)
    emulator.app.inject(replace(fault, method="DELETE", times=None))

    async with server(emulator.url, home) as client:
        envelope = await fail(client, DELETE, {"id": post_id})

    assert sent(emulator) == [("DELETE", "/post")]
    assert envelope["error"].startswith("The outcome is unknown")
    assert "status=deleted" in envelope["error"]


async def test_a_delete_slower_than_the_deadline_is_reported_as_unknown_not_retried(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = published_post(emulator)
    emulator.app.inject(Fault(status=200, body={"status": "success"}, method="DELETE", delay=30))

    async with server(emulator.url, home, call_timeout=0.3) as client:
        envelope = await fail(client, DELETE, {"id": post_id})

    assert sent(emulator) == [("DELETE", "/post")]
    assert envelope["error"].startswith("The outcome is unknown")
    assert "in time" in envelope["error"]


async def test_a_read_slower_than_the_deadline_ends_with_a_timeout_error(emulator: RunningEmulator, home: Path) -> None:
    emulator.app.inject(Fault(status=200, body={"history": []}, delay=30, times=None))

    async with server(emulator.url, home, call_timeout=0.3) as client:
        envelope = await fail(client, HISTORY, {})

    assert sent(emulator) == [("GET", "/history")]
    assert "did not answer GET /history in time (this call may take 0.3 s in all)" in envelope["error"]


@pytest.mark.parametrize(
    "fault",
    [Fault(status=200, body='{"history": [', content_type="application/json"), Fault(action="reset", status=200)],
    ids=["malformed-json", "reset-mid-response"],
)
async def test_a_broken_answer_to_a_read_is_tried_again_never_a_crash(
    emulator: RunningEmulator, home: Path, fault: Fault
) -> None:
    emulator.app.inject(replace(fault, body=fault.body if fault.action == "respond" else '{"history": []}'))

    async with server(emulator.url, home) as client:
        await succeed(client, HISTORY, {})

    assert sent(emulator) == [("GET", "/history")] * 2


async def test_a_refused_connection_is_reported_for_every_tool_even_delete(home: Path) -> None:
    with bind() as sock:
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api"

    async with server(closed, home) as client:
        history = await fail(client, HISTORY, {})
        delete = await fail(client, DELETE, {"id": "abc"})

    assert history["error"].startswith("Could not reach Ayrshare at 127.0.0.1")
    assert delete["error"].startswith("Could not reach Ayrshare at 127.0.0.1")


async def test_bulk_deletes_are_never_duplicated_by_any_fault(emulator: RunningEmulator, home: Path) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    ids = [emulator.seed_post(schedule_date=tomorrow)["id"] for _ in range(3)]
    emulator.app.inject(Fault(status=504, body={"status": "error"}, method="DELETE", times=None))

    async with server(emulator.url, home) as client:
        envelope = await fail(client, DELETE, {"bulk": ids})

    assert sent(emulator) == [("DELETE", "/post")]
    assert "post history with status=deleted" in envelope["error"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_cancelled_call_aborts_its_upstream_request(emulator: RunningEmulator, home: Path, mode: str) -> None:
    emulator.app.inject(Fault(status=200, body={"history": []}, delay=60))
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(PROCESS_WAIT):
        async with stdio_session(env, mode=mode, measured=False) as client:
            await client.list_tools()
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, HISTORY, {})
                await emulator.app.wait_for_requests(1)
                tg.cancel_scope.cancel()
            await emulator.app.wait_for_abort(1)
            still_serving = await succeed(client, HISTORY, {})

    [cancelled, after] = emulator.app.requests
    assert cancelled.aborted
    assert not after.aborted
    assert still_serving["history"] == []


async def test_an_unexpected_exception_below_a_tool_becomes_a_tool_error_not_a_protocol_error(home: Path) -> None:
    emulator = EmulatorApp(Ayrshare())
    emulator.inject(Fault(action="crash", method="DELETE"))
    settings = replace(Settings.from_environ({"HOME": str(home)}).as_sandbox(), retry_base_delay=0.01)
    shared = SharedClient(settings, transport=httpx2.ASGITransport(app=emulator))

    with anyio.fail_after(WAIT):
        async with Client(build_server(settings, shared=shared)) as client:
            envelope = await fail(client, DELETE, {"id": "abc"})
            after = await succeed(client, HISTORY, {})

    assert envelope["error"].startswith("ayrshare-mcp hit an unexpected error (RuntimeError)")
    assert "check post history (status=deleted)" in envelope["error"]
    assert after["history"] == []


async def test_a_slow_attempt_at_a_read_is_retried_within_the_calls_deadline(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=200, body={"history": []}, delay=30))

    async with server(emulator.url, home, call_timeout=10.0, attempt_timeout=0.5) as client:
        await succeed(client, HISTORY, {})

    first, second = emulator.app.requests
    assert sent(emulator) == [("GET", "/history")] * 2
    assert first.aborted
    assert not second.aborted


async def test_a_slow_attempt_at_a_delete_is_not_retried_and_its_outcome_is_unknown(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = published_post(emulator)
    emulator.app.inject(Fault(status=200, body={"status": "success"}, delay=30, method="DELETE"))

    async with server(emulator.url, home, call_timeout=10.0, attempt_timeout=0.5) as client:
        envelope = await fail(client, DELETE, {"id": post_id})

    assert sent(emulator) == [("DELETE", "/post")]
    assert envelope["error"].startswith("The outcome is unknown")
    assert "each attempt may take 0.5 s, this call may take 10 s in all" in envelope["error"]


async def test_a_cookie_ayrshare_sets_for_one_caller_is_never_sent_for_another(
    emulator: RunningEmulator, home: Path
) -> None:
    # The attack: a shared pool that kept cookies would carry caller A's cookie into caller B's request.
    emulator.app.inject(Fault(status=200, body={"history": []}, headers={"Set-Cookie": "session=for-caller-a; Path=/"}))

    async with server(emulator.url, home) as client:
        await succeed(client, HISTORY, {"Profile-Key": "PROFILE-OF-CALLER-A"})
        await succeed(client, HISTORY, {"Profile-Key": "PROFILE-OF-CALLER-B"})
        await succeed(client, HISTORY, {"Profile-Key": "PROFILE-OF-CALLER-A"})

    assert [request.header("cookie") for request in emulator.app.requests] == [None, None, None]


async def test_an_answer_larger_than_10_mb_is_not_read_and_says_so(emulator: RunningEmulator, home: Path) -> None:
    huge = '{"history": [], "padding": "' + "x" * 11_000_000 + '"}'
    emulator.app.inject(Fault(status=200, body=huge, times=None))

    async with server(emulator.url, home) as client:
        envelope = await fail(client, HISTORY, {})

    assert "larger than 10 MB" in envelope["error"]
    assert sent(emulator) == [("GET", "/history")]
