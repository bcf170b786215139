"""Hosted for a team, end to end: this server as an OAuth resource server in front of a real, OpenID-certified
authorization server (oidc-provider, `tests/authorization_server`), driven by the official MCP SDK's OAuth client,
and the attacks on it.

Behind `-m hosting`: each test starts Node (tests/node-tools.sh installs it). The forged-token attacks also run in
the default suite against a stand-in issuer (`test_signin.py`); here they meet the real issuer's tokens and keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client

from ayrshare_mcp.emulator import bind
from tests.authorization_server import MACHINE, AuthorizationServer, MemoryTokenStorage, Person, authorization_server
from tests.envelope import envelope_of, fail, succeed
from tests.modern import ACCEPT, LIST_TOOLS
from tests.support import CANARY, PROFILE_KEY, TOKEN, RunningEmulator, client_from, server_env, serving_here
from tests.team import GLOBEX_KEY, KEYS, person, static_token_holder, tenants_file

pytestmark = [pytest.mark.hosting, pytest.mark.anyio]

WAIT = 15
HISTORY = "AYRSHARE_GET_POST_HISTORY"
DELETE = "AYRSHARE_DELETE_DELETE_POST"


def the_team(folder: Path, issuer: str) -> Path:
    return tenants_file(
        folder,
        person("alice", issuer, ["acme-corp"]),
        person("machines", issuer, ["globex-inc"], subject=MACHINE),
        static_token_holder(["acme-corp"]),
    )


@dataclass
class Team:
    url: str
    auth: AuthorizationServer

    @property
    def resource(self) -> str:
        return self.url + "/mcp"


@asynccontextmanager
async def hosted(
    emulator: RunningEmulator,
    folder: Path,
    *,
    token_format: Literal["jwt", "opaque"] = "jwt",  # noqa: S107 - a token's format, not a token
    replicas: int = 1,
) -> AsyncIterator[list[Team]]:
    """The authorization server and `replicas` servers trusting it, each with the same tenants file; one resource
    URL (the first server's), as replicas behind one name share it."""
    with bind() as first:
        resource = f"http://127.0.0.1:{first.getsockname()[1]}/mcp"
        async with authorization_server(resource=resource, token_format=token_format) as auth:
            env = server_env(
                emulator,
                folder,
                AYRSHARE_MCP_OAUTH_ISSUER=auth.issuer,
                AYRSHARE_MCP_OAUTH_RESOURCE=resource,
                AYRSHARE_MCP_OAUTH_CLIENT_ID=auth.introspection_client.client_id,
                AYRSHARE_MCP_OAUTH_CLIENT_SECRET=auth.introspection_client.client_secret,
                AYRSHARE_MCP_TOKEN=TOKEN,
                AYRSHARE_MCP_STATE_SECRET="CANARY-STATE-SECRET-0123456789abcdef0123456789",
                **KEYS,
            )
            tenants = str(the_team(folder, auth.issuer))
            args = ["--transport", "streamable-http", "--auth", "oauth", "--tenants", tenants, "--toolsets", "core"]
            async with serving_here(args, env, sock=first) as (_, url, _):
                teams = [Team(url, auth)]
                if replicas == 1:
                    yield teams
                    return
                async with serving_here(args, env) as (_, other, _):
                    yield [*teams, Team(other, auth)]


@asynccontextmanager
async def signed_in_as(team: Team, person: Person) -> AsyncIterator[Client]:
    """An SDK client session on `team`'s server, signed in as `person` through the SDK's OAuth client."""
    provider = team.auth.oauth_client(team.resource, person)
    async with (
        httpx2.AsyncClient(auth=provider) as http,
        Client(streamable_http_client(team.resource, http_client=http)) as client,
    ):
        yield client


async def tools_and_history(http: httpx2.AsyncClient, url: str, arguments: dict[str, Any]) -> tuple[set[str], Any]:
    async with Client(streamable_http_client(url, http_client=http)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        return names, await succeed(client, HISTORY, arguments)


async def test_a_person_signs_in_with_the_sdk_oauth_client_and_acts_for_their_profile_by_name(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    emulator.seed_post(profile_key=PROFILE_KEY, text="Acme news")
    async with hosted(emulator, tmp_path) as (team,):
        alice, storage = team.auth.person("alice"), MemoryTokenStorage()
        provider = team.auth.oauth_client(team.resource, alice, storage=storage)
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient(auth=provider) as http:
                names, data = await tools_and_history(http, team.resource, {"Profile-Key": "acme-corp"})
                provider.context.token_expiry_time = time.time() - 3600  # an hour on: the client refreshes
                _, again = await tools_and_history(http, team.resource, {})

    assert DELETE in names
    assert [post["post"] for post in data["history"]] == [post["post"] for post in again["history"]] == ["Acme news"]
    assert {request.headers.get("profile-key") for request in emulator.app.requests} == {PROFILE_KEY}
    assert alice.sign_ins == 1


async def test_a_client_registered_by_its_metadata_document_signs_in_too(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path) as (team,):
        document = team.auth.documents.publish("claude-like", redirect_uris=["http://127.0.0.1:33418/callback"])
        alice = team.auth.person("alice")
        provider = team.auth.oauth_client(team.resource, alice, client_id_document=document)
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient(auth=provider) as http:
                await tools_and_history(http, team.resource, {})

    assert team.auth.documents.fetches >= 1


async def test_a_person_granted_only_read_sees_only_read_tools_and_a_delete_names_the_missing_scope(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path) as (team,):
        reader = team.auth.person("alice", scopes=["ayrshare:read"])
        with anyio.fail_after(WAIT):
            async with signed_in_as(team, reader) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                with pytest.raises(Exception, match="ayrshare:delete"):
                    await client.call_tool(DELETE, {"id": "post-1"})

    assert HISTORY in names
    assert DELETE not in names
    # Challenged for the scope, the client sent her to sign in again; she still granted read only.
    assert reader.sign_ins == 2
    assert emulator.app.received("/post", method="DELETE") == []


async def test_a_person_who_grants_more_when_challenged_goes_on_without_starting_over(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path) as (team,):
        alice = team.auth.person("alice", scopes=["ayrshare:read"])
        with anyio.fail_after(WAIT):
            async with signed_in_as(team, alice) as client:
                before = {tool.name for tool in (await client.list_tools()).tools}
                alice.scopes = None  # at the second sign-in she grants what the client asks
                result = await client.call_tool(DELETE, {"id": "post-1"})
                after = {tool.name for tool in (await client.list_tools()).tools}

    assert DELETE not in before
    assert DELETE in after
    assert alice.sign_ins == 2
    # The call went on to the tool itself: a result, about the post, not a refusal for want of a scope.
    assert "scope" not in envelope_of(result).get("error", "")


async def test_a_machine_client_signs_in_with_client_credentials_and_acts_for_its_entry(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path) as (team,):
        machine = ClientCredentialsOAuthProvider(
            server_url=team.resource,
            storage=MemoryTokenStorage(),
            client_id=team.auth.machine.client_id,
            client_secret=team.auth.machine.client_secret,
            issuer=team.auth.issuer,
        )
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient(auth=machine) as http:
                await tools_and_history(http, team.resource, {})

    assert emulator.app.requests[-1].headers.get("profile-key") == GLOBEX_KEY


async def test_a_profile_outside_the_persons_list_is_refused_and_nothing_is_sent(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path) as (team,):
        with anyio.fail_after(WAIT):
            async with signed_in_as(team, team.auth.person("alice")) as client:
                envelope = await fail(client, HISTORY, {"Profile-Key": "globex-inc"})

    assert "acme-corp" in envelope["error"]
    assert CANARY not in json.dumps(envelope)
    assert emulator.app.requests == []


# --- the attacks, with the real issuer's tokens and keys ---------------------------------------------------------


def hs256(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    """`claims` signed HS256 with `secret`, by hand: PyJWT refuses to use a public key as an HMAC secret."""
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signed = header + b"." + payload
    return (signed + b"." + jwt.utils.base64url_encode(hmac.new(secret, signed, hashlib.sha256).digest())).decode()


def unsigned(claims: dict[str, Any], kid: str) -> str:
    header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
    return (header + b"." + jwt.utils.base64url_encode(json.dumps(claims).encode()) + b".").decode()


def alices(team: Team, **claims: Any) -> dict[str, Any]:
    return {"sub": "alice", "aud": team.resource, "scope": "ayrshare:read", "client_id": "c", **claims}


async def status_with(team: Team, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", **ACCEPT}
    async with client_from(None) as http:
        return (await http.post(team.resource, json=LIST_TOOLS, headers=headers)).status_code


async def test_tokens_the_real_issuer_signed_wrongly_for_this_server_and_forgeries_are_refused(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path) as (team,), authorization_server() as stranger:
        auth = team.auth
        now = datetime.now(UTC)
        claims = alices(team, iat=int(now.timestamp()), exp=int((now + timedelta(minutes=5)).timestamp()))
        refused = {
            "another audience": (await auth.client_credentials_token(resource="http://127.0.0.1:9/mcp")).access_token,
            "expired": auth.mint(alices(team), lifetime=timedelta(seconds=-5)),
            "not yet valid": auth.mint(alices(team, nbf=now + timedelta(minutes=10))),
            "an unknown kid": auth.mint(alices(team), headers={"kid": "never-published"}),
            "another issuer": stranger.mint(alices(team, iss=stranger.issuer)),
            "alg none": unsigned(claims, auth.kid),
            "key confusion": hs256(auth.public_key_pem, claims, auth.kid),
            "the static token as an HMAC key": hs256(TOKEN.encode(), claims, auth.kid),
            "the static token's characters in a JWT": TOKEN + ".e30.x",
        }
        statuses = {what: await status_with(team, token) for what, token in refused.items()}
        good = await status_with(team, auth.mint(alices(team)))

    assert statuses == dict.fromkeys(refused, 401)
    assert good == 200


async def test_a_rotated_signing_key_is_fetched_on_its_first_token(emulator: RunningEmulator, tmp_path: Path) -> None:
    async with hosted(emulator, tmp_path) as (team,):
        assert await status_with(team, team.auth.mint(alices(team))) == 200
        await team.auth.rotate_keys()

        assert await status_with(team, team.auth.mint(alices(team))) == 200


async def test_a_revoked_opaque_token_is_refused_by_every_replica_at_once(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with hosted(emulator, tmp_path, token_format="opaque", replicas=2) as (first, second):
        token = (await first.auth.client_credentials_token(resource=first.resource)).access_token
        before = [await status_with(replica, token) for replica in (first, second)]
        await first.auth.revoke(token)
        after = [await status_with(replica, token) for replica in (first, second)]

    assert before == [200, 200]
    assert after == [401, 401]


async def test_the_static_token_still_works_beside_oauth_for_scripts(emulator: RunningEmulator, tmp_path: Path) -> None:
    async with (
        hosted(emulator, tmp_path) as (team,),
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        Client(streamable_http_client(team.resource, http_client=http)) as client,
    ):
        envelope = envelope_of(await client.call_tool(HISTORY, {}))

    assert envelope["successful"] is True
    assert emulator.app.requests[-1].headers.get("profile-key") == PROFILE_KEY
