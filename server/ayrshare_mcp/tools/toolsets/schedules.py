"""The schedules toolset: list the auto schedules a profile has, and delete one (or restart its slots)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ayrshare_mcp.client import Account, JSONObject, schedule_titles
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.fields import ScheduleTitle
from ayrshare_mcp.tools.spec import DESTRUCTIVE, READ, ToolRefusal, ToolSpec
from ayrshare_mcp.tools.toolsets.core import AUTO_SCHEDULE_BASICS, SET_AUTO_SCHEDULE

SUMMARY = "List the auto schedules, and delete one or restart its slots."

LIST_AUTO_SCHEDULES = "AYRSHARE_LIST_AUTO_SCHEDULES"
DELETE_AUTO_SCHEDULE = "AYRSHARE_DELETE_AUTO_SCHEDULE"


class ListAutoSchedulesArguments(ToolArguments):
    pass


async def list_auto_schedules(account: Account, args: ListAutoSchedulesArguments) -> JSONObject:
    return await account.list_auto_schedules()


class DeleteAutoScheduleArguments(ToolArguments):
    title: ScheduleTitle = Field(description='The schedule\'s exact title (case-sensitive); "default" for the default.')
    delete_last_schedule_date: bool | None = Field(
        default=None,
        alias="deleteLastScheduleDate",
        description="true keeps the schedule and only forgets the last slot it used, so the next post takes the "
        "first free slot from now on. Posts already scheduled keep their times either way.",
    )


async def delete_auto_schedule(account: Account, args: DeleteAutoScheduleArguments) -> JSONObject:
    titles = schedule_titles(await account.list_auto_schedules())
    if args.title not in titles:
        known = f"The schedules are: {', '.join(sorted(titles))}." if titles else "This profile has no schedules."
        raise ToolRefusal(f"No auto schedule is titled {args.title!r}. {known} Nothing was deleted.")
    return await account.delete_auto_schedule(args.payload())


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=LIST_AUTO_SCHEDULES,
        title="List Auto Schedules",
        description=(
            "List the profile's auto schedules by title, each with its time slots, days, excluded dates and the "
            f"last slot used. An empty list means none is set yet. {AUTO_SCHEDULE_BASICS}"
        ),
        arguments=ListAutoSchedulesArguments,
        annotations=READ,
        handler=list_auto_schedules,
    ),
    ToolSpec(
        name=DELETE_AUTO_SCHEDULE,
        title="Delete Auto Schedule",
        description=(
            "Delete an auto schedule by title, irreversibly; posts already placed in it keep their times, and new "
            "posts can no longer name it. With deleteLastScheduleDate: true the schedule stays and only restarts "
            f"from the first free slot. To change a schedule's slots instead, use {SET_AUTO_SCHEDULE}."
        ),
        arguments=DeleteAutoScheduleArguments,
        annotations=DESTRUCTIVE,
        handler=delete_auto_schedule,
    ),
)
