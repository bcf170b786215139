"""A week of auto schedules as a calendar: each schedule's slots per day, the week's posts, and which slots are
taken, free, passed or excluded, in the user's time zone. Pure: the tool fetches, this computes, the view draws.

Ayrshare's slots are UTC times on UTC days: `daysOfWeek` and `excludeDates` apply to a slot's UTC date (as
`slots.AutoSchedule` reads them), so a 23:30Z slot may fall on the next local day. "Free" is a slot Ayrshare would
still fill: after the schedule's last used slot (`lastScheduleDate`, `setStartDate`) and after now, the same floor
`AutoSchedule.next_slot` starts from; an empty slot before it is "passed", since deleting a post does not free its
slot (docs/ayrshare-api.md). History does not say which schedule placed a post, so posts are matched to slots by
their minute.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ayrshare_mcp.client import JSONObject, schedule_titles
from ayrshare_mcp.tools.questions import visible
from ayrshare_mcp.tools.slots import AutoSchedule, moment_of, read_schedule, utc

CREATE_HINT = "No auto schedules yet: create one with AYRSHARE_CREATE_AUTO_SCHEDULE."
MATCHED_BY_TIME = "History does not say which schedule placed a post: posts are matched to slots by time."
DETAILS_TOOL = "AYRSHARE_GET_POST"
DELETE_TOOL = "AYRSHARE_DELETE_DELETE_POST"
FIRST_LINE = 80
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
# A week whose neighbours and local days all exist: the calendar reaches a week back and ahead, in any time zone.
FIRST_YEAR, LAST_YEAR = 2, 9998
# Files of the time-zone database that are no place: "localtime" is the server's own zone, which a caller over HTTP
# has no business learning.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


class CalendarError(ValueError):
    """A week or time zone that names no calendar, with what to give instead."""


def monday_of(week: str) -> date:
    """The Monday of an ISO 8601 week such as 2026-W49.

    Raises:
        CalendarError: not of that form, or a week 53 in a year that has 52.
    """
    match = _WEEK.fullmatch(week)
    if not match:
        raise CalendarError(f"week must be an ISO 8601 week like 2026-W49 (year, W, two-digit week), not {week!r}.")
    year = int(match[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(f"{week} is out of range: give a week of a year from {FIRST_YEAR} to {LAST_YEAR}.")
    try:
        return date.fromisocalendar(year, int(match[2]), 1)
    except ValueError:
        raise CalendarError(f"{week} does not exist: ISO years have weeks 01 to 52, some 53.") from None


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name.

    Raises:
        CalendarError: there is none (the message gives examples).
    """
    try:
        if name in _NOT_ZONES:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name that is a folder of the database ("Europe"); ValueError: a path rather than a key.
        raise CalendarError(
            f"{name!r} is not an IANA time zone; give one like Europe/Berlin, America/New_York or UTC."
        ) from None


def week_window(monday: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The week from local Monday 00:00 to the next local Monday 00:00, in UTC: 167 or 169 hours across a
    daylight-saving change."""
    start = datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def read_schedules(listing: Mapping[str, Any]) -> tuple[list[AutoSchedule], list[str]]:
    """The schedules of a GET /auto-schedule/list answer by title, and the titles of those that cannot be read."""
    readable: list[AutoSchedule] = []
    unreadable: list[str] = []
    for title in sorted(schedule_titles(dict(listing))):
        schedule = read_schedule(listing, title)
        if schedule is None:
            unreadable.append(title)
        else:
            readable.append(schedule)
    return readable, unreadable


@dataclass(frozen=True)
class Post:
    """One post of history, as the calendar shows it."""

    id: str
    at: datetime
    status: str
    text: str
    platforms: tuple[str, ...]

    @classmethod
    def read(cls, item: Any) -> Post | None:
        """The post from a history item; None without an id or a readable time, or when it was deleted."""
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            return None
        at = moment_of(item.get("scheduleDate")) or moment_of(item.get("created"))
        status = str(item.get("status", ""))
        if at is None or status == "deleted":
            return None
        platforms = item.get("platforms")
        return cls(
            id=item["id"],
            at=at,
            status=status,
            text=str(item.get("post") or ""),
            platforms=tuple(str(name) for name in platforms) if isinstance(platforms, list) else (),
        )

    @property
    def first_line(self) -> str:
        line = next((line.strip() for line in self.text.splitlines() if line.strip()), "")
        return line if len(line) <= FIRST_LINE else line[: FIRST_LINE - 1] + "…"


def calendar(
    schedules: Sequence[AutoSchedule],
    history: Sequence[Any],
    monday: date,
    zone_name: str,
    now: datetime,
    *,
    can_delete: bool,
) -> JSONObject:
    """The calendar model of the week starting `monday` in the time zone `zone_name` (see the module docstring)."""
    zone = time_zone(zone_name)
    start, end = week_window(monday, zone)
    days: list[JSONObject] = [
        {"date": (monday + timedelta(days=n)).isoformat(), "weekday": (monday + timedelta(days=n)).strftime("%A"),
         "excluded": [], "slots": [], "posts": []}
        for n in range(7)
    ]  # fmt: skip
    posts = sorted(
        {post.id: post for item in history if (post := Post.read(item)) and start <= post.at < end}.values(),
        key=lambda post: (post.at, post.id),
    )
    waiting: dict[datetime, list[Post]] = defaultdict(list)
    for post in posts:
        waiting[_minute(post.at)].append(post)
    in_slot: set[str] = set()
    for moment, schedule in sorted(_slots(schedules, start, end), key=lambda pair: (pair[0], pair[1].title)):
        # One post fills one slot: two schedules sharing a time need two posts to be both taken.
        taken = waiting[moment].pop(0) if waiting[moment] else None
        if taken is not None:
            in_slot.add(taken.id)
        local = moment.astimezone(zone)
        days[(local.date() - monday).days]["slots"].append(
            {"schedule": schedule.title, "utc": utc(moment), "time": local.strftime("%H:%M"),
             "state": _state(schedule, moment, taken, now), "postId": taken.id if taken else None}
        )  # fmt: skip
    for post in posts:
        local = post.at.astimezone(zone)
        days[(local.date() - monday).days]["posts"].append(
            {"id": post.id, "utc": utc(post.at), "time": local.strftime("%H:%M"), "status": post.status,
             "firstLine": post.first_line, "platforms": list(post.platforms), "inSlot": post.id in in_slot}
        )  # fmt: skip
    for day in days:
        local_date = date.fromisoformat(day["date"])
        day["excluded"] = [schedule.title for schedule in schedules if local_date in schedule.excluded]
    return {
        "week": week_of(monday),
        "timeZone": zone_name,
        "start": days[0]["date"],
        "end": days[-1]["date"],
        "previousWeek": week_of(monday - timedelta(days=7)),
        "nextWeek": week_of(monday + timedelta(days=7)),
        "now": utc(now),
        "schedules": [_schedule(schedule) for schedule in schedules],
        "days": days,
        "emptyHint": None if schedules else CREATE_HINT,
        "matchedByTime": MATCHED_BY_TIME,
        "canDelete": can_delete,
        "detailsTool": DETAILS_TOOL,
        "deleteTool": DELETE_TOOL,
    }


def _slots(
    schedules: Sequence[AutoSchedule], start: datetime, end: datetime
) -> Iterator[tuple[datetime, AutoSchedule]]:
    """Every slot of every schedule in the window, excluded dates included (they are shown, greyed)."""
    for schedule in schedules:
        for moment in replace(schedule, excluded=frozenset()).slots_between(start, end):
            yield moment, schedule


def _state(schedule: AutoSchedule, moment: datetime, taken: Post | None, now: datetime) -> str:
    if taken is not None:
        return "taken"
    if moment.date() in schedule.excluded:
        return "excluded"
    floor = max(when for when in (now, schedule.last_used, schedule.start) if when is not None)
    return "free" if moment > floor else "passed"


def _schedule(schedule: AutoSchedule) -> JSONObject:
    return {
        "title": schedule.title,
        "slots": [slot.strftime("%H:%MZ") for slot in schedule.slots],
        "daysOfWeek": sorted(schedule.days),
        "excludeDates": sorted(day.isoformat() for day in schedule.excluded),
        "setStartDate": utc(schedule.start) if schedule.start else None,
        "lastScheduleDate": utc(schedule.last_used) if schedule.last_used else None,
    }


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


# --- As text, for models and hosts that draw no view ----------------------------------------------------------


def as_text(model: Mapping[str, Any]) -> str:
    """The calendar in a few lines a model or a person can read: one line per slot and per post off the slots."""
    lines = [
        f"Calendar {model['week']}, {model['start']} to {model['end']}, times in {model['timeZone']} "
        f"(UTC in brackets). Now: {model['now']}.",
    ]
    if model["emptyHint"]:
        lines.append(model["emptyHint"])
    for schedule in model["schedules"]:
        excluded = f"; excluded {', '.join(schedule['excludeDates'])}" if schedule["excludeDates"] else ""
        lines.append(
            f"Schedule '{_inline(schedule['title'])}': {', '.join(schedule['slots'])} on "
            f"{_days(schedule['daysOfWeek'])}{excluded}."
        )
    lines.append(MATCHED_BY_TIME + ' "free": Ayrshare would still fill it; "passed": it will not.')
    posts_by_id = {post["id"]: post for day in model["days"] for post in day["posts"]}
    free = 0
    for day in model["days"]:
        excluded = f" (excluded for {', '.join(map(_inline, day['excluded']))})" if day["excluded"] else ""
        entries: list[tuple[str, str]] = []
        for slot in day["slots"]:
            free += slot["state"] == "free"
            what = slot["state"]
            if slot["postId"]:
                what = f"taken by {_post(posts_by_id[slot['postId']])}"
            entries.append(
                (slot["utc"], f"  {slot['time']} ({slot['utc'][11:16]}Z) {_inline(slot['schedule'])}: {what}")
            )
        entries.extend(
            (post["utc"], f"  {post['time']} ({post['utc'][11:16]}Z) not a slot: {_post(post)}")
            for post in day["posts"]
            if not post["inSlot"]
        )
        heading = f"{day['weekday'][:3]} {day['date']}{excluded}"
        lines.append(heading + ("" if entries else ": nothing"))
        lines.extend(text for _, text in sorted(entries))
    lines.append(f"Free slots this week: {free}.")
    return "\n".join(lines)


def _post(post: Mapping[str, Any]) -> str:
    networks = ", ".join(map(_inline, post["platforms"])) or "no networks"
    return f"post {_inline(post['id'])} [{_inline(post['status'])}] {post['firstLine']!r} ({networks})"


def _inline(text: str) -> str:
    """What Ayrshare (or whoever named a schedule) wrote, kept on its line: a line break in a title or a status must
    not start a line of its own in what the model reads."""
    return visible(str(text)).replace("\n", "<U+000A>").replace("\t", " ")


def _days(days: Sequence[int]) -> str:
    return "every day" if len(days) == 7 else ", ".join(_DAY_NAMES[day] for day in sorted(days))
