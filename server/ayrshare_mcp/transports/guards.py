"""The checks every HTTP request passes before it reaches MCP, outermost first.

1. `HostOriginGuard`: Host and Origin must name this server exactly (421 / 403), against DNS rebinding.
2. `forwarded.ClientAddress`: the client's address, as the operator's trusted reverse proxies say (--trust-proxy).
3. `signin.SignIn`: with an access token or OAuth configured, `Authorization: Bearer <token>` (401), from someone
   the tenants file names (403).
4. `signin.CallerIdentity`: who is calling (the person signed in, or the token they hold and a hash of the keys they
   send), attached to the request as the SDK's authenticated user, so the SDK binds every session to the caller
   that opened it and answers anyone else with 404, on streamable HTTP and SSE alike.
5. `quotas.CallerQuotas`: how many sessions and SSE streams each caller may hold (429), and whose give way when the
   server is full (503 only when nobody holds more than the newcomer), so no flooding caller locks the others out.

Every rejection is an expected event: one throttled warning line, untrusted text escaped, never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

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
