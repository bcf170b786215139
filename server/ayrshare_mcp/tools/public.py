"""What every public engagement act shares (a comment, a reply, a message, an auto-response): it asks first, it is
sent at most once, and the same words to the same target are not sent twice within a day.

A tool declares what would go out as an `Outgoing` and gets its `Confirmation` from `public_confirmation`:
- nothing is asked about a repeat: the same text (normalised as for posts, see `post_keys`) to the same target on a
  network it already went to from this server (or a replica sharing its Redis) within 24 hours is refused first;
- the question shows the text with hidden characters marked, the networks, the target and the profile, and a yes is
  bound to all of them but the profile's display name (the account itself is bound by the confirmation's state);
- with nobody to ask, `AYRSHARE_PUBLISH` decides: `direct` sends, `approval` refuses, since Ayrshare has no approval
  flow that could hold a comment or a message as it holds a post;
- the send is held per target and network, so two concurrent calls cannot both send; its Endpoint is declared
  repeatable=False with a how_to_check, so a request whose answer was lost is never sent again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

from ayrshare_mcp.client import Account, AyrshareDuplicatePost, JSONObject
from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.settings import ENV_PUBLISH, Unattended
from ayrshare_mcp.tools.arguments import BaseArguments
from ayrshare_mcp.tools.post_keys import canonical_url, normalised_text
from ayrshare_mcp.tools.questions import for_profile, visible, what_goes_out
from ayrshare_mcp.tools.spec import Clearance, Confirmation, Proceed, ToolRefusal

ArgsT = TypeVar("ArgsT", bound=BaseArguments)

PUBLIC_CONSEQUENCE = "It is public as soon as it is sent; deleting it later does not unsee it."
PUBLIC_DECLINED = "Nothing was sent: the user declined. Do not try again unless the user asks for it."
# Keys of public acts never collide with a post's idempotencyKey in the client's memory of what was submitted.
_KEY_PREFIX = "public:"


@dataclass(frozen=True)
class Outgoing:
    """What a public act would put in front of people, as the person asked reads it."""

    # What it is, in a word: "comment", "reply", "message", "auto-response".
    what: str
    text: str
    platforms: Sequence[str]
    # Where it goes, as a phrase: "under the post 'abc'", "in reply to the comment 'xyz'", "to the person '123'".
    # It is also what "the same target" means for the repeat check, so it must name the target exactly.
    target: str
    media: Sequence[str] = ()
    consequence: str = PUBLIC_CONSEQUENCE
    # Every name the target goes by, for the repeat check, when there are several: a message to a person is a repeat
    # whether it names the person or their conversation. Default: the target phrase.
    addressed_to: Sequence[str] = ()


def public_question(outgoing: Outgoing, profile: str | None) -> Question:
    """ "Send this comment on facebook under the post 'abc', for the profile 'Shop'?" and the text as it goes out."""
    return Question(
        f"Send this {outgoing.what} on {', '.join(outgoing.platforms)} {visible(outgoing.target)}"
        f"{for_profile(profile)}? {what_goes_out(outgoing.text, outgoing.media)}",
        consent=f"Yes, send this {outgoing.what}",
        consequence=outgoing.consequence,
        # The profile's display name is looked up best-effort: the yes is about what goes out, and where.
        subject=json.dumps(
            [outgoing.what, outgoing.text, list(outgoing.platforms), outgoing.target, list(outgoing.media)]
        ),
    )


def repeat_keys(outgoing: Outgoing) -> list[tuple[str, str]]:
    """Per network and per name of the target, the key of "these words to this target there": equal for text a
    reader cannot tell apart."""
    keys = []
    for platform in outgoing.platforms:
        for target in outgoing.addressed_to or [outgoing.target]:
            seen = [
                outgoing.what,
                target,
                platform,
                normalised_text(outgoing.text),
                [canonical_url(url) for url in outgoing.media],
            ]
            digest = hashlib.sha256(json.dumps(seen, separators=(",", ":")).encode()).hexdigest()
            keys.append((platform, _KEY_PREFIX + digest[:40]))
    return keys


async def _networks_of(keys: list[tuple[str, str]], sent: Callable[[str], Awaitable[bool]]) -> list[str]:
    return list(dict.fromkeys([platform for platform, key in keys if await sent(key)]))


def _repeat(outgoing: Outgoing, platforms: Sequence[str]) -> ToolRefusal:
    return ToolRefusal(
        f"Not sent: the same {outgoing.what} (ignoring spacing, case forms and invisible characters) already went "
        f"{outgoing.target} on {', '.join(platforms)} from this server within the last 24 hours. Check it is there "
        "instead of sending it again; to say more, write something new."
    )


async def refuse_repeat(account: Account, outgoing: Outgoing) -> None:
    """Refuse, before anyone is asked, what already went to this target within a day.

    Raises:
        ToolRefusal: it is a repeat on one or more of its networks; nothing was sent.
    """
    if sent := await _networks_of(repeat_keys(outgoing), account.already_submitted):
        raise _repeat(outgoing, sent)


async def send_once(account: Account, outgoing: Outgoing, send: Callable[[], Awaitable[JSONObject]]) -> JSONObject:
    """`send()`, holding every network's key of `outgoing`, so a concurrent or later repeat within the day is refused.

    Raises:
        ToolRefusal: it went meanwhile (another call sent it); nothing was sent by this one.
    """
    keys = repeat_keys(outgoing)
    try:
        async with AsyncExitStack() as held:
            # One order for every caller, so two overlapping calls cannot each wait for the other's key.
            for key in sorted({key for _, key in keys}):
                await held.enter_async_context(account.submitting_once(key))
            return await send()
    except AyrshareDuplicatePost as repeat:
        refused_key = repeat.idempotency_key

        async def refused(key: str) -> bool:
            return key == refused_key

        sent = await _networks_of(keys, account.already_submitted) or await _networks_of(keys, refused)
        raise _repeat(outgoing, sent) from None


def unattended_decision(what: str, args: ArgsT, unattended: Unattended) -> Proceed[ArgsT] | str:
    """With nobody to ask: send under AYRSHARE_PUBLISH=direct; under approval, refuse, saying why and what to do."""
    if unattended.publish == "direct":
        return Proceed(args, Clearance("operator"))
    return (
        f"Nothing was sent: a {what} needs a person's yes, and this client cannot ask one (it does not support MCP "
        f"elicitation). Unlike a post, a {what} cannot be held for approval: Ayrshare has no approval flow for it. "
        f"Use a client that can ask the user, or the server's operator can allow sending without confirmation with "
        f"{ENV_PUBLISH}=direct."
    )


async def profile_title(account: Account) -> str | None:
    user = await account.recent_user()
    return str(user["title"]) if user and isinstance(user.get("title"), str) else None


def public_confirmation(
    outgoing: Callable[[ArgsT], Outgoing],
    send: Callable[[Account, ArgsT], Awaitable[JSONObject]],
    *,
    check: Callable[[Account, ArgsT], Awaitable[None]] | None = None,
) -> Confirmation[ArgsT]:
    """The `Confirmation` of a public act: what `outgoing(args)` describes is checked, asked about, and sent once by
    `send(account, args)`; `check` adds the act's own checks (raising ToolRefusal), made before anyone is asked."""

    async def checked(account: Account, args: ArgsT) -> None:
        await refuse_repeat(account, outgoing(args))
        if check is not None:
            await check(account, args)

    async def question(account: Account, args: ArgsT) -> Question:
        return public_question(outgoing(args), await profile_title(account))

    async def act(account: Account, args: ArgsT, clearance: Clearance) -> JSONObject:
        return await send_once(account, outgoing(args), lambda: send(account, args))

    return Confirmation(
        check=checked,
        question=question,
        act=act,
        declined=PUBLIC_DECLINED,
        unattended=lambda args, unattended: unattended_decision(outgoing(args).what, args, unattended),
    )
