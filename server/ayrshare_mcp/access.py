"""Who may use this server, and whose Ayrshare key their calls use: the access policy, decided once at start-up.

On stdio the one client is whoever started the server, so the server's own key serves it. Over HTTP the rule is:
the server's own key is lent only to callers it can trust, that is, callers on this machine of a server nobody else
can reach, or callers holding the access token. A server reachable from elsewhere (a non-loopback bind, or a
public name given with --allowed-host behind a reverse proxy) with a key of its own and no token refuses to start.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ayrshare_mcp.credentials import ENV_API_KEY, CredentialsError, read_private_file

ENV_ACCESS_TOKEN = "AYRSHARE_MCP_TOKEN"  # noqa: S105 - the variable name, not a token
MIN_ACCESS_TOKEN_LENGTH = 16
# "aaaaaaaaaaaaaaaa" is long enough and no secret: a random token uses many different characters.
MIN_DISTINCT_TOKEN_CHARACTERS = 8
HOW_TO_MAKE_A_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105 - a command


class AccessError(Exception):
    """The access configuration is unsafe or unusable; the message says how to fix it."""


@dataclass(frozen=True)
class AccessPolicy:
    """Whether HTTP callers must present a token, and whether callers without their own key may use the server's."""

    token: str | None = field(default=None, repr=False)
    lends_server_key: bool = True

    @classmethod
    def for_http(cls, *, host: str, public_names: tuple[str, ...], token: str | None, server_key: bool) -> AccessPolicy:
        """The policy for serving HTTP on `host` under `public_names`.

        Raises:
            AccessError: anyone who can reach the server could act on its own Ayrshare account.
        """
        reachable = not is_loopback(host) or bool(public_names)
        if reachable and token is None and server_key:
            where = f"--host {host}" if not is_loopback(host) else f"--allowed-host {', '.join(public_names)}"
            raise AccessError(
                f"Refusing to serve: with {where} this server is reachable from other machines, it has an Ayrshare "
                f"API key of its own, and no access token is set, so anyone who can reach it could act on that "
                f"Ayrshare account. Fix one of: set {ENV_ACCESS_TOKEN} (or --token-file) so callers must "
                f"authenticate; or remove {ENV_API_KEY} and the credentials file so each caller sends its own key "
                "in X-Ayrshare-Api-Key; or serve on 127.0.0.1 without --allowed-host."
            )
        return cls(token=token, lends_server_key=not reachable or token is not None)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_access_token(environ: Mapping[str, str], token_file: Path | None) -> str | None:
    """The token HTTP callers must present, from --token-file or AYRSHARE_MCP_TOKEN; None when access is open.

    Raises:
        AccessError: the token file is unreadable or too open, or the token is no secret: too short, one repeated
            character, an unfilled placeholder, or not visible ASCII.
    """
    if token_file is not None:
        try:
            token = read_private_file(token_file, "token file", max_bytes=4096).strip()
        except CredentialsError as exc:
            raise AccessError(str(exc)) from None
        source = str(token_file)
    else:
        token = environ.get(ENV_ACCESS_TOKEN, "").strip()
        source = ENV_ACCESS_TOKEN
        if not token:
            return None
    if problem := _weakness(token):
        raise AccessError(
            f"The access token from {source} {problem}: use at least {MIN_ACCESS_TOKEN_LENGTH} random characters, "
            f"e.g. the output of: {HOW_TO_MAKE_A_TOKEN}"
        )
    return token


def _weakness(token: str) -> str | None:
    if token.startswith("${") and token.endswith("}"):
        return "is an unfilled placeholder"
    if not token:
        return "is empty"
    if not all("!" <= character <= "~" for character in token):
        return "has characters other than visible ASCII"
    if len(token) < MIN_ACCESS_TOKEN_LENGTH:
        return "is too short"
    if len(set(token)) < MIN_DISTINCT_TOKEN_CHARACTERS:
        return "repeats too few characters to be random"
    return None
