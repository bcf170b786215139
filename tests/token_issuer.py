"""A stand-in authorization server for the default suite: its metadata, its key set and an introspection endpoint,
served on loopback in the test's process, and tokens minted with PyJWT as a real one signs them.

It lets attack tests forge what a real authorization server never would (`alg: none`, a token signed with the
static token as an HMAC key, a key the server dropped). The whole flow against a real, certified authorization
server is `tests/authorization_server` (-m hosting).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.emulator import bind

RESOURCE = "https://mcp.example.test/mcp"
INTROSPECTION_CLIENT = ("ayrshare-mcp", "CANARY-INTROSPECTION-SECRET-8d1f")
ALL_SCOPES = " ".join(scopes.ALL)


@dataclass
class SigningKey:
    kid: str
    private: Any
    algorithm: str

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[self.algorithm].to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}


def rsa_key(kid: str = "rsa-1") -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


def ec_key(kid: str = "ec-1") -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


@dataclass
class TokenIssuer:
    """The stand-in's state: its issuer URL, the keys it publishes, the opaque tokens it knows, what it was asked."""

    issuer: str
    keys: list[SigningKey] = field(default_factory=lambda: [rsa_key()])
    opaque: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks_fetches: int = 0
    introspections: int = 0

    def token(
        self,
        subject: str = "alice",
        *,
        scope: str = ALL_SCOPES,
        audience: str | list[str] = RESOURCE,
        issuer: str | None = None,
        expires_in: float = 300,
        not_before: float | None = None,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A JWT access token as the authorization server issues them (RFC 9068), signed with its first key."""
        now = time.time()
        payload = {
            "iss": issuer or self.issuer,
            "sub": subject,
            "aud": audience,
            "scope": scope,
            "client_id": "test-client",
            "iat": int(now),
            "exp": int(now + expires_in),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        if not_before is not None:
            payload["nbf"] = int(now + not_before)
        signer = key or self.keys[0]
        return jwt.encode(payload, signer.private, signer.algorithm, headers={"kid": signer.kid, **(headers or {})})

    def opaque_token(self, subject: str = "alice", *, scope: str = ALL_SCOPES, audience: str = RESOURCE) -> str:
        token = "opaque-" + uuid.uuid4().hex
        now = int(time.time())
        self.opaque[token] = {"sub": subject, "scope": scope, "aud": audience, "exp": now + 300, "client_id": "c"}
        return token

    def app(self) -> Starlette:
        async def metadata(_: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "jwks_uri": f"{self.issuer}/jwks",
                    "introspection_endpoint": f"{self.issuer}/introspect",
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "response_types_supported": ["code"],
                }
            )

        async def jwks(_: Request) -> Response:
            self.jwks_fetches += 1
            return JSONResponse({"keys": [key.public_jwk() for key in self.keys]})

        async def introspect(request: Request) -> Response:
            self.introspections += 1
            expected = "Basic " + base64.b64encode(":".join(INTROSPECTION_CLIENT).encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            token = (await request.form()).get("token")
            known = self.opaque.get(token) if isinstance(token, str) else None
            return JSONResponse({"active": True, **known} if known else {"active": False})

        return Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", metadata),
                Route("/jwks", jwks),
                Route("/introspect", introspect, methods=["POST"]),
            ]
        )


@asynccontextmanager
async def token_issuer() -> AsyncIterator[TokenIssuer]:
    """The stand-in, serving on a loopback port until the block ends."""
    with bind() as sock:
        issuer = TokenIssuer(f"http://127.0.0.1:{sock.getsockname()[1]}")
        server = uvicorn.Server(uvicorn.Config(issuer.app(), log_config=None, access_log=False))
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            yield issuer
            tg.cancel_scope.cancel()
