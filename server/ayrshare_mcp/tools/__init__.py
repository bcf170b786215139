"""The tools this server advertises, by toolset: declared as data in `toolsets/`, gathered in `catalog`, run by
`spec`, answered with `envelope`."""

from ayrshare_mcp.tools.catalog import SUMMARIES, TOOLS_BY_NAME, TOOLS_OF, TOOLSET_OF, instructions, served
from ayrshare_mcp.tools.envelope import OUTPUT_SCHEMA
from ayrshare_mcp.tools.spec import ToolSpec

__all__ = [
    "OUTPUT_SCHEMA",
    "SUMMARIES",
    "TOOLSET_OF",
    "TOOLS_BY_NAME",
    "TOOLS_OF",
    "ToolSpec",
    "instructions",
    "served",
]
