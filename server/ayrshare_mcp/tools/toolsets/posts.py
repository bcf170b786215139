"""The posts toolset: publish a post (now, at a time, or into an auto schedule), check one without publishing, look
one up, change one not yet out, and retry one that failed.

No post goes public that nobody read. Where the client can ask a person, every create, approval, retry and move to
an earlier time asks first, showing the post as it will appear and when it goes out. Where nobody can be asked,
`AYRSHARE_PUBLISH` decides: `approval` (the default) creates the post held for approval and checks that Ayrshare
really holds it, cancelling it at once otherwise (see `tools.holds`); `direct` is the operator's explicit opt-out.

A post is published at most once. Creating one is never repeated once Ayrshare may have it (see the client), and
every create carries an idempotencyKey, the caller's or one derived from the call (see `post_keys`), so a host that
repeats the same call cannot post twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field, model_validator

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.client import (
    Account,
    AyrshareAPIError,
    AyrshareDuplicatePost,
    JSONObject,
    schedule_titles,
)
from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.settings import ENV_PUBLISH, Unattended
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.fields import HttpsUrls, IsoDateTime, Platforms, PostId, ScheduleTitle, Text, utc_or_none
from ayrshare_mcp.tools.holds import DASHBOARD, cancel_if_unagreed, finish, held_body, require_held
from ayrshare_mcp.tools.outcome import AWAITING_APPROVAL, Outcome, moment_text, outcome_of
from ayrshare_mcp.tools.post_keys import derived_key
from ayrshare_mcp.tools.questions import Post, When, publish_question
from ayrshare_mcp.tools.slots import far_enough, in_words, read_schedule, utc
from ayrshare_mcp.tools.spec import (
    READ,
    WRITE,
    Clearance,
    Confirmation,
    Proceed,
    ToolAnswer,
    ToolRefusal,
    ToolSpec,
)
from ayrshare_mcp.tools.toolsets.core import CREATE_AUTO_SCHEDULE, GET_POST_HISTORY, SET_AUTO_SCHEDULE

SUMMARY = "Publish posts (now, at a time, or into an auto schedule), validate, get, update, approve and retry them."
INSTRUCTIONS = """\
- AYRSHARE_CREATE_POST publishes once; never repeat it after an unclear or partial result: check \
AYRSHARE_GET_POST or history, and retry failed networks with AYRSHARE_RETRY_POST.
"""

CREATE_POST = "AYRSHARE_CREATE_POST"
VALIDATE_POST = "AYRSHARE_VALIDATE_POST"
GET_POST = "AYRSHARE_GET_POST"
UPDATE_POST = "AYRSHARE_UPDATE_POST"
RETRY_POST = "AYRSHARE_RETRY_POST"

MAX_POST_CHARACTERS = 64_000
MAX_MEDIA = 35

_SCHEDULE_DATE = (
    "When to publish, e.g. 2026-07-08T12:30:00Z (UTC unless an offset is given), at least 5 minutes ahead; omit to "
    "publish now."
)


def _too_soon(moment: str) -> str | None:
    """Why a scheduleDate (already normalised to UTC) cannot be used, or None."""
    now = datetime.now(UTC)
    if far_enough(moment, now):
        return None
    return (
        f"scheduleDate {moment} is not at least 5 minutes from now (it is {utc(now)} UTC): give a later time, or "
        "leave scheduleDate out to publish now."
    )


class PostArguments(ToolArguments):
    post: str = Field(
        max_length=MAX_POST_CHARACTERS,
        description="The text, as it will appear; empty only with mediaUrls.",
    )
    platforms: Platforms = Field(min_length=1, description="Networks linked to the profile; no duplicates.")
    media_urls: HttpsUrls | None = Field(
        default=None,
        alias="mediaUrls",
        min_length=1,
        max_length=MAX_MEDIA,
        description="Public https URLs of images or videos; no duplicates.",
    )
    schedule_date: IsoDateTime | None = Field(default=None, alias="scheduleDate", description=_SCHEDULE_DATE)
    auto_schedule_title: ScheduleTitle | None = Field(
        default=None,
        alias="autoScheduleTitle",
        description="Put the post in this existing auto schedule's next free slot, instead of scheduleDate.",
    )
    requires_approval: bool | None = Field(
        default=None,
        alias="requiresApproval",
        description=f"true holds the post 'awaiting approval' until approved (dashboard, or {UPDATE_POST} approved: "
        "true).",
    )
    shorten_links: bool | None = Field(
        default=None,
        alias="shortenLinks",
        description="true shortens links (a paid add-on).",
    )
    notes: Text | None = Field(default=None, max_length=1000, description="Private notes kept with the post.")
    idempotency_key: str | None = Field(
        default=None,
        alias="idempotencyKey",
        pattern=r"^[A-Za-z0-9._:-]{8,100}$",
        description="8-100 of A-Z a-z 0-9 . _ : -; Ayrshare refuses a second post with the same key. Omitted, one is "
        "derived from the post and the UTC date.",
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

    def as_post(self, profile: str | None = None) -> Post:
        return Post(self.post, self.platforms, self.media_urls or [], profile)


# --- Creating a post: check, ask, create ----------------------------------------------------------------------


async def check_before_sending(account: Account, args: PostArguments) -> None:
    """The schedule named must exist, and the networks must be linked where that is known.

    Raises:
        ToolRefusal: a check failed; nothing was sent, and nobody is asked.
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


async def ask_before_publishing(account: Account, args: PostArguments) -> Question:
    """Every post is shown to a person before it is created, whenever it goes out."""
    return publish_question(
        args.as_post(await _profile_title(account)), await _when(account, args), held=bool(args.requires_approval)
    )


async def _when(account: Account, args: PostArguments) -> When:
    """When the post goes out, in UTC and in words; for an auto schedule, the slot Ayrshare should pick."""
    now = datetime.now(UTC)
    if args.schedule_date is not None:
        moment = datetime.fromisoformat(args.schedule_date)
        return When(f"at {args.schedule_date} UTC ({in_words(moment, now)})", args.schedule_date)
    if args.auto_schedule_title is None:
        return When("now", "now")
    title = args.auto_schedule_title
    schedule = read_schedule(await account.list_auto_schedules(), title)
    slot = schedule.next_slot(now) if schedule else None
    if schedule is None or slot is None:
        return When(f"in the next free slot of the auto schedule {title!r} (its slots could not be read)", title)
    days = " (daysOfWeek is not set: Ayrshare's default days apply)" if schedule.default_days else ""
    return When(
        f"in the auto schedule {title!r}, whose next free slot is {utc(slot)} UTC ({in_words(slot, now)}), the "
        f"first after its last used one{days}; Ayrshare makes the final choice, and a slot less than 5 minutes away "
        "that differs from this one is cancelled,",
        f"{title}@{utc(slot)}",
        facts={"slot": utc(slot)},
    )


def publish_unattended(args: PostArguments, unattended: Unattended) -> Proceed[PostArguments] | str:
    if unattended.publish == "direct":
        return Proceed(args, Clearance("operator"))
    return Proceed(args, Clearance("nobody"))


async def create_post(account: Account, args: PostArguments, clearance: Clearance) -> JSONObject | ToolAnswer:
    body = args.payload()
    # The key is derived from what the caller asked for, before any hold changes when the post goes out.
    body.setdefault("idempotencyKey", derived_key(account.credentials.account_key, body, datetime.now(UTC).date()))
    if clearance.by == "nobody":
        async with account.one_hold_at_a_time():
            body = await held_body(account, body)
            answer = await _created(account, body)
            await finish(require_held, account, answer)
        result = require_every_network(answer, body=body)
        return _with_hold_notice(result, shifted=body.get("scheduleDate") != args.schedule_date)
    answer = await _created(account, body)
    if "autoSchedule" in body and clearance.question is not None:
        await finish(cancel_if_unagreed, account, answer, agreed=clearance.question.shown.get("slot"))
    return require_every_network(answer, body=body)


async def _created(account: Account, body: JSONObject) -> JSONObject:
    """Ayrshare's answer to creating the post.

    Raises:
        ToolRefusal: Ayrshare refused it per network, or as a repeat (already submitted).
    """
    try:
        return await account.create_post(body)
    except AyrshareDuplicatePost:
        raise _already_submitted(body, {}) from None
    except AyrshareAPIError as error:
        raise _refusal_for(error, body) or error from None


def _with_hold_notice(result: JSONObject | ToolAnswer, *, shifted: bool) -> ToolAnswer:
    data, notice = (result.data, result.notice) if isinstance(result, ToolAnswer) else (result, "")
    later = (
        " Until then it is scheduled a day from now, so that it cannot go out before anyone sees it: set when it "
        "should go out as you approve it."
        if shifted
        else ""
    )
    held = (
        f"Nobody could be asked to confirm this post, so it was created awaiting approval ({ENV_PUBLISH}=approval): it "
        f"goes out only once a person approves it in {DASHBOARD} (Posts, awaiting approval), or with {UPDATE_POST} "
        f"approved: true from a client that can ask them.{later}"
    )
    return ToolAnswer(data, " ".join(part for part in (held, notice) if part))


async def validate_post(account: Account, args: PostArguments) -> JSONObject:
    await check_before_sending(account, args)
    return await account.validate_post(args.payload())


# --- What Ayrshare said of a post, network by network ---------------------------------------------------------


def require_every_network(answer: JSONObject, *, body: JSONObject) -> JSONObject | ToolAnswer:
    """The answer, if every network took the post (or holds it, as asked); otherwise the error saying which did not.

    Raises:
        ToolRefusal: one or more networks failed, or a post meant to wait for approval went out.
    """
    outcome = _outcome(answer, body)
    if refusal := _refusal(outcome, answer, body):
        raise refusal
    if outcome.processing:
        return ToolAnswer(
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
        return _already_submitted(body, error.body)
    return None


def _already_submitted(body: JSONObject, data: JSONObject) -> ToolRefusal:
    return ToolRefusal(
        f"Not sent: this exact post was already submitted (today, for this profile; its idempotencyKey "
        f"{body.get('idempotencyKey')} was used). Look for it in {GET_POST_HISTORY} instead of posting again. To post "
        "the same text again on purpose, give a new idempotencyKey.",
        data,
    )


# --- One post: get, update, retry ------------------------------------------------------------------------------


class PostIdArguments(ToolArguments):
    id: PostId = Field(description="The Ayrshare post id (from a create or post history).")


async def get_post(account: Account, args: PostIdArguments) -> JSONObject:
    return await account.get_post(args.id)


class UpdatePostArguments(PostIdArguments):
    schedule_date: IsoDateTime | None = Field(
        default=None,
        alias="scheduleDate",
        description=f"A new time for a post not yet out, as for {CREATE_POST}; earlier than before asks the user.",
    )
    notes: Text | None = Field(default=None, max_length=1000, description="New private notes for the post.")
    approved: bool | None = Field(
        default=None,
        description="true approves a post awaiting approval: it goes out at its scheduleDate, or now. To reject "
        "one, delete it.",
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


async def update_post(account: Account, args: UpdatePostArguments, clearance: Clearance) -> JSONObject:
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


async def ask_before_updating(account: Account, args: UpdatePostArguments) -> Question | None:
    """Approving a post publishes it; moving one not yet out earlier brings it closer to going out, sooner than the
    person who agreed to it (or nobody, for a post created with nobody to ask) expects."""
    if not args.approved and args.schedule_date is None:
        return None
    post = await account.get_post(args.id)
    current = _future(moment_text(post.get("scheduleDate")))
    shown = Post(str(post.get("post", "")), _networks_of(post), _media_of(post), await _profile_title(account))
    now = datetime.now(UTC)
    if args.approved:
        at = args.schedule_date or current
        when = When(f"at {at} UTC ({in_words(datetime.fromisoformat(at), now)})", at) if at else When("now", "now")
        return publish_question(shown, when, verb="Approve and publish this post")
    assert args.schedule_date is not None
    earlier = current is None or args.schedule_date < current
    awaiting = post.get("status") == AWAITING_APPROVAL
    if not earlier or post.get("status") not in {AWAITING_APPROVAL, "pending"}:
        return None
    new = datetime.fromisoformat(args.schedule_date)
    was = f", from {current} UTC," if current else ""
    when = When(f"earlier{was} to {args.schedule_date} UTC ({in_words(new, now)})", args.schedule_date)
    verb = "Move this post, which awaits approval," if awaiting else "Move this scheduled post"
    return publish_question(shown, when, held=awaiting, verb=verb)


async def retry_post(account: Account, args: PostIdArguments, clearance: Clearance) -> JSONObject:
    return await account.retry_post(args.id)


async def require_failed(account: Account, args: PostIdArguments) -> None:
    """Only a post whose status is error can be retried: nobody is asked about any other.

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


async def ask_before_retrying(account: Account, args: PostIdArguments) -> Question:
    post = await account.get_post(args.id)
    failed = Post(
        str(post.get("post", "")), _networks_of(post, failed_only=True), _media_of(post), await _profile_title(account)
    )
    return publish_question(failed, When("again now", "again now"), verb="Publish this failed post")


def _networks_of(post: JSONObject, *, failed_only: bool = False) -> list[str]:
    if failed_only:
        return [str(error.get("platform")) for error in post.get("errors") or [] if isinstance(error, dict)]
    return [str(name) for name in post.get("platforms") or []]


def _media_of(post: JSONObject) -> list[str]:
    return [str(url) for url in post.get("mediaUrls") or []]


async def _profile_title(account: Account) -> str | None:
    user = await account.recent_user()
    return str(user["title"]) if user and isinstance(user.get("title"), str) else None


def _future(moment: str | None) -> str | None:
    """A scheduleDate, in UTC, if it is still ahead; None if it is past or unreadable."""
    normalised = utc_or_none(moment)
    return normalised if normalised and datetime.fromisoformat(normalised) > datetime.now(UTC) else None


def refuse_unattended_publish(args: Any, unattended: Unattended) -> Proceed[Any] | str:
    if unattended.publish == "direct":
        return Proceed(args, Clearance("operator"))
    return (
        "Nothing was sent: this publishes a post, and this client cannot ask a person to confirm (it does not "
        f"support MCP elicitation). Approve or retry it in {DASHBOARD}, or the server's operator can allow "
        f"publishing without confirmation with {ENV_PUBLISH}=direct."
    )


_DECLINED = "Nothing was sent: the user declined. Do not try again unless the user asks for it."

TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=CREATE_POST,
        title="Create Post",
        description=(
            "Publish a post now, at scheduleDate, or in an auto schedule's next free slot; the user confirms each. "
            f"Sent once: if the result is unclear, look in {GET_POST_HISTORY} before trying again; if some networks "
            f"failed, use {RETRY_POST}, never a new create."
        ),
        arguments=PostArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=Confirmation(
            check=check_before_sending,
            question=ask_before_publishing,
            act=create_post,
            declined="Nothing was published: the user declined. Do not try again unless the user asks for it.",
            unattended=publish_unattended,
        ),
    ),
    ToolSpec(
        name=VALIDATE_POST,
        title="Validate Post",
        description=(
            f"Check a post without publishing it: {CREATE_POST}'s arguments, through this server's checks and "
            "Ayrshare's (length, media, linked networks)."
        ),
        arguments=PostArguments,
        annotations=READ,
        handler=validate_post,
    ),
    ToolSpec(
        name=GET_POST,
        title="Get Post",
        description=("Get one post: text, networks, status, per-network ids and URLs, errors and scheduleDate."),
        arguments=PostIdArguments,
        annotations=READ,
        handler=get_post,
    ),
    ToolSpec(
        name=UPDATE_POST,
        title="Update Post",
        description=(
            "Change a post not yet out: a new scheduleDate, new notes, or approve one awaiting approval (the user "
            "confirms). Text, networks and media cannot change: delete it and create it again."
        ),
        arguments=UpdatePostArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=Confirmation(
            question=ask_before_updating, act=update_post, declined=_DECLINED, unattended=refuse_unattended_publish
        ),
    ),
    ToolSpec(
        name=RETRY_POST,
        title="Retry Post",
        description=(
            "Publish a failed post again on the networks that failed; the user confirms. Ayrshare retries once, "
            "if the error allows. Check first that the network did not publish it after all."
        ),
        arguments=PostIdArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=Confirmation(
            check=require_failed,
            question=ask_before_retrying,
            act=retry_post,
            declined=_DECLINED,
            unattended=refuse_unattended_publish,
        ),
    ),
)
