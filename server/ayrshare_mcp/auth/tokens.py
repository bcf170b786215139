"""Access tokens from the operator's authorization server, verified: JWTs against its published keys, opaque tokens
by asking it (RFC 7662 introspection).

A token passes only when it names this server's issuer exactly, this resource as its audience (RFC 8707 / 9068), a
time it is valid at, and a subject. JWT signatures are checked by PyJWT, with the one algorithm the signing key's
own type allows: `none`, HMAC and an algorithm switched in the token's header are never accepted (no key
confusion). The key set is cached for at most `OAuthSettings.jwks_max_age`, so a key the server removed stops being
trusted, and an unknown `kid` refetches it at most once per `jwks_refetch_seconds`, so made-up kids cannot make this
server hammer the authorization server.

Nothing here logs a token or a claim's value: a refusal says which check failed.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import jwt
from mcp.server.auth.provider import AccessToken

from ayrshare_mcp.auth.config import OAuthSettings
from ayrshare_mcp.client.client import trust_store
from ayrshare_mcp.logs import Throttle

logger = logging.getLogger(__name__)
THROTTLE = Throttle()

# Key types whose algorithm follows from the key: public-key signatures only, so no shared secret can forge a token.
SIGNING_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
# What an introspection answer's token_type may say (RFC 7662 section 2.2; "Bearer" as some servers spell it).
ACCESS_TOKEN_TYPES = frozenset({"access_token", "bearer"})
# An authorization server's metadata, key set or introspection answer is small; more is refused unread.
MAX_DOCUMENT_BYTES = 256 * 1024
FETCH_SECONDS = 5.0
# What a token's not-before and issued-at may be ahead of this server's clock (the two clocks differ a little);
# expiry is held exactly.
CLOCK_SKEW_SECONDS = 30


class AuthServerError(Exception):
    """The authorization server could not be reached, or answered something unusable."""


@dataclass
class JwksCache:
    """The authorization server's signing keys, fetched from `url` when missing or too old, and again when a token
    names a key not seen yet, at most once per `refetch_seconds`."""

    url: str
    fetch: Callable[[str], Any]
    max_age: float
    refetch_seconds: float
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str | None, jwt.PyJWK] = field(default_factory=dict)
    _fetched_at: float | None = None
    _refetched_at: float | None = None
    _failed_at: float | None = None
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The signing key named `kid` (a key set of one key may leave it out), or None."""
        async with self._lock:
            if self._failed_lately():
                return self._find(kid)
            if self._stale():
                await self._refresh()
            elif self._find(kid) is None and self._may_refetch():
                # A key set just rotated: its first token fetches it at once; made-up kids fetch it no more often.
                self._refetched_at = self.clock()
                await self._refresh()
            return self._find(kid)

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def _stale(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at > self.max_age

    def _may_refetch(self) -> bool:
        return self._refetched_at is None or self.clock() - self._refetched_at >= self.refetch_seconds

    def _failed_lately(self) -> bool:
        """Whether a fetch failed within `refetch_seconds`: an authorization server that is down is not asked again
        for every request, each waiting on the last."""
        return self._failed_at is not None and self.clock() - self._failed_at < self.refetch_seconds

    async def _refresh(self) -> None:
        try:
            document = await self.fetch(self.url)
        except AuthServerError as exc:
            self._failed_at = self.clock()
            if self._stale():
                # Keys older than the maximum age are not trusted any more, whatever the reason for not renewing.
                self._keys, self._fetched_at = {}, None
            THROTTLE.warn(logger, "Could not fetch the authorization server's signing keys: %s", exc)
            return
        self._keys = _signing_keys(document)
        self._fetched_at, self._failed_at = self.clock(), None


def _signing_keys(document: object) -> dict[str | None, jwt.PyJWK]:
    keys: dict[str | None, jwt.PyJWK] = {}
    listed = document.get("keys") if isinstance(document, dict) else None
    for data in listed if isinstance(listed, list) else []:
        if not isinstance(data, dict) or data.get("kty") not in SIGNING_KEY_TYPES or data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue
        keys[data.get("kid") if isinstance(data.get("kid"), str) else None] = key
    return keys


class OAuthTokenVerifier:
    """The SDK's `TokenVerifier` for this server: who holds a bearer token, or None when it does not pass."""

    def __init__(self, settings: OAuthSettings, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._http = _Fetcher(transport)
        self._jwks: JwksCache | None = None
        self._metadata: dict[str, Any] | None = None
        self._metadata_lock = anyio.Lock()
        self._discovery_failed_at: float | None = None

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            if _looks_like_jwt(token):
                return await self._verified_jwt(token)
            return await self._introspected(token)
        except _Refused as refusal:
            THROTTLE.warn(logger, "Refused a bearer token: %s", refusal)
        except AuthServerError as exc:
            THROTTLE.warn(logger, "Refused a bearer token: the authorization server could not be asked (%s)", exc)
        return None

    async def _verified_jwt(self, token: str) -> AccessToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _Refused("its header is not a JWT header") from None
        kid = header.get("kid")
        key = await (await self._keys()).key(kid if isinstance(kid, str) else None)
        if key is None:
            raise _Refused("no signing key of the authorization server has its kid")
        settings = self._settings
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                # The key decides the algorithm; the token's own `alg` must agree with it.
                algorithms=[key.algorithm_name],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise _Refused(type(exc).__name__) from None
        return _access_token(token, claims, settings)

    async def _introspected(self, token: str) -> AccessToken:
        settings = self._settings
        if settings.client_id is None or settings.client_secret is None:
            raise _Refused("it is not a JWT, and no introspection client is configured")
        endpoint = settings.introspection_url or (await self._discovered()).get("introspection_endpoint")
        if not isinstance(endpoint, str):
            raise _Refused("it is not a JWT, and the authorization server names no introspection endpoint")
        answer = await _post_form(
            self._http,
            endpoint,
            {"token": token, "token_type_hint": "access_token"},
            auth=(settings.client_id, settings.client_secret),
        )
        if answer.get("active") is not True:
            raise _Refused("the authorization server says it is not active")
        if str(answer.get("token_type", "access_token")).lower() not in ACCESS_TOKEN_TYPES:
            # A refresh token is active too, and lives far longer: it belongs at the token endpoint only.
            raise _Refused("it is not an access token")
        # A machine's token (client credentials) is its own subject; introspection may leave `sub` out for one.
        claims = {"iss": settings.issuer, "sub": answer.get("client_id"), **answer}
        if claims.get("iss") != settings.issuer:
            raise _Refused("InvalidIssuerError")
        if settings.audience not in _audiences(claims.get("aud")):
            raise _Refused("InvalidAudienceError")
        return _access_token(token, claims, settings)

    async def _keys(self) -> JwksCache:
        if self._jwks is None:
            url = self._settings.jwks_url or (await self._discovered()).get("jwks_uri")
            if not isinstance(url, str):
                raise AuthServerError("its metadata names no jwks_uri")
            self._jwks = JwksCache(
                url,
                lambda where: _get_json(self._http, where),
                max_age=self._settings.jwks_max_age,
                refetch_seconds=self._settings.jwks_refetch_seconds,
            )
        return self._jwks

    async def _discovered(self) -> dict[str, Any]:
        """The authorization server's metadata (RFC 8414, else OpenID Connect discovery), for the issuer exactly;
        after a failure, not asked again for `jwks_refetch_seconds`."""
        async with self._metadata_lock:
            if self._metadata is None:
                now = time.monotonic()
                if self._discovery_failed_at and now - self._discovery_failed_at < self._settings.jwks_refetch_seconds:
                    raise AuthServerError("its metadata could not be fetched a moment ago")
                try:
                    self._metadata = await discover(self._settings.issuer, self._http)
                except AuthServerError:
                    self._discovery_failed_at = now
                    raise
            return self._metadata


async def discover(issuer: str, http: _Fetcher | None = None) -> dict[str, Any]:
    """The metadata of `issuer`, whose own `issuer` must be the same string (RFC 8414 section 3.3: no mix-up).

    Raises:
        AuthServerError: neither well-known document answers, or one names another issuer.
    """
    problems = []
    fetcher = http or _Fetcher(None)
    for url in metadata_urls(issuer):
        try:
            metadata = await _get_json(fetcher, url)
        except AuthServerError as exc:
            problems.append(str(exc))
            continue
        if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
            raise AuthServerError(f"the metadata at {url} is for another issuer")
        return metadata
    raise AuthServerError("; ".join(problems))


def metadata_urls(issuer: str) -> tuple[str, ...]:
    """Where an issuer publishes its metadata: the well-known name goes between its host and its path."""
    scheme, _, rest = issuer.partition("://")
    host, slash, path = rest.partition("/")
    suffix = f"/{path}" if slash and path else ""
    return (
        f"{scheme}://{host}/.well-known/oauth-authorization-server{suffix}",
        f"{scheme}://{host}/.well-known/openid-configuration{suffix}",
        *((f"{issuer}/.well-known/openid-configuration",) if suffix else ()),
    )


def _access_token(token: str, claims: Mapping[str, Any], settings: OAuthSettings) -> AccessToken:
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or not math.isfinite(expires) or expires <= time.time():
        raise _Refused("ExpiredSignatureError")
    subject = claims.get("sub")
    client_id = claims.get("client_id") or claims.get("azp") or subject
    if not isinstance(subject, str) or not subject or not isinstance(client_id, str):
        raise _Refused("it names no subject")
    return AccessToken(
        token=token,
        client_id=client_id,
        scopes=_scopes(claims),
        expires_at=int(expires),
        resource=settings.resource,
        subject=subject,
        claims=dict(claims),
    )


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    listed = claims.get("scp")
    return [item for item in listed if isinstance(item, str)] if isinstance(listed, list) else []


def _audiences(claim: object) -> list[str]:
    if isinstance(claim, str):
        return [claim]
    return [item for item in claim if isinstance(item, str)] if isinstance(claim, list) else []


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class _Refused(Exception):
    """The token does not pass; the message says which check failed, never what the token holds."""


class _Fetcher:
    """Asks the authorization server, each time on a client of its own: it is asked rarely (keys, metadata) or once
    per request (introspection), and a client held for the life of the process would outlive every test."""

    def __init__(self, transport: httpx2.AsyncBaseTransport | None) -> None:
        self._transport = transport

    def open(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(verify=trust_store(), transport=self._transport, follow_redirects=False)


async def _get_json(http: _Fetcher, url: str) -> Any:
    return await _json_answer(http, "GET", url)


async def _post_form(http: _Fetcher, url: str, form: Mapping[str, str], *, auth: tuple[str, str]) -> dict[str, Any]:
    answer = await _json_answer(http, "POST", url, data=dict(form), auth=auth)
    if not isinstance(answer, dict):
        raise AuthServerError(f"{url} did not answer a JSON object")
    return answer


async def _json_answer(fetcher: _Fetcher, method: str, url: str, **options: Any) -> Any:
    try:
        with anyio.fail_after(FETCH_SECONDS):
            async with fetcher.open() as http, http.stream(method, url, **options) as response:
                if response.status_code != 200:
                    raise AuthServerError(f"{url} answered {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise AuthServerError(f"{url} answered more than {MAX_DOCUMENT_BYTES // 1024} KB")
    except TimeoutError:
        raise AuthServerError(f"{url} did not answer within {FETCH_SECONDS:.0f} s") from None
    except httpx2.HTTPError as exc:
        raise AuthServerError(f"{url} could not be reached ({type(exc).__name__})") from None
    try:
        return json.loads(body)
    except ValueError:
        raise AuthServerError(f"{url} did not answer JSON") from None
