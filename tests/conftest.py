"""Fixtures: a fresh Ayrshare emulator serving real HTTP on loopback, and an empty home directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, bind, serve
from tests.support import API_KEY, OTHER_API_KEY, RunningEmulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    """A fresh emulator per test, serving real HTTP on a loopback port the OS picked."""
    app = EmulatorApp(Ayrshare(api_keys={API_KEY, OTHER_API_KEY}))
    with bind() as sock:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, app, sock)
            yield RunningEmulator(app=app, url=f"http://127.0.0.1:{sock.getsockname()[1]}/api")
            tg.cancel_scope.cancel()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory, so no real credentials file is ever read."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory
