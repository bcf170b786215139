"""`ayrshare-mcp` without a command: serve MCP on the chosen transport until the client leaves or a signal."""

from __future__ import annotations

import argparse
import contextlib
import sys

import anyio

from ayrshare_mcp import __version__
from ayrshare_mcp.credentials import CredentialsError, load_access_token, server_key_configured
from ayrshare_mcp.server import Upstream, build_server
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.transports import HttpOptions, endpoint_url, http_app, refusal_to_serve, serve_http, serve_stdio


def serve(settings: Settings, args: argparse.Namespace) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        if args.transport == "stdio":
            anyio.run(serve_stdio, build_server(settings))
            return
        options = http_options(settings, args)
        if refusal := refusal_to_serve(options, server_key_configured(settings.environ) and not settings.sandbox):
            sys.exit(f"ayrshare-mcp: {refusal}")
        upstream = Upstream(settings)
        server = build_server(settings, upstream=upstream, lend_server_key=options.lends_server_key or settings.sandbox)
        mode = " (sandbox: built-in emulator, no real account)" if settings.sandbox else ""
        sys.stderr.write(f"ayrshare-mcp {__version__}: MCP over {args.transport} at {endpoint_url(options)}{mode}\n")
        anyio.run(serve_http, http_app(server, upstream, options), options)


def http_options(settings: Settings, args: argparse.Namespace) -> HttpOptions:
    try:
        access_token = load_access_token(settings.environ, args.token_file)
    except CredentialsError as exc:
        sys.exit(f"ayrshare-mcp: {exc}")
    return HttpOptions(
        transport=args.transport,
        host=args.host,
        port=args.port,
        stateless=args.stateless,
        allowed_hosts=tuple(args.allowed_host),
        access_token=access_token,
    )
