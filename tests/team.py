"""The team the sign-in tests host for: one agency account with three profiles, its keys in the environment, and
a tenants file naming who acts for which, written as the operator would (TOML, chmod 600)."""

from __future__ import annotations

from pathlib import Path

from tests.support import API_KEY, PROFILE_KEY

GLOBEX_KEY = "CANARY-PROFILE-GLOBEX-2b7c9e"
# Where the tenants file says the keys are.
KEYS = {"AGENCY_KEY": API_KEY, "ACME_KEY": PROFILE_KEY, "GLOBEX_KEY": GLOBEX_KEY}
ACCOUNT = """
[accounts.agency]
api_key = { env = "AGENCY_KEY" }
[accounts.agency.profiles]
acme-corp = { env = "ACME_KEY" }
globex-inc = { env = "GLOBEX_KEY" }
main-brand = "primary"
"""


def person(name: str, issuer: str, profiles: list[str], *, subject: str = "", group: str = "") -> str:
    """A `[[people]]` entry matching `subject` (default: the name) at `issuer`, or everyone in `group`."""
    match = f'group = "{group}"' if group else f'subject = "{subject or name}"'
    return f'[[people]]\nname = "{name}"\nissuer = "{issuer}"\n{match}\naccount = "agency"\nprofiles = {profiles}\n'


def static_token_holder(profiles: list[str], scopes: list[str] | None = None) -> str:
    limit = f"scopes = {scopes}\n" if scopes is not None else ""
    return f'[[people]]\nname = "scripts"\nstatic_token = true\naccount = "agency"\nprofiles = {profiles}\n{limit}'


def tenants_file(folder: Path, *people: str) -> Path:
    path = folder / "tenants.toml"
    path.write_text(ACCOUNT + "\n".join(("", *people)).replace("'", '"'))
    path.chmod(0o600)
    return path
