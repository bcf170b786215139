"""The token verifier and the OAuth settings on their own: what an authorization server that misbehaves or a setting
that is wrong leads to. A verifier never raises and never lets a token through on doubt; a setting that is wrong
stops the server at start with the variable named.

The authorization server here is the stand-in of `tests/token_issuer.py`, or a few routes of its own, reached in
memory (httpx's ASGI transport): what is tested is what the verifier makes of the answers, not the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ayrshare_mcp.auth.config import OAuthConfigError, OAuthSettings, auth_mode
from ayrshare_mcp.auth.tokens import MAX_DOCUMENT_BYTES, OAuthTokenVerifier, metadata_urls
from tests.token_issuer import INTROSPECTION_CLIENT, RESOURCE, TokenIssuer

pytestmark = pytest.mark.anyio

ISSUER = "https://auth.example.test"


def settings(**overrides: Any) -> OAuthSettings:
    return OAuthSettings(**{"issuer": ISSUER, "resource": RESOURCE, "audience": RESOURCE, **overrides})


def verifier_for(app: Starlette, **overrides: Any) -> OAuthTokenVerifier:
    return OAuthTokenVerifier(settings(**overrides), transport=httpx2.ASGITransport(app=app))


def issuer_app(stand_in: TokenIssuer, **metadata: Any) -> Starlette:
    """The stand-in's routes, its metadata changed by `metadata` (None removes a field)."""
    app = stand_in.app()

    async def changed(_: Request) -> Response:
        document = {
            "issuer": stand_in.issuer,
            "jwks_uri": f"{stand_in.issuer}/jwks",
            "introspection_endpoint": f"{stand_in.issuer}/introspect",
        }
        document |= metadata
        return JSONResponse({name: value for name, value in document.items() if value is not None})

    app.router.routes.insert(0, Route("/.well-known/oauth-authorization-server", changed))
    return app


def answering(handler: Callable[[Request], Response]) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return handler(request)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


CLIENT = {"client_id": INTROSPECTION_CLIENT[0], "client_secret": INTROSPECTION_CLIENT[1]}


# --- the authorization server misbehaves: nothing passes ---------------------------------------------------------


async def test_a_good_token_passes_through_metadata_discovery_and_the_key_set() -> None:
    issuer = TokenIssuer(ISSUER)
    verified = await verifier_for(issuer_app(issuer)).verify_token(issuer.token())

    assert verified is not None
    assert verified.subject == "alice"
    assert verified.resource == RESOURCE


async def test_metadata_naming_another_issuer_is_not_believed() -> None:
    issuer = TokenIssuer(ISSUER)
    app = issuer_app(issuer, issuer="https://evil.example.test")

    assert await verifier_for(app).verify_token(issuer.token()) is None


async def test_metadata_naming_no_key_set_lets_no_jwt_through() -> None:
    issuer = TokenIssuer(ISSUER)

    assert await verifier_for(issuer_app(issuer, jwks_uri=None)).verify_token(issuer.token()) is None


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: PlainTextResponse("down", status_code=503),
        lambda _: PlainTextResponse("<html>not json</html>"),
        lambda _: PlainTextResponse("x" * (MAX_DOCUMENT_BYTES + 1)),
    ],
    ids=["an error status", "not JSON", "more than a metadata document holds"],
)
async def test_an_authorization_server_answering_nonsense_lets_no_token_through(
    answer: Callable[[Request], Response],
) -> None:
    issuer = TokenIssuer(ISSUER)

    assert await verifier_for(answering(answer)).verify_token(issuer.token()) is None
    assert await verifier_for(answering(answer), **CLIENT).verify_token("opaque-token") is None


async def test_an_authorization_server_that_cannot_be_reached_lets_no_token_through() -> None:
    issuer = TokenIssuer("http://127.0.0.1:9")
    verifier = OAuthTokenVerifier(settings(issuer=issuer.issuer))

    assert await verifier.verify_token(issuer.token(issuer=issuer.issuer)) is None


async def test_after_discovery_fails_the_authorization_server_is_not_asked_again_for_every_token() -> None:
    asked: list[str] = []

    def down(request: Request) -> Response:
        asked.append(request.url.path)
        return PlainTextResponse("down", status_code=503)

    verifier = verifier_for(answering(down))
    for _ in range(5):
        assert await verifier.verify_token(TokenIssuer(ISSUER).token()) is None

    # Both well-known names are tried once, then nothing until the back-off ends.
    assert len(asked) == 2


async def test_a_key_set_of_one_key_without_a_kid_serves_tokens_without_one() -> None:
    issuer = TokenIssuer(ISSUER)
    published = {name: value for name, value in issuer.keys[0].public_jwk().items() if name != "kid"}
    app = issuer_app(issuer)

    async def jwks(_: Request) -> Response:
        return JSONResponse({"keys": [published, {"kty": "RSA", "use": "enc", "n": "x", "e": "AQAB"}, "junk"]})

    app.router.routes.insert(0, Route("/jwks", jwks))
    token = jwt.encode(jwt.decode(issuer.token(), options={"verify_signature": False}), issuer.keys[0].private, "RS256")
    assert "kid" not in jwt.get_unverified_header(token)

    assert await verifier_for(app).verify_token(token) is not None


async def test_a_token_whose_header_is_not_json_is_refused() -> None:
    issuer = TokenIssuer(ISSUER)

    assert await verifier_for(issuer_app(issuer)).verify_token("bm90IGpzb24.e30.c2ln") is None


async def test_a_jwt_without_an_expiry_is_refused() -> None:
    issuer = TokenIssuer(ISSUER)
    token = issuer.token(exp=None)

    assert await verifier_for(issuer_app(issuer)).verify_token(token) is None


async def test_scopes_may_come_as_the_scp_list_some_servers_use() -> None:
    issuer = TokenIssuer(ISSUER)
    token = issuer.token(scope=None, scp=["ayrshare:read", 7, "ayrshare:delete"])  # type: ignore[arg-type]
    verified = await verifier_for(issuer_app(issuer)).verify_token(token)

    assert verified is not None
    assert verified.scopes == ["ayrshare:read", "ayrshare:delete"]


# --- introspection -----------------------------------------------------------------------------------------------


async def test_an_opaque_token_is_refused_when_no_introspection_client_is_configured() -> None:
    issuer = TokenIssuer(ISSUER)
    token = issuer.opaque_token()

    assert await verifier_for(issuer_app(issuer)).verify_token(token) is None


async def test_an_opaque_token_is_refused_when_the_authorization_server_names_no_introspection_endpoint() -> None:
    issuer = TokenIssuer(ISSUER)
    token = issuer.opaque_token()
    app = issuer_app(issuer, introspection_endpoint=None)

    assert await verifier_for(app, **CLIENT).verify_token(token) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("iss", "https://evil.example.test"), ("aud", "https://other.example.test/mcp"), ("aud", ["a", 1])],
)
async def test_an_introspected_token_for_another_issuer_or_audience_is_refused(field: str, value: Any) -> None:
    issuer = TokenIssuer(ISSUER)
    token = issuer.opaque_token()
    issuer.opaque[token][field] = value

    assert await verifier_for(issuer_app(issuer), **CLIENT).verify_token(token) is None


async def test_an_introspection_answer_that_is_not_an_object_is_refused() -> None:
    app = issuer_app(TokenIssuer(ISSUER))

    async def introspect(_: Request) -> Response:
        return Response(json.dumps(["active"]), media_type="application/json")

    app.router.routes.insert(0, Route("/introspect", introspect, methods=["POST"]))

    assert await verifier_for(app, **CLIENT).verify_token("opaque-token") is None


async def test_a_configured_introspection_endpoint_is_used_without_discovery() -> None:
    issuer = TokenIssuer(ISSUER)
    token = issuer.opaque_token()
    app = issuer_app(issuer, introspection_endpoint="https://nowhere.example.test/introspect")

    verified = await verifier_for(app, introspection_url=f"{ISSUER}/introspect", **CLIENT).verify_token(token)

    assert verified is not None


# --- where metadata lives ----------------------------------------------------------------------------------------


def test_an_issuer_with_a_path_has_its_well_known_names_between_host_and_path() -> None:
    assert metadata_urls("https://auth.example.test/tenant-1") == (
        "https://auth.example.test/.well-known/oauth-authorization-server/tenant-1",
        "https://auth.example.test/.well-known/openid-configuration/tenant-1",
        "https://auth.example.test/tenant-1/.well-known/openid-configuration",
    )
    assert metadata_urls("https://auth.example.test") == (
        "https://auth.example.test/.well-known/oauth-authorization-server",
        "https://auth.example.test/.well-known/openid-configuration",
    )


# --- the settings: wrong ones stop the server at start -----------------------------------------------------------

BASE = {"AYRSHARE_MCP_OAUTH_ISSUER": ISSUER, "AYRSHARE_MCP_OAUTH_RESOURCE": RESOURCE}


def test_the_settings_are_read_with_the_resource_as_the_default_audience() -> None:
    read = OAuthSettings.from_environ(BASE)

    assert (read.issuer, read.resource, read.audience, read.client_id) == (ISSUER, RESOURCE, RESOURCE, None)


WRONG = {
    "no issuer": ({"AYRSHARE_MCP_OAUTH_ISSUER": ""}, "needs AYRSHARE_MCP_OAUTH_ISSUER"),
    "no resource": ({"AYRSHARE_MCP_OAUTH_RESOURCE": ""}, "needs AYRSHARE_MCP_OAUTH_RESOURCE"),
    "plain http off this machine": ({"AYRSHARE_MCP_OAUTH_ISSUER": "http://auth.example.test"}, "https URL"),
    "a query in a URL": ({"AYRSHARE_MCP_OAUTH_JWKS_URL": f"{ISSUER}/jwks?x=1"}, "without query"),
    "half a client": ({"AYRSHARE_MCP_OAUTH_CLIENT_ID": "me"}, "Set both"),
    "a key-set age of no seconds": ({"AYRSHARE_MCP_OAUTH_JWKS_MAX_AGE": "0"}, "between 0 and 86400"),
    "a key-set age that is no number": ({"AYRSHARE_MCP_OAUTH_JWKS_MAX_AGE": "soon"}, "between 0 and 86400"),
}


@pytest.mark.parametrize("wrong", WRONG)
def test_a_wrong_oauth_setting_stops_the_server_naming_the_variable(wrong: str) -> None:
    change, said = WRONG[wrong]
    with pytest.raises(OAuthConfigError, match=said):
        OAuthSettings.from_environ({**BASE, **change})


def test_http_on_this_machine_and_a_client_secret_file_are_accepted(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("CANARY-CLIENT-SECRET-77aa\n")
    secret.chmod(0o600)
    environ = {
        **BASE,
        "AYRSHARE_MCP_OAUTH_ISSUER": "http://127.0.0.1:4444",
        "AYRSHARE_MCP_OAUTH_CLIENT_ID": "me",
        "AYRSHARE_MCP_OAUTH_CLIENT_SECRET_FILE": str(secret),
        "AYRSHARE_MCP_OAUTH_JWKS_MAX_AGE": "60",
    }
    read = OAuthSettings.from_environ(environ)

    assert (read.issuer, read.client_secret, read.jwks_max_age) == (
        "http://127.0.0.1:4444",
        secret.read_text().strip(),
        60,
    )
    assert "CANARY" not in repr(read)


def test_a_client_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("CANARY-CLIENT-SECRET-77aa\n")
    secret.chmod(0o644)
    environ = {**BASE, "AYRSHARE_MCP_OAUTH_CLIENT_ID": "me", "AYRSHARE_MCP_OAUTH_CLIENT_SECRET_FILE": str(secret)}

    with pytest.raises(OAuthConfigError, match="chmod 600"):
        OAuthSettings.from_environ(environ)


def test_the_sign_in_mode_is_token_or_oauth() -> None:
    assert auth_mode({}, None) == "token"
    assert auth_mode({"AYRSHARE_MCP_AUTH": "OAuth"}, None) == "oauth"
    with pytest.raises(OAuthConfigError, match="token or oauth"):
        auth_mode({"AYRSHARE_MCP_AUTH": "saml"}, None)
