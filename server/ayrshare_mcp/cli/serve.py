"""`ayrshare-mcp` without a command: serve MCP on the chosen transport until the client leaves or a signal."""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import anyio

from ayrshare_mcp import __version__
from ayrshare_mcp.access import AccessError
from ayrshare_mcp.server import build_server
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.transports.http import compose, endpoint_url, serve_http
from ayrshare_mcp.transports.options import HttpLimits, HttpOptions
from ayrshare_mcp.transports.stdio import serve_stdio

Transport = Literal["stdio", "streamable-http", "sse"]


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: the transport, and for HTTP its options and where the access token is kept."""

    transport: Transport = "stdio"
    http: HttpOptions = field(default_factory=HttpOptions)
    token_file: Path | None = None


def serve(settings: Settings, options: ServeOptions) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        if options.transport == "stdio":
            anyio.run(serve_stdio, build_server(settings))
            return
        try:
            app = compose(settings, options.http, token_file=options.token_file)
        except AccessError as exc:
            sys.exit(f"ayrshare-mcp: {exc}")
        mode = " (sandbox: built-in emulator, no real account)" if settings.sandbox else ""
        banner = f"ayrshare-mcp {__version__}: MCP over {options.transport} at {endpoint_url(options.http)}{mode}"
        anyio.run(serve_http, app, options.http, banner)


def serve_options(args: argparse.Namespace) -> ServeOptions:
    """The serving flags of the command line, typed."""
    limits = HttpLimits(
        max_sessions=args.max_sessions,
        max_sessions_per_caller=args.max_sessions_per_caller,
        max_sessions_per_address=args.max_sessions_per_address,
        max_connections=args.max_connections,
        max_connections_per_address=args.max_connections_per_address,
        request_timeout=args.request_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        session_idle_timeout=args.session_idle_timeout,
        unproven_session_idle_timeout=args.unproven_session_idle_timeout,
    )
    http = HttpOptions(
        transport="sse" if args.transport == "sse" else "streamable-http",
        host=args.host,
        port=args.port,
        stateless=args.stateless,
        allowed_hosts=tuple(args.allowed_host),
        trusted_proxies=args.trust_proxy,
        limits=limits,
        auth=args.auth,
        tenants_file=args.tenants,
    )
    return ServeOptions(transport=args.transport, http=http, token_file=args.token_file)
