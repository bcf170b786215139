"""The Ayrshare operations the tools use, acting for one account until one deadline. Each is one endpoint (see
`endpoints`), with Ayrshare's quirks smoothed into plain answers: "no schedules" and "no history" are empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio

from ayrshare_mcp.client import endpoints
from ayrshare_mcp.client.answers import HISTORY_NOT_FOUND, NO_AUTO_SCHEDULES, JSONObject, QueryValue, encode_query
from ayrshare_mcp.client.endpoints import Operation
from ayrshare_mcp.client.errors import AyrshareAPIError, AyrshareError
from ayrshare_mcp.credentials import Credentials

if TYPE_CHECKING:
    from ayrshare_mcp.client.client import AyrshareClient

# How long a publish waits for GET /user before going ahead without the linked-network check.
USER_LOOKUP_SECONDS = 5.0


class Account:
    """The Ayrshare operations the tools use, acting for one set of credentials until one deadline."""

    def __init__(self, client: AyrshareClient, credentials: Credentials, deadline: float) -> None:
        self._client = client
        self.credentials = credentials
        self.deadline = deadline

    async def _send(self, operation: Operation) -> JSONObject:
        return await self._client.send(operation, self.credentials, self.deadline)

    async def list_auto_schedules(self) -> JSONObject:
        try:
            return await self._send(endpoints.LIST_AUTO_SCHEDULES())
        except AyrshareAPIError as error:
            if error.code == NO_AUTO_SCHEDULES:
                return {"status": "success", "schedules": {}}
            raise

    async def set_auto_schedule(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(endpoints.SET_AUTO_SCHEDULE(json=body))

    async def delete_post(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(endpoints.DELETE_POST(json=body))

    async def get_history(self, query: Mapping[str, QueryValue]) -> JSONObject:
        try:
            return await self._send(endpoints.HISTORY(params=encode_query(query) if query else None))
        except AyrshareAPIError as error:
            if error.code == HISTORY_NOT_FOUND:
                return {"history": [], "count": 0}
            raise

    async def get_user(self) -> JSONObject:
        user = await self._send(endpoints.USER())
        self._client.remember_user(self.credentials, user)
        return user

    async def recent_user(self) -> JSONObject | None:
        """This profile's GET /user answer, at most 5 minutes old, or fetched within 5 s; None when unknown.

        For checks and questions before publishing, not a gate: when /user cannot be read quickly, it is unknown.
        """
        user = self._client.recent_user(self.credentials)
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
        operation = endpoints.CREATE_POST(json=body)
        key = body.get("idempotencyKey")
        if not isinstance(key, str):
            return await self._send(operation)
        async with self._client.submitting(self.credentials, key):
            return await self._send(operation)

    def honours_approvals(self) -> bool:
        return self._client.honours_approvals(self.credentials)

    def approvals_honoured(self) -> None:
        self._client.approvals_honoured(self.credentials)

    async def validate_post(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(endpoints.VALIDATE_POST(json=body))

    async def get_post(self, post_id: str) -> JSONObject:
        return await self._send(endpoints.GET_POST(id=post_id))

    async def update_post(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(endpoints.UPDATE_POST(json=body))

    async def retry_post(self, post_id: str) -> JSONObject:
        return await self._send(endpoints.RETRY_POST(json={"id": post_id}))

    async def delete_auto_schedule(self, body: Mapping[str, Any]) -> JSONObject:
        return await self._send(endpoints.DELETE_AUTO_SCHEDULE(json=body))

    async def list_profiles(self) -> JSONObject:
        return await self._send(endpoints.PROFILES())
