"""The emulated direct messages: conversations on Facebook, Instagram and X, sending into them, and the profile's
auto-response (the engagement reference, "Messages"; Ayrshare's plugin's messages schemas).

Every call needs the Messaging add-on; `Switches.messaging_refusal_status` turns it off. The platform rules are
Ayrshare's: Facebook and Instagram need a recipientId, X needs text and takes one media item, and `limit` and
`next` are for X only. A message sent appears in its conversation; `receive` stands in for a person writing in.
"""

from __future__ import annotations

from typing import Any

from ayrshare_mcp.emulator.ayrshare import JSON, Ayrshare, Call, ErrorAnswer, Profile, Reply, Route, iso

PLATFORMS = ("facebook", "instagram", "twitter")
NEEDS_RECIPIENT = frozenset({"facebook", "instagram"})
X = "twitter"
STATUSES = frozenset({"active", "archived"})
DEFAULT_AUTO_RESPONSE = "Thanks for your message! We will get back to you soon."
DEFAULT_WAIT_SECONDS = 86400
X_PAGE = 100
# Ayrshare documents no code for a missing add-on; the one its plan refusals are seen with elsewhere.
NOT_ON_PLAN = 169


def _conversations(profile: Profile) -> dict[str, JSON]:
    conversations: dict[str, JSON] = profile.messaging.setdefault("conversations", {})
    return conversations


def _auto_response(profile: Profile) -> JSON:
    settings: JSON = profile.messaging.setdefault(
        "autoResponse",
        {"autoResponseActive": False, "autoResponseMessage": DEFAULT_AUTO_RESPONSE,
         "autoResponseWaitSeconds": DEFAULT_WAIT_SECONDS},
    )  # fmt: skip
    return settings


def _require_add_on(service: Ayrshare) -> None:
    status = service.switches.messaging_refusal_status
    if status is not None:
        raise ErrorAnswer(
            status, "Messaging is not enabled for this account or profile.", code=NOT_ON_PLAN, action="messages"
        )


def _platform(service: Ayrshare, call: Call) -> str:
    _require_add_on(service)
    platform = call.path["platform"]
    if platform not in PLATFORMS:
        raise ErrorAnswer(400, f"Messages are available on {', '.join(PLATFORMS)} only.", action="messages")
    service.require_x_credentials(call.x_headers, [], [platform])
    return platform


def receive(service: Ayrshare, profile: Profile, platform: str, sender: str, text: str) -> JSON:
    """A person writes to the profile on `platform`: the message, in the conversation with that sender."""
    conversation = _conversation_with(profile, platform, sender)
    return _add(service, conversation, "received", text, [], sender)


def _conversation_with(profile: Profile, platform: str, recipient: str) -> JSON:
    for conversation in _conversations(profile).values():
        if conversation["platform"] == platform and conversation["recipientId"] == recipient:
            return conversation
    conversation_id = f"{platform}-conversation-{len(_conversations(profile)) + 1}"
    conversation = {
        "id": conversation_id, "platform": platform, "recipientId": recipient, "status": "active", "messages": []
    }  # fmt: skip
    _conversations(profile)[conversation_id] = conversation
    return conversation


def _add(service: Ayrshare, conversation: JSON, action: str, text: str, media: list[str], person: str) -> JSON:
    message: JSON = {
        "id": f"{conversation['id']}-message-{len(conversation['messages']) + 1}",
        "action": action,
        "message": text,
        "conversationId": conversation["id"],
        "platform": conversation["platform"],
        "senderDetails": {"id": person if action == "received" else "me"},
        "recipientId": "me" if action == "received" else person,
        "created": iso(service.clock()),
    }
    if media:
        message["mediaUrls"] = media
    conversation["messages"].append(message)
    return message


def list_messages(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`GET /messages/:platform`: the conversation ids, or the messages (of one conversation), with X paging."""
    platform = _platform(service, call)
    query = call.query
    status = query.get("status", "active")
    if status not in STATUSES:
        raise ErrorAnswer(400, "status must be active or archived.", action="messages")
    if platform != X and ("limit" in query or "next" in query):
        raise ErrorAnswer(400, "limit and next are available on X (twitter) only.", action="messages")
    conversations = [
        conversation
        for conversation in _conversations(profile).values()
        if conversation["platform"] == platform and conversation["status"] == status
    ]
    if query.get("conversationsOnly") == "true":
        return Reply(
            200, {"status": "success", "conversationIds": [conversation["id"] for conversation in conversations]}
        )
    wanted = query.get("conversationId")
    messages = [
        message
        for conversation in conversations
        if wanted is None or conversation["id"] == wanted
        for message in conversation["messages"]
    ]
    answer: JSON = {"status": "success"}
    if platform == X:
        messages, after = _page(messages, query)
        if after is not None:
            answer["next"] = after
    now = iso(service.clock())
    return Reply(
        200, answer | {"messages": messages, "messagesCount": len(messages), "lastUpdated": now, "nextUpdate": now}
    )


def _page(messages: list[JSON], query: Any) -> tuple[list[JSON], str | None]:
    try:
        limit = int(query.get("limit", X_PAGE))
        start = int(query.get("next", "0"))
    except ValueError:
        raise ErrorAnswer(400, "limit must be a number and next a cursor from an earlier answer.") from None
    if not 1 <= limit <= X_PAGE or start < 0:
        raise ErrorAnswer(400, f"limit must be 1 to {X_PAGE}, next a cursor from an earlier answer.")
    end = start + limit
    return messages[start:end], str(end) if end < len(messages) else None


def send_message(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /messages/:platform`: text and/or media, to a recipient or into a conversation, under the platform's
    rules; it appears in the conversation."""
    platform = _platform(service, call)
    body = call.json_object()
    text, media = _content(platform, body)
    conversation = _target(profile, platform, body)
    message = _add(service, conversation, "sent", text, media, conversation["recipientId"])
    return Reply(200, {"status": "success", "messageId": message["id"]})


def _content(platform: str, body: JSON) -> tuple[str, list[str]]:
    text, media = body.get("message", ""), body.get("mediaUrls", [])
    if not isinstance(text, str) or not isinstance(media, list):
        raise ErrorAnswer(400, "message must be text and mediaUrls an array of URLs.", action="messages")
    if not all(isinstance(url, str) and url.startswith("https://") for url in media):
        raise ErrorAnswer(400, "Media URLs invalid. Please verify the media is an externally accessible URL.", code=136)
    if not text and not media:
        raise ErrorAnswer(400, "A message or mediaUrls is required.", action="messages")
    if platform == X and not text:
        raise ErrorAnswer(400, "X (twitter) messages require message text.", action="messages")
    if platform == X and len(media) > 1:
        raise ErrorAnswer(400, "X (twitter) messages take one media item.", action="messages")
    return text, [str(url) for url in media]


def _target(profile: Profile, platform: str, body: JSON) -> JSON:
    recipient, conversation_id = body.get("recipientId"), body.get("conversationId")
    if platform in NEEDS_RECIPIENT and not isinstance(recipient, str):
        raise ErrorAnswer(400, f"recipientId is required on {platform}.", action="messages")
    if isinstance(conversation_id, str):
        conversation = _conversations(profile).get(conversation_id)
        if conversation is None or conversation["platform"] != platform:
            raise ErrorAnswer(400, "Conversation not found.", action="messages")
        if isinstance(recipient, str) and recipient != conversation["recipientId"]:
            raise ErrorAnswer(400, "recipientId is not part of this conversation.", action="messages")
        return conversation
    if not isinstance(recipient, str) or not recipient:
        raise ErrorAnswer(400, "A recipientId or conversationId is required.", action="messages")
    return _conversation_with(profile, platform, recipient)


def get_auto_response(service: Ayrshare, profile: Profile) -> Reply:
    """`GET /messages/autoresponse`: the profile's auto-response settings."""
    _require_add_on(service)
    return Reply(200, {"status": "success", **_auto_response(profile)})


def set_auto_response(service: Ayrshare, profile: Profile, body: JSON) -> Reply:
    """`POST /messages/autoresponse`: any of the three settings; an empty message restores the default."""
    _require_add_on(service)
    settings = _auto_response(profile)
    changes = {name: body[name] for name in settings if name in body}
    if not changes:
        raise ErrorAnswer(400, f"Send at least one of {', '.join(settings)}.", action="messages")
    if not isinstance(changes.get("autoResponseActive", False), bool):
        raise ErrorAnswer(400, "autoResponseActive must be true or false.", action="messages")
    if not isinstance(changes.get("autoResponseMessage", ""), str):
        raise ErrorAnswer(400, "autoResponseMessage must be text.", action="messages")
    wait = changes.get("autoResponseWaitSeconds", 0)
    if isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
        raise ErrorAnswer(400, "autoResponseWaitSeconds must be a whole number of seconds.", action="messages")
    if changes.get("autoResponseMessage") == "":
        changes["autoResponseMessage"] = DEFAULT_AUTO_RESPONSE
    settings.update(changes)
    return Reply(200, {"status": "success", **settings})


ROUTES: dict[tuple[str, str], Route] = {
    # Exact paths are matched before "{platform}", so autoresponse is never taken for a network.
    ("GET", "/api/messages/autoresponse"): lambda service, profile, call: get_auto_response(service, profile),
    ("POST", "/api/messages/autoresponse"): lambda service, profile, call: set_auto_response(
        service, profile, call.json_object()
    ),
    ("GET", "/api/messages/{platform}"): list_messages,
    ("POST", "/api/messages/{platform}"): send_message,
}
