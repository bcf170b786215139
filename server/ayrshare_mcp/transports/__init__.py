"""How clients reach the server: stdio (`stdio`), or streamable HTTP and SSE (`http`, composed with `compose`) behind
the request guards (`guards`, `forwarded`, `quotas`) and the connection limits (`connections`), as `options` says.

Nothing is imported here: the command line reads `options` without loading the web server."""
