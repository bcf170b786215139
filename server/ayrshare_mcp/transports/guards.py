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
# A session keeps its initialize for its whole life; real ones are a few hundred bytes.
MAX_OPENING_BYTES = 64 * 1024


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
        if scope["type"] == "lifespan":
            await self._app(scope, receive, send)
            return
        if scope["type"] != "http":
            # A WebSocket (uvicorn is told not to accept them) would skip every check below: nothing else passes.
            return
        host = header(scope, b"host")
        if host is None or _host_name(host) not in self._names:
            THROTTLE.warn(logger, "Refused a request for Host %r", untrusted(host or ""))
            await respond(send, 421, "Misdirected request: this server does not answer to that Host.")
            return
        origins = [value.decode("latin-1") for key, value in scope["headers"] if key == b"origin"]
        if not all(self._allowed_origin(origin) for origin in origins):
            THROTTLE.warn(logger, "Refused a request from Origin %r", untrusted(", ".join(origins)))
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
    """How many sessions (streamable-HTTP sessions and SSE streams alike) one caller, one address, and all callers
    may hold. The address cap stops a caller who invents a new key for every session."""

    sessions: int
    per_caller: int
    per_address: int
    # How long a session with nothing in flight lives: the SDK's idle timeout, mirrored here.
    idle_seconds: float


@dataclass
class _Session:
    caller: str
    address: str
    last_active: float
    in_flight: int = 0


@dataclass
class _Book:
    """Open sessions (by id), SSE streams and admissions in progress, each with its caller and address."""

    idle_seconds: float
    sessions: dict[str, _Session] = field(default_factory=dict)
    # Streams and admissions not (yet) known by a session id: (caller, address) per open one.
    held: list[tuple[str, str]] = field(default_factory=list)

    def counts(self, caller: str, address: str) -> tuple[int, int, int]:
        """Open sessions in all, of this caller, and from this address."""
        now = anyio.current_time()
        self.sessions = {
            sid: session
            for sid, session in self.sessions.items()
            if session.in_flight or now - session.last_active < self.idle_seconds
        }
        owners = [(session.caller, session.address) for session in self.sessions.values()] + self.held
        return (
            len(owners),
            sum(owner == caller for owner, _ in owners),
            sum(where == address for _, where in owners),
        )


class CallerQuotas:
    """Caps on the sessions one caller and one address may hold open, and on SSE streams in all (the SDK caps
    streamable-HTTP sessions in all). An opening `initialize` is also capped in size: a session keeps it."""

    def __init__(self, app: ASGIApp, quotas: Quotas, *, mcp_path: str, sse_path: str, max_body: int) -> None:
        self._app = app
        self._quotas = quotas
        self._mcp_path, self._sse_path, self._max_body = mcp_path, sse_path, max_body
        self._book = _Book(idle_seconds=quotas.idle_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
        elif scope["path"] == self._sse_path and scope["method"] == "GET":
            await self._stream(scope, receive, send)
        elif scope["path"] == self._mcp_path:
            await self._streamable(scope, receive, send)
        else:
            await self._app(scope, receive, send)

    def _refusal(self, caller: str, address: str, *, counting_all: bool) -> tuple[int, str] | None:
        """Why one more session may not open, as (status, message); None when it may. Never awaits: the check and
        the booking that follows it happen without another request slipping in between."""
        everyone, callers, addresses = self._book.counts(caller, address)
        if counting_all and everyone >= self._quotas.sessions:
            THROTTLE.warn(logger, "Refused a new session: %d are open", everyone)
            return 503, "Too many open sessions on this server; try again later."
        if callers >= self._quotas.per_caller:
            THROTTLE.warn(logger, "Refused a new session: the caller has %d open", callers)
            return 429, "Too many open sessions for this caller; end one (DELETE) or wait for one to expire."
        if addresses >= self._quotas.per_address:
            THROTTLE.warn(logger, "Refused a new session: address %s has %d open", untrusted(address), addresses)
            return 429, "Too many open sessions from this address; end one or wait for one to expire."
        return None

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = (caller_of(scope), address_of(scope))
        if refusal := self._refusal(*owner, counting_all=True):
            await respond(send, *refusal)
            return
        self._book.held.append(owner)
        try:
            await self._app(scope, receive, send)
        finally:
            self._book.held.remove(owner)

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
            # Only the owner's own answer says the session is gone: anyone else gets 404 for a session that lives.
            owners_answer = caller_of(scope) == session.caller
            if owners_answer and (status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300)):
                self._book.sessions.pop(session_id, None)

    async def _maybe_new_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = (caller_of(scope), address_of(scope))
        messages, opening = await _read_opening(receive, self._max_body)
        if opening is None:
            await self._app(scope, _replay(messages, receive), send)
            return
        if opening > MAX_OPENING_BYTES:
            THROTTLE.warn(logger, "Refused an initialize of %d bytes", opening)
            await respond(send, 413, f"An initialize request is at most {MAX_OPENING_BYTES // 1024} KB.")
            return
        # The SDK caps sessions in all; this caps each caller and address, booked before anything is awaited.
        if refusal := self._refusal(*owner, counting_all=False):
            await respond(send, *refusal)
            return
        self._book.held.append(owner)
        holding = True

        async def register(message: Message) -> None:
            nonlocal holding
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", []):
                    if key.lower() == SESSION_HEADER:
                        # The hold becomes the session at once: the client may ask again before this call returns.
                        self._book.sessions[value.decode("latin-1")] = _Session(*owner, anyio.current_time())
                        self._book.held.remove(owner)
                        holding = False
            await send(message)

        try:
            await self._app(scope, _replay(messages, receive), register)
        finally:
            if holding:
                self._book.held.remove(owner)


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _read_opening(receive: Receive, max_body: int) -> tuple[list[Message], int | None]:
    """The request's body messages, read ahead, and the body's size if it is an `initialize` (what opens a
    session); None when it is anything else."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        body += message.get("body", b"")
        if len(body) > max_body:
            return messages, None  # the SDK answers 413
        if not message.get("more_body", False):
            break
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return messages, None
    opens = isinstance(payload, dict) and payload.get("method") == "initialize"
    return messages, len(body) if opens else None
