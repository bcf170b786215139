"""The Ayrshare client: the REST operations the tools use, their errors, and when a request is tried again.

It knows nothing of MCP. `client` sends operations; `retry` decides whether to try again; `rate_limits` remembers
each profile's budget; `errors` says what went wrong and what to do next.
"""

from ayrshare_mcp.client.client import (
    Account,
    AyrshareClient,
    JSONObject,
    Operation,
    encode_query,
    parse_answer,
    schedule_titles,
)
from ayrshare_mcp.client.errors import AyrshareAPIError, AyrshareDuplicatePost, AyrshareError

__all__ = [
    "Account",
    "AyrshareAPIError",
    "AyrshareClient",
    "AyrshareDuplicatePost",
    "AyrshareError",
    "JSONObject",
    "Operation",
    "encode_query",
    "parse_answer",
    "schedule_titles",
]
