"""The tenants file: which Ayrshare account, profiles and scopes each person signing in acts with.

The operator writes it (TOML, private to its owner, like the credentials file). It names where each key is kept,
an environment variable or a secret file, never the key itself:

    group_claim = "groups"                  # the token claim listing a person's groups (this is the default)

    [accounts.agency]
    api_key = { env = "AGENCY_AYRSHARE_KEY" }                # or { file = "/run/secrets/agency-key" }
    x_pair = { key = { env = "AGENCY_X_KEY" }, secret = { env = "AGENCY_X_SECRET" } }   # optional
    [accounts.agency.profiles]                               # a profile's name, and where its Profile-Key is
    acme-corp = { env = "ACME_PROFILE_KEY" }
    main-brand = "primary"                                   # the account's primary profile: no Profile-Key

    [[people]]
    name = "alice"
    issuer = "https://auth.example.com"
    subject = "auth0|123"                   # or: group = "social-team", anyone in that group at that issuer
    account = "agency"
    profiles = ["acme-corp", "main-brand"]  # the first is the default, unless default_profile says otherwise
    scopes = ["ayrshare:read"]              # optional: at most these, whatever the token holds

    [[people]]
    name = "scripts"
    static_token = true                     # the AYRSHARE_MCP_TOKEN holder acts as this entry
    account = "agency"
    profiles = ["main-brand"]

A person is matched by issuer and subject first, then by the first group entry, in file order, whose issuer and
group they have. Everything is checked when the file is read (at start, and again on SIGHUP, when a bad file
leaves the one before it in force): a problem names the entry and the field, never a key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.credentials import CREDENTIAL_PATTERN, Credentials, CredentialsError, XPair, is_placeholder
from ayrshare_mcp.secret_files import SecretFileError, read_private_file

ENV_TENANTS_FILE = "AYRSHARE_MCP_TENANTS_FILE"
MAX_TENANTS_FILE_BYTES = 256 * 1024
# A secret file named in the tenants file holds one key.
MAX_KEY_FILE_BYTES = 4096
DEFAULT_GROUP_CLAIM = "groups"
PRIMARY = "primary"
_NAME_RULE = "5 to 200 visible ASCII characters (what the Profile-Key argument takes)"


class TenantsError(Exception):
    """The tenants file is unusable; the message names the file, the entry and the field, never a key."""


@dataclass(frozen=True)
class Account:
    """One Ayrshare account: its key, its X pair, and its profiles' keys by name (None: the primary profile)."""

    name: str
    api_key: str = field(repr=False)
    x_pair: XPair | None = field(default=None, repr=False)
    profiles: Mapping[str, str | None] = field(default_factory=dict, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """Every key of this account, for redaction: Ayrshare may echo a profile's key other than the one used."""
        pair = (self.x_pair.api_key, self.x_pair.api_secret) if self.x_pair else ()
        values = {self.api_key, *pair, *(key for key in self.profiles.values() if key)}
        return tuple(sorted(values, key=len, reverse=True))


@dataclass(frozen=True)
class Tenant:
    """One entry of `[[people]]`: who it matches, and what they may act for."""

    name: str
    account: Account
    profiles: tuple[str, ...]
    default_profile: str
    issuer: str | None = None
    subject: str | None = None
    group: str | None = None
    static_token: bool = False
    # At most these scopes, whatever the token holds; None: the token's.
    scopes: frozenset[str] | None = None

    def credentials(self, profile: str | None) -> Credentials:
        """The credentials for acting on `profile` (a name from this person's list; None: their default).

        Raises:
            CredentialsError: the name is not one of theirs; the message lists the names they have.
        """
        name = self.default_profile if profile is None else profile
        if name not in self.profiles:
            raise CredentialsError(
                f"Profile-Key takes a profile name here, and {name[:64]!r} is not one you may act for. Yours: "
                f"{', '.join(self.profiles)} (AYRSHARE_LIST_PROFILES lists them). Nothing was sent to Ayrshare."
            )
        return Credentials(
            self.account.api_key,
            self.account.profiles[name],
            self.account.x_pair,
            source=f"tenants file ({self.name})",
        )

    def allowed(self, granted: frozenset[str]) -> frozenset[str]:
        """The scopes this person may use, of those their token grants."""
        return granted if self.scopes is None else granted & self.scopes


@dataclass(frozen=True)
class Tenants:
    """The tenants file as read: its people, in file order."""

    people: tuple[Tenant, ...]
    group_claim: str = DEFAULT_GROUP_CLAIM

    @property
    def static_entry(self) -> Tenant | None:
        return next((tenant for tenant in self.people if tenant.static_token), None)

    def person(self, issuer: str | None, subject: str | None, claims: Mapping[str, Any]) -> Tenant | None:
        """The entry for whoever holds a token with these issuer, subject and claims; None for a stranger."""
        if issuer is None:
            return None
        signed_in = [tenant for tenant in self.people if not tenant.static_token and tenant.issuer == issuer]
        if subject is not None:
            for tenant in signed_in:
                if tenant.subject == subject:
                    return tenant
        groups = _groups(claims.get(self.group_claim))
        return next((tenant for tenant in signed_in if tenant.group is not None and tenant.group in groups), None)


def _groups(claim: object) -> frozenset[str]:
    if isinstance(claim, str):
        return frozenset({claim})
    if isinstance(claim, list):
        return frozenset(item for item in claim if isinstance(item, str))
    return frozenset()


def tenants_file_path(environ: Mapping[str, str], given: Path | None = None) -> Path | None:
    if given is not None:
        return given
    text = environ.get(ENV_TENANTS_FILE, "").strip()
    return Path(text) if text else None


def load_tenants(path: Path, environ: Mapping[str, str]) -> Tenants:
    """The tenants file at `path`, every entry and every key it names checked.

    Raises:
        TenantsError: the file is unreadable, too open, too large or too deep, not TOML, or an entry is wrong.
    """
    try:
        text = read_private_file(path, "tenants file", max_bytes=MAX_TENANTS_FILE_BYTES)
    except SecretFileError as exc:
        raise TenantsError(str(exc)) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TenantsError(f"The tenants file {path} is not valid TOML ({str(exc).splitlines()[0]}).") from None
    except RecursionError:
        raise TenantsError(f"The tenants file {path} is nested too deeply to be a tenants file.") from None
    return _Reader(path, environ).tenants(document)


class _Reader:
    """Reads one tenants document, naming `path` and the entry in every complaint."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self._path = path
        self._environ = environ

    def fail(self, where: str, problem: str) -> TenantsError:
        return TenantsError(f"In the tenants file {self._path}, {where}: {problem}")

    def tenants(self, document: dict[str, Any]) -> Tenants:
        unknown = set(document) - {"group_claim", "accounts", "people"}
        if unknown:
            raise self.fail("the top level", f"unknown keys {sorted(unknown)}; expected group_claim, accounts, people.")
        group_claim = document.get("group_claim", DEFAULT_GROUP_CLAIM)
        if not isinstance(group_claim, str) or not group_claim.strip():
            raise self.fail("group_claim", "must be the name of a token claim, e.g. groups.")
        accounts = self._table(document.get("accounts"), "accounts")
        read = {name: self.account(name, self._table(value, f"accounts.{name}")) for name, value in accounts.items()}
        people = document.get("people")
        if not isinstance(people, list) or not people:
            raise self.fail("people", "add at least one [[people]] entry saying who acts for which account.")
        tenants = tuple(self.tenant(index, entry, read) for index, entry in enumerate(people))
        self._check_unique(tenants)
        return Tenants(tenants, group_claim=group_claim.strip())

    def _table(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not value:
            raise self.fail(where, "must be a table with at least one entry.")
        return value

    def account(self, name: str, table: dict[str, Any]) -> Account:
        where = f"accounts.{name}"
        unknown = set(table) - {"api_key", "x_pair", "profiles"}
        if unknown:
            raise self.fail(where, f"unknown keys {sorted(unknown)}; expected api_key, x_pair, profiles.")
        api_key = self.secret(table.get("api_key"), f"{where}.api_key")
        pair = None
        if "x_pair" in table:
            x_table = self._table(table["x_pair"], f"{where}.x_pair")
            pair = XPair(
                self.secret(x_table.get("key"), f"{where}.x_pair.key"),
                self.secret(x_table.get("secret"), f"{where}.x_pair.secret"),
            )
        profiles: dict[str, str | None] = {}
        for profile, reference in self._table(table.get("profiles"), f"{where}.profiles").items():
            if not _usable(profile):
                raise self.fail(f"{where}.profiles", f"the profile name {profile[:64]!r} must be {_NAME_RULE}.")
            primary = reference == PRIMARY
            profiles[profile] = None if primary else self.secret(reference, f"{where}.profiles.{profile}")
        return Account(name, api_key, pair, profiles)

    def secret(self, reference: object, where: str) -> str:
        """The key a reference leads to: { env = "NAME" } or { file = "/path" }."""
        if not isinstance(reference, dict) or len(reference) != 1 or not {"env", "file"} & set(reference):
            raise self.fail(where, 'say where the key is kept: { env = "VARIABLE" } or { file = "/path" }, never the '
                            "key itself.")  # fmt: skip
        if "env" in reference:
            variable = str(reference["env"])
            value = self._environ.get(variable, "").strip()
            if not value:
                raise self.fail(where, f"the environment variable {variable} is not set.")
        else:
            key_file = Path(str(reference["file"]))
            try:
                value = read_private_file(key_file, "key file", max_bytes=MAX_KEY_FILE_BYTES).strip()
            except SecretFileError as exc:
                raise self.fail(where, str(exc)) from None
        if is_placeholder(value) or not _usable(value):
            raise self.fail(where, "the key it leads to is not usable: 5 to 200 visible ASCII characters. Copy it "
                            "again from the Ayrshare dashboard.")  # fmt: skip
        return value

    def tenant(self, index: int, entry: object, accounts: Mapping[str, Account]) -> Tenant:
        where = f"people[{index}]"
        if not isinstance(entry, dict):
            raise self.fail(where, "must be a table.")
        allowed = {"name", "issuer", "subject", "group", "static_token", "account", "profiles", "default_profile"}
        unknown = set(entry) - allowed - {"scopes"}
        if unknown:
            raise self.fail(where, f"unknown keys {sorted(unknown)}; expected {', '.join(sorted(allowed))}, scopes.")
        name = self._text(entry, "name", where)
        where = f"people[{index}] ({name[:64]})"
        static = entry.get("static_token", False)
        if not isinstance(static, bool):
            raise self.fail(where, "static_token must be true or false.")
        issuer, subject, group = (self._optional_text(entry, key, where) for key in ("issuer", "subject", "group"))
        if static and (issuer or subject or group):
            raise self.fail(where, "an entry is either the static token's (static_token = true) or a person's "
                            "(issuer with subject or group), not both.")  # fmt: skip
        if not static and not (issuer and (subject is None) != (group is None)):
            raise self.fail(where, "name the issuer, and either the subject or the group it matches.")
        account_name = self._text(entry, "account", where)
        if account_name not in accounts:
            raise self.fail(where, f"account {account_name[:64]!r} is not under [accounts].")
        account = accounts[account_name]
        profiles = entry.get("profiles")
        if not isinstance(profiles, list) or not profiles or not all(isinstance(item, str) for item in profiles):
            raise self.fail(where, "profiles must list the names of the profiles this entry may act for.")
        if missing := [profile for profile in profiles if profile not in account.profiles]:
            raise self.fail(where, f"profiles {missing} are not under [accounts.{account_name}.profiles].")
        default = entry.get("default_profile", profiles[0])
        if not isinstance(default, str) or default not in profiles:
            raise self.fail(where, "default_profile must be one of its profiles.")
        return Tenant(
            name=name,
            account=account,
            profiles=tuple(dict.fromkeys(profiles)),
            default_profile=default,
            issuer=issuer,
            subject=subject,
            group=group,
            static_token=static,
            scopes=self._scopes(entry, where),
        )

    def _scopes(self, entry: dict[str, Any], where: str) -> frozenset[str] | None:
        if "scopes" not in entry:
            return None
        listed = entry["scopes"]
        if not isinstance(listed, list) or not all(item in scopes.ALL for item in listed):
            raise self.fail(where, f"scopes must list some of {', '.join(scopes.ALL)}.")
        return frozenset(listed)

    def _optional_text(self, entry: dict[str, Any], key: str, where: str) -> str | None:
        return None if entry.get(key) is None else self._text(entry, key, where)

    def _text(self, entry: dict[str, Any], key: str, where: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{key} must be a non-empty string.")
        return value.strip()

    def _check_unique(self, tenants: tuple[Tenant, ...]) -> None:
        names = [tenant.name for tenant in tenants]
        if duplicated := sorted({name for name in names if names.count(name) > 1}):
            raise self.fail("people", f"the names {duplicated} are used twice; each entry has its own.")
        if sum(tenant.static_token for tenant in tenants) > 1:
            raise self.fail("people", "only one entry may be the static token's.")
        people = [(tenant.issuer, tenant.subject) for tenant in tenants if tenant.subject is not None]
        if len(set(people)) < len(people):
            raise self.fail("people", "two entries match the same issuer and subject.")


_USABLE = re.compile(CREDENTIAL_PATTERN)


def _usable(text: str) -> bool:
    """The one rule for a key and for a profile's name alike (the Profile-Key argument takes either)."""
    return _USABLE.match(text) is not None


class TenantsFile:
    """The tenants in force: read at start, read again on SIGHUP (a bad file keeps the ones before it)."""

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None, *, static_token: bool = False) -> None:
        self._path = path
        self._environ = os.environ if environ is None else environ
        # With a static token set, the file must say whom it acts as, at start and on every reread.
        self._static_token = static_token
        self.current = self._read()

    def _read(self) -> Tenants:
        tenants = load_tenants(self._path, self._environ)
        if self._static_token and tenants.static_entry is None:
            raise TenantsError(
                f"An access token is set, and the tenants file {self._path} has no entry for its holder: add a "
                "[[people]] entry with static_token = true, or unset the token."
            )
        return tenants

    def reload(self) -> str:
        """Read the file again; what happened, for the log.

        The old tenants stay in force when the new file is unusable.
        """
        try:
            self.current = self._read()
        except TenantsError as exc:
            return f"Kept the tenants read before: {exc}"
        return f"Read the tenants file {self._path} again: {len(self.current.people)} entries."
