"""An Ayrshare endpoint as this client calls it: its method and path, whether a request to it can change anything,
whether sending it twice is harmless, and how to check on one whose answer was lost. The endpoints themselves are
declared beside the operations that call them, in `account`.
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
    # The plan or add-on the endpoint needs beyond the basic plan, as the user would buy it, e.g. "the Premium plan or
    # higher": a refusal names it, since Ayrshare's own answer for a missing feature varies (402, 403, a code).
    needs: str = ""
    # The name a bare JSON array answer is given ({name: [...]}), for an endpoint documented to answer one.
    array_answer: str = ""

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
