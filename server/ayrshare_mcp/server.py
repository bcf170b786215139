"""The MCP server: advertises the tool catalogue, routes calls to it, and runs on a transport.

It owns the process-wide Ayrshare client (opened in the lifespan, closed on shutdown) and decides which
credentials each call uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import mcp_types as types
from mcp import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

from ayrshare_mcp import __version__
from ayrshare_mcp.client import AyrshareClient
from ayrshare_mcp.config import Credentials, Settings, resolve_credentials
from ayrshare_mcp.tools import TOOLS, TOOLS_BY_NAME

SERVER_NAME = "ayrshare"

INSTRUCTIONS = """\
Tools for the Ayrshare social-media API.

- Auto schedules are named sets of daily UTC time slots. A post published through Ayrshare with \
autoSchedule: {schedule: true, title} lands in the next free slot of the schedule with that title. \
AYRSHARE_CREATE_AUTO_SCHEDULE makes a new schedule and refuses if the title exists; \
AYRSHARE_POST_SET_AUTO_SCHEDULE creates or replaces one.
- AYRSHARE_GET_POST_HISTORY lists recent posts with their Ayrshare post ids and statuses. \
AYRSHARE_DELETE_DELETE_POST takes those ids (never a social network's id): look a post up in history before \
deleting it. Deletes are irreversible, and published Instagram/TikTok posts must be removed in the app first, \
then marked with markManualDeleted.
- Every tool takes an optional Profile-Key to act for one Ayrshare User Profile; without it the server's default \
profile applies.
- Results are {data, successful, error?}: data is Ayrshare's answer; on failure, error says what to do next.
"""

TOOL_LISTING = types.ListToolsResult(tools=[spec.tool for spec in TOOLS])
_INPUT_SCHEMAS = {spec.name: spec.tool.input_schema for spec in TOOLS}


@dataclass(frozen=True)
class AppState:
    client: AyrshareClient


def build_server(settings: Settings, *, upstream: httpx2.AsyncBaseTransport | None = None) -> Server[AppState]:
    """The server for these settings; `upstream` replaces the network to Ayrshare (the sandbox uses it)."""

    @asynccontextmanager
    async def lifespan(_: Server[AppState]) -> AsyncIterator[AppState]:
        async with AyrshareClient.connect(settings, transport=upstream) as client:
            yield AppState(client=client)

    def credentials() -> Credentials:
        return resolve_credentials(settings.environ)

    async def list_tools(
        ctx: ServerRequestContext[AppState], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return TOOL_LISTING

    async def call_tool(
        ctx: ServerRequestContext[AppState], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await dispatch(params, ctx.lifespan_context.client, credentials)

    return Server(
        SERVER_NAME,
        version=__version__,
        title="Ayrshare",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        get_tool_input_schema=_INPUT_SCHEMAS.get,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def dispatch(
    params: types.CallToolRequestParams, client: AyrshareClient, credentials: Callable[[], Credentials]
) -> types.CallToolResult:
    spec = TOOLS_BY_NAME.get(params.name)
    if spec is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool {params.name!r}; call tools/list for the tools there are.")
    return await spec.run(params.arguments, client, credentials)


async def serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
