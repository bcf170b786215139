"""A local, stateful stand-in for the Ayrshare REST API, for tests and for the sandbox.

It imports nothing from the rest of this package, so tests that run the server against it are not circular.
"""

from __future__ import annotations

import socket

import uvicorn

from ayrshare_mcp.emulator.app import EmulatorApp, Fault, RecordedRequest
from ayrshare_mcp.emulator.ayrshare import Ayrshare, Switches

__all__ = ["Ayrshare", "EmulatorApp", "Fault", "RecordedRequest", "Switches", "bind", "serve"]


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; with port 0 the OS picks a free port, known before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # An explicit IPPROTO_TCP: asyncio turns Nagle off only on sockets that say so, and without that every
    # keep-alive answer written in two parts waits out the client's 40 ms delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(app: EmulatorApp, sock: socket.socket) -> None:
    """Serve the emulator over HTTP on `sock` until cancelled."""
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    await uvicorn.Server(config).serve(sockets=[sock])
