"""The one shape of every tool result: `{data, error?, successful}`, as structuredContent and as the same JSON text
(the first content block; a tool may add a second, its answer as plain text).

Every secret the server knows of is redacted from a result before it leaves: Ayrshare should never echo a key
back, but a result is the one place a leak would reach the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mcp_types as types
import pydantic_core

from ayrshare_mcp.client import JSONObject

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "description": "Ayrshare's JSON answer on success; on failure, Ayrshare's error body (status, code, "
            "message) when it sent one, else an empty object.",
        },
        "error": {
            "type": "string",
            "description": "Present only on failure: what went wrong, the Ayrshare code if any, and what to do next.",
        },
        "successful": {"type": "boolean", "description": "True when the call did what was asked."},
        "notice": {
            "type": "string",
            "description": "Present only when the call succeeded differently from what was asked, e.g. a post held "
            "for approval because nobody could confirm it: say so to the user.",
        },
        "sandbox": {
            "type": "string",
            "description": "Present only when the server runs in sandbox mode: the result is simulated.",
        },
    },
    "required": ["data", "successful"],
}

REDACTED = "[redacted]"


def success(
    data: JSONObject, *, notice: str | None = None, redact: Sequence[str] = (), text: str | None = None
) -> types.CallToolResult:
    """The envelope of a call that did what was asked; `text`, if given, follows the JSON as a second block."""
    envelope: JSONObject = {"data": data, "successful": True}
    if notice:
        envelope["notice"] = notice
    result = _envelope(envelope, redact)
    if text is not None:
        result.content.append(_text_block(text, redact))
    return result


def failure(error: str, data: JSONObject | None = None, *, redact: Sequence[str] = ()) -> types.CallToolResult:
    return _envelope({"data": data or {}, "error": error, "successful": False}, redact)


def with_notice(result: types.CallToolResult, field: str, notice: str) -> types.CallToolResult:
    """The same result with one more envelope field, in both its structured and its text form; any block after the
    envelope's JSON stays."""
    changed = _as_result({**(result.structured_content or {}), field: notice})
    changed.content.extend(result.content[1:])
    return changed


def _envelope(envelope: JSONObject, secrets: Sequence[str]) -> types.CallToolResult:
    text = _json(envelope)
    # In the JSON text a secret's quotes and backslashes are escaped: look for it in that form too.
    if any(secret in text or _json(secret)[1:-1] in text for secret in secrets):
        envelope = redact(envelope, secrets)
        text = _json(envelope)
    return _as_result(envelope, text)


def _text_block(text: str, secrets: Sequence[str]) -> types.TextContent:
    return types.TextContent(type="text", text=redact(text, secrets))


def _as_result(envelope: JSONObject, text: str | None = None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text or _json(envelope))],
        structured_content=envelope,
        is_error=not envelope["successful"],
    )


def _json(value: Any) -> str:
    # pydantic-core's encoder: the same JSON as json.dumps, several times faster on every result.
    return pydantic_core.to_json(value).decode()


def redact(value: Any, secrets: Sequence[str]) -> Any:
    """`value` (text, or JSON-shaped data) with every one of `secrets` replaced wherever it appears."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {redact(key, secrets): redact(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    return value
