"""The Ayrshare operations the tools use, acting for one account until one deadline, and the endpoints they call.
Ayrshare's quirks are smoothed into plain answers: "no schedules" and "no history" are empty.

A new operation is an `Endpoint` declared below and an `Account` method that sends it; nothing else in the client
changes."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import anyio

from ayrshare_mcp.client.answers import HISTORY_NOT_FOUND, NO_AUTO_SCHEDULES, JSONObject, QueryValue, encode_query
from ayrshare_mcp.client.endpoints import (
    HOW_TO_CHECK_A_CHANGE,
    HOW_TO_CHECK_A_DELETE,
    HOW_TO_CHECK_A_POST,
    Endpoint,
    Operation,
)
from ayrshare_mcp.client.errors import AyrshareAPIError, AyrshareError
from ayrshare_mcp.credentials import Credentials

# --- The endpoints the operations below call -----------------------------------------------------------------

LIST_AUTO_SCHEDULES = Endpoint("GET", "auto-schedule/list", changes=False)
# Setting a schedule is an upsert: the same body twice leaves the same schedule.
SET_AUTO_SCHEDULE = Endpoint("POST", "auto-schedule/set")
DELETE_AUTO_SCHEDULE = Endpoint(
    "DELETE",
    "auto-schedule/delete",
    repeatable=False,
    how_to_check="List the auto schedules to see whether it is gone before trying again.",
)
HISTORY = Endpoint("GET", "history", changes=False)
DELETE_POST = Endpoint("DELETE", "post", repeatable=False, how_to_check=HOW_TO_CHECK_A_DELETE)
# Never repeated once it may have reached Ayrshare: a post must go out at most once.
CREATE_POST = Endpoint("POST", "post", repeatable=False, how_to_check=HOW_TO_CHECK_A_POST)
VALIDATE_POST = Endpoint("POST", "validate/post", changes=False)
# A failed post answers 200 with its own "status": "error".
GET_POST = Endpoint("GET", "post/{id}", changes=False, status_field_is_outcome=False)
# PUT, as both of Ayrshare's SDKs send it (the docs now also show PATCH). An approval publishes: not repeated.
UPDATE_POST = Endpoint("PUT", "post", repeatable=False, how_to_check=HOW_TO_CHECK_A_CHANGE)
RETRY_POST = Endpoint("PUT", "post/retry", repeatable=False, how_to_check=HOW_TO_CHECK_A_CHANGE)
# Comments and analytics need the Premium plan or higher (Ayrshare's comments and analytics pages).
PREMIUM = "the Premium plan or higher"
GET_COMMENTS = Endpoint("GET", "comments/{id}", changes=False, needs=PREMIUM)
# A comment or reply is public the moment it lands: never repeated once it may have been sent.
POST_COMMENT = Endpoint(
    "POST",
    "comments",
    repeatable=False,
    how_to_check="Look for it under the post (get its comments) before trying again.",
    needs=PREMIUM,
)
REPLY_COMMENT = Endpoint(
    "POST",
    "comments/reply",
    repeatable=False,
    how_to_check="Look for the reply under the comment (get the post's comments) before trying again.",
    needs=PREMIUM,
)
DELETE_COMMENTS = Endpoint(
    "DELETE",
    "comments/{id}",
    repeatable=False,
    how_to_check="Get the post's comments to see whether it is gone before trying again.",
    needs=PREMIUM,
)
USER = Endpoint("GET", "user", changes=False)
PROFILES = Endpoint("GET", "profiles", changes=False)
# Direct messages and the auto-response need the Messaging add-on; a refusal names it. A message or a change to
# the auto-response reaches people, so neither is repeated once it may have been sent.
MESSAGING = "the Messaging add-on (Business or Enterprise plan)"
GET_AUTO_RESPONSE = Endpoint("GET", "messages/autoresponse", changes=False, needs=MESSAGING)
SET_AUTO_RESPONSE = Endpoint(
    "POST",
    "messages/autoresponse",
    repeatable=False,
    how_to_check="Get the auto-response to see whether it changed before trying again.",
    needs=MESSAGING,
)
LIST_MESSAGES = Endpoint("GET", "messages/{platform}", changes=False, needs=MESSAGING)
SEND_MESSAGE = Endpoint(
    "POST",
    "messages/{platform}",
    repeatable=False,
    how_to_check="List the conversation's messages to see whether it arrived before sending again.",
    needs=MESSAGING,
)
# Analytics needs Premium or higher (Ayrshare's analytics overview); history by platform is not said to need more.
POST_ANALYTICS = Endpoint("POST", "analytics/post", changes=False, needs=PREMIUM)
SOCIAL_ANALYTICS = Endpoint("POST", "analytics/social", changes=False, needs=PREMIUM)
PLATFORM_HISTORY = Endpoint("GET", "history/{platform}", changes=False)
# An upload repeated would be a second copy in the library, and its answer (the URL) is the only way to find it.
UPLOAD_MEDIA = Endpoint(
    "POST",
    "media/upload",
    repeatable=False,
    how_to_check="List the media library (AYRSHARE_LIST_MEDIA) to see whether it arrived before uploading again.",
)
# A presigned URL for one PUT; asking twice only makes a second unused URL.
MEDIA_UPLOAD_URL = Endpoint("GET", "media/uploadUrl")
# Documented as a bare array.
LIST_MEDIA = Endpoint("GET", "media", changes=False, array_answer="media")
# "status": "error" with the fetch's statusCode is the answer "it does not exist", not a failed call.
VERIFY_MEDIA_URL = Endpoint("POST", "media/urlExists", changes=False, status_field_is_outcome=False)

# Every request the client may send (the tests read it): derived from the declarations above.
ENDPOINTS: tuple[Endpoint, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Endpoint))

# How long a publish waits for GET /user before going ahead without the linked-network check.
USER_LOOKUP_SECONDS = 5.0


class Sender(Protocol):
    """What an `Account` needs of the client (`AyrshareClient`): sending, and what it remembers per account."""

    call_timeout: float

    async def send(self, operation: Operation, credentials: Credentials, deadline: float) -> JSONObject: ...
    async def remember_user(self, credentials: Credentials, user: JSONObject) -> None: ...
    async def recent_user(self, credentials: Credentials) -> JSONObject | None: ...
    def submitting(self, credentials: Credentials, idempotency_key: str) -> AbstractAsyncContextManager[None]: ...
    async def already_submitted(self, credentials: Credentials, idempotency_key: str) -> bool: ...
    def one_hold_at_a_time(self, credentials: Credentials) -> AbstractAsyncContextManager[None]: ...
    async def holds_for_approval(self, credentials: Credentials) -> bool | None: ...
    async def saw_approvals(self, credentials: Credentials, *, held: bool) -> None: ...
    async def rate_headroom(self, credentials: Credentials) -> int | None: ...


class Account:
    """The Ayrshare operations the tools use, acting for one set of credentials until one deadline."""

    def __init__(self, client: Sender, credentials: Credentials, deadline: float) -> None:
        self._client = client
        self.credentials = credentials
        self.deadline = deadline

    def renewed(self) -> Account:
        """The same account with a whole call's time from now: for what must follow an operation whose deadline
        may be spent (checking or cancelling a post just created)."""
        return Account(self._client, self.credentials, anyio.current_time() + self._client.call_timeout)

    async def _send(self, operation: Operation) -> JSONObject:
        return await self._client.send(operation, self.credentials, self.deadline)

    async def list_auto_schedules(self) -> JSONObject:
        try:
            return await self._send(LIST_AUTO_SCHEDULES())
        except AyrshareAPIError as error:
            if error.code == NO_AUTO_SCHEDULES:
                return {"status": "success", "schedules": {}}
            raise

    async def set_auto_schedule(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(SET_AUTO_SCHEDULE(json=body))

    async def delete_post(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(DELETE_POST(json=body))

    async def get_history(self, query: Mapping[str, QueryValue]) -> JSONObject:
        try:
            return await self._send(HISTORY(params=encode_query(query) if query else None))
        except AyrshareAPIError as error:
            if error.code == HISTORY_NOT_FOUND:
                return {"history": [], "count": 0}
            raise

    async def get_user(self) -> JSONObject:
        user = await self._send(USER())
        await self._client.remember_user(self.credentials, user)
        return user

    async def recent_user(self) -> JSONObject | None:
        """This profile's GET /user answer, at most 5 minutes old, or fetched within 5 s; None when unknown.

        For checks and questions before publishing, not a gate: when /user cannot be read quickly, it is unknown.
        """
        user = await self._client.recent_user(self.credentials)
        if user is None:
            soon = min(self.deadline, anyio.current_time() + USER_LOOKUP_SECONDS)
            try:
                user = await Account(self._client, self.credentials, soon).get_user()
            except AyrshareError:
                return None
        return user

    async def linked_networks(self) -> set[str] | None:
        """The networks linked to this profile, when a recent GET /user says; None when unknown."""
        user = await self.recent_user()
        if user is None:
            return None
        # Ayrshare leaves the field out when nothing is linked.
        linked = user.get("activeSocialAccounts", [])
        return {str(name) for name in linked} if isinstance(linked, list) else None

    async def create_post(self, body: Mapping[str, Any]) -> JSONObject:
        operation = CREATE_POST(json=body)
        key = body.get("idempotencyKey")
        if not isinstance(key, str):
            return await self._send(operation)
        async with self._client.submitting(self.credentials, key):
            return await self._send(operation)

    async def already_submitted(self, key: str) -> bool:
        """Whether `key` (an idempotencyKey, or a key `submitting_once` was given) was submitted for this account
        from here within the last day."""
        return await self._client.already_submitted(self.credentials, key)

    def submitting_once(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the one submission of `key` for this account: a concurrent one waits, and a later one within the day
        is refused (AyrshareDuplicatePost) unless the first surely created nothing."""
        return self._client.submitting(self.credentials, key)

    async def holds_for_approval(self) -> bool | None:
        """Whether Ayrshare holds this account's posts for approval, as last seen (False: it ignored
        requiresApproval within the hour); None when not known."""
        return await self._client.holds_for_approval(self.credentials)

    async def saw_approvals(self, *, held: bool) -> None:
        await self._client.saw_approvals(self.credentials, held=held)

    def one_hold_at_a_time(self) -> AbstractAsyncContextManager[None]:
        """Unattended creates for this account, each with its check and cancel, one at a time."""
        return self._client.one_hold_at_a_time(self.credentials)

    async def rate_headroom(self) -> int | None:
        """Requests this account may still send in the current rate-limit window; None when not known."""
        return await self._client.rate_headroom(self.credentials)

    async def validate_post(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(VALIDATE_POST(json=body))

    async def get_post(self, post_id: str) -> JSONObject:
        return await self._send(GET_POST(id=post_id))

    async def update_post(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(UPDATE_POST(json=body))

    async def retry_post(self, post_id: str) -> JSONObject:
        return await self._send(RETRY_POST(json={"id": post_id}))

    async def delete_auto_schedule(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(DELETE_AUTO_SCHEDULE(json=body))

    async def list_profiles(self) -> JSONObject:
        return await self._send(PROFILES())

    async def get_comments(self, comment_id: str, query: Mapping[str, QueryValue]) -> JSONObject:
        return await self._send(GET_COMMENTS(id=comment_id, params=encode_query(query) if query else None))

    async def post_comment(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(POST_COMMENT(json=body))

    async def reply_comment(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(REPLY_COMMENT(json=body))

    async def delete_comments(self, comment_id: str, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(DELETE_COMMENTS(id=comment_id, json=body))

    async def list_messages(self, platform: str, query: Mapping[str, QueryValue]) -> JSONObject:
        return await self._send(LIST_MESSAGES(platform=platform, params=encode_query(query) if query else None))

    async def send_message(self, platform: str, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(SEND_MESSAGE(platform=platform, json=body))

    async def get_auto_response(self) -> JSONObject:
        return await self._send(GET_AUTO_RESPONSE())

    async def set_auto_response(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(SET_AUTO_RESPONSE(json=body))

    async def post_analytics(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(POST_ANALYTICS(json=body))

    async def social_analytics(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(SOCIAL_ANALYTICS(json=body))

    async def platform_history(self, platform: str, query: Mapping[str, QueryValue]) -> JSONObject:
        return await self._send(PLATFORM_HISTORY(platform=platform, params=encode_query(query) if query else None))

    async def upload_media(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(UPLOAD_MEDIA(json=body))

    async def media_upload_url(self, file_name: str, content_type: str) -> JSONObject:
        return await self._send(
            MEDIA_UPLOAD_URL(params=encode_query({"fileName": file_name, "contentType": content_type}))
        )

    async def list_media(self) -> JSONObject:
        return await self._send(LIST_MEDIA())

    async def verify_media_url(self, url: str) -> JSONObject:
        try:
            return await self._send(VERIFY_MEDIA_URL(json={"mediaUrl": url}))
        except AyrshareAPIError as error:
            # A URL Ayrshare could not fetch is an answer (its statusCode), whatever HTTP status carries it: the docs
            # show the body only.
            if "statusCode" in error.body and error.status < 500 and error.status not in (401, 403, 429):
                return error.body
            raise
