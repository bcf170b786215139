"""Fixtures: a fresh Ayrshare emulator serving real HTTP on loopback, and an empty home directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, bind, serve
from tests.redis_server import RunningRedis, redis_server
from tests.support import API_KEY, OTHER_API_KEY, RunningEmulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def running_emulator() -> AsyncIterator[RunningEmulator]:
    """An emulator serving real HTTP on a loopback port the OS picked, knowing the two test keys."""
    app = EmulatorApp(Ayrshare(api_keys={API_KEY, OTHER_API_KEY}))
    with bind() as sock:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, app, sock)
            yield RunningEmulator(app=app, url=f"http://127.0.0.1:{sock.getsockname()[1]}/api")
            tg.cancel_scope.cancel()


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    """A fresh emulator per test."""
    async with running_emulator() as running:
        yield running


@pytest.fixture(scope="module")
async def module_emulator() -> AsyncIterator[RunningEmulator]:
    """One emulator for a module whose server processes outlive a test (the module sets a module-scoped
    anyio_backend, and resets the emulator before each test)."""
    async with running_emulator() as running:
        yield running


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory, so no real credentials file is ever read."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    """A folder the user allowed for uploads (the media tests name it in AYRSHARE_MEDIA_DIRS)."""
    folder = tmp_path / "Pictures"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def session_redis() -> Iterator[RunningRedis]:
    """One real redis-server for this test process (each xdist worker has its own)."""
    with redis_server() as running:
        yield running


@pytest.fixture
def redis_url(session_redis: RunningRedis) -> str:
    """The URL of a real, empty Redis."""
    session_redis.flush()
    return session_redis.url


@pytest.fixture
def own_redis() -> Iterator[RunningRedis]:
    """A real Redis of this test's own, which the test may stop."""
    with redis_server() as running:
        yield running
