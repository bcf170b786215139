"""Sandbox mode: the real server, tools and client, talking to the built-in Ayrshare emulator in memory.

No key, no network, no social account: for trying the server and for testing agents. Never the default;
`Settings.as_sandbox` swaps out Ayrshare and the keys, this module supplies the emulator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2

from ayrshare_mcp.credentials import SANDBOX_API_KEY
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp


def sandbox_transport() -> httpx2.AsyncBaseTransport:
    """An HTTP transport that answers from a fresh, seeded emulator in this process: nothing leaves it."""
    return httpx2.ASGITransport(app=demo_emulator())


def demo_emulator(now: datetime | None = None) -> EmulatorApp:
    """An emulator with a little history and one auto schedule, so the first calls show something real."""
    service = Ayrshare()
    now = now or service.clock()
    profile = service.profile(SANDBOX_API_KEY, None)
    service.set_auto_schedule(profile, {"schedule": ["09:00Z", "17:00Z"], "daysOfWeek": [1, 2, 3, 4, 5]})
    service.add_post(
        profile,
        text="We just launched our new product! Read all about it on our blog.",
        platforms=["twitter", "linkedin"],
        created=now - timedelta(days=3),
    )
    service.add_post(
        profile,
        text="Behind the scenes at the studio today.",
        platforms=["instagram"],
        created=now - timedelta(days=1),
    )
    service.add_post(
        profile,
        text="Our weekly roundup goes out tomorrow morning.",
        platforms=["facebook"],
        created=now,
        schedule_date=(now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=UTC),
    )
    return EmulatorApp(service)
