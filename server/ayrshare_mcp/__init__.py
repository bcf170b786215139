"""An MCP server for the Ayrshare social-media API."""

__version__ = "0.1.0"
