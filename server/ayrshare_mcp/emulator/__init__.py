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
    sock = socket.create_server((host, port))
    sock.setblocking(False)
    return sock


async def serve(app: EmulatorApp, sock: socket.socket) -> None:
    """Serve the emulator over HTTP on `sock` until cancelled."""
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    await uvicorn.Server(config).serve(sockets=[sock])
