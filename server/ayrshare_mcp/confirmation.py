"""Asking the user before an irreversible bulk delete, on whichever protocol era the client speaks.

On the 2025 handshake era the server sends `elicitation/create` mid-call. On 2026-07-28 there is no back-channel:
the call answers `InputRequiredResult` with the question, and the client calls again with the answer. A client that
cannot elicit is not asked; the host's own confirmation for destructive tools applies then.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ayrshare_mcp.tools.spec import Confirm

ANSWER_KEY = "confirm"
QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        ANSWER_KEY: {
            "type": "boolean",
            "title": "Yes, delete",
            "description": "Deleted posts cannot be restored.",
        }
    },
    "required": [ANSWER_KEY],
}


def confirmer(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> Confirm:
    """How to ask this call's user a yes/no question: True means go ahead."""

    async def confirm(question: str) -> bool | types.InputRequiredResult:
        if not _can_elicit(ctx.session.client_capabilities):
            return True
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return _answer_from_retry(params, question)
        if not ctx.session.can_send_request:
            return True
        answer = await ctx.session.elicit_form(question, QUESTION_SCHEMA, related_request_id=ctx.request_id)
        return _accepted(answer)

    return confirm


def _can_elicit(capabilities: types.ClientCapabilities | None) -> bool:
    elicitation = capabilities.elicitation if capabilities else None
    # An empty elicitation capability means form mode, per the spec.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _answer_from_retry(params: types.CallToolRequestParams, question: str) -> bool | types.InputRequiredResult:
    asked = _fingerprint(params, question)
    answer = (params.input_responses or {}).get(ANSWER_KEY)
    if isinstance(answer, types.ElicitResult) and params.request_state == asked:
        return _accepted(answer)
    # Not asked yet, or asked about other arguments: ask (again), bound to exactly these arguments.
    request = types.ElicitRequest(
        params=types.ElicitRequestFormParams(message=question, requested_schema=QUESTION_SCHEMA)
    )
    return types.InputRequiredResult(input_requests={ANSWER_KEY: request}, request_state=asked)


def _fingerprint(params: types.CallToolRequestParams, question: str) -> str:
    canonical = json.dumps([params.name, params.arguments or {}, question], sort_keys=True, default=str)
    return "confirm-v1:" + hashlib.sha256(canonical.encode()).hexdigest()


def _accepted(answer: types.ElicitResult) -> bool:
    return answer.action == "accept" and (answer.content or {}).get(ANSWER_KEY) is True
