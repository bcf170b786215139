"""The Ayrshare client: the REST operations the tools use, their errors, and when a request is tried again.

It knows nothing of MCP. `endpoints` lists every request it may send; `account` is the operations the tools call,
for one account; `client` sends them, with one pool, deadlines and memory of each account; `retry` decides whether
to try again; `rate_limits` remembers each profile's budget; `answers` reads what comes back; `errors` says what
went wrong and what to do next.
"""

from ayrshare_mcp.client.account import ENDPOINTS, Account
from ayrshare_mcp.client.answers import JSONObject, encode_query, parse_answer, schedule_titles
from ayrshare_mcp.client.client import AyrshareClient
from ayrshare_mcp.client.endpoints import Endpoint, Operation
from ayrshare_mcp.client.errors import AyrshareAPIError, AyrshareDuplicatePost, AyrshareError

__all__ = [
    "ENDPOINTS",
    "Account",
    "AyrshareAPIError",
    "AyrshareClient",
    "AyrshareDuplicatePost",
    "AyrshareError",
    "Endpoint",
    "JSONObject",
    "Operation",
    "encode_query",
    "parse_answer",
    "schedule_titles",
]
