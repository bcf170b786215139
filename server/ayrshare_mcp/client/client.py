"""An async client for the Ayrshare REST API: one pooled connection per process, typed errors, hard deadlines.

It knows Ayrshare's quirks (empty history is an error, "no schedules" is an error) and smooths them into plain
answers, so its callers only see success or an `AyrshareError`. It knows nothing about MCP.

Time has three layers: connecting gets `connect_timeout`; each attempt (connect, send, read the answer) gets
`attempt_timeout`; the whole operation, retries and waits included, ends by the deadline its `Account` was given.
So a timed-out read of a repeatable operation can be retried within the call, and nothing outlives the call.

What it remembers between calls (each profile's rate budget, its /user answer, posts submitted, whether it honours
approval, the publish locks) lives in the `state` it is given: this process's, or Redis shared by replicas. With Redis
unreachable, nothing that changes anything is sent (`StateUnavailable`), and reads go on with this process's memory.
"""

from __future__ import annotations

import functools
import hashlib
import http.cookiejar
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx2

from ayrshare_mcp import __version__
from ayrshare_mcp.client import retry
from ayrshare_mcp.client.account import Account
from ayrshare_mcp.client.answers import JSONObject, parse_answer
from ayrshare_mcp.client.endpoints import Operation
from ayrshare_mcp.client.errors import (
    AyrshareAnswerTooLarge,
    AyrshareAPIError,
    AyrshareConnectionError,
    AyrshareDuplicatePost,
    AyrshareError,
    AyrshareInvalidResponse,
    AyrshareOutcomeUnknown,
    AyrshareQuotaSpent,
    AyrshareRateLimited,
    AyrshareTimeoutError,
)
from ayrshare_mcp.client.rate_limits import RATE_WINDOW_SECONDS, RateLimits, monthly_quota_reset
from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.settings import MAX_UPSTREAM_CONNECTIONS, Settings
from ayrshare_mcp.state import MemoryState, SharedState, StateUnavailable

logger = logging.getLogger(__name__)

# Ayrshare's answers are a few KB; a history of 1,000 posts is well under this.
MAX_ANSWER_BYTES = 10_000_000


# Failures that happen before the request left this process: repeating them cannot act twice.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# How long a profile's linked networks (GET /user) are trusted for checking a post before it is sent.
USER_FRESH_SECONDS = 300.0
# What of a GET /user answer is kept for those checks: the profile's name for a question, its linked networks.
USER_FIELDS_KEPT = ("title", "activeSocialAccounts")
# How long a post's idempotencyKey is remembered as submitted here (a derived key changes with the UTC day), and
# how many accounts' facts (keys submitted, approvals honoured) are kept at most.
SUBMITTED_SECONDS = 86_400.0
# The longest a shared rate budget is kept: a monthly quota's month, and a day.
MAX_BUDGET_SECONDS = 32 * 86_400.0
# How long an account seen to hold posts for approval, or to ignore requiresApproval, is believed to: its plan may
# change, and a post held for an account that no longer holds them would go out before it is cancelled.
HELD_APPROVALS_SECONDS = 86_400.0
IGNORED_APPROVALS_SECONDS = 3_600.0
# A publish lock outlives any holder that is still working (a create, then a look at the post and its cancel, each
# with a call's time), so that only a holder that died loses it.
LOCK_CALLS = 4
# The kinds of records in the state, each followed by an account_key (a hash) or a hash of one with a post's key.
_BUDGET, _USER, _SUBMITTED, _SUBMITTING, _HOLDING, _APPROVALS = (
    "budget:",
    "user:",
    "submitted:",
    "submitting:",
    "holding:",
    "approvals:",
)


@functools.cache
def trust_store() -> ssl.SSLContext:
    """The TLS trust store, loaded once per process: loading it costs about 25 ms of CPU, every time a client is
    built (a process serving tests builds hundreds)."""
    return httpx2.create_ssl_context()


class AyrshareClient:
    """Sends `Operation`s to Ayrshare for whichever account a call names; one client serves every session.

    Every operation ends by its deadline, retries only where the decision table in `retry` allows, and is not sent
    at all while the profile's rate-limit budget is known to be spent.
    """

    def __init__(
        self,
        open_http: Callable[[], httpx2.AsyncClient],
        *,
        call_timeout: float,
        attempt_timeout: float,
        policy: retry.RetryPolicy | None = None,
        state: SharedState | None = None,
    ) -> None:
        self._open_http = open_http
        self._client: httpx2.AsyncClient | None = None
        self.call_timeout = call_timeout
        self._attempt_timeout = min(attempt_timeout, call_timeout)
        self._policy = policy or retry.RetryPolicy()
        self._state = state or MemoryState()
        # Shared budgets are kept in wall-clock time, which every replica reads alike.
        self.rate_limits = RateLimits(clock=time.time) if self._state.shared else RateLimits()
        self._lock_seconds = LOCK_CALLS * call_timeout
        # Whether the shared state answered last time: a change is logged once, not per call.
        self._state_reachable = True

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        state: SharedState | None = None,
    ) -> AsyncIterator[AyrshareClient]:
        """The client for the life of the server; `transport` swaps the network (sandbox), `state` is where it
        remembers between calls (this process by default).

        The pooled HTTP client opens on first use: building it loads the TLS trust store, which a host that only
        lists tools should not wait for.
        """

        def open_http() -> httpx2.AsyncClient:
            return httpx2.AsyncClient(
                base_url=settings.base_url + "/",
                timeout=httpx2.Timeout(settings.attempt_timeout, connect=settings.connect_timeout),
                headers={"Accept": "application/json", "User-Agent": f"ayrshare-mcp/{__version__}"},
                # One pool serves every caller: a cookie Ayrshare sets for one must never ride along for another.
                cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
                limits=httpx2.Limits(max_connections=MAX_UPSTREAM_CONNECTIONS),
                verify=trust_store(),
                transport=transport,
            )

        policy = retry.RetryPolicy(max_retries=settings.max_retries, base_delay=settings.retry_base_delay)
        client = cls(
            open_http,
            call_timeout=settings.call_timeout,
            attempt_timeout=settings.attempt_timeout,
            policy=policy,
            state=state,
        )
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

    def account(self, credentials: Credentials, *, deadline: float | None = None) -> Account:
        """The operations, acting for these credentials until `deadline` (anyio time; default: the call timeout)."""
        until = deadline if deadline is not None else anyio.current_time() + self.call_timeout
        return Account(self, credentials, until)

    async def send(self, operation: Operation, credentials: Credentials, deadline: float) -> JSONObject:
        """Ayrshare's answer to one operation, after at most `max_retries` more attempts where the table allows."""
        bucket = credentials.account_key
        attempt = 0
        while True:
            await self._take_in_budget(bucket, publishes=_publishes(operation))
            self._refuse_if_rate_limited(bucket, operation)
            try:
                return await self._attempt(operation, credentials, bucket, deadline)
            except _Failed as failed:
                failure = failed.failure
            if failure.rate_limited:
                # Other calls for this profile wait too, rather than each earning its own 429.
                self.rate_limits.pause(bucket, failure.retry_after or self._policy.backoff(attempt, 1.0))
            if failure.monthly_quota_spent:
                self.rate_limits.quota_spent(bucket, monthly_quota_reset(datetime.now(UTC)))
            await self._share_budget(bucket)
            decision = retry.decide(
                failure,
                repeatable=operation.endpoint.repeatable,
                attempt=attempt,
                time_left=deadline - anyio.current_time(),
                policy=self._policy,
                blocked_for=self.rate_limits.wait(bucket)[0] if failure.rate_limited else 0.0,
            )
            if isinstance(decision, retry.GiveUp):
                raise self._final_error(decision, operation, bucket) from None
            logger.info(
                "%s failed (%s); retrying in %.1f s", operation.name, failure.error.status_and_code(), decision.seconds
            )
            await anyio.sleep(decision.seconds)
            attempt += 1

    def _final_error(self, decision: retry.GiveUp, operation: Operation, bucket: str) -> AyrshareError:
        error = decision.error
        if decision.outcome_unknown:
            return AyrshareOutcomeUnknown(error, operation.endpoint.how_to_check)
        if (until := self.rate_limits.quota_spent_until(bucket)) is not None:
            return AyrshareQuotaSpent(until, answer=error)
        if error.status == 429:
            wait, used, limit = self.rate_limits.wait(bucket)
            return AyrshareRateLimited(wait, used=used, limit=limit, answer=error) if wait > 0 else error
        return error

    async def remember_user(self, credentials: Credentials, user: JSONObject) -> None:
        try:
            # Only what the checks before publishing read: the rest (email, display names) need not sit in Redis.
            kept = {name: user[name] for name in USER_FIELDS_KEPT if name in user}
            await self._state.put(_USER + credentials.account_key, json.dumps(kept), USER_FRESH_SECONDS)
        except StateUnavailable as unavailable:
            self._reached_state(unavailable)

    async def recent_user(self, credentials: Credentials) -> JSONObject | None:
        """The GET /user answer for this account from the last 5 minutes; None when there is none (or the shared
        state cannot say: a lookup is only a check before publishing, never a gate)."""
        try:
            seen = await self._state.get(_USER + credentials.account_key)
        except StateUnavailable as unavailable:
            self._reached_state(unavailable)
            return None
        user = json.loads(seen) if seen is not None else None
        return user if isinstance(user, dict) else None

    @asynccontextmanager
    async def submitting(self, credentials: Credentials, idempotency_key: str) -> AsyncIterator[None]:
        """Hold the one create of this post (by account and idempotencyKey) wherever the state is shared: a
        concurrent one waits, and one after it is refused unless the first surely created nothing. At most once must
        not rest on Ayrshare deduplicating concurrent requests atomically, which it does not document.

        Raises:
            AyrshareDuplicatePost: this post was already submitted from here.
            StateUnavailable: the shared state cannot be reached, so nothing is sent.
        """
        name = _submission(credentials, idempotency_key)
        async with self._state.lock(_SUBMITTING + name, self._lock_seconds):
            if await self._was_submitted(name):
                raise AyrshareDuplicatePost(idempotency_key)
            # Recorded before it is sent: a record that cannot be written afterwards (Redis gone a moment) would let
            # the same act out again, and a comment or a message has no idempotency key at Ayrshare to stop it.
            await self._state.put(_SUBMITTED + name, "1", SUBMITTED_SECONDS)
            try:
                yield
            except BaseException as exc:
                if _created_nothing(exc):
                    await self._forget_submitted(name)
                raise

    async def already_submitted(self, credentials: Credentials, idempotency_key: str) -> bool:
        """Whether this account submitted `idempotency_key` from here within the last day: asked before a person is,
        so that nobody is asked about what `submitting` would refuse.

        Raises:
            StateUnavailable: the shared state cannot be reached (what asks is about to publish).
        """
        return await self._was_submitted(_submission(credentials, idempotency_key))

    def one_hold_at_a_time(self, credentials: Credentials) -> AbstractAsyncContextManager[None]:
        """Hold this account's unattended creates one at a time, each with its check and cancel: the rate-limit
        headroom each one counts on is then not spent by another meanwhile."""
        return self._state.lock(_HOLDING + credentials.account_key, self._lock_seconds)

    async def _was_submitted(self, name: str) -> bool:
        return await self._state.get(_SUBMITTED + name) is not None

    async def _forget_submitted(self, name: str) -> None:
        # Even as the call is cancelled. If it cannot be forgotten, the same act is refused for a day: the safe way.
        with anyio.CancelScope(shield=True):
            try:
                await self._state.forget(_SUBMITTED + name)
            except StateUnavailable as unavailable:
                self._reached_state(unavailable)

    async def holds_for_approval(self, credentials: Credentials) -> bool | None:
        """Whether Ayrshare was seen to hold a post for approval for this account within the last day (True), or to
        ignore requiresApproval within the last hour (False); None when not known.

        Raises:
            StateUnavailable: the shared state cannot be reached (what asks is about to publish).
        """
        seen = await self._state.get(_APPROVALS + credentials.account_key)
        return None if seen is None else seen == "held"

    async def saw_approvals(self, credentials: Credentials, *, held: bool) -> None:
        lasts = HELD_APPROVALS_SECONDS if held else IGNORED_APPROVALS_SECONDS
        try:
            await self._state.put(_APPROVALS + credentials.account_key, "held" if held else "ignored", lasts)
        except StateUnavailable as unavailable:
            self._reached_state(unavailable)

    async def rate_headroom(self, credentials: Credentials) -> int | None:
        """Requests this account may still send in the current rate-limit window, as last seen; None if unknown.

        Raises:
            StateUnavailable: the shared state cannot be reached (what asks is about to publish).
        """
        await self._take_in_budget(credentials.account_key, publishes=True)
        return self.rate_limits.headroom(credentials.account_key)

    async def _take_in_budget(self, bucket: str, *, publishes: bool) -> None:
        """What other replicas learnt of this profile's budget, taken in before deciding whether to send.

        Raises:
            StateUnavailable: the shared state cannot be reached and the operation would change something; a read
            goes on with what this process learnt alone.
        """
        if not self._state.shared:
            return
        try:
            budget = await self._state.budget(_BUDGET + bucket)
        except StateUnavailable as unavailable:
            self._reached_state(unavailable)
            if publishes:
                raise
            return
        self._reached_state(None)
        if budget is not None:
            self.rate_limits.adopt(bucket, budget)

    async def _share_budget(self, bucket: str) -> None:
        """Tell the other replicas what Ayrshare just said of this profile's budget; never fails the call, which has
        been sent."""
        budget = self.rate_limits.snapshot(bucket) if self._state.shared else None
        if budget is None:
            return
        lasts = max(budget.blocked_until, budget.window_started + RATE_WINDOW_SECONDS, budget.quota_until) - time.time()
        with anyio.CancelScope(shield=True):
            try:
                merged = await self._state.merge_budget(
                    _BUDGET + bucket, budget, min(max(1.0, lasts), MAX_BUDGET_SECONDS)
                )
            except StateUnavailable as unavailable:
                self._reached_state(unavailable)
                return
        self.rate_limits.adopt(bucket, merged)

    def _reached_state(self, unavailable: StateUnavailable | None) -> None:
        """Log, once per change, that the shared state stopped (or started again) answering."""
        reachable = unavailable is None
        if reachable == self._state_reachable:
            return
        self._state_reachable = reachable
        if unavailable is None:
            logger.warning("Redis answers again: confirmations and publishing are allowed, the rate budget is shared.")
        else:
            logger.warning(
                "Redis at %s is unreachable: confirmations and anything that would publish are refused until it "
                "answers; reads go on, counting the rate budget in this process alone.",
                unavailable.where,
            )

    def _refuse_if_rate_limited(self, bucket: str, operation: Operation) -> None:
        until = self.rate_limits.quota_spent_until(bucket)
        if until is not None and operation.endpoint.under_post_quota:
            raise AyrshareQuotaSpent(until)
        wait, used, limit = self.rate_limits.wait(bucket)
        if wait > 0:
            raise AyrshareRateLimited(wait, used=used, limit=limit)

    async def _attempt(
        self, operation: Operation, credentials: Credentials, bucket: str, deadline: float
    ) -> JSONObject:
        time_left = deadline - anyio.current_time()
        if time_left <= 0:
            raise _Failed(retry.no_time_to_send(self._timeout(operation))) from None
        request = self._build(operation, credentials)
        logger.debug("%s: sending, %.1f s left for the call", operation.name, time_left)
        started = time.perf_counter()
        try:
            with anyio.fail_after(min(self._attempt_timeout, time_left)):
                status, headers, raw = await self._exchange(request)
        except AyrshareAnswerTooLarge as error:
            raise _Failed(retry.unreadable(error)) from None
        except TimeoutError:
            out_of_time = anyio.current_time() >= deadline
            failure = retry.deadline_passed if out_of_time else retry.maybe_sent
            raise _Failed(failure(self._timeout(operation))) from None
        except _NOT_SENT as exc:
            raise _Failed(retry.not_sent(self._unreachable(exc))) from None
        except httpx2.TimeoutException:
            raise _Failed(retry.maybe_sent(self._timeout(operation))) from None
        except httpx2.TransportError as exc:
            raise _Failed(retry.maybe_sent(self._unreachable(exc))) from None
        logger.debug("%s -> %s in %.3f ms", operation.name, status, (time.perf_counter() - started) * 1000)
        self.rate_limits.observe(bucket, headers)
        await self._share_budget(bucket)
        try:
            return parse_answer(
                status,
                headers.get("content-type", ""),
                raw,
                status_field_is_outcome=operation.endpoint.status_field_is_outcome,
                needs=operation.endpoint.needs,
                array_answer=operation.endpoint.array_answer,
            )
        except AyrshareInvalidResponse as error:
            raise _Failed(retry.answered(error, headers)) from None
        except AyrshareAPIError as error:
            if error.status >= 500 or error.status == 429:
                raise _Failed(retry.answered(error, headers)) from None
            raise

    def _build(self, operation: Operation, credentials: Credentials) -> httpx2.Request:
        try:
            return self._http.build_request(
                operation.method,
                operation.path,
                headers=_auth_headers(credentials),
                json=operation.json,
                params=operation.params,
            )
        except Exception:
            # Never the exception's text: it can quote the header value, which is a key.
            raise AyrshareError(
                "The request could not be built: a configured key contains characters HTTP headers cannot carry. "
                "Copy the key again from the Ayrshare dashboard."
            ) from None

    async def _exchange(self, request: httpx2.Request) -> tuple[int, httpx2.Headers, bytes]:
        """Send the request and read at most MAX_ANSWER_BYTES of the answer."""
        response = await self._http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
                raise AyrshareAnswerTooLarge(MAX_ANSWER_BYTES)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise AyrshareAnswerTooLarge(MAX_ANSWER_BYTES)
            return response.status_code, response.headers, bytes(body)
        finally:
            await response.aclose()

    def _timeout(self, operation: Operation) -> AyrshareTimeoutError:
        attempts = (
            f"each attempt may take {self._attempt_timeout:g} s, " if self._attempt_timeout < self.call_timeout else ""
        )
        return AyrshareTimeoutError(
            f"Ayrshare did not answer {operation.name} in time ({attempts}this call may take {self.call_timeout:g} s "
            "in all). It may be slow or unreachable; try again in a minute."
        )

    def _unreachable(self, exc: Exception) -> AyrshareConnectionError:
        return AyrshareConnectionError(
            f"Could not reach Ayrshare at {self._http.base_url.host} ({_describe(exc)}). "
            "Check the network and AYRSHARE_BASE_URL."
        )


class _Failed(Exception):
    """An attempt that failed, carrying its classification for the retry decision."""

    def __init__(self, failure: retry.Failure) -> None:
        super().__init__(failure.error.message)
        self.failure = failure


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Accept no cookie and send none."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def _submission(credentials: Credentials, idempotency_key: str) -> str:
    return hashlib.sha256(f"{credentials.account_key}\0{idempotency_key}".encode()).hexdigest()


def _publishes(operation: Operation) -> bool:
    """Whether an operation could put something in public or change it: not a read, and not a delete (a delete
    cancels a post nobody read, which must go ahead even with the shared state gone)."""
    return operation.endpoint.changes and operation.method != "DELETE"


def _created_nothing(exc: BaseException) -> bool:
    """Whether a failed create surely made no post: it was never sent, or Ayrshare refused it whole (no post id, no
    per-network result in its answer)."""
    if isinstance(exc, AyrshareRateLimited | AyrshareQuotaSpent | AyrshareConnectionError):
        return True
    if isinstance(exc, AyrshareAPIError) and 400 <= exc.status < 500:
        return not any(name in exc.body for name in ("id", "postIds", "errors", "posts"))
    return False


def _describe(exc: Exception) -> str:
    # A failure to connect is described by the OS (refused, no route, DNS); anything later may quote the request.
    if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout) and str(exc):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def _auth_headers(credentials: Credentials) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {credentials.api_key}"}
    if credentials.profile_key:
        headers["Profile-Key"] = credentials.profile_key
    if credentials.x_pair:
        # On every request, as Ayrshare's SDKs send it: which operations touch X is Ayrshare's to decide.
        headers["X-Twitter-OAuth1-Api-Key"] = credentials.x_pair.api_key
        headers["X-Twitter-OAuth1-Api-Secret"] = credentials.x_pair.api_secret
    return headers
