"""The calendar toolset: a week of auto schedules and posts as a calendar, an MCP App where the host renders one.

The tool answers every host: the calendar model as the envelope's data (for the view), and the same week as text
(for a model, or a host that draws nothing). Its view (`ui://ayrshare/calendar.html`, served by the server) calls
the tools in `APP_TOOLS` through the host, so they are served whenever this toolset is (see `catalog.app_only`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from ayrshare_mcp.client import Account, JSONObject
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.calendar import (
    as_text,
    calendar,
    monday_of,
    read_schedules,
    time_zone,
    week_window,
)
from ayrshare_mcp.tools.fields import ScheduleTitle
from ayrshare_mcp.tools.slots import utc
from ayrshare_mcp.tools.spec import READ, SERVED_TOOLS, ToolAnswer, ToolRefusal, ToolSpec
from ayrshare_mcp.tools.toolsets.core import CREATE_AUTO_SCHEDULE, DELETE_POST, GET_POST_HISTORY
from ayrshare_mcp.tools.toolsets.posts import GET_POST

SUMMARY = "A week of auto schedules and posts as a calendar: an interactive view in hosts that render MCP Apps."

SHOW_CALENDAR = "AYRSHARE_SHOW_CALENDAR"
VIEW_URI = "ui://ayrshare/calendar.html"
# The view, a file in ayrshare_mcp/views/, by its ui:// URI; and the tools it calls through the host: a post's
# details, and deleting one pending post.
VIEWS = {VIEW_URI: "calendar.html"}
APP_TOOLS = (GET_POST, DELETE_POST)

# Ayrshare's largest history page (docs/ayrshare-api.md §1.6). History has no cursor and its order is not by
# schedule date, so a full page is read again as two halves of its window, until each page is short.
HISTORY_PAGE = 1000
# At most this many history requests for one week (of the profile's 300 per 5 minutes): up to about 4,000 posts.
MAX_HISTORY_CALLS = 8
INCOMPLETE = (
    "Post history held more posts in part of this week than one calendar reads ({count} read): some may be missing. "
    f"List the rest with {GET_POST_HISTORY} (startDate, endDate)."
)


class ShowCalendarArguments(ToolArguments):
    week: str | None = Field(default=None, max_length=8, description='ISO week, e.g. "2026-W49"; default: this week.')
    time_zone: str = Field(
        default="UTC", alias="timeZone", max_length=64, description="IANA zone for days and times, e.g. Europe/Berlin."
    )
    title: ScheduleTitle | None = Field(default=None, description="Only this schedule.")

    @field_validator("week")
    @classmethod
    def _a_week(cls, week: str | None) -> str | None:
        if week is not None:
            monday_of(week)  # its CalendarError is a ValueError: the model reads what to give instead
        return week

    @field_validator("time_zone")
    @classmethod
    def _a_zone(cls, name: str) -> str:
        time_zone(name)
        return name


async def show_calendar(account: Account, args: ShowCalendarArguments) -> ToolAnswer:
    zone = time_zone(args.time_zone)
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    monday = monday_of(args.week) if args.week else today - timedelta(days=today.weekday())
    schedules, unreadable = read_schedules(await account.list_auto_schedules())
    if args.title is not None:
        titles = [schedule.title for schedule in schedules] + unreadable
        if args.title not in titles:
            known = f"The schedules are: {', '.join(titles)}." if titles else f"Create one with {CREATE_AUTO_SCHEDULE}."
            raise ToolRefusal(f"No auto schedule is titled {args.title!r}. {known}")
        schedules = [schedule for schedule in schedules if schedule.title == args.title]
        unreadable = [title for title in unreadable if title == args.title]
    history, complete = await week_history(account, *week_window(monday, zone))
    can_delete = DELETE_POST in SERVED_TOOLS.get()
    model = calendar(schedules, history, monday, args.time_zone, now, can_delete=can_delete)
    notices = [] if complete else [INCOMPLETE.format(count=len(history))]
    if unreadable:
        notices.append(f"Not shown, its slots cannot be read: {', '.join(unreadable)}.")
    return ToolAnswer(model, notice=" ".join(notices), text=as_text(model))


async def week_history(account: Account, start: datetime, end: datetime) -> tuple[list[JSONObject], bool]:
    """The posts of history in [start, end), and whether that is all of them.

    One request covers a week of up to `HISTORY_PAGE` posts. A full page may have left posts out, so its window is
    read again as two halves (breadth first, so the halves shrink evenly), down to a minute, and within
    `MAX_HISTORY_CALLS`; a window still full then is reported incomplete.
    """
    found: dict[str, JSONObject] = {}
    # startDate and endDate are inclusive, to the second.
    windows = [(start, end - timedelta(seconds=1))]
    calls, complete = 0, True
    while windows:
        if calls == MAX_HISTORY_CALLS:
            return list(found.values()), False
        first, last = windows.pop(0)
        answer = await account.get_history({"startDate": utc(first), "endDate": utc(last), "limit": HISTORY_PAGE})
        calls += 1
        page = answer.get("history")
        items = [item for item in page if isinstance(item, dict)] if isinstance(page, list) else []
        for item in items:
            found.setdefault(str(item.get("id")), item)
        if len(items) < HISTORY_PAGE:
            continue
        if last - first < timedelta(minutes=1):
            complete = False
            continue
        middle = (first + (last - first) / 2).replace(microsecond=0)
        windows += [(first, middle), (middle + timedelta(seconds=1), last)]
    return list(found.values()), complete


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=SHOW_CALENDAR,
        title="Show Schedule Calendar",
        description=(
            "A week of auto schedules as a calendar: each slot free, taken or passed, and the week's posts at their "
            "times. Hosts with MCP Apps show it as a view."
        ),
        arguments=ShowCalendarArguments,
        annotations=READ,
        handler=show_calendar,
        meta={"ui": {"resourceUri": VIEW_URI}},
    ),
)
