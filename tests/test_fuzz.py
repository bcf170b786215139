"""Property-based fuzzing of every tool: any arguments get a result or a tool error, never a crash or protocol
error, and nothing that violates the advertised schema ever reaches Ayrshare."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio.from_thread
import httpx2
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult

from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, RecordedRequest
from ayrshare_mcp.server import SharedClient, build_server
from ayrshare_mcp.settings import TOOLSETS, Settings, Unattended
from tests.envelope import envelope_of
from tests.support import API_KEY

SCHEMAS = {tool.name: tool.input_schema for tool in listing(TOOLSETS).tools}
# What each tool may send, keyed by the upstream endpoint: the schema its body must respect there (None: no body).
SENT_BY = {
    ("GET", "/api/history"): "AYRSHARE_GET_POST_HISTORY",
    ("DELETE", "/api/post"): "AYRSHARE_DELETE_DELETE_POST",
    ("POST", "/api/auto-schedule/set"): "AYRSHARE_POST_SET_AUTO_SCHEDULE",
    ("GET", "/api/auto-schedule/list"): None,
    ("POST", "/api/post"): "AYRSHARE_CREATE_POST",
    ("POST", "/api/validate/post"): "AYRSHARE_CREATE_POST",
    ("PUT", "/api/post"): "AYRSHARE_UPDATE_POST",
    ("PUT", "/api/post/retry"): "AYRSHARE_RETRY_POST",
    ("GET", "/api/post/"): None,
    ("DELETE", "/api/auto-schedule/delete"): "AYRSHARE_DELETE_AUTO_SCHEDULE",
    ("GET", "/api/user"): None,
    ("GET", "/api/profiles"): None,
}

# Derandomized, so every run tries the same inputs; HYPOTHESIS_MAX_EXAMPLES=1000 digs deeper by hand.
FUZZ = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for the advertised schema (the keywords these flat schemas use; the generator in
    hypothesis-jsonschema no longer runs on current Hypothesis)."""
    if schema["type"] == "object":
        required = set(schema.get("required", []))
        properties = {name: from_schema(prop) for name, prop in schema["properties"].items()}
        return st.fixed_dictionaries(
            {name: strategy for name, strategy in properties.items() if name in required},
            optional={name: strategy for name, strategy in properties.items() if name not in required},
        )
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema["type"] == "boolean":
        return st.booleans()
    if schema["type"] == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    if schema["type"] == "array":
        return st.lists(
            from_schema(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=max(schema.get("minItems", 0), 5),
            unique=schema.get("uniqueItems", False),
        )
    if "pattern" in schema:
        text = st.from_regex(schema["pattern"], fullmatch=True)
        return text.filter(lambda value: schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**6))
    return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 50))


@dataclass
class Harness:
    portal: anyio.from_thread.BlockingPortal
    client: Client
    emulator: EmulatorApp

    def call(self, tool: str, arguments: Any) -> tuple[CallToolResult, list[RecordedRequest]]:
        self.emulator.requests.clear()
        result = self.portal.call(self.client.call_tool, tool, arguments)
        return result, list(self.emulator.requests)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    """One server and one in-memory emulator for all examples: a fresh process per example would take hours."""
    emulator = EmulatorApp(Ayrshare())
    emulator.service.switches.rate_limit = 10**9
    # Every tool, and no person to ask: posts that would go public now are held for approval, as by default.
    settings_ = Settings(
        base_url="http://emulator.test/api",
        environ={"AYRSHARE_API_KEY": API_KEY},
        toolsets=TOOLSETS,
        unattended=Unattended(publish="approval"),
    )
    shared = SharedClient(settings_, transport=httpx2.ASGITransport(app=emulator))
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(build_server(settings_, shared=shared))) as client,
    ):
        yield Harness(portal, client, emulator)


def check(harness: Harness, tool: str, arguments: Any) -> None:
    result, requests = harness.call(tool, arguments)
    envelope = envelope_of(result)
    if not envelope["successful"] and envelope["error"].startswith("Invalid arguments"):
        assert requests == [], "invalid arguments must not reach Ayrshare"
    for request in requests:
        assert_respects_schema(request)


def assert_respects_schema(request: RecordedRequest) -> None:
    path = "/api/post/" if request.method == "GET" and request.path.startswith("/api/post/") else request.path
    key = (request.method, path)
    assert key in SENT_BY, f"unexpected upstream request {key}"
    profile_key = request.header("profile-key")
    assert profile_key is None or re.fullmatch(r"[!-~]+", profile_key)
    tool = SENT_BY[key]
    if tool is None:
        assert request.body is None
        return
    sent = _query_as_arguments(request) if request.method == "GET" else request.body
    assert "Profile-Key" not in sent, "the profile key travels as a header only"
    schema = SCHEMAS[tool]
    if tool == "AYRSHARE_CREATE_POST":
        sent = {name: value for name, value in sent.items() if name != "autoSchedule"}
        assert "autoScheduleTitle" not in sent, "a schedule is named as Ayrshare's autoSchedule object"
        assert request.path.endswith("/validate/post") or "idempotencyKey" in sent, "every create carries a key"
    jsonschema.validate(sent, schema)


def _query_as_arguments(request: RecordedRequest) -> dict[str, Any]:
    schema = SCHEMAS["AYRSHARE_GET_POST_HISTORY"]["properties"]
    arguments: dict[str, Any] = {}
    for name, value in request.query:
        if indexed := re.fullmatch(r"(\w+)\[\d+\]", name):
            arguments.setdefault(indexed[1], []).append(value)
        else:
            arguments[name] = int(value) if schema.get(name, {}).get("type") == "integer" else value
    return arguments


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
def test_arguments_generated_from_the_advertised_schema_never_crash_the_server(harness: Harness, tool: str) -> None:
    @FUZZ
    @given(arguments=from_schema(SCHEMAS[tool]))
    def run(arguments: dict[str, Any]) -> None:
        check(harness, tool, arguments)

    run()


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
def test_arbitrary_json_arguments_never_crash_the_server(harness: Harness, tool: str) -> None:
    names = st.sampled_from([*SCHEMAS[tool]["properties"], "unknown", ""])

    @FUZZ
    @given(arguments=st.dictionaries(names, json_values, max_size=6))
    def run(arguments: dict[str, Any]) -> None:
        check(harness, tool, arguments)

    run()
