"""Arguments are checked before anything reaches Ayrshare, and errors say what to change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import MCPError

from tests.envelope import fail, succeed
from tests.support import API_KEY, PROFILE_KEY, WAIT, RunningEmulator, User, memory_client, settings_for

pytestmark = pytest.mark.anyio

CREATE = "AYRSHARE_CREATE_AUTO_SCHEDULE"
SET = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
DELETE = "AYRSHARE_DELETE_DELETE_POST"
HISTORY = "AYRSHARE_GET_POST_HISTORY"

INVALID: list[tuple[str, dict[str, Any], str]] = [
    (CREATE, {}, "'schedule' is required"),
    (SET, {"schedule": []}, "at least 1 item"),
    (SET, {"schedule": ["25:00Z"]}, "'schedule.0': String should match pattern"),
    (SET, {"schedule": ["13:05"]}, "'schedule.0': String should match pattern"),
    (SET, {"schedule": ["13:05Z", "13:05Z"]}, "remove the duplicate 13:05Z"),
    (SET, {"schedule": "13:05Z"}, "'schedule': Input should be a valid list"),
    (SET, {"schedule": ["13:05Z"], "daysOfWeek": [1, 7]}, "'daysOfWeek.1': Input should be less than or equal to 6"),
    (SET, {"schedule": ["13:05Z"], "daysOfWeek": ["1"]}, "'daysOfWeek.0': Input should be a valid integer"),
    (SET, {"schedule": ["13:05Z"], "title": "a/b"}, "'title': String should match pattern"),
    (SET, {"schedule": ["13:05Z"], "excludeDates": ["2026-02-30"]}, "not a real calendar date"),
    (SET, {"schedule": ["13:05Z"], "excludeDates": ["12/25/2026"]}, "'excludeDates.0': String should match"),
    (SET, {"schedule": ["13:05Z"], "setStartDate": "tomorrow"}, "'setStartDate': String should match pattern"),
    (SET, {"schedule": ["13:05Z"], "Profile-Key": ""}, "'Profile-Key': String should have at least 1"),
    (DELETE, {}, "Say what to delete"),
    (DELETE, {"id": "abc", "bulk": ["def"]}, "either id (one post) or bulk"),
    (DELETE, {"deleteAllScheduled": False}, "Say what to delete"),
    (DELETE, {"deleteAllScheduled": True, "id": "abc"}, "send it alone"),
    (DELETE, {"deleteAllScheduled": "true"}, "'deleteAllScheduled': Input should be a valid boolean"),
    (DELETE, {"id": 12345}, "'id': Input should be a valid string"),
    (DELETE, {"id": "has spaces"}, "'id': String should match pattern"),
    (DELETE, {"bulk": []}, "'bulk': Value should have at least 1 item"),
    (HISTORY, {"startDate": "2026-02-01T00:00:00Z", "endDate": "2026-01-01T00:00:00Z"}, "is after endDate"),
    (HISTORY, {"limit": 0}, "'limit': Input should be greater than or equal to 1"),
    (HISTORY, {"limit": 1001}, "'limit': Input should be less than or equal to 1000"),
    (HISTORY, {"limit": "10"}, "'limit': Input should be a valid integer"),
    (HISTORY, {"lastDays": -1}, "'lastDays': Input should be greater than or equal to 0"),
    (HISTORY, {"limit": 10, "lastRecords": 10}, "send only limit"),
    (HISTORY, {"status": "published"}, "'status': Input should be 'success', 'error'"),
    (HISTORY, {"platforms": ["myspace"]}, "'platforms.0': Input should be 'bluesky'"),
    (HISTORY, {"type": "now"}, "'type': Input should be 'immediate' or 'scheduled'"),
    (HISTORY, {"startDate": "2026-13-01T00:00:00Z"}, "not a real date and time"),
    (HISTORY, {"startDate": "0999-01-01T00:00:00Z"}, "'startDate': is before 1970, earlier than any post can be"),
    (SET, {"schedule": ["13:05Z"], "title": "evening\nslots"}, "'title': contains the control character U+000A"),
    (SET, {"schedule": ["13:05Z"], "title": "nul\u0000byte"}, "'title': contains the control character U+0000"),
    (
        SET,
        {"schedule": ["13:05Z"], "title": "\u202egninrom"},
        "'title': contains the invisible or formatting character U+202E",
    ),
    (
        SET,
        {"schedule": ["13:05Z"], "title": "a\u2028b"},
        "'title': contains the invisible or formatting character U+2028",
    ),
    (SET, {"schedule": ["13:05Z"], "title": "weekday\u200b"}, "contains the invisible or formatting character U+200B"),
    (SET, {"schedule": ["13:05Z"], "title": "tag\U000e0041"}, "contains the invisible or formatting character U+E0041"),
    (SET, {"schedule": ["13:05Z"], "title": "v\U000e0100s"}, "contains the invisible or formatting character U+E0100"),
    (SET, {"schedule": ["13:05Z"], "title": "a\ufe00b"}, "contains the invisible or formatting character U+FE00"),
    (SET, {"schedule": ["13:05Z"], "title": "m\u180fn"}, "contains the invisible or formatting character U+180F"),
    (SET, {"schedule": ["13:05Z"], "title": "e\ufe0fx"}, "contains the invisible or formatting character U+FE0F"),
    (SET, {"schedule": ["13:05Z"], "title": "Caf\u00e9\ufe0f"}, "the invisible or formatting character U+FE0F"),
    (HISTORY, {"profileKey": "x"}, "Unknown parameter 'profileKey'; the parameters are: "),
]


@pytest.mark.parametrize(("tool", "arguments", "expected"), INVALID)
async def test_invalid_arguments_get_an_error_that_names_the_problem_and_ayrshare_is_not_called(
    emulator: RunningEmulator, home: Path, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)) as client:
            envelope = await fail(client, tool, arguments)

    assert expected in envelope["error"]
    assert envelope["error"].startswith(f"Invalid arguments for {tool}: ")
    assert envelope["data"] == {}
    assert emulator.app.requests == []


async def test_an_invalid_profile_key_is_never_echoed_in_the_error(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)) as client:
            envelope = await fail(client, HISTORY, {"Profile-Key": PROFILE_KEY + " with a space"})

    assert "'Profile-Key': String should match pattern" in envelope["error"]
    assert PROFILE_KEY not in envelope["error"]


async def test_an_unknown_tool_is_a_protocol_error(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)) as client:
            with pytest.raises(MCPError) as raised:
                await client.call_tool("AYRSHARE_PUBLISH_POST", {})

    assert raised.value.error.code == -32602


async def test_arrays_sent_as_json_text_are_accepted_as_arrays(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)) as client:
            await succeed(client, SET, {"schedule": '["08:00Z", "17:30Z"]', "daysOfWeek": "[1, 5]"})

    [request] = emulator.app.requests
    assert request.body == {"schedule": ["08:00Z", "17:30Z"], "daysOfWeek": [1, 5], "title": "default"}


async def test_dates_reach_ayrshare_in_utc_with_a_z_whatever_offset_was_given(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)) as client:
            await succeed(client, SET, {"schedule": ["08:00Z"], "setStartDate": "2026-07-08T14:30:00+02:00"})
            await succeed(client, HISTORY, {"startDate": "2026-07-01T00:00", "endDate": "2026-07-31T23:59:59.5Z"})

    schedule_request, history_request = emulator.app.requests
    assert schedule_request.body["setStartDate"] == "2026-07-08T12:30:00Z"
    assert history_request.query_dict()["startDate"] == "2026-07-01T00:00:00Z"
    assert history_request.query_dict()["endDate"] == "2026-07-31T23:59:59Z"


async def test_each_delete_form_sends_only_what_was_asked(emulator: RunningEmulator, home: Path) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    scheduled = emulator.seed_post(schedule_date=tomorrow)
    other = emulator.seed_post(schedule_date=tomorrow + timedelta(hours=1))
    manual = emulator.seed_post(platforms=["instagram"])

    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY), person=User()) as client:
            await succeed(client, DELETE, {"bulk": [scheduled["id"], other["id"]]})
            await succeed(client, DELETE, {"id": manual["id"], "markManualDeleted": True})
            await succeed(client, DELETE, {"deleteAllScheduled": True})

    assert [request.body for request in emulator.app.received("/post", method="DELETE")] == [
        {"bulk": [scheduled["id"], other["id"]]},
        {"id": manual["id"], "markManualDeleted": True},
        {"deleteAllScheduled": True},
    ]
