"""Process-wide settings: where Ayrshare is, how long a call may take, how loud the logs are, which mode to serve in.

Read once at start-up from the environment (and the command line). The Ayrshare keys are not settings: they are
resolved per call, see `credentials`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from ayrshare_mcp.credentials import is_unfilled, sandbox_environ
from ayrshare_mcp.secret_files import SecretFileError, read_private_file

DEFAULT_BASE_URL = "https://api.ayrshare.com/api"
DEFAULT_CONNECT_TIMEOUT = 5.0
# Hosts give up on a tool call after 60 s; the whole call, retries included, ends well before that.
DEFAULT_CALL_TIMEOUT = 30.0
# One attempt (connect, send, read the answer) gets at most this, so a slow read leaves time for a retry.
DEFAULT_ATTEMPT_TIMEOUT = 15.0
# The one home of the retry defaults (the client's RetryPolicy reads them too).
DEFAULT_MAX_RETRIES = 2
DEFAULT_BASE_DELAY = 0.5
# The pool of connections to Ayrshare, shared by every caller; the HTTP server keeps descriptors free for it.
MAX_UPSTREAM_CONNECTIONS = 100

ENV_BASE_URL = "AYRSHARE_BASE_URL"
ENV_CALL_TIMEOUT = "AYRSHARE_TIMEOUT"
ENV_ATTEMPT_TIMEOUT = "AYRSHARE_ATTEMPT_TIMEOUT"
ENV_MAX_RETRIES = "AYRSHARE_MAX_RETRIES"
ENV_LOG_LEVEL = "AYRSHARE_MCP_LOG_LEVEL"
ENV_SANDBOX = "AYRSHARE_SANDBOX"
ENV_READ_ONLY = "AYRSHARE_READ_ONLY"
ENV_ALLOW_UNCONFIRMED_DELETES = "AYRSHARE_ALLOW_UNCONFIRMED_DELETES"
ENV_TOOLSETS = "AYRSHARE_TOOLSETS"
ENV_PUBLISH = "AYRSHARE_PUBLISH"
ENV_MEDIA_DIRS = "AYRSHARE_MEDIA_DIRS"
ENV_AUDIT = "AYRSHARE_MCP_AUDIT"
ENV_STATE_SECRET = "AYRSHARE_MCP_STATE_SECRET"  # noqa: S105 - the variable name, not a secret
ENV_STATE_SECRET_FILE = "AYRSHARE_MCP_STATE_SECRET_FILE"  # noqa: S105 - the variable name
MIN_STATE_SECRET_BYTES = 32
# Where replicas share what they remember between calls (confirmations, rate budgets, publish locks); unset: each
# process remembers alone.
ENV_REDIS_URL = "AYRSHARE_MCP_REDIS_URL"
REDIS_SCHEMES = ("redis", "rediss", "unix")
# "Used once" is remembered per process, or across replicas that share Redis (AYRSHARE_MCP_REDIS_URL).
DEFAULT_CONFIRMATION_SECONDS = 120.0
SANDBOX_BASE_URL = "http://sandbox.ayrshare.invalid/api"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


# The toolsets a server can serve (their tools: `tools.catalog`). core is the four seed tools, and the default.
TOOLSETS = ("core", "posts", "schedules", "account", "analytics", "comments", "messages", "media", "calendar")
DEFAULT_TOOLSETS = ("core",)
# What a post that would go public now does when no person can be asked: held for approval, or published.
PublishMode = Literal["approval", "direct"]
PUBLISH_MODES: tuple[PublishMode, ...] = ("approval", "direct")


class ConfigError(Exception):
    """The server's own settings are unusable (bad URL, bad number)."""


@dataclass(frozen=True)
class Unattended:
    """What the operator lets a tool do when no person can be asked to confirm."""

    # Bulk deletes go ahead (AYRSHARE_ALLOW_UNCONFIRMED_DELETES; off by default).
    allow_deletes: bool = False
    # Posts that would go public now are held for approval, or published (AYRSHARE_PUBLISH).
    publish: PublishMode = "approval"


@dataclass(frozen=True)
class Settings:
    """Process-wide settings, read once at start-up."""

    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT
    log_level: str = "WARNING"
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_base_delay: float = DEFAULT_BASE_DELAY
    # Serve against the built-in emulator instead of Ayrshare (see `sandbox`).
    sandbox: bool = False
    # Serve the read-only tools only.
    read_only: bool = False
    # The toolsets served, by name (see TOOLSETS).
    toolsets: tuple[str, ...] = DEFAULT_TOOLSETS
    # What tools may do when no person can be asked to confirm.
    unattended: Unattended = field(default_factory=Unattended)
    # How long a person has to answer a confirmation, and a 2026-era approval lives: long enough to read and answer
    # the question, short enough that an approval cannot be saved for later.
    confirmation_seconds: float = DEFAULT_CONFIRMATION_SECONDS
    # The folders AYRSHARE_UPLOAD_MEDIA may read from over stdio, resolved (AYRSHARE_MEDIA_DIRS, --media-dir): none
    # by default, so a model cannot upload a file the user never chose to share.
    media_dirs: tuple[Path, ...] = ()
    # One audit line for every call of a tool that can change something (see `audit`).
    audit: bool = False
    # Seals confirmation state (2026-07-28 era); shared between replicas behind a load balancer, else random.
    state_secret: bytes | None = field(default=None, repr=False)
    # The Redis that replicas share (AYRSHARE_MCP_REDIS_URL); None keeps everything in this process. It may hold a
    # password: never shown.
    redis_url: str | None = field(default=None, repr=False)
    # The environment credentials are read from; a copy, so tests can hand in their own.
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        base_url = _base_url(env)
        call_timeout = _positive_float(env, ENV_CALL_TIMEOUT, DEFAULT_CALL_TIMEOUT)
        settings = cls(
            base_url=base_url,
            call_timeout=call_timeout,
            # An attempt never outlasts the call it belongs to.
            attempt_timeout=min(_positive_float(env, ENV_ATTEMPT_TIMEOUT, DEFAULT_ATTEMPT_TIMEOUT), call_timeout),
            log_level=_log_level(env),
            max_retries=_max_retries(env),
            read_only=_flag(env, ENV_READ_ONLY),
            toolsets=parse_toolsets(env.get(ENV_TOOLSETS, ""), ENV_TOOLSETS),
            unattended=Unattended(allow_deletes=_flag(env, ENV_ALLOW_UNCONFIRMED_DELETES), publish=_publish_mode(env)),
            state_secret=_state_secret(env),
            audit=_flag(env, ENV_AUDIT),
            redis_url=_redis_url(env),
            media_dirs=parse_media_dirs(env.get(ENV_MEDIA_DIRS, "").split(os.pathsep), ENV_MEDIA_DIRS),
            environ=env,
        )
        return settings.as_sandbox() if _flag(env, ENV_SANDBOX) else settings

    @property
    def unencrypted_base_url(self) -> bool:
        """Whether keys would travel to Ayrshare in the clear: a plain http:// base URL beyond this machine."""
        host = urlsplit(self.base_url).hostname or ""
        return not self.sandbox and self.base_url.startswith("http://") and not _loopback(host)

    def as_sandbox(self) -> Settings:
        """The same settings with Ayrshare and every real key replaced by the built-in emulator's."""
        return replace(self, sandbox=True, base_url=SANDBOX_BASE_URL, environ=sandbox_environ(self.environ))


def parse_toolsets(text: str, source: str) -> tuple[str, ...]:
    """The toolsets a comma list names, in catalog order; `all` is every one, an empty list the default.

    Raises:
        ConfigError: a name is not a toolset; the message lists the ones there are.
    """
    names = {name.strip().lower() for name in text.split(",")} - {""}
    if not names or is_unfilled(text.strip()):
        return DEFAULT_TOOLSETS
    if "all" in names:
        return TOOLSETS
    unknown = sorted(names - set(TOOLSETS))
    if unknown:
        raise ConfigError(
            f"{source}: no toolset named {', '.join(map(repr, unknown))}. The toolsets are {', '.join(TOOLSETS)} "
            "(or all), as a comma list, e.g. core,posts."
        )
    return tuple(name for name in TOOLSETS if name in names)


def parse_media_dirs(paths: Sequence[str], source: str) -> tuple[Path, ...]:
    """The folders named, each resolved (symlinks, `..`, `~`) and checked now, so a mistake stops the start rather
    than the first upload.

    Raises:
        ConfigError: a folder does not exist, is not a folder, or is given relative to wherever the server started.
    """
    folders: list[Path] = []
    for raw in paths:
        text = raw.strip()
        if not text or is_unfilled(text):
            continue
        given = Path(text).expanduser()
        if not given.is_absolute():
            raise ConfigError(f"{source}: {text!r} is a relative path; give the folder's full path, e.g. ~/Pictures.")
        folder = Path(os.path.realpath(given))
        if not folder.is_dir():
            raise ConfigError(
                f"{source}: {text!r} is not an existing folder. Name a folder that holds the media to upload, e.g. "
                "~/Pictures."
            )
        if folder not in folders:
            folders.append(folder)
    return tuple(folders)


def _base_url(env: Mapping[str, str]) -> str:
    raw = env.get(ENV_BASE_URL, "")
    base_url = raw.strip() or DEFAULT_BASE_URL
    if any(character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in base_url):
        raise ConfigError(
            f"{ENV_BASE_URL} contains a line break, space or other control character: set it to the URL alone, e.g. "
            f"{DEFAULT_BASE_URL}."
        )
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{ENV_BASE_URL} must be an http(s) URL, e.g. {DEFAULT_BASE_URL}; got {base_url!r}.")
    return base_url.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in {"", "0", "false", "no", "off"} or is_unfilled(raw):
        return False
    if raw in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")


def _state_secret(env: Mapping[str, str]) -> bytes | None:
    if path := env.get(ENV_STATE_SECRET_FILE, "").strip():
        try:
            secret = read_private_file(Path(path), "state secret file", max_bytes=4096).strip()
        except SecretFileError as exc:
            raise ConfigError(str(exc)) from None
        source = path
    else:
        secret = env.get(ENV_STATE_SECRET, "").strip()
        source = ENV_STATE_SECRET
        if not secret:
            return None
    if len(secret.encode()) < MIN_STATE_SECRET_BYTES or len(set(secret)) < 8:
        raise ConfigError(
            f"The state secret from {source} must be at least {MIN_STATE_SECRET_BYTES} random characters, e.g. the "
            "output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return secret.encode()


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get(ENV_REDIS_URL, "").strip()
    if not raw or is_unfilled(raw):
        return None
    example = "e.g. redis://redis.internal:6379/0, rediss://:PASSWORD@host:6380 or unix:///run/redis/redis.sock"
    # The value is never quoted back: it may carry a password.
    if any(character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in raw):
        raise ConfigError(f"{ENV_REDIS_URL} contains a space or control character: set it to the URL alone, {example}.")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ConfigError(f"{ENV_REDIS_URL} is not a valid URL (check its port): {example}.") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(f"{ENV_REDIS_URL} must start with redis://, rediss:// (TLS) or unix://, {example}.")
    if parts.scheme == "unix" and not parts.path.startswith("/"):
        raise ConfigError(f"{ENV_REDIS_URL} must name the socket's full path after unix://, {example}.")
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"{ENV_REDIS_URL} must name the Redis host, {example}.")
    _check_redis_options(raw, parts.query)
    return raw


# Options that would let anyone between this server and Redis answer for it: approvals and locks would be theirs.
_TLS_OFF = {"ssl_cert_reqs": {"none", "optional"}, "ssl_check_hostname": {"false", "0", "no", "off"}}


def _check_redis_options(raw: str, query: str) -> None:
    for name, value in parse_qsl(query, keep_blank_values=True):
        if value.lower() in _TLS_OFF.get(name, set()):
            raise ConfigError(f"{ENV_REDIS_URL} turns TLS verification off ({name}): remove it, and trust Redis's "
                              "certificate instead (ssl_ca_certs=/path/to/ca.pem).")  # fmt: skip
    # Imported only when Redis is configured; its own reading of the options is the one that will be used.
    from redis.asyncio.connection import parse_url

    try:
        parse_url(raw)
    except ValueError as exc:
        # Its message names the option and never the password.
        raise ConfigError(f"{ENV_REDIS_URL}: {exc}") from None


def _publish_mode(env: Mapping[str, str]) -> PublishMode:
    raw = env.get(ENV_PUBLISH, "").strip().lower()
    if not raw or is_unfilled(raw):
        return "approval"
    for mode in PUBLISH_MODES:
        if raw == mode:
            return mode
    raise ConfigError(
        f"{ENV_PUBLISH} must be approval (posts that would go public unconfirmed wait for approval) or direct "
        f"(they are published), got {raw!r}."
    )


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get(ENV_LOG_LEVEL, "").strip().upper() or "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(f"{ENV_LOG_LEVEL} must be one of {', '.join(LOG_LEVELS)}, got {level!r}.")
    return level


def _max_retries(env: Mapping[str, str]) -> int:
    raw = env.get(ENV_MAX_RETRIES, "").strip()
    if not raw:
        return DEFAULT_MAX_RETRIES
    if raw not in {"0", "1", "2"}:
        raise ConfigError(f"{ENV_MAX_RETRIES} must be 0, 1 or 2, got {raw!r}.")
    return int(raw)


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}.") from None
    if not 0 < value <= 600:
        raise ConfigError(f"{name} must be between 0 and 600 seconds, got {raw!r}.")
    return value
