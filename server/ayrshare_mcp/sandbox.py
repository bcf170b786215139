"""Sandbox mode: the real server, tools and client, talking to the built-in Ayrshare emulator in memory.

No key, no network, no social account: for trying the server and for testing agents. Never the default;
`Settings.as_sandbox` swaps out Ayrshare and the keys, this module supplies the emulator.

The sandbox remembers: its data lives in a file under the user's state directory, so a post id that one run prints
is still there for the next (`--sandbox-reset` starts over). The seeded posts have stable ids.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
from starlette.types import Message, Receive, Scope, Send

from ayrshare_mcp.credentials import SANDBOX_API_KEY
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp

logger = logging.getLogger(__name__)
SEEDED_IDS = ("sandboxPostLaunch01", "sandboxPostStudio02", "sandboxPostRoundup3")


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
    """An HTTP transport that answers from the emulator in this process, and saves its data after every answer."""
    path = state_file(environ)
    return httpx2.ASGITransport(app=_Remembering(_load(path), path))


def _load(path: Path) -> EmulatorApp:
    app = demo_emulator()
    try:
        app.service.restore(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("The sandbox state in %s was unreadable (%s); starting from the seeded data", path, exc)
        app = demo_emulator()
    return app


class _Remembering:
    """The emulator, writing its data to `path` once each answer is complete."""

    def __init__(self, app: EmulatorApp, path: Path) -> None:
        self._app, self._path = app, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def save_when_done(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self._save()

        await self._app(scope, receive, save_when_done)

    def _save(self) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            partial = self._path.with_suffix(".tmp")
            partial.write_text(json.dumps(self._app.service.snapshot()), encoding="utf-8")
            os.replace(partial, self._path)
        except OSError as exc:
            logger.warning("Could not save the sandbox state to %s (%s); it lasts only this run", self._path, exc)


def demo_emulator(now: datetime | None = None) -> EmulatorApp:
    """An emulator with a little history and one auto schedule, so the first calls show something real."""
    service = Ayrshare()
    now = now or service.clock()
    profile = service.profile(SANDBOX_API_KEY, None)
    service.set_auto_schedule(profile, {"schedule": ["09:00Z", "17:00Z"], "daysOfWeek": [1, 2, 3, 4, 5]})
    service.add_post(
        profile,
        post_id=SEEDED_IDS[0],
        text="We just launched our new product! Read all about it on our blog.",
        platforms=["twitter", "linkedin"],
        created=now - timedelta(days=3),
    )
    service.add_post(
        profile,
        post_id=SEEDED_IDS[1],
        text="Behind the scenes at the studio today.",
        platforms=["instagram"],
        created=now - timedelta(days=1),
    )
    service.add_post(
        profile,
        post_id=SEEDED_IDS[2],
        text="Our weekly roundup goes out tomorrow morning.",
        platforms=["facebook"],
        created=now,
        schedule_date=(now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=UTC),
    )
    return EmulatorApp(service)
