"""The `ayrshare-mcp` command: reads settings, sets up logging on stderr, and starts the server.

On stdio, stdout carries the protocol and nothing else, so every message from here goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence

import anyio

from ayrshare_mcp import __version__
from ayrshare_mcp.config import LOG_LEVELS, ConfigError, Settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ayrshare-mcp",
        description="MCP server for the Ayrshare social-media API. Serves MCP over stdio by default.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--transport", choices=["stdio"], default="stdio", help="how MCP clients connect (default: stdio)"
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.upper,
        help="log level on stderr (default: AYRSHARE_MCP_LOG_LEVEL or WARNING)",
    )
    return parser.parse_args(argv)


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
    except ConfigError as exc:
        sys.exit(f"ayrshare-mcp: {exc}")
    configure_logging(args.log_level or settings.log_level)

    # Imported late so that --help and --version answer without loading the MCP SDK.
    from ayrshare_mcp.server import build_server, serve_stdio

    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve_stdio, build_server(settings))
