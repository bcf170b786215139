"""The OAuth settings of `--auth oauth`: whose tokens this server accepts, for which resource, and how it checks them.

Read from the environment at start. Every URL must be https, or http on this machine (a development authorization
server): a token checked over plain HTTP beyond this machine could be answered by anyone in between.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ayrshare_mcp.secret_files import SecretFileError, read_private_file

ENV_AUTH = "AYRSHARE_MCP_AUTH"
ENV_ISSUER = "AYRSHARE_MCP_OAUTH_ISSUER"
ENV_RESOURCE = "AYRSHARE_MCP_OAUTH_RESOURCE"
ENV_AUDIENCE = "AYRSHARE_MCP_OAUTH_AUDIENCE"
ENV_JWKS_URL = "AYRSHARE_MCP_OAUTH_JWKS_URL"
ENV_INTROSPECTION_URL = "AYRSHARE_MCP_OAUTH_INTROSPECTION_URL"
ENV_CLIENT_ID = "AYRSHARE_MCP_OAUTH_CLIENT_ID"
ENV_CLIENT_SECRET = "AYRSHARE_MCP_OAUTH_CLIENT_SECRET"  # noqa: S105 - the variable name, not a secret
ENV_CLIENT_SECRET_FILE = "AYRSHARE_MCP_OAUTH_CLIENT_SECRET_FILE"  # noqa: S105 - the variable name
ENV_JWKS_MAX_AGE = "AYRSHARE_MCP_OAUTH_JWKS_MAX_AGE"
AUTH_MODES = ("token", "oauth")
# A key the authorization server removed is trusted at most this long afterwards.
DEFAULT_JWKS_MAX_AGE = 300.0
# Tokens naming an unknown key refetch the key set at most this often.
DEFAULT_JWKS_REFETCH_SECONDS = 30.0


class OAuthConfigError(Exception):
    """The OAuth settings are missing or unusable; the message names the variable and how to fix it."""


@dataclass(frozen=True)
class OAuthSettings:
    """Whose access tokens are accepted (`issuer`), for what (`resource`, the URL clients reach /mcp at, and the
    `audience` tokens must carry: the resource unless the authorization server names it otherwise), and how they are
    checked: the issuer's keys, or its introspection endpoint for opaque tokens, with this server's own client."""

    issuer: str
    resource: str
    audience: str
    jwks_url: str | None = None
    introspection_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    jwks_max_age: float = DEFAULT_JWKS_MAX_AGE
    jwks_refetch_seconds: float = DEFAULT_JWKS_REFETCH_SECONDS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> OAuthSettings:
        """Raises:
        OAuthConfigError: the issuer or resource is missing, a URL is unusable, or the client is half set.
        """
        issuer = _url(environ, ENV_ISSUER, required=True, example="https://auth.example.com")
        resource = _url(environ, ENV_RESOURCE, required=True, example="https://mcp.example.com/mcp")
        assert issuer is not None  # required
        assert resource is not None
        client_id = environ.get(ENV_CLIENT_ID, "").strip() or None
        secret = _client_secret(environ)
        if (client_id is None) != (secret is None):
            raise OAuthConfigError(
                f"Set both {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (or {ENV_CLIENT_SECRET_FILE}), or neither: they are "
                "this server's own client at the authorization server, for introspecting opaque tokens."
            )
        return cls(
            issuer=issuer,
            resource=resource,
            audience=environ.get(ENV_AUDIENCE, "").strip() or resource,
            jwks_url=_url(environ, ENV_JWKS_URL),
            introspection_url=_url(environ, ENV_INTROSPECTION_URL),
            client_id=client_id,
            client_secret=secret,
            jwks_max_age=_seconds(environ, ENV_JWKS_MAX_AGE, DEFAULT_JWKS_MAX_AGE),
        )


def auth_mode(environ: Mapping[str, str], flag: str | None) -> str:
    mode = (flag or environ.get(ENV_AUTH, "").strip() or "token").lower()
    if mode not in AUTH_MODES:
        raise OAuthConfigError(f"{ENV_AUTH} (--auth) must be token or oauth, got {mode[:32]!r}.")
    return mode


def _url(environ: Mapping[str, str], name: str, *, required: bool = False, example: str = "") -> str | None:
    raw = environ.get(name, "").strip()
    if not raw:
        if required:
            raise OAuthConfigError(f"--auth oauth needs {name}, e.g. {example}.")
        return None
    parts = urlsplit(raw)
    local = parts.scheme == "http" and _loopback(parts.hostname or "")
    if (parts.scheme != "https" and not local) or not parts.hostname or parts.query or parts.fragment:
        raise OAuthConfigError(
            f"{name} must be an https URL without query or fragment (http only on this machine), got {raw[:100]!r}."
        )
    return raw


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _client_secret(environ: Mapping[str, str]) -> str | None:
    if path := environ.get(ENV_CLIENT_SECRET_FILE, "").strip():
        try:
            return read_private_file(Path(path), "client secret file", max_bytes=4096).strip() or None
        except SecretFileError as exc:
            raise OAuthConfigError(str(exc)) from None
    return environ.get(ENV_CLIENT_SECRET, "").strip() or None


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise OAuthConfigError(f"{name} must be a number of seconds between 0 and 86400, got {raw[:32]!r}.")
    return value
