"""Guards around destructive actions: bad bulk arguments are refused before anyone is asked; read-only mode.

The confirmations themselves are tested in test_confirmations.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError

from ayrshare_mcp.server import build_server
from tests.envelope import fail, succeed
from tests.support import API_KEY, WAIT, RunningEmulator, User, memory_client, settings_for

pytestmark = pytest.mark.anyio

DELETE = "AYRSHARE_DELETE_DELETE_POST"
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 and the 2025-11-25 handshake


def pending_posts(emulator: RunningEmulator, count: int) -> list[str]:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    return [emulator.seed_post(schedule_date=tomorrow + timedelta(hours=n))["id"] for n in range(count)]


def deletes(emulator: RunningEmulator) -> list[Any]:
    return [request.body for request in emulator.app.received("/post", method="DELETE")]


async def test_invalid_bulk_arguments_are_refused_before_the_user_is_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    user = User()
    server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))

    with anyio.fail_after(WAIT):
        async with Client(server, elicitation_callback=user) as client:
            await fail(client, DELETE, {"bulk": ["ok", "not ok"]})

    assert user.questions == []
    assert emulator.app.requests == []


async def test_read_only_mode_serves_only_post_history(emulator: RunningEmulator, home: Path) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_READ_ONLY="1")

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            await succeed(client, "AYRSHARE_GET_POST_HISTORY", {})
            with pytest.raises(MCPError) as refused:
                await client.call_tool(DELETE, {"deleteAllScheduled": True})

    assert tools == ["AYRSHARE_GET_POST_HISTORY"]
    assert "read-only" in refused.value.error.message
    assert deletes(emulator) == []
