"""How clients reach the server: stdio, streamable HTTP and SSE, with access control on every HTTP bind.

HTTP rules, whatever the bind address: Host and Origin are checked (421 / 403), request bodies are capped (413),
and when an access token is configured every request but `/healthz` must present it (401).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import uvicorn
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server import Server
from mcp.server.sse import SseServerTransport
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ayrshare_mcp import __version__
from ayrshare_mcp.credentials import ENV_ACCESS_TOKEN
from ayrshare_mcp.server import Upstream

logger = logging.getLogger(__name__)

HttpTransport = Literal["streamable-http", "sse"]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HEALTH_PATH = "/healthz"
STREAMABLE_HTTP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGES_PATH = "/messages/"
# In-flight calls get this long to finish after SIGINT/SIGTERM; open streams are then closed.
SHUTDOWN_GRACE_SECONDS = 5


@dataclass(frozen=True)
class HttpOptions:
    transport: HttpTransport = "streamable-http"
    host: str = "127.0.0.1"
    port: int = 8000
    stateless: bool = False
    allowed_hosts: tuple[str, ...] = ()
    access_token: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_REQUEST_BODY_SIZE

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    @property
    def lends_server_key(self) -> bool:
        """The server's own Ayrshare key serves only callers on this machine, or callers holding the token."""
        return self.loopback or self.access_token is not None


def refusal_to_serve(options: HttpOptions, server_key_configured: bool) -> str | None:
    """Why this HTTP configuration must not start, or None when it may."""
    if options.lends_server_key or not server_key_configured:
        return None
    return (
        f"Refusing to serve on {options.host}:{options.port}: this address is reachable from other machines, the "
        f"server has an Ayrshare API key of its own, and no access token is set, so anyone who can reach the port "
        f"could act on that Ayrshare account. Fix one of: set {ENV_ACCESS_TOKEN} (or --token-file) so callers must "
        "authenticate; or remove AYRSHARE_API_KEY and the credentials file so each caller sends its own key in "
        "X-Ayrshare-Api-Key; or bind --host 127.0.0.1."
    )


def transport_security(options: HttpOptions) -> TransportSecuritySettings:
    """Host and Origin allow-lists, explicit so they hold on 0.0.0.0 too (the SDK drops them off loopback)."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*", "http://127.0.0.1", "http://localhost"]
    for name in options.allowed_hosts:
        hosts += [name, f"{name}:*"]
        origins += [f"https://{name}", f"https://{name}:*"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client over stdin/stdout until stdin closes; unreadable lines get a JSON-RPC error, not silence."""
    async with stdio_server() as (read_stream, write_stream):
        forward, messages = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_answer_unreadable_lines, read_stream, forward, write_stream)
            await server.run(messages, write_stream, server.create_initialization_options())
            tg.cancel_scope.cancel()


async def _answer_unreadable_lines(
    lines: ReadStream[SessionMessage | Exception],
    forward: MemoryObjectSendStream[SessionMessage | Exception],
    replies: WriteStream[SessionMessage],
) -> None:
    # The SDK drops a line it cannot parse without a word; JSON-RPC asks for an error with a null id.
    async with forward:
        async for item in lines:
            if not isinstance(item, Exception):
                await forward.send(item)
                continue
            unparsable = isinstance(item, ValidationError) and any(e["type"] == "json_invalid" for e in item.errors())
            code, what = (PARSE_ERROR, "not valid JSON") if unparsable else (INVALID_REQUEST, "not a JSON-RPC message")
            logger.warning("A line on stdin was %s; answered with error %d", what, code)
            error = ErrorData(
                code=code, message=f"Each line on stdin must be one JSON-RPC 2.0 message; this one was {what}."
            )
            await replies.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error)))


def http_app(server: Server[Any], upstream: Upstream, options: HttpOptions) -> ASGIApp:
    """The ASGI app for one HTTP transport, with `/healthz` and, when configured, the access-token gate."""
    health = Route(HEALTH_PATH, _health, methods=["GET"])
    if options.transport == "sse":
        app: ASGIApp = _sse_app(server, upstream, options, health)
    else:
        # The session manager enters the server lifespan once for the process, which borrows `upstream`.
        app = server.streamable_http_app(
            streamable_http_path=STREAMABLE_HTTP_PATH,
            stateless_http=options.stateless,
            transport_security=transport_security(options),
            max_request_body_size=options.max_body_bytes,
            host=options.host,
            custom_starlette_routes=[health],
        )
    return AccessTokenGate(app, options.access_token) if options.access_token else app


def _sse_app(server: Server[Any], upstream: Upstream, options: HttpOptions, health: Route) -> Starlette:
    sse = SseServerTransport(
        SSE_MESSAGES_PATH, security_settings=transport_security(options), max_request_body_size=options.max_body_bytes
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Held for the life of the app, so SSE connections coming and going share one pool.
        async with upstream.borrow():
            yield

    routes = [
        Route(SSE_PATH, _SseConnection(server, sse), methods=["GET"]),
        Mount(SSE_MESSAGES_PATH, app=sse.handle_post_message),
        health,
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class _SseConnection:
    """The ASGI endpoint of `GET /sse`: one MCP session per open event stream."""

    def __init__(self, server: Server[Any], sse: SseServerTransport) -> None:
        self._server = server
        self._sse = sse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
            await self._server.run(read_stream, write_stream, self._server.create_initialization_options())


async def _health(_: Request) -> Response:
    return JSONResponse({"status": "ok", "server": "ayrshare-mcp", "version": __version__})


class AccessTokenGate:
    """Requires `Authorization: Bearer <token>` on every HTTP request except the health check.

    The token guards this server only; it is compared in constant time and never forwarded anywhere.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == HEALTH_PATH or self._authorized(scope):
            await self._app(scope, receive, send)
            return
        logger.warning("Refused %s %s: missing or wrong access token", scope["method"], scope["path"])
        body = json.dumps({"error": "This server needs Authorization: Bearer <access token>."}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="ayrshare-mcp"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope: Scope) -> bool:
        presented = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        return hmac.compare_digest(presented, self._expected)


async def serve_http(app: ASGIApp, options: HttpOptions) -> None:
    """Serve until SIGINT/SIGTERM, then exit cleanly: in-flight calls get a grace period, the port is released."""
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = _QuietSignalsServer(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_stop_on_signal, server)
        await server.serve()
        tg.cancel_scope.cancel()


class _QuietSignalsServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after shutting down, which ends the process with -15; signals are handled here."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _stop_on_signal(server: uvicorn.Server) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            logger.info("Received %s: shutting down", signal.Signals(signum).name)
            # A second signal skips the grace period.
            server.force_exit = server.should_exit
            server.should_exit = True


def endpoint_url(options: HttpOptions) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}{SSE_PATH if options.transport == 'sse' else STREAMABLE_HTTP_PATH}"
