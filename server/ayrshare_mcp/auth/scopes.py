"""The OAuth scopes a tool can need: each tool declares one (see `tools.spec.ToolSpec.scope`)."""

from __future__ import annotations

from typing import Literal

Scope = Literal["ayrshare:read", "ayrshare:write", "ayrshare:publish", "ayrshare:delete"]

READ: Scope = "ayrshare:read"
# Changes that stay private: auto-schedule slots.
WRITE: Scope = "ayrshare:write"
# Anything that can put words or pictures in public, whatever its arguments: posts, comments, messages, uploads.
PUBLISH: Scope = "ayrshare:publish"
DELETE: Scope = "ayrshare:delete"
ALL: tuple[Scope, ...] = (READ, WRITE, PUBLISH, DELETE)
