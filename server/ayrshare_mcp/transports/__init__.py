"""How clients reach the server: stdio (`stdio`), or streamable HTTP and SSE (`http`) behind the request guards
(`guards`) and the connection limits (`connections`)."""

from ayrshare_mcp.transports.http import compose, endpoint_url, serve_http
from ayrshare_mcp.transports.options import HttpLimits, HttpOptions, HttpTransport
from ayrshare_mcp.transports.stdio import serve_stdio

__all__ = ["HttpLimits", "HttpOptions", "HttpTransport", "compose", "endpoint_url", "serve_http", "serve_stdio"]
