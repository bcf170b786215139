"""The posts toolset through the MCP client, against the emulator: a post goes out at most once, a person sees what
goes public now, local checks run before Ayrshare sees anything, and a partial success is never a plain success."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ayrshare_mcp.emulator import Fault
from tests.envelope import call, fail, succeed
from tests.support import (
    PROFILE_KEY,
    X_API_KEY,
    X_API_SECRET,
    RunningEmulator,
    User,
    posts_sent,
    stored,
    with_every_toolset,
)

pytestmark = pytest.mark.anyio

CREATE, VALIDATE, GET = "AYRSHARE_CREATE_POST", "AYRSHARE_VALIDATE_POST", "AYRSHARE_GET_POST"
UPDATE, RETRY = "AYRSHARE_UPDATE_POST", "AYRSHARE_RETRY_POST"
SET_SCHEDULE, HISTORY = "AYRSHARE_POST_SET_AUTO_SCHEDULE", "AYRSHARE_GET_POST_HISTORY"
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 and the 2025-11-25 handshake
NOW_POST: dict[str, Any] = {"post": "Launch day: we are live!", "platforms": ["linkedin", "facebook"]}


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- a person sees what goes public now ------------------------------------------------------------------------


@ERAS
async def test_a_post_published_now_is_shown_to_the_person_first_and_goes_out_after_yes(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person, mode=mode) as client:
        answer = await succeed(client, CREATE, NOW_POST | {"mediaUrls": ["https://img.example/launch.png"]})
        fetched = await succeed(client, GET, {"id": answer["id"]})

    [question] = person.questions
    assert "Launch day: we are live!" in question
    assert "linkedin, facebook" in question
    assert "now" in question
    assert "https://img.example/launch.png" in question
    assert (fetched["status"], fetched["post"]) == ("success", NOW_POST["post"])
    assert len(posts_sent(emulator)) == 1


@ERAS
async def test_a_post_the_person_declines_is_never_sent(emulator: RunningEmulator, home: Path, mode: str) -> None:
    async with with_every_toolset(emulator, home, person=User("accept", confirm=False), mode=mode) as client:
        refused = await fail(client, CREATE, NOW_POST)

    assert refused["error"].startswith("Nothing was published: the user declined")
    assert posts_sent(emulator) == []


@ERAS
async def test_by_default_a_post_nobody_can_confirm_is_held_for_approval_and_says_so(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    async with with_every_toolset(emulator, home, mode=mode) as client:
        envelope = await call(client, CREATE, NOW_POST)

    assert envelope["successful"] is True
    assert "awaiting approval" in envelope["notice"]
    assert "AYRSHARE_PUBLISH=approval" in envelope["notice"]
    [sent] = posts_sent(emulator)
    assert sent["requiresApproval"] is True
    assert stored(emulator)[0]["status"] == "awaiting approval"


async def test_with_publish_direct_a_post_nobody_can_confirm_is_published_as_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        envelope = await call(client, CREATE, NOW_POST)

    assert envelope["successful"] is True
    assert "notice" not in envelope
    [sent] = posts_sent(emulator)
    assert "requiresApproval" not in sent
    assert stored(emulator)[0]["status"] == "success"


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        ({"scheduleDate": "2030-01-01T09:00:00Z"}, "at 2030-01-01T09:00:00Z UTC (in "),
        ({"requiresApproval": True}, "It is held as awaiting approval until someone approves it."),
    ],
    ids=["scheduled", "approval"],
)
async def test_every_post_is_asked_about_whenever_it_goes_out_and_a_model_cannot_skip_the_question(
    emulator: RunningEmulator, home: Path, when: dict[str, Any], shown: str
) -> None:
    person = User("accept", confirm=False)

    async with with_every_toolset(emulator, home, person=person) as client:
        refused = await fail(client, CREATE, NOW_POST | when)

    [question] = person.questions
    assert shown in question
    assert refused["error"].startswith("Nothing was published: the user declined")
    assert posts_sent(emulator) == []


# --- from a schedule to a published, auto-scheduled post (the README's walk-through) ---------------------------


async def test_a_post_into_an_auto_schedule_takes_its_next_free_slot_on_an_allowed_day(
    emulator: RunningEmulator, home: Path
) -> None:
    schedule = {"title": "weekday mornings", "schedule": ["09:30Z"], "daysOfWeek": [1, 2, 3, 4, 5]}
    post = {"post": "Tip of the day", "platforms": ["linkedin"], "autoScheduleTitle": "weekday mornings"}

    async with with_every_toolset(emulator, home, person=User()) as client:
        await succeed(client, SET_SCHEDULE, schedule)
        first = await succeed(client, CREATE, post)
        second = await succeed(client, CREATE, post | {"post": "Another tip"})
        history = await succeed(client, HISTORY, {"status": "pending"})

    slots = [datetime.fromisoformat(answer["scheduleDate"]) for answer in (first, second)]
    assert all(slot.strftime("%H:%M") == "09:30" and slot.isoweekday() <= 5 for slot in slots)
    assert slots[0] < slots[1]
    assert posts_sent(emulator)[0]["autoSchedule"] == {"schedule": True, "title": "weekday mornings"}
    assert {entry["id"] for entry in history["history"]} == {first["id"], second["id"]}


async def test_an_auto_scheduled_post_skips_the_schedules_excluded_dates(emulator: RunningEmulator, home: Path) -> None:
    today = datetime.now(UTC).date()
    tomorrow, day_after = today + timedelta(days=1), today + timedelta(days=2)
    schedule = {"title": "daily", "schedule": ["00:00Z"], "daysOfWeek": list(range(7))}

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        await succeed(client, SET_SCHEDULE, schedule | {"excludeDates": [tomorrow.isoformat()]})
        placed = await succeed(client, CREATE, NOW_POST | {"autoScheduleTitle": "daily"})

    assert placed["scheduleDate"] == f"{day_after.isoformat()}T00:00:00Z"


# --- local checks, before Ayrshare sees anything -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"scheduleDate": "2020-01-01T00:00:00Z"}, "not at least 5 minutes from now"),
        ({"scheduleDate": later(minutes=1)}, "leave scheduleDate out to publish now"),
        ({"mediaUrls": ["http://img.example/a.png"]}, "mediaUrls"),
        ({"scheduleDate": later(days=1), "autoScheduleTitle": "default"}, "not both"),
        ({"post": " ", "platforms": ["linkedin"]}, "no text and no media"),
        ({"platforms": ["x"]}, "platforms"),
    ],
    ids=["past date", "date a minute away", "http media", "date and schedule", "empty post", "unknown network"],
)
async def test_bad_post_arguments_are_refused_before_anything_is_sent(
    emulator: RunningEmulator, home: Path, arguments: dict[str, Any], expected: str
) -> None:
    async with with_every_toolset(emulator, home, person=User()) as client:
        refused = await fail(client, CREATE, NOW_POST | arguments)

    assert expected in refused["error"]
    assert refused["error"].endswith("Nothing was sent to Ayrshare.")
    assert emulator.app.requests == []


async def test_a_post_into_a_schedule_that_does_not_exist_is_refused_naming_the_tool_that_creates_it(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        await succeed(client, SET_SCHEDULE, {"title": "evenings", "schedule": ["19:00Z"]})
        refused = await fail(client, CREATE, NOW_POST | {"autoScheduleTitle": "mornings"})

    assert "No auto schedule is titled 'mornings'" in refused["error"]
    assert "The schedules are: evenings." in refused["error"]
    assert "AYRSHARE_CREATE_AUTO_SCHEDULE" in refused["error"]
    assert posts_sent(emulator) == []


async def test_a_post_to_a_network_the_profile_has_not_linked_is_refused_before_it_is_sent(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.linked_platforms = ["linkedin"]

    async with with_every_toolset(emulator, home, person=User()) as client:
        refused = await fail(client, CREATE, NOW_POST)

    assert "Not linked to this Ayrshare profile: facebook (linked: linkedin)" in refused["error"]
    assert posts_sent(emulator) == []


async def test_when_the_linked_networks_cannot_be_read_the_post_still_goes_to_ayrshare(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=403, body={"status": "error", "code": 999}, path="/user", times=None))

    async with with_every_toolset(emulator, home, person=User()) as client:
        await succeed(client, CREATE, NOW_POST)

    assert len(posts_sent(emulator)) == 1


# --- at most once ------------------------------------------------------------------------------------------------


async def test_the_same_call_made_twice_is_sent_once(emulator: RunningEmulator, home: Path) -> None:
    scheduled = NOW_POST | {"scheduleDate": later(days=2)}

    async with with_every_toolset(emulator, home) as client:
        await succeed(client, CREATE, scheduled)
        second = await fail(client, CREATE, scheduled)

    [sent] = posts_sent(emulator)
    assert sent["idempotencyKey"].startswith("mcp-")
    assert "already submitted" in second["error"]
    assert "AYRSHARE_GET_POST_HISTORY" in second["error"]


@pytest.mark.parametrize("repeat", ["reject", "replay"])
async def test_the_same_call_made_again_after_a_restart_publishes_one_post(
    emulator: RunningEmulator, home: Path, repeat: str
) -> None:
    emulator.service.switches.idempotency_repeat = repeat  # type: ignore[assignment]
    scheduled = NOW_POST | {"scheduleDate": later(days=2)}

    async with with_every_toolset(emulator, home) as client:
        first = await succeed(client, CREATE, scheduled)
    async with with_every_toolset(emulator, home) as restarted:
        second = await call(restarted, CREATE, scheduled)

    keys = [body["idempotencyKey"] for body in posts_sent(emulator)]
    assert keys[0] == keys[1]
    assert len(stored(emulator)) == 1
    if repeat == "reject":
        assert second["successful"] is False
        assert "already submitted" in second["error"]
    else:
        assert second["data"]["id"] == first["id"]


async def test_different_posts_and_a_callers_own_key_get_different_keys(emulator: RunningEmulator, home: Path) -> None:
    scheduled = NOW_POST | {"scheduleDate": later(days=2)}

    async with with_every_toolset(emulator, home) as client:
        await succeed(client, CREATE, scheduled)
        await succeed(client, CREATE, scheduled | {"post": "Something else"})
        await succeed(client, CREATE, scheduled | {"idempotencyKey": "campaign-42:launch"})

    keys = [body["idempotencyKey"] for body in posts_sent(emulator)]
    assert len(set(keys)) == 3
    assert keys[2] == "campaign-42:launch"


async def test_a_create_whose_answer_is_lost_is_not_sent_again_and_says_how_to_check(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(action="reset", method="POST", path="/api/post"))

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        refused = await fail(client, CREATE, NOW_POST)

    assert len(posts_sent(emulator)) == 1
    assert "post history" in refused["error"]
    assert "idempotencyKey" in refused["error"]


# --- partial success is an error ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 200])
@pytest.mark.parametrize("profile", [False, True], ids=["flat answer", "wrapped answer (Profile-Key)"])
async def test_a_post_some_networks_refused_is_an_error_naming_each_and_the_way_to_retry(
    emulator: RunningEmulator, home: Path, status: int, profile: bool
) -> None:
    emulator.service.switches.failing_platforms = ["facebook"]
    emulator.service.switches.partial_failure_status = status
    arguments = NOW_POST | ({"Profile-Key": PROFILE_KEY} if profile else {})

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        refused = await fail(client, CREATE, arguments)

    post_id = stored(emulator, PROFILE_KEY if profile else None)[0]["id"]
    assert refused["error"].startswith("Partly published: on linkedin, but not on facebook (code 137:")
    assert "Ayrshare can retry it" in refused["error"]
    assert "Do not create the post again" in refused["error"]
    assert f"AYRSHARE_RETRY_POST (id {post_id}" in refused["error"]
    assert refused["data"]  # Ayrshare's answer, for the model to read


async def test_a_post_no_network_took_is_an_error_that_says_nothing_was_published(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.failing_platforms = ["linkedin", "facebook"]

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        refused = await fail(client, CREATE, NOW_POST)

    assert refused["error"].startswith("Nothing was published: linkedin (code 137:")
    assert "AYRSHARE_RETRY_POST" in refused["error"]


# --- validate ----------------------------------------------------------------------------------------------------


async def test_validating_a_post_publishes_nothing_and_asks_nobody(emulator: RunningEmulator, home: Path) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        answer = await succeed(client, VALIDATE, NOW_POST)

    assert answer["status"] == "success"
    assert person.questions == []
    assert posts_sent(emulator) == []
    assert stored(emulator) == []
    assert [request.body for request in emulator.app.received("/validate/post")] == [NOW_POST]


# --- update and approve ------------------------------------------------------------------------------------------


async def test_a_pending_post_can_be_moved_later_and_annotated_without_a_question(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User()
    new_time = later(days=3)

    async with with_every_toolset(emulator, home, person=person) as client:
        created = await succeed(client, CREATE, NOW_POST | {"scheduleDate": later(days=1)})
        await succeed(client, UPDATE, {"id": created["id"], "scheduleDate": new_time, "notes": "moved for launch"})
        fetched = await succeed(client, GET, {"id": created["id"]})

    assert (fetched["scheduleDate"], fetched["notes"], fetched["status"]) == (new_time, "moved for launch", "pending")
    assert len(person.questions) == 1, "only the create asked"


@ERAS
async def test_approving_a_post_shows_its_text_networks_and_time_and_publishes_after_yes(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person, mode=mode) as client:
        held = await succeed(client, CREATE, NOW_POST | {"requiresApproval": True})
        await succeed(client, UPDATE, {"id": held["id"], "approved": True})
        fetched = await succeed(client, GET, {"id": held["id"]})

    [_, question] = person.questions
    assert question.startswith("Approve and publish this post now")
    assert NOW_POST["post"] in question
    assert "linkedin, facebook" in question
    assert fetched["status"] == "success"


@pytest.mark.parametrize("publish", ["approval", "direct"])
async def test_approving_when_nobody_can_be_asked_follows_the_operators_choice(
    emulator: RunningEmulator, home: Path, publish: str
) -> None:
    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH=publish) as client:
        held = await succeed(client, CREATE, NOW_POST | {"requiresApproval": True})
        envelope = await call(client, UPDATE, {"id": held["id"], "approved": True})

    updates = emulator.app.received("/api/post", method="PUT")
    if publish == "approval":
        assert "cannot ask a person to confirm" in envelope["error"]
        assert updates == []
    else:
        assert envelope["successful"] is True
        assert stored(emulator)[0]["status"] == "success"


async def test_approved_false_is_refused_with_how_to_reject(emulator: RunningEmulator, home: Path) -> None:
    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, UPDATE, {"id": "abc123", "approved": False})

    assert "delete it" in refused["error"]
    assert emulator.app.requests == []


# --- retry -------------------------------------------------------------------------------------------------------


async def test_a_failed_post_is_retried_once_after_the_person_sees_the_failed_networks(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.failing_platforms = ["facebook"]
    person = User()

    async with with_every_toolset(emulator, home, person=person, AYRSHARE_PUBLISH="direct") as client:
        await fail(client, CREATE, NOW_POST)
        post_id = stored(emulator)[0]["id"]
        person.questions.clear()
        await succeed(client, RETRY, {"id": post_id})
        fetched = await succeed(client, GET, {"id": post_id})

    [question] = person.questions
    assert "again now on facebook for the Ayrshare profile 'Primary Profile'?" in question
    assert fetched["status"] == "pending"


async def test_retrying_a_post_that_did_not_fail_is_refused_and_sends_no_retry(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        created = await succeed(client, CREATE, NOW_POST)
        refused = await fail(client, RETRY, {"id": created["id"]})

    assert "has status 'success'" in refused["error"]
    assert emulator.app.received("/post/retry") == []


# --- the X pair --------------------------------------------------------------------------------------------------


async def test_a_post_to_x_without_the_x_pair_says_which_settings_to_add_and_with_it_goes_out(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.x_credentials_required = True
    to_x = {"post": "Hello X", "platforms": ["twitter"], "scheduleDate": later(days=1)}

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, CREATE, to_x)
    async with with_every_toolset(
        emulator, home, AYRSHARE_X_API_KEY=X_API_KEY, AYRSHARE_X_API_SECRET=X_API_SECRET
    ) as client:
        await succeed(client, CREATE, to_x | {"post": "Hello again X"})

    assert "AYRSHARE_X_API_KEY" in refused["error"]
    assert X_API_SECRET not in str(refused)
    [post] = stored(emulator)
    assert post["post"] == "Hello again X"
    assert emulator.app.received("/api/post", method="POST")[-1].header("x-twitter-oauth1-api-key") == X_API_KEY
