"""The advertised tool schemas are the contract: portable for every client, and true to what the tools accept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.tools import OUTPUT_SCHEMA, TOOLS_BY_NAME
from ayrshare_mcp.tools.arguments import describe_invalid_arguments

SCHEDULE_PARAMETERS = {"schedule", "daysOfWeek", "title", "excludeDates", "setStartDate", "Profile-Key"}
CONTRACT = {
    "AYRSHARE_CREATE_AUTO_SCHEDULE": SCHEDULE_PARAMETERS,
    "AYRSHARE_POST_SET_AUTO_SCHEDULE": SCHEDULE_PARAMETERS,
    "AYRSHARE_DELETE_DELETE_POST": {"id", "bulk", "deleteAllScheduled", "markManualDeleted", "Profile-Key"},
    "AYRSHARE_GET_POST_HISTORY": {
        "Profile-Key", "endDate", "lastDays", "lastRecords", "limit", "startDate", "status", "platforms", "type",
    },
}  # fmt: skip


def walk(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema node: the schema itself, its properties' schemas and its items' schemas, recursively."""
    yield schema
    for child in schema.get("properties", {}).values():
        yield from walk(child)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"])


def test_the_tools_and_their_parameters_are_exactly_the_contract() -> None:
    advertised = {tool.name: set(tool.input_schema["properties"]) for tool in listing().tools}
    assert advertised == CONTRACT


@pytest.mark.parametrize("tool", listing().tools, ids=lambda tool: tool.name)
def test_input_schemas_are_flat_and_portable(tool: Any) -> None:
    schema = tool.input_schema
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    for node in walk(schema):
        assert not {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title"} & set(node), node
    for name, prop in schema["properties"].items():
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name)
        assert prop["type"] in {"string", "integer", "boolean", "array"}, name
        assert len(prop["description"]) > 20, name
    jsonschema.Draft202012Validator.check_schema(schema)


def test_required_parameters_are_only_the_schedule() -> None:
    required = {tool.name: tool.input_schema.get("required", []) for tool in listing().tools}
    assert required == {
        "AYRSHARE_CREATE_AUTO_SCHEDULE": ["schedule"],
        "AYRSHARE_POST_SET_AUTO_SCHEDULE": ["schedule"],
        "AYRSHARE_DELETE_DELETE_POST": [],
        "AYRSHARE_GET_POST_HISTORY": [],
    }


def test_constraints_are_json_schema_keywords() -> None:
    by_name = {spec.name: spec.accepts["properties"] for spec in TOOLS_BY_NAME.values()}
    schedule = by_name["AYRSHARE_POST_SET_AUTO_SCHEDULE"]
    history = by_name["AYRSHARE_GET_POST_HISTORY"]
    assert schedule["schedule"]["items"]["pattern"] == r"^([01][0-9]|2[0-3]):[0-5][0-9]Z$"
    assert schedule["schedule"]["minItems"] == 1
    assert schedule["daysOfWeek"]["items"] == {"type": "integer", "minimum": 0, "maximum": 6}
    assert (history["limit"]["minimum"], history["limit"]["maximum"]) == (1, 1000)
    assert history["lastDays"]["minimum"] == 0
    assert history["status"]["enum"] == [
        "success", "error", "processing", "pending", "paused", "deleted", "awaiting approval",
    ]  # fmt: skip
    assert history["startDate"]["pattern"].startswith("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")


def patterns_of(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Each parameter with a pattern, on itself or on its items, and the pattern."""
    for name, prop in schema["properties"].items():
        for node in (prop, prop.get("items", {})):
            if "pattern" in node:
                yield name, node["pattern"]


@pytest.mark.parametrize("spec", TOOLS_BY_NAME.values(), ids=lambda spec: spec.name)
def test_tools_list_advertises_what_the_tool_accepts_less_only_its_patterns(spec: Any) -> None:
    advertised = spec.tool.input_schema
    assert not list(patterns_of(advertised)), "a pattern costs every conversation tokens; the server checks it"
    for name, _ in patterns_of(spec.accepts):
        prop = dict(spec.accepts["properties"][name])
        prop.pop("pattern", None)
        if "items" in prop:
            prop["items"] = {key: value for key, value in prop["items"].items() if key != "pattern"}
        assert advertised["properties"][name] == prop
    assert set(advertised["properties"]) == set(spec.accepts["properties"])
    assert advertised.get("required") == spec.accepts.get("required")


@pytest.mark.parametrize(
    ("spec", "name"),
    [(spec, name) for spec in TOOLS_BY_NAME.values() for name, _ in patterns_of(spec.accepts)],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_a_value_outside_a_pattern_that_is_not_advertised_gets_an_error_naming_the_parameter_and_its_form(
    spec: Any, name: str
) -> None:
    """The model never saw the pattern: the error it gets must say what the parameter takes."""
    prop = spec.accepts["properties"][name]
    wrong: Any = ["not*valid ~ [x]"] if prop["type"] == "array" else "not*valid ~ [x]"
    example = {key: example_of(key, value) for key, value in spec.accepts["properties"].items()
               if key in set(spec.accepts.get("required", []))}  # fmt: skip

    with pytest.raises(ValidationError) as caught:
        spec.arguments.model_validate({**example, name: wrong})
    explained = describe_invalid_arguments(spec.name, spec.accepts["properties"], caught.value)

    assert f"'{name}" in explained
    assert prop["description"] in explained


def test_every_tool_declares_the_envelope_as_its_output_schema() -> None:
    assert all(tool.output_schema == OUTPUT_SCHEMA for tool in listing().tools)
    assert OUTPUT_SCHEMA["required"] == ["data", "successful"]
    assert {name: prop["type"] for name, prop in OUTPUT_SCHEMA["properties"].items()} == {
        "data": "object",
        "error": "string",
        "successful": "boolean",
        "sandbox": "string",
        "notice": "string",
    }
    jsonschema.Draft202012Validator.check_schema(OUTPUT_SCHEMA)


# Realistic values by parameter name, for the patterns a schema cannot be asked for an example of.
EXAMPLES: dict[str, Any] = {
    "schedule": ["13:05Z"],
    "daysOfWeek": [0, 6],
    "title": "Launch week",
    "excludeDates": ["2026-12-25"],
    "setStartDate": "2026-12-01T09:00:00Z",
    "Profile-Key": "PROFILE-1234",
    "id": "rhn6u7wwz2WxGv6MZGK9",
    "startDate": "2026-11-01T00:00:00Z",
    "endDate": "2026-11-30T00:00:00Z",
    "lastDays": 0,
    "limit": 1000,
    "status": "awaiting approval",
    "platforms": ["twitter", "gmb"],
    "type": "scheduled",
    "post": "Launch day",
    "mediaUrls": ["https://img.example/launch.png"],
    "mediaUrl": "https://img.example/launch.png",
    "scheduleDate": "2030-01-01T09:00:00+02:00",
    "requiresApproval": True,
    "shortenLinks": False,
    "notes": "Ask Sam to approve",
    "idempotencyKey": "launch-2030-01-01",
    "approved": True,
    "deleteLastScheduleDate": True,
    "commentId": "17969247335804735",
}


def example_of(name: str, schema: dict[str, Any]) -> Any:
    """A value the property's schema accepts: the realistic one for its name if it fits, else one read off the
    schema (its first allowed value, its minimum, one item); a pattern no example fits asks for one."""
    fits = jsonschema.Draft202012Validator(schema).is_valid
    if name in EXAMPLES and fits(EXAMPLES[name]):
        return EXAMPLES[name]
    if "enum" in schema:
        return schema["enum"][0]
    if schema["type"] == "integer":
        return schema.get("minimum", 1)
    if schema["type"] == "boolean":
        return True
    if schema["type"] == "array":
        return [example_of(f"{name}[]", schema["items"])] * max(1, schema.get("minItems", 1))
    assert "pattern" not in schema, (
        f"add a realistic example for {name!r} to EXAMPLES: its pattern is {schema['pattern']!r}"
    )
    return "text"


@pytest.mark.parametrize("spec", TOOLS_BY_NAME.values(), ids=lambda spec: spec.name)
def test_arguments_the_schema_accepts_are_accepted_by_the_tool(spec: Any) -> None:
    schema = spec.accepts
    named = set(schema.get("required", [])) | set(EXAMPLES)  # what every call sends, and all that can go together
    example = {name: example_of(name, prop) for name, prop in schema["properties"].items() if name in named}

    jsonschema.validate(example, schema)
    spec.arguments.model_validate(example)


def test_descriptions_tell_the_model_where_post_ids_come_from_and_what_cannot_be_deleted() -> None:
    by_name = {tool.name: tool for tool in listing().tools}
    delete = by_name["AYRSHARE_DELETE_DELETE_POST"].description or ""
    history = by_name["AYRSHARE_GET_POST_HISTORY"].description or ""
    create = by_name["AYRSHARE_CREATE_AUTO_SCHEDULE"].description or ""
    assert "AYRSHARE_GET_POST_HISTORY" in delete
    assert "Instagram and TikTok" in delete
    assert "markManualDeleted" in delete
    assert "AYRSHARE_DELETE_DELETE_POST" in history
    assert "AYRSHARE_POST_SET_AUTO_SCHEDULE" in create
