"""Every tool, by toolset. A server serves the toolsets its settings name (core by default), read-only or not.

To add a tool: declare it in its toolset's module and list it in that module's `TOOLS`. To add a toolset: a module
with `SUMMARY` and `TOOLS`, one line in `TOOLSETS` below, and its name in `settings.TOOLSETS`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ayrshare_mcp.settings import DEFAULT_TOOLSETS
from ayrshare_mcp.tools import account, core, posts, schedules
from ayrshare_mcp.tools.spec import ToolSpec

_MODULES: dict[str, ModuleType] = {"core": core, "posts": posts, "schedules": schedules, "account": account}

TOOLSETS: dict[str, tuple[ToolSpec[Any], ...]] = {name: module.TOOLS for name, module in _MODULES.items()}
# One line per toolset, for `tools` and the README.
SUMMARIES: dict[str, str] = {name: module.SUMMARY for name, module in _MODULES.items()}
TOOLS_BY_NAME: dict[str, ToolSpec[Any]] = {spec.name: spec for tools in TOOLSETS.values() for spec in tools}
TOOLSET_OF: dict[str, str] = {spec.name: name for name, tools in TOOLSETS.items() for spec in tools}


def served(toolsets: tuple[str, ...] = DEFAULT_TOOLSETS, *, read_only: bool = False) -> tuple[ToolSpec[Any], ...]:
    """The tools a server with these settings lists and answers: those of its toolsets, only read-only ones if so."""
    return tuple(spec for name in toolsets for spec in TOOLSETS[name] if spec.read_only or not read_only)
