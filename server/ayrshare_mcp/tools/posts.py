"""The posts toolset: publish a post (now, at a time, or into an auto schedule), check one without publishing, look
one up, change one not yet out, and retry one that failed.

A post is published at most once. Creating one is never repeated once Ayrshare may have it (see the client), and
every create carries an idempotencyKey, the caller's or one derived from the call, so a host that repeats the same
call cannot post twice: Ayrshare rejects a key it has seen. A post that would go public now is shown to a person
first where the client can ask one; where it cannot, the operator's AYRSHARE_PUBLISH decides (see `Unattended`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import Field, model_validator

from ayrshare_mcp.client import Account, AyrshareAPIError, AyrshareError, JSONObject, schedule_titles
from ayrshare_mcp.confirmation import Question, account_fingerprint
from ayrshare_mcp.settings import ENV_PUBLISH, Unattended
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.core import CREATE_AUTO_SCHEDULE, DELETE_POST, GET_POST_HISTORY, SET_AUTO_SCHEDULE
from ayrshare_mcp.tools.fields import HttpsUrls, IsoDateTime, Platforms, PostId, ScheduleTitle, utc_datetime
from ayrshare_mcp.tools.outcome import Outcome, outcome_of
from ayrshare_mcp.tools.questions import publish_question
from ayrshare_mcp.tools.spec import READ, WRITE, Confirmation, Proceed, ToolRefusal, ToolSpec, WithNotice

SUMMARY = "Publish posts (now, at a time, or into an auto schedule), validate, get, update, approve and retry them."

CREATE_POST = "AYRSHARE_CREATE_POST"
VALIDATE_POST = "AYRSHARE_VALIDATE_POST"
GET_POST = "AYRSHARE_GET_POST"
UPDATE_POST = "AYRSHARE_UPDATE_POST"
RETRY_POST = "AYRSHARE_RETRY_POST"

# A scheduleDate sooner than this is "now" by another name: Ayrshare publishes a past date at once, and a date a
# few seconds away would go out unconfirmed. Leaving scheduleDate out publishes now, with the confirmation.
MIN_LEAD = timedelta(minutes=5)
MAX_POST_CHARACTERS = 64_000
MAX_MEDIA = 35
DERIVED_KEY_PREFIX = "mcp-"
_SLOT = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::[0-5][0-9])?Z", re.IGNORECASE)

_SCHEDULE_DATE = (
    "When to publish: ISO-8601, UTC unless an offset is given, e.g. 2026-07-08T12:30:00Z; at least 5 minutes from "
    "now. Leave it out to publish now."
)


def _too_soon(moment: str) -> str | None:
    """Why a scheduleDate (already normalised to UTC) cannot be used, or None."""
    now = datetime.now(UTC)
    if datetime.fromisoformat(moment) >= now + MIN_LEAD:
        return None
    return (
        f"scheduleDate {moment} is not at least 5 minutes from now (it is {now:%Y-%m-%dT%H:%M:%SZ} UTC): give a later "
        "time, or leave scheduleDate out to publish now."
    )


class PostArguments(ToolArguments):
    post: str = Field(
        max_length=MAX_POST_CHARACTERS,
        description="The text of the post, as it will appear. May be empty only when mediaUrls are given.",
    )
    platforms: Platforms = Field(
        min_length=1, description="The networks to publish to (no duplicates); each must be linked to the profile."
    )
    media_urls: HttpsUrls | None = Field(
        default=None,
        alias="mediaUrls",
        min_length=1,
        max_length=MAX_MEDIA,
        description="Images or videos to attach: public https URLs that Ayrshare fetches (no duplicates).",
    )
    schedule_date: IsoDateTime | None = Field(default=None, alias="scheduleDate", description=_SCHEDULE_DATE)
    auto_schedule_title: ScheduleTitle | None = Field(
        default=None,
        alias="autoScheduleTitle",
        description="Put the post in the next free slot of the auto schedule with this title (instead of "
        "scheduleDate); the schedule must exist.",
    )
    requires_approval: bool | None = Field(
        default=None,
        alias="requiresApproval",
        description="true holds the post as 'awaiting approval' until it is approved (in the Ayrshare dashboard, or "
        f"with {UPDATE_POST} approved: true).",
    )
    shorten_links: bool | None = Field(
        default=None,
        alias="shortenLinks",
        description="true shortens links with Ayrshare's shortener (a paid add-on); false leaves them as written.",
    )
    notes: str | None = Field(
        default=None, max_length=1000, description="Private notes kept with the post, e.g. who must approve it."
    )
    idempotency_key: str | None = Field(
        default=None,
        alias="idempotencyKey",
        pattern=r"^[A-Za-z0-9._:-]{8,100}$",
        description="A unique id for this post (8-100 letters, digits, . _ : -). Ayrshare rejects a second post "
        "with the same key. Omit it and the server derives one from the post and today's UTC date.",
    )

    @model_validator(mode="after")
    def _one_time(self) -> PostArguments:
        if self.schedule_date is not None and self.auto_schedule_title is not None:
            raise ValueError("Give scheduleDate (a time) or autoScheduleTitle (a schedule's next slot), not both.")
        if not self.post.strip() and not self.media_urls:
            raise ValueError("The post has no text and no media: give post text, mediaUrls, or both.")
        if self.schedule_date is not None and (why := _too_soon(self.schedule_date)):
            raise ValueError(why)
        return self

    def payload(self) -> dict[str, Any]:
        body = super().payload()
        if (title := body.pop("autoScheduleTitle", None)) is not None:
            body["autoSchedule"] = {"schedule": True, "title": title}
        return body


# --- Checks before Ayrshare sees anything ------------------------------------------------------------------------


async def check_before_sending(account: Account, args: PostArguments) -> None:
    """The schedule named must exist, and the networks must be linked where that is known.

    Raises:
        ToolRefusal: a check failed; nothing was sent.
    """
    if args.auto_schedule_title is not None:
        titles = schedule_titles(await account.list_auto_schedules())
        if args.auto_schedule_title not in titles:
            known = f"The schedules are: {', '.join(sorted(titles))}." if titles else "There are no schedules yet."
            raise ToolRefusal(
                f"No auto schedule is titled {args.auto_schedule_title!r} for this profile. {known} Create it with "
                f"{CREATE_AUTO_SCHEDULE} (or {SET_AUTO_SCHEDULE}), then post again. Nothing was sent."
            )
    linked = await account.linked_networks()
    if linked is not None and (unlinked := [name for name in args.platforms if name not in linked]):
        shown = ", ".join(sorted(linked)) or "none"
        raise ToolRefusal(
            f"Not linked to this Ayrshare profile: {', '.join(unlinked)} (linked: {shown}). Link them in the Ayrshare "
            "dashboard (Social Accounts), or leave them out. Nothing was sent."
        )


def derived_key(account: Account, body: JSONObject, sent_on: date) -> str:
    """The same post, for the same profile, at the same time (or sent the same UTC day), always gets the same key.

    "The same post" is what the public sees: the text (Unicode-normalised, trimmed), the networks in any order, the
    media in order, and when it goes out: its scheduleDate, else the day it was sent (with its schedule, if any).
    Notes, link shortening and approval do not make a repeat a different post.
    """
    fingerprint = account_fingerprint(account.credentials.api_key, account.credentials.profile_key)
    when = body.get("scheduleDate") or [sent_on.isoformat(), body.get("autoSchedule")]
    post = unicodedata.normalize("NFC", str(body.get("post", ""))).strip()
    seen = [fingerprint, post, sorted(body.get("platforms", [])), body.get("mediaUrls", []), when]
    material = json.dumps(seen, sort_keys=True, separators=(",", ":"))
    return DERIVED_KEY_PREFIX + hashlib.sha256(material.encode()).hexdigest()[:40]


# --- What Ayrshare said, network by network -----------------------------------------------------------------------


def require_every_network(answer: JSONObject, *, body: JSONObject) -> JSONObject | WithNotice:
    """The answer, if every network took the post (or holds it, as asked); otherwise the error saying which did not.

    Raises:
        ToolRefusal: one or more networks failed, or a post meant to wait for approval went out.
    """
    outcome = _outcome(answer, body)
    if refusal := _refusal(outcome, answer, body):
        raise refusal
    if outcome.processing:
        return WithNotice(
            answer,
            f"Still processing on {', '.join(outcome.processing)}: the network has the post but has not published it "
            f"yet. Check it with {GET_POST} (id {outcome.post_id}) before doing anything else; do not post it again.",
        )
    return answer


def _outcome(answer: JSONObject, body: JSONObject) -> Outcome:
    """What the answer says of the post `body` sent; a post sent now must be confirmed on every network."""
    now = body.get("requiresApproval") is not True and "scheduleDate" not in body and "autoSchedule" not in body
    return outcome_of(answer, requested=body.get("platforms", []), now=now)


def _refusal(outcome: Outcome, answer: JSONObject, body: JSONObject) -> ToolRefusal | None:
    """The error for a post meant to wait for approval that went out, or for networks that failed; else None."""
    if body.get("requiresApproval") is True and outcome.published:
        return ToolRefusal(
            f"Ayrshare published the post on {', '.join(outcome.published)} although it was sent to wait for "
            "approval (requiresApproval may not be part of this Ayrshare plan): it is public now. Check it with "
            f"{GET_POST} (id {outcome.post_id}) and delete it if it should not be out.",
            answer,
        )
    return _partly_failed(outcome, answer, body) if outcome.failed else None


def _partly_failed(outcome: Outcome, answer: JSONObject, body: JSONObject) -> ToolRefusal:
    fix = "Fix what each error says (e.g. code 156: link the network in the Ayrshare dashboard), then"
    retry = f"retry with {RETRY_POST} (id {outcome.post_id}; Ayrshare retries a post once)" if outcome.post_id else ""
    if outcome.published or outcome.processing:
        went = ", ".join([*outcome.published, *(f"{name} (still processing)" for name in outcome.processing)])
        return ToolRefusal(
            f"Partly published: on {went}, but not on {'; '.join(outcome.failed)}. Do not create the post again: it "
            f"would appear twice where it succeeded. {fix} {retry or 'post to the failed networks only'}.",
            answer,
        )
    return ToolRefusal(
        f"Nothing was published: {'; '.join(outcome.failed)}. {fix} {retry or 'post again'}; a new post needs a new "
        f"idempotencyKey (this one was {body.get('idempotencyKey')}).",
        answer,
    )


def _refusal_for(error: AyrshareAPIError, body: JSONObject) -> ToolRefusal | None:
    """What a failed /post means, when Ayrshare's answer says more than its status: per network, or a repeat."""
    if outcome_of(error.body, requested=[], now=False).failed:
        return _refusal(_outcome(error.body, body), error.body, body)
    if "idempotency" in (error.ayrshare_message or "").lower():
        return ToolRefusal(
            f"Ayrshare rejected the post: its idempotencyKey ({body.get('idempotencyKey')}) was used before, so this "
            f"exact post was already submitted (today, for this profile). Look for it in {GET_POST_HISTORY} instead "
            "of posting again. To post the same text again on purpose, give a new idempotencyKey.",
            error.body,
        )
    return None


# --- Create and validate ------------------------------------------------------------------------------------------


async def create_post(account: Account, args: PostArguments) -> JSONObject | WithNotice:
    await check_before_sending(account, args)
    body = args.payload()
    body.setdefault("idempotencyKey", derived_key(account, body, datetime.now(UTC).date()))
    try:
        answer = await account.create_post(body)
    except AyrshareAPIError as error:
        raise _refusal_for(error, body) or error from None
    if "autoSchedule" in body and not args.requires_approval and not args.is_cleared:
        await _cancel_if_too_soon(account, answer)
    return require_every_network(answer, body=body)


async def _cancel_if_too_soon(account: Account, answer: JSONObject) -> None:
    """Ayrshare picks an auto schedule's slot itself: one minutes away, which nobody confirmed, is cancelled.

    The schedule looked far off when the question was decided, but it can change before Ayrshare places the post
    (another call may set it meanwhile).

    Raises:
        ToolRefusal: the post was placed too soon, and was cancelled (or could not be: the error says so).
    """
    outcome = outcome_of(answer, requested=[], now=False)
    when = outcome.schedule_date
    if when is None or outcome.post_id is None or _too_soon(_as_utc(when)) is None:
        return
    try:
        await account.delete_post({"id": outcome.post_id})
    except AyrshareError as error:
        raise ToolRefusal(
            f"Ayrshare put the post in a slot at {when}, less than 5 minutes away, which nobody confirmed, and "
            f"cancelling it failed ({error.status_and_code()}): delete it now with {DELETE_POST} (id "
            f"{outcome.post_id}) unless it should go out.",
            answer,
        ) from None
    raise ToolRefusal(
        f"Ayrshare put the post in a slot at {when}, less than 5 minutes away, which nobody confirmed, so it was "
        "cancelled before it went out. Ask the user, or give a scheduleDate at least 5 minutes ahead.",
        answer,
    )


def _as_utc(moment: str) -> str:
    try:
        return utc_datetime(moment)
    except ValueError:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # unreadable: treat it as now


async def validate_post(account: Account, args: PostArguments) -> JSONObject:
    await check_before_sending(account, args)
    return await account.validate_post(args.payload())


async def ask_before_publishing_soon(account: Account, args: PostArguments) -> Question | None:
    """A post that goes public now, or into a schedule slot minutes away, is shown to a person first."""
    if args.requires_approval:
        return None
    if args.auto_schedule_title is not None:
        listing = await account.list_auto_schedules()
        if args.auto_schedule_title not in schedule_titles(listing):
            return None  # the handler refuses it, sending nothing
        if not slot_within(listing, args.auto_schedule_title, MIN_LEAD):
            return None
        when = f"in the next slot of the auto schedule {args.auto_schedule_title!r}, which may be minutes away,"
    elif args.schedule_date is None:
        when = "now"
    else:
        return None
    return publish_question(args.post, args.platforms, when, args.media_urls, await _profile_title(account))


def slot_within(listing: JSONObject, title: str, lead: timedelta) -> bool:
    """Whether the schedule has a slot, on an allowed day, within `lead` from now; True when that cannot be told.

    Ayrshare picks the slot (after its last used one, skipping excluded dates); this looks only at slot times and
    days, so it may say yes where Ayrshare would pick a later slot, never the reverse. Ayrshare's answer is
    checked too (see `_cancel_if_too_soon`), since the schedule may change before the post reaches it.
    """
    schedules = listing.get("schedules")
    stored = schedules.get(title) if isinstance(schedules, dict) else None
    if not isinstance(stored, dict) or not isinstance(stored.get("schedule"), list):
        return True
    days = stored.get("daysOfWeek") or list(range(7))
    if not isinstance(days, list) or not all(type(day) is int and 0 <= day <= 6 for day in days):
        return True
    now = datetime.now(UTC)
    for slot in stored["schedule"]:
        match = _SLOT.fullmatch(str(slot))
        if match is None:
            return True
        for offset in (0, 1):
            day = now.date() + timedelta(days=offset)
            moment = datetime(day.year, day.month, day.day, int(match[1]), int(match[2]), tzinfo=UTC)
            # Ayrshare numbers days 0 = Sunday ... 6 = Saturday.
            if (moment.isoweekday() % 7) in days and now <= moment < now + lead:
                return True
    return False


def publish_unattended(args: PostArguments, unattended: Unattended) -> Proceed[PostArguments] | str:
    if unattended.publish == "direct":
        return Proceed(args.cleared())
    return Proceed(
        args.model_copy(update={"requires_approval": True}),
        notice="Nobody could be asked to confirm publishing this post, so it was created awaiting approval "
        f"({ENV_PUBLISH}=approval): it goes out once a person approves it in the Ayrshare dashboard, or with "
        f"{UPDATE_POST} approved: true from a client that can ask them.",
    )


PUBLISH_NOW_CONFIRMATION = Confirmation(
    question=ask_before_publishing_soon,
    declined="Nothing was published: the user declined. Do not try again unless the user asks for it.",
    unattended=publish_unattended,
)


# --- One post: get, update, retry ---------------------------------------------------------------------------------


class PostIdArguments(ToolArguments):
    id: PostId = Field(description=f"The Ayrshare post id (from {CREATE_POST} or {GET_POST_HISTORY}).")


async def get_post(account: Account, args: PostIdArguments) -> JSONObject:
    return await account.get_post(args.id)


class UpdatePostArguments(PostIdArguments):
    schedule_date: IsoDateTime | None = Field(
        default=None,
        alias="scheduleDate",
        description="A new time for a post not yet published: ISO-8601, UTC unless an offset is given; at least 5 "
        "minutes from now.",
    )
    notes: str | None = Field(default=None, max_length=1000, description="New private notes for the post.")
    approved: bool | None = Field(
        default=None,
        description="true approves a post awaiting approval: it is published at its scheduleDate, or now if it has "
        "none. To reject a post, delete it.",
    )

    @model_validator(mode="after")
    def _some_change(self) -> UpdatePostArguments:
        if self.approved is False:
            raise ValueError("approved: false changes nothing; to reject a post awaiting approval, delete it.")
        if self.schedule_date is None and self.notes is None and not self.approved:
            raise ValueError("Say what to change: scheduleDate, notes, or approved: true.")
        if self.schedule_date is not None and (why := _too_soon(self.schedule_date)):
            raise ValueError(why)
        return self


async def update_post(account: Account, args: UpdatePostArguments) -> JSONObject:
    answer = await account.update_post(args.payload())
    if args.approved:
        failed = outcome_of(answer, requested=[], now=False).failed
        if failed or answer.get("postStatus") == "error":
            networks = f": {'; '.join(failed)}" if failed else ""
            raise ToolRefusal(
                f"Approved, but publishing failed{networks}. Check it with {GET_POST} (id {args.id}), fix what the "
                f"errors say, then {RETRY_POST}.",
                answer,
            )
    return answer


async def retry_post(account: Account, args: PostIdArguments) -> JSONObject:
    # Whether the post failed was checked when the question was asked, from one lookup: see ask_before_retrying.
    return await account.retry_post(args.id)


def _networks_of(post: JSONObject, *, failed_only: bool = False) -> list[str]:
    if failed_only:
        return [str(error.get("platform")) for error in post.get("errors") or [] if isinstance(error, dict)]
    return [str(name) for name in post.get("platforms") or []]


def _media_of(post: JSONObject) -> list[str]:
    return [str(url) for url in post.get("mediaUrls") or []]


async def _profile_title(account: Account) -> str | None:
    user = await account.recent_user()
    return str(user["title"]) if user and isinstance(user.get("title"), str) else None


async def ask_before_approving(account: Account, args: UpdatePostArguments) -> Question | None:
    if not args.approved:
        return None
    post = await account.get_post(args.id)
    when = args.schedule_date or _schedule_of(post)
    return publish_question(
        str(post.get("post", "")),
        _networks_of(post),
        f"at {when}" if when else "now",
        _media_of(post),
        await _profile_title(account),
    )


async def ask_before_retrying(account: Account, args: PostIdArguments) -> Question:
    """The question for a failed post; any other post is refused here, so the retry is sent only after this check.

    Raises:
        ToolRefusal: the post's status is not error; nothing is sent.
    """
    post = await account.get_post(args.id)
    if post.get("status") != "error":
        raise ToolRefusal(
            f"Post {args.id} has status {post.get('status')!r}; only a post whose status is 'error' can be retried. "
            "Nothing was sent.",
            post,
        )
    return publish_question(
        str(post.get("post", "")),
        _networks_of(post, failed_only=True),
        "again now",
        _media_of(post),
        await _profile_title(account),
    )


def _schedule_of(post: JSONObject) -> str | None:
    """A post's scheduleDate: a plain string (GET /post) or Firestore's {utc} (history); None if in the past."""
    raw = post.get("scheduleDate")
    moment = raw.get("utc") if isinstance(raw, dict) else raw
    if not isinstance(moment, str):
        return None
    try:
        future = datetime.fromisoformat(moment) > datetime.now(UTC)
    except ValueError:
        return None
    return moment if future else None


def refuse_unattended_publish(args: Any, unattended: Unattended) -> Proceed[Any] | str:
    if unattended.publish == "direct":
        return Proceed(args)
    return (
        "Nothing was sent: this publishes a post, and this client cannot ask a person to confirm (it does not "
        "support MCP elicitation). Approve or retry it in the Ayrshare dashboard, or the server's operator can "
        f"allow publishing without confirmation with {ENV_PUBLISH}=direct."
    )


_DECLINED = "Nothing was sent: the user declined. Do not try again unless the user asks for it."
APPROVE_CONFIRMATION = Confirmation(
    question=ask_before_approving, declined=_DECLINED, unattended=refuse_unattended_publish
)
RETRY_CONFIRMATION = Confirmation(
    question=ask_before_retrying, declined=_DECLINED, unattended=refuse_unattended_publish
)


# --- The toolset --------------------------------------------------------------------------------------------------

TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=CREATE_POST,
        title="Create Post",
        description=(
            "Publish a post through Ayrshare to one or more networks: now (leave scheduleDate and autoScheduleTitle "
            "out; the user is asked to confirm), at scheduleDate, or in the next free slot of an auto schedule "
            "(autoScheduleTitle). It is sent once: if the result is unclear, look for the post in "
            f"{GET_POST_HISTORY} before trying again. If some networks fail the result is an error naming them; "
            f"do not create the post again, use {RETRY_POST}."
        ),
        arguments=PostArguments,
        annotations=WRITE,
        handler=create_post,
        confirmation=PUBLISH_NOW_CONFIRMATION,
    ),
    ToolSpec(
        name=VALIDATE_POST,
        title="Validate Post",
        description=(
            f"Check a post without publishing it: the same arguments as {CREATE_POST}, run through this server's "
            "checks and Ayrshare's (length, media, linked networks). Networks may still refuse it when it is "
            "published."
        ),
        arguments=PostArguments,
        annotations=READ,
        handler=validate_post,
    ),
    ToolSpec(
        name=GET_POST,
        title="Get Post",
        description=(
            "Get one post by its Ayrshare post id: text, networks, status (pending, awaiting approval, success, "
            "error, deleted), per-network ids and URLs, errors, and scheduleDate."
        ),
        arguments=PostIdArguments,
        annotations=READ,
        handler=get_post,
    ),
    ToolSpec(
        name=UPDATE_POST,
        title="Update Post",
        description=(
            "Change a post that is not yet published: move it to a new scheduleDate, replace its notes, or approve "
            "one awaiting approval (approved: true publishes it, so the user is asked to confirm). Text, networks "
            "and media cannot be changed: delete the post and create it again."
        ),
        arguments=UpdatePostArguments,
        annotations=WRITE,
        handler=update_post,
        confirmation=APPROVE_CONFIRMATION,
    ),
    ToolSpec(
        name=RETRY_POST,
        title="Retry Post",
        description=(
            "Publish a failed post (status error) again on the networks that failed; the user is asked to confirm. "
            "Ayrshare retries a post only once, and only when its error allows it. Check first that the network "
            "did not publish it after all."
        ),
        arguments=PostIdArguments,
        annotations=WRITE,
        handler=retry_post,
        confirmation=RETRY_CONFIRMATION,
    ),
)
