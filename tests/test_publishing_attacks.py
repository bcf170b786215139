"""Attacks on publishing, each written before its defence (from an independent review): ways a post could go out
unseen, twice, or be reported a success when it was not; and what the person is shown."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.tools.post_keys import derived_key
from ayrshare_mcp.tools.spec import KEPT_CHANGING, MAX_ASKS
from tests.envelope import call, fail, succeed
from tests.support import API_KEY, PROFILE_KEY, WAIT, RunningEmulator, User, posts_sent, stored, with_every_toolset

pytestmark = pytest.mark.anyio

CREATE, GET, UPDATE, RETRY = "AYRSHARE_CREATE_POST", "AYRSHARE_GET_POST", "AYRSHARE_UPDATE_POST", "AYRSHARE_RETRY_POST"
SET_SCHEDULE = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
POST: dict[str, Any] = {"post": "Launch day: we are live!", "platforms": ["linkedin", "facebook"]}
IMAGE = "https://img.example/unseen.png"


async def a_failed_post(emulator: RunningEmulator, home: Path, **extra: Any) -> str:
    emulator.service.switches.failing_platforms = ["facebook"]
    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        await fail(client, CREATE, POST | extra)
    emulator.app.requests.clear()
    return str(stored(emulator)[0]["id"])


# --- a post that goes out unseen ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "someone", [True, False], ids=["a person is asked", "nobody to ask, on an account seen to hold posts: held"]
)
async def test_a_post_into_a_schedule_slot_minutes_away_is_asked_about_or_held(
    emulator: RunningEmulator, home: Path, someone: bool
) -> None:
    slot = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0)
    person = User() if someone else None

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, SET_SCHEDULE, {"title": "asap", "schedule": [f"{slot:%H:%M}Z"]})
        if person is None:
            await succeed(client, CREATE, POST | {"post": "First held a day ahead: the account holds posts"})
        envelope = await call(client, CREATE, POST | {"autoScheduleTitle": "asap"})

    sent = posts_sent(emulator)[-1]
    if person is not None:
        [question] = person.questions
        assert f"in the auto schedule 'asap', whose next free slot is {slot:%Y-%m-%dT%H:%M:%S}Z UTC (in " in question
        assert envelope["successful"] is True, "the person agreed to that very slot"
    else:
        assert sent["requiresApproval"] is True
        assert "awaiting approval" in envelope["notice"]


async def test_a_post_into_a_schedule_shows_the_slot_ayrshare_should_pick_after_its_last_used_one(
    emulator: RunningEmulator, home: Path
) -> None:
    today = datetime.now(UTC).date()
    start = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    excluded = today + timedelta(days=2)
    schedule = {
        "title": "later",
        "schedule": ["18:30Z", "09:15Z"],
        "setStartDate": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "excludeDates": [excluded.isoformat()],
    }
    person = User("decline", confirm=False)
    emulator.service.switches.list_shows_start_date = True

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, SET_SCHEDULE, schedule)
        await fail(client, CREATE, POST | {"autoScheduleTitle": "later"})

    [question] = person.questions
    expected = today + timedelta(days=3)
    # Two and a half to three and a third days away, by the time of day the test runs.
    assert re.search(rf"whose next free slot is {expected.isoformat()}T09:15:00Z UTC \(in [23] days\)", question)
    assert "Ayrshare makes the final choice" in question
    assert "daysOfWeek is not set" in question


async def test_a_retry_is_checked_and_asked_about_from_one_lookup_so_a_status_change_cannot_skip_the_question(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = await a_failed_post(emulator, home)
    processing = {"id": post_id, "status": "processing", "post": POST["post"]}
    emulator.app.inject(Fault(status=200, body=processing, method="GET", path=f"/post/{post_id}"))

    async with with_every_toolset(emulator, home) as client:  # nobody to ask, approval mode
        first = await fail(client, RETRY, {"id": post_id})
        second = await fail(client, RETRY, {"id": post_id})

    assert "has status 'processing'" in first["error"]
    assert "cannot ask a person to confirm" in second["error"]
    assert emulator.app.received("/post/retry") == []


async def test_approving_shows_the_media_that_will_be_published(emulator: RunningEmulator, home: Path) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        held = await succeed(client, CREATE, POST | {"requiresApproval": True, "mediaUrls": [IMAGE]})
        await succeed(client, UPDATE, {"id": held["id"], "approved": True})

    [_, approval] = person.questions
    assert IMAGE in approval


async def test_retrying_shows_the_media_that_will_be_published(emulator: RunningEmulator, home: Path) -> None:
    post_id = await a_failed_post(emulator, home, mediaUrls=[IMAGE])
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, RETRY, {"id": post_id})

    [question] = person.questions
    assert IMAGE in question


@pytest.mark.parametrize(
    ("hidden", "shown"),
    [
        ("\x1b[8mbuy-cheap.example\x1b[0m", "<U+001B>[8mbuy-cheap.example"),
        ("innocent\rbuy-cheap.example", "innocent<U+000D>buy-cheap.example"),
        ("\u202eelpmaxe.paehc-yub", "<U+202E>elpmaxe.paehc-yub"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("top" + "\n" * 400 + "buy-cheap.example", "top\n\n<399 blank lines>\nbuy-cheap.example"),
        ("top" + "\n \n" * 300 + "buy-cheap.example", "top\n\n<599 blank lines>\nbuy-cheap.example"),
        ("visible\U000e0069\U000e0067\U000e006e", "visible<U+E0069><U+E0067><U+E006E>"),
        ("soft\u00adhyphen \u3164 \u2800 \u061c", "soft<U+00AD>hyphen <U+3164> <U+2800> <U+061C>"),
        ("carried\ufe00\ufe01\ufe02", "carried<U+FE00><U+FE01><U+FE02>"),
        ("B\U000e0132ig l\U000e0139aunch", "B<U+E0132>ig l<U+E0139>aunch"),
        ("mongolian\u180f selector", "mongolian<U+180F> selector"),
        ("ascii\ufe0f style", "ascii<U+FE0F> style"),
        ("heart \u2764\ufe0f\ufe0f twice", "heart \u2764\ufe0f<U+FE0F> twice"),
        ("\u043f\ufe0f\u0440\ufe0e\u0438", "\u043f<U+FE0F>\u0440<U+FE0E>\u0438"),
        ("caf\u00e9\ufe0f", "caf\u00e9<U+FE0F>"),
        ("2025\ufe0f-12\ufe0e-31", "2025<U+FE0F>-12<U+FE0E>-31"),
    ],
    ids=[
        "ANSI conceal",
        "carriage return",
        "bidi override",
        "zero width",
        "400 newlines",
        "blank-looking lines",
        "tag characters",
        "fillers and marks",
        "variation selector run",
        "one selector a character, a byte each",
        "Mongolian selector",
        "emoji style on a plain letter",
        "a second style after an emoji",
        "styles after Cyrillic letters",
        "a style after an accented letter",
        "styles after digits that are no keycap",
    ],
)
async def test_text_that_would_hide_itself_in_the_question_is_shown_visibly(
    emulator: RunningEmulator, home: Path, hidden: str, shown: str
) -> None:
    person = User("decline", confirm=False)

    async with with_every_toolset(emulator, home, person=person) as client:
        await fail(client, CREATE, POST | {"post": hidden})

    [question] = person.questions
    assert shown in question
    assert f"It is {len(hidden)} characters long" in question


async def test_the_question_names_the_profile_the_post_goes_to(emulator: RunningEmulator, home: Path) -> None:
    person = User("decline", confirm=False)

    async with with_every_toolset(emulator, home, person=person) as client:
        await fail(client, CREATE, POST | {"Profile-Key": PROFILE_KEY})

    [question] = person.questions
    assert f"for the Ayrshare profile {emulator.service.profile(API_KEY, PROFILE_KEY).title!r}" in question
    assert PROFILE_KEY not in question


async def test_on_the_2026_era_a_yes_to_one_time_does_not_approve_a_post_moved_meanwhile(
    emulator: RunningEmulator, home: Path
) -> None:
    moved_to = (datetime.now(UTC) + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    questions: list[str] = []

    async def person_while_the_model_moves_the_post(
        context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        questions.append(params.message)
        if len(questions) == 2:  # between the approval's question and its answer
            stored(emulator)[0]["scheduleDate"]["utc"] = moved_to
        return ElicitResult(action="accept", content={"confirm": True})

    async with with_every_toolset(emulator, home, person=person_while_the_model_moves_the_post) as client:
        held = await succeed(client, CREATE, POST | {"requiresApproval": True, "scheduleDate": "2030-01-01T09:00:00Z"})
        await succeed(client, UPDATE, {"id": held["id"], "approved": True})

    [_, before, after] = questions  # the create, then the approval, asked again once the post had moved
    assert "at 2030-01-01T09:00:00Z" in before
    assert f"at {moved_to}" in after


async def test_a_person_slower_than_the_call_timeout_still_gets_their_post_published(
    emulator: RunningEmulator, home: Path
) -> None:
    async def slow_person(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        await anyio.sleep(0.6)  # a person reading, longer than the whole call may take
        return ElicitResult(action="accept", content={"confirm": True})

    async with with_every_toolset(emulator, home, person=slow_person, mode="legacy", AYRSHARE_TIMEOUT="0.5") as client:
        await succeed(client, CREATE, POST)

    assert stored(emulator)[0]["status"] == "success"


async def test_a_question_left_unanswered_past_the_window_sends_nothing(emulator: RunningEmulator, home: Path) -> None:
    answered = anyio.Event()

    async def away_from_the_desk(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        await answered.wait()  # the person comes back only after the server gave up
        return ElicitResult(action="accept", content={"confirm": True})

    async with with_every_toolset(
        emulator, home, person=away_from_the_desk, mode="legacy", confirmation_seconds=0.2
    ) as client:
        refused = await fail(client, CREATE, POST)
        answered.set()

    assert refused["error"].startswith("Nothing was sent: the question went unanswered in time")
    assert posts_sent(emulator) == []


async def test_a_post_that_keeps_changing_while_the_person_answers_is_not_approved(
    emulator: RunningEmulator, home: Path
) -> None:
    # On the 2025 era one call asks again while the post moves, up to MAX_ASKS times; on 2026-07-28 each new round
    # is a new call, which asks about the post as it now is (test_on_the_2026_era_a_yes_to_one_time_...).
    questions: list[str] = []

    async def approves_while_it_moves(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        questions.append(params.message)
        if len(questions) > 1:  # every question about the approval: the post moves before the yes arrives
            moved = datetime.now(UTC) + timedelta(hours=len(questions))
            stored(emulator)[0]["scheduleDate"]["utc"] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
        return ElicitResult(action="accept", content={"confirm": True})

    async with with_every_toolset(emulator, home, person=approves_while_it_moves, mode="legacy") as client:
        held = await succeed(client, CREATE, POST | {"requiresApproval": True, "scheduleDate": later(hours=1)})
        refused = await fail(client, UPDATE, {"id": held["id"], "approved": True})

    assert refused["error"] == KEPT_CHANGING
    assert len(questions) == 1 + MAX_ASKS
    assert emulator.app.received("/api/post", method="PUT") == []


async def test_an_emoji_keeps_its_single_style_selector_in_the_question(emulator: RunningEmulator, home: Path) -> None:
    person = User("decline", confirm=False)
    text = "We did it \u2764\ufe0f 1\ufe0f\u20e3 \u2122\ufe0e"

    async with with_every_toolset(emulator, home, person=person) as client:
        await fail(client, CREATE, POST | {"post": text})

    assert text in person.questions[0]


async def test_a_post_placed_in_a_slot_minutes_away_after_the_schedule_changed_is_cancelled_before_it_goes_out(
    emulator: RunningEmulator, home: Path
) -> None:
    # What the server sees (a slot hours away) is not what Ayrshare uses a moment later (one set minutes away by a
    # concurrent call): the answer's slot is checked.
    near = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%H:%MZ")
    far = {"schedules": {"soon": {"schedule": [(datetime.now(UTC) + timedelta(hours=3)).strftime("%H:%MZ")]}}}
    emulator.service.set_auto_schedule(emulator.service.profile(API_KEY, None), {"title": "soon", "schedule": [near]})
    emulator.app.inject(Fault(status=200, body=far, method="GET", path="/auto-schedule/list", times=None))
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        refused = await fail(client, CREATE, POST | {"autoScheduleTitle": "soon"})

    [question] = person.questions
    assert "(in 2 hours)" in question or "(in 3 hours)" in question
    assert "less than 5 minutes away, which nobody agreed to, so it was cancelled" in refused["error"]
    assert stored(emulator)[0]["status"] == "deleted"


@pytest.mark.parametrize(
    "listing",
    [
        {"schedules": {"odd": {"schedule": ["25:00Z"]}}},
        {"schedules": {"odd": {"schedule": ["09:00Z"], "daysOfWeek": "weekdays"}}},
        {"schedules": {"odd": {"schedule": ["09:00Z"], "daysOfWeek": ["1", "2"]}}},
    ],
    ids=["hour 25", "days as text", "days as strings"],
)
async def test_schedule_data_the_server_cannot_read_means_asking_not_a_crash_or_silence(
    emulator: RunningEmulator, home: Path, listing: dict[str, Any]
) -> None:
    emulator.app.inject(Fault(status=200, body=listing, method="GET", path="/auto-schedule/list", times=None))
    person = User("decline", confirm=False)

    async with with_every_toolset(emulator, home, person=person) as client:
        refused = await fail(client, CREATE, POST | {"autoScheduleTitle": "odd"})

    assert refused["error"].startswith("Nothing was published: the user declined")
    assert len(person.questions) == 1


async def test_on_the_2026_era_a_no_stands_even_if_the_question_no_longer_arises(
    emulator: RunningEmulator, home: Path
) -> None:
    profile = emulator.service.profile(API_KEY, None)
    near = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%H:%MZ")
    emulator.service.set_auto_schedule(profile, {"title": "t", "schedule": [near]})

    async def decline_while_the_slot_moves(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        later_slot = (datetime.now(UTC) + timedelta(hours=3)).strftime("%H:%MZ")
        emulator.service.set_auto_schedule(profile, {"title": "t", "schedule": [later_slot]})
        return ElicitResult(action="decline")

    async with with_every_toolset(emulator, home, person=decline_while_the_slot_moves) as client:
        refused = await fail(client, CREATE, POST | {"autoScheduleTitle": "t"})

    assert refused["error"].startswith("Nothing was published: the user declined")
    assert posts_sent(emulator) == []


async def test_on_the_2025_era_a_yes_to_one_time_does_not_approve_a_post_moved_meanwhile(
    emulator: RunningEmulator, home: Path
) -> None:
    moved_to = (datetime.now(UTC) + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    person = User()

    async def person_while_the_model_moves_the_post(
        context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        if len(person.questions) == 1:  # between the approval's question and its answer
            stored(emulator)[0]["scheduleDate"]["utc"] = moved_to
        return await person(context, params)

    async with with_every_toolset(
        emulator, home, person=person_while_the_model_moves_the_post, mode="legacy"
    ) as client:
        held = await succeed(client, CREATE, POST | {"requiresApproval": True, "scheduleDate": "2030-01-01T09:00:00Z"})
        await succeed(client, UPDATE, {"id": held["id"], "approved": True})

    assert len(person.questions) == 3
    assert f"at {moved_to}" in person.questions[2]


async def test_a_profile_name_that_could_not_be_looked_up_the_first_time_does_not_make_the_person_answer_twice(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=503, body={"status": "error"}, method="GET", path="/user", times=3))
    person = User()

    async with with_every_toolset(emulator, home, person=person, AYRSHARE_MAX_RETRIES="0") as client:
        await succeed(client, CREATE, POST | {"platforms": ["linkedin"]})

    assert len(person.questions) == 1


async def test_no_secret_reaches_the_person_through_data_ayrshare_sends_back(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.profile(API_KEY, PROFILE_KEY).title = f"Brand {PROFILE_KEY}"
    person = User("decline", confirm=False)

    async with with_every_toolset(emulator, home, person=person) as client:
        await fail(client, CREATE, POST | {"Profile-Key": PROFILE_KEY})

    assert PROFILE_KEY not in person.questions[0]
    assert "[redacted]" in person.questions[0]


# --- a post that goes out twice ----------------------------------------------------------------------------------


TEXT = "Launch day:\nwe are live!"
MEDIA = "https://img.example/launch.png?size=big"
SPELLINGS: dict[str, dict[str, Any]] = {
    "networks reordered": {"platforms": ["facebook", "linkedin"]},
    "a default spelled out": {"shortenLinks": False},
    "other notes": {"notes": "second try"},
    "trailing spaces": {"post": TEXT + "  "},
    "NFD text": {"post": unicodedata.normalize("NFD", "Café: " + TEXT)},
    "double space": {"post": TEXT.replace(" ", "  ")},
    "CRLF": {"post": TEXT.replace("\n", "\r\n")},
    "space before a line end": {"post": TEXT.replace("\n", " \n")},
    "zero width space": {"post": TEXT.replace("day", "d\u200bay")},
    "word joiner": {"post": TEXT.replace("day", "d\u2060ay")},
    "zero width joiner": {"post": TEXT.replace("day", "d\u200day")},
    "byte order mark": {"post": "\ufeff" + TEXT},
    "variation selector": {"post": TEXT.replace("!", "!\ufe0f")},
    "soft hyphen": {"post": TEXT.replace("Launch", "Laun\u00adch")},
    "no-break space": {"post": TEXT.replace(" ", "\u00a0")},
    "narrow no-break space": {"post": TEXT.replace(" ", "\u202f")},
    "fullwidth letters": {"post": TEXT.replace("Launch", "\uff2c\uff41\uff55\uff4e\uff43\uff48")},
    "host in capitals": {"mediaUrls": [MEDIA.replace("img.example", "IMG.Example")]},
    "default port": {"mediaUrls": [MEDIA.replace("img.example", "img.example:443")]},
    "ideographic full stops": {"mediaUrls": [MEDIA.replace("img.example", "img\uff0eexample\u3002")]},
    "fragment": {"mediaUrls": [MEDIA + "#top"]},
    "empty query": {"mediaUrls": ["https://img.example/launch.png?"]},
    "line separator": {"post": TEXT.replace("\n", "\u2028")},
    "braille blank": {"post": TEXT + "\u2800"},
    "escaped path": {"mediaUrls": [MEDIA.replace("launch", "l%61unch")]},
    "dot segments": {"mediaUrls": [MEDIA.replace("/launch", "/./img/../launch")]},
    "host ending in a dot": {"mediaUrls": [MEDIA.replace("img.example", "img.example.")]},
}


@pytest.mark.parametrize("again", SPELLINGS.values(), ids=SPELLINGS.keys())
async def test_the_same_post_repeated_in_another_spelling_gets_the_same_key_and_goes_out_once(
    emulator: RunningEmulator, home: Path, again: dict[str, Any]
) -> None:
    first = POST | {"post": TEXT, "scheduleDate": "2030-01-01T09:00:00Z", "mediaUrls": [MEDIA]}
    if "Caf" in again.get("post", ""):
        first = first | {"post": unicodedata.normalize("NFC", again["post"])}
    if again.get("mediaUrls") == ["https://img.example/launch.png?"]:
        first = first | {"mediaUrls": ["https://img.example/launch.png"]}

    async with with_every_toolset(emulator, home) as client:
        await succeed(client, CREATE, first)
        repeated = await fail(client, CREATE, first | again)

    assert "already submitted" in repeated["error"]
    assert len(stored(emulator)) == 1


@pytest.mark.parametrize(
    ("url", "other"),
    [
        ("https://img.example/a.png", "https://img.example/A.png"),
        ("https://img.example/a.png?x=1", "https://img.example/a.png?x=2"),
        ("https://img.example/a.png", "https://img.example:8443/a.png"),
    ],
    ids=["path case", "query", "another port"],
)
def test_media_urls_that_name_another_file_keep_their_own_key(url: str, other: str) -> None:
    account = Credentials(API_KEY).account_key
    body = POST | {"mediaUrls": [url]}

    assert derived_key(account, body, date(2026, 12, 4)) != derived_key(
        account, body | {"mediaUrls": [other]}, date(2026, 12, 4)
    )


async def test_the_same_call_made_eight_times_at_once_reaches_ayrshare_once(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.latency = 0.2  # Ayrshare is slow: every call is in flight at once
    results: list[dict[str, Any]] = []

    async def publish(client: Any) -> None:
        results.append(await call(client, CREATE, POST | {"scheduleDate": "2030-01-01T09:00:00Z"}))

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client, anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(publish, client)

    assert len(posts_sent(emulator)) == 1
    assert [envelope["successful"] for envelope in results].count(True) == 1
    assert all("already submitted" in envelope["error"] for envelope in results if not envelope["successful"])


def test_a_derived_key_keeps_media_order_and_the_day_of_an_auto_scheduled_post() -> None:
    account = Credentials(API_KEY).account_key
    queued = {"post": "Webinar today", "platforms": ["linkedin"], "autoSchedule": {"schedule": True, "title": "w"}}
    monday, next_monday = date(2026, 11, 30), date(2026, 12, 7)
    carousel = {"post": "New range", "platforms": ["linkedin"], "mediaUrls": ["https://a.example/1", IMAGE]}
    reordered = carousel | {"mediaUrls": [IMAGE, "https://a.example/1"]}

    assert derived_key(account, queued, monday) != derived_key(account, queued, next_monday)
    assert derived_key(account, carousel, monday) != derived_key(account, reordered, monday)
    assert derived_key(account, queued, monday) == derived_key(account, dict(reversed(queued.items())), monday)


# --- a failure reported as a success -----------------------------------------------------------------------------

OK = {"status": "success", "id": "li-1", "platform": "linkedin", "postUrl": "https://linkedin.example/1"}
FAILED = {
    "action": "post",
    "status": "error",
    "code": 137,
    "message": "Error posting to facebook.",
    "platform": "facebook",
}
SHAPES: dict[str, dict[str, Any]] = {
    "a postIds entry with status error": {"status": "success", "id": "p1", "errors": [], "postIds": [OK, FAILED]},
    "errors as text": {"status": "success", "id": "p1", "postIds": [OK], "errors": ["facebook: Error posting."]},
    "errors keyed by network": {"status": "success", "id": "p1", "postIds": [OK], "errors": {"facebook": FAILED}},
    "a network missing": {"status": "success", "id": "p1", "postIds": [OK], "errors": []},
    "errors beside posts": {"status": "success", "errors": [FAILED], "posts": [{"id": "p1", "postIds": [OK]}]},
    "a wrapped entry in error": {
        "status": "success",
        "posts": [{"id": "p1", "postIds": [OK], "errors": []}, {"status": "error", "platform": "facebook"}],
    },
}


@pytest.mark.parametrize("shape", SHAPES)
async def test_an_answer_that_reports_any_network_failing_is_never_a_success(
    emulator: RunningEmulator, home: Path, shape: str
) -> None:
    emulator.app.inject(Fault(status=200, body=SHAPES[shape], method="POST", path="/api/post"))

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        refused = await fail(client, CREATE, POST)

    assert "facebook" in refused["error"]
    assert refused["error"].startswith("Partly published: on linkedin")


async def test_a_post_a_network_is_still_processing_is_a_success_that_says_to_check_before_anything_else(
    emulator: RunningEmulator, home: Path
) -> None:
    processing = {"status": "pending", "id": "p1", "platform": "tiktok"}
    answer = {"status": "success", "id": "p1", "errors": [], "postIds": [OK, processing]}
    emulator.service.switches.linked_platforms = ["linkedin", "tiktok"]
    emulator.app.inject(Fault(status=200, body=answer, method="POST", path="/api/post"))

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        envelope = await call(client, CREATE, POST | {"platforms": ["linkedin", "tiktok"]})

    assert envelope["successful"] is True
    assert envelope["notice"].startswith("Still processing on tiktok")
    assert "do not post it again" in envelope["notice"]


async def test_a_post_sent_for_approval_that_ayrshare_published_is_an_error_saying_it_is_public(
    emulator: RunningEmulator, home: Path
) -> None:
    published = {"status": "success", "id": "p1", "postIds": [OK | {"platform": "linkedin"}], "errors": []}
    emulator.app.inject(Fault(status=200, body=published, method="POST", path="/api/post"))

    async with with_every_toolset(emulator, home) as client:  # nobody to ask: held for approval
        refused = await fail(client, CREATE, POST | {"platforms": ["linkedin"]})

    assert "although it was sent to wait for approval" in refused["error"]
    assert "Delete it now" in refused["error"], "the answer's post id is unknown to Ayrshare: it cannot be deleted"


async def test_an_approval_whose_publishing_failed_is_an_error_naming_the_network(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.failing_platforms = ["facebook"]

    async with with_every_toolset(emulator, home, person=User()) as client:
        held = await succeed(client, CREATE, POST | {"requiresApproval": True})
        refused = await fail(client, UPDATE, {"id": held["id"], "approved": True})

    assert refused["error"].startswith("Approved, but publishing failed: facebook (code 137")
    assert "AYRSHARE_RETRY_POST" in refused["error"]


# --- arguments no validator expected -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        (CREATE, POST | {"scheduleDate": "9999-12-31T23:59:59-23:59"}),
        (UPDATE, {"id": "p1", "scheduleDate": "0001-01-01T00:00:00+23:59"}),
        ("AYRSHARE_GET_POST_HISTORY", {"startDate": "9999-12-31T23:59:59-23:59"}),
        ("AYRSHARE_DELETE_DELETE_POST", {"bulk": "[" * 5000 + "]" * 5000}),
        (CREATE, POST | {"platforms": "[" * 5000 + "]" * 5000}),
    ],
    ids=["create, year 9999", "update, year 1", "history, year 9999", "delete, deep nesting", "create, deep nesting"],
)
async def test_out_of_range_and_deeply_nested_arguments_are_a_tool_error_not_a_crash(
    emulator: RunningEmulator, home: Path, tool: str, arguments: dict[str, Any]
) -> None:
    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, tool, arguments)

    assert refused["error"].startswith(f"Invalid arguments for {tool}")
    assert emulator.app.requests == []


async def test_a_profile_listing_never_passes_on_a_field_that_could_hold_a_key(
    emulator: RunningEmulator, home: Path
) -> None:
    fields = {"profile_key": "CANARY-A", "ProfileKey": "CANARY-B", "apiKey": "CANARY-C", "key": "CANARY-D"}
    fields |= {"auth": "CANARY-E", "jwt": "CANARY-F", "pk": "CANARY-G", "credential": "CANARY-H"}
    listing = {"profiles": [{"title": "Brand", "refId": "r1", **fields}], "count": 1}
    emulator.app.inject(Fault(status=200, body=listing, method="GET", path="/profiles"))

    async with with_every_toolset(emulator, home) as client:
        data = await succeed(client, "AYRSHARE_LIST_PROFILES", {})

    assert data["profiles"] == [{"title": "Brand", "refId": "r1"}]


# --- no post goes public that nobody read ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_when_nobody_can_be_asked_and_the_plan_ignores_approvals_a_post_for_now_is_cancelled_unpublished(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    emulator.service.switches.honours_approval = False

    async with with_every_toolset(emulator, home, mode=mode) as client:  # nobody to ask; approval, the default
        refused = await fail(client, CREATE, POST)

    [sent] = posts_sent(emulator)
    held_until = datetime.fromisoformat(sent["scheduleDate"])
    assert sent["requiresApproval"] is True
    assert held_until > datetime.now(UTC) + timedelta(hours=23), "a day ahead, so it cannot be public before"
    assert "did not hold the post for approval" in refused["error"]
    assert "cancelled before it went out: nothing was published" in refused["error"]
    [post] = stored(emulator)
    assert post["status"] == "deleted"
    assert post["postIds"] == []


async def test_with_nobody_to_ask_an_auto_scheduled_post_waits_until_the_account_is_seen_to_hold_posts(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        await succeed(client, SET_SCHEDULE, {"title": "t", "schedule": ["09:00Z"]})
        refused = await fail(client, CREATE, POST | {"autoScheduleTitle": "t"})
        await succeed(client, CREATE, POST | {"post": "Held a day ahead"})
        held = await succeed(client, CREATE, POST | {"post": "Into the schedule", "autoScheduleTitle": "t"})

    assert "a post in an auto-schedule slot (which Ayrshare picks" in refused["error"]
    assert "Give a scheduleDate instead" in refused["error"]
    assert [post["post"] for post in posts_sent(emulator)] == ["Held a day ahead", "Into the schedule"]
    assert held["status"] == "awaiting approval"


async def test_an_account_that_ignored_approval_gets_no_more_posts_nobody_read(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False

    async with with_every_toolset(emulator, home) as client:
        await fail(client, CREATE, POST)
        again = await fail(client, CREATE, POST | {"post": "Trying again, as an unattended agent would"})

    assert len(posts_sent(emulator)) == 1, "the second post was not sent"
    assert "did not hold the last such post for approval" in again["error"]
    assert "Nothing was sent" in again["error"]


async def test_a_post_scheduled_sooner_than_a_day_is_held_a_day_ahead_until_the_account_is_seen_to_hold_posts(
    emulator: RunningEmulator, home: Path
) -> None:
    soon = f"{datetime.now(UTC) + timedelta(minutes=10):%Y-%m-%dT%H:%M:%SZ}"

    async with with_every_toolset(emulator, home) as client:
        first = await call(client, CREATE, POST | {"scheduleDate": soon})
        second = await succeed(client, CREATE, POST | {"post": "Once the account is known", "scheduleDate": soon})

    assert datetime.fromisoformat(first["data"]["scheduleDate"]) > datetime.now(UTC) + timedelta(hours=23)
    assert second["scheduleDate"] == soon
    assert "set when it should go out as you approve it" in first["notice"]


async def test_a_hold_is_cancelled_even_when_the_post_used_the_months_last_quota(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False
    emulator.service.switches.monthly_post_quota = 1

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, CREATE, POST)

    assert "cancelled before it went out" in refused["error"]
    assert stored(emulator)[0]["status"] == "deleted"


async def test_with_nobody_to_ask_no_post_is_created_when_the_rate_limit_leaves_no_room_to_cancel_it(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False
    emulator.service.switches.rate_limit = 3  # GET /user takes one: two left, and a hold may need three

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, CREATE, POST)

    assert posts_sent(emulator) == []
    assert "leaves this profile 2 request(s) in the current 5-minute window" in refused["error"]


async def test_a_hold_is_checked_and_cancelled_within_a_deadline_of_its_own_when_the_create_was_slow(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False
    emulator.app.latency = 0.4  # each request: well inside the call's time, but three of them are not

    async with with_every_toolset(emulator, home, AYRSHARE_TIMEOUT="1") as client:
        refused = await fail(client, CREATE, POST)

    assert "cancelled before it went out" in refused["error"]
    assert stored(emulator)[0]["status"] == "deleted"


async def test_a_hold_is_still_checked_and_cancelled_when_the_client_cancels_the_call(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False
    emulator.app.latency = 0.2

    with anyio.fail_after(WAIT):
        async with with_every_toolset(emulator, home) as client, anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, CREATE, POST)
            await emulator.app.wait_for_requests(3)  # /user, /post, then the look at the post
            tg.cancel_scope.cancel()

    assert stored(emulator)[0]["status"] == "deleted"


async def test_once_an_account_is_seen_to_hold_posts_for_approval_a_post_for_now_is_held_without_a_later_date(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        first = await call(client, CREATE, POST)
        await call(client, CREATE, POST | {"post": "And another"})

    [before, after] = posts_sent(emulator)
    assert "scheduleDate" in before
    assert "scheduleDate" not in after
    assert after["requiresApproval"] is True
    assert "Ayrshare dashboard" in first["notice"]
    assert "scheduled a day from now" in first["notice"]


async def test_a_hold_that_the_answer_does_not_mention_is_checked_on_the_post_itself(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.approval_in_answer = False

    async with with_every_toolset(emulator, home) as client:
        envelope = await call(client, CREATE, POST)

    assert envelope["successful"] is True
    assert "awaiting approval" in envelope["notice"]
    [created] = stored(emulator)
    assert len(emulator.app.received(f"/post/{created['id']}", method="GET")) == 1


async def test_the_duplicate_key_comes_from_the_time_the_caller_asked_for_not_the_hold(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:  # nobody to ask: held, and a day later
        await call(client, CREATE, POST)
    async with with_every_toolset(emulator, home, person=User()) as client:
        repeated = await fail(client, CREATE, POST)

    [held, asked] = posts_sent(emulator)
    assert held["idempotencyKey"] == asked["idempotencyKey"]
    assert "already submitted" in repeated["error"]


async def test_moving_a_post_awaiting_approval_earlier_asks_and_is_refused_when_nobody_can_be_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User()
    sooner, later_still = (
        (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ") for hours in (1, 48)
    )

    async with with_every_toolset(emulator, home, person=person) as client:
        held = await succeed(client, CREATE, POST | {"requiresApproval": True, "scheduleDate": later(hours=5)})
        await succeed(client, UPDATE, {"id": held["id"], "scheduleDate": later_still})
        await succeed(client, UPDATE, {"id": held["id"], "scheduleDate": sooner})
    async with with_every_toolset(emulator, home) as unattended:
        refused = await fail(unattended, UPDATE, {"id": held["id"], "scheduleDate": later(minutes=30)})

    [_, move] = person.questions
    assert move.startswith(f"Move this post, which awaits approval, earlier, from {later_still} UTC, to {sooner} UTC")
    assert "cannot ask a person to confirm" in refused["error"]
    assert stored(emulator)[0]["scheduleDate"]["utc"] == sooner


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"status": "scheduled", "id": "p-near"}, "a slot it did not say"),
        ({"status": "scheduled", "id": "p-near", "scheduleDate": {"utc": "NEAR"}}, "less than 5 minutes away"),
    ],
    ids=["no scheduleDate", "scheduleDate as {utc}"],
)
async def test_a_slot_the_answer_does_not_state_plainly_is_looked_up_and_cancelled_when_unreadable_or_near(
    emulator: RunningEmulator, home: Path, answer: dict[str, Any], said: str
) -> None:
    near = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if "scheduleDate" in answer:
        answer = answer | {"scheduleDate": {"utc": near}}
    emulator.app.inject(Fault(status=200, body=answer, method="POST", path="/api/post"))

    async with with_every_toolset(emulator, home, person=User()) as client:
        await succeed(client, SET_SCHEDULE, {"title": "t", "schedule": ["09:00Z"]})
        refused = await fail(client, CREATE, POST | {"autoScheduleTitle": "t"})

    assert said in refused["error"]
    assert [request.body for request in emulator.app.received("/api/post", method="DELETE")] == [{"id": "p-near"}]


async def test_notes_may_span_lines_but_not_hide_or_reorder_text(emulator: RunningEmulator, home: Path) -> None:
    scheduled = POST | {"scheduleDate": "2030-01-01T09:00:00Z"}

    async with with_every_toolset(emulator, home, person=User()) as client:
        refused = await fail(client, CREATE, scheduled | {"notes": "approve by \u202eyadnom"})
        await succeed(client, CREATE, scheduled | {"notes": "Approver: Sam\nBackup: Lee"})

    assert "'notes': contains the invisible or formatting character U+202E" in refused["error"]
    assert posts_sent(emulator)[0]["notes"] == "Approver: Sam\nBackup: Lee"


async def test_unattended_creates_at_once_cannot_each_count_on_the_same_headroom_and_leave_posts_behind(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False
    emulator.service.switches.rate_limit = 10

    async with with_every_toolset(emulator, home) as client:
        await call(client, "AYRSHARE_GET_USER", {})  # the profile's budget is known: 9 requests left
        async with anyio.create_task_group() as tg:
            for n in range(4):
                tg.start_soon(call, client, CREATE, POST | {"post": f"Fan-out post {n}"})

    assert [post["status"] for post in stored(emulator)] == ["deleted"], "one create, cancelled; the rest not sent"


async def test_with_nobody_to_ask_a_post_left_behind_cannot_be_moved_to_minutes_from_now(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False
    emulator.app.inject(Fault(status=500, method="DELETE", path="/post", times=1))
    soon = f"{datetime.now(UTC) + timedelta(minutes=6):%Y-%m-%dT%H:%M:%SZ}"

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, CREATE, POST)
        [left] = stored(emulator)
        moved = await fail(client, UPDATE, {"id": left["id"], "scheduleDate": soon})

    assert "cancelling it failed" in refused["error"]
    assert "It is due to go out at" in refused["error"]
    assert "cannot ask a person to confirm" in moved["error"]
    assert stored(emulator)[0]["scheduleDate"]["utc"] != soon


async def test_a_person_is_asked_before_a_scheduled_post_is_moved_earlier(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User("decline", confirm=False)
    later = f"{datetime.now(UTC) + timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}"
    sooner = f"{datetime.now(UTC) + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        created = await succeed(client, CREATE, POST | {"scheduleDate": later})
    async with with_every_toolset(emulator, home, person=person) as client:
        await fail(client, UPDATE, {"id": created["id"], "scheduleDate": sooner})

    [question] = person.questions
    assert question.startswith("Move this scheduled post earlier")
    assert stored(emulator)[0]["scheduleDate"]["utc"] == later


async def test_a_slow_look_at_a_hold_still_leaves_the_cancel_time_of_its_own(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.honours_approval = False

    async with with_every_toolset(emulator, home, AYRSHARE_TIMEOUT="1") as client:
        await succeed(client, "AYRSHARE_GET_USER", {})  # remembered: the create sends no GET of its own first
        emulator.app.inject(Fault(status=200, method="GET", delay=2.0, times=None))
        refused = await fail(client, CREATE, POST)

    assert len(emulator.app.received("/api/post", method="DELETE")) == 1
    assert "cancelled before it went out" in refused["error"]
    assert stored(emulator)[0]["status"] == "deleted"
