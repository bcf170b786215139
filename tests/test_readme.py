"""The README's tool reference is generated from `tools/list`; this test fails when the two drift apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mcp.types import Tool, ToolAnnotations

from ayrshare_mcp.server import TOOL_LISTING

README = Path(__file__).parent.parent / "README.md"
START, END = "<!-- tools:start -->", "<!-- tools:end -->"


def describe_type(prop: dict[str, Any]) -> str:
    if prop["type"] == "array":
        return f"array of {describe_type(prop['items'])}"
    if "enum" in prop:
        return " \\| ".join(f"`{value}`" for value in prop["enum"])
    return str(prop["type"])


def kind_of(tool: Tool) -> str:
    hints = tool.annotations or ToolAnnotations()
    return "read-only" if hints.read_only_hint else "destructive" if hints.destructive_hint else "write"


def render() -> str:
    sections = []
    for tool in TOOL_LISTING.tools:
        kind = kind_of(tool)
        lines = [f"### `{tool.name}` — {tool.title} ({kind})", "", tool.description or "", ""]
        lines += ["| Parameter | Type | Required | Description |", "|---|---|---|---|"]
        required = set(tool.input_schema.get("required", []))
        for name, prop in tool.input_schema["properties"].items():
            description = prop["description"].replace("|", "\\|")
            needed = "yes" if name in required else "no"
            lines.append(f"| `{name}` | {describe_type(prop)} | {needed} | {description} |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def test_the_readme_tool_reference_matches_what_the_server_advertises() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(re.escape(START) + r"\n(.*)\n" + re.escape(END), text, re.DOTALL)
    assert match, f"README.md lacks the {START} ... {END} block"
    expected = render()
    assert match.group(1) == expected, f"Regenerate the README block with:\n\n{expected}"
