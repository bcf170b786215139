"""Posts created when nobody could be asked, and posts placed in a slot nobody agreed to: held, checked, and
cancelled at once when Ayrshare did not do as asked, so that no post goes public that nobody read.

A hold is a post sent with requiresApproval. Until Ayrshare has been seen to hold this account's posts, it is also
scheduled at least a day ahead, so that a plan without approvals cannot make it public before it is cancelled. What
follows a create (a look at the post, its cancel) runs shielded from the call's cancellation, with a deadline of its
own; and no hold is sent when the rate limit leaves no room for them, or when the account ignored approval lately.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import anyio

from ayrshare_mcp.client import Account, AyrshareError, JSONObject
from ayrshare_mcp.settings import ENV_PUBLISH
from ayrshare_mcp.tools.fields import utc_or_none
from ayrshare_mcp.tools.outcome import AWAITING_APPROVAL, Outcome, moment_text, outcome_of
from ayrshare_mcp.tools.slots import far_enough, utc
from ayrshare_mcp.tools.spec import ToolRefusal
from ayrshare_mcp.tools.toolsets.core import DELETE_POST, GET_POST_HISTORY

# A post held for approval because nobody could be asked, on an account not yet seen to honour approvals, is
# scheduled at least this far ahead: if Ayrshare ignores requiresApproval, it is cancelled long before it goes out,
# and a cancel that fails (a slow Ayrshare, a spent budget) leaves a day to delete it by hand.
HOLD_AHEAD = timedelta(hours=24)
# What checking a held post may take after its create: a look at the post, and its cancel.
REQUESTS_AFTER_A_HOLD = 2
DASHBOARD = "the Ayrshare dashboard (app.ayrshare.com)"
NOBODY_TO_ASK = "Nobody could be asked to confirm this post"
ASK_INSTEAD = f"Ask the user from a client that can confirm (or the operator may choose {ENV_PUBLISH}=direct)."


async def held_body(account: Account, body: JSONObject) -> JSONObject:
    """The post held for approval. Until this account has been seen to honour approvals it is also scheduled at
    least a day ahead, so that a plan without them cannot make it public before it is cancelled.

    Raises:
        ToolRefusal: nothing was sent, because a post Ayrshare did not hold might not be cancelled in time: the
        account ignored requiresApproval lately, its slot would be Ayrshare's choice, or the rate limit leaves no
        room to check the post and cancel it.
    """
    honoured = await account.holds_for_approval()
    if honoured is False:
        raise ToolRefusal(
            f"{NOBODY_TO_ASK}, and this Ayrshare account did not hold the last such post for approval "
            f"(requiresApproval may not be part of its plan), so none is created. {ASK_INSTEAD} Nothing was sent."
        )
    headroom = await account.rate_headroom()
    if headroom is not None and headroom <= REQUESTS_AFTER_A_HOLD:
        raise ToolRefusal(
            f"{NOBODY_TO_ASK}, and Ayrshare's rate limit leaves this profile {headroom} request(s) in the current "
            "5-minute window: too few to create the post held for approval and still check it, or cancel it. Try "
            "again in a few minutes. Nothing was sent."
        )
    body = {**body, "requiresApproval": True}
    if honoured:
        return body
    if "autoSchedule" in body:
        raise ToolRefusal(
            f"{NOBODY_TO_ASK}, and this Ayrshare account has not yet been seen to hold posts for approval, so a post "
            "in an auto-schedule slot (which Ayrshare picks, perhaps minutes away) could go out unseen. Give a "
            f"scheduleDate instead. {ASK_INSTEAD} Nothing was sent."
        )
    earliest = datetime.now(UTC) + HOLD_AHEAD
    if "scheduleDate" not in body or datetime.fromisoformat(body["scheduleDate"]) < earliest:
        body["scheduleDate"] = utc(earliest)
    return body


async def finish(
    check: Callable[..., Awaitable[None]], account: Account, answer: JSONObject, **options: str | None
) -> None:
    """Check (and if need be cancel) the post just created, even if the call is cancelled meanwhile, within a whole
    call's time of its own: the create may have spent the call's, and a post nobody read must not stay behind."""
    with anyio.CancelScope(shield=True):
        await check(account.renewed(), answer, **options)


async def require_held(account: Account, answer: JSONObject) -> None:
    """Ayrshare must hold the post for approval, by its answer or by the post as it stands; otherwise it is
    cancelled (deleted, if it went out) at once.

    Raises:
        ToolRefusal: the post was not held (and was cancelled, or the error says it could not be).
    """
    outcome = outcome_of(answer, requested=[], now=False)
    if outcome.published:
        why = (
            f"Ayrshare published the post on {', '.join(outcome.published)} although it was sent to wait for approval "
            "(requiresApproval may not be part of this Ayrshare plan), and nobody could be asked to confirm it"
        )
        await account.saw_approvals(held=False)
        await _cancel(account, outcome, answer, why, public=True)
    if not outcome.awaiting_approval and outcome.post_id is not None:
        try:
            post = await account.get_post(outcome.post_id)
        except AyrshareError:
            post = {}
        outcome.awaiting_approval = post.get("status") == AWAITING_APPROVAL
    await account.saw_approvals(held=outcome.awaiting_approval)
    if outcome.awaiting_approval:
        return
    why = (
        "Ayrshare did not hold the post for approval (requiresApproval may not be part of this Ayrshare plan), and "
        "nobody could be asked to confirm it"
    )
    await _cancel(account, outcome, answer, why)


async def cancel_if_unagreed(account: Account, answer: JSONObject, *, agreed: str | None) -> None:
    """Ayrshare picks an auto schedule's slot itself: one less than 5 minutes away that the person did not agree
    to is cancelled. When the slot cannot be read from the answer, the post is looked up; when it still cannot
    be, it is cancelled.

    Raises:
        ToolRefusal: the post was cancelled (or could not be: the error says so).
    """
    outcome = outcome_of(answer, requested=[], now=False)
    if outcome.schedule_date is None and outcome.post_id is not None:
        with contextlib.suppress(AyrshareError):
            outcome.schedule_date = moment_text((await account.get_post(outcome.post_id)).get("scheduleDate"))
    slot = utc_or_none(outcome.schedule_date)
    if slot is not None and (far_enough(slot, datetime.now(UTC)) or slot == agreed):
        return
    where = f"a slot at {slot}, less than 5 minutes away," if slot else "a slot it did not say,"
    await _cancel(account, outcome, answer, f"Ayrshare put the post in {where} which nobody agreed to")


async def _cancel(account: Account, outcome: Outcome, answer: JSONObject, why: str, *, public: bool = False) -> None:
    """Delete the post just created, then refuse, saying why and whether it is gone.

    Raises:
        ToolRefusal: always.
    """
    if outcome.post_id is None:
        raise ToolRefusal(
            f"{why}, and its answer names no post id to cancel: find the post in {GET_POST_HISTORY} and delete it "
            f"with {DELETE_POST} unless it should be out.",
            answer,
        )
    try:
        # A deadline of its own: a slow look at the post must not leave no time to cancel it.
        await account.renewed().delete_post({"id": outcome.post_id})
    except AyrshareError as error:
        due = f" It is due to go out at {outcome.schedule_date} UTC." if outcome.schedule_date and not public else ""
        raise ToolRefusal(
            f"{why}, and cancelling it failed ({error.status_and_code()}).{due} Delete it now with {DELETE_POST} (id "
            f"{outcome.post_id}), or in {DASHBOARD}, unless it should be out.",
            answer,
        ) from None
    gone = (
        "so it was deleted at once; it was public for a moment and may have been seen"
        if public
        else "so it was cancelled before it went out: nothing was published"
    )
    raise ToolRefusal(
        f"{why}, {gone}. Ask the user from a client that can confirm, or give a scheduleDate at least 5 minutes ahead.",
        answer,
    )
