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
from ayrshare_mcp.client import ENDPOINTS
from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, RecordedRequest
from ayrshare_mcp.server import SharedClient, build_server
from ayrshare_mcp.settings import TOOLSETS, Settings, Unattended
from ayrshare_mcp.tools.catalog import TOOLS_BY_NAME
from tests.envelope import envelope_of
from tests.support import API_KEY

# What a tool answers when its handler raised: the server survived, but the tool crashed.
UNEXPECTED = "ayrshare-mcp hit an unexpected error"

# What each tool accepts, every pattern included, rather than the trimmed schema tools/list advertises.
SCHEMAS = {tool.name: TOOLS_BY_NAME[tool.name].accepts for tool in listing(TOOLSETS).tools}
# Built once: `jsonschema.validate` checks the schema itself against the metaschema on every call.
VALIDATORS = {name: jsonschema.Draft202012Validator(schema) for name, schema in SCHEMAS.items()}
READ_ONLY = {tool.name for tool in listing(TOOLSETS).tools if tool.annotations and tool.annotations.read_only_hint}

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
    assert not envelope.get("error", "").startswith(UNEXPECTED), f"{tool} crashed on {arguments!r}"
    if not envelope["successful"] and envelope["error"].startswith("Invalid arguments"):
        assert requests == [], "invalid arguments must not reach Ayrshare"
    for request in requests:
        assert_respects_schema(tool, request)


def assert_respects_schema(tool: str, request: RecordedRequest) -> None:
    """The request is one the client declares, its profile key is a header, and what carries the tool's arguments
    (a body or query holding every argument the tool requires) respects the tool's advertised schema."""
    path = request.path.removeprefix("/api/")
    endpoint = next((endpoint for endpoint in ENDPOINTS if endpoint.matches(request.method, path)), None)
    assert endpoint is not None, f"undeclared {request.method} {path}"
    assert not (endpoint.changes and tool in READ_ONLY), f"{tool} is read-only, yet sent {request.method} {path}"
    profile_key = request.header("profile-key")
    assert profile_key is None or re.fullmatch(r"[!-~]+", profile_key)
    sent = _query_as_arguments(tool, request) if request.method == "GET" else request.body
    if not sent:
        return
    assert "Profile-Key" not in sent, "the profile key travels as a header only"
    schema = SCHEMAS[tool]
    if tool in ("AYRSHARE_CREATE_POST", "AYRSHARE_VALIDATE_POST"):
        assert "autoScheduleTitle" not in sent, "a schedule is named as Ayrshare's autoSchedule object"
        assert path != "post" or "idempotencyKey" in sent, "every create carries a key"
        sent = {name: value for name, value in sent.items() if name != "autoSchedule"}
    if tool == "AYRSHARE_SHOW_CALENDAR":
        assert set(sent) == {"startDate", "endDate", "limit"}, "the calendar asks history for its week's window alone"
        return
    if tool == "AYRSHARE_DELETE_COMMENT":
        assert set(sent) <= {"id", "platform", "searchPlatformId"}, "commentId or postId travels as Ayrshare's id"
        return
    if set(schema.get("required", [])) <= set(sent):
        VALIDATORS[tool].validate(sent)


def _query_as_arguments(tool: str, request: RecordedRequest) -> dict[str, Any]:
    schema = SCHEMAS[tool]["properties"]
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
