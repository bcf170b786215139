"""Who a request's bearer token says is calling: set by the HTTP sign-in (`transports.signin`), read by the server
for each call (which tools, which keys, whose confirmation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

from ayrshare_mcp.auth.tenants import Tenant

SIGNED_IN = "ayrshare_mcp.signed_in"


@dataclass(frozen=True)
class SignedIn:
    """Who a request's bearer token says is calling, and what they may do.

    `holder` names them for quotas and session ownership; `user` is a verified OAuth token (the SDK binds sessions
    and confirmations to its client, issuer and subject), None for the static token's holder; `tenant` is their
    entry in the tenants file, if there is one.
    """

    holder: str
    scopes: frozenset[str]
    user: AuthenticatedUser | None = field(default=None, repr=False)
    tenant: Tenant | None = None

    @property
    def issuer(self) -> str | None:
        claims = self.user.access_token.claims if self.user else None
        issuer = (claims or {}).get("iss")
        return issuer if isinstance(issuer, str) else None

    @property
    def subject(self) -> str | None:
        return self.user.access_token.subject if self.user else None


def signed_in_of(scope: Mapping[str, Any]) -> SignedIn | None:
    signed = scope.get(SIGNED_IN)
    return signed if isinstance(signed, SignedIn) else None
