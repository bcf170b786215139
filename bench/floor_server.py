"""The floors: the smallest servers on the same SDK. What the SDK costs by itself.

`echo` is the trivial tool. `forward` makes the same Ayrshare request as AYRSHARE_GET_POST_HISTORY, with httpx2,
and returns the same {data, successful} envelope as structuredContent and text: the least any server must do to
honour this tool contract on this SDK, with nothing else (no validation, credentials, retries or redaction).

    python bench/floor_server.py                      # stdio
    python bench/floor_server.py --http PORT          # streamable HTTP on 127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import json
import os
import sys

import anyio
import httpx2
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

ENVELOPE = {
    "type": "object",
    "properties": {"data": {"type": "object"}, "successful": {"type": "boolean"}},
    "required": ["data", "successful"],
}
TOOLS = [
    types.Tool(
        name="echo",
        description="Return the text.",
        input_schema={"type": "object", "properties": {"text": {"type": "string"}}},
    ),
    types.Tool(
        name="forward", description="Ayrshare history.", input_schema={"type": "object"}, output_schema=ENVELOPE
    ),
]
_http: list[httpx2.AsyncClient] = []


async def list_tools(ctx: ServerRequestContext, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
    if params.name == "forward":
        return await forward()
    text = str((params.arguments or {}).get("text", ""))
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


async def forward() -> types.CallToolResult:
    if not _http:
        _http.append(httpx2.AsyncClient(base_url=os.environ["AYRSHARE_BASE_URL"] + "/"))
    response = await _http[0].get("history", headers={"Authorization": f"Bearer {os.environ['AYRSHARE_API_KEY']}"})
    envelope = {"data": response.json(), "successful": True}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(envelope))], structured_content=envelope
    )


server = Server("floor", version="1", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio() -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        import uvicorn

        uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    else:
        anyio.run(serve_stdio)


if __name__ == "__main__":
    main()
