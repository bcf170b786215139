"""The tools this server advertises, declared as data in `catalog`, run by `spec`, answered with `envelope`."""

from ayrshare_mcp.tools.catalog import TOOLS, TOOLS_BY_NAME, served
from ayrshare_mcp.tools.envelope import OUTPUT_SCHEMA
from ayrshare_mcp.tools.spec import ToolSpec

__all__ = ["OUTPUT_SCHEMA", "TOOLS", "TOOLS_BY_NAME", "ToolSpec", "served"]
