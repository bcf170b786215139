"""Reading tool results the way a strict client does: the envelope must match the advertised output schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from mcp import Client
from mcp.types import CallToolResult, TextContent

from ayrshare_mcp.tools import OUTPUT_SCHEMA

# Checked against the metaschema once, here, rather than on every call as jsonschema.validate does.
jsonschema.validators.validator_for(OUTPUT_SCHEMA).check_schema(OUTPUT_SCHEMA)
ENVELOPE = jsonschema.validators.validator_for(OUTPUT_SCHEMA)(OUTPUT_SCHEMA)


def envelope_of(result: CallToolResult) -> dict[str, Any]:
    """The structured envelope, checked against the output schema and against its own text rendering (the first
    block; a tool may add its answer as plain text after it, as the calendar does)."""
    assert result.structured_content is not None
    ENVELOPE.validate(result.structured_content)
    assert result.is_error is (not result.structured_content["successful"])
    text, *more = result.content
    assert isinstance(text, TextContent)
    assert all(isinstance(block, TextContent) for block in more)
    assert json.loads(text.text) == result.structured_content
    envelope: dict[str, Any] = result.structured_content
    return envelope


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return envelope_of(await client.call_tool(tool, arguments))


async def succeed(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; its Ayrshare data."""
    envelope = await call(client, tool, arguments)
    assert envelope["successful"] is True, envelope.get("error")
    assert "error" not in envelope
    data: dict[str, Any] = envelope["data"]
    return data


async def fail(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must fail; the whole envelope."""
    envelope = await call(client, tool, arguments)
    assert envelope["successful"] is False, envelope
    assert isinstance(envelope["error"], str)
    assert envelope["error"]
    return envelope
