"""Who may use this server, and whose Ayrshare key their calls use: the access policy, decided once at start-up.

On stdio the one client is whoever started the server, so the server's own key serves it. Over HTTP the server's
own key serves only callers holding the access token. Where a request came from cannot be told: a reverse proxy
or a tunnel makes a loopback server public and every request look local. So an HTTP server with a key of its own
and no token refuses to start; without a key of its own, it serves callers who send theirs.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ayrshare_mcp.credentials import ENV_API_KEY, is_placeholder
from ayrshare_mcp.secret_files import SecretFileError, read_private_file

ENV_ACCESS_TOKEN = "AYRSHARE_MCP_TOKEN"  # noqa: S105 - the variable name, not a token
MIN_ACCESS_TOKEN_LENGTH = 24
# "aaaa..." or "abcdefgh12345678" is long enough and no secret: a random token uses many different characters.
MIN_DISTINCT_TOKEN_CHARACTERS = 12
HOW_TO_MAKE_A_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105 - a command


class AccessError(Exception):
    """The access configuration is unsafe or unusable; the message says how to fix it."""


@dataclass(frozen=True)
class AccessPolicy:
    """Whether HTTP callers must present a token, and whether callers without their own key may use the server's."""

    token: str | None = field(default=None, repr=False)
    lends_server_key: bool = True

    @classmethod
    def for_http(
        cls,
        *,
        token: str | None,
        server_key: bool,
        sandbox: bool = False,
        public: bool = False,
        tenants: bool = False,
    ) -> AccessPolicy:
        """The policy for serving HTTP. The sandbox's key reaches only the built-in emulator, so lending it harms
        nobody's account; but a sandbox reachable from other machines still needs a token, or anyone could fill it.
        With a tenants file every caller is signed in and acts with the keys it names: the server's own is never lent.

        Raises:
            AccessError: the server has a key of its own and no token, so anyone who can reach it could use that key;
                or a sandbox is served beyond this machine without a token.
        """
        if sandbox:
            if public and token is None:
                raise AccessError(
                    "Refusing to serve the sandbox beyond this machine without an access token: anyone who can reach "
                    f"the port could fill it. Set {ENV_ACCESS_TOKEN} (or --token-file), or bind to 127.0.0.1 without "
                    "--allowed-host."
                )
            return cls(token=token, lends_server_key=True)
        if tenants:
            return cls(token=token, lends_server_key=False)
        if server_key and token is None:
            raise AccessError(
                f"Refusing to serve HTTP: this server has an Ayrshare API key of its own and no access token is set, "
                f"so anyone who can reach the port (from this machine, or through a reverse proxy or tunnel) could act "
                f"on that Ayrshare account. Fix one of: set {ENV_ACCESS_TOKEN} (or --token-file) so callers must "
                f"present it; or remove {ENV_API_KEY} and the credentials file so each caller sends its own key in "
                "X-Ayrshare-Api-Key."
            )
        return cls(token=token, lends_server_key=token is not None)


def load_access_token(environ: Mapping[str, str], token_file: Path | None) -> str | None:
    """The token HTTP callers must present, from --token-file or AYRSHARE_MCP_TOKEN; None when access is open.

    Raises:
        AccessError: the token file is unreadable or too open, or the token is no secret: too short, one repeated
            character, an unfilled placeholder, or not visible ASCII.
    """
    if token_file is not None:
        try:
            token = read_private_file(token_file, "token file", max_bytes=4096).strip()
        except SecretFileError as exc:
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
    if is_placeholder(token):
        return "is an unfilled placeholder"
    if not token:
        return "is empty"
    if not all("!" <= character <= "~" for character in token):
        return "has characters other than visible ASCII"
    if len(token) < MIN_ACCESS_TOKEN_LENGTH:
        return "is too short"
    if len(set(token)) < MIN_DISTINCT_TOKEN_CHARACTERS:
        return "repeats too few characters to be random"
    if _patterned(token):
        return "follows a pattern (a run like abcdef or 123456, or a part repeated) instead of being random"
    return None


def _patterned(token: str) -> bool:
    """A run of six characters each one up, one down or the same as the last, or six characters that come twice:
    one in a million random tokens, every made-up one."""
    steps = [ord(after) - ord(before) for before, after in itertools.pairwise(token)]
    run = 1
    for previous, step in zip([None, *steps], steps, strict=False):
        run = run + 1 if step in (-1, 0, 1) and step == previous else 1
        if run >= 5:
            return True
    chunks = [token[index : index + 6] for index in range(len(token) - 5)]
    return len(set(chunks)) < len(chunks)


class ProvenKeys:
    """The Ayrshare keys, by fingerprint, that callers used in a successful call: identities that cannot be invented
    for free, unlike a key header's value. The HTTP guards give a proven key its own session quota.

    Holds at most `capacity` fingerprints, forgetting the least recently proven first.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._proven: OrderedDict[str, None] = OrderedDict()

    @staticmethod
    def fingerprint(api_key: str) -> str:
        return hashlib.sha256(f"caller\0{api_key.strip()}".encode("utf-8", "replace")).hexdigest()[:32]

    def prove(self, api_key: str) -> None:
        fingerprint = self.fingerprint(api_key)
        self._proven[fingerprint] = None
        self._proven.move_to_end(fingerprint)
        while len(self._proven) > self._capacity:
            self._proven.popitem(last=False)

    def __contains__(self, fingerprint: object) -> bool:
        return fingerprint in self._proven
