"""The `ayrshare-mcp` command: serve MCP (the default), or `check`, `tools`, `call` and `config`.

Every message from here goes to stderr, except what a subcommand is asked to print: on stdio, stdout carries the
protocol and nothing else.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ayrshare_mcp import __version__
from ayrshare_mcp.logs import configure_logging
from ayrshare_mcp.settings import LOG_LEVELS, TOOLSETS, ConfigError, Settings, parse_media_dirs, parse_toolsets
from ayrshare_mcp.transports.forwarded import TrustedProxies, TrustProxyError
from ayrshare_mcp.transports.options import HttpLimits

HOSTS = ("claude", "claude-code", "cursor", "vscode")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ayrshare-mcp",
        description="MCP server for the Ayrshare social-media API. Without a command it serves MCP (stdio by default).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="use the built-in Ayrshare emulator instead of Ayrshare: no key, no network, no real account "
        "(also AYRSHARE_SANDBOX=1)",
    )
    parser.add_argument(
        "--sandbox-reset",
        action="store_true",
        help="start the sandbox over from its seeded data (implies --sandbox); its data is otherwise kept between runs",
    )
    parser.add_argument(
        "--toolsets",
        metavar="LIST",
        help=f"the toolsets to serve, a comma list of {', '.join(TOOLSETS)}, or all (default: AYRSHARE_TOOLSETS or "
        "core, the four seed tools)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="serve only the read-only tools of the chosen toolsets; the others are neither listed nor callable "
        "(also AYRSHARE_READ_ONLY=1)",
    )
    parser.add_argument(
        "--audit",
        action="store_true",
        help="log one JSON line (logger ayrshare_mcp.audit) for every call of a tool that can change something: who, "
        "which tool and profile, how it ended; never the text or a key (also AYRSHARE_MCP_AUDIT=1)",
    )
    parser.add_argument(
        "--media-dir",
        action="append",
        default=[],
        metavar="PATH",
        help="a folder AYRSHARE_UPLOAD_MEDIA may upload files from (stdio only); repeatable; replaces "
        "AYRSHARE_MEDIA_DIRS. Default: none, so no local file can be uploaded",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.upper,
        help="stderr log level (default: AYRSHARE_MCP_LOG_LEVEL or WARNING)",
    )
    serving = parser.add_argument_group("serving")
    serving.add_argument(
        "--transport",
        choices=["stdio", "streamable-http", "sse"],
        default="stdio",
        help="how MCP clients connect (default: stdio; streamable-http serves /mcp, sse serves /sse)",
    )
    serving.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: 127.0.0.1)")
    serving.add_argument("--port", type=int, default=8000, help="HTTP port (default: 8000)")
    serving.add_argument("--stateless", action="store_true", help="streamable HTTP without server-side sessions")
    serving.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a public hostname the HTTP server answers to (and its https origin); repeatable",
    )
    serving.add_argument(
        "--trust-proxy",
        type=_trusted_proxies,
        default=TrustedProxies(),
        metavar="ADDRESSES",
        help="the reverse proxies in front of this server (addresses or networks, comma-separated, or how many there "
        "are): their X-Forwarded-For / Forwarded headers name the client; without it those headers are ignored",
    )
    serving.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="file (chmod 600) with the access token HTTP callers must send; default: AYRSHARE_MCP_TOKEN",
    )
    serving.add_argument(
        "--auth",
        choices=("token", "oauth"),
        help="how HTTP callers sign in: token (the access token only; the default) or oauth (OAuth access tokens from "
        "AYRSHARE_MCP_OAUTH_ISSUER, and the access token too if one is set); default: AYRSHARE_MCP_AUTH",
    )
    serving.add_argument(
        "--tenants",
        type=Path,
        metavar="PATH",
        help="file (TOML, chmod 600) saying which Ayrshare account and profiles each caller acts for; reread on "
        "SIGHUP; default: AYRSHARE_MCP_TENANTS_FILE (see docs/hosting.md)",
    )

    limits = parser.add_argument_group(
        "HTTP limits (per server; per caller: a token holder or an Ayrshare key that made a successful call; per "
        "address: everyone else)"
    )
    defaults = HttpLimits()

    def limit(flag: str, kind: type[int] | type[float], default: float, text: str) -> None:
        limits.add_argument(
            flag, type=_positive(kind), default=default, metavar="N", help=f"{text} (default {default:g})"
        )

    limit("--max-sessions", int, defaults.max_sessions, "open sessions (or SSE streams) in all")
    limit("--max-sessions-per-caller", int, defaults.max_sessions_per_caller, "open sessions per caller")
    limit("--max-sessions-per-address", int, defaults.max_sessions_per_address, "open sessions per client address")
    limit("--max-connections", int, defaults.max_connections, "open connections in all")
    limit("--max-connections-per-address", int, defaults.max_connections_per_address, "per client address")
    limit("--request-timeout", float, defaults.request_timeout, "seconds for a request to arrive whole")
    limit("--keep-alive-timeout", float, defaults.keep_alive_timeout, "seconds an idle connection stays open")
    limit("--session-idle-timeout", float, defaults.session_idle_timeout, "seconds an unused session lives")
    limit(
        "--unproven-session-idle-timeout",
        float,
        defaults.unproven_session_idle_timeout,
        "seconds an unused session lives until its caller makes a successful call",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("check", help="check the configuration and whether Ayrshare accepts the key")
    tools = commands.add_parser("tools", help="print the tool catalog")
    tools_format = tools.add_mutually_exclusive_group()
    tools_format.add_argument("--json", action="store_true", help="print tools/list as JSON")
    tools_format.add_argument("--markdown", action="store_true", help="print the README's tool reference")
    tools_format.add_argument("--summary", action="store_true", help="print a Markdown table, one row per tool")
    call = commands.add_parser("call", help="run one tool in this process and print its result")
    call.add_argument("tool", help="tool name, e.g. AYRSHARE_GET_POST_HISTORY")
    call.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as a JSON object ('-': stdin)")
    config = commands.add_parser("config", help="print a ready-to-paste MCP client configuration")
    config.add_argument("host", choices=HOSTS, help="the MCP client to configure")
    return parser


def _trusted_proxies(text: str) -> TrustedProxies:
    try:
        return TrustedProxies.parse(text)
    except TrustProxyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
        return value

    return parse


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
    """The command line; `environ` stands in for the process environment (tests hand in their own)."""
    settings, args = read_command_line(argv, environ)
    configure_logging(args.log_level or settings.log_level)
    if settings.unencrypted_base_url:
        logging.getLogger("ayrshare_mcp").warning(
            "AYRSHARE_BASE_URL is plain http:// to another machine: every Ayrshare key would cross the network "
            "unencrypted. Use https://."
        )

    # Each command imports what it needs, so --help, tools and config answer without loading the MCP SDK server.
    if args.command == "check":
        from ayrshare_mcp.cli.check import run_check

        sys.exit(run_check(settings, tenants_file=args.tenants, auth=args.auth))
    if args.command == "tools":
        from ayrshare_mcp.cli.tool_commands import print_tools

        sys.exit(print_tools(settings, as_json=args.json, markdown=args.markdown, summary=args.summary))
    if args.command == "call":
        from ayrshare_mcp.cli.tool_commands import run_call

        sys.exit(run_call(settings, args.tool, args.arguments))
    if args.command == "config":
        from ayrshare_mcp.cli.hosts import print_config

        sys.exit(print_config(args.host, settings))
    from ayrshare_mcp.cli.serve import serve, serve_options

    serve(settings, serve_options(args))


def read_command_line(
    argv: Sequence[str] | None, environ: Mapping[str, str] | None
) -> tuple[Settings, argparse.Namespace]:
    """The settings the environment and the flags make, and the flags themselves; exits with one line when they are
    unusable."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.stateless and args.transport != "streamable-http":
        parser.error("--stateless applies to --transport streamable-http only")
    try:
        settings = Settings.from_environ(environ)
        if args.toolsets is not None:
            settings = replace(settings, toolsets=parse_toolsets(args.toolsets, "--toolsets"))
        if args.media_dir:
            settings = replace(settings, media_dirs=parse_media_dirs(args.media_dir, "--media-dir"))
    except ConfigError as exc:
        sys.exit(f"ayrshare-mcp: {exc}")
    if args.sandbox or args.sandbox_reset:
        settings = settings.as_sandbox()
    if args.sandbox_reset:
        from ayrshare_mcp.sandbox import reset

        sys.stderr.write(f"ayrshare-mcp: the sandbox starts over from its seeded data ({reset(settings.environ)})\n")
    if args.read_only:
        settings = replace(settings, read_only=True)
    if args.audit:
        settings = replace(settings, audit=True)
    return settings, args
