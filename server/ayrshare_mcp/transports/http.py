"""Streamable HTTP and SSE: the ASGI app, wrapped in the request guards, served by uvicorn with connection limits.

Whatever the bind address: Host and Origin are checked (421 / 403), bodies are capped (413), an access token when
configured is required (401), every session is bound to its caller, and each caller's sessions and streams are
capped. `/healthz` answers without touching Ayrshare.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import uvicorn
from mcp.server import Server
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.sse import SseServerTransport
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ayrshare_mcp import __version__
from ayrshare_mcp.access import AccessError, AccessPolicy, ProvenKeys, load_access_token
from ayrshare_mcp.auth import scopes
from ayrshare_mcp.auth.config import OAuthConfigError, OAuthSettings, auth_mode
from ayrshare_mcp.auth.tenants import TenantsError, TenantsFile, tenants_file_path
from ayrshare_mcp.credentials import server_key_configured
from ayrshare_mcp.server import SharedClient, build_server, key_voucher
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.tools import TOOLS_BY_NAME
from ayrshare_mcp.transports.connections import ConnectionLimits, fit_to_descriptors, guarded_protocol
from ayrshare_mcp.transports.forwarded import ClientAddress
from ayrshare_mcp.transports.guards import HostOriginGuard
from ayrshare_mcp.transports.options import HttpOptions
from ayrshare_mcp.transports.quotas import CallerQuotas, Quotas, Vouch
from ayrshare_mcp.transports.signin import CallerIdentity, SignIn

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
STREAMABLE_HTTP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGES_PATH = "/messages/"
# In-flight calls get this long to finish after SIGINT/SIGTERM; open streams are then closed.
SHUTDOWN_GRACE_SECONDS = 5


# The SDK's own Host/Origin check matches by prefix ("127.0.0.1:*" admits "127.0.0.1:1.evil.com") and by case;
# `HostOriginGuard` is the one check, exact and case-insensitive, in front of both transports.
NO_SDK_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def compose(settings: Settings, options: HttpOptions, *, token_file: Path | None = None) -> ASGIApp:
    """The HTTP server's app as it is served: the access policy, who may sign in, the MCP server, one shared Ayrshare
    client, and every guard. The one place it is put together, for the command line and the tests alike.

    Raises:
        AccessError: the access configuration is unsafe (see `AccessPolicy.for_http`), the token unusable, or the
            OAuth settings or tenants file missing or wrong.
    """
    gate = _gate(settings, options, token_file)
    access = AccessPolicy.for_http(
        token=gate.static_token,
        server_key=server_key_configured(settings.environ),
        sandbox=settings.sandbox,
        public=options.public,
        tenants=gate.tenants is not None,
    )
    shared = SharedClient(settings)
    proven = ProvenKeys()
    # In the sandbox the emulator takes any key: a successful call proves nothing about who is calling.
    proves = not settings.sandbox and gate.tenants is None
    server = build_server(settings, shared=shared, access=access, proven=proven if proves else None)
    vouch = key_voucher(settings, shared, proven) if proves else None
    return http_app(server, shared, options, gate, proven, vouch)


@dataclass(frozen=True)
class Gate:
    """Who may call: the static token's holder, people signed in with OAuth, and the tenants file naming them."""

    static_token: str | None = field(default=None, repr=False)
    oauth: OAuthSettings | None = None
    tenants: TenantsFile | None = None
    verifier: TokenVerifier | None = None

    @property
    def closed(self) -> bool:
        return self.static_token is not None or self.oauth is not None

    def metadata_routes(self) -> list[Route]:
        """RFC 9728 protected-resource metadata: where a client learns which authorization server to sign in at."""
        if self.oauth is None:
            return []
        # The SDK's settings keep an issuer's URL as it is written: a slash added to it would be another issuer.
        urls = AuthSettings(
            issuer_url=self.oauth.issuer, resource_server_url=self.oauth.resource, validate_token_resource=True
        )
        assert urls.resource_server_url is not None  # given just above
        return create_protected_resource_routes(
            resource_url=urls.resource_server_url,
            authorization_servers=[urls.issuer_url],
            scopes_supported=list(scopes.ALL),
            resource_name="Ayrshare",
        )

    @property
    def metadata_url(self) -> str | None:
        return str(build_resource_metadata_url(AnyHttpUrl(self.oauth.resource))) if self.oauth else None


def _gate(settings: Settings, options: HttpOptions, token_file: Path | None) -> Gate:
    environ = settings.environ
    try:
        mode = auth_mode(environ, options.auth)
        oauth = OAuthSettings.from_environ(environ) if mode == "oauth" else None
        token = load_access_token(environ, token_file)
        path = tenants_file_path(environ, options.tenants_file)
        tenants = TenantsFile(path, environ, static_token=token is not None) if path is not None else None
    except (OAuthConfigError, TenantsError) as exc:
        raise AccessError(str(exc)) from None
    if oauth is not None and tenants is None:
        raise AccessError(
            "--auth oauth needs a tenants file (--tenants or AYRSHARE_MCP_TENANTS_FILE) saying which Ayrshare account "
            "and profiles each person acts for: see docs/hosting.md."
        )
    if tenants is not None and token is None and oauth is None:
        raise AccessError("A tenants file needs callers to sign in: set AYRSHARE_MCP_TOKEN, or serve --auth oauth.")
    verifier = None
    if oauth is not None:
        # Only a server that checks OAuth tokens loads the JOSE library: every other one starts without it.
        from ayrshare_mcp.auth.tokens import OAuthTokenVerifier

        verifier = OAuthTokenVerifier(oauth)
    return Gate(token, oauth, tenants, verifier)


def http_app(
    server: Server[Any],
    shared: SharedClient,
    options: HttpOptions,
    gate: Gate,
    proven: ProvenKeys,
    vouch: Vouch | None = None,
) -> ASGIApp:
    """The ASGI app for one HTTP transport, with `/healthz` and every guard in `guards`, `forwarded`, `signin` and
    `quotas`."""
    limits = options.limits
    health = Route(HEALTH_PATH, _health, methods=["GET"])
    metadata = gate.metadata_routes()
    if options.transport == "sse":
        app: ASGIApp = _sse_app(server, shared, options, [health, *metadata])
    else:
        # The session manager enters the server lifespan once for the process, which borrows `shared`.
        app = server.streamable_http_app(
            streamable_http_path=STREAMABLE_HTTP_PATH,
            stateless_http=options.stateless,
            transport_security=NO_SDK_HOST_CHECK,
            max_request_body_size=limits.max_body_bytes,
            max_sessions=limits.max_sessions,
            session_idle_timeout=limits.session_idle_timeout,
            host=options.host,
            custom_starlette_routes=[health, *metadata],
        )
    quotas = Quotas(
        sessions=limits.max_sessions,
        per_caller=limits.max_sessions_per_caller,
        per_address=limits.max_sessions_per_address,
        idle_seconds=limits.session_idle_timeout,
        unproven_idle_seconds=limits.unproven_session_idle_timeout,
    )
    app = CallerQuotas(
        app,
        quotas,
        proven,
        mcp_path=STREAMABLE_HTTP_PATH,
        sse_path=SSE_PATH,
        messages_path=SSE_MESSAGES_PATH,
        max_body=limits.max_body_bytes,
        vouch=vouch,
    )
    app = CallerIdentity(app)
    if gate.closed:
        open_paths = [HEALTH_PATH, *(route.path for route in metadata)]
        app = SignIn(
            app,
            static_token=gate.static_token,
            verifier=gate.verifier,
            tenants=gate.tenants,
            metadata_url=gate.metadata_url,
            open_paths=open_paths,
            tool_scopes={spec.name: spec.scope for spec in TOOLS_BY_NAME.values() if spec.scope is not None},
        )
    app = ClientAddress(app, options.trusted_proxies)
    return HostOriginGuard(app, options.allowed_hosts)


def _sse_app(server: Server[Any], shared: SharedClient, options: HttpOptions, extra: list[Route]) -> Starlette:
    sse = SseServerTransport(
        SSE_MESSAGES_PATH,
        security_settings=NO_SDK_HOST_CHECK,
        max_request_body_size=options.limits.max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Held for the life of the app, so SSE connections coming and going share one pool.
        async with shared.borrow():
            yield

    routes = [
        Route(SSE_PATH, _SseConnection(server, sse), methods=["GET"]),
        Mount(SSE_MESSAGES_PATH, app=sse.handle_post_message),
        *extra,
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


async def serve_http(
    app: ASGIApp,
    options: HttpOptions,
    banner: str = "",
    *,
    sock: socket.socket | None = None,
    stop: anyio.Event | None = None,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until SIGINT/SIGTERM (or until cancelled), then exit cleanly: in-flight calls get a grace period, the
    port is released.

    `banner` goes to stderr once the port is listening, whatever the log level: it is how a person knows the server
    is up; `task_status` is told too. `sock` is a socket already bound (instead of options' host and port). With
    `stop`, setting it stops the server as a signal would, and the process's signal handlers are left alone (a
    server inside a test run).
    """
    limits = options.limits
    if options.trusted_proxies:
        logger.warning(
            "Believing X-Forwarded-For and Forwarded from %s: make sure nothing else can reach this port, or any "
            "client could name any address.",
            options.trusted_proxies.describe(),
        )
    connections = fit_to_descriptors(
        ConnectionLimits(
            limits.max_connections,
            limits.max_connections_per_address,
            limits.request_timeout,
            trusts=options.trusted_proxies.trusts,
        )
    )
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        http=guarded_protocol(connections),
        # No WebSocket: MCP does not use it, and an upgrade would go around every guard here.
        ws="none",
        backlog=connections.backlog,
        # uvicorn trusts X-Forwarded-For from loopback by default; only --trust-proxy says whose word counts.
        proxy_headers=False,
        timeout_keep_alive=int(limits.keep_alive_timeout),
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = _Server(config, banner, task_status)
    async with anyio.create_task_group() as tg:
        if stop is None:
            tg.start_soon(_stop_on_signal, server)
        else:
            tg.start_soon(_stop_on, stop, server)
        await server.serve(sockets=[sock] if sock is not None else None)
        tg.cancel_scope.cancel()


class _Server(uvicorn.Server):
    """uvicorn, announcing itself once listening, and leaving signals to `_stop_on_signal` (uvicorn re-raises
    SIGTERM after shutting down, which would end the process with -15)."""

    def __init__(self, config: uvicorn.Config, banner: str, task_status: anyio.abc.TaskStatus[None]) -> None:
        super().__init__(config)
        self._banner, self._task_status = banner, task_status

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._banner:
            sys.stderr.write(self._banner + "\n")
            sys.stderr.flush()
        if self.started:
            self._task_status.started()

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


async def _stop_on(stop: anyio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


def endpoint_url(options: HttpOptions) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}{SSE_PATH if options.transport == 'sse' else STREAMABLE_HTTP_PATH}"
