"""Auto schedules as time: where Ayrshare should put the next post, and how far away a moment is, in words.

Ayrshare places a post in the next slot after the schedule's last used one (`lastScheduleDate`, or `setStartDate`,
and never in the past), on an allowed day that is not excluded; deleting a post does not free its slot
(docs/ayrshare-api.md). This is the server's reading of that, shown to a person before they agree: Ayrshare makes
the final choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# A moment sooner than this is "now" by another name: Ayrshare publishes a past date at once, and a date a few
# seconds away would go out before anyone could stop it.
MIN_LEAD = timedelta(minutes=5)
# Ayrshare numbers days 0 = Sunday ... 6 = Saturday.
EVERY_DAY = frozenset(range(7))
_SLOT = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::[0-5][0-9])?Z", re.IGNORECASE)
# How far ahead to look for a free slot: a schedule on one weekday with a year of excluded dates still has one.
_HORIZON_DAYS = 2 * 366


@dataclass(frozen=True)
class AutoSchedule:
    """One auto schedule as Ayrshare lists it: its daily slots, days, excluded dates and where it stands."""

    title: str
    slots: tuple[time, ...]
    days: frozenset[int]
    # Whether `days` is Ayrshare's default (daysOfWeek not set), which its docs leave open.
    default_days: bool
    excluded: frozenset[date]
    last_used: datetime | None
    start: datetime | None

    @classmethod
    def read(cls, title: str, stored: Mapping[str, Any]) -> AutoSchedule | None:
        """The schedule from its entry in GET /auto-schedule/list; None when the entry cannot be read."""
        raw_slots = stored.get("schedule")
        if not isinstance(raw_slots, list) or not raw_slots:
            return None
        slots = [_slot(str(slot)) for slot in raw_slots]
        raw_days = stored.get("daysOfWeek")
        days = _days(raw_days)
        if None in slots or days is None:
            return None
        return cls(
            title=title,
            # One slot per time: "09:30Z" twice (or with seconds) is one slot Ayrshare fills once.
            slots=tuple(sorted({slot for slot in slots if slot is not None})),
            days=days,
            default_days=not raw_days,
            excluded=frozenset(_dates(stored.get("excludeDates"))),
            last_used=moment_of(stored.get("lastScheduleDate")),
            start=moment_of(stored.get("setStartDate")),
        )

    def slots_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every slot from `start` (inclusive) to `end` (exclusive) on an allowed day that is not excluded."""
        day = start.astimezone(UTC).date()
        while True:
            for slot in self.slots:
                moment = datetime.combine(day, slot, tzinfo=UTC)
                if moment >= end:
                    return
                if moment >= start and self.allows(day):
                    yield moment
            day += timedelta(days=1)

    def allows(self, day: date) -> bool:
        return day.isoweekday() % 7 in self.days and day not in self.excluded

    def next_slot(self, now: datetime) -> datetime | None:
        """Where Ayrshare should put the next post: the first slot after the last used one (or the start date),
        and after `now`; None when none comes within two years."""
        floor = max(moment for moment in (now, self.last_used, self.start) if moment is not None)
        after = floor + timedelta(microseconds=1)
        return next(self.slots_between(after, floor + timedelta(days=_HORIZON_DAYS)), None)


def read_schedule(listing: Mapping[str, Any], title: str) -> AutoSchedule | None:
    """The schedule titled `title` in a GET /auto-schedule/list answer (keyed by title, or a list of schedules)."""
    schedules = listing.get("schedules")
    if isinstance(schedules, dict):
        stored = schedules.get(title)
    elif isinstance(schedules, list):
        stored = next((item for item in schedules if isinstance(item, dict) and item.get("title") == title), None)
    else:
        stored = None
    return AutoSchedule.read(title, stored) if isinstance(stored, Mapping) else None


def in_words(moment: datetime, now: datetime) -> str:
    """How far `moment` is from `now`, as a person says it: "now", "in 3 minutes", "in 2 hours", "in 3 days"."""
    seconds = (moment - now).total_seconds()
    if seconds < 60:
        return "now" if seconds > -60 else "in the past"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size) if unit == "day" else int(seconds // size)
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    return "now"  # not reached: a minute or more is counted above


def far_enough(moment: str, now: datetime) -> bool:
    """Whether an ISO-8601 moment (with its offset) is at least `MIN_LEAD` after `now`: later, not "now"."""
    return datetime.fromisoformat(moment) >= now + MIN_LEAD


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slot(text: str) -> time | None:
    match = _SLOT.fullmatch(text.strip())
    return time(int(match[1]), int(match[2])) if match else None


def _days(raw: Any) -> frozenset[int] | None:
    if not raw:
        return EVERY_DAY
    if not isinstance(raw, list) or not all(type(day) is int and 0 <= day <= 6 for day in raw):
        return None
    return frozenset(raw)


def _dates(raw: Any) -> Iterator[date]:
    """Excluded dates: YYYY-MM-DD as documented, or MM/DD/YYYY as Ayrshare's own test sends; others are ignored."""
    for text in raw if isinstance(raw, list) else []:
        for form in ("%Y-%m-%d", "%m/%d/%Y"):
            try:
                yield datetime.strptime(str(text), form).date()
                break
            except ValueError:
                continue


def moment_of(raw: Any) -> datetime | None:
    """A moment as Ayrshare answers one: {"utc": "..."} or an ISO string, UTC when it names no offset; None when it
    is not one."""
    text = raw.get("utc") if isinstance(raw, Mapping) else raw
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        # OverflowError: a moment at the edge of the calendar (year 1 or 9999) with an offset that leaves it.
        return None
    return moment
