"""Logging that keeps secrets out and stays readable under abuse: stderr only, libraries held at WARNING, untrusted
text escaped, session ids masked, and repeated warnings throttled.

On stdio, stdout belongs to the protocol, so every log line goes to stderr. The MCP SDK, the HTTP client and the
web server are held at WARNING whatever the level: at DEBUG they print every JSON-RPC message (tool arguments,
Profile-Key included) and at INFO every session id. This server's own loggers carry the detail instead.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable

OWN_LOGGER = "ayrshare_mcp"
LIBRARY_LOGGERS = ("mcp", "mcp_types", "httpx2", "httpcore2", "sse_starlette", "uvicorn", "starlette")
# SDK session ids: 32 hex digits (streamable HTTP) or a UUID (SSE).
_SESSION_ID = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_MAX_UNTRUSTED = 200


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_LibraryLines())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


class _LibraryLines(logging.Filter):
    """Every line: no session id. Lines of other packages (the SDK quotes request values as they came): escaped,
    and a few a minute of each kind, since an unauthenticated request can make the SDK warn."""

    def __init__(self, burst: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._burst, self._window, self._clock = burst, window, clock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not record.name.startswith(OWN_LOGGER):
            kind = (record.name, str(record.msg))
            now = self._clock()
            started, count = self._windows.get(kind, (now, 0))
            if now - started >= self._window:
                started, count = now, 0
            self._windows[kind] = (started, count + 1)
            if count >= self._burst:
                return False
            message = untrusted(message, limit=1000)
        # A session id in a log is a key to someone else's session; the SDK names them in its own lines.
        record.msg, record.args = _SESSION_ID.sub("<session>", message), ()
        return True


def untrusted(text: str, limit: int = _MAX_UNTRUSTED) -> str:
    """Text from a request, fit for a log line: control characters escaped (no forged lines), and bounded."""
    escaped = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


class Throttle:
    """At most `burst` log lines per kind of event in each `window` seconds, then one line saying how many were held.

    Unauthenticated requests can be sent as fast as a client likes; the log must not grow as fast.
    """

    def __init__(self, burst: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._burst, self._window, self._clock = burst, window, clock
        self._windows: dict[str, tuple[float, int]] = {}

    def warn(self, logger: logging.Logger, message: str, *args: object) -> None:
        """Log a warning, unless `burst` with the same `message` (the format, not its arguments) came just now."""
        now = self._clock()
        started, count = self._windows.get(message, (now, 0))
        if now - started >= self._window:
            if count > self._burst:
                held = count - self._burst
                logger.warning("%d more like this were not logged in %.0f s: %s", held, now - started, message)
            started, count = now, 0
        self._windows[message] = (started, count + 1)
        if count < self._burst:
            logger.warning(message, *args)
