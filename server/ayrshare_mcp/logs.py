"""Logging that keeps secrets out and stays up under abuse: stderr only, libraries held at WARNING, untrusted text
escaped, session ids masked, library tracebacks stripped of their messages, and repeated lines throttled.

On stdio, stdout belongs to the protocol, so every log line goes to stderr. The MCP SDK, the HTTP client and the
web server are held at WARNING whatever the level: at DEBUG they print every JSON-RPC message (tool arguments,
Profile-Key included) and at INFO every session id. This server's own loggers carry the detail instead.

The filter here runs on every line, including the ones asyncio writes when the process is out of file descriptors:
it never raises, and imports nothing once loaded (a lazy import can itself fail for want of a descriptor, and an
exception in a filter stops the event loop).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
import weakref
from collections.abc import Callable, Hashable
from typing import ClassVar, TextIO

OWN_LOGGER = "ayrshare_mcp"
LIBRARY_LOGGERS = ("mcp", "mcp_types", "httpx2", "httpcore2", "sse_starlette", "uvicorn", "starlette")
# SDK session ids: 32 hex digits (streamable HTTP) or a UUID (SSE).
_SESSION_ID = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_MAX_UNTRUSTED = 200
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
WITHHELD = "(message withheld: a library's exception text may quote request data)"
# A client that went away mid-request (a request deadline cut it off, or its stream closed just before a message for
# it arrived), or one that sent what does not parse: expected events, so no traceback. Named, not imported: the
# command line loads this module first, and the web stack is not needed to tell them.
_EXPECTED = {
    ("starlette", "ClientDisconnect"),
    ("anyio", "ClosedResourceError"),
    ("anyio", "BrokenResourceError"),
    ("pydantic_core", "ValidationError"),
    ("json", "JSONDecodeError"),
}


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Log at `level` to `stream` (stderr), through the filter below; and forget what earlier lines were throttled."""
    Throttle.forget_all()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_LibraryLines())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


class Throttle:
    """At most `burst` log lines per kind of event in each `window` seconds, then one line saying how many were held.

    Unauthenticated requests can be sent as fast as a client likes; the log must not grow as fast, and neither may
    the memory of what was logged: at most `max_kinds` kinds are remembered, beyond which lines share one kind.
    """

    _every: ClassVar[weakref.WeakSet[Throttle]] = weakref.WeakSet()

    def __init__(
        self,
        burst: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = 256,
    ) -> None:
        self._burst, self._window, self._clock, self._max_kinds = burst, window, clock, max_kinds
        self._windows: dict[Hashable, tuple[float, int]] = {}
        Throttle._every.add(self)

    @classmethod
    def forget_all(cls) -> None:
        """Start every throttle afresh: logging has started (again), so what was held back is no longer news."""
        for throttle in list(cls._every):
            throttle._windows.clear()

    def admit(self, kind: Hashable) -> tuple[bool, int, float]:
        """Whether a line of this kind may be logged now; and how many of its kind were held back in the window that
        just ended, over how many seconds (to say so once)."""
        now = self._clock()
        if kind not in self._windows and len(self._windows) >= self._max_kinds:
            self._windows = {known: seen for known, seen in self._windows.items() if now - seen[0] < self._window}
            if len(self._windows) >= self._max_kinds:
                kind = "(too many kinds of line)"
        started, count = self._windows.get(kind, (now, 0))
        held, period = 0, now - started
        if period >= self._window:
            held = max(0, count - self._burst)
            started, count = now, 0
        self._windows[kind] = (started, count + 1)
        return count < self._burst, held, period

    def warn(self, logger: logging.Logger, message: str, *args: object) -> None:
        """Log a warning, unless `burst` with the same `message` (the format, not its arguments) came just now."""
        allowed, held, period = self.admit(message)
        if held:
            logger.warning("%d more like this were not logged in %.0f s: %s", held, period, message)
        if allowed:
            logger.warning(message, *args)


class _LibraryLines(logging.Filter):
    """Every line: no session id. Lines of other packages (the SDK quotes request values as they came): escaped,
    a few a minute of each kind (since an unauthenticated request can make a library warn), and any traceback
    without its exception messages, which can quote a request's body."""

    def __init__(self, throttle: Throttle | None = None) -> None:
        super().__init__()
        self._throttle = throttle or Throttle()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self._tidy(record)
        except Exception as exc:  # a filter that raises can stop the event loop: the line goes out plain instead
            record.msg, record.args, record.exc_info, record.exc_text = _unprintable(record, exc), (), None, None
            return True

    def _tidy(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not record.name.startswith(OWN_LOGGER):
            # One kind per place in the code that logs: never what the message says, which a request can vary.
            if not self._throttle.admit((record.name, record.levelno, record.pathname, record.lineno))[0]:
                return False
            message = untrusted(message, limit=1000)
            if record.exc_info:
                error = record.exc_info[1]
                if _expected(error):
                    message, record.exc_text = f"{message} ({type(error).__name__})", None
                else:
                    record.exc_text = without_messages(error)
                record.exc_info = None
        # A session id in a log is a key to someone else's session; the SDK names them in its own lines.
        record.msg, record.args = _SESSION_ID.sub("<session>", message), ()
        return True


def _expected(error: BaseException | None) -> bool:
    return any((kind.__module__.split(".")[0], kind.__name__) in _EXPECTED for kind in type(error).__mro__)


def _unprintable(record: logging.LogRecord, exc: Exception) -> str:
    return f"(a log line of {record.name} could not be made safe to print: {type(exc).__name__})"


def untrusted(text: str, limit: int = _MAX_UNTRUSTED) -> str:
    """Text from a request, fit for a log line: control and non-ASCII characters escaped (no forged lines), and
    bounded. Written out by hand: the unicode_escape codec is imported on first use, which fails when the process
    is out of file descriptors."""
    escaped = "".join(map(_escape, text[: limit + 1]))
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


def _escape(character: str) -> str:
    if character in _ESCAPES:
        return _ESCAPES[character]
    code = ord(character)
    if 0x20 <= code < 0x7F:
        return character
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def without_messages(exc: BaseException | None) -> str:
    """A traceback of `exc` and the exceptions it chains, naming each exception's type but not its message."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = "".join(traceback.format_tb(exc.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{type(exc).__qualname__} {WITHHELD}")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nWhile handling the exception below, the one above was raised:\n\n".join(parts)
