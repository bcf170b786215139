"""Test helpers: fake keys, the emulator handle, and MCP clients that reach the server as hosts do."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult

from ayrshare_mcp.access import ENV_ACCESS_TOKEN
from ayrshare_mcp.cli import main, read_command_line
from ayrshare_mcp.cli.serve import serve_options
from ayrshare_mcp.client.client import trust_store
from ayrshare_mcp.credentials import server_key_configured
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, bind
from ayrshare_mcp.logs import LIBRARY_LOGGERS, configure_logging
from ayrshare_mcp.server import build_server
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.transports.http import compose, serve_http
from ayrshare_mcp.transports.options import HttpOptions

# How long a test waits for anything before it fails: every step takes milliseconds on a quiet machine, so this is
# room for a loaded one, and a hang is reported at once.
WAIT = 5
# For a test that starts a process of its own: the interpreter and the whole stack load first, a second or more on
# a loaded 2-core machine, and the test's own steps follow.
PROCESS_WAIT = 30

# Distinctive fake secrets: any appearance of "CANARY" in output is a leak.
API_KEY = "CANARY-API-KEY-7f3a9c1e5b2d"
OTHER_API_KEY = "CANARY-OTHER-KEY-0b8e4f6a9c"
PROFILE_KEY = "CANARY-PROFILE-4d2e8b6a1f"
# The access token of HTTP servers that lend their own key (a server with a key and no token will not start).
TOKEN = "CANARY-ACCESS-TOKEN-5c1d9e7f3a2b8d4f"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
X_API_KEY = "CANARY-X-KEY-3e9a7c5b1d"
X_API_SECRET = "CANARY-X-SECRET-6f2d8a4c0e"
CANARY = "CANARY"


@dataclass
class RunningEmulator:
    app: EmulatorApp
    url: str

    @property
    def service(self) -> Ayrshare:
        return self.app.service

    def seed_post(self, *, api_key: str = API_KEY, profile_key: str | None = None, **fields: Any) -> dict[str, Any]:
        """Put a post in the emulator's history, as if it had been published through Ayrshare."""
        fields.setdefault("text", "Hello from the tests")
        fields.setdefault("platforms", ["twitter", "facebook"])
        return self.service.add_post(self.service.profile(api_key, profile_key), **fields)


def one_emulator_per_module() -> tuple[Any, Any]:
    """The fixtures of a module whose servers outlive a test: the module's event loop, and its one emulator, reset
    before each test. Use: `anyio_backend, emulator = one_emulator_per_module()`."""

    @pytest.fixture(scope="module")
    def anyio_backend() -> str:
        return "asyncio"

    @pytest.fixture
    def emulator(module_emulator: RunningEmulator) -> RunningEmulator:
        module_emulator.app.reset()
        return module_emulator

    return anyio_backend, emulator


def server_env(emulator: RunningEmulator, home: Path, **extra: str) -> dict[str, str]:
    env = {"AYRSHARE_BASE_URL": emulator.url, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    env.update(extra)
    return env


def settings_for(emulator: RunningEmulator, home: Path, **extra: str) -> Settings:
    """The settings a server with this environment reads, its retry backoff shortened so tests never wait on it."""
    return replace(Settings.from_environ(server_env(emulator, home, **extra)), retry_base_delay=0.01)


class User:
    """Answers confirmation questions the way a person at the host would, and remembers what was asked."""

    def __init__(self, action: str = "accept", confirm: bool = True) -> None:
        self.action, self.confirm = action, confirm
        self.questions: list[str] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        content: dict[str, Any] | None = {"confirm": self.confirm} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


@asynccontextmanager
async def memory_client(settings: Settings, *, person: User | None = None) -> AsyncIterator[Client]:
    """The server in this process, reached through the SDK's in-memory transport; `person` answers confirmations."""
    async with Client(build_server(settings), elicitation_callback=person) as client:
        yield client


@asynccontextmanager
async def http_server(settings: Settings, options: HttpOptions, token: str | None = None) -> AsyncIterator[str]:
    """The server's HTTP app, composed as the CLI composes it, served by uvicorn on a loopback port; yields its base
    URL. A server with a key of its own needs a token (`TOKEN` unless another is given); `http_session` sends
    `TOKEN`.
    """
    if token is None and server_key_configured(settings.environ):
        token = TOKEN
    if token is not None:
        settings = replace(settings, environ={**settings.environ, ENV_ACCESS_TOKEN: token})
    app = compose(settings, options)
    config = uvicorn.Config(app, log_config=None, access_log=False)
    with bind() as sock:
        async with anyio.create_task_group() as tg:
            tg.start_soon(uvicorn.Server(config).serve, [sock])
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            tg.cancel_scope.cancel()


@asynccontextmanager
async def http_session(
    base_url: str,
    *,
    transport: str = "streamable-http",
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    elicitation: Any = None,
    session_ids: list[str] | None = None,
    source: str | None = None,
) -> AsyncIterator[Client]:
    """An SDK client session over streamable HTTP or SSE, sending `headers` (and the test `TOKEN`) with every request.

    `elicitation` answers the server's questions; `session_ids` collects the session ids the server hands out;
    `source` is the loopback address to connect from (127.0.0.2 and so on: other clients, as the server sees them).
    """
    if transport == "sse":

        def from_source(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            return client_from(source, headers=headers, timeout=timeout, auth=auth)

        sse = sse_client(base_url + "/sse", headers={**BEARER, **(headers or {})}, httpx_client_factory=from_source)
        async with Client(sse, mode=mode, elicitation_callback=elicitation) as client:
            yield client
        return

    async def remember_session(response: httpx2.Response) -> None:
        if session_ids is not None and (session_id := response.headers.get("mcp-session-id")):
            session_ids.append(session_id)

    async with (
        client_from(
            source,
            headers={**BEARER, **(headers or {})},
            timeout=httpx2.Timeout(30, read=300),
            event_hooks={"response": [remember_session]},
        ) as http,
        Client(
            streamable_http_client(base_url + "/mcp", http_client=http), mode=mode, elicitation_callback=elicitation
        ) as client,
    ):
        yield client


RAW_INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
RAW_ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def open_session(http: httpx2.AsyncClient, url: str, key: str, **headers: str) -> tuple[int, str | None]:
    """Open a 2025-era session by hand, sending `key` (and `headers`, `_` for `-`): the status, and the session's
    id if it opened."""
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    sent = {**RAW_ACCEPT, "X-Ayrshare-Api-Key": key, **extra}
    answer = await http.post(url + "/mcp", json=RAW_INITIALIZE, headers=sent)
    return answer.status_code, answer.headers.get("mcp-session-id")


async def session_alive(http: httpx2.AsyncClient, url: str, key: str, session: str | None) -> bool:
    """Whether a session opened with `key` still answers its owner."""
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    headers = {**RAW_ACCEPT, "X-Ayrshare-Api-Key": key, "Mcp-Session-Id": session or "none"}
    return (await http.post(url + "/mcp", json=ping, headers=headers)).status_code == 200


async def fill_the_unproven_half(url: str, clients: AsyncExitStack) -> None:
    """On a server with --max-sessions 4 the unproven half is 2: one session from each of two addresses, so nobody
    holds more than a newcomer, nobody gives way, and only a vouch can admit a newcomer."""
    for source in ("127.0.0.2", "127.0.0.3"):
        http = await clients.enter_async_context(client_from(source))
        assert (await open_session(http, url, ""))[0] == 200


def client_from(source: str | None, **options: Any) -> httpx2.AsyncClient:
    """An HTTP client connecting from the loopback address `source` (None: the default, 127.0.0.1)."""
    transport = httpx2.AsyncHTTPTransport(local_address=source, verify=trust_store()) if source else None
    return httpx2.AsyncClient(transport=transport, verify=trust_store(), **options)


@asynccontextmanager
async def stdio_session(
    env: Mapping[str, str], *, errlog: Any = None, mode: str = "auto", measured: bool = True
) -> AsyncIterator[Client]:
    """The server as a host runs it: `python -m ayrshare_mcp` in a subprocess, spoken to over stdin/stdout; if not
    `measured`, left out of the run's coverage (see `serving`)."""
    environ = child_env(env, measured=measured)
    params = StdioServerParameters(command=sys.executable, args=["-m", "ayrshare_mcp"], env=environ)
    with _errlog(errlog) as log:
        async with Client(stdio_client(params, errlog=log), mode=mode) as client:
            yield client


def child_env(env: Mapping[str, str], *, measured: bool = True) -> dict[str, str]:
    """What a host passes: only what it is told to, plus the basics a Python process needs. Unless not `measured`,
    the test run's coverage measures the process too (see [tool.coverage.run] in pyproject.toml)."""
    basics = {name: os.environ[name] for name in ("PATH", "SYSTEMROOT", "LANG") if name in os.environ}
    coverage = {name: value for name, value in os.environ.items() if measured and name.startswith("COVERAGE_")}
    return {**basics, **coverage, **env}


async def run_cli(*args: str, env: Mapping[str, str], stdin: str = "") -> tuple[int, str, str]:
    """`ayrshare-mcp ARGS` in this process, with `env` as its environment: exit code, stdout and stderr.

    Run on a worker thread, since the command starts its own event loop; the logging set-up it does is undone.
    """

    def invoke() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        root = logging.getLogger()
        saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
        code: int = 0
        try:
            with redirect_stdout(out), redirect_stderr(err), _standard_input(stdin):
                main(list(args), environ=dict(env))
        except SystemExit as exit_:
            if isinstance(exit_.code, str):
                err.write(exit_.code + "\n")
            code = exit_.code if isinstance(exit_.code, int) else (1 if exit_.code else 0)
        finally:
            root.handlers[:], root.level = saved[0], saved[1]
            for name, level in saved[2].items():
                logging.getLogger(name).setLevel(level)
        return code, out.getvalue(), err.getvalue()

    return await anyio.to_thread.run_sync(invoke)


@contextmanager
def _standard_input(text: str) -> Iterator[None]:
    original = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = original


@contextmanager
def _errlog(errlog: Any) -> Iterator[Any]:
    if errlog is not None:
        yield errlog
        return
    with tempfile.TemporaryFile("w+") as sink:
        yield sink


@asynccontextmanager
async def serving_here(
    args: list[str], env: Mapping[str, str], *, log_level: str = "INFO", sock: socket.socket | None = None
) -> AsyncIterator[tuple[None, str, Log]]:
    """`ayrshare-mcp ARGS` served in this process as the command line composes it (the same parsing, settings,
    access policy, guards and connection limits), on a loopback port bound first; yields like `serving`, with no
    process, once it listens. Its log, through the server's own filter, is `Log`.

    For what does not need the process boundary: signals, exit codes, stdout and process-wide limits do. `sock`: a
    socket bound already, when the environment must name the server's own URL (an OAuth resource).
    """
    if "AYRSHARE_API_KEY" in env and "AYRSHARE_MCP_TOKEN" not in env:
        env = {**env, "AYRSHARE_MCP_TOKEN": TOKEN}
    settings, parsed = read_command_line([*args, "--log-level", log_level], dict(env))
    options = serve_options(parsed)
    stop = anyio.Event()
    with contextlib.nullcontext(sock) if sock else bind() as sock, captured_logs(parsed.log_level) as log:
        app = compose(settings, options.http, token_file=options.token_file)
        async with anyio.create_task_group() as tg:
            await tg.start(partial(serve_http, app, options.http, sock=sock, stop=stop))
            try:
                yield None, f"http://127.0.0.1:{sock.getsockname()[1]}", log
            finally:
                stop.set()  # as SIGTERM would: calls in flight get the grace period, then it is gone


@contextmanager
def captured_logs(level: str) -> Iterator[Log]:
    """The server's logging, as `configure_logging` sets it up, written to a `Log`; undone afterwards."""
    log = Log()
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    configure_logging(level, stream=_LogStream(log))
    try:
        yield log
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, restored in saved[2].items():
            logging.getLogger(name).setLevel(restored)


class _LogStream(io.StringIO):
    """A text stream that hands every line to a `Log` as it is written."""

    def __init__(self, log: Log) -> None:
        super().__init__()
        self._log = log

    def write(self, text: str) -> int:
        self._log.add(text.encode())
        return len(text)


class Log:
    """A server's log as it arrives; `wait_for` returns once a text has appeared in it."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._grew = anyio.Event()
        self.ended = False

    def add(self, chunk: bytes) -> None:
        self._text.extend(chunk)
        self._grew.set()
        self._grew = anyio.Event()

    def end(self) -> None:
        self.ended = True
        self._grew.set()

    async def wait_for(self, text: bytes) -> None:
        """Return once `text` is in the log; fail if the process closed its stderr (exited) first."""
        while text not in self._text:
            assert not self.ended, f"the process ended before {text!r} appeared in its log:\n{self.decode()}"
            await self._grew.wait()

    def __contains__(self, text: bytes) -> bool:
        return text in self._text

    def count(self, text: bytes) -> int:
        return self._text.count(text)

    def decode(self) -> str:
        return self._text.decode(errors="replace")

    def __repr__(self) -> str:
        return f"Log({bytes(self._text)!r})"


@asynccontextmanager
async def serving(
    args: list[str],
    env: Mapping[str, str],
    *,
    log_level: str = "INFO",
    launcher: Sequence[str] = (sys.executable, "-m", "ayrshare_mcp"),
    measured: bool = True,
) -> AsyncIterator[tuple[anyio.abc.Process, str, Log]]:
    """`ayrshare-mcp ARGS --port P` as a process, yielded once uvicorn listens: the process, its URL, and its
    stderr so far (kept being read, so a chatty server never blocks on a full pipe). `launcher` is the command
    that runs `ayrshare-mcp` (see tests/descriptors.py for one that limits its files). A process not `measured`
    is left out of the run's coverage: measuring one costs about half a second of CPU.

    A server with a key of its own gets the test `TOKEN` unless `env` names another (it would not start without).
    """
    if "AYRSHARE_API_KEY" in env and "AYRSHARE_MCP_TOKEN" not in env:
        env = {**env, "AYRSHARE_MCP_TOKEN": TOKEN}
    with bind() as sock:
        port = sock.getsockname()[1]
    command = [*launcher, *args, "--port", str(port), "--log-level", log_level]
    log = Log()
    listening = anyio.Event()

    async def collect(stream: anyio.abc.ByteReceiveStream) -> None:
        async for chunk in stream:
            log.add(chunk)
            if b": MCP over " in log:
                listening.set()
        log.end()

    async with await anyio.open_process(
        command, env=child_env(env, measured=measured), stderr=subprocess.PIPE
    ) as process:
        assert process.stderr
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect, process.stderr)
            await listening.wait()
            try:
                yield process, f"http://127.0.0.1:{port}", log
            finally:
                if process.returncode is None:
                    process.terminate()
                await process.wait()


# --- the publishing tools ---------------------------------------------------------------------------------------


@asynccontextmanager
async def with_every_toolset(
    emulator: RunningEmulator,
    home: Path,
    *,
    person: Any = None,
    mode: str = "auto",
    confirmation_seconds: float | None = None,
    **env: str,
) -> AsyncIterator[Client]:
    """An in-memory client of a server serving every toolset; `person` answers its questions, within
    `confirmation_seconds` (the server's default unless given)."""
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_TOOLSETS="all", **env)
    if confirmation_seconds is not None:
        settings = replace(settings, confirmation_seconds=confirmation_seconds)
    with anyio.fail_after(WAIT):
        async with Client(build_server(settings), mode=mode, elicitation_callback=person) as client:
            yield client


def posts_sent(emulator: RunningEmulator) -> list[Any]:
    """The bodies of every POST /post the emulator received."""
    return [request.body for request in emulator.app.received("/api/post", method="POST")]


def stored(emulator: RunningEmulator, profile_key: str | None = None) -> list[dict[str, Any]]:
    """The posts the emulator holds for the test key (and this profile), newest first."""
    return emulator.service.profile(API_KEY, profile_key).posts
