"""How the HTTP server is served: transport, address, public names, reverse proxies, and the limits on what callers
may hold open. Read from the command line; every limit is a flag."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ayrshare_mcp.transports.forwarded import TrustedProxies

HttpTransport = Literal["streamable-http", "sse"]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class HttpLimits:
    """How much one server, one caller and one address may hold open. Defaults suit a team server; all are flags.

    A session is a streamable-HTTP session or an SSE stream. A caller is an access token's holder or an Ayrshare key
    that has made a successful call; until then a caller counts by its address.
    """

    max_sessions: int = 1000
    max_sessions_per_caller: int = 50
    max_sessions_per_address: int = 200
    max_connections: int = 1000
    max_connections_per_address: int = 200
    # A request must arrive whole this soon after its first byte (or the connection's opening).
    request_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    session_idle_timeout: float = 600.0
    # Sessions of callers that have not yet made one successful call: they cost nothing to open, so they go sooner.
    unproven_session_idle_timeout: float = 60.0
    # Tool arguments are small; a post's text is at most tens of KB.
    max_body_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class HttpOptions:
    transport: HttpTransport = "streamable-http"
    host: str = "127.0.0.1"
    port: int = 8000
    stateless: bool = False
    # Public names the server answers to, behind a reverse proxy, besides the loopback names.
    allowed_hosts: tuple[str, ...] = ()
    # The reverse proxies whose X-Forwarded-For / Forwarded headers name the client (--trust-proxy).
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    limits: HttpLimits = field(default_factory=HttpLimits)
    # How callers sign in: "token" (the static access token only) or "oauth" (OAuth access tokens, and the static
    # token too if one is set); None: AYRSHARE_MCP_AUTH, else token.
    auth: str | None = None
    # Who acts for which Ayrshare account and profiles (--tenants; else AYRSHARE_MCP_TENANTS_FILE).
    tenants_file: Path | None = None

    @property
    def public(self) -> bool:
        """Whether anyone but this machine may reach the server: a non-loopback bind, public names to answer to, or
        reverse proxies in front of it."""
        return bool(self.allowed_hosts) or bool(self.trusted_proxies) or not _loopback(self.host)


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
