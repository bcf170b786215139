"""The tools this server advertises, declared as data in `catalog`, run by the machinery in `spec`."""

from ayrshare_mcp.tools.catalog import TOOLS, TOOLS_BY_NAME
from ayrshare_mcp.tools.spec import OUTPUT_SCHEMA, ToolSpec

__all__ = ["OUTPUT_SCHEMA", "TOOLS", "TOOLS_BY_NAME", "ToolSpec"]
