"""Speaking protocol 2026-07-28 over HTTP by hand, so a test can send what no honest client would: a tools/list, a
tools/call and the answer to its question, with the headers that era requires."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.support import BEARER

MODERN = "2026-07-28"
LIST_TOOLS = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/list",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
# The headers of a tools/list on 2026-07-28.
ACCEPT = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}


class RawModernClient:
    """Speaks 2026-07-28 JSON-RPC over HTTP by hand, so a test can send what no honest client would."""

    def __init__(self, http: httpx2.AsyncClient, url: str, headers: dict[str, str] | None = None) -> None:
        self._http, self._url, self._headers = http, url + "/mcp", headers or {}

    async def call(self, name: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (await self.call_raw(name, args, **extra)).json()
        return payload

    async def call_raw(self, name: str, args: dict[str, Any], **extra: Any) -> httpx2.Response:
        """The HTTP answer to a tools/call, whatever its status."""
        meta = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
        }
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": args, "_meta": meta, **extra},
        }
        headers = {
            **BEARER,
            **self._headers,
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "tools/call",
            "Mcp-Name": name,
        }
        return await self._http.post(self._url, json=body, headers=headers)

    async def answer(self, name: str, args: dict[str, Any], state: str, yes: bool = True) -> dict[str, Any]:
        reply = {"action": "accept", "content": {"confirm": yes}}
        return await self.call(name, args, requestState=state, inputResponses={"confirm": reply})


def the_question_was_asked(payload: dict[str, Any]) -> str:
    result = payload["result"]
    assert result["resultType"] == "input_required", payload
    state: str = result["requestState"]
    return state
