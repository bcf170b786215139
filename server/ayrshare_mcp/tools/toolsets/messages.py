"""The messages toolset: direct messages on Facebook, Instagram and X, and the profile's auto-response.

A message and an auto-response put words in front of people, so both ask first, as publishing does (see
`tools.public`): the question shows exactly what goes out, where and for which profile, and the yes is bound to it;
with nobody to ask, AYRSHARE_PUBLISH=direct sends and approval refuses, since Ayrshare cannot hold them for
approval. A message is sent at most once: never repeated after it may have gone, and the same words to the same
person within a day are refused before anyone is asked. Turning the auto-response off asks nothing.

Every endpoint needs Ayrshare's Messaging add-on (see `client.account.MESSAGING`); a refusal names it. Ayrshare's
Python SDK has no messages methods, so the engagement reference is what these tools are checked against.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.client import Account, JSONObject
from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.tools.arguments import NOT_SENT, ToolArguments
from ayrshare_mcp.tools.characters import is_hidden
from ayrshare_mcp.tools.fields import HttpsUrls
from ayrshare_mcp.tools.public import (
    PUBLIC_DECLINED,
    Outgoing,
    profile_title,
    public_confirmation,
    public_question,
    unattended_decision,
)
from ayrshare_mcp.tools.spec import READ, WRITE, Clearance, Confirmation, ToolRefusal, ToolSpec

SUMMARY = "Direct messages on Facebook, Instagram and X, and the DM auto-response (Messaging add-on)."

LIST_MESSAGES = "AYRSHARE_LIST_MESSAGES"
SEND_MESSAGE = "AYRSHARE_SEND_MESSAGE"
GET_AUTO_RESPONSE = "AYRSHARE_GET_AUTO_RESPONSE"
SET_AUTO_RESPONSE = "AYRSHARE_SET_AUTO_RESPONSE"

X = "twitter"
PLATFORMS = ("facebook", "instagram", "twitter")
NEEDS_RECIPIENT = frozenset({"facebook", "instagram"})
MAX_ID = 256
# X's limit for a direct message, the longest of the three networks'.
MAX_MESSAGE = 10_000
MESSAGE_SEEN = "The recipient sees it at once; a message cannot be unsent."
AUTO_RESPONSE_SEEN = "Everyone who writes to the profile gets it, without anyone reading their message first."
# Ayrshare does not say what its default auto-response reads.
DEFAULT_SHOWN = "(Ayrshare's default auto-response, restored)"
ADD_ON = "Needs the Messaging add-on (Business or Enterprise plan)."


def _opaque_id(value: str) -> str:
    if not 1 <= len(value) <= MAX_ID:
        raise ValueError(f"an id is 1 to {MAX_ID} characters; copy it from {LIST_MESSAGES}")
    if any(character.isspace() or is_hidden(value, index) for index, character in enumerate(value)):
        raise ValueError(f"an id has no spaces or hidden characters; copy it from {LIST_MESSAGES}")
    return value


# Ayrshare's ids for people, conversations and pages: opaque, short and never spaced. Checked, not advertised: the
# model copies them from an answer, and the constraints in the schema would only cost context.
MessagingId = Annotated[str, AfterValidator(_opaque_id)]
MessagingPlatform = Literal["facebook", "instagram", "twitter"]


class ListMessagesArguments(ToolArguments):
    platform: MessagingPlatform = Field(description="Only these have direct messages.")
    conversations_only: bool | None = Field(
        default=None, alias="conversationsOnly", description="true: conversation ids only."
    )
    conversation_id: MessagingId | None = Field(
        default=None, alias="conversationId", description="Only this conversation's messages."
    )
    status: Literal["active", "archived"] | None = Field(
        default=None, description="archived: the archived conversations."
    )
    limit: int | None = Field(default=None, ge=1, le=100, description="X only: messages per page.")
    next: MessagingId | None = Field(default=None, description="X only: an answer's next.")

    body_excludes: ClassVar[frozenset[str]] = frozenset({"profile_key", "platform"})


async def list_messages(account: Account, args: ListMessagesArguments) -> JSONObject:
    if args.platform != X and (args.limit is not None or args.next is not None):
        raise ToolRefusal(
            f"limit and next page X (twitter) messages only; {args.platform} answers in one page. Leave them out. "
            f"{NOT_SENT}"
        )
    return await account.list_messages(args.platform, args.payload())


class SendMessageArguments(ToolArguments):
    platform: MessagingPlatform = Field(description="Only these have direct messages.")
    message: str | None = Field(default=None, description="The text, as it will be sent.")
    media_urls: HttpsUrls | None = Field(
        default=None,
        alias="mediaUrls",
        min_length=1,
        description="Public https media URLs, no duplicates; X takes one.",
    )
    recipient_id: MessagingId | None = Field(
        default=None,
        alias="recipientId",
        description="A sender id from a listing; needed on facebook and instagram.",
    )
    conversation_id: MessagingId | None = Field(
        default=None, alias="conversationId", description="Or, on X, the conversation to send into."
    )

    body_excludes: ClassVar[frozenset[str]] = frozenset({"profile_key", "platform"})


def message_out(args: SendMessageArguments) -> Outgoing:
    """The message as it goes out; its target names the person (and conversation) exactly, for the repeat check."""
    parts = [f"to the person {args.recipient_id!r}"] if args.recipient_id else []
    parts += [f"in the conversation {args.conversation_id!r}"] if args.conversation_id else []
    return Outgoing(
        "message",
        args.message or "",
        [args.platform],
        " ".join(parts),
        media=args.media_urls or (),
        consequence=MESSAGE_SEEN,
        addressed_to=[f"person {args.recipient_id}"] * bool(args.recipient_id)
        + [f"conversation {args.conversation_id}"] * bool(args.conversation_id),
    )


async def follows_the_platform_rules(account: Account, args: SendMessageArguments) -> None:
    """Ayrshare's rules for a message on each network, checked before anyone is asked about one it would refuse."""
    problem = _rule_broken(args)
    if problem:
        raise ToolRefusal(f"{problem} {NOT_SENT}")


def _rule_broken(args: SendMessageArguments) -> str | None:
    if args.message is not None and len(args.message) > MAX_MESSAGE:
        return f"The message is {len(args.message)} characters; networks take at most {MAX_MESSAGE}."
    if not args.message and args.media_urls is None:
        return "A message needs text (message), media (mediaUrls) or both."
    if args.platform == X and not args.message:
        return "A message on X needs text (message), even with media."
    if args.platform == X and len(args.media_urls or ()) > 1:
        return "A message on X takes one media item: send one mediaUrls entry."
    if args.platform in NEEDS_RECIPIENT and args.recipient_id is None:
        return f"A message on {args.platform} needs recipientId: the sender id of a message from {LIST_MESSAGES}."
    if args.recipient_id is None and args.conversation_id is None:
        return f"Say who gets it: recipientId, or a conversationId from {LIST_MESSAGES}."
    return None


async def send_message(account: Account, args: SendMessageArguments) -> JSONObject:
    return await account.send_message(args.platform, args.payload())


class SetAutoResponseArguments(ToolArguments):
    active: bool | None = Field(default=None, alias="autoResponseActive", description="Turn it on (true) or off.")
    message: str | None = Field(
        default=None,
        alias="autoResponseMessage",
        max_length=MAX_MESSAGE,
        description='Its text; "" restores the default.',
    )
    wait_seconds: int | None = Field(
        default=None,
        alias="autoResponseWaitSeconds",
        ge=0,
        description="Seconds before one person gets it again.",
    )


async def auto_response_question(account: Account, args: SetAutoResponseArguments) -> Question | None:
    """What people will be sent once it is set, or None when it will be off: nothing then goes out, and turning it
    on later asks. What the call leaves as it is (the text, the wait, whether it is on) is looked up now, and the
    yes is bound to it."""
    if args.active is False:
        return None
    given = args.message is not None and args.wait_seconds is not None and args.active is not None
    current = {} if given else await account.get_auto_response()
    if args.active is None and current.get("autoResponseActive") is False:
        return None
    text = args.message if args.message is not None else str(current.get("autoResponseMessage", ""))
    wait = args.wait_seconds if args.wait_seconds is not None else current.get("autoResponseWaitSeconds")
    target = "to everyone who messages the profile" + (f", once per person every {wait} seconds" if wait else "")
    outgoing = Outgoing("auto-response", text or DEFAULT_SHOWN, PLATFORMS, target, consequence=AUTO_RESPONSE_SEEN)
    return public_question(outgoing, await profile_title(account))


async def set_auto_response(account: Account, args: SetAutoResponseArguments, clearance: Clearance) -> JSONObject:
    return await account.set_auto_response(args.payload())


async def _something_to_change(account: Account, args: SetAutoResponseArguments) -> None:
    if args.active is None and args.message is None and args.wait_seconds is None:
        raise ToolRefusal(
            f"Give at least one of autoResponseActive, autoResponseMessage, autoResponseWaitSeconds. {NOT_SENT}"
        )


class GetAutoResponseArguments(ToolArguments):
    pass


async def get_auto_response(account: Account, args: GetAutoResponseArguments) -> JSONObject:
    return await account.get_auto_response()


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=LIST_MESSAGES,
        title="List Messages",
        description=(
            "Direct messages on one network, or only its conversation ids. Their conversationId and sender id are "
            f"what {SEND_MESSAGE} takes. On X, pass an answer's next back for more. {ADD_ON}"
        ),
        arguments=ListMessagesArguments,
        annotations=READ,
        handler=list_messages,
    ),
    ToolSpec(
        name=SEND_MESSAGE,
        title="Send Message",
        description=(f"Send a direct message; asks the user first. On X it needs text. {ADD_ON}"),
        arguments=SendMessageArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=public_confirmation(message_out, send_message, check=follows_the_platform_rules),
    ),
    ToolSpec(
        name=GET_AUTO_RESPONSE,
        title="Get Auto Response",
        description=f"The DM auto-response: whether it is on, its text, and its wait per person. {ADD_ON}",
        arguments=GetAutoResponseArguments,
        annotations=READ,
        handler=get_auto_response,
    ),
    ToolSpec(
        name=SET_AUTO_RESPONSE,
        title="Set Auto Response",
        description=f"Change the DM auto-response; asks the user first unless it ends up off. {ADD_ON}",
        arguments=SetAutoResponseArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=Confirmation(
            check=_something_to_change,
            question=auto_response_question,
            act=set_auto_response,
            declined=PUBLIC_DECLINED,
            unattended=lambda args, unattended: unattended_decision("auto-response", args, unattended),
        ),
    ),
)
