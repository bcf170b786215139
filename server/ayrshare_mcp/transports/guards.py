"""The checks every HTTP request passes before it reaches MCP, outermost first.

1. `HostOriginGuard`: Host and Origin must name this server exactly (421 / 403), against DNS rebinding.
2. `forwarded.ClientAddress`: the client's address, as the operator's trusted reverse proxies say (--trust-proxy).
3. `AccessTokenGate`: with an access token configured, `Authorization: Bearer <token>` (401).
4. `CallerIdentity`: who is calling (the token they hold and a hash of the keys they send), attached to the request
   as the SDK's authenticated user, so the SDK binds every session to the caller that opened it and answers anyone
   else with 404, on streamable HTTP and SSE alike.
5. `quotas.CallerQuotas`: how many sessions and SSE streams each caller may hold (429), and whose give way when the
   server is full (503 only when nobody holds more than the newcomer), so no flooding caller locks the others out.

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

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.types import ASGIApp, Receive, Scope, Send

from ayrshare_mcp.access import ProvenKeys
from ayrshare_mcp.credentials import CREDENTIAL_HEADERS, HEADER_API_KEY
from ayrshare_mcp.logs import Throttle, untrusted
from ayrshare_mcp.transports.options import LOOPBACK_NAMES

logger = logging.getLogger(__name__)
THROTTLE = Throttle()


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


@dataclass(frozen=True)
class Caller:
    """Who sent a request, as far as can be told: the session owner the SDK binds sessions to (`user`), the access
    token's holder if one was required, a fingerprint of the Ayrshare key sent (unproven: anyone can invent one),
    and the client's address."""

    user: AuthenticatedUser = field(repr=False)
    token_holder: str | None
    key: str | None
    address: str

    @property
    def owner(self) -> str:
        """The session owner, as one string."""
        return f"{self.user.access_token.client_id}:{self.user.access_token.subject}"


CALLER = "ayrshare_mcp.caller"


class CallerIdentity:
    """Names the caller of every request, so that the SDK binds each session to whoever opened it.

    A session owner is the access token they passed (one shared token: one name) plus a hash of the Ayrshare and X
    keys they send. Caller B, holding the token but not caller A's key, cannot use A's session, nor answer the
    confirmation A is being asked.
    """

    def __init__(self, app: ASGIApp, *, token_required: bool) -> None:
        self._app = app
        self._token_holder = "token-holder" if token_required else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            keys = "\0".join((header(scope, name.lower().encode()) or "").strip() for name in CREDENTIAL_HEADERS)
            subject = hashlib.sha256(keys.encode("latin-1", "replace")).hexdigest()[:32]
            client_id = self._token_holder or "open"
            user = AuthenticatedUser(AccessToken(token="", client_id=client_id, scopes=[], subject=subject))
            api_key = header(scope, HEADER_API_KEY.lower().encode())
            caller = Caller(
                user=user,
                token_holder=self._token_holder,
                key=ProvenKeys.fingerprint(api_key) if api_key and api_key.strip() else None,
                address=address_of(scope),
            )
            scope = {**scope, "user": user, CALLER: caller}
        await self._app(scope, receive, send)


def caller_of(scope: Scope) -> Caller | None:
    caller = scope.get(CALLER)
    return caller if isinstance(caller, Caller) else None


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
