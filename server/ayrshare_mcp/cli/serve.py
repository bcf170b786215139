"""`ayrshare-mcp` without a command: serve MCP on the chosen transport until the client leaves or a signal."""

from __future__ import annotations

import argparse
import contextlib
import sys

import anyio

from ayrshare_mcp import __version__
from ayrshare_mcp.access import AccessError, AccessPolicy, load_access_token
from ayrshare_mcp.credentials import server_key_configured
from ayrshare_mcp.server import SharedClient, build_server
from ayrshare_mcp.settings import HttpLimits, HttpOptions, Settings
from ayrshare_mcp.transports import endpoint_url, http_app, serve_http, serve_stdio


def serve(settings: Settings, args: argparse.Namespace) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        if args.transport == "stdio":
            anyio.run(serve_stdio, build_server(settings))
            return
        options = http_options(args)
        try:
            access = AccessPolicy.for_http(
                token=load_access_token(settings.environ, args.token_file),
                # The sandbox's key reaches only the built-in emulator: lending it harms nobody.
                server_key=server_key_configured(settings.environ) and not settings.sandbox,
            )
        except AccessError as exc:
            sys.exit(f"ayrshare-mcp: {exc}")
        if settings.sandbox:
            access = AccessPolicy(token=access.token, lends_server_key=True)
        shared = SharedClient(settings)
        server = build_server(settings, shared=shared, access=access)
        mode = " (sandbox: built-in emulator, no real account)" if settings.sandbox else ""
        banner = f"ayrshare-mcp {__version__}: MCP over {args.transport} at {endpoint_url(options)}{mode}"
        anyio.run(serve_http, http_app(server, shared, options, access), options, banner)


def http_options(args: argparse.Namespace) -> HttpOptions:
    limits = HttpLimits(
        max_sessions=args.max_sessions,
        max_sessions_per_caller=args.max_sessions_per_caller,
        max_sessions_per_address=args.max_sessions_per_address,
        max_connections=args.max_connections,
        max_connections_per_address=args.max_connections_per_address,
        request_timeout=args.request_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        session_idle_timeout=args.session_idle_timeout,
    )
    return HttpOptions(
        transport=args.transport,
        host=args.host,
        port=args.port,
        stateless=args.stateless,
        allowed_hosts=tuple(args.allowed_host),
        limits=limits,
    )
