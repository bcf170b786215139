"""Sandbox mode: the real server, tools and client, talking to the built-in Ayrshare emulator in memory.

No key, no network, no social account: for trying the server and for testing agents. Never the default;
`Settings.as_sandbox` swaps out Ayrshare and the keys, this module supplies the emulator.

The sandbox remembers: its data lives in a file under the user's state directory, so a post id that one run prints
is still there for the next (`--sandbox-reset` starts over). The seeded posts have stable ids. What it keeps is
safe at rest and bounded: an HTTP caller's keys are replaced by salted hashes before the emulator sees them, the
file is readable by its owner alone, and old posts and callers are forgotten beyond a few hundred, or beyond a few
megabytes in all. The file is written off the event loop, so saving never holds up another caller.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
from starlette.types import Message, Receive, Scope, Send

from ayrshare_mcp.credentials import SANDBOX_API_KEY
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp

logger = logging.getLogger(__name__)
SEEDED_IDS = ("sandboxPostLaunch01", "sandboxPostStudio02", "sandboxPostRoundup3")
# Bounds on what the sandbox keeps: callers (keys and profiles), posts per caller, duplicate-post keys per caller.
MAX_ACCOUNTS = 50
MAX_POSTS = 500
MAX_IDEMPOTENCY_KEYS = 1000
# And on what it all takes, as saved: posts may be long, and each is kept twice (the post, and its create's answer).
MAX_BYTES = 8 * 1024 * 1024
# The keys a request may carry, replaced before the emulator (and so the file) sees them; the X pair is dropped.
_HASHED_HEADERS = (b"authorization", b"profile-key")
_DROPPED_HEADERS = (b"x-twitter-oauth1-api-key", b"x-twitter-oauth1-api-secret")


def state_file(environ: Mapping[str, str]) -> Path:
    """Where the sandbox keeps its data: $XDG_STATE_HOME/ayrshare-mcp/sandbox.json (~/.local/state by default)."""
    base = environ.get("XDG_STATE_HOME", "").strip()
    home = environ.get("HOME", "").strip()
    root = Path(base) if base else (Path(home) if home else Path.home()) / ".local" / "state"
    return root / "ayrshare-mcp" / "sandbox.json"


def reset(environ: Mapping[str, str]) -> Path:
    path = state_file(environ)
    path.unlink(missing_ok=True)
    return path


def sandbox_transport(environ: Mapping[str, str]) -> httpx2.AsyncBaseTransport:
    """An HTTP transport that answers from the emulator in this process, and saves its data after every change."""
    path = state_file(environ)
    return httpx2.ASGITransport(app=_Remembering(*_load(path), path))


def _load(path: Path) -> tuple[EmulatorApp, bytes]:
    app = demo_emulator()
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        app.service.restore(saved)
        return app, bytes.fromhex(saved["salt"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("The sandbox state in %s was unreadable (%s); starting from the seeded data", path, exc)
        app = demo_emulator()
    return app, secrets.token_bytes(16)


class _Remembering:
    """The emulator, seeing keys only as salted hashes, and writing its data to `path` after each change."""

    def __init__(self, emulator: EmulatorApp, salt: bytes, path: Path) -> None:
        self.emulator, self._salt, self._path = emulator, salt, path
        self._writing = anyio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.emulator(scope, receive, send)
            return
        changes = scope["method"] != "GET"

        async def save_when_done(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Even a read can name a new caller or profile: the bounds hold after every answer.
                _bound(self.emulator)
                if changes:
                    await self._save()

        await self.emulator({**scope, "headers": self._hashed(scope["headers"])}, receive, save_when_done)

    def _hashed(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        kept = []
        for name, value in headers:
            if name in _DROPPED_HEADERS:
                continue
            if name in _HASHED_HEADERS:
                value = self._hash(name, value)
            kept.append((name, value))
        return kept

    def _hash(self, name: bytes, value: bytes) -> bytes:
        scheme, _, key = value.decode("latin-1").partition(" ") if name == b"authorization" else ("", "", "")
        secret = key.strip() if name == b"authorization" else value.decode("latin-1").strip()
        if secret == SANDBOX_API_KEY:
            return value  # the sandbox's own key, on stdio: nothing to hide, and the seeded data is under it
        digest = hmac.new(self._salt, secret.encode("latin-1"), hashlib.sha256).hexdigest()[:32]
        return f"{scheme} caller-{digest}".encode() if name == b"authorization" else f"profile-{digest}".encode()

    async def _save(self) -> None:
        text = _within_bytes(self.emulator, {"salt": self._salt.hex()})
        async with self._writing:  # one write at a time, each of the state as it was when its change was made
            await anyio.to_thread.run_sync(self._write, text)

    def _write(self, text: str) -> None:
        try:
            directory = self._path.parent
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)
            # A file of its own for each write (mkstemp: mode 0600), so that two sandboxes sharing the state file
            # cannot interleave: the last whole write wins.
            descriptor, partial = tempfile.mkstemp(dir=directory, prefix=".sandbox-", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    file.write(text)
                os.replace(partial, self._path)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("Could not save the sandbox state to %s (%s); it lasts only this run", self._path, exc)


def _bound(app: EmulatorApp) -> None:
    """Forget the oldest callers, posts and duplicate-post keys beyond the bounds."""
    profiles = app.service.profiles
    callers = [owner for owner in profiles if owner != (SANDBOX_API_KEY, None)]  # the seeded profile stays
    for owner in callers[: max(0, len(profiles) - MAX_ACCOUNTS)]:
        del profiles[owner]
    for profile in profiles.values():
        del profile.posts[MAX_POSTS:]  # newest first
        for key in list(profile.idempotency)[: max(0, len(profile.idempotency) - MAX_IDEMPOTENCY_KEYS)]:
            del profile.idempotency[key]


def _within_bytes(app: EmulatorApp, extra: Mapping[str, Any]) -> str:
    """The state as saved, after forgetting, as often as it takes to fit in `MAX_BYTES`, the older half of what the
    profile taking the most bytes keeps: its posts and duplicate-post keys, then its media, conversations and the
    networks' own posts, then its auto schedules."""
    while True:
        snapshot = app.service.snapshot()
        text = json.dumps({**snapshot, **extra})
        if len(text) <= MAX_BYTES:
            return text
        sizes = [len(json.dumps(entry)) for entry in snapshot["profiles"]]
        fullest = list(app.service.profiles.values())[sizes.index(max(sizes))]
        if fullest.posts or fullest.idempotency:
            del fullest.posts[len(fullest.posts) // 2 :]  # newest first
            _forget_older_half(fullest.idempotency)
        elif fullest.media or fullest.messaging.get("conversations") or fullest.native_posts:
            del fullest.media[: (len(fullest.media) + 1) // 2]  # oldest first
            _forget_older_half(fullest.messaging.get("conversations", {}))
            fullest.native_posts.clear()
        elif fullest.schedules:
            _forget_older_half(fullest.schedules)
        else:
            return text  # nothing left to forget: a profile's own name and keys are small


def _forget_older_half(entries: dict[str, Any]) -> None:
    for key in list(entries)[: (len(entries) + 1) // 2]:
        del entries[key]


def demo_emulator(now: datetime | None = None) -> EmulatorApp:
    """An emulator with a little history and one auto schedule, so the first calls show something real."""
    service = Ayrshare()
    now = now or service.clock()
    profile = service.profile(SANDBOX_API_KEY, None)
    service.set_auto_schedule(profile, {"schedule": ["09:00Z", "17:00Z"], "daysOfWeek": [1, 2, 3, 4, 5]})
    tomorrow_morning = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=UTC)
    seeded: list[dict[str, Any]] = [
        {"text": "We just launched our new product! Read all about it on our blog.",
         "platforms": ["twitter", "linkedin"], "created": now - timedelta(days=3)},
        {"text": "Behind the scenes at the studio today.", "platforms": ["instagram"],
         "created": now - timedelta(days=1)},
        {"text": "Our weekly roundup goes out tomorrow morning.", "platforms": ["facebook"], "created": now,
         "schedule_date": tomorrow_morning},
    ]  # fmt: skip
    for post_id, fields in zip(SEEDED_IDS, seeded, strict=True):
        service.add_post(profile, post_id=post_id, **fields)
    # Nobody reads the sandbox's request log: it keeps none.
    return EmulatorApp(service, max_requests=0)
