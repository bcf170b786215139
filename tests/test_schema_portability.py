"""Every advertised input schema is accepted by the model providers that hosts translate it for.

Hosts hand `inputSchema` to a model provider as that provider's tool format. Checked here against the providers'
own rules: Google's SDK model for Gemini's function-declaration parameters, Anthropic's property-name pattern, and
the JSON-schema keywords all three providers share, where each keyword beyond that set needs a stated reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.settings import TOOLSETS

# Anthropic's tool input_schema: property names must match this (Messages API, tool use).
ANTHROPIC_PROPERTY_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")

# Keywords Gemini's Schema, OpenAI's function parameters (even in strict mode) and Anthropic all understand.
SHARED_KEYWORDS = frozenset(
    {"type", "properties", "required", "description", "enum", "items", "pattern", "format", "minimum", "maximum"}
    | {"minItems", "maxItems", "anyOf"}
)
# Keywords outside that set, each with why it is worth carrying.
BEYOND_SHARED = {
    "additionalProperties": "The server refuses unknown arguments, and this tells the model so; Gemini's Schema and "
    "OpenAI's strict mode both take it. (google-genai's MCP bridge crashes on the boolean form: see "
    "docs/model-hosts.md.)",
    "minLength": "Non-empty strings (titles, ids, Profile-Key); Gemini's Schema and OpenAI's non-strict mode take it. "
    "OpenAI's strict mode does not, and does not fit these tools anyway (docs/model-hosts.md).",
    "maxLength": "Bounds ids, titles and Profile-Key, so a runaway argument is refused before it is sent; the same "
    "support as minLength.",
}


def keywords(schema: dict[str, Any]) -> Iterator[str]:
    """Every keyword used anywhere in the schema (property names are not keywords)."""
    for keyword, value in schema.items():
        yield keyword
        if keyword == "properties":
            for child in value.values():
                yield from keywords(child)
        elif keyword == "items":
            yield from keywords(value)


def property_names(schema: dict[str, Any]) -> Iterator[str]:
    for name, child in schema.get("properties", {}).items():
        yield name
        yield from property_names(child)
    if isinstance(schema.get("items"), dict):
        yield from property_names(schema["items"])


TOOLS = pytest.mark.parametrize("tool", listing(TOOLSETS).tools, ids=lambda tool: tool.name)


@TOOLS
def test_gemini_accepts_the_schema_as_function_declaration_parameters(tool: Any) -> None:
    # Imported here: it takes 0.4 s, which every test worker would pay at collection, and only this test needs it.
    from google.genai import types as gemini

    # The SDK's own models forbid unknown keys, as the Gemini API does ("Unknown name ... Cannot find field").
    declaration = gemini.FunctionDeclaration(name=tool.name, description=tool.description, parameters=tool.input_schema)

    assert declaration.parameters is not None
    assert set(declaration.parameters.properties or {}) == set(tool.input_schema["properties"])
    assert gemini.Schema.model_validate(tool.input_schema).required == tool.input_schema.get("required")


@TOOLS
def test_property_names_match_anthropics_pattern(tool: Any) -> None:
    assert all(ANTHROPIC_PROPERTY_NAME.match(name) for name in property_names(tool.input_schema))


@TOOLS
def test_only_shared_keywords_are_used_and_each_exception_has_a_reason(tool: Any) -> None:
    used = set(keywords(tool.input_schema))

    assert used <= SHARED_KEYWORDS | set(BEYOND_SHARED), used - SHARED_KEYWORDS - set(BEYOND_SHARED)


def test_every_stated_exception_is_still_needed() -> None:
    used = {keyword for tool in listing().tools for keyword in keywords(tool.input_schema)}

    assert set(BEYOND_SHARED) <= used, "drop the reasons for keywords no schema uses any more"


def test_duplicates_are_refused_by_the_server_not_declared_with_unique_items() -> None:
    assert not any("uniqueItems" in keywords(tool.input_schema) for tool in listing().tools)
    arrays = {
        name: prop
        for tool in listing().tools
        for name, prop in tool.input_schema["properties"].items()
        if prop["type"] == "array"
    }
    assert set(arrays) == {"schedule", "daysOfWeek", "excludeDates", "bulk", "platforms"}
    assert all("no duplicates" in prop["description"] for prop in arrays.values())
