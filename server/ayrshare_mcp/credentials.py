"""Credentials: the Ayrshare keys, where each comes from, and how each is checked.

Credentials are resolved on every tool call, so editing the credentials file takes effect without a restart. Keys
are held in `Credentials`, whose repr never shows them.

A set of credentials always comes from one place: the request's headers, the environment, or the credentials file.
A profile key or an X/Twitter pair is never borrowed from another source than its API key's, since each belongs to
one Ayrshare account, except that an HTTP caller using the server's key may name its own profile and X pair.

Every value is checked where it is read: 1 to 200 visible ASCII characters, what Ayrshare issues and what an HTTP
header carries. A value that fails names its source, never itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

ENV_API_KEY = "AYRSHARE_API_KEY"
ENV_PROFILE_KEY = "AYRSHARE_PROFILE_KEY"
ENV_X_API_KEY = "AYRSHARE_X_API_KEY"
ENV_X_API_SECRET = "AYRSHARE_X_API_SECRET"  # noqa: S105 - the variable name, not a secret
ENV_CREDENTIALS_FILE = "AYRSHARE_CREDENTIALS_FILE"
SANDBOX_API_KEY = "sandbox-key"

# Per-request credentials over HTTP. `Authorization` is deliberately not one: it guards access to this server.
HEADER_API_KEY = "X-Ayrshare-Api-Key"
HEADER_PROFILE_KEY = "X-Ayrshare-Profile-Key"
# The X pair travels under the names Ayrshare itself uses, so a caller sets them the same way for either.
HEADER_X_API_KEY = "X-Twitter-OAuth1-Api-Key"
HEADER_X_API_SECRET = "X-Twitter-OAuth1-Api-Secret"  # noqa: S105 - a header name
CREDENTIAL_HEADERS = (HEADER_API_KEY, HEADER_PROFILE_KEY, HEADER_X_API_KEY, HEADER_X_API_SECRET)

X_BYO_SETUP_URL = "https://www.ayrshare.com/docs/dashboard/connect-social-accounts/x-twitter-byo-keys"

# The one rule for a credential's text, wherever it comes from (arguments included: see tools.spec).
CREDENTIAL_PATTERN = r"^[!-~]{1,200}$"
_USABLE = re.compile(CREDENTIAL_PATTERN)
# A credentials file is a few lines; anything far larger or deeper is not one.
MAX_CREDENTIALS_FILE_BYTES = 64 * 1024


def how_to_provide_a_key(path: Path) -> str:
    return (
        f"Set the {ENV_API_KEY} environment variable in the MCP host's server config, "
        f'or write api_key = "..." to the credentials file {path} (chmod 600).'
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


def sandbox_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with every real credential replaced by the sandbox emulator's key."""
    real = {ENV_API_KEY, ENV_PROFILE_KEY, ENV_X_API_KEY, ENV_X_API_SECRET, ENV_CREDENTIALS_FILE}
    return {**{name: value for name, value in environ.items() if name not in real}, ENV_API_KEY: SANDBOX_API_KEY}


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


def _usable(value: str, where: str) -> str:
    """`value` stripped, if it can be a credential at all.

    Raises:
        CredentialsError: naming `where`; the value is never quoted (it may be a real key with a typo).
    """
    value = value.strip()
    if not _USABLE.match(value):
        raise CredentialsError(
            f"{where} is not a usable key: it must be 1 to 200 visible ASCII characters, with no spaces, line breaks "
            "or other control characters. Copy it again from the Ayrshare (or X) dashboard."
        )
    return value


def is_placeholder(value: str) -> bool:
    """A value someone meant to replace: a host's unfilled ${...}, a shell's $NAME, <...>, or the README's YOUR-..."""
    return (
        (value.startswith("${") and value.endswith("}"))
        or (value.startswith("<") and value.endswith(">"))
        or bool(re.fullmatch(r"\$[A-Z_][A-Z0-9_]*", value))
        or value.upper().startswith("YOUR-")
        or set(value) == {"."}
    )


def _from_environment(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    # A host that fails to substitute an empty user setting passes its placeholder itself: that means "not set".
    if not value or (value.startswith("${") and value.endswith("}")):
        return None
    if is_placeholder(value):
        raise CredentialsError(f"{name} is still a placeholder, not a key: put the real value in its place.")
    return _usable(value, f"The environment variable {name}")


def _from_headers(headers: Mapping[str, str], name: str) -> str | None:
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
    api_key, profile_key, x_key, x_secret = (_from_headers(headers, name) for name in CREDENTIAL_HEADERS)
    pair = x_pair(x_key, x_secret, f"the {HEADER_X_API_KEY} header", f"the {HEADER_X_API_SECRET} header")
    if api_key:
        return Credentials(api_key=api_key, profile_key=profile_key, x_pair=pair, source="request headers")
    if not lend_server_key:
        raise CredentialsError(
            f"This server serves callers it cannot authenticate, so it never uses its own Ayrshare key: send yours "
            f"in the {HEADER_API_KEY} header (and a profile key in {HEADER_PROFILE_KEY})."
        )
    try:
        return server_credentials(environ).with_profile_key(profile_key).with_x_pair(pair)
    except MissingCredentialsError as missing:
        raise MissingCredentialsError(
            f"No Ayrshare API key: send one in the {HEADER_API_KEY} header, or give the server one. {missing}"
        ) from None


def server_credentials(environ: Mapping[str, str]) -> Credentials:
    """The server's own key: the environment first, then the credentials file.

    Raises:
        CredentialsError: no source has a key, a value is unusable, half an X pair is set, a profile key or X pair
            is set in the environment without the key, or the file is unreadable, malformed or too open.
    """
    api_key, profile_key, x_key, x_secret = (
        _from_environment(environ, name) for name in (ENV_API_KEY, ENV_PROFILE_KEY, ENV_X_API_KEY, ENV_X_API_SECRET)
    )
    pair = x_pair(x_key, x_secret, ENV_X_API_KEY, ENV_X_API_SECRET)
    if api_key:
        return Credentials(api_key=api_key, profile_key=profile_key, x_pair=pair, source="environment")
    path = credentials_file_path(environ)
    if profile_key or pair:
        # Both belong to one account: pairing them with a key from another source could act on the wrong one.
        stray = ENV_PROFILE_KEY if profile_key else f"{ENV_X_API_KEY}/{ENV_X_API_SECRET}"
        raise CredentialsError(
            f"{stray} is set but {ENV_API_KEY} is not. Set {ENV_API_KEY} too, or put everything (api_key, "
            f"profile_key, x_api_key, x_api_secret) together in {path}."
        )
    if not path.exists():
        raise MissingCredentialsError("No Ayrshare API key is configured. " + how_to_provide_a_key(path))
    return _read_credentials_file(path)


def every_configured_secret(environ: Mapping[str, str], headers: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every credential value the server knows of for a call, usable or not: what must never appear in a result.

    More than the call's own credentials: a per-call Profile-Key replaces the default one, and Ayrshare may still
    echo the default.
    """
    names = (ENV_API_KEY, ENV_PROFILE_KEY, ENV_X_API_KEY, ENV_X_API_SECRET)
    values = [environ.get(name, "").strip() for name in names]
    if headers is not None:
        values += [headers.get(name.lower(), "").strip() for name in CREDENTIAL_HEADERS]
    with contextlib.suppress(CredentialsError):
        values += server_credentials(environ).secrets()
    # Four characters or fewer would be no key at all, and redacting them would garble every answer.
    return tuple(sorted({value for value in values if len(value) > 4}, key=len, reverse=True))


def server_key_configured(environ: Mapping[str, str]) -> bool:
    """Whether the server has a key of its own to lend (a broken key or file counts: it may be fixed later)."""
    return bool(environ.get(ENV_API_KEY, "").strip()) or credentials_file_path(environ).exists()


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


def _read_credentials_file(path: Path) -> Credentials:
    import tomllib  # only when there is a file to read: most hosts pass the key in the environment

    text = read_private_file(path, "credentials file", max_bytes=MAX_CREDENTIALS_FILE_BYTES)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message quotes no file content, only positions.
        raise CredentialsError(f"The credentials file {path} is not valid TOML ({_first_line(exc)}).") from None
    except RecursionError:
        raise CredentialsError(f"The credentials file {path} is nested too deeply to be a credentials file.") from None
    if not isinstance(document.get("api_key"), str) or not document["api_key"].strip():
        raise CredentialsError(f'The credentials file {path} has no api_key. Add a line: api_key = "..."')
    values = {
        name: _from_file(document, name, path) for name in ("api_key", "profile_key", "x_api_key", "x_api_secret")
    }
    pair = x_pair(values["x_api_key"], values["x_api_secret"], f"In {path}, x_api_key", "x_api_secret")
    api_key = values["api_key"]
    assert api_key is not None  # checked above
    return Credentials(api_key=api_key, profile_key=values["profile_key"], x_pair=pair, source=f"file {path}")


def _from_file(document: Mapping[str, object], name: str, path: Path) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CredentialsError(f"In the credentials file {path}, {name} must be a non-empty string.")
    if is_placeholder(value.strip()):
        raise CredentialsError(f"In the credentials file {path}, {name} is still a placeholder: put the real value.")
    return _usable(value, f"In the credentials file {path}, {name}")


def read_private_file(path: Path, what: str, *, max_bytes: int) -> str:
    """The text of a secrets file that only its owner can read, and that is not absurdly large.

    Raises:
        CredentialsError: the file is missing, not a regular file, open to others, too large, or not UTF-8.
    """
    check_private_file(path, what)
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except OSError as exc:
        raise CredentialsError(f"Cannot read the {what} {path}: {exc.strerror}.") from None
    if len(raw) > max_bytes:
        raise CredentialsError(f"The {what} {path} is larger than {max_bytes // 1024} KB; it holds a few lines.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialsError(f"The {what} {path} is not UTF-8 text.") from None


def check_private_file(path: Path, what: str = "credentials file") -> None:
    """Refuse a secrets file that others could read, write or replace, as ssh does (POSIX only): the file open to
    group or others, owned by another user, or in a directory that others may write to (unless it is sticky, as
    /tmp is, or owned by root). Files owned by root pass: container secret mounts are.

    Raises:
        CredentialsError: the file is missing, not a regular file, or others have a hold on it; one line, with the
            command that fixes it.
    """
    try:
        status = path.stat()
    except OSError as exc:
        raise CredentialsError(f"Cannot read the {what} {path}: {exc.strerror}.") from None
    if not stat.S_ISREG(status.st_mode):
        raise CredentialsError(f"The {what} {path} is not a regular file.")
    if os.name != "posix":
        return
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise CredentialsError(
            f"The {what} {path} is readable or writable by other users (mode {mode:03o}). Run: chmod 600 {path}"
        )
    if not _owned_by_us_or_root(status):
        raise CredentialsError(
            f"The {what} {path} belongs to another user (uid {status.st_uid}). Make your own copy, and chmod 600 it."
        )
    for directory in path.absolute().parents:
        if (problem := _open_directory(directory)) is not None:
            raise CredentialsError(f"The {what} {path} is in {directory}, {problem}. Run: chmod go-w {directory}")


def _owned_by_us_or_root(status: os.stat_result) -> bool:
    return status.st_uid in (os.geteuid(), 0)


def _open_directory(directory: Path) -> str | None:
    """Why others could replace a file in `directory` (or in a directory below it), or None."""
    try:
        status = directory.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(status.st_mode)
    if mode & stat.S_ISVTX and status.st_uid == 0:
        return None  # like /tmp: others may write, but not rename or remove what is not theirs
    if mode & 0o022:
        return f"which other users may write to (mode {mode:03o})"
    if not _owned_by_us_or_root(status):
        return f"which belongs to another user (uid {status.st_uid})"
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
