"""An async client for the Ayrshare REST API: one pooled connection per process, typed errors, hard deadlines.

It knows Ayrshare's quirks (empty history is an error, "no schedules" is an error) and smooths them into
plain answers, so its callers only see success or an `AyrshareError`. It knows nothing about MCP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2

from ayrshare_mcp import __version__
from ayrshare_mcp.config import Credentials, Settings
from ayrshare_mcp.errors import (
    AyrshareAPIError,
    AyrshareConnectionError,
    AyrshareError,
    AyrshareInvalidResponse,
    AyrshareTimeoutError,
)

logger = logging.getLogger(__name__)

NO_AUTO_SCHEDULES = 192
HISTORY_NOT_FOUND = 221

JSONObject = dict[str, Any]
QueryValue = str | int | bool | Sequence[str]


class AyrshareClient:
    """The Ayrshare endpoints the tools use. Credentials come with each call, so one client serves every session."""

    def __init__(self, http: httpx2.AsyncClient, *, call_timeout: float) -> None:
        self._http = http
        self._call_timeout = call_timeout

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None
    ) -> AsyncIterator[AyrshareClient]:
        """Open the pooled HTTP client for the life of the server; `transport` swaps the network (sandbox)."""
        timeout = httpx2.Timeout(settings.call_timeout, connect=settings.connect_timeout)
        headers = {"Accept": "application/json", "User-Agent": f"ayrshare-mcp/{__version__}"}
        async with httpx2.AsyncClient(
            base_url=settings.base_url + "/", timeout=timeout, headers=headers, transport=transport
        ) as http:
            yield cls(http, call_timeout=settings.call_timeout)

    async def list_auto_schedules(self, credentials: Credentials) -> JSONObject:
        try:
            return await self._call("GET", "auto-schedule/list", credentials)
        except AyrshareAPIError as error:
            if error.code == NO_AUTO_SCHEDULES:
                return {"status": "success", "schedules": {}}
            raise

    async def set_auto_schedule(self, credentials: Credentials, body: Mapping[str, Any]) -> JSONObject:
        return await self._call("POST", "auto-schedule/set", credentials, json=body)

    async def delete_post(self, credentials: Credentials, body: Mapping[str, Any]) -> JSONObject:
        return await self._call("DELETE", "post", credentials, json=body)

    async def get_history(self, credentials: Credentials, query: Mapping[str, QueryValue]) -> JSONObject:
        try:
            return await self._call("GET", "history", credentials, params=encode_query(query))
        except AyrshareAPIError as error:
            if error.code == HISTORY_NOT_FOUND:
                return {"history": [], "count": 0}
            raise

    async def get_user(self, credentials: Credentials) -> JSONObject:
        return await self._call("GET", "user", credentials)

    async def _call(
        self,
        method: str,
        path: str,
        credentials: Credentials,
        *,
        json: Mapping[str, Any] | None = None,
        params: httpx2.QueryParams | None = None,
    ) -> JSONObject:
        started = time.perf_counter()
        try:
            with anyio.fail_after(self._call_timeout):
                response = await self._http.request(
                    method, path, headers=_auth_headers(credentials), json=json, params=params
                )
        except (TimeoutError, httpx2.TimeoutException):
            raise AyrshareTimeoutError(
                f"Ayrshare did not answer {method} /{path} within {self._call_timeout:g} s. "
                "It may be slow or unreachable; try again in a minute."
            ) from None
        except httpx2.TransportError as exc:
            raise AyrshareConnectionError(
                f"Could not reach Ayrshare at {self._http.base_url.host} ({_describe(exc)}). "
                "Check the network and AYRSHARE_BASE_URL."
            ) from None
        logger.debug(
            "%s /%s -> %s in %.0f ms", method, path, response.status_code, (time.perf_counter() - started) * 1000
        )
        return parse_response(response)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _auth_headers(credentials: Credentials) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {credentials.api_key}"}
    if credentials.profile_key:
        headers["Profile-Key"] = credentials.profile_key
    return headers


def parse_response(response: httpx2.Response) -> JSONObject:
    """Ayrshare's JSON object on success.

    Raises:
        AyrshareInvalidResponse: the body is not a JSON object.
        AyrshareAPIError: an HTTP error status, or `"status": "error"` in the body (Ayrshare's own error signal).
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AyrshareInvalidResponse(response.status_code, response.headers.get("content-type", ""))
    if response.status_code >= 400 or body.get("status") == "error":
        raise AyrshareAPIError(response.status_code, body)
    return body


def encode_query(query: Mapping[str, QueryValue]) -> httpx2.QueryParams:
    """Encode lists as `name[0]=a&name[1]=b`, the form Ayrshare's own SDKs send."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in query.items():
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, str | int):
            pairs.append((name, str(value)))
        else:
            pairs.extend((f"{name}[{index}]", item) for index, item in enumerate(value))
    return httpx2.QueryParams(pairs)


__all__ = ["AyrshareClient", "AyrshareError", "encode_query", "parse_response"]
