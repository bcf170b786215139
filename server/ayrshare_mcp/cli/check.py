"""`ayrshare-mcp check`: is the configuration usable, and does Ayrshare accept the key?

Prints one line per check, each failure with a one-line fix, and exits 0 only when all is well. Keys are shown by
their last four characters only; this is the one place they are shown at all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import anyio

from ayrshare_mcp.access import AccessError, load_access_token
from ayrshare_mcp.auth.config import OAuthConfigError, OAuthSettings, auth_mode
from ayrshare_mcp.auth.tenants import TenantsError, TenantsFile, tenants_file_path
from ayrshare_mcp.client import AyrshareClient, AyrshareError
from ayrshare_mcp.client.errors import AyrshareConnectionError, AyrshareTimeoutError
from ayrshare_mcp.credentials import (
    ENV_API_KEY,
    Credentials,
    CredentialsError,
    credentials_file_path,
    server_credentials,
)
from ayrshare_mcp.secret_files import SecretFileError, check_private_file
from ayrshare_mcp.server import SharedClient
from ayrshare_mcp.settings import ENV_REDIS_URL, Settings
from ayrshare_mcp.state import StateUnavailable
from ayrshare_mcp.tools.envelope import redact


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"[{mark}] {self.text}" + (f"\n       fix: {self.fix}" if self.fix else "")


def masked(secret: str) -> str:
    return f"...{secret[-4:]}" if len(secret) >= 12 else "(too short to show)"


def run_check(settings: Settings, *, tenants_file: Path | None = None, auth: str | None = None) -> int:
    """Check the configuration; a server hosted for a team (a tenants file, --auth oauth) is checked as such."""
    path = tenants_file_path(settings.environ, tenants_file)
    findings = anyio.run(_check_hosted, settings, path, auth) if path is not None else anyio.run(_check, settings)
    for finding in findings:
        sys.stdout.write(finding.line() + "\n")
    healthy = all(finding.ok for finding in findings)
    sys.stdout.write("All good.\n" if healthy else "Some checks failed; see the fixes above.\n")
    return 0 if healthy else 1


async def _check(settings: Settings) -> list[Finding]:
    if settings.sandbox:
        findings = [Finding(True, "Sandbox mode: checking the built-in Ayrshare emulator and its key, not Ayrshare.")]
    else:
        findings = [_file_finding(settings)]
    try:
        credentials = server_credentials(settings.environ)
    except CredentialsError as exc:
        return [*findings, Finding(False, "No usable Ayrshare API key.", str(exc))]
    if not settings.sandbox:
        findings.append(Finding(True, f"API key: from the {credentials.source}, ending {masked(credentials.api_key)}."))
        findings.append(_x_pair_finding(credentials))
    if settings.redis_url:
        findings.extend(await _redis_finding(settings.redis_url))
    async with SharedClient(settings).borrow() as client:
        findings.append(await _ask_ayrshare(client, Credentials(credentials.api_key), "the API key"))
        if credentials.profile_key:
            findings.append(await _ask_ayrshare(client, credentials, f"profile key {masked(credentials.profile_key)}"))
        else:
            findings.append(Finding(True, "Profile key: none configured; calls act for the primary profile."))
    return findings


async def _check_hosted(settings: Settings, path: Path, auth: str | None) -> list[Finding]:
    """A server hosted for a team: its sign-in settings, its authorization server, its tenants file, and whether
    Ayrshare accepts every key the file leads to."""
    findings = await _sign_in_findings(settings, auth)
    try:
        token = load_access_token(settings.environ, None)
        tenants = TenantsFile(path, settings.environ, static_token=token is not None).current
    except (TenantsError, AccessError) as exc:
        return [*findings, Finding(False, f"Tenants file: {path} is not usable.", str(exc))]
    accounts = {tenant.account.name: tenant.account for tenant in tenants.people}
    findings.append(Finding(True, f"Tenants file: {path}, {len(tenants.people)} entries, {len(accounts)} accounts."))
    if settings.redis_url:
        findings.extend(await _redis_finding(settings.redis_url))
    async with SharedClient(settings).borrow() as client:
        for account in accounts.values():
            key = Credentials(account.api_key)
            findings.append(await _ask_ayrshare(client, key, f"account {account.name}'s key {masked(account.api_key)}"))
            for name, profile_key in account.profiles.items():
                if profile_key is not None:
                    findings.append(await _ask_ayrshare(client, key.with_profile_key(profile_key), f"profile {name}"))
    return findings


async def _sign_in_findings(settings: Settings, auth: str | None) -> list[Finding]:
    try:
        if auth_mode(settings.environ, auth) != "oauth":
            return [Finding(True, "Sign-in: the static access token only (--auth token).")]
        oauth = OAuthSettings.from_environ(settings.environ)
    except OAuthConfigError as exc:
        return [Finding(False, "Sign-in: the OAuth settings are not usable.", str(exc))]
    # Imported here: only a server that checks OAuth tokens loads the JOSE library.
    from ayrshare_mcp.auth.tokens import AuthServerError, discover

    try:
        metadata = await discover(oauth.issuer)
    except AuthServerError as exc:
        return [
            Finding(
                False,
                f"Sign-in: the authorization server {oauth.issuer} did not answer with its metadata ({exc}).",
                "Check AYRSHARE_MCP_OAUTH_ISSUER: exactly the issuer the authorization server names, and reachable.",
            )
        ]
    keys = oauth.jwks_url or metadata.get("jwks_uri")
    return [
        Finding(True, f"Sign-in: OAuth tokens from {oauth.issuer}, for {oauth.audience}; its keys at {keys}."),
        Finding(True, f"Clients register this server's URL: {oauth.resource}"),
    ]


async def _redis_finding(url: str) -> list[Finding]:
    # Imported here: a server without Redis never loads its client.
    from ayrshare_mcp.state.redis_store import RedisState, describe_url

    state = RedisState(url)
    where = describe_url(url)
    try:
        await state.ping()
        policy, appends = await state.keeping()
    except StateUnavailable:
        return [
            Finding(
                False,
                f"Redis at {where} ({ENV_REDIS_URL}) is unreachable: confirmations and publishing would be refused.",
                "Start Redis or check the URL's host, port and password, and that this machine may reach it.",
            )
        ]
    finally:
        await state.aclose()
    findings = [Finding(True, f"Redis at {where} answers: replicas pointed at it share one state.")]
    if policy != "noeviction":
        findings.append(
            Finding(
                False,
                f"Redis may evict keys under memory pressure (maxmemory-policy {policy or 'unknown'}): a spent "
                "approval or a record of a post already sent could be forgotten, and go out twice.",
                "Set maxmemory-policy noeviction (in redis.conf, or your provider's parameter group).",
            )
        )
    if not appends:
        findings.append(
            Finding(
                True,
                "Redis keeps nothing across a restart (appendonly no): after one, approvals are refused for 4 minutes "
                "so that none is used twice. appendonly yes avoids that.",
            )
        )
    return findings


def _x_pair_finding(credentials: Credentials) -> Finding:
    if credentials.x_pair is None:
        return Finding(True, "X/Twitter pair: none configured; Ayrshare refuses anything that touches X without one.")
    return Finding(True, f"X/Twitter pair: configured, API key ending {masked(credentials.x_pair.api_key)}.")


def _file_finding(settings: Settings) -> Finding:
    path = credentials_file_path(settings.environ)
    if not path.exists():
        return Finding(True, f"Credentials file: {path} does not exist (optional).")
    try:
        check_private_file(path)
    except SecretFileError as exc:
        return Finding(False, f"Credentials file: {path} is not private.", str(exc))
    note = f" (not used: {ENV_API_KEY} is set and wins)" if settings.environ.get(ENV_API_KEY, "").strip() else ""
    return Finding(True, f"Credentials file: {path} is readable by you alone{note}.")


async def _ask_ayrshare(client: AyrshareClient, credentials: Credentials, what: str) -> Finding:
    try:
        user = await client.account(credentials).get_user()
    except (AyrshareConnectionError, AyrshareTimeoutError) as exc:
        return Finding(False, f"Ayrshare could not be reached, so {what} was not checked.", exc.explain())
    except AyrshareError as exc:
        # Ayrshare's own words are quoted: if they echo a key, only its last four characters may show here.
        return Finding(False, f"Ayrshare did not accept {what}.", redact(exc.explain(), credentials.secrets()))
    title = user.get("title") or user.get("email") or "an account"
    return Finding(True, f"Ayrshare accepts {what} (profile: {title}).")
