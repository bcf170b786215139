"""Connections, before any request: caps on how many are open (in all, and per client address) that fit under the
process's file-descriptor limit, fair shares when the server is full, and a deadline for a request to arrive whole.

uvicorn gives an idle keep-alive connection a few seconds, but none at all to a client that sends half a request
and stops (slowloris): such connections pile up until the process runs out of file descriptors. Here every
request, from its first byte (or the connection's opening), must be fully received within `request_timeout`,
a pipelined one behind it included.

When the server holds as many connections as it may, a newcomer takes the place of the oldest idle connection (one
with no request being answered) of the busiest address, if that address would still hold more than the newcomer's
once it is in, so one flooding address, or several, cannot lock out another.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ayrshare_mcp.logs import Throttle, untrusted
from ayrshare_mcp.settings import MAX_UPSTREAM_CONNECTIONS

logger = logging.getLogger(__name__)
THROTTLE = Throttle()
_FINISHED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
# Descriptors the process keeps besides client connections and the pool to Ayrshare: the listening socket, stdio,
# the event loop's own, a sandbox or credentials file being read, one being accepted and refused.
OWN_DESCRIPTORS = 64
# However few descriptors there are, a server that accepts nobody is no server.
MIN_CONNECTIONS = 4
# How many connections the kernel queues, and asyncio accepts at one wake-up before any is refused: each takes a
# descriptor until then, so the reserve covers them.
ACCEPT_BACKLOG = 128


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_per_address: int
    request_timeout: float
    # Connections the kernel queues for accepting (and asyncio accepts at one wake-up).
    backlog: int = ACCEPT_BACKLOG
    # Whether an address is a reverse proxy's: every client behind one shares it, so no per-address cap applies.
    trusts: Callable[[str], bool] = field(default=lambda address: False)


def fit_to_descriptors(limits: ConnectionLimits) -> ConnectionLimits:
    """The limits, lowered where the process could not open that many connections (RLIMIT_NOFILE).

    The soft limit is raised towards the hard one first, as far as the connections need. What the process already
    has open, its own needs and the pool of connections to Ayrshare are kept free.
    """
    try:
        import resource
    except ImportError:  # not POSIX: no such limit to fit under
        return limits
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    reserve = _open_descriptors() + OWN_DESCRIPTORS + MAX_UPSTREAM_CONNECTIONS + limits.backlog
    wanted = limits.max_connections + reserve
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return limits
    # Few descriptors: a smaller accept burst and pool share them with the connections.
    backlog = max(MIN_CONNECTIONS, min(limits.backlog, soft // 8))
    reserve = _open_descriptors() + OWN_DESCRIPTORS + min(MAX_UPSTREAM_CONNECTIONS, soft // 4) + backlog
    fitting = max(MIN_CONNECTIONS, soft - reserve)
    logger.warning(
        "Serving at most %d connections, not %d: this process may open only %d files (ulimit -n; the hard limit is "
        "%s). Raise the limit to serve more.",
        fitting, limits.max_connections, soft, "unlimited" if hard == resource.RLIM_INFINITY else hard,
    )  # fmt: skip
    return replace(
        limits, max_connections=fitting, max_per_address=min(limits.max_per_address, fitting), backlog=backlog
    )


def _open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc (macOS): assume a small process
        return 16


def guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol, with the connection caps, fair shares and the request deadline."""
    by_address: dict[str, list[GuardedH11Protocol]] = {}

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _address: str | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            address = self.client[0] if self.client else "unknown"
            if not self._room_for(address):
                THROTTLE.warn(logger, "Refused a connection from %s: too many are open", untrusted(address))
                transport.write(_BUSY)
                transport.close()
                return
            self._address = address
            by_address.setdefault(address, []).append(self)
            self._arm()

        def _room_for(self, address: str) -> bool:
            mine = len(by_address.get(address, ()))
            if mine >= limits.max_per_address and not limits.trusts(address):
                return False
            if sum(map(len, by_address.values())) < limits.max_connections:
                return True
            busiest = max(by_address, key=lambda other: len(by_address[other]), default=None)
            # Only one that would still hold more than this address once it is in gives way: ties are no reason.
            if busiest is None or len(by_address[busiest]) - 1 <= mine:
                return False
            victim = next((held for held in by_address[busiest] if held.idle), None)
            if victim is None:
                return False
            THROTTLE.warn(
                logger, "Closed an idle connection of %s to make room for another address", untrusted(busiest)
            )
            victim.let_go()
            return True

        @property
        def idle(self) -> bool:
            """No request is being answered: the connection waits for one, or for the rest of one."""
            return self.cycle is None or self.cycle.response_complete or self.conn.their_state not in _FINISHED

        def let_go(self) -> None:
            self._forget()
            self.transport.close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # Bytes of a next request may wait, unparsed, behind the one being answered: they are a request too.
            waiting = bool(self.conn.trailing_data[0])
            if self.conn.their_state in _FINISHED and not waiting:
                self._disarm()
            elif self._deadline is None:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._forget()
            super().connection_lost(exc)

        def _forget(self) -> None:
            self._disarm()
            if self._address is not None:
                held = by_address[self._address]
                held.remove(self)
                if not held:
                    del by_address[self._address]
                self._address = None

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(limits.request_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            unfinished = self.conn.their_state not in _FINISHED or bool(self.conn.trailing_data[0])
            if unfinished and not self.transport.is_closing():
                THROTTLE.warn(logger, "Closed a connection whose request did not arrive in time")
                self.transport.close()

    return GuardedH11Protocol
