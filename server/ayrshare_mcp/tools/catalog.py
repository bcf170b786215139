"""Every tool, by toolset. A server serves the toolsets its settings name (core by default), read-only or not.

A toolset is a module of `tools.toolsets` named in `settings.TOOLSETS` (that one line registers it), holding its
`SUMMARY` (one line for `tools` and the README), its `TOOLS`, and optionally `INSTRUCTIONS` for the client, `VIEWS`
(MCP Apps views: a `ui://` URI to its file in `ayrshare_mcp/views/`) and `APP_TOOLS`, the tools its views call. To
add a tool: declare it in its toolset's module and list it in that module's `TOOLS`; everything else is derived.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from types import ModuleType
from typing import Any

from ayrshare_mcp.settings import DEFAULT_TOOLSETS, TOOLSETS
from ayrshare_mcp.tools.spec import ToolSpec


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"ayrshare_mcp.tools.toolsets.{name}")


_MODULES: dict[str, ModuleType] = {name: _module(name) for name in TOOLSETS}

TOOLS_OF: dict[str, tuple[ToolSpec[Any], ...]] = {name: module.TOOLS for name, module in _MODULES.items()}
SUMMARIES: dict[str, str] = {name: module.SUMMARY for name, module in _MODULES.items()}
TOOLS_BY_NAME: dict[str, ToolSpec[Any]] = {spec.name: spec for tools in TOOLS_OF.values() for spec in tools}
TOOLSET_OF: dict[str, str] = {spec.name: name for name, tools in TOOLS_OF.items() for spec in tools}


def served(toolsets: tuple[str, ...] = DEFAULT_TOOLSETS, *, read_only: bool = False) -> tuple[ToolSpec[Any], ...]:
    """The tools a server with these settings lists and answers: those of its toolsets, only read-only ones if so."""
    return tuple(spec for name in toolsets for spec in TOOLS_OF[name] if spec.read_only or not read_only)


def app_only(toolsets: tuple[str, ...] = DEFAULT_TOOLSETS, *, read_only: bool = False) -> tuple[ToolSpec[Any], ...]:
    """The tools a served toolset's view calls that are not served to the model: served for the view alone, marked
    `_meta.ui.visibility: ["app"]` so hosts keep them out of the model's context. Read-only leaves out the others."""
    model_tools = {spec.name for spec in served(toolsets, read_only=read_only)}
    wanted = dict.fromkeys(name for toolset in toolsets for name in getattr(_MODULES[toolset], "APP_TOOLS", ()))
    return tuple(
        replace(spec, meta={**(spec.meta or {}), "ui": {"visibility": ["app"]}})
        for name in wanted
        if name not in model_tools and ((spec := TOOLS_BY_NAME[name]).read_only or not read_only)
    )


def views(toolsets: tuple[str, ...] = DEFAULT_TOOLSETS) -> dict[str, str]:
    """The MCP Apps views the served toolsets declare: `ui://` URI to file name in `ayrshare_mcp/views/`."""
    return {uri: file for toolset in toolsets for uri, file in getattr(_MODULES[toolset], "VIEWS", {}).items()}


def instructions(toolsets: tuple[str, ...] = DEFAULT_TOOLSETS) -> str:
    """What the server tells its clients: core's lines first, then each served toolset's own."""
    served_names = ("core", *(name for name in toolsets if name != "core"))
    return "".join(getattr(_MODULES[name], "INSTRUCTIONS", "") for name in served_names)
