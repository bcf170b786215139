"""Destructive-action guards: bulk deletes are confirmed with the user on both protocol eras; read-only mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError

from ayrshare_mcp.server import build_server
from tests.envelope import fail, succeed
from tests.support import API_KEY, RunningEmulator, User, server_env, settings_for, stdio_session

pytestmark = pytest.mark.anyio

DELETE = "AYRSHARE_DELETE_DELETE_POST"
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 and the 2025-11-25 handshake


def pending_posts(emulator: RunningEmulator, count: int) -> list[str]:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    return [emulator.seed_post(schedule_date=tomorrow + timedelta(hours=n))["id"] for n in range(count)]


def deletes(emulator: RunningEmulator) -> list[Any]:
    return [request.body for request in emulator.app.received("/post", method="DELETE")]


@ERAS
async def test_a_bulk_delete_is_confirmed_with_the_user_before_anything_is_deleted(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    ids = pending_posts(emulator, 2)
    user = User()
    server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))

    with anyio.fail_after(10):
        async with Client(server, mode=mode, elicitation_callback=user) as client:
            data = await succeed(client, DELETE, {"bulk": ids})

    assert user.questions == [f"Delete 2 Ayrshare posts ({ids[0]}, {ids[1]})? This cannot be undone."]
    assert [item["status"] for item in data["bulk"]] == ["success", "success"]
    assert deletes(emulator) == [{"bulk": ids}]


@ERAS
@pytest.mark.parametrize(("action", "confirm"), [("decline", False), ("cancel", False), ("accept", False)])
async def test_a_declined_confirmation_deletes_nothing_and_says_so(
    emulator: RunningEmulator, home: Path, mode: str, action: str, confirm: bool
) -> None:
    pending_posts(emulator, 3)
    answer = User(action, confirm)
    server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))

    with anyio.fail_after(10):
        async with Client(server, mode=mode, elicitation_callback=answer) as client:
            envelope = await fail(client, DELETE, {"deleteAllScheduled": True})

    assert answer.questions == ["Delete EVERY pending scheduled post of this Ayrshare profile? This cannot be undone."]
    assert envelope["error"].startswith("Nothing was deleted: the user declined")
    assert deletes(emulator) == []
    assert all(post["status"] == "pending" for post in emulator.service.profile(API_KEY, None).posts)


@ERAS
async def test_deleting_one_named_post_is_not_asked_about(emulator: RunningEmulator, home: Path, mode: str) -> None:
    [post_id] = pending_posts(emulator, 1)
    user = User()
    server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))

    with anyio.fail_after(10):
        async with Client(server, mode=mode, elicitation_callback=user) as client:
            await succeed(client, DELETE, {"id": post_id})

    assert user.questions == []
    assert deletes(emulator) == [{"id": post_id}]


@ERAS
async def test_a_client_that_cannot_ask_the_user_proceeds(emulator: RunningEmulator, home: Path, mode: str) -> None:
    ids = pending_posts(emulator, 2)
    server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))

    with anyio.fail_after(10):
        async with Client(server, mode=mode) as client:
            await succeed(client, DELETE, {"bulk": ids})

    assert deletes(emulator) == [{"bulk": ids}]


async def test_invalid_bulk_arguments_are_refused_before_the_user_is_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    user = User()
    server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))

    with anyio.fail_after(10):
        async with Client(server, elicitation_callback=user) as client:
            await fail(client, DELETE, {"bulk": ["ok", "not ok"]})

    assert user.questions == []
    assert emulator.app.requests == []


async def test_read_only_mode_serves_only_post_history(emulator: RunningEmulator, home: Path) -> None:
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_READ_ONLY="1")

    with anyio.fail_after(30):
        async with stdio_session(env) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            await succeed(client, "AYRSHARE_GET_POST_HISTORY", {})
            with pytest.raises(MCPError) as refused:
                await client.call_tool(DELETE, {"deleteAllScheduled": True})

    assert tools == ["AYRSHARE_GET_POST_HISTORY"]
    assert "read-only" in refused.value.error.message
    assert deletes(emulator) == []
