"""Signing in over HTTP with OAuth, and the tenants file: each person sees and calls only what their token's scopes
and their entry allow, acts only for their own profiles, by name, and never handles a key.

Every attack on a token is here as a test (another audience, expired, not yet valid, `alg: none`, key confusion, an
unknown kid, another issuer, the static token as a JWT's HMAC key), run against the server as the command line
composes it, in this process, with the stand-in authorization server of `tests/token_issuer.py`. The same flow
against a real authorization server is `test_hosting.py` (-m hosting).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from mcp import MCPError

from ayrshare_mcp.access import AccessError
from ayrshare_mcp.auth import scopes
from ayrshare_mcp.tools import served
from ayrshare_mcp.transports.signin import MAX_FAILED_SIGN_INS
from tests.envelope import call, fail, succeed
from tests.modern import ACCEPT, LIST_TOOLS, RawModernClient, the_question_was_asked
from tests.support import (
    API_KEY,
    CANARY,
    PROFILE_KEY,
    TOKEN,
    Log,
    RunningEmulator,
    client_from,
    http_session,
    memory_client,
    one_emulator_per_module,
    run_cli,
    server_env,
    serving_here,
    settings_for,
)
from tests.team import GLOBEX_KEY, KEYS, person, static_token_holder, tenants_file
from tests.test_confirmations import deletes
from tests.token_issuer import ALL_SCOPES, RESOURCE, TokenIssuer, rsa_key, token_issuer

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
DELETE = "AYRSHARE_DELETE_DELETE_POST"
LIST_PROFILES = "AYRSHARE_LIST_PROFILES"
TOOLSETS = "core,account,analytics,comments"


def the_team(folder: Path, issuer: str) -> Path:
    return tenants_file(
        folder,
        person("alice", issuer, ["acme-corp", "main-brand"]),
        person("social-team", issuer, ["globex-inc", "acme-corp"], group="social"),
        static_token_holder(["main-brand"], scopes=["ayrshare:read"]),
    )


@dataclass
class Hosted:
    url: str
    issuer: TokenIssuer
    log: Log
    http: httpx2.AsyncClient

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


anyio_backend, emulator = one_emulator_per_module()


@pytest.fixture(scope="module")
async def hosted(module_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hosted]:
    async with token_issuer() as issuer, hosted_on(module_emulator, tmp_path_factory.mktemp("team"), issuer) as up:
        yield up


@asynccontextmanager
async def hosted_on(
    emulator: RunningEmulator, folder: Path, issuer: TokenIssuer, transport: str = "streamable-http"
) -> AsyncIterator[Hosted]:
    """The server as the team runs it: OAuth from `issuer`, the team's tenants file, the static token beside."""
    env = server_env(
        emulator,
        folder,
        AYRSHARE_MCP_OAUTH_ISSUER=issuer.issuer,
        AYRSHARE_MCP_OAUTH_RESOURCE=RESOURCE,
        AYRSHARE_MCP_OAUTH_CLIENT_ID="ayrshare-mcp",
        AYRSHARE_MCP_OAUTH_CLIENT_SECRET="CANARY-INTROSPECTION-SECRET-8d1f",
        AYRSHARE_MCP_TOKEN=TOKEN,
        **KEYS,
    )
    tenants = str(the_team(folder, issuer.issuer))
    args = ["--transport", transport, "--auth", "oauth", "--tenants", tenants, "--toolsets", TOOLSETS, "--audit"]
    async with serving_here(args, env) as (_, url, log), client_from(None) as http:
        yield Hosted(url, issuer, log, http)


_ADDRESSES = itertools.count(1)


async def status_with(hosted: Hosted, token: str | None, *, source: str | None = None) -> int:
    """The status of a tools/list sent with `token`, from a loopback address of its own unless `source` is given:
    an address that sends many bad tokens is turned away for a minute, which would spill into the next test."""
    headers = hosted.bearer(token) if token is not None else {}
    number = next(_ADDRESSES)
    async with client_from(source or f"127.1.{number // 250}.{number % 250 + 1}") as http:
        answer = await http.post(hosted.url + "/mcp", json=LIST_TOOLS, headers={**headers, **ACCEPT})
    return answer.status_code


# --- finding where to sign in ------------------------------------------------------------------------------------


async def test_a_request_without_a_token_is_told_where_to_sign_in(hosted: Hosted) -> None:
    answer = await hosted.http.post(hosted.url + "/mcp", json={}, headers=ACCEPT)
    metadata_url = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp"

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == f'Bearer resource_metadata="{metadata_url}"'


async def test_the_protected_resource_metadata_names_the_issuer_and_every_scope(hosted: Hosted) -> None:
    answer = await hosted.http.get(hosted.url + "/.well-known/oauth-protected-resource/mcp")

    assert answer.status_code == 200
    metadata = answer.json()
    assert metadata["resource"] == RESOURCE
    assert metadata["authorization_servers"] == [hosted.issuer.issuer]
    assert metadata["scopes_supported"] == list(scopes.ALL)


async def test_sse_clients_sign_in_the_same_way(hosted: Hosted, emulator: RunningEmulator, tmp_path: Path) -> None:
    async with hosted_on(emulator, tmp_path, hosted.issuer, transport="sse") as sse:
        unsigned = await sse.http.get(sse.url + "/sse", headers={"Accept": "text/event-stream"})
        token = hosted.issuer.token(scope="ayrshare:read")
        async with http_session(sse.url, transport="sse", headers=sse.bearer(token)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}

    assert unsigned.status_code == 401
    assert "resource_metadata=" in unsigned.headers["www-authenticate"]
    assert HISTORY in names
    assert DELETE not in names


# --- tokens that must not pass -----------------------------------------------------------------------------------


async def test_a_good_token_passes(hosted: Hosted) -> None:
    assert await status_with(hosted, hosted.issuer.token()) == 200


def hmac_token(secret: bytes | str, issuer: TokenIssuer) -> str:
    """The issuer's own claims, signed HS256 with `secret` by hand: PyJWT itself refuses to use a public key so."""
    _, payload, _ = issuer.token().split(".")
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.keys[0].kid}).encode())
    signed = header + b"." + payload.encode()
    key = secret.encode() if isinstance(secret, str) else secret
    signature = jwt.utils.base64url_encode(hmac.new(key, signed, hashlib.sha256).digest())
    return (signed + b"." + signature).decode()


def unsigned_token(issuer: TokenIssuer) -> str:
    _, payload, _ = issuer.token().split(".")
    none_header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "kid": issuer.keys[0].kid}).encode())
    return f"{none_header.decode()}.{payload}."


def public_key_pem(issuer: TokenIssuer) -> bytes:
    public = issuer.keys[0].private.public_key()
    pem: bytes = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem


FORGERIES: dict[str, Callable[[TokenIssuer], str]] = {
    "for another audience": lambda issuer: issuer.token(audience="https://other.example.test/mcp"),
    "expired": lambda issuer: issuer.token(expires_in=-5),
    "not yet valid": lambda issuer: issuer.token(not_before=600),
    "issued in the future": lambda issuer: issuer.token(iat=int(time.time()) + 600),
    "from another issuer": lambda issuer: issuer.token(issuer="https://evil.example.test"),
    "signed by another key with a kid it never published": lambda issuer: issuer.token(key=rsa_key("rogue")),
    "signed by another key under a published kid": lambda issuer: issuer.token(key=rsa_key(issuer.keys[0].kid)),
    "with alg none": unsigned_token,
    "HMAC-signed with the issuer's public key (key confusion)": lambda issuer: hmac_token(
        public_key_pem(issuer), issuer
    ),
    "HMAC-signed with the static access token": lambda issuer: hmac_token(TOKEN, issuer),
    "without a subject": lambda issuer: issuer.token(subject=""),
    "that is no token at all": lambda issuer: "not-a-token",
}


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_or_misdirected_token_is_refused(hosted: Hosted, forgery: str) -> None:
    assert await status_with(hosted, FORGERIES[forgery](hosted.issuer)) == 401


async def test_tokens_naming_unknown_keys_refetch_the_key_set_at_most_once_in_a_while(hosted: Hosted) -> None:
    before = hosted.issuer.jwks_fetches
    for n in range(15):
        assert await status_with(hosted, hosted.issuer.token(key=rsa_key(f"made-up-{n}"))) == 401

    assert hosted.issuer.jwks_fetches - before <= 1


async def test_an_opaque_token_passes_while_introspection_says_it_is_active_and_not_after_revocation(
    hosted: Hosted,
) -> None:
    token = hosted.issuer.opaque_token()
    assert await status_with(hosted, token) == 200

    del hosted.issuer.opaque[token]

    assert await status_with(hosted, token) == 401


async def test_a_person_the_tenants_file_does_not_name_gets_403_with_a_message_for_the_operator(hosted: Hosted) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {**hosted.bearer(hosted.issuer.token("mallory")), **ACCEPT}
    answer = await hosted.http.post(hosted.url + "/mcp", json=body, headers=headers)

    assert answer.status_code == 403
    message = answer.json()["error"]["message"]
    assert "mallory" in message
    assert "operator" in message


# --- what a person may do ----------------------------------------------------------------------------------------


async def test_a_person_sees_only_the_tools_their_scopes_allow(hosted: Hosted) -> None:
    token = hosted.issuer.token(scope="ayrshare:read")
    async with http_session(hosted.url, headers=hosted.bearer(token)) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}

    readable = {spec.name for spec in served(tuple(TOOLSETS.split(","))) if spec.scope == scopes.READ}
    assert listed == readable


async def test_a_person_is_offered_only_the_prompts_whose_every_tool_they_may_call(hosted: Hosted) -> None:
    reader, writer = (hosted.issuer.token(scope=scope) for scope in ("ayrshare:read", ALL_SCOPES))
    offered = {}
    for name, token in (("reader", reader), ("writer", writer)):
        async with http_session(hosted.url, headers=hosted.bearer(token)) as client:
            offered[name] = {prompt.name for prompt in (await client.list_prompts()).prompts}
            if name == "reader":
                with pytest.raises(Exception, match="triage_comments"):
                    await client.get_prompt("triage_comments", {})

    assert offered == {"reader": {"weekly_report"}, "writer": {"weekly_report", "triage_comments"}}


async def test_a_call_outside_the_tokens_scopes_is_refused_naming_the_scope_and_nothing_is_sent(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    token = hosted.issuer.token(scope="ayrshare:read")
    async with http_session(hosted.url, headers=hosted.bearer(token)) as client:
        with pytest.raises(Exception, match="ayrshare:delete") as refused:
            await client.call_tool(DELETE, {"id": "post-1"})

    assert "ayrshare:delete scope" in str(refused.value)
    assert emulator.app.requests == []


async def test_a_2026_call_outside_the_tokens_scopes_gets_the_step_up_challenge_before_reaching_mcp(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    token = hosted.issuer.token(scope="ayrshare:read ayrshare:write")
    answer = await RawModernClient(hosted.http, hosted.url, hosted.bearer(token)).call_raw(DELETE, {"id": "post-1"})

    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith(
        'Bearer error="insufficient_scope", scope="ayrshare:delete ayrshare:read ayrshare:write"'
    )
    assert 'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"' in challenge
    assert "ayrshare:delete scope" in answer.json()["error"]["message"]
    assert emulator.app.requests == []


async def test_a_2025_era_call_outside_the_tokens_scopes_is_an_mcp_error_naming_the_scope(hosted: Hosted) -> None:
    token = hosted.issuer.token(scope="ayrshare:read")
    async with http_session(hosted.url, headers=hosted.bearer(token), mode="legacy") as client:
        with pytest.raises(MCPError, match="needs the ayrshare:delete scope"):
            await client.call_tool(DELETE, {"id": "post-1"})


async def test_profile_key_takes_a_name_and_the_named_profiles_key_goes_to_ayrshare(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    emulator.seed_post(profile_key=PROFILE_KEY, text="Acme news")
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        data = await succeed(client, HISTORY, {"Profile-Key": "acme-corp"})
        listing = await client.list_tools()

    assert [post["post"] for post in data["history"]] == ["Acme news"]
    assert emulator.app.requests[-1].headers.get("profile-key") == PROFILE_KEY
    history = next(tool for tool in listing.tools if tool.name == HISTORY)
    assert "name of a profile you may act for" in history.input_schema["properties"]["Profile-Key"]["description"]


async def test_without_profile_key_the_persons_default_profile_is_used(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        await succeed(client, HISTORY, {})

    assert emulator.app.requests[-1].headers.get("profile-key") == PROFILE_KEY


@pytest.mark.parametrize("named", ["globex-inc", GLOBEX_KEY, PROFILE_KEY])
async def test_a_profile_outside_the_persons_list_is_refused_before_anything_is_sent(
    hosted: Hosted, emulator: RunningEmulator, named: str
) -> None:
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        envelope = await fail(client, HISTORY, {"Profile-Key": named})

    assert "acme-corp, main-brand" in envelope["error"]
    assert CANARY not in json.dumps(envelope)
    assert emulator.app.requests == []


async def test_list_profiles_shows_only_the_persons_own_profiles(hosted: Hosted, emulator: RunningEmulator) -> None:
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        data = await succeed(client, LIST_PROFILES, {})

    assert data["profiles"] == [{"name": "acme-corp", "default": True}, {"name": "main-brand", "default": False}]
    assert emulator.app.requests == []


async def test_a_member_of_a_group_acts_for_the_groups_profiles(hosted: Hosted, emulator: RunningEmulator) -> None:
    token = hosted.issuer.token("bob", groups=["designers", "social"])
    async with http_session(hosted.url, headers=hosted.bearer(token)) as client:
        await succeed(client, HISTORY, {})

    assert emulator.app.requests[-1].headers.get("profile-key") == GLOBEX_KEY


@pytest.mark.parametrize("header", ["X-Ayrshare-Api-Key", "X-Ayrshare-Profile-Key", "X-Twitter-OAuth1-Api-Key"])
async def test_key_headers_are_refused_from_a_signed_in_caller(hosted: Hosted, header: str) -> None:
    headers = {**hosted.bearer(hosted.issuer.token()), **ACCEPT, header: "CANARY-SMUGGLED-KEY-11aa22bb"}
    answer = await hosted.http.post(hosted.url + "/mcp", json={}, headers=headers)

    assert answer.status_code == 400
    assert header in answer.json()["error"]["message"]


async def test_the_static_token_holder_acts_as_its_entry_with_its_scopes_and_profile(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    async with http_session(hosted.url) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        await succeed(client, HISTORY, {})

    assert DELETE not in listed
    assert HISTORY in listed
    assert "profile-key" not in emulator.app.requests[-1].headers


# --- confirmations and the audit log -----------------------------------------------------------------------------


async def test_an_approval_given_to_one_person_cannot_be_spent_by_another(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    emulator.seed_post(profile_key=PROFILE_KEY, schedule_date=datetime.now(UTC) + timedelta(days=1))
    args = {"deleteAllScheduled": True, "Profile-Key": "acme-corp"}
    alice = RawModernClient(hosted.http, hosted.url, hosted.bearer(hosted.issuer.token("alice")))
    state = the_question_was_asked(await alice.call(DELETE, args))

    # Carol acts for the same profile through her group: the approval was Alice's to give, not hers to spend.
    carol = RawModernClient(hosted.http, hosted.url, hosted.bearer(hosted.issuer.token("carol", groups=["social"])))
    refused = await carol.answer(DELETE, args, state)

    assert refused["error"]["message"] == "Invalid or expired requestState"
    assert deletes(emulator) == []


async def test_every_call_that_can_change_something_leaves_one_audit_line_without_text_or_keys(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    post = emulator.seed_post(profile_key=PROFILE_KEY, text="Secret launch plan")
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        await succeed(client, HISTORY, {"Profile-Key": "acme-corp"})
        await call(client, DELETE, {"id": post["id"], "Profile-Key": "acme-corp"})

    logged = hosted.log.decode().splitlines()
    lines = [json.loads(line.split("ayrshare_mcp.audit: ", 1)[1]) for line in logged if "ayrshare_mcp.audit: " in line]
    mine = [line for line in lines if line.get("id") == post["id"]]
    assert len(mine) == 1
    assert mine[0]["caller"] == "alice"
    assert mine[0]["subject"] == "alice"
    assert mine[0]["issuer"] == hosted.issuer.issuer
    assert mine[0]["tool"] == DELETE
    assert mine[0]["profile"] == "acme-corp"
    assert mine[0]["result"] in {"ok", "error", "asked_person"}
    assert not [line for line in lines if line["tool"] == HISTORY]
    text = hosted.log.decode()
    assert CANARY not in text
    assert "Secret launch plan" not in text


# --- the file itself ---------------------------------------------------------------------------------------------


async def test_the_server_will_not_start_with_oauth_and_no_tenants_file(
    module_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = server_env(
        module_emulator,
        tmp_path,
        AYRSHARE_MCP_OAUTH_ISSUER="https://auth.example.test",
        AYRSHARE_MCP_OAUTH_RESOURCE=RESOURCE,
    )
    with pytest.raises(AccessError, match="tenants file"):
        async with serving_here(["--transport", "streamable-http", "--auth", "oauth"], env):
            pass


async def test_a_tenants_file_others_can_read_is_refused_at_start(
    module_emulator: RunningEmulator, tmp_path: Path
) -> None:
    path = the_team(tmp_path, "https://auth.example.test")
    os.chmod(path, 0o644)
    env = server_env(module_emulator, tmp_path, AYRSHARE_MCP_TOKEN=TOKEN, **KEYS)
    with pytest.raises(AccessError, match="chmod 600"):
        async with serving_here(["--transport", "streamable-http", "--tenants", str(path)], env):
            pass


# --- found by the attack on this change ---------------------------------------------------------------------------


async def test_an_address_sending_made_up_tokens_is_turned_away_before_they_cost_introspections(hosted: Hosted) -> None:
    before = hosted.issuer.introspections
    statuses = [await status_with(hosted, "made-up-" + str(n), source="127.2.0.1") for n in range(40)]

    assert hosted.issuer.introspections - before == MAX_FAILED_SIGN_INS
    assert statuses[:MAX_FAILED_SIGN_INS] == [401] * MAX_FAILED_SIGN_INS
    assert set(statuses[MAX_FAILED_SIGN_INS:]) == {429}
    assert await status_with(hosted, hosted.issuer.token(), source="127.2.0.2") == 200


async def test_an_introspected_refresh_token_is_not_accepted_as_an_access_token(hosted: Hosted) -> None:
    token = hosted.issuer.opaque_token()
    hosted.issuer.opaque[token]["token_type"] = "refresh_token"

    assert await status_with(hosted, token) == 401


async def test_a_key_header_sent_twice_with_an_empty_first_copy_is_still_refused(hosted: Hosted) -> None:
    headers = [
        *hosted.bearer(hosted.issuer.token()).items(),
        *ACCEPT.items(),
        ("X-Ayrshare-Api-Key", ""),
        ("X-Ayrshare-Api-Key", "CANARY-SMUGGLED-KEY-11aa22bb"),
    ]
    answer = await hosted.http.post(hosted.url + "/mcp", json=LIST_TOOLS, headers=headers)

    assert answer.status_code == 400


async def test_an_audit_line_for_a_refused_profile_names_the_profile_asked_for(
    hosted: Hosted, emulator: RunningEmulator
) -> None:
    target = "refused-" + uuid.uuid4().hex[:8]
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        await client.call_tool(DELETE, {"id": target, "Profile-Key": "globex-inc"})

    logged = hosted.log.decode().splitlines()
    lines = [json.loads(line.split("ayrshare_mcp.audit: ", 1)[1]) for line in logged if "ayrshare_mcp.audit: " in line]
    assert [(line["profile"], line["result"]) for line in lines if line.get("id") == target] == [
        ("globex-inc", "error")
    ]


@pytest.mark.parametrize(
    "named", ["ACME-CORP", "acme-corp\u200b", "acme\u2011corp", " acme-corp", "primary", "", "main-brand\n"]
)
async def test_profile_name_look_alikes_are_refused_before_anything_is_sent(
    hosted: Hosted, emulator: RunningEmulator, named: str
) -> None:
    async with http_session(hosted.url, headers=hosted.bearer(hosted.issuer.token())) as client:
        envelope = await call(client, HISTORY, {"Profile-Key": named})

    assert envelope["successful"] is False
    assert emulator.app.requests == []


async def test_another_person_cannot_use_a_persons_2025_session(hosted: Hosted) -> None:
    ids: list[str] = []
    alice = hosted.bearer(hosted.issuer.token())
    async with http_session(hosted.url, headers=alice, mode="legacy", session_ids=ids) as client:
        await client.list_tools()
        carol = hosted.bearer(hosted.issuer.token("carol", groups=["social"]))
        headers = {**carol, **ACCEPT, "Mcp-Session-Id": ids[0], "MCP-Protocol-Version": "2025-11-25"}
        body = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}}
        answer = await hosted.http.post(hosted.url + "/mcp", json=body, headers=headers)

    assert answer.status_code == 404


async def test_a_call_on_this_machine_is_audited_as_local_with_the_account_as_a_fingerprint(
    emulator: RunningEmulator, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY), audit=True)
    with caplog.at_level("INFO", logger="ayrshare_mcp.audit"):
        async with memory_client(settings) as client:
            await call(client, DELETE, {"id": "local-1"})

    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "ayrshare_mcp.audit"]
    assert len(lines) == 1
    assert lines[0]["caller"] == "local"
    assert lines[0]["profile"].startswith("account:")
    assert CANARY not in json.dumps(lines)


# --- check, for a server hosted for a team -----------------------------------------------------------------------


async def test_check_of_a_hosted_server_finds_the_issuer_and_asks_ayrshare_about_every_key_showing_four_characters(
    hosted: Hosted, emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = server_env(
        emulator,
        tmp_path,
        AYRSHARE_MCP_OAUTH_ISSUER=hosted.issuer.issuer,
        AYRSHARE_MCP_OAUTH_RESOURCE=RESOURCE,
        AYRSHARE_MCP_TOKEN=TOKEN,
        **KEYS,
    )
    code, stdout, _ = await run_cli("--auth", "oauth", "--tenants", str(the_team(tmp_path, "x")), "check", env=env)

    assert code == 0, stdout
    assert f"OAuth tokens from {hosted.issuer.issuer}" in stdout
    assert "3 entries, 1 accounts" in stdout
    assert f"account agency's key ...{API_KEY[-4:]}" in stdout
    assert "profile acme-corp" in stdout
    assert API_KEY not in stdout
    assert PROFILE_KEY not in stdout


async def test_check_of_a_hosted_server_fails_with_a_fix_for_an_unreachable_issuer_and_a_key_ayrshare_refuses(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = server_env(
        emulator,
        tmp_path,
        AYRSHARE_MCP_OAUTH_ISSUER="http://127.0.0.1:9",
        AYRSHARE_MCP_OAUTH_RESOURCE=RESOURCE,
        AYRSHARE_MCP_TOKEN=TOKEN,
        **{**KEYS, "AGENCY_KEY": "CANARY-UNKNOWN-KEY-55cc66dd"},
    )
    code, stdout, _ = await run_cli("--auth", "oauth", "--tenants", str(the_team(tmp_path, "x")), "check", env=env)

    assert code == 1
    assert "did not answer with its metadata" in stdout
    assert "fix: Check AYRSHARE_MCP_OAUTH_ISSUER" in stdout
    assert "Ayrshare did not accept account agency's key" in stdout
    assert "CANARY-UNKNOWN-KEY-55cc66dd" not in stdout


async def test_check_of_a_hosted_server_names_what_is_wrong_in_its_tenants_file(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = server_env(emulator, tmp_path, AYRSHARE_MCP_TOKEN=TOKEN)
    code, stdout, _ = await run_cli("--tenants", str(the_team(tmp_path, "x")), "check", env=env)

    assert code == 1
    assert "Sign-in: the static access token only" in stdout
    assert "AGENCY_KEY is not set" in stdout
