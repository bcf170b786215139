"""The messages toolset: read direct messages on Facebook, Instagram and X, and the profile's auto-response.

Every endpoint needs Ayrshare's Messaging add-on (see `client.account.MESSAGING`); a refusal names it. Ayrshare's
Python SDK has no messages methods, so the engagement reference is what these tools are checked against.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from ayrshare_mcp.client import Account, JSONObject
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.characters import is_hidden
from ayrshare_mcp.tools.spec import READ, ToolRefusal, ToolSpec

SUMMARY = "Direct messages on Facebook, Instagram and X, and the DM auto-response (Messaging add-on)."

LIST_MESSAGES = "AYRSHARE_LIST_MESSAGES"
SEND_MESSAGE = "AYRSHARE_SEND_MESSAGE"
GET_AUTO_RESPONSE = "AYRSHARE_GET_AUTO_RESPONSE"
SET_AUTO_RESPONSE = "AYRSHARE_SET_AUTO_RESPONSE"

X = "twitter"
MAX_ID = 256
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
    platform: MessagingPlatform = Field(description="One network; direct messages exist on these only.")
    conversations_only: bool | None = Field(
        default=None, alias="conversationsOnly", description="true: only the conversation ids, no messages."
    )
    conversation_id: MessagingId | None = Field(
        default=None, alias="conversationId", description="Only this conversation's messages."
    )
    status: Literal["active", "archived"] | None = Field(
        default=None, description="archived: the archived conversations."
    )
    limit: int | None = Field(default=None, ge=1, le=100, description="X only: messages per page.")
    next: MessagingId | None = Field(default=None, description="X only: the previous answer's next, for more.")

    body_excludes: ClassVar[frozenset[str]] = frozenset({"profile_key", "platform"})


async def list_messages(account: Account, args: ListMessagesArguments) -> JSONObject:
    if args.platform != X and (args.limit is not None or args.next is not None):
        raise ToolRefusal(
            f"limit and next page X (twitter) messages only; {args.platform} answers in one page. Leave them out. "
            "Nothing was sent."
        )
    return await account.list_messages(args.platform, args.payload())


class GetAutoResponseArguments(ToolArguments):
    pass


async def get_auto_response(account: Account, args: GetAutoResponseArguments) -> JSONObject:
    return await account.get_auto_response()


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=LIST_MESSAGES,
        title="List Messages",
        description=(
            "Direct messages on one network: recent conversations' messages, one conversation's, or only the "
            f"conversation ids; {SEND_MESSAGE} takes their conversationId and sender id. On X, pass an answer's next "
            f"back for more. {ADD_ON}"
        ),
        arguments=ListMessagesArguments,
        annotations=READ,
        handler=list_messages,
    ),
    ToolSpec(
        name=GET_AUTO_RESPONSE,
        title="Get Auto Response",
        description=(
            "The profile's DM auto-response: whether it is on, its text, and the seconds it waits before answering "
            f"the same person again. {ADD_ON}"
        ),
        arguments=GetAutoResponseArguments,
        annotations=READ,
        handler=get_auto_response,
    ),
)
