"""The OAuth test rig on its own: a real authorization server (oidc-provider) and the official MCP SDK's OAuth client
against a minimal test-only MCP resource server, before this server's own resource-server side is tested with it.

Behind `-m hosting`: each test starts Node (tests/node-tools.sh installs it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import httpx2
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from ayrshare_mcp.emulator import bind
from tests.authorization_server import (
    MACHINE,
    SCOPES,
    AuthorizationServer,
    AuthorizationServerError,
    MemoryTokenStorage,
    authorization_server,
)

pytestmark = pytest.mark.hosting

WAIT = 10


class JwtVerifier:
    """A resource server's check of the AS's JWTs, as small as it can be: signature (the JWKS, fetched again for an
    unknown key), issuer, audience and expiry."""

    def __init__(self, auth: AuthorizationServer, resource: str) -> None:
        self.auth = auth
        self.resource = resource
        self.keys: dict[str, jwt.PyJWK] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            if kid not in self.keys:
                async with httpx2.AsyncClient() as http:
                    published = jwt.PyJWKSet.from_dict((await http.get(self.auth.jwks_uri)).json())
                self.keys = {str(key.key_id): key for key in published.keys}
            claims = jwt.decode(
                token, self.keys[kid], algorithms=["RS256"], audience=self.resource, issuer=self.auth.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )  # fmt: skip
        except (jwt.PyJWTError, KeyError):
            return None
        return AccessToken(
            token=token,
            client_id=claims["client_id"],
            scopes=claims.get("scope", "").split(),
            expires_at=claims["exp"],
            resource=claims["aud"],
            subject=claims["sub"],
            claims=claims,
        )


@asynccontextmanager
async def resource_server(
    auth: AuthorizationServer, sock: socket.socket, *, advertised: list[str] | None = None
) -> AsyncIterator[str]:
    """A test-only MCP server on `sock` that trusts `auth`, with one tool that says who called; yields its URL.

    `advertised`: the scopes its metadata lists, which the SDK's AuthSettings also requires of every token."""
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    settings = AuthSettings(
        issuer_url=auth.issuer, resource_server_url=url, validate_token_resource=True, required_scopes=advertised
    )
    server: MCPServer[Any] = MCPServer("resource", token_verifier=JwtVerifier(auth, url), auth=settings)

    @server.tool()
    def whoami() -> str:
        """The caller's subject, scopes and groups."""
        caller = get_access_token()
        assert caller is not None
        assert caller.claims is not None
        return json.dumps({"sub": caller.subject, "scopes": caller.scopes, "groups": caller.claims.get("groups")})

    serving = uvicorn.Server(uvicorn.Config(server.streamable_http_app(), log_config=None, access_log=False))
    async with anyio.create_task_group() as tg:
        tg.start_soon(serving.serve, [sock])
        yield url
        serving.should_exit = True  # its lifespan ends cleanly: a cancelled one logs a traceback


async def whoami(http: httpx2.AsyncClient, url: str) -> dict[str, Any]:
    async with Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error, result
    return dict(json.loads(result.content[0].text))  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_the_sdk_client_registers_signs_in_calls_a_tool_and_refreshes_against_the_real_server() -> None:
    with bind() as sock:
        resource = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        groups = {"alice": {"groups": ["agency", "north"]}}
        async with authorization_server(resource=resource, claims=groups) as auth, resource_server(auth, sock) as url:
            alice, storage = auth.person("alice"), MemoryTokenStorage()
            provider = auth.oauth_client(url, alice, storage=storage)
            with anyio.fail_after(WAIT):
                async with httpx2.AsyncClient(auth=provider) as http:
                    assert await whoami(http, url) == {
                        "sub": "alice",
                        "scopes": list(SCOPES),
                        "groups": ["agency", "north"],
                    }
                    first = storage.tokens
                    assert first is not None
                    assert first.refresh_token is not None
                    # An hour later, as far as the client knows: its access token has run out.
                    provider.context.token_expiry_time = time.time() - 3600
                    assert (await whoami(http, url))["sub"] == "alice"
    assert storage.client_info is not None
    assert storage.client_info.client_id
    assert storage.tokens is not None
    assert storage.tokens.access_token != first.access_token
    assert alice.sign_ins == 1  # refreshed, not signed in again


@pytest.mark.anyio
async def test_the_sdk_client_signs_in_with_a_client_id_metadata_document_instead_of_registering() -> None:
    with bind() as sock:
        resource = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        async with authorization_server(resource=resource) as auth, resource_server(auth, sock) as url:
            client_id = auth.documents.publish("claude-like")
            storage = MemoryTokenStorage()
            provider = auth.oauth_client(url, auth.person("bob"), client_id_document=client_id, storage=storage)
            with anyio.fail_after(WAIT):
                async with httpx2.AsyncClient(auth=provider) as http:
                    assert (await whoami(http, url))["sub"] == "bob"
            assert auth.documents.fetches >= 1
    assert storage.client_info is not None
    assert storage.client_info.client_id == client_id


@pytest.mark.anyio
async def test_a_person_who_may_only_read_grants_only_read_whatever_the_client_asks() -> None:
    with bind() as sock:
        resource = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        async with authorization_server(resource=resource) as auth, resource_server(auth, sock) as url:
            reader = auth.person("carol", scopes=["ayrshare:read"])
            with anyio.fail_after(WAIT):
                async with httpx2.AsyncClient(auth=auth.oauth_client(url, reader)) as http:
                    assert (await whoami(http, url))["scopes"] == ["ayrshare:read"]


@pytest.mark.anyio
async def test_client_credentials_give_a_jwt_for_the_resource_with_the_scopes_asked_and_allowed() -> None:
    resource = "https://mcp.example.test/mcp"
    claims = {MACHINE: {"groups": ["robots"]}}
    async with authorization_server(claims=claims, machine_scopes=["ayrshare:read", "ayrshare:publish"]) as auth:
        with anyio.fail_after(WAIT):
            token = await auth.client_credentials_token(["ayrshare:read"], resource)
            async with httpx2.AsyncClient() as http:
                keys = jwt.PyJWKSet.from_dict((await http.get(auth.jwks_uri)).json())
            with pytest.raises(AuthorizationServerError, match="invalid_scope"):
                await auth.client_credentials_token(["ayrshare:delete"], resource)
    key = keys[jwt.get_unverified_header(token.access_token)["kid"]]
    claims_seen = jwt.decode(token.access_token, key, algorithms=["RS256"], audience=resource, issuer=auth.issuer)
    assert claims_seen["scope"] == "ayrshare:read"
    assert token.scopes == {"ayrshare:read"}
    assert claims_seen["sub"] == claims_seen["client_id"] == MACHINE
    assert claims_seen["groups"] == ["robots"]
    assert jwt.get_unverified_header(token.access_token)["typ"] == "at+jwt"


@pytest.mark.anyio
async def test_an_opaque_token_is_active_to_introspection_until_it_is_revoked() -> None:
    resource = "https://mcp.example.test/mcp"
    async with authorization_server(resource=resource, token_format="opaque") as auth:
        with anyio.fail_after(WAIT):
            token = await auth.client_credentials_token(["ayrshare:read", "ayrshare:write"])
            with pytest.raises(jwt.DecodeError):
                jwt.get_unverified_header(token.access_token)
            with pytest.raises(AuthorizationServerError, match="invalid_client"):
                await auth.introspect(token.access_token, client=auth.introspection_client.__class__("nobody", "x"))
            active = await auth.introspect(token.access_token)
            await auth.revoke(token.access_token)
            revoked = await auth.introspect(token.access_token)
    assert active["active"] is True
    assert (active["aud"], active["iss"], active["client_id"]) == (resource, auth.issuer, MACHINE)
    assert set(active["scope"].split()) == {"ayrshare:read", "ayrshare:write"}
    assert revoked == {"active": False}


@pytest.mark.anyio
async def test_a_forged_token_carries_the_issuers_signature_and_whatever_the_attack_needs() -> None:
    async with authorization_server() as auth:
        forged = auth.mint({"sub": "mallory", "aud": "https://elsewhere.test"})
        expired = auth.mint({"sub": "mallory", "aud": "https://elsewhere.test"}, lifetime=timedelta(minutes=-5))
        async with httpx2.AsyncClient() as http:
            keys = jwt.PyJWKSet.from_dict((await http.get(auth.jwks_uri)).json())
    key = keys[jwt.get_unverified_header(forged)["kid"]]
    claims = jwt.decode(forged, key, algorithms=["RS256"], audience="https://elsewhere.test", issuer=auth.issuer)
    assert claims["sub"] == "mallory"
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, key, algorithms=["RS256"], audience="https://elsewhere.test")
    assert auth.public_key_pem == key.key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


async def published_kids(auth: AuthorizationServer) -> list[str]:
    async with httpx2.AsyncClient() as http:
        return [key["kid"] for key in (await http.get(auth.jwks_uri)).json()["keys"]]


@pytest.mark.anyio
async def test_after_a_key_rotation_the_server_signs_with_the_new_key_and_sign_ins_and_refresh_tokens_live_on() -> None:
    with bind() as sock:
        resource = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        async with authorization_server(resource=resource) as auth, resource_server(auth, sock) as url:
            first_kid, dave, storage = auth.kid, auth.person("dave"), MemoryTokenStorage()
            provider = auth.oauth_client(url, dave, storage=storage)
            with anyio.fail_after(WAIT):
                async with httpx2.AsyncClient(auth=provider) as http:
                    await whoami(http, url)
                    both = await auth.rotate_keys(keep_previous=True)
                    published_both = await published_kids(auth)
                    only = await auth.rotate_keys()
                    published_only = await published_kids(auth)
                    provider.context.token_expiry_time = time.time() - 3600
                    assert (await whoami(http, url))["sub"] == "dave"
            machine_token = await auth.client_credentials_token(resource=resource)
    assert published_both == [both, first_kid]
    assert published_only == [only]
    assert storage.tokens is not None
    assert jwt.get_unverified_header(storage.tokens.access_token)["kid"] == only  # refreshed after both rotations
    assert dave.sign_ins == 1
    assert jwt.get_unverified_header(machine_token.access_token)["kid"] == only


@pytest.mark.anyio
async def test_claims_set_while_the_server_runs_go_into_the_next_tokens() -> None:
    async with authorization_server(claims={MACHINE: {"groups": ["before"]}}) as auth:
        with anyio.fail_after(WAIT):
            before = await auth.client_credentials_token(resource="https://mcp.example.test/mcp")
            await auth.set_claims(MACHINE, {"groups": ["after"]})
            after = await auth.client_credentials_token(resource="https://mcp.example.test/mcp")
    assert jwt.decode(before.access_token, options={"verify_signature": False})["groups"] == ["before"]
    assert jwt.decode(after.access_token, options={"verify_signature": False})["groups"] == ["after"]


@pytest.mark.anyio
async def test_the_rig_fails_the_test_with_the_servers_stderr_when_the_server_dies() -> None:
    with pytest.raises(BaseExceptionGroup) as raised:  # noqa: PT012
        async with authorization_server() as auth:
            os.kill(auth.pid, signal.SIGKILL)
            with anyio.fail_after(WAIT):
                await anyio.sleep_forever()  # until the rig notices
    assert raised.group_contains(AuthorizationServerError, match="died")


@pytest.mark.anyio
async def test_the_sdk_machine_client_gets_the_scopes_the_resource_advertises_not_the_ones_it_names() -> None:
    # The SDK asks for the resource's scopes_supported (or, without them, the AS's: openid too, which a machine
    # client may not hold, so the token request fails with invalid_scope); its scope= argument is overwritten.
    with bind() as sock:
        resource = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        async with (
            authorization_server(resource=resource) as auth,
            resource_server(auth, sock, advertised=["ayrshare:read"]) as url,
        ):
            machine = ClientCredentialsOAuthProvider(
                url,
                MemoryTokenStorage(),
                auth.machine.client_id,
                auth.machine.client_secret,
                scope="ayrshare:publish",
                issuer=auth.issuer,
            )
            with anyio.fail_after(WAIT):
                async with httpx2.AsyncClient(auth=machine) as http:
                    seen = await whoami(http, url)
    assert seen == {"sub": MACHINE, "scopes": ["ayrshare:read"], "groups": None}
