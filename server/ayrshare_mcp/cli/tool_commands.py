"""`ayrshare-mcp tools` prints the tool catalog; `ayrshare-mcp call` runs one tool in this process.

`call` goes through the same MCP server the hosts talk to, over the SDK's in-memory transport, so what it prints is
exactly the result a host would get.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
from dataclasses import replace
from typing import Any

import anyio
from mcp import Client
from mcp.types import CallToolResult, ListToolsResult, Tool

from ayrshare_mcp.server import build_server, unknown_tool
from ayrshare_mcp.settings import DEFAULT_TOOLSETS, Settings, Unattended
from ayrshare_mcp.tools import SUMMARIES, TOOLS_BY_NAME, TOOLSET_OF, served

_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z])")
EXIT_TOOL_ERROR = 1
EXIT_USAGE = 2


def listing(toolsets: tuple[str, ...] = DEFAULT_TOOLSETS, *, read_only: bool = False) -> ListToolsResult:
    """What tools/list answers on a server with these settings."""
    return ListToolsResult(tools=[spec.tool for spec in served(toolsets, read_only=read_only)])


def print_tools(settings: Settings, *, as_json: bool = False, markdown: bool = False, summary: bool = False) -> int:
    tools = listing(settings.toolsets, read_only=settings.read_only)
    if as_json:
        text = json.dumps(tools.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2)
    elif markdown:
        text = markdown_reference(tools)
    elif summary:
        text = markdown_summary(tools)
    else:
        width = min(shutil.get_terminal_size((100, 24)).columns, 120)
        text = "\n\n".join(
            textwrap.fill(f"== {name}: {SUMMARIES[name]}", width, subsequent_indent="   ")
            + "\n\n"
            + "\n\n".join(_plain(tool, width) for tool in group)
            for name, group in by_toolset(tools)
        )
    sys.stdout.write(text + "\n")
    return 0


def by_toolset(tools: ListToolsResult) -> list[tuple[str, list[Tool]]]:
    """The tools under their toolsets, in catalog order."""
    groups: dict[str, list[Tool]] = {}
    for tool in tools.tools:
        groups.setdefault(TOOLSET_OF[tool.name], []).append(tool)
    return list(groups.items())


def _plain(tool: Tool, width: int) -> str:
    """One tool as text: its name and kind, what it does, and a table of parameters whose columns fit their
    contents and whose descriptions wrap within `width`."""
    required = set(tool.input_schema.get("required", []))
    rows = [
        ("*" if name in required else " ", name, describe_type(prop), _first_sentence(prop.get("description", "")))
        for name, prop in tool.input_schema["properties"].items()
    ]
    names = max((len(name) for _, name, _, _ in rows), default=0)
    kinds = max((len(kind) for _, _, kind, _ in rows), default=0)
    indent = 2 + 2 + names + 2 + kinds + 2
    lines = [f"{tool.name}  ({tool.title}; {kind_of(tool)})"]
    lines += textwrap.wrap(_first_sentence(tool.description or ""), width, initial_indent="  ", subsequent_indent="  ")
    for mark, name, kind, text in rows:
        start = f"  {mark} {name:<{names}}  {kind:<{kinds}}  "
        wrapped = textwrap.wrap(text, max(20, width - indent)) or [""]
        lines.append(start + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def kind_of(tool: Tool) -> str:
    hints = tool.annotations
    if hints and hints.read_only_hint:
        return "read-only"
    return "destructive" if hints and hints.destructive_hint else "write"


def describe_type(prop: dict[str, Any], *, markdown: bool = False) -> str:
    """A parameter's type in words: "array of string", or its allowed values (in Markdown, every one of them)."""
    if prop["type"] == "array":
        return f"array of {describe_type(prop['items'], markdown=markdown)}"
    values = prop.get("enum")
    if values is None:
        return str(prop["type"])
    if markdown:
        return " | ".join(f"`{value}`" for value in values)
    return " | ".join(map(str, values)) if len(values) <= 3 else "string (enum)"


def markdown_reference(tools: ListToolsResult | None = None) -> str:
    """The README's tool reference, generated from what tools/list advertises, toolset by toolset."""
    sections = []
    for toolset, group in by_toolset(tools or listing()):
        sections.append(f"### The `{toolset}` toolset\n\n{SUMMARIES[toolset]}")
        sections += [_markdown_tool(tool) for tool in group]
    return "\n\n".join(sections)


def _markdown_tool(tool: Tool) -> str:
    lines = [f"#### `{tool.name}` — {tool.title} ({kind_of(tool)})", "", tool.description or "", ""]
    lines += ["| Parameter | Type | Required | Description |", "|---|---|---|---|"]
    required = set(tool.input_schema.get("required", []))
    for name, prop in tool.input_schema["properties"].items():
        kind, needed = describe_type(prop, markdown=True), "yes" if name in required else "no"
        cells = [f"`{name}`", kind, needed, prop.get("description", "")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def markdown_summary(tools: ListToolsResult) -> str:
    """One table row per toolset: what it is for, and its tools (docs/tools.md has each in full)."""
    lines = ["| Toolset | What it is for | Tools |", "|---|---|---|"]
    for toolset, group in by_toolset(tools):
        names = ", ".join(f"`{tool.name}`" for tool in group)
        lines.append(f"| `{toolset}` | {SUMMARIES[toolset]} | {names} |")
    return "\n".join(lines)


def manifest_tools(tools: ListToolsResult) -> list[dict[str, str]]:
    """The bundle manifest's `tools`: each tool's name and first sentence, and its toolset unless it is core."""
    return [
        {"name": tool.name, "description": _first_sentence(tool.description or "").removesuffix(".") + _in(tool.name)}
        for tool in tools.tools
    ]


def _in(name: str) -> str:
    toolset = TOOLSET_OF[name]
    return "." if toolset == "core" else f" ({toolset} toolset)."


def run_call(settings: Settings, tool: str, raw_arguments: str) -> int:
    names = [spec.name for spec in served(settings.toolsets, read_only=settings.read_only)]
    if tool not in names:
        known = tool in TOOLS_BY_NAME
        why = unknown_tool(tool, settings) if known else f"no tool {tool!r}; the tools are: {', '.join(names)}"
        sys.stderr.write(f"ayrshare-mcp: {why}\n")
        return EXIT_USAGE
    try:
        arguments = json.loads(sys.stdin.read() if raw_arguments == "-" else raw_arguments)
    except ValueError as exc:
        sys.stderr.write(f"ayrshare-mcp: the arguments are not valid JSON ({exc}); pass an object like '{{}}'\n")
        return EXIT_USAGE
    if not isinstance(arguments, dict):
        sys.stderr.write("ayrshare-mcp: the arguments must be a JSON object, like '{\"limit\": 5}'\n")
        return EXIT_USAGE
    result = anyio.run(_call, settings, tool, arguments)
    sys.stdout.write(json.dumps(result.structured_content, indent=2, ensure_ascii=False) + "\n")
    return EXIT_TOOL_ERROR if result.is_error else 0


async def _call(settings: Settings, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    # Typing the command is the user's own explicit act: a bulk delete or a post needs no second yes.
    own_act = Unattended(allow_deletes=True, publish="direct")
    async with Client(build_server(replace(settings, unattended=own_act))) as client:
        return await client.call_tool(tool, arguments)
