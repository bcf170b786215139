"""What the server remembers between calls, in one home: in this process, or in Redis for replicas that share it.

A replica that remembers on its own lets a team's replicas each accept the same approval once, each spend a profile's
rate budget, and each send the same post. With `AYRSHARE_MCP_REDIS_URL` set these facts live in Redis instead:
- single-use nonces (`claim`: `SET key 1 NX EX ttl`), for "this approval was used";
- records with a lifetime (`get`, `put`): a post submitted, the same words sent to the same target, a cached lookup;
- per-key locks (`lock`) that expire, so a replica that died holding one cannot hold it for ever, and that only
  their holder releases;
- the per-profile rate budget (`budget`, `merge_budget`), as Ayrshare's headers and 429s last described it.

Keys are namespaced (`ayrshare-mcp:`) and never hold a secret: callers name accounts by `credentials.account_key`,
a hash. Every Redis call is bounded by a timeout; an unreachable Redis raises `StateUnavailable`, whose message says
what to check and never shows the URL's password.
"""

from __future__ import annotations

from ayrshare_mcp.state.base import Budget, SharedState, StateUnavailable
from ayrshare_mcp.state.memory import MemoryState


def open_state(redis_url: str | None) -> SharedState:
    """The state for these settings: Redis when a URL is set (connected on first use), else this process's."""
    if not redis_url:
        return MemoryState()
    # Imported only when configured: a server without Redis never loads its client.
    from ayrshare_mcp.state.redis_store import RedisState

    return RedisState(redis_url)


__all__ = ["Budget", "MemoryState", "SharedState", "StateUnavailable", "open_state"]
