"""stdio: one client, the host that started this process, over stdin and stdout."""

from __future__ import annotations

import logging
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

logger = logging.getLogger(__name__)


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client over stdin/stdout until stdin closes; unreadable lines get a JSON-RPC error, not silence."""
    async with stdio_server() as (read_stream, write_stream):
        forward, messages = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_answer_unreadable_lines, read_stream, forward, write_stream)
            await server.run(messages, write_stream, server.create_initialization_options())
            tg.cancel_scope.cancel()


async def _answer_unreadable_lines(
    lines: anyio.abc.ObjectReceiveStream[SessionMessage | Exception],
    forward: MemoryObjectSendStream[SessionMessage | Exception],
    replies: anyio.abc.ObjectSendStream[SessionMessage],
) -> None:
    # The SDK drops a line it cannot parse without a word; JSON-RPC asks for an error with a null id.
    async with forward:
        async for item in lines:
            if not isinstance(item, Exception):
                await forward.send(item)
                continue
            unparsable = isinstance(item, ValidationError) and any(e["type"] == "json_invalid" for e in item.errors())
            code, what = (PARSE_ERROR, "not valid JSON") if unparsable else (INVALID_REQUEST, "not a JSON-RPC message")
            logger.warning("A line on stdin was %s; answered with error %d", what, code)
            error = ErrorData(
                code=code, message=f"Each line on stdin must be one JSON-RPC 2.0 message; this one was {what}."
            )
            await replies.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error)))
