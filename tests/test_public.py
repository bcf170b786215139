"""What every public engagement act shares (tools/public.py), on its own: the question shows what goes out and binds
it, a repeat within the day is refused per account, target and network, and with nobody to ask the publishing switch
decides. The tools that use it are tested through the MCP client (test_comments.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from ayrshare_mcp.client import Account, AyrshareClient, JSONObject
from ayrshare_mcp.client.errors import AyrshareConnectionError, AyrshareOutcomeUnknown, AyrshareTimeoutError
from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.settings import Settings, Unattended
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.public import Outgoing, public_question, refuse_repeat, send_once, unattended_decision
from ayrshare_mcp.tools.spec import ToolRefusal
from tests.support import API_KEY, OTHER_API_KEY, PROFILE_KEY, WAIT

pytestmark = pytest.mark.anyio

COMMENT = Outgoing("comment", "Thanks for coming!", ["facebook", "twitter"], "under the post 'p1'")


@asynccontextmanager
async def accounts() -> AsyncIterator[AyrshareClient]:
    # Nothing here reaches Ayrshare: the acts are stand-ins; what is tested is what the client remembers.
    async with AyrshareClient.connect(Settings(base_url="http://127.0.0.1:9/api", environ={})) as client:
        yield client


def account(client: AyrshareClient, key: str = API_KEY, profile: str | None = None) -> Account:
    return client.account(Credentials(api_key=key, profile_key=profile))


class Sender:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent = 0
        self.error = error

    async def __call__(self) -> JSONObject:
        self.sent += 1
        if self.error is not None:
            raise self.error
        return {"status": "success"}


def test_the_question_shows_the_text_with_hidden_characters_marked_the_networks_the_target_and_the_profile() -> None:
    sneaky = Outgoing("reply", "Great\u202e!tahw\u200b", ["instagram"], "in reply to the comment 'c9'")

    question = public_question(sneaky, "Shop \u200bowner")

    assert "<U+202E>" in question.message
    assert "<U+200B>" in question.message
    assert "\u202e" not in question.message
    assert "instagram" in question.message
    assert "in reply to the comment 'c9'" in question.message
    assert "Shop <U+200B>owner" in question.message


def test_a_yes_is_bound_to_the_text_the_target_the_networks_and_the_media_but_not_the_profiles_display_name() -> None:
    shown = public_question(COMMENT, "Shop").subject

    assert public_question(COMMENT, "Renamed shop").subject == shown
    for changed in (
        Outgoing("comment", "Thanks for coming!!", COMMENT.platforms, COMMENT.target),
        Outgoing("comment", COMMENT.text, COMMENT.platforms, "under the post 'p2'"),
        Outgoing("comment", COMMENT.text, ["facebook"], COMMENT.target),
        Outgoing("comment", COMMENT.text, COMMENT.platforms, COMMENT.target, ["https://img.example/a.png"]),
        Outgoing("reply", COMMENT.text, COMMENT.platforms, COMMENT.target),
    ):
        assert public_question(changed, "Shop").subject != shown, changed


async def test_what_was_sent_is_refused_within_the_day_however_its_text_is_spaced_or_spelled() -> None:
    retyped = Outgoing("comment", "  Thanks\u00a0for \u200bcoming!\r\n", ["twitter"], COMMENT.target)
    async with accounts() as client:
        await send_once(account(client), COMMENT, Sender())

        with pytest.raises(ToolRefusal) as refused:
            await refuse_repeat(account(client), retyped)

    assert "twitter" in refused.value.message
    assert "24 hours" in refused.value.message


async def test_the_same_words_elsewhere_or_from_another_account_or_profile_are_not_a_repeat() -> None:
    async with accounts() as client:
        await send_once(account(client), COMMENT, Sender())

        await refuse_repeat(account(client), Outgoing("comment", COMMENT.text, ["linkedin"], COMMENT.target))
        await refuse_repeat(account(client), Outgoing("comment", COMMENT.text, ["twitter"], "under the post 'p2'"))
        await refuse_repeat(account(client), Outgoing("comment", "Something new", ["twitter"], COMMENT.target))
        await refuse_repeat(account(client, OTHER_API_KEY), COMMENT)
        await refuse_repeat(account(client, profile=PROFILE_KEY), COMMENT)


async def test_two_calls_sending_the_same_words_at_once_send_them_once() -> None:
    sender = Sender()
    refusals: list[str] = []

    async def one(client: AyrshareClient) -> None:
        try:
            await send_once(account(client), COMMENT, sender)
        except ToolRefusal as refusal:
            refusals.append(refusal.message)

    async with accounts() as client:
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(one, client)
                tg.start_soon(one, client)

    assert sender.sent == 1
    [refusal] = refusals
    assert "facebook, twitter" in refusal


async def test_an_act_that_may_have_been_sent_counts_as_sent_and_one_surely_not_sent_does_not() -> None:
    maybe = AyrshareOutcomeUnknown(AyrshareTimeoutError("no answer"), "Look for it under the post.")
    async with accounts() as client:
        with pytest.raises(AyrshareOutcomeUnknown):
            await send_once(account(client), COMMENT, Sender(maybe))
        with pytest.raises(ToolRefusal):
            await refuse_repeat(account(client), COMMENT)

        other = Outgoing("comment", "Another one", ["facebook"], COMMENT.target)
        with pytest.raises(AyrshareConnectionError):
            await send_once(account(client), other, Sender(AyrshareConnectionError("unreachable")))
        await refuse_repeat(account(client), other)


class Arguments(ToolArguments):
    pass


def test_with_nobody_to_ask_direct_sends_and_approval_refuses_saying_why_and_what_to_do() -> None:
    args = Arguments()

    direct = unattended_decision("comment", args, Unattended(publish="direct"))
    refused = unattended_decision("comment", args, Unattended(publish="approval"))

    assert not isinstance(direct, str)
    assert direct.clearance.by == "operator"
    assert isinstance(refused, str)
    assert "Nothing was sent" in refused
    assert "no approval flow" in refused
    assert "AYRSHARE_PUBLISH=direct" in refused
