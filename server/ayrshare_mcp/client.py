"""An async client for the Ayrshare REST API: one pooled connection per process, typed errors, hard deadlines.

It knows Ayrshare's quirks (empty history is an error, "no schedules" is an error) and smooths them into
plain answers, so its callers only see success or an `AyrshareError`. It knows nothing about MCP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import anyio
import httpx2

from ayrshare_mcp import __version__
from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.errors import (
    AyrshareAPIError,
    AyrshareConnectionError,
    AyrshareError,
    AyrshareInvalidResponse,
    AyrshareOutcomeUnknown,
    AyrshareRateLimited,
    AyrshareTimeoutError,
)
from ayrshare_mcp.policy import RETRYABLE_SERVER_STATUSES, RateLimits, RetryPolicy, identity, parse_retry_after
from ayrshare_mcp.settings import Settings

logger = logging.getLogger(__name__)

NO_AUTO_SCHEDULES = 192
HISTORY_NOT_FOUND = 221

JSONObject = dict[str, Any]
QueryValue = str | int | bool | Sequence[str]


# Failures that happen before the request left this process: repeating them cannot act twice.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
_DEADLINE: ContextVar[float | None] = ContextVar("ayrshare_call_deadline", default=None)
HOW_TO_CHECK_A_DELETE = "Check post history with status=deleted to see whether it was deleted before trying again."


class AyrshareClient:
    """The Ayrshare endpoints the tools use. Credentials come with each call, so one client serves every session.

    Every call ends by its deadline (see `deadline`), retries only where repeating cannot act twice, and is not
    sent at all while the profile's rate-limit budget is known to be spent.
    """

    def __init__(
        self, open_http: Callable[[], httpx2.AsyncClient], *, call_timeout: float, retry: RetryPolicy | None = None
    ) -> None:
        self._open_http = open_http
        self._client: httpx2.AsyncClient | None = None
        self._call_timeout = call_timeout
        self._retry = retry or RetryPolicy()
        self.rate_limits = RateLimits()

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None
    ) -> AsyncIterator[AyrshareClient]:
        """The client for the life of the server; `transport` swaps the network (sandbox).

        The pooled HTTP client opens on first use: building it loads the TLS trust store, which a host that only
        lists tools should not wait for.
        """

        def open_http() -> httpx2.AsyncClient:
            return httpx2.AsyncClient(
                base_url=settings.base_url + "/",
                timeout=httpx2.Timeout(settings.call_timeout, connect=settings.connect_timeout),
                headers={"Accept": "application/json", "User-Agent": f"ayrshare-mcp/{__version__}"},
                transport=transport,
            )

        retry = RetryPolicy(max_retries=settings.max_retries, base_delay=settings.retry_base_delay)
        client = cls(open_http, call_timeout=settings.call_timeout, retry=retry)
        try:
            yield client
        finally:
            await client.aclose()

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = self._open_http()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @contextmanager
    def deadline(self, seconds: float | None = None) -> Iterator[None]:
        """Every request made inside shares one deadline, retries and waits included."""
        token = _DEADLINE.set(anyio.current_time() + (seconds if seconds is not None else self._call_timeout))
        try:
            yield
        finally:
            _DEADLINE.reset(token)

    async def list_auto_schedules(self, credentials: Credentials) -> JSONObject:
        try:
            return await self._call("GET", "auto-schedule/list", credentials)
        except AyrshareAPIError as error:
            if error.code == NO_AUTO_SCHEDULES:
                return {"status": "success", "schedules": {}}
            raise

    async def set_auto_schedule(self, credentials: Credentials, body: Mapping[str, Any]) -> JSONObject:
        # Setting a schedule is an upsert: the same body twice leaves the same schedule.
        return await self._call("POST", "auto-schedule/set", credentials, json=body)

    async def delete_post(self, credentials: Credentials, body: Mapping[str, Any]) -> JSONObject:
        return await self._call("DELETE", "post", credentials, json=body, repeatable=False)

    async def get_history(self, credentials: Credentials, query: Mapping[str, QueryValue]) -> JSONObject:
        try:
            return await self._call("GET", "history", credentials, params=encode_query(query) if query else None)
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
        repeatable: bool = True,
    ) -> JSONObject:
        """One Ayrshare operation: at most `max_retries` more attempts, only where repeating cannot act twice."""
        bucket = identity(credentials.api_key, credentials.profile_key)
        deadline = _DEADLINE.get() or anyio.current_time() + self._call_timeout
        for attempt in range(self._retry.max_retries + 1):
            self._refuse_if_rate_limited(bucket)
            try:
                return await self._attempt(method, path, credentials, bucket, deadline, json=json, params=params)
            except _Failed as failure:
                if failure.maybe_sent and not repeatable:
                    raise AyrshareOutcomeUnknown(failure.error, HOW_TO_CHECK_A_DELETE) from None
                delay = self._retry.backoff(attempt, failure.retry_after)
                if failure.rate_limited:
                    # Other calls for this profile wait too, rather than each earning its own 429.
                    self.rate_limits.pause(bucket, delay)
                    delay = max(delay, self.rate_limits.wait(bucket)[0])
                give_up = (
                    failure.retry == "never"
                    or (failure.retry == "if_repeatable" and not repeatable)
                    or attempt == self._retry.max_retries
                    or delay > self._retry.max_retry_after
                    or anyio.current_time() + delay >= deadline
                )
                if give_up:
                    raise (
                        self._rate_limited(bucket, failure.error) if failure.rate_limited else failure.error
                    ) from None
                logger.info("%s /%s failed (%s); retrying in %.1f s", method, path, failure.error.message, delay)
                await anyio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _rate_limited(self, bucket: str, error: AyrshareError) -> AyrshareError:
        wait, used, limit = self.rate_limits.wait(bucket)
        return AyrshareRateLimited(wait, used=used, limit=limit, answer=error) if wait > 0 else error

    def _refuse_if_rate_limited(self, bucket: str) -> None:
        wait, used, limit = self.rate_limits.wait(bucket)
        if wait > 0:
            raise AyrshareRateLimited(wait, used=used, limit=limit)

    async def _attempt(
        self,
        method: str,
        path: str,
        credentials: Credentials,
        bucket: str,
        deadline: float,
        *,
        json: Mapping[str, Any] | None,
        params: httpx2.QueryParams | None,
    ) -> JSONObject:
        started = time.perf_counter()
        try:
            with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                response = await self._http.request(
                    method, path, headers=_auth_headers(credentials), json=json, params=params
                )
        except TimeoutError:
            raise _Failed(self._timeout(method, path), maybe_sent=True, retry="never") from None
        except _NOT_SENT as exc:
            raise _Failed(self._unreachable(exc), maybe_sent=False, retry="always") from None
        except httpx2.TimeoutException:
            raise _Failed(self._timeout(method, path), maybe_sent=True, retry="if_repeatable") from None
        except httpx2.TransportError as exc:
            raise _Failed(self._unreachable(exc), maybe_sent=True, retry="if_repeatable") from None
        logger.debug(
            "%s /%s -> %s in %.3f ms", method, path, response.status_code, (time.perf_counter() - started) * 1000
        )
        self.rate_limits.observe(bucket, response.headers)
        try:
            return parse_response(response)
        except (AyrshareAPIError, AyrshareInvalidResponse) as error:
            status = error.status
            if status == 429:
                # Ayrshare refused before doing anything; every operation may come back later.
                retry_after = parse_retry_after(response.headers)
                raise _Failed(error, maybe_sent=False, retry="always", retry_after=retry_after) from None
            if status >= 500 or (status < 400 and isinstance(error, AyrshareInvalidResponse)):
                retry: _Retry = "if_repeatable" if status in RETRYABLE_SERVER_STATUSES else "never"
                raise _Failed(error, maybe_sent=True, retry=retry) from None
            raise

    def _timeout(self, method: str, path: str) -> AyrshareTimeoutError:
        return AyrshareTimeoutError(
            f"Ayrshare did not answer {method} /{path} in time (this call may take {self._call_timeout:g} s in all). "
            "It may be slow or unreachable; try again in a minute."
        )

    def _unreachable(self, exc: Exception) -> AyrshareConnectionError:
        return AyrshareConnectionError(
            f"Could not reach Ayrshare at {self._http.base_url.host} ({_describe(exc)}). "
            "Check the network and AYRSHARE_BASE_URL."
        )


_Retry = Literal["never", "if_repeatable", "always"]


class _Failed(Exception):
    """An attempt that failed, with whether Ayrshare may have acted on it and whether another attempt is allowed."""

    def __init__(
        self, error: AyrshareError, *, maybe_sent: bool, retry: _Retry, retry_after: float | None = None
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.maybe_sent = maybe_sent
        self.retry = retry
        self.retry_after = retry_after

    @property
    def rate_limited(self) -> bool:
        return getattr(self.error, "status", None) == 429


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _auth_headers(credentials: Credentials) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {credentials.api_key}"}
    if credentials.profile_key:
        headers["Profile-Key"] = credentials.profile_key
    if credentials.x_pair:
        # On every request, as Ayrshare's SDKs send it: which operations touch X is Ayrshare's to decide.
        headers["X-Twitter-OAuth1-Api-Key"] = credentials.x_pair.api_key
        headers["X-Twitter-OAuth1-Api-Secret"] = credentials.x_pair.api_secret
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
