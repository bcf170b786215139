"""A real Redis for the tests: Debian's redis-server, started on a Unix socket in a temporary folder, nothing saved.

`redis_server()` yields its URL once it answers PING, and stops it after; `RunningRedis.stop()` stops it early, for
the tests of what happens when Redis goes away.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import anyio
import redis

from tests.support import PROCESS_WAIT, WAIT

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class RunningRedis:
    process: subprocess.Popen[bytes]
    socket: Path

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def stop(self) -> None:
        """Stop it now (the state it held is gone); idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=PROCESS_WAIT)

    def flush(self) -> None:
        with redis.Redis(unix_socket_path=str(self.socket)) as client:
            client.flushall()


@contextmanager
def redis_server(socket: Path | None = None) -> Iterator[RunningRedis]:
    """redis-server on a Unix socket (no TCP port to collide with another test's), persisting nothing; on `socket`
    when given (a Redis coming back where one was), else in a folder of its own."""
    with tempfile.TemporaryDirectory(prefix="ayrshare-redis-") as folder:
        socket = socket or Path(folder) / "redis.sock"
        command = [REDIS_SERVER, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"]
        command += ["--save", "", "--appendonly", "no", "--dir", folder, "--loglevel", "warning"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        running = RunningRedis(process, socket)
        try:
            # On a thread of its own: a fixture may be set up while the test's event loop runs on this one.
            with ThreadPoolExecutor(1) as thread:
                thread.submit(anyio.run, _answers_ping, running).result()
            yield running
        finally:
            running.stop()


async def _answers_ping(running: RunningRedis) -> None:
    with anyio.fail_after(PROCESS_WAIT):
        while True:
            if running.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {running.process.returncode}; is it installed?")
            with (
                suppress(redis.RedisError, OSError),
                redis.Redis(unix_socket_path=str(running.socket), socket_timeout=1) as client,
            ):
                if client.ping():
                    return
            await anyio.sleep(0.01)


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait, bounded by WAIT, until `check()` holds: for what Redis does on its own clock (a key expiring), which
    nothing here can be told of but by asking again."""
    with anyio.fail_after(WAIT):
        while not await check():  # noqa: ASYNC110
            await anyio.sleep(0.02)
