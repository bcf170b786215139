"""Ayrshare's endpoints as this client calls them: each one's method and path, whether sending it twice is harmless,
and how to check on one whose answer was lost. Every request the client sends is one of `ENDPOINTS`.

A new endpoint is one more constant below; `ENDPOINTS` (which the tests read to know every request the client may
send) is derived from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

HOW_TO_CHECK_A_DELETE = "Check post history with status=deleted to see whether it was deleted before trying again."
HOW_TO_CHECK_A_POST = (
    "Look for the post in post history (or get it by id) before trying again; a repeat with the same idempotencyKey "
    "is refused by Ayrshare, so it cannot go out twice."
)
HOW_TO_CHECK_A_CHANGE = "Get the post by id to see whether the change was made before trying again."


@dataclass(frozen=True)
class Endpoint:
    """One Ayrshare endpoint: its method, its path under the base URL ("{id}" is filled in per request), and
    whether sending a request to it twice is harmless."""

    method: str
    path: str
    # Whether a request can change anything at Ayrshare or on a network (what read-only tools may not send).
    changes: bool = True
    repeatable: bool = True
    # For endpoints that are not repeatable: how to find out whether an unanswered request happened.
    how_to_check: str = ""
    # Whether `"status": "error"` in a 200 answer means the call failed. Not for a post, whose own status it is.
    status_field_is_outcome: bool = True

    def __call__(
        self, *, json: Mapping[str, Any] | None = None, params: httpx2.QueryParams | None = None, **path: str
    ) -> Operation:
        """One request to this endpoint."""
        return Operation(self, self.path.format(**path), json, params)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (its path under the base URL) is one to this endpoint."""
        mine, theirs = self.path.split("/"), path.split("/")
        same_shape = len(mine) == len(theirs) and all(
            part == given or (part.startswith("{") and bool(given)) for part, given in zip(mine, theirs, strict=True)
        )
        return method == self.method and same_shape

    @property
    def under_post_quota(self) -> bool:
        """Whether Ayrshare refuses it once the monthly post quota is spent: posts, their gets, deletes and retries,
        and analytics."""
        return self.path == "post" or self.path.startswith(("post/", "analytics/"))


@dataclass(frozen=True)
class Operation:
    """One request to an endpoint."""

    endpoint: Endpoint
    path: str
    json: Mapping[str, Any] | None = None
    params: httpx2.QueryParams | None = None

    @property
    def method(self) -> str:
        return self.endpoint.method

    @property
    def name(self) -> str:
        return f"{self.method} /{self.endpoint.path}"


LIST_AUTO_SCHEDULES = Endpoint("GET", "auto-schedule/list", changes=False)
# Setting a schedule is an upsert: the same body twice leaves the same schedule.
SET_AUTO_SCHEDULE = Endpoint("POST", "auto-schedule/set")
DELETE_AUTO_SCHEDULE = Endpoint(
    "DELETE",
    "auto-schedule/delete",
    repeatable=False,
    how_to_check="List the auto schedules to see whether it is gone before trying again.",
)
HISTORY = Endpoint("GET", "history", changes=False)
DELETE_POST = Endpoint("DELETE", "post", repeatable=False, how_to_check=HOW_TO_CHECK_A_DELETE)
# Never repeated once it may have reached Ayrshare: a post must go out at most once.
CREATE_POST = Endpoint("POST", "post", repeatable=False, how_to_check=HOW_TO_CHECK_A_POST)
VALIDATE_POST = Endpoint("POST", "validate/post", changes=False)
# A failed post answers 200 with its own "status": "error".
GET_POST = Endpoint("GET", "post/{id}", changes=False, status_field_is_outcome=False)
# PUT, as both of Ayrshare's SDKs send it (the docs now also show PATCH). An approval publishes: not repeated.
UPDATE_POST = Endpoint("PUT", "post", repeatable=False, how_to_check=HOW_TO_CHECK_A_CHANGE)
RETRY_POST = Endpoint("PUT", "post/retry", repeatable=False, how_to_check=HOW_TO_CHECK_A_CHANGE)
USER = Endpoint("GET", "user", changes=False)
PROFILES = Endpoint("GET", "profiles", changes=False)

ENDPOINTS: tuple[Endpoint, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Endpoint))
