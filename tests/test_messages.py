"""The messages toolset through the MCP client, against the emulator: messages are read and sent under each network's
rules, a message and an auto-response reach people only after a yes bound to exactly what was shown, a message goes
out at most once, and a missing Messaging add-on is named with what to do about it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.emulator.messages import DEFAULT_AUTO_RESPONSE, receive
from tests.envelope import fail, succeed
from tests.modern import RawModernClient, the_question_was_asked
from tests.support import (
    API_KEY,
    PROFILE_KEY,
    WAIT,
    X_API_KEY,
    X_API_SECRET,
    RunningEmulator,
    User,
    client_from,
    server_env,
    serving_here,
    with_every_toolset,
)

pytestmark = pytest.mark.anyio

LIST, SEND = "AYRSHARE_LIST_MESSAGES", "AYRSHARE_SEND_MESSAGE"
GET_AUTO, SET_AUTO = "AYRSHARE_GET_AUTO_RESPONSE", "AYRSHARE_SET_AUTO_RESPONSE"
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 and the 2025-11-25 handshake
REPLY = {"platform": "instagram", "recipientId": "ig-person-7", "message": "Thanks! Your order ships today."}

# social-post-api 1.3.0 has no method for any /messages endpoint: the engagement reference
# (../shared/reference/ayrshare-engagement-api.md, "Messages") is the oracle, through the emulator built from it.
SDK_ORACLE_EXEMPT = dict.fromkeys(
    (LIST, SEND, GET_AUTO, SET_AUTO),
    "social-post-api 1.3.0 has no messages methods; the engagement reference is the oracle",
)


def wrote_in(emulator: RunningEmulator, platform: str, sender: str, text: str, profile: str | None = None) -> str:
    """A person writes to the profile; the conversation's id."""
    message = receive(emulator.service, emulator.service.profile(API_KEY, profile), platform, sender, text)
    return str(message["conversationId"])


def sent(emulator: RunningEmulator, platform: str) -> list[Any]:
    return [request.body for request in emulator.app.received(f"/api/messages/{platform}", method="POST")]


# --- reading -----------------------------------------------------------------------------------------------------


async def test_messages_people_wrote_are_listed_with_the_ids_a_reply_needs(
    emulator: RunningEmulator, home: Path
) -> None:
    conversation = wrote_in(emulator, "facebook", "fb-person-1", "Do you ship to Norway?")
    wrote_in(emulator, "instagram", "ig-person-2", "Not on facebook")

    async with with_every_toolset(emulator, home) as client:
        listed = await succeed(client, LIST, {"platform": "facebook"})
        ids = await succeed(client, LIST, {"platform": "facebook", "conversationsOnly": True})

    [message] = listed["messages"]
    assert (message["message"], message["conversationId"]) == ("Do you ship to Norway?", conversation)
    assert message["senderDetails"]["id"] == "fb-person-1"
    assert ids["conversationIds"] == [conversation]


async def test_x_messages_page_through_the_next_each_answer_passes_on(emulator: RunningEmulator, home: Path) -> None:
    for number in range(3):
        wrote_in(emulator, "twitter", "x-person", f"message {number}")

    async with with_every_toolset(
        emulator, home, AYRSHARE_X_API_KEY=X_API_KEY, AYRSHARE_X_API_SECRET=X_API_SECRET
    ) as client:
        first = await succeed(client, LIST, {"platform": "twitter", "limit": 2})
        rest = await succeed(client, LIST, {"platform": "twitter", "limit": 2, "next": first["next"]})

    assert [m["message"] for m in first["messages"] + rest["messages"]] == ["message 0", "message 1", "message 2"]
    assert "next" not in rest
    assert emulator.app.received("/api/messages/twitter")[1].query_dict() == {"limit": "2", "next": first["next"]}


async def test_paging_on_a_network_that_answers_in_one_page_is_refused_before_ayrshare_is_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, LIST, {"platform": "instagram", "limit": 10})

    assert "X (twitter) messages only" in refused["error"]
    assert emulator.app.requests == []


async def test_the_auto_response_is_off_with_ayrshares_default_text_until_set(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        settings = await succeed(client, GET_AUTO, {})

    assert settings["autoResponseActive"] is False
    assert settings["autoResponseMessage"] == DEFAULT_AUTO_RESPONSE


# --- the Messaging add-on --------------------------------------------------------------------------------------

EVERY_CALL = [
    (LIST, {"platform": "facebook"}),
    (SEND, REPLY),
    (GET_AUTO, {}),
    (SET_AUTO, {"autoResponseActive": True}),
]


@pytest.mark.parametrize("status", [402, 403])
@pytest.mark.parametrize(("tool", "arguments"), EVERY_CALL, ids=[tool for tool, _ in EVERY_CALL])
async def test_without_the_messaging_add_on_the_error_names_it_ayrshares_code_and_what_to_do(
    emulator: RunningEmulator, home: Path, status: int, tool: str, arguments: dict[str, Any]
) -> None:
    emulator.service.switches.messaging_refusal_status = status

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        refused = await fail(client, tool, arguments)

    assert f"HTTP {status}, code 169" in refused["error"]
    assert "the Messaging add-on (Business or Enterprise plan)" in refused["error"]
    assert "check the plan in the Ayrshare dashboard" in refused["error"]


# --- sending: a person reads exactly what goes out -------------------------------------------------------------


@ERAS
async def test_a_message_sent_after_yes_appears_in_its_conversation(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    conversation = wrote_in(emulator, "instagram", "ig-person-7", "Where is my order?")
    person = User()

    async with with_every_toolset(emulator, home, person=person, mode=mode) as client:
        answer = await succeed(client, SEND, REPLY)
        thread = await succeed(client, LIST, {"platform": "instagram", "conversationId": conversation})

    assert answer["status"] == "success"
    assert [(m["action"], m["message"]) for m in thread["messages"]] == [
        ("received", "Where is my order?"),
        ("sent", REPLY["message"]),
    ]
    assert thread["messages"][1]["id"] == answer["messageId"]
    assert len(person.questions) == 1


async def test_the_question_shows_the_text_with_hidden_characters_marked_the_network_recipient_and_profile(
    emulator: RunningEmulator, home: Path
) -> None:
    sneaky = REPLY | {"message": "Refund approved\u202e!on\u200b", "mediaUrls": ["https://img.example/label.png"]}
    person = User()

    async with with_every_toolset(emulator, home, person=person, AYRSHARE_PROFILE_KEY=PROFILE_KEY) as client:
        await succeed(client, SEND, sneaky)

    [question] = person.questions
    assert "Refund approved<U+202E>!on<U+200B>" in question
    assert "\u202e" not in question
    assert "on instagram to the person 'ig-person-7'" in question
    assert "https://img.example/label.png" in question
    assert "for the Ayrshare profile 'Profile " in question
    [body] = sent(emulator, "instagram")
    assert body == {k: v for k, v in sneaky.items() if k != "platform"}


async def test_a_message_the_person_declines_is_never_sent(emulator: RunningEmulator, home: Path) -> None:
    async with with_every_toolset(emulator, home, person=User("accept", confirm=False)) as client:
        refused = await fail(client, SEND, REPLY)

    assert refused["error"].startswith("Nothing was sent: the user declined")
    assert sent(emulator, "instagram") == []


async def test_a_yes_to_one_message_cannot_send_other_words_or_reach_another_person(
    emulator: RunningEmulator, home: Path
) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    command = ["--transport", "streamable-http", "--toolsets", "all"]
    async with serving_here(command, env) as (_, url, _log), client_from(None) as http:
        client = RawModernClient(http, url)
        with anyio.fail_after(WAIT):
            state = the_question_was_asked(await client.call(SEND, REPLY))
            reworded = await client.answer(SEND, REPLY | {"message": "Something nobody read"}, state)
            redirected = await client.answer(SEND, REPLY | {"recipientId": "ig-someone-else"}, state)
            shown = await client.answer(SEND, REPLY, state)

    assert reworded["error"]["message"] == redirected["error"]["message"] == "Invalid or expired requestState"
    assert shown["result"]["structuredContent"]["successful"] is True
    assert [body["recipientId"] for body in sent(emulator, "instagram")] == ["ig-person-7"]


# --- sending: at most once -------------------------------------------------------------------------------------


async def test_the_same_message_to_the_same_person_within_a_day_is_refused_before_anyone_is_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, SEND, REPLY)
        again = await fail(client, SEND, REPLY | {"message": "  Thanks!   Your order ships today. "})
        elsewhere = await succeed(client, SEND, REPLY | {"recipientId": "ig-person-8"})

    assert "already went to the person 'ig-person-7' on instagram" in again["error"]
    assert len(person.questions) == 2  # the first message, and the one to another person
    assert [body["recipientId"] for body in sent(emulator, "instagram")] == ["ig-person-7", "ig-person-8"]
    assert elsewhere["status"] == "success"


async def test_a_message_whose_answer_was_lost_is_not_sent_again_and_says_how_to_check(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=502, path="/api/messages/instagram", method="POST"))

    async with with_every_toolset(emulator, home, person=User()) as client:
        lost = await fail(client, SEND, REPLY)
        again = await fail(client, SEND, REPLY)

    assert len(sent(emulator, "instagram")) == 1
    assert "List the conversation's messages" in lost["error"]
    assert "already went" in again["error"]


async def test_under_approval_with_nobody_to_ask_nothing_is_sent_and_the_error_says_why(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, SEND, REPLY)

    assert "Ayrshare has no approval flow" in refused["error"]
    assert "AYRSHARE_PUBLISH=direct" in refused["error"]
    assert sent(emulator, "instagram") == []


async def test_under_direct_with_nobody_to_ask_the_message_is_sent(emulator: RunningEmulator, home: Path) -> None:
    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH="direct") as client:
        await succeed(client, SEND, REPLY)

    assert len(sent(emulator, "instagram")) == 1


BROKEN_RULES = {
    "x-without-text": ({"platform": "twitter", "conversationId": "c1", "mediaUrls": ["https://i.example/a.png"]},
                       "needs text"),
    "x-with-two-media": ({"platform": "twitter", "conversationId": "c1", "message": "Hi",
                          "mediaUrls": ["https://i.example/a.png", "https://i.example/b.png"]}, "one media item"),
    "facebook-without-recipient": ({"platform": "facebook", "conversationId": "c1", "message": "Hi"},
                                   "needs recipientId"),
    "nothing-to-send": ({"platform": "instagram", "recipientId": "p1", "message": ""}, "text (message), media"),
    "nobody-to-send-to": ({"platform": "twitter", "message": "Hi"}, "Say who gets it"),
    "too-long": ({"platform": "twitter", "conversationId": "c1", "message": "a" * 10_001}, "at most 10000"),
}  # fmt: skip


@pytest.mark.parametrize(("arguments", "why"), BROKEN_RULES.values(), ids=BROKEN_RULES.keys())
async def test_a_message_a_network_would_refuse_is_refused_before_anyone_is_asked(
    emulator: RunningEmulator, home: Path, arguments: dict[str, Any], why: str
) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        refused = await fail(client, SEND, arguments)

    assert why in refused["error"]
    assert "Nothing was sent" in refused["error"]
    assert person.questions == []
    assert emulator.app.requests == []


async def test_an_id_with_hidden_characters_is_refused_as_arguments(emulator: RunningEmulator, home: Path) -> None:
    async with with_every_toolset(emulator, home, person=User()) as client:
        refused = await fail(client, SEND, REPLY | {"recipientId": "ig-person-7\u200b"})
        blank = await fail(client, LIST, {"platform": "twitter", "next": ""})

    assert "no spaces or hidden characters" in refused["error"]
    assert "1 to 256 characters" in blank["error"]
    assert emulator.app.requests == []


# --- the auto-response -----------------------------------------------------------------------------------------


async def test_an_auto_response_set_after_yes_reads_back_and_an_empty_text_restores_the_default(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User()
    text = "Thanks for writing! We answer within a day."

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(
            client, SET_AUTO, {"autoResponseActive": True, "autoResponseMessage": text, "autoResponseWaitSeconds": 60}
        )
        after_set = await succeed(client, GET_AUTO, {})
        await succeed(client, SET_AUTO, {"autoResponseMessage": ""})
        after_reset = await succeed(client, GET_AUTO, {})

    assert (after_set["autoResponseActive"], after_set["autoResponseMessage"]) == (True, text)
    assert after_set["autoResponseWaitSeconds"] == 60
    assert after_reset["autoResponseMessage"] == DEFAULT_AUTO_RESPONSE
    first, second = person.questions
    assert text in first
    assert "to everyone who messages the profile, once per person every 60 seconds" in first
    assert "default auto-response, restored" in second


async def test_turning_the_auto_response_off_or_changing_it_while_off_asks_nobody(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        off = await succeed(client, SET_AUTO, {"autoResponseActive": False})
        while_off = await succeed(client, SET_AUTO, {"autoResponseMessage": "Back on Monday"})

    assert off["autoResponseActive"] is False
    assert while_off["autoResponseMessage"] == "Back on Monday"


async def test_turning_the_auto_response_on_with_nobody_to_ask_is_refused_under_approval(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, SET_AUTO, {"autoResponseActive": True})
        unchanged = await succeed(client, GET_AUTO, {})

    assert "auto-response cannot be held for approval" in refused["error"]
    assert unchanged["autoResponseActive"] is False
    assert emulator.app.received("/api/messages/autoresponse", method="POST") == []


async def test_a_yes_to_turning_the_auto_response_on_is_asked_again_if_its_text_changed_meanwhile(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User()
    settings = emulator.service.profile(API_KEY, None).messaging

    async def person_while_someone_edits_the_text(
        context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        if not person.questions:  # between the first question and its answer
            settings["autoResponse"]["autoResponseMessage"] = "Send us your card number"
        return await person(context, params)

    async with with_every_toolset(emulator, home, person=person_while_someone_edits_the_text, mode="legacy") as c:
        await succeed(c, GET_AUTO, {})
        await succeed(c, SET_AUTO, {"autoResponseActive": True})

    first, second = person.questions
    assert DEFAULT_AUTO_RESPONSE in first
    assert "Send us your card number" in second


async def test_setting_nothing_is_refused_before_anyone_is_asked(emulator: RunningEmulator, home: Path) -> None:
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        refused = await fail(client, SET_AUTO, {})

    assert "Give at least one of" in refused["error"]
    assert person.questions == []
    assert emulator.app.requests == []


# --- the emulator keeps Ayrshare's rules (for clients that do not check first) -------------------------------


@pytest.fixture
async def http(emulator: RunningEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with client_from(None, base_url=emulator.url + "/", headers=headers) as client:
        yield client


REFUSED_BY_THE_EMULATOR = {
    "linkedin": ("POST", "messages/linkedin", {"recipientId": "p", "message": "Hi"}, "available on"),
    "x-without-text": ("POST", "messages/twitter", {"conversationId": "c", "mediaUrls": ["https://i.example/a"]},
                       "require message text"),
    "x-two-media": ("POST", "messages/twitter", {"conversationId": "c", "message": "Hi",
                    "mediaUrls": ["https://i.example/a", "https://i.example/b"]}, "one media item"),
    "facebook-no-recipient": ("POST", "messages/facebook", {"conversationId": "c", "message": "Hi"},
                              "recipientId is required"),
    "no-content": ("POST", "messages/instagram", {"recipientId": "p"}, "message or mediaUrls"),
    "no-target": ("POST", "messages/twitter", {"message": "Hi"}, "recipientId or conversationId"),
    "unknown-conversation": ("POST", "messages/twitter", {"conversationId": "nope", "message": "Hi"}, "not found"),
    "wrong-types": ("POST", "messages/instagram", {"recipientId": "p", "message": 5}, "must be text"),
    "http-media": ("POST", "messages/instagram", {"recipientId": "p", "mediaUrls": ["http://i.example/a"]},
                   "Media URLs invalid"),
    "paging-instagram": ("GET", "messages/instagram?limit=5", None, "X (twitter) only"),
    "bad-status": ("GET", "messages/instagram?status=deleted", None, "active or archived"),
    "bad-limit": ("GET", "messages/twitter?limit=500", None, "limit must be 1 to"),
    "bad-cursor": ("GET", "messages/twitter?next=abc", None, "a cursor from an earlier answer"),
    "set-nothing": ("POST", "messages/autoresponse", {}, "at least one of"),
    "set-active-text": ("POST", "messages/autoresponse", {"autoResponseActive": "yes"}, "true or false"),
    "set-message-number": ("POST", "messages/autoresponse", {"autoResponseMessage": 1}, "must be text"),
    "set-wait-negative": ("POST", "messages/autoresponse", {"autoResponseWaitSeconds": -1}, "whole number"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "why"), REFUSED_BY_THE_EMULATOR.values(), ids=REFUSED_BY_THE_EMULATOR.keys()
)
async def test_the_emulator_refuses_what_ayrshare_documents_it_refuses(
    http: httpx2.AsyncClient, method: str, path: str, body: Any, why: str
) -> None:
    answer = await http.request(method, path, json=body)

    assert answer.status_code == 400
    assert why in answer.json()["message"]


async def test_the_emulator_sends_into_a_conversation_by_id_and_checks_the_recipient_belongs_to_it(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    conversation = wrote_in(emulator, "facebook", "fb-9", "Hello")

    into = await http.post("messages/facebook", json={"recipientId": "fb-9", "conversationId": conversation,
                                                     "mediaUrls": ["https://i.example/a.png"]})  # fmt: skip
    stranger = await http.post(
        "messages/facebook", json={"recipientId": "fb-1", "conversationId": conversation, "message": "Hi"}
    )
    archived = await http.get("messages/facebook", params={"status": "archived"})

    assert into.status_code == 200
    assert stranger.status_code == 400
    assert archived.json()["messages"] == []
    thread = emulator.service.profile(API_KEY, None).messaging["conversations"][conversation]["messages"]
    assert thread[-1]["mediaUrls"] == ["https://i.example/a.png"]


async def test_the_emulator_asks_for_the_x_pair_on_x_when_switched_on(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    emulator.service.switches.x_credentials_required = True

    answer = await http.get("messages/twitter")

    assert answer.status_code == 419
