"""The checks every HTTP request passes before it reaches MCP, outermost first.

1. `HostOriginGuard`: Host and Origin must name this server exactly (421 / 403), against DNS rebinding.
2. `AccessTokenGate`: with an access token configured, `Authorization: Bearer <token>` (401).
3. `CallerIdentity`: who is calling (the token they hold and a hash of the keys they send), attached to the request
   as the SDK's authenticated user, so the SDK binds every session to the caller that opened it and answers anyone
   else with 404, on streamable HTTP and SSE alike.
4. `CallerQuotas`: how many sessions and SSE streams one caller, and all callers, may hold (429 / 503), so one
   flooding caller cannot lock the others out.

Every rejection is an expected event: one throttled warning line, untrusted text escaped, never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ayrshare_mcp.credentials import CREDENTIAL_HEADERS
from ayrshare_mcp.logs import Throttle, untrusted

logger = logging.getLogger(__name__)
THROTTLE = Throttle()

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
SESSION_HEADER = b"mcp-session-id"


async def respond(send: Send, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """A small JSON error answer, as the SDK's own transport errors are shaped (a JSON-RPC error without an id)."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class HostOriginGuard:
    """Host and Origin must name this server: a loopback name, or a public name given with --allowed-host.

    Exact matching, host and numeric port: "127.0.0.1:1.evil.com" is no loopback address. Loopback names are
    allowed over http, public names over https (a reverse proxy terminates TLS in front of this server).
    """

    def __init__(self, app: ASGIApp, public_names: Iterable[str]) -> None:
        self._app = app
        self._public = {name.lower() for name in public_names}
        self._names = self._public | set(LOOPBACK_NAMES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        host = header(scope, b"host")
        if host is None or _host_name(host) not in self._names:
            THROTTLE.warn(logger, "Refused a request for Host %r", untrusted(host or ""))
            await respond(send, 421, "Misdirected request: this server does not answer to that Host.")
            return
        origin = header(scope, b"origin")
        if origin is not None and not self._allowed_origin(origin):
            THROTTLE.warn(logger, "Refused a request from Origin %r", untrusted(origin))
            await respond(send, 403, "Forbidden: requests from that Origin are not allowed.")
            return
        await self._app(scope, receive, send)

    def _allowed_origin(self, origin: str) -> bool:
        scheme, separator, rest = origin.partition("://")
        if not separator or "/" in rest:
            return False
        name = _host_name(rest)
        if name in self._public:
            return scheme == "https"
        return name in LOOPBACK_NAMES and scheme == "http"


_AUTHORITY = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:\[\]/@]+))(?::(?P<port>[0-9]{1,5}))?$")


def _host_name(authority: str) -> str | None:
    """The host of `host[:port]` or `[ipv6][:port]`, lower-cased; None unless it is exactly that, port numeric."""
    match = _AUTHORITY.match(authority)
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        return None
    return (match["ipv6"] or match["name"]).lower()


class AccessTokenGate:
    """Requires `Authorization: Bearer <token>` (the scheme in any case, RFC 7235) on every request but `/healthz`.

    The token guards this server only; it is compared in constant time and never forwarded anywhere.
    """

    def __init__(self, app: ASGIApp, token: str, open_paths: Iterable[str]) -> None:
        self._app = app
        self._token = token.encode()
        self._open = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open or self._authorized(scope):
            await self._app(scope, receive, send)
            return
        path = untrusted(scope["path"])
        THROTTLE.warn(logger, "Refused %s %s: missing or wrong access token", scope["method"], path)
        await respond(
            send, 401, "This server needs Authorization: Bearer <access token>.",
            [(b"www-authenticate", b'Bearer realm="ayrshare-mcp"')],
        )  # fmt: skip

    def _authorized(self, scope: Scope) -> bool:
        scheme, _, presented = (header(scope, b"authorization") or "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode("latin-1"), self._token)


class CallerIdentity:
    """Names the caller of every request, so that the SDK binds each session to whoever opened it.

    A caller is the access token they passed (one shared token: one name) plus a hash of the Ayrshare and X keys
    they send. Caller B, holding the token but not caller A's key, cannot use A's session, nor answer the
    confirmation A is being asked.
    """

    def __init__(self, app: ASGIApp, *, token_required: bool) -> None:
        self._app = app
        self._client_id = "token-holder" if token_required else "open"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            keys = "\0".join((header(scope, name.lower().encode()) or "").strip() for name in CREDENTIAL_HEADERS)
            subject = hashlib.sha256(keys.encode("latin-1", "replace")).hexdigest()[:32]
            user = AuthenticatedUser(AccessToken(token="", client_id=self._client_id, scopes=[], subject=subject))
            scope = {**scope, "user": user}
        await self._app(scope, receive, send)


def caller_of(scope: Scope) -> str:
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser):
        return f"{user.access_token.client_id}:{user.access_token.subject}"
    return "unknown"


@dataclass(frozen=True)
class Quotas:
    sessions_per_caller: int
    sse_streams: int
    sse_streams_per_caller: int
    # How long a session with nothing in flight lives: the SDK's idle timeout, mirrored here.
    session_idle_seconds: float


@dataclass
class _Session:
    caller: str
    last_active: float
    in_flight: int = 0


@dataclass
class _Book:
    """Open streamable-HTTP sessions and SSE streams, by caller."""

    idle_seconds: float
    sessions: dict[str, _Session] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)

    def sessions_of(self, caller: str) -> int:
        now = anyio.current_time()
        self.sessions = {
            sid: session
            for sid, session in self.sessions.items()
            if session.in_flight or now - session.last_active < self.idle_seconds
        }
        return sum(session.caller == caller for session in self.sessions.values())


class CallerQuotas:
    """Caps on what one caller may hold open, and on SSE streams in all (the SDK caps sessions in all)."""

    def __init__(self, app: ASGIApp, quotas: Quotas, *, mcp_path: str, sse_path: str, max_body: int) -> None:
        self._app = app
        self._quotas = quotas
        self._mcp_path, self._sse_path, self._max_body = mcp_path, sse_path, max_body
        self._book = _Book(idle_seconds=quotas.session_idle_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
        elif scope["path"] == self._sse_path and scope["method"] == "GET":
            await self._stream(scope, receive, send)
        elif scope["path"] == self._mcp_path:
            await self._streamable(scope, receive, send)
        else:
            await self._app(scope, receive, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller, streams = caller_of(scope), self._book.streams
        if sum(streams.values()) >= self._quotas.sse_streams:
            THROTTLE.warn(
                logger, "refused SSE streams (all in use)", "Refused an SSE stream: %d are open", sum(streams.values())
            )
            await respond(send, 503, "Too many open SSE streams on this server; try again later.")
            return
        if streams.get(caller, 0) >= self._quotas.sse_streams_per_caller:
            THROTTLE.warn(
                logger,
                "refused SSE streams (caller quota)",
                "Refused an SSE stream: the caller has %d open",
                streams[caller],
            )
            await respond(send, 429, "Too many open SSE streams for this caller; close one first.")
            return
        streams[caller] = streams.get(caller, 0) + 1
        try:
            await self._app(scope, receive, send)
        finally:
            streams[caller] -= 1
            if not streams[caller]:
                del streams[caller]

    async def _streamable(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = header(scope, SESSION_HEADER)
        if session_id is None:
            await self._maybe_new_session(scope, receive, send)
            return
        session = self._book.sessions.get(session_id)
        if session is None:
            await self._app(scope, receive, send)
            return
        session.in_flight += 1
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, watch)
        finally:
            session.in_flight -= 1
            session.last_active = anyio.current_time()
            if status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300):
                self._book.sessions.pop(session_id, None)

    async def _maybe_new_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = caller_of(scope)
        messages, opens_session = await _read_opening(receive, self._max_body)
        if opens_session and self._book.sessions_of(caller) >= self._quotas.sessions_per_caller:
            THROTTLE.warn(
                logger,
                "refused sessions (caller quota)",
                "Refused a new session: the caller has %d open",
                self._book.sessions_of(caller),
            )
            await respond(
                send, 429, "Too many open sessions for this caller; end one (DELETE) or let one expire first."
            )
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        async def register(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", []):
                    if key.lower() == SESSION_HEADER:
                        self._book.sessions[value.decode("latin-1")] = _Session(caller, anyio.current_time())
            await send(message)

        await self._app(scope, replay, register)


async def _read_opening(receive: Receive, max_body: int) -> tuple[list[Message], bool]:
    """The request's body messages, read ahead, and whether the body is an `initialize` (what opens a session)."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        body += message.get("body", b"")
        if len(body) > max_body:
            return messages, False  # the SDK answers 413
        if not message.get("more_body", False):
            break
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return messages, False
    return messages, isinstance(payload, dict) and payload.get("method") == "initialize"
