"""Credentials: the Ayrshare keys, where each comes from, and how each is checked.

Credentials are resolved on every tool call, so editing the credentials file takes effect without a restart. Keys
are held in `Credentials`, whose repr never shows them.

Where credentials come from is one table, `SOURCES`: the request's headers, the environment, the credentials file.
Every rule reads it: which holds the call's key (precedence), what the sandbox strips, what is redacted from every
result, and whether the server has a key of its own to guard with a token. A new source is one more entry, and it
cannot be left out of any of them.

A set of credentials always comes from one source. A profile key or an X/Twitter pair is never borrowed from another
source than its API key's, since each belongs to one Ayrshare account, except that an HTTP caller using the server's
key may name its own profile and X pair.

Every value is checked where it is read: 5 to 200 visible ASCII characters (no real key is shorter, and what is
shorter could not be told apart from ordinary words when redacting). A value that fails names its source, never
itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ayrshare_mcp.secret_files import SecretFileError, read_private_file

ENV_API_KEY = "AYRSHARE_API_KEY"
ENV_PROFILE_KEY = "AYRSHARE_PROFILE_KEY"
ENV_X_API_KEY = "AYRSHARE_X_API_KEY"
ENV_X_API_SECRET = "AYRSHARE_X_API_SECRET"  # noqa: S105 - the variable name, not a secret
ENV_CREDENTIALS_FILE = "AYRSHARE_CREDENTIALS_FILE"
# Set by the Claude Desktop bundle's manifest: its user types the key into the extension's settings, not a variable.
ENV_BUNDLE = "AYRSHARE_MCP_BUNDLE"
SANDBOX_API_KEY = "sandbox-key"

# Per-request credentials over HTTP. `Authorization` is deliberately not one: it guards access to this server.
HEADER_API_KEY = "X-Ayrshare-Api-Key"
HEADER_PROFILE_KEY = "X-Ayrshare-Profile-Key"
# The X pair travels under the names Ayrshare itself uses, so a caller sets them the same way for either.
HEADER_X_API_KEY = "X-Twitter-OAuth1-Api-Key"
HEADER_X_API_SECRET = "X-Twitter-OAuth1-Api-Secret"  # noqa: S105 - a header name

X_BYO_SETUP_URL = "https://www.ayrshare.com/docs/dashboard/connect-social-accounts/x-twitter-byo-keys"

# The one rule for a credential's text, wherever it comes from (arguments included: see tools.arguments).
MIN_KEY_LENGTH = 5
MAX_KEY_LENGTH = 200
CREDENTIAL_PATTERN = rf"^[!-~]{{{MIN_KEY_LENGTH},{MAX_KEY_LENGTH}}}$"
_USABLE = re.compile(CREDENTIAL_PATTERN)
# A credentials file is a few lines; anything far larger or deeper is not one.
MAX_CREDENTIALS_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """One kind of credential, and its name in each place it can come from."""

    name: str  # in the credentials file, and in `Credentials`
    variable: str
    header: str


API_KEY = Kind("api_key", ENV_API_KEY, HEADER_API_KEY)
PROFILE_KEY = Kind("profile_key", ENV_PROFILE_KEY, HEADER_PROFILE_KEY)
X_API_KEY = Kind("x_api_key", ENV_X_API_KEY, HEADER_X_API_KEY)
X_API_SECRET = Kind("x_api_secret", ENV_X_API_SECRET, HEADER_X_API_SECRET)
KINDS = (API_KEY, PROFILE_KEY, X_API_KEY, X_API_SECRET)
CREDENTIAL_HEADERS = tuple(kind.header for kind in KINDS)


def how_to_provide_a_key(environ: Mapping[str, str]) -> str:
    if environ.get(ENV_BUNDLE, "").strip():
        return (
            "Enter your Ayrshare API key in Claude Desktop: Settings, Extensions, Ayrshare, then the API key field "
            "(from the Ayrshare dashboard's API Key page); or turn on Sandbox mode there to try it without one."
        )
    return (
        f"Set the {ENV_API_KEY} environment variable in the MCP host's server config, "
        f'or write api_key = "..." to the credentials file {credentials_file_path(environ)} (chmod 600).'
    )


def how_to_provide_an_x_pair() -> str:
    return (
        f"Set {ENV_X_API_KEY} and {ENV_X_API_SECRET} (or x_api_key and x_api_secret in the credentials file; over "
        f"HTTP, the {HEADER_X_API_KEY} and {HEADER_X_API_SECRET} headers) to the API Key and API Secret of your X "
        f"Developer App: {X_BYO_SETUP_URL}"
    )


class CredentialsError(Exception):
    """No usable Ayrshare key; the message says what to fix and never contains a key."""


class MissingCredentialsError(CredentialsError):
    """No source has a key at all."""


@dataclass(frozen=True)
class XPair:
    """The API key and secret of the account's own X Developer App, which Ayrshare needs for X since 2026-03-31."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "XPair(<redacted>)"


@dataclass(frozen=True)
class Credentials:
    """An Ayrshare API key, an optional Profile-Key and X pair, and where they came from."""

    api_key: str = field(repr=False)
    profile_key: str | None = field(default=None, repr=False)
    x_pair: XPair | None = field(default=None, repr=False)
    source: str = "environment"

    def __repr__(self) -> str:
        profile = "set" if self.profile_key else "none"
        x_pair = "set" if self.x_pair else "none"
        return f"Credentials(source={self.source!r}, api_key=<redacted>, profile_key=<{profile}>, x_pair=<{x_pair}>)"

    def with_profile_key(self, profile_key: str | None) -> Credentials:
        return self if profile_key is None else replace(self, profile_key=profile_key)

    def with_x_pair(self, x_pair: XPair | None) -> Credentials:
        return self if x_pair is None else replace(self, x_pair=x_pair)

    @property
    def account_key(self) -> str:
        """Which Ayrshare account (key and profile) these act for, without the keys: the one name a rate-limit
        bucket, a cached /user answer, an approval and a duplicate-post key are kept under."""
        return account_key(self.api_key, self.profile_key)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value held here, for redaction."""
        pair = (self.x_pair.api_key, self.x_pair.api_secret) if self.x_pair else ()
        return tuple(value for value in (self.api_key, self.profile_key, *pair) if value)


def account_key(api_key: str, profile_key: str | None) -> str:
    """See `Credentials.account_key`."""
    return hashlib.sha256(f"account\0{api_key}\0{profile_key or ''}".encode()).hexdigest()[:32]


def x_pair(key: str | None, secret: str | None, key_name: str, secret_name: str) -> XPair | None:
    """The pair when both halves are given, None when neither is.

    Raises:
        CredentialsError: only one half is given; the message names the missing one.
    """
    if key and secret:
        return XPair(key, secret)
    if key or secret:
        given, missing = (key_name, secret_name) if key else (secret_name, key_name)
        problem = f"{given} is set but {missing} is not"
        raise CredentialsError(
            f"{problem[0].upper()}{problem[1:]}: the X/Twitter API key and secret only work together. Set both, or "
            f"neither. {how_to_provide_an_x_pair()}"
        )
    return None


def is_placeholder(value: str) -> bool:
    """A value someone meant to replace: a host's unfilled ${...}, a shell's $NAME, <...>, or the README's YOUR-..."""
    return (
        is_unfilled(value)
        or (value.startswith("<") and value.endswith(">"))
        or bool(re.fullmatch(r"\$[A-Z_][A-Z0-9_]*", value))
        or value.upper().startswith("YOUR-")
        or set(value) == {"."}
    )


def is_unfilled(value: str) -> bool:
    """A host's `${...}` left as it was: the host did not substitute an empty user setting, which means "not set"."""
    return value.startswith("${") and value.endswith("}")


def is_secret(value: str) -> bool:
    """Whether a value is long enough to be a credential, and so to be redacted wherever it appears."""
    return len(value) >= MIN_KEY_LENGTH


def _usable(value: str, where: str) -> str:
    """`value` stripped, if it can be a credential at all.

    Raises:
        CredentialsError: naming `where`; the value is never quoted (it may be a real key with a typo).
    """
    value = value.strip()
    if not _USABLE.match(value):
        raise CredentialsError(
            f"{where} is not a usable key: it must be {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} visible ASCII characters, "
            "with no spaces, line breaks or other control characters. Copy it again from the Ayrshare (or X) "
            "dashboard."
        )
    return value


# --- Where credentials come from ---------------------------------------------------------------------------------


class Source(Protocol):
    """One place credentials come from; every rule about credentials reads `SOURCES`."""

    # The server's own (lent to an HTTP token holder), or the caller's (a request's headers).
    servers_own: bool

    def read(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> dict[str, str | None]:
        """Each kind's checked value here, by name (None where absent).

        Raises:
            CredentialsError: a value is present but unusable, naming where it is.
        """
        ...

    def raw(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> list[str]:
        """Every value here, usable or not: what must never appear in a result."""
        ...

    def holds_key(self, environ: Mapping[str, str]) -> bool:
        """Whether the server has an API key here (a broken one counts: it may be fixed while the server runs)."""
        ...

    def variables(self, environ: Mapping[str, str]) -> set[str]:
        """The environment variables this source reads: the sandbox takes them away."""
        ...

    def describe(self, environ: Mapping[str, str]) -> str:
        """Where this is, for `Credentials.source` and `check`."""
        ...

    def name_of(self, kind: Kind, environ: Mapping[str, str]) -> str:
        """How an error names a kind of credential here."""
        ...


class _Headers:
    """A request's headers, over HTTP: the caller's own credentials, for that request only."""

    servers_own = False

    def read(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> dict[str, str | None]:
        return {kind.name: _from_header(headers or {}, kind.header) for kind in KINDS}

    def raw(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> list[str]:
        return [(headers or {}).get(kind.header.lower(), "").strip() for kind in KINDS]

    def holds_key(self, environ: Mapping[str, str]) -> bool:
        return False

    def variables(self, environ: Mapping[str, str]) -> set[str]:
        return set()

    def describe(self, environ: Mapping[str, str]) -> str:
        return "request headers"

    def name_of(self, kind: Kind, environ: Mapping[str, str]) -> str:
        return f"the {kind.header} header"


class _Environment:
    """The server process's environment, which the MCP host (or the operator) sets."""

    servers_own = True

    def read(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> dict[str, str | None]:
        return {kind.name: _from_environment(environ, kind.variable) for kind in KINDS}

    def raw(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> list[str]:
        return [environ.get(kind.variable, "").strip() for kind in KINDS]

    def holds_key(self, environ: Mapping[str, str]) -> bool:
        return bool(environ.get(ENV_API_KEY, "").strip())

    def variables(self, environ: Mapping[str, str]) -> set[str]:
        return {kind.variable for kind in KINDS}

    def describe(self, environ: Mapping[str, str]) -> str:
        return "environment"

    def name_of(self, kind: Kind, environ: Mapping[str, str]) -> str:
        return kind.variable


class _File:
    """The credentials file (TOML, private to its owner): ~/.config/ayrshare/credentials.toml unless moved."""

    servers_own = True

    def read(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> dict[str, str | None]:
        path = credentials_file_path(environ)
        if not path.exists():
            return dict.fromkeys((kind.name for kind in KINDS), None)
        document = _credentials_document(path)
        if not isinstance(document.get("api_key"), str) or not document["api_key"].strip():
            raise CredentialsError(f'The credentials file {path} has no api_key. Add a line: api_key = "..."')
        return {kind.name: _from_file(document, kind.name, path) for kind in KINDS}

    def raw(self, environ: Mapping[str, str], headers: Mapping[str, str] | None) -> list[str]:
        with contextlib.suppress(CredentialsError):
            path = credentials_file_path(environ)
            if path.exists():
                document = _credentials_document(path)
                return [str(document[kind.name]).strip() for kind in KINDS if kind.name in document]
        return []

    def holds_key(self, environ: Mapping[str, str]) -> bool:
        return credentials_file_path(environ).exists()

    def variables(self, environ: Mapping[str, str]) -> set[str]:
        return {ENV_CREDENTIALS_FILE}

    def describe(self, environ: Mapping[str, str]) -> str:
        return f"file {credentials_file_path(environ)}"

    def name_of(self, kind: Kind, environ: Mapping[str, str]) -> str:
        return f"In {credentials_file_path(environ)}, {kind.name}" if kind is X_API_KEY else kind.name


HEADERS, ENVIRONMENT, FILE = _Headers(), _Environment(), _File()
# In order of precedence: a caller's own key, then the server's (the environment before the file).
SOURCES: tuple[Source, ...] = (HEADERS, ENVIRONMENT, FILE)
SERVER_SOURCES: tuple[Source, ...] = tuple(source for source in SOURCES if source.servers_own)


def _pair_from(source: Source, environ: Mapping[str, str], values: dict[str, str | None]) -> XPair | None:
    key_name, secret_name = (source.name_of(kind, environ) for kind in (X_API_KEY, X_API_SECRET))
    return x_pair(values["x_api_key"], values["x_api_secret"], key_name, secret_name)


def _credentials_from(source: Source, environ: Mapping[str, str], values: dict[str, str | None]) -> Credentials:
    pair = _pair_from(source, environ, values)
    api_key = values["api_key"]
    assert api_key is not None  # only sources holding a key are made into credentials
    return Credentials(api_key, values["profile_key"], pair, source=source.describe(environ))


def resolve_credentials(
    environ: Mapping[str, str], headers: Mapping[str, str] | None = None, *, lend_server_key: bool = True
) -> Credentials:
    """The credentials for one tool call.

    Over HTTP (`headers` given, with lower-case names) a key in X-Ayrshare-Api-Key wins and is used for that request
    only, with the profile key and X pair of the same request and nothing of the server's. Otherwise, and on stdio,
    the server's own key applies (the environment first, then the credentials file); a request may still name its
    profile key and X pair. A server that must not lend its key (`lend_server_key=False`) uses request keys only.

    Raises:
        CredentialsError: no usable key, an unusable value, half an X pair, or a credentials file that is unreadable,
            malformed or too open.
    """
    if headers is None:
        return server_credentials(environ)
    sent = HEADERS.read(environ, headers)
    pair = _pair_from(HEADERS, environ, sent)
    if sent["api_key"]:
        return _credentials_from(HEADERS, environ, sent)
    if not lend_server_key:
        raise CredentialsError(
            f"This server serves callers it cannot authenticate, so it never uses its own Ayrshare key: send yours "
            f"in the {HEADER_API_KEY} header (and a profile key in {HEADER_PROFILE_KEY})."
        )
    try:
        return server_credentials(environ).with_profile_key(sent["profile_key"]).with_x_pair(pair)
    except MissingCredentialsError as missing:
        raise MissingCredentialsError(
            f"No Ayrshare API key: send one in the {HEADER_API_KEY} header, or give the server one. {missing}"
        ) from None


def server_credentials(environ: Mapping[str, str]) -> Credentials:
    """The server's own key: from the first of its sources that holds one.

    Raises:
        CredentialsError: no source has a key, a value is unusable, half an X pair is set, a profile key or X pair
            is set in the environment without the key, or the file is unreadable, malformed or too open.
    """
    for source in SERVER_SOURCES:
        values = source.read(environ, None)
        if values["api_key"]:
            return _credentials_from(source, environ, values)
        _pair_from(source, environ, values)  # half a pair is its own error, naming the missing half
        if stray := [kind for kind in KINDS if values[kind.name]]:
            # Both belong to one account: pairing them with a key from another source could act on the wrong one.
            names = "/".join(source.name_of(kind, environ) for kind in stray)
            raise CredentialsError(
                f"{names} is set but {ENV_API_KEY} is not. Set {ENV_API_KEY} too, or put everything (api_key, "
                f"profile_key, x_api_key, x_api_secret) together in {credentials_file_path(environ)}."
            )
    raise MissingCredentialsError("No Ayrshare API key is configured. " + how_to_provide_a_key(environ))


def every_configured_secret(environ: Mapping[str, str], headers: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every credential value the server knows of for a call, usable or not: what must never appear in a result.

    More than the call's own credentials: a per-call Profile-Key replaces the default one, and Ayrshare may still
    echo the default.
    """
    values = {value for source in SOURCES for value in source.raw(environ, headers) if is_secret(value)}
    return tuple(sorted(values, key=len, reverse=True))


def server_key_configured(environ: Mapping[str, str]) -> bool:
    """Whether the server has a key of its own to lend (a broken key or file counts: it may be fixed later)."""
    return any(source.holds_key(environ) for source in SERVER_SOURCES)


def sandbox_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with every real credential, and every pointer to one, replaced by the sandbox's key."""
    real = set().union(*(source.variables(environ) for source in SOURCES))
    return {**{name: value for name, value in environ.items() if name not in real}, ENV_API_KEY: SANDBOX_API_KEY}


def credentials_file_path(environ: Mapping[str, str]) -> Path:
    if explicit := environ.get(ENV_CREDENTIALS_FILE, "").strip():
        return _expand_home(explicit, environ)
    config_home = environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config_home) if config_home else _home(environ) / ".config"
    return base / "ayrshare" / "credentials.toml"


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME", "").strip()
    return Path(home) if home else Path.home()


def _expand_home(text: str, environ: Mapping[str, str]) -> Path:
    # The given environment's HOME, not the process's: hosts and tests hand the server their own.
    if text == "~" or text.startswith("~/"):
        return _home(environ) / text[2:]
    return Path(text)


# --- Reading one value -------------------------------------------------------------------------------------------


def _from_environment(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if not value or is_unfilled(value):
        return None
    if is_placeholder(value):
        raise CredentialsError(f"{name} is still a placeholder, not a key: put the real value in its place.")
    return _usable(value, f"The environment variable {name}")


def _from_header(headers: Mapping[str, str], name: str) -> str | None:
    """A credential header's value; None only when the header is absent.

    Raises:
        CredentialsError: the header is present but blank, an unfilled placeholder, or not a usable key. A caller
            who sends the header means to use their own key: falling back to the server's would act on another
            account.
    """
    if name.lower() not in headers:
        return None
    value = headers[name.lower()].strip()
    if not value or is_placeholder(value):
        raise CredentialsError(
            f"The {name} header is empty or an unfilled placeholder" + " (${...}). Send the real value, or leave the "
            "header out."
        )
    return _usable(value, f"The {name} header")


def _from_file(document: Mapping[str, object], name: str, path: Path) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CredentialsError(f"In the credentials file {path}, {name} must be a non-empty string.")
    if is_placeholder(value.strip()):
        raise CredentialsError(f"In the credentials file {path}, {name} is still a placeholder: put the real value.")
    return _usable(value, f"In the credentials file {path}, {name}")


def _credentials_document(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read: most hosts pass the key in the environment

    try:
        text = read_private_file(path, "credentials file", max_bytes=MAX_CREDENTIALS_FILE_BYTES)
    except SecretFileError as exc:
        raise CredentialsError(str(exc)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message quotes no file content, only positions.
        raise CredentialsError(f"The credentials file {path} is not valid TOML ({_first_line(exc)}).") from None
    except RecursionError:
        raise CredentialsError(f"The credentials file {path} is nested too deeply to be a credentials file.") from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
