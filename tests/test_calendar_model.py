"""The calendar model, computed in Python without a server: slots per local day, posts at their times, and which
slots are taken, free, passed or excluded, across the edge cases of time zones and Ayrshare's schedule rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ayrshare_mcp.tools.calendar import (
    CREATE_HINT,
    CalendarError,
    as_text,
    calendar,
    monday_of,
    read_schedules,
    time_zone,
    week_window,
)

# A Monday of 2026, well before every week below unless a test says otherwise.
EARLY = datetime(2026, 1, 5, 8, tzinfo=UTC)


def week(
    schedules: dict[str, dict[str, Any]],
    posts: list[dict[str, Any]] | None = None,
    *,
    of: str = "2026-W49",
    zone: str = "UTC",
    now: datetime = EARLY,
) -> dict[str, Any]:
    readable, unreadable = read_schedules({"schedules": schedules})
    assert unreadable == []
    return calendar(readable, posts or [], monday_of(of), zone, now, can_delete=True)


def post(post_id: str, at: str, *, status: str = "pending", text: str = "Hello", platforms: Any = None) -> Any:
    return {"id": post_id, "post": text, "platforms": platforms or ["twitter"], "status": status,
            "scheduleDate": {"_seconds": 0, "_nanoseconds": 0, "utc": at}}  # fmt: skip


def slots(model: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Every slot as (local date, local time, schedule, state), Monday first."""
    return [(day["date"], s["time"], s["schedule"], s["state"]) for day in model["days"] for s in day["slots"]]


def states(model: dict[str, Any]) -> list[str]:
    return [state for *_, state in slots(model)]


def test_a_week_is_seven_local_days_from_monday_with_its_neighbours_named() -> None:
    model = week({}, of="2026-W53")

    assert [day["date"] for day in model["days"]] == [f"2026-12-{d}" for d in range(28, 32)] + [
        f"2027-01-0{d}" for d in range(1, 4)
    ]
    assert model["days"][0]["weekday"] == "Monday"
    assert (model["start"], model["end"]) == ("2026-12-28", "2027-01-03")
    assert (model["previousWeek"], model["nextWeek"]) == ("2026-W52", "2027-W01")


def test_a_week_across_the_end_of_daylight_saving_keeps_each_utc_slot_and_moves_its_local_time() -> None:
    # Berlin leaves summer time on Sunday 25 October 2026 at 03:00 local (01:00Z): that week has 169 hours.
    model = week({"daily": {"schedule": ["09:30Z"]}}, of="2026-W43", zone="Europe/Berlin")
    start, end = week_window(monday_of("2026-W43"), time_zone("Europe/Berlin"))

    assert end - start == timedelta(hours=169)
    assert [time for _, time, *_ in slots(model)] == ["11:30"] * 6 + ["10:30"]
    assert model["days"][6]["slots"][0]["utc"] == "2026-10-25T09:30:00Z"


def test_a_week_across_the_start_of_daylight_saving_has_167_hours_and_every_slot() -> None:
    # Berlin enters summer time on Sunday 29 March 2026 at 02:00 local (01:00Z).
    model = week({"daily": {"schedule": ["12:00Z"]}}, of="2026-W13", zone="Europe/Berlin")
    start, end = week_window(monday_of("2026-W13"), time_zone("Europe/Berlin"))

    assert end - start == timedelta(hours=167)
    assert [time for _, time, *_ in slots(model)] == ["13:00"] * 6 + ["14:00"]


def test_a_slot_at_23_30z_falls_on_the_next_local_day_and_its_weekday_is_the_utc_one() -> None:
    # Sundays only (0), in UTC: the slot of Sunday 29 November is Monday 00:30 in Berlin, inside this week; that of
    # Sunday 6 December is Monday 7 December there, the next week.
    model = week({"late": {"schedule": ["23:30Z"], "daysOfWeek": [0]}}, zone="Europe/Berlin")

    assert slots(model) == [("2026-11-30", "00:30", "late", "free")]
    assert model["days"][0]["slots"][0]["utc"] == "2026-11-29T23:30:00Z"


def test_set_start_date_in_the_middle_of_the_week_leaves_the_slots_before_it_passed() -> None:
    model = week({"default": {"schedule": ["09:00Z"], "setStartDate": "2026-12-03T00:00:00Z"}})

    assert states(model) == ["passed"] * 3 + ["free"] * 4
    assert model["schedules"][0]["setStartDate"] == "2026-12-03T00:00:00Z"


def test_free_means_after_the_last_used_slot_and_after_now_and_the_rest_is_passed() -> None:
    # The slot at lastScheduleDate itself is used (its post may have been deleted: that does not free it).
    last_used = {"default": {"schedule": ["09:00Z"], "lastScheduleDate": "2026-12-02T09:00:00Z"}}
    friday_noon, tuesday_ten = datetime(2026, 12, 4, 12, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)

    assert states(week(last_used)) == ["passed"] * 3 + ["free"] * 4
    assert states(week(last_used, now=friday_noon)) == ["passed"] * 5 + ["free"] * 2
    assert states(week({"default": {"schedule": ["09:00Z"]}}, now=tuesday_ten)) == ["passed"] * 2 + ["free"] * 5


def test_a_post_at_a_slot_takes_it_whatever_its_status_and_links_to_it() -> None:
    posts = [
        post("p-success", "2026-11-30T09:00:00Z", status="success"),
        post("p-error", "2026-12-01T09:00:00Z", status="error"),
        post("p-approval", "2026-12-02T09:00:00Z", status="awaiting approval"),
    ]
    model = week({"default": {"schedule": ["09:00Z"]}}, posts)

    assert states(model)[:4] == ["taken", "taken", "taken", "free"]
    assert [day["slots"][0]["postId"] for day in model["days"][:4]] == ["p-success", "p-error", "p-approval", None]
    assert [day["posts"][0]["status"] for day in model["days"][:3]] == ["success", "error", "awaiting approval"]
    assert all(day["posts"][0]["inSlot"] for day in model["days"][:3])


def test_a_post_at_a_time_that_is_no_slot_is_shown_at_its_time_and_takes_nothing() -> None:
    model = week(
        {"default": {"schedule": ["09:00Z"]}},
        [post("off", "2026-12-01T14:12:00Z", text="\n  Launch day!  \nmore", platforms=["linkedin", "x"])],
        zone="Europe/Berlin",
    )

    [shown] = model["days"][1]["posts"]
    assert shown == {"id": "off", "utc": "2026-12-01T14:12:00Z", "time": "15:12", "status": "pending",
                     "firstLine": "Launch day!", "platforms": ["linkedin", "x"], "inSlot": False}  # fmt: skip
    assert "taken" not in states(model)
    assert "15:12 (14:12Z) not a slot: post off [pending] 'Launch day!' (linkedin, x)" in as_text(model)


def test_several_schedules_each_show_their_slots_and_one_post_fills_one_slot() -> None:
    schedules: dict[str, dict[str, Any]] = {
        "news": {"schedule": ["09:00Z", "17:00Z"], "daysOfWeek": [1]},
        "default": {"schedule": ["09:00Z"]},
    }
    one = week(schedules, [post("a", "2026-11-30T09:00:00Z")])
    two = week(schedules, [post("a", "2026-11-30T09:00:00Z"), post("b", "2026-11-30T09:00:00Z")])

    # Two schedules share 09:00Z on Monday: by time, one post can only have filled one of them.
    assert slots(one)[:3] == [
        ("2026-11-30", "09:00", "default", "taken"),
        ("2026-11-30", "09:00", "news", "free"),
        ("2026-11-30", "17:00", "news", "free"),
    ]
    assert [s["state"] for s in two["days"][0]["slots"]] == ["taken", "taken", "free"]
    assert [s["title"] for s in one["schedules"]] == ["default", "news"]
    assert len(slots(one)) == 7 + 2


def test_an_empty_week_shows_every_slot_free_and_no_hint() -> None:
    model = week({"default": {"schedule": ["09:00Z", "18:00Z"]}})

    assert states(model) == ["free"] * 14
    assert all(day["posts"] == [] for day in model["days"])
    assert model["emptyHint"] is None
    assert as_text(model).endswith("Free slots this week: 14.")


def test_a_profile_with_no_schedules_is_told_how_to_create_one() -> None:
    model = week({}, [post("p", "2026-12-01T10:00:00Z")])

    assert model["emptyHint"] == CREATE_HINT
    assert "AYRSHARE_CREATE_AUTO_SCHEDULE" in CREATE_HINT
    assert model["schedules"] == []
    assert slots(model) == []
    assert model["days"][1]["posts"][0]["id"] == "p"
    assert CREATE_HINT in as_text(model)


def test_excluded_dates_grey_the_local_day_and_mark_the_slots_of_that_utc_date() -> None:
    # Both forms Ayrshare has been seen to store: ISO, and the MM/DD/YYYY of its own test.
    model = week({"default": {"schedule": ["09:00Z", "23:30Z"], "excludeDates": ["2026-12-02", "12/04/2026"]}},
                 zone="Europe/Berlin")  # fmt: skip

    assert [day["excluded"] for day in model["days"]] == [[], [], ["default"], [], ["default"], [], []]
    wednesday, thursday = model["days"][2]["slots"], model["days"][3]["slots"]
    # 23:30Z on 2 December is Thursday 00:30 in Berlin: excluded by its UTC date, shown on its local day.
    assert [(s["time"], s["state"]) for s in wednesday] == [("00:30", "free"), ("10:00", "excluded")]
    assert [(s["time"], s["state"]) for s in thursday] == [("00:30", "excluded"), ("10:00", "free")]
    assert model["schedules"][0]["excludeDates"] == ["2026-12-02", "2026-12-04"]


def test_days_of_week_limit_the_slots_to_those_utc_weekdays() -> None:
    model = week({"default": {"schedule": ["09:00Z"], "daysOfWeek": [1, 3]}})

    assert [(date, state) for date, _, _, state in slots(model)] == [("2026-11-30", "free"), ("2026-12-02", "free")]
    assert "on Mon, Wed." in as_text(model)
    assert "on every day." in as_text(week({"default": {"schedule": ["09:00Z"]}}))


def test_posts_outside_the_local_week_and_deleted_posts_are_left_out() -> None:
    posts = [
        post("before", "2026-11-29T22:59:59Z"),  # Sunday 23:59:59 in Berlin: last week
        post("first", "2026-11-29T23:00:00Z"),  # Monday 00:00 in Berlin
        post("after", "2026-12-06T23:00:00Z"),  # next Monday 00:00 in Berlin
        post("gone", "2026-12-01T09:00:00Z", status="deleted"),
        {"post": "no id", "scheduleDate": "2026-12-01T09:00:00Z"},
    ]
    model = week({"default": {"schedule": ["09:00Z"]}}, posts, zone="Europe/Berlin")

    assert [p["id"] for day in model["days"] for p in day["posts"]] == ["first"]
    assert "taken" not in states(model)


def test_the_text_calendar_reads_a_week_line_by_line() -> None:
    model = week(
        {"default": {"schedule": ["09:30Z"], "daysOfWeek": [1, 2, 3, 4, 5], "excludeDates": ["2026-12-04"]}},
        [post("abc", "2026-11-30T09:30:00Z", status="success", text="Hello world")],
        zone="Europe/Berlin",
    )

    lines = as_text(model).splitlines()
    assert lines[0].startswith("Calendar 2026-W49, 2026-11-30 to 2026-12-06, times in Europe/Berlin")
    assert lines[1] == "Schedule 'default': 09:30Z on Mon, Tue, Wed, Thu, Fri; excluded 2026-12-04."
    assert "matched to slots by time" in lines[2]
    assert lines[3:6] == [
        "Mon 2026-11-30",
        "  10:30 (09:30Z) default: taken by post abc [success] 'Hello world' (twitter)",
        "Tue 2026-12-01",
    ]
    assert "Fri 2026-12-04 (excluded for default)" in lines
    assert "Sun 2026-12-06: nothing" in lines


def test_a_long_first_line_is_cut_to_80_characters() -> None:
    model = week({}, [post("long", "2026-12-01T10:00:00Z", text="x" * 200)])

    first_line = model["days"][1]["posts"][0]["firstLine"]
    assert len(first_line) == 80
    assert first_line.endswith("…")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("2026-49", "ISO 8601 week like 2026-W49"),
        ("2026-W5", "ISO 8601 week like 2026-W49"),
        ("2027-W53", "2027-W53 does not exist"),
        ("2026-W00", "2026-W00 does not exist"),
    ],
)
def test_a_week_that_is_not_one_is_refused_with_the_form_to_give(given: str, said: str) -> None:
    with pytest.raises(CalendarError, match=said):
        monday_of(given)


def test_week_53_exists_in_a_year_that_has_it() -> None:
    assert monday_of("2026-W53").isoformat() == "2026-12-28"


@pytest.mark.parametrize("given", ["Mars/Olympus_Mons", "Europe", "../../etc/passwd", "/etc/localtime", ""])
def test_a_time_zone_that_is_not_one_is_refused_with_examples(given: str) -> None:
    with pytest.raises(CalendarError, match="is not an IANA time zone; give one like Europe/Berlin"):
        time_zone(given)


def test_an_unreadable_schedule_is_set_aside_by_title() -> None:
    readable, unreadable = read_schedules(
        {"schedules": {"ok": {"schedule": ["09:00Z"]}, "broken": {"schedule": ["25:00Z"]}}}
    )

    assert [schedule.title for schedule in readable] == ["ok"]
    assert unreadable == ["broken"]
