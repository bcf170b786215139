"""The audit log (AYRSHARE_MCP_AUDIT=1): one JSON line for every call of a tool that can change something, saying
who called, which tool, for which profile, on what, and how it ended.

The lines go to a logger of their own, `ayrshare_mcp.audit`, at INFO whatever the log level, and are never
throttled. They hold no post text, no argument but a short id, and no key: under a tenants file the profile is its
name; otherwise a fingerprint of the account, which says which calls acted for the same one without naming it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import mcp_types as types

from ayrshare_mcp.auth.signed_in import SignedIn

AUDIT_LOGGER = "ayrshare_mcp.audit"
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
logger = logging.getLogger(AUDIT_LOGGER)


def enable() -> None:
    """Let the audit lines through at any log level."""
    logger.setLevel(logging.INFO)


def record(
    tool: str,
    arguments: Mapping[str, Any] | None,
    result: types.CallToolResult | types.InputRequiredResult,
    *,
    signed: SignedIn | None,
    profile: str | None,
) -> None:
    line: dict[str, Any] = {"event": "tool_call", "tool": tool, **_who(signed), "profile": profile}
    target = (arguments or {}).get("id")
    if isinstance(target, str) and _ID.match(target):
        line["id"] = target
    line["result"] = _ending(result)
    logger.info("%s", json.dumps(line, ensure_ascii=True, sort_keys=True))


def _who(signed: SignedIn | None) -> dict[str, Any]:
    if signed is None:
        return {"caller": "local"}
    who: dict[str, Any] = {"caller": signed.tenant.name if signed.tenant else signed.holder}
    if signed.user is not None:
        who |= {"issuer": signed.issuer, "subject": signed.subject, "client_id": signed.user.access_token.client_id}
    return who


def _ending(result: types.CallToolResult | types.InputRequiredResult) -> str:
    if isinstance(result, types.InputRequiredResult):
        return "asked_person"
    return "error" if result.is_error else "ok"
