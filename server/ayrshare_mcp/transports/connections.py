"""Connections, before any request: caps on how many are open (in all, and per client address), and a deadline for
a request to arrive whole.

uvicorn gives an idle keep-alive connection a few seconds, but none at all to a client that sends half a request
and stops (slowloris): such connections pile up until the process runs out of file descriptors. Here every
request, from its first byte (or the connection's opening), must be fully received within `request_timeout`,
a pipelined one behind it included.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ayrshare_mcp.logs import Throttle, untrusted

logger = logging.getLogger(__name__)
THROTTLE = Throttle()
_FINISHED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_per_address: int
    request_timeout: float


def guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol, with the connection caps and the request deadline."""
    per_address: Counter[str] = Counter()

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _address: str | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            address = self.client[0] if self.client else "unknown"
            if len(self.connections) > limits.max_connections or per_address[address] >= limits.max_per_address:
                THROTTLE.warn(logger, "Refused a connection from %s: too many are open", untrusted(address))
                transport.write(_BUSY)
                transport.close()
                return
            self._address = address
            per_address[address] += 1
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # Bytes of a next request may wait, unparsed, behind the one being answered: they are a request too.
            waiting = bool(self.conn.trailing_data[0])
            if self.conn.their_state in _FINISHED and not waiting:
                self._disarm()
            elif self._deadline is None:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._address is not None:
                per_address[self._address] -= 1
                if per_address[self._address] <= 0:
                    del per_address[self._address]
                self._address = None
            super().connection_lost(exc)

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
