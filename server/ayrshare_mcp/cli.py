"""The `ayrshare-mcp` command: reads settings, sets up logging on stderr, and starts the chosen transport.

On stdio, stdout carries the protocol and nothing else, so every message from here goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from ayrshare_mcp import __version__
from ayrshare_mcp.config import LOG_LEVELS, ConfigError, Settings, load_access_token, server_key_configured


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ayrshare-mcp",
        description="MCP server for the Ayrshare social-media API. Serves MCP over stdio by default.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--transport",
        choices=["stdio", "streamable-http", "sse"],
        default="stdio",
        help="how MCP clients connect (default: stdio; streamable-http serves /mcp, sse serves /sse)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default: 8000)")
    parser.add_argument(
        "--stateless", action="store_true", help="streamable HTTP without server-side sessions, for replicas"
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a public hostname this server answers to (and its https origin); repeatable",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="file (chmod 600) holding the access token HTTP callers must send; default: AYRSHARE_MCP_TOKEN",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.upper,
        help="log level on stderr (default: AYRSHARE_MCP_LOG_LEVEL or WARNING)",
    )
    args = parser.parse_args(argv)
    if args.stateless and args.transport != "streamable-http":
        parser.error("--stateless applies to --transport streamable-http only")
    return args


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # httpx2 logs every request URL at INFO, httpcore2 every connection step at DEBUG; the client logs its own line.
    for chatty in ("httpx2", "httpcore2"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        settings = Settings.from_environ()
        access_token = load_access_token(settings.environ, args.token_file) if args.transport != "stdio" else None
    except ConfigError as exc:
        sys.exit(f"ayrshare-mcp: {exc}")
    configure_logging(args.log_level or settings.log_level)

    # Imported late so that --help and --version answer without loading the MCP SDK.
    from ayrshare_mcp.server import Upstream, build_server
    from ayrshare_mcp.transports import HttpOptions, endpoint_url, http_app, refusal_to_serve, serve_http, serve_stdio

    with contextlib.suppress(KeyboardInterrupt):
        if args.transport == "stdio":
            anyio.run(serve_stdio, build_server(settings))
            return
        options = HttpOptions(
            transport=args.transport,
            host=args.host,
            port=args.port,
            stateless=args.stateless,
            allowed_hosts=tuple(args.allowed_host),
            access_token=access_token,
        )
        if refusal := refusal_to_serve(options, server_key_configured(settings.environ)):
            sys.exit(f"ayrshare-mcp: {refusal}")
        upstream = Upstream(settings)
        server = build_server(settings, upstream=upstream, lend_server_key=options.lends_server_key)
        sys.stderr.write(f"ayrshare-mcp {__version__}: MCP over {args.transport} at {endpoint_url(options)}\n")
        anyio.run(serve_http, http_app(server, upstream, options), options)
