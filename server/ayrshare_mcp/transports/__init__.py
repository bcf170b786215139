"""How clients reach the server: stdio (`stdio`), or streamable HTTP and SSE (`http`) behind the request guards
(`guards`) and the connection limits (`connections`)."""

from ayrshare_mcp.transports.http import endpoint_url, http_app, serve_http
from ayrshare_mcp.transports.stdio import serve_stdio

__all__ = ["endpoint_url", "http_app", "serve_http", "serve_stdio"]
