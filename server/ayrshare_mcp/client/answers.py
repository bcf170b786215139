"""Ayrshare's wire format, both ways: how a query is encoded as its SDKs send it, what an answer means (a JSON
object, or an error in its status or its body), and the codes that mean "nothing yet" rather than a failure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx2

from ayrshare_mcp.client.errors import AyrshareAPIError, AyrshareInvalidResponse

JSONObject = dict[str, Any]
QueryValue = str | int | bool | Sequence[str]
# Ayrshare's codes for "there are none" (docs/ayrshare-api.md §1.3, §2): answered as empty listings, not errors.
NO_AUTO_SCHEDULES = 192
HISTORY_NOT_FOUND = 221


def schedule_titles(listing: JSONObject) -> set[str]:
    """The titles in a GET /auto-schedule/list answer: an object keyed by title (the docs), or a list of schedules."""
    schedules = listing.get("schedules")
    if isinstance(schedules, dict):
        return {str(title) for title in schedules}
    if isinstance(schedules, list):
        return {str(item["title"]) for item in schedules if isinstance(item, dict) and "title" in item}
    return set()


def parse_answer(
    status: int,
    content_type: str,
    raw: bytes,
    *,
    status_field_is_outcome: bool = True,
    needs: str = "",
    array_answer: str = "",
) -> JSONObject:
    """Ayrshare's JSON object on success (a JSON array, where the endpoint answers one, as {array_answer: [...]}).

    Raises:
        AyrshareInvalidResponse: the body is not a JSON object.
        AyrshareAPIError: an HTTP error status, or `"status": "error"` in the body (Ayrshare's own error signal)
            where the status field is the call's outcome.
    """
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if array_answer and isinstance(body, list) and status < 400:
        body = {array_answer: body}
    if not isinstance(body, dict):
        raise AyrshareInvalidResponse(status, content_type)
    if status >= 400 or (status_field_is_outcome and body.get("status") == "error"):
        raise AyrshareAPIError(status, body, needs=needs)
    return body


def encode_query(query: Mapping[str, QueryValue]) -> httpx2.QueryParams:
    """Encode lists as `name[0]=a&name[1]=b`, the form Ayrshare's own SDKs send."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in query.items():
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, str | int):
            pairs.append((name, str(value)))
        else:
            pairs.extend((f"{name}[{index}]", item) for index, item in enumerate(value))
    return httpx2.QueryParams(pairs)
