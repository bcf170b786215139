"""The core toolset: the four seed tools, served by default. Each is declared once, below, with its arguments,
description, annotations and handler.

To add a tool: declare its argument model and handler, then a `ToolSpec`, and list it in its toolset's `TOOLS`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.client import Account, JSONObject, schedule_titles
from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.settings import ENV_ALLOW_UNCONFIRMED_DELETES, Unattended
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.fields import (
    IsoDates,
    IsoDateTime,
    Platforms,
    PostId,
    PostIds,
    ScheduleTitle,
    TimeSlots,
    Weekdays,
)
from ayrshare_mcp.tools.spec import (
    DESTRUCTIVE,
    IDEMPOTENT_WRITE,
    READ,
    WRITE,
    Clearance,
    Confirmation,
    Proceed,
    ToolRefusal,
    ToolSpec,
)

SUMMARY = "The four seed tools, served by default: create and set auto schedules, delete posts, post history."
# What the server tells every client first (see catalog.instructions); each toolset adds its own lines.
INSTRUCTIONS = """\
Tools for the Ayrshare social-media API.

- Auto schedules are named sets of daily UTC time slots. A post published through Ayrshare with \
autoSchedule: {schedule: true, title} lands in the next free slot of the schedule with that title. \
AYRSHARE_CREATE_AUTO_SCHEDULE makes a new schedule and refuses if the title exists; \
AYRSHARE_POST_SET_AUTO_SCHEDULE creates or replaces one.
- AYRSHARE_GET_POST_HISTORY lists recent posts with their Ayrshare post ids and statuses. \
AYRSHARE_DELETE_DELETE_POST takes those ids (never a social network's id): look a post up in history before \
deleting it. Deletes are irreversible, and published Instagram/TikTok posts must be removed in the app first, \
then marked with markManualDeleted.
- Every tool takes an optional Profile-Key to act for one Ayrshare User Profile; without it the server's default \
profile applies.
- Results are {data, successful, error?, notice?}: data is Ayrshare's answer; on failure, error says what to do \
next; a notice says what happened instead of what was asked.
"""

CREATE_AUTO_SCHEDULE = "AYRSHARE_CREATE_AUTO_SCHEDULE"
SET_AUTO_SCHEDULE = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
DELETE_POST = "AYRSHARE_DELETE_DELETE_POST"
GET_POST_HISTORY = "AYRSHARE_GET_POST_HISTORY"

# Not an Ayrshare limit (none is documented): a bound on one call's reach and size. More posts: several calls.
MAX_BULK_IDS = 100

HistoryStatus = Literal["success", "error", "processing", "pending", "paused", "deleted", "awaiting approval"]

# --- Auto schedules ---------------------------------------------------------------------------------------------


class AutoScheduleArguments(ToolArguments):
    schedule: TimeSlots = Field(
        min_length=1,
        description='Daily UTC slots, HH:MMZ, e.g. ["13:05Z", "20:14Z"]; no duplicates.',
    )
    days_of_week: Weekdays | None = Field(
        default=None,
        alias="daysOfWeek",
        min_length=1,
        description="Days the slots apply to, 0 = Sunday ... 6 = Saturday; no duplicates. Send all seven for every "
        "day: Ayrshare's default may be fewer.",
    )
    title: ScheduleTitle = Field(
        default="default",
        description='The schedule\'s name, exact and case-sensitive, without * ~ / [ ]; "default" if omitted.',
    )
    exclude_dates: IsoDates | None = Field(
        default=None,
        alias="excludeDates",
        min_length=1,
        description='Dates with no slots, YYYY-MM-DD, e.g. ["2026-12-25"]; no duplicates. Affects posts placed later.',
    )
    set_start_date: IsoDateTime | None = Field(
        default=None,
        alias="setStartDate",
        description="Place posts only from this moment on, e.g. 2026-07-08T12:30:00Z (UTC unless an offset is given). "
        "Posts already placed stay.",
    )


AUTO_SCHEDULE_BASICS = (
    "An auto schedule is a named set of daily UTC slots: a post created with autoSchedule: {schedule: true, title} "
    "takes its next free slot, and a deleted post's slot stays used. Needs the Premium plan or higher."
)


async def create_auto_schedule(account: Account, args: AutoScheduleArguments) -> JSONObject:
    existing = await account.list_auto_schedules()
    if args.title in schedule_titles(existing):
        raise ToolRefusal(
            f"An auto schedule titled {args.title!r} already exists for this profile, so nothing was changed. "
            f"To replace it, call {SET_AUTO_SCHEDULE} with the same title; to keep it, choose another title.",
            data=existing,
        )
    return await account.set_auto_schedule(args.payload())


async def set_auto_schedule(account: Account, args: AutoScheduleArguments) -> JSONObject:
    return await account.set_auto_schedule(args.payload())


# --- Posts ------------------------------------------------------------------------------------------------------


class DeletePostArguments(ToolArguments):
    id: PostId | None = Field(
        default=None,
        description="The Ayrshare post id (from post history, not a network's id).",
    )
    bulk: PostIds | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BULK_IDS,
        description=f"Up to {MAX_BULK_IDS} Ayrshare post ids, no duplicates; only pending ones are deleted, the rest "
        "reported.",
    )
    delete_all_scheduled: bool | None = Field(
        default=None,
        alias="deleteAllScheduled",
        description="true deletes every pending post of the profile; use it alone.",
    )
    mark_manual_deleted: bool | None = Field(
        default=None,
        alias="markManualDeleted",
        description="true records a post already removed in the network's app as deleted, without calling the network.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> DeletePostArguments:
        if self.id is not None and self.bulk is not None:
            raise ValueError("Give either id (one post) or bulk (several posts), not both.")
        if self.delete_all_scheduled and (self.id is not None or self.bulk is not None):
            raise ValueError(
                "deleteAllScheduled deletes every pending scheduled post and would ignore id/bulk; send it alone, "
                "or drop it to delete only the named posts."
            )
        if self.delete_all_scheduled and self.mark_manual_deleted:
            raise ValueError("markManualDeleted applies to one post (id), not to deleteAllScheduled.")
        if self.id is None and self.bulk is None and not self.delete_all_scheduled:
            raise ValueError(
                "Say what to delete: id (one Ayrshare post id from post history), bulk (a list of ids), or "
                "deleteAllScheduled: true (every pending scheduled post)."
            )
        return self


async def delete_post(account: Account, args: DeletePostArguments, clearance: Clearance) -> JSONObject:
    answer = await account.delete_post(args.payload())
    if args.bulk:
        _require_every_post_deleted(args.bulk, answer)
    return answer


def _require_every_post_deleted(requested: list[str], answer: JSONObject) -> None:
    """A bulk delete succeeded only if Ayrshare says, post by post, that every requested post was deleted.

    Raises:
        ToolRefusal: some or all were not deleted, or Ayrshare did not say; naming which were and which were not.
    """
    outcomes = _bulk_outcomes(answer)
    if outcomes is None:
        raise ToolRefusal(
            f"Ayrshare accepted the bulk delete of {len(requested)} posts but did not say which were deleted. "
            "Check post history with status=deleted before trying again.",
            answer,
        )
    deleted = [post_id for post_id in requested if outcomes.get(post_id, (False, ""))[0]]
    if len(deleted) == len(requested):
        return
    missing = [
        f"{post_id} ({outcomes[post_id][1] if post_id in outcomes else 'Ayrshare did not mention it'})"
        for post_id in requested
        if post_id not in deleted
    ]
    done = f"Deleted: {', '.join(deleted)}. " if deleted else ""
    raise ToolRefusal(
        f"Deleted {len(deleted)} of {len(requested)} posts. {done}Not deleted: {'; '.join(missing)}. Bulk deletes "
        "only cancel pending scheduled posts: delete a published post on its own by id.",
        answer,
    )


def _bulk_outcomes(answer: JSONObject) -> dict[str, tuple[bool, str]] | None:
    """Per post id: deleted or not, and why not (Ayrshare's code and message); None when the answer has no list."""
    entries = next((answer[key] for key in ("bulk", "posts", "results") if isinstance(answer.get(key), list)), None)
    if entries is None:
        return None
    outcomes: dict[str, tuple[bool, str]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            code = f"code {entry['code']}: " if entry.get("code") is not None else ""
            outcomes[entry["id"]] = (entry.get("status") == "success", f"{code}{entry.get('message') or 'failed'}")
    return outcomes


async def ask_before_bulk_delete(account: Account, args: DeletePostArguments) -> Question | None:
    """Deleting many posts at once is asked about first; deleting one named post is not."""
    if args.delete_all_scheduled:
        message = "Delete EVERY pending scheduled post of this Ayrshare profile? This cannot be undone."
    elif args.bulk:
        shown = ", ".join(args.bulk[:10]) + (f" and {len(args.bulk) - 10} more" if len(args.bulk) > 10 else "")
        message = f"Delete {len(args.bulk)} Ayrshare posts ({shown})? This cannot be undone."
    else:
        return None
    return Question(message, consent="Yes, delete", consequence="Deleted posts cannot be restored.")


def delete_unattended(args: DeletePostArguments, unattended: Unattended) -> Proceed[DeletePostArguments] | str:
    if unattended.allow_deletes:
        return Proceed(args, Clearance("operator"))
    return (
        "Nothing was deleted: deleting several posts at once needs a person's yes, and this client cannot ask one "
        "(it does not support MCP elicitation). Delete the posts one at a time by id instead, or the server's "
        f"operator can allow unconfirmed bulk deletes with {ENV_ALLOW_UNCONFIRMED_DELETES}=1."
    )


BULK_DELETE_CONFIRMATION = Confirmation(
    act=delete_post,
    question=ask_before_bulk_delete,
    declined="Nothing was deleted: the user declined the confirmation. Do not try again unless the user asks for it.",
    unattended=delete_unattended,
)


class PostHistoryArguments(ToolArguments):
    start_date: IsoDateTime | None = Field(
        default=None,
        alias="startDate",
        description="Only posts at or after this moment, e.g. 2026-07-01T00:00:00Z (UTC unless an offset is given).",
    )
    end_date: IsoDateTime | None = Field(
        default=None,
        alias="endDate",
        description="Only posts at or before this moment, like startDate.",
    )
    last_days: int | None = Field(
        default=None,
        alias="lastDays",
        ge=0,
        description="Days back to look (default 30); 0 = all. Ignored when startDate and endDate are both given.",
    )
    limit: int | None = Field(default=None, ge=1, le=1000, description="Most posts to return (default 25).")
    last_records: int | None = Field(
        default=None,
        alias="lastRecords",
        ge=1,
        le=1000,
        description="Older name for limit; prefer limit.",
    )
    status: HistoryStatus | None = Field(
        default=None,
        description="Only posts with this status (pending = scheduled). Deleted posts show only with deleted.",
    )
    platforms: Platforms | None = Field(
        default=None, min_length=1, description="Only posts sent to any of these networks; no duplicates."
    )
    type: Literal["immediate", "scheduled"] | None = Field(
        default=None, description="Only posts sent at once (immediate) or scheduled."
    )

    @model_validator(mode="after")
    def _coherent_window(self) -> PostHistoryArguments:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError(f"startDate ({self.start_date}) is after endDate ({self.end_date}); swap them.")
        if self.limit is not None and self.last_records is not None:
            raise ValueError("limit and lastRecords mean the same thing; send only limit.")
        return self


async def get_post_history(account: Account, args: PostHistoryArguments) -> JSONObject:
    return await account.get_history(args.payload())


# --- The toolset ------------------------------------------------------------------------------------------------

TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=CREATE_AUTO_SCHEDULE,
        title="Create Auto Schedule",
        description=(
            "Create a new auto schedule; refuses, changing nothing, if one has this title (change one with "
            f"{SET_AUTO_SCHEDULE}). {AUTO_SCHEDULE_BASICS}"
        ),
        arguments=AutoScheduleArguments,
        annotations=WRITE,
        scope=scopes.WRITE,
        handler=create_auto_schedule,
    ),
    ToolSpec(
        name=SET_AUTO_SCHEDULE,
        title="Set Auto Schedule",
        description=(
            "Create or replace the auto schedule with this title (its slots, days and dates); a repeat is harmless, "
            f"and posts already placed keep their times. {AUTO_SCHEDULE_BASICS}"
        ),
        arguments=AutoScheduleArguments,
        annotations=IDEMPOTENT_WRITE,
        scope=scopes.WRITE,
        handler=set_auto_schedule,
    ),
    ToolSpec(
        name=DELETE_POST,
        title="Delete a previously published Ayrshare post",
        description=(
            "Delete posts, irreversibly: a pending post is cancelled, a published one removed from its networks. "
            f"Ids are the top-level Ayrshare ids from {GET_POST_HISTORY}, not a network's id. Give one of id, bulk "
            "or deleteAllScheduled. Published Instagram and TikTok posts (and Facebook image stories) cannot be "
            "deleted through the API: remove them in the app, then call with id and markManualDeleted: true."
        ),
        arguments=DeletePostArguments,
        annotations=DESTRUCTIVE,
        confirmation=BULK_DELETE_CONFIRMATION,
    ),
    ToolSpec(
        name=GET_POST_HISTORY,
        title="Get Post History",
        description=(
            "List posts sent through Ayrshare, newest first, each with its Ayrshare post id (what "
            f"{DELETE_POST} takes), text, status, networks, their post ids and errors, and schedule date. An empty "
            "window gives an empty list."
        ),
        arguments=PostHistoryArguments,
        annotations=READ,
        handler=get_post_history,
    ),
)
