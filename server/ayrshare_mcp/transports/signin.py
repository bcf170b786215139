"""Who is calling over HTTP: the holder of the static access token, or a person with an OAuth access token.

Either way the caller presents `Authorization: Bearer <token>` (the scheme in any case, RFC 7235). The static token
is compared in constant time, first; any other token goes to the OAuth verifier, when `--auth oauth` is on. With a
tenants file, the caller must be in it (403 otherwise, with a message for the operator), their keys come from it,
and the Ayrshare key headers are refused: a key never passes through the model or the caller.

A request without a usable token gets 401 with `WWW-Authenticate`, which under OAuth points to this server's
protected-resource metadata (RFC 9728), where a client finds the authorization server to sign in at.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import signal
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import anyio
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken, TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from ayrshare_mcp.access import ProvenKeys
from ayrshare_mcp.auth import scopes
from ayrshare_mcp.auth.signed_in import SIGNED_IN, SignedIn, signed_in_of
from ayrshare_mcp.auth.tenants import TenantsFile
from ayrshare_mcp.credentials import CREDENTIAL_HEADERS, HEADER_API_KEY
from ayrshare_mcp.logs import Throttle, untrusted
from ayrshare_mcp.transports.guards import header, respond

logger = logging.getLogger(__name__)
THROTTLE = Throttle()
STATIC_HOLDER = "token-holder"
# An address whose requests carried this many unusable tokens within the window is refused (429) until it ends.
MAX_FAILED_SIGN_INS = 20
FAILURE_WINDOW_SECONDS = 60.0
MAX_REMEMBERED = 10_000


class SignIn:
    """Requires a usable bearer token on every request but the open paths (`/healthz`, the metadata)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        static_token: str | None,
        verifier: TokenVerifier | None,
        tenants: TenantsFile | None,
        metadata_url: str | None,
        open_paths: Iterable[str],
        tool_scopes: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        self._app = app
        self._static = static_token.encode() if static_token else None
        self._verifier = verifier
        self._tenants = tenants
        self._metadata_parameter = f', resource_metadata="{metadata_url}"' if metadata_url else ""
        challenge = f'Bearer resource_metadata="{metadata_url}"' if metadata_url else 'Bearer realm="ayrshare-mcp"'
        self._challenge = challenge
        self._tool_scopes = dict(tool_scopes)
        self._open = frozenset(open_paths)
        self._failures = _Failures()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self._tenants is not None:
            await self._serve_rereading(self._tenants, scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] in self._open:
            await self._app(scope, receive, send)
            return
        token = _bearer(scope)
        address = address_of(scope)
        if token and self._failures.spent(address):
            THROTTLE.warn(logger, "Refused a request: too many failed sign-ins from its address")
            await respond(
                send,
                429,
                "Too many requests with unusable access tokens from this address: wait a minute, then sign in again.",
                [(b"retry-after", str(int(FAILURE_WINDOW_SECONDS)).encode())],
            )
            return
        signed = await self._signed_in(token) if token else None
        if signed is None and token:
            self._failures.add(address)
        if signed is None:
            THROTTLE.warn(
                logger, "Refused %s %s: missing or unusable access token", scope["method"], untrusted(scope["path"])
            )
            await self._unauthorized(send, presented=token is not None)
            return
        if isinstance(signed, str):
            await respond(send, 403, signed)
            return
        named = {key for key, _ in scope["headers"]}
        # Present at all, whatever the value and however often: an empty first copy must not hide a second.
        if self._tenants is not None and (
            sent := [name for name in CREDENTIAL_HEADERS if name.lower().encode() in named]
        ):
            await respond(
                send,
                400,
                f"This server reads Ayrshare keys from its tenants file, so it refuses {', '.join(sent)}. Leave the "
                "header out, and name a profile with the Profile-Key argument (AYRSHARE_LIST_PROFILES lists yours).",
            )
            return
        if signed.user is not None and (needed := self._needed_scope(scope)) and needed not in signed.scopes:
            await self._insufficient_scope(send, needed, signed.scopes)
            return
        scope = {**scope, SIGNED_IN: signed, "auth": AuthCredentials(sorted(signed.scopes))}
        if signed.user is None:
            await self._app(scope, receive, send)
            return
        # The SDK reads the caller from here: request states are sealed for this person and no other.
        reset = auth_context_var.set(signed.user)
        try:
            await self._app({**scope, "user": signed.user}, receive, send)
        finally:
            auth_context_var.reset(reset)

    async def _serve_rereading(self, tenants: TenantsFile, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's life, with the tenants file read again on every SIGHUP (where signals can be had: the main
        thread of a process)."""
        async with anyio.create_task_group() as tg:
            if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
                tg.start_soon(_reread_on_hangup, tenants)
            await self._app(scope, receive, send)
            tg.cancel_scope.cancel()

    async def _signed_in(self, token: str) -> SignedIn | str | None:
        """Who holds `token`; a message for a person the tenants file does not know; None for a bad token."""
        tenants = self._tenants.current if self._tenants else None
        if self._static is not None and hmac.compare_digest(token.encode("latin-1", "replace"), self._static):
            tenant = tenants.static_entry if tenants else None
            if tenants is not None and tenant is None:
                return None  # a tenants file in force names nobody for the token: it grants nothing
            granted: frozenset[str] = frozenset(scopes.ALL)
            return SignedIn(STATIC_HOLDER, tenant.allowed(granted) if tenant else granted, tenant=tenant)
        if self._verifier is None:
            return None
        access = await self._verifier.verify_token(token)
        if access is None:
            return None
        user = AuthenticatedUser(access)
        issuer = (access.claims or {}).get("iss")
        holder = "oauth:" + hashlib.sha256(f"{issuer}\0{access.subject}".encode()).hexdigest()[:32]
        granted = frozenset(access.scopes) & frozenset(scopes.ALL)
        # OAuth needs a tenants file (see `http.compose`): without one, nobody signed in is known.
        named_issuer = issuer if isinstance(issuer, str) else None
        tenant = tenants.person(named_issuer, access.subject, access.claims or {}) if tenants is not None else None
        if tenant is None:
            THROTTLE.warn(logger, "Refused a signed-in person the tenants file does not name")
            return (
                f"You signed in as {untrusted(access.subject or '', 100)} at {untrusted(str(issuer), 200)}, and this "
                "server's tenants file does not say which Ayrshare account you act for. Ask the server's operator to "
                "add you (that issuer and subject, or a group you are in) to it."
            )
        return SignedIn(holder, tenant.allowed(granted), user, tenant)

    def _needed_scope(self, scope: Scope) -> str | None:
        """The scope a tool call needs, when its request names the tool in its headers (protocol 2026-07-28 requires
        `Mcp-Method` and `Mcp-Name`, and the SDK checks them against the body); None otherwise."""
        if scope["method"] != "POST" or header(scope, b"mcp-method") != "tools/call":
            return None
        return self._tool_scopes.get(header(scope, b"mcp-name") or "")

    async def _insufficient_scope(self, send: Send, needed: str, granted: frozenset[str]) -> None:
        """403 with the challenge of the MCP authorization spec's scope step-up: a client that can asks the person
        to grant `needed` (with what they granted already) and retries; the others show the message."""
        wanted = " ".join(sorted({*granted, needed}))
        challenge = f'Bearer error="insufficient_scope", scope="{wanted}"' + self._metadata_parameter
        await respond(
            send,
            403,
            f"This tool needs the {needed} scope, which your sign-in does not grant: sign in again granting it, or ask "
            "the server's operator for it (the tenants file may limit your scopes).",
            [(b"www-authenticate", challenge.encode())],
        )

    async def _unauthorized(self, send: Send, *, presented: bool) -> None:
        challenge = self._challenge + (', error="invalid_token"' if presented else "")
        await respond(
            send,
            401,
            "This server needs Authorization: Bearer <access token>.",
            [(b"www-authenticate", challenge.encode())],
        )


class _Failures:
    """Sign-ins that failed, per client address, in the current minute: each costs a check, maybe a request to the
    authorization server (introspection), so an address that keeps sending bad tokens is not checked again for a
    while. At most `MAX_REMEMBERED` addresses are remembered."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def spent(self, address: str) -> bool:
        started, count = self._seen.get(address, (0.0, 0))
        return count >= MAX_FAILED_SIGN_INS and anyio.current_time() - started < FAILURE_WINDOW_SECONDS

    def add(self, address: str) -> None:
        now = anyio.current_time()
        started, count = self._seen.pop(address, (now, 0))
        self._seen[address] = (started, count + 1) if now - started < FAILURE_WINDOW_SECONDS else (now, 1)
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)


async def _reread_on_hangup(tenants: TenantsFile) -> None:
    with anyio.open_signal_receiver(signal.SIGHUP) as hangups:
        async for _ in hangups:
            logger.warning("%s", tenants.reload())


def _bearer(scope: Scope) -> str | None:
    scheme, _, presented = (header(scope, b"authorization") or "").strip().partition(" ")
    token = presented.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True)
class Caller:
    """Who sent a request, as far as can be told: the session owner the SDK binds sessions to (`user`), the access
    token's holder if one was required, a fingerprint of the Ayrshare key sent (unproven: anyone can invent one),
    and the client's address."""

    user: AuthenticatedUser = field(repr=False)
    token_holder: str | None
    key: str | None
    address: str

    @property
    def owner(self) -> str:
        """The session owner, as one string."""
        return f"{self.user.access_token.client_id}:{self.user.access_token.subject}"


CALLER = "ayrshare_mcp.caller"


class CallerIdentity:
    """Names the caller of every request, so that the SDK binds each session to whoever opened it.

    A person signed in with OAuth is their token's client, issuer and subject. Otherwise a session owner is the
    access token they passed (one shared token: one name) plus a hash of the Ayrshare and X keys they send. Caller B,
    holding the token but not caller A's key, cannot use A's session, nor answer the confirmation A is being asked.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            signed = signed_in_of(scope)
            holder = signed.holder if signed else None
            user = signed.user if signed and signed.user else _key_holder(scope, holder)
            api_key = header(scope, HEADER_API_KEY.lower().encode())
            caller = Caller(
                user=user,
                token_holder=holder,
                key=ProvenKeys.fingerprint(api_key) if api_key and api_key.strip() else None,
                address=address_of(scope),
            )
            scope = {**scope, "user": user, CALLER: caller}
        await self._app(scope, receive, send)


def _key_holder(scope: Scope, holder: str | None) -> AuthenticatedUser:
    keys = "\0".join((header(scope, name.lower().encode()) or "").strip() for name in CREDENTIAL_HEADERS)
    subject = hashlib.sha256(keys.encode("latin-1", "replace")).hexdigest()[:32]
    return AuthenticatedUser(AccessToken(token="", client_id=holder or "open", scopes=[], subject=subject))


def caller_of(scope: Scope) -> Caller | None:
    caller = scope.get(CALLER)
    return caller if isinstance(caller, Caller) else None


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
