"""The tenants file as the operator writes it: every mistake is refused at start with the entry and field named and
no key shown, a reread that fails keeps the tenants before it, and SIGHUP rereads it in a running server. The
key-set cache of the token verifier is here too: a key the authorization server dropped stops being trusted."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayrshare_mcp.auth.tenants import TenantsError, TenantsFile, load_tenants
from ayrshare_mcp.auth.tokens import AuthServerError, JwksCache
from ayrshare_mcp.credentials import CredentialsError
from tests.support import API_KEY, CANARY, PROCESS_WAIT, PROFILE_KEY, TOKEN, RunningEmulator, child_env, server_env
from tests.token_issuer import rsa_key

pytestmark = pytest.mark.anyio

ISSUER = "https://auth.example.test"
ENVIRON = {"AGENCY_KEY": API_KEY, "ACME_KEY": PROFILE_KEY, "SPACED_KEY": "CANARY KEY WITH SPACES"}
GOOD = f"""
[accounts.agency]
api_key = {{ env = "AGENCY_KEY" }}
[accounts.agency.profiles]
acme-corp = {{ env = "ACME_KEY" }}
main-brand = "primary"

[[people]]
name = "alice"
issuer = "{ISSUER}"
subject = "alice"
account = "agency"
profiles = ["acme-corp", "main-brand"]
"""

ALICE = GOOD[GOOD.index("[[people]]") :]
STATIC = '\n[[people]]\nname = "scripts"\nstatic_token = true\naccount = "agency"\nprofiles = ["main-brand"]\n'


def written(folder: Path, text: str, mode: int = 0o600) -> Path:
    path = folder / "tenants.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_person_is_matched_by_issuer_and_subject_and_acts_for_their_default_profile(tmp_path: Path) -> None:
    tenants = load_tenants(written(tmp_path, GOOD), ENVIRON)

    alice = tenants.person(ISSUER, "alice", {})
    assert alice is not None
    assert alice.credentials(None).profile_key == PROFILE_KEY
    assert alice.credentials("main-brand").profile_key is None
    assert tenants.person("https://evil.example.test", "alice", {}) is None
    assert tenants.person(ISSUER, "bob", {}) is None


def test_a_profile_name_outside_the_list_is_refused_without_showing_any_key(tmp_path: Path) -> None:
    alice = load_tenants(written(tmp_path, GOOD), ENVIRON).person(ISSUER, "alice", {})
    assert alice is not None

    with pytest.raises(CredentialsError, match="acme-corp, main-brand") as refused:
        alice.credentials("globex-inc")
    assert CANARY not in str(refused.value)


MISTAKES = {
    "a key written inline": (GOOD.replace('{ env = "ACME_KEY" }', '"CANARY-INLINE-KEY-12345"'), "never the key"),
    "a variable that is not set": (GOOD.replace("AGENCY_KEY", "UNSET_KEY"), "UNSET_KEY is not set"),
    "a profile the account lacks": (GOOD.replace('"acme-corp", "main', '"nobody-profile", "main'), "nobody-profile"),
    "an account that is not there": (GOOD.replace('account = "agency"', 'account = "elsewhere"'), "elsewhere"),
    "an entry with neither subject nor group": (GOOD.replace('subject = "alice"', ""), "subject or the group"),
    "an unknown key": (GOOD.replace('name = "alice"', 'name = "alice"\nrole = "admin"'), "role"),
    "an unknown scope": (GOOD.replace('name = "alice"', 'name = "alice"\nscopes = ["ayrshare:all"]'), "scopes"),
    "no people": (GOOD.split("[[people]]")[0], "at least one [[people]]"),
    "a profile name too short for Profile-Key": (GOOD.replace("acme-corp", "acme"), "5 to 200"),
    "two entries under one name": (
        GOOD + GOOD[GOOD.index("[[people]]") :].replace('"alice"\naccount', '"al"\naccount'),
        "used twice",
    ),
    "two entries for one person": (
        GOOD + GOOD[GOOD.index("[[people]]") :].replace('name = "alice"', 'name = "al"'),
        "same issuer and subject",
    ),
    "an unknown top-level key": ("owner = 'me'\n" + GOOD, "unknown keys ['owner']"),
    "an empty group claim": ("group_claim = ' '\n" + GOOD, "group_claim"),
    "an account with no profiles": (
        GOOD.replace('acme-corp = { env = "ACME_KEY" }\nmain-brand = "primary"', ""),
        "at least one entry",
    ),
    "an unknown account key": (
        GOOD.replace("[accounts.agency.profiles]", 'plan = "pro"\n[accounts.agency.profiles]'),
        "unknown keys ['plan']",
    ),
    "a key with a space in it": (GOOD.replace("AGENCY_KEY", "SPACED_KEY"), "not usable"),
    "a key file that is not there": (
        GOOD.replace('{ env = "AGENCY_KEY" }', '{ file = "/nonexistent/key" }'),
        "Cannot read",
    ),
    "a person that is not a table": ("people = ['alice']\n" + GOOD.split("[[people]]")[0], "must be a table"),
    "static_token that is not a boolean": (
        GOOD.replace('name = "alice"', 'name = "alice"\nstatic_token = "yes"'),
        "true or false",
    ),
    "an entry both static and a person": (
        GOOD.replace('name = "alice"', 'name = "alice"\nstatic_token = true'),
        "not both",
    ),
    "profiles that are not a list": (
        GOOD.replace('profiles = ["acme-corp", "main-brand"]', 'profiles = "acme-corp"'),
        "profiles must list",
    ),
    "a default profile not in the list": (
        GOOD.replace('name = "alice"', 'name = "alice"\ndefault_profile = "other-one"'),
        "default_profile",
    ),
    "an empty name": (GOOD.replace('name = "alice"', 'name = ""'), "name must be a non-empty string"),
    "two static entries": (GOOD + STATIC + STATIC.replace('"scripts"', '"scripts-2"'), "only one entry"),
    "not TOML": ("[[people]\nname=", "not valid TOML"),
    "nested absurdly deep": ("x = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_in_the_tenants_file_is_refused_naming_where_and_no_key(tmp_path: Path, mistake: str) -> None:
    text, said = MISTAKES[mistake]
    with pytest.raises(TenantsError) as refused:
        load_tenants(written(tmp_path, text), ENVIRON)

    assert said in str(refused.value)
    assert CANARY not in str(refused.value)


def test_a_group_claim_given_as_one_string_matches_and_the_x_pair_comes_with_the_account(tmp_path: Path) -> None:
    text = GOOD.replace(
        "[accounts.agency.profiles]",
        'x_pair = { key = { env = "X_KEY" }, secret = { env = "X_SECRET" } }\n[accounts.agency.profiles]',
    ) + ALICE.replace('subject = "alice"', 'group = "social"').replace('name = "alice"', 'name = "social"')
    environ = {**ENVIRON, "X_KEY": "CANARY-X-KEY-3e9a7c5b1d", "X_SECRET": "CANARY-X-SECRET-6f2d8a4c0e"}
    tenants = load_tenants(written(tmp_path, text), environ)

    member = tenants.person(ISSUER, "bob", {"groups": "social"})
    assert member is not None
    assert member.name == "social"
    credentials = member.credentials(None)
    assert credentials.x_pair is not None
    assert credentials.x_pair.api_key == "CANARY-X-KEY-3e9a7c5b1d"
    assert tenants.person(None, "alice", {}) is None
    assert tenants.person(ISSUER, "bob", {"groups": 42}) is None


def test_a_tenants_file_others_can_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TenantsError, match="chmod 600"):
        load_tenants(written(tmp_path, GOOD, mode=0o644), ENVIRON)


def test_a_tenants_file_far_larger_than_one_is_refused_unread(tmp_path: Path) -> None:
    with pytest.raises(TenantsError, match="larger than"):
        load_tenants(written(tmp_path, GOOD + "#" * 300_000), ENVIRON)


def test_a_key_kept_in_a_secret_file_is_read_from_it(tmp_path: Path) -> None:
    secret = tmp_path / "agency-key"
    secret.write_text(API_KEY + "\n")
    secret.chmod(0o600)
    text = GOOD.replace('{ env = "AGENCY_KEY" }', f'{{ file = "{secret}" }}')

    alice = load_tenants(written(tmp_path, text), {"ACME_KEY": PROFILE_KEY}).person(ISSUER, "alice", {})

    assert alice is not None
    assert alice.credentials(None).api_key == API_KEY


def test_a_reread_that_fails_keeps_the_tenants_read_before(tmp_path: Path) -> None:
    path = written(tmp_path, GOOD)
    tenants = TenantsFile(path, ENVIRON)
    path.write_text("[[people]\n")

    said = tenants.reload()

    assert "Kept the tenants read before" in said
    assert tenants.current.person(ISSUER, "alice", {}) is not None


def test_a_reread_that_drops_the_static_tokens_entry_keeps_the_tenants_read_before(tmp_path: Path) -> None:
    path = written(tmp_path, GOOD + STATIC)
    tenants = TenantsFile(path, ENVIRON, static_token=True)
    path.write_text(GOOD)

    said = tenants.reload()

    assert "no entry for its holder" in said
    assert tenants.current.static_entry is not None


async def test_sighup_rereads_the_tenants_file_of_a_running_server(emulator: RunningEmulator, tmp_path: Path) -> None:
    path = written(tmp_path, GOOD)
    env = server_env(emulator, tmp_path, AYRSHARE_MCP_TOKEN=TOKEN, **ENVIRON)
    static = (
        GOOD + '\n[[people]]\nname = "scripts"\nstatic_token = true\naccount = "agency"\nprofiles = ["main-brand"]\n'
    )
    path.write_text(static)
    command = [sys.executable, "-m", "ayrshare_mcp", "--transport", "streamable-http", "--port", "0"]
    command += ["--tenants", str(path), "--log-level", "INFO"]
    with anyio.fail_after(PROCESS_WAIT):
        async with await anyio.open_process(command, env=child_env(env)) as process:
            assert process.stderr is not None
            seen = await _read_until(process.stderr, b"MCP over streamable-http")
            path.write_text(static.replace('name = "alice"', 'name = "alice-renamed"'))
            process.send_signal(signal.SIGHUP)
            seen += await _read_until(process.stderr, b"Read the tenants file")
            process.terminate()

    assert b"2 entries" in seen


async def _read_until(stream: Any, text: bytes) -> bytes:
    seen = b""
    while text not in seen:
        seen += await stream.receive()
    return seen


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_key_the_authorization_server_dropped_is_trusted_no_longer_than_the_maximum_age() -> None:
    key = rsa_key("k1")
    published = [{"keys": [key.public_jwk()]}]
    clock = _Clock()

    async def fetch(url: str) -> Any:
        return published[-1]

    cache = JwksCache("https://auth.example.test/jwks", fetch, max_age=300, refetch_seconds=30, clock=clock)
    assert await cache.key("k1") is not None

    published.append({"keys": []})
    clock.now = 299
    assert await cache.key("k1") is not None
    clock.now = 301
    assert await cache.key("k1") is None


async def test_keys_older_than_the_maximum_age_are_dropped_when_the_authorization_server_cannot_be_reached() -> None:
    clock = _Clock()
    reachable = [True]

    async def fetch(url: str) -> Any:
        if not reachable[-1]:
            raise AuthServerError("down")
        return {"keys": [rsa_key("k1").public_jwk()]}

    cache = JwksCache("https://auth.example.test/jwks", fetch, max_age=300, refetch_seconds=30, clock=clock)
    assert await cache.key("k1") is not None
    reachable.append(False)
    clock.now = 301

    assert await cache.key("k1") is None


async def test_an_authorization_server_that_fails_is_not_asked_again_for_every_token() -> None:
    clock = _Clock()
    fetches = []

    async def fetch(url: str) -> Any:
        fetches.append(clock.now)
        raise AuthServerError("down")

    cache = JwksCache("https://auth.example.test/jwks", fetch, max_age=300, refetch_seconds=30, clock=clock)
    for _ in range(20):
        assert await cache.key("k1") is None
    clock.now = 31
    assert await cache.key("k1") is None

    assert fetches == [0, 31]


@pytest.mark.parametrize("kty", ["oct"])
async def test_a_symmetric_key_in_the_key_set_is_never_used(kty: str) -> None:
    async def fetch(url: str) -> Any:
        return {"keys": [{"kty": kty, "k": "c2VjcmV0", "kid": "k1", "alg": "HS256"}]}

    cache = JwksCache("https://auth.example.test/jwks", fetch, max_age=300, refetch_seconds=30)

    assert await cache.key("k1") is None
