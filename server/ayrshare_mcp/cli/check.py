"""`ayrshare-mcp check`: is the configuration usable, and does Ayrshare accept the key?

Prints one line per check, each failure with a one-line fix, and exits 0 only when all is well. Keys are shown by
their last four characters only; this is the one place they are shown at all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import anyio

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
from ayrshare_mcp.state import StateUnavailable, open_state
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


def run_check(settings: Settings) -> int:
    findings = anyio.run(_check, settings)
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
        findings.append(await _redis_finding(settings.redis_url))
    async with SharedClient(settings).borrow() as client:
        findings.append(await _ask_ayrshare(client, Credentials(credentials.api_key), "the API key"))
        if credentials.profile_key:
            findings.append(await _ask_ayrshare(client, credentials, f"profile key {masked(credentials.profile_key)}"))
        else:
            findings.append(Finding(True, "Profile key: none configured; calls act for the primary profile."))
    return findings


async def _redis_finding(url: str) -> Finding:
    # Imported here: a server without Redis never loads its client.
    from ayrshare_mcp.state.redis_store import describe_url

    state = open_state(url)
    try:
        await state.ping()
    except StateUnavailable:
        return Finding(
            False,
            f"Redis at {describe_url(url)} ({ENV_REDIS_URL}) is unreachable: confirmations and publishing would be "
            "refused.",
            "Start Redis or check the URL's host, port and password, and that this machine may reach it.",
        )
    finally:
        await state.aclose()
    return Finding(True, f"Redis at {describe_url(url)} answers: replicas pointed at it share one state.")


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
