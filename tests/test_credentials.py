"""Where the Ayrshare key comes from: the environment first, then a private credentials file, read on every call."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.credentials import (
    ENVIRONMENT,
    HEADERS,
    KINDS,
    SANDBOX_API_KEY,
    SOURCES,
    Credentials,
    CredentialsError,
    Source,
    credentials_file_path,
    every_configured_secret,
    resolve_credentials,
    sandbox_environ,
    server_key_configured,
)
from tests.envelope import fail, succeed
from tests.support import (
    API_KEY,
    CANARY,
    OTHER_API_KEY,
    PROFILE_KEY,
    WAIT,
    RunningEmulator,
    memory_client,
    settings_for,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def write_credentials(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_environment_key_wins_over_the_file(home: Path) -> None:
    write_credentials(home / ".config/ayrshare/credentials.toml", f'api_key = "{OTHER_API_KEY}"\n')

    credentials = resolve_credentials({"HOME": str(home), "AYRSHARE_API_KEY": API_KEY})

    assert credentials.api_key == API_KEY
    assert credentials.source == "environment"


def test_the_file_is_used_when_the_environment_has_no_key(home: Path) -> None:
    path = write_credentials(
        home / ".config/ayrshare/credentials.toml", f'api_key = "{API_KEY}"\nprofile_key = "{PROFILE_KEY}"\n'
    )

    credentials = resolve_credentials({"HOME": str(home), "AYRSHARE_API_KEY": "  "})

    assert (credentials.api_key, credentials.profile_key) == (API_KEY, PROFILE_KEY)
    assert credentials.source == f"file {path}"


def test_the_file_location_follows_the_explicit_variable_then_xdg_then_home(home: Path, tmp_path: Path) -> None:
    assert credentials_file_path({"HOME": str(home)}) == home / ".config/ayrshare/credentials.toml"
    assert credentials_file_path({"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "ayrshare/credentials.toml"
    )
    explicit = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path), "AYRSHARE_CREDENTIALS_FILE": "~/keys.toml"}
    assert credentials_file_path(explicit) == home / "keys.toml"


def test_no_key_anywhere_names_both_ways_to_provide_one(home: Path) -> None:
    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home)})

    assert "AYRSHARE_API_KEY" in str(raised.value)
    assert str(home / ".config/ayrshare/credentials.toml") in str(raised.value)


def test_in_the_claude_desktop_bundle_no_key_points_to_the_extensions_api_key_field(home: Path) -> None:
    bundle = json.loads((Path(__file__).parent.parent / "manifest.json").read_text(encoding="utf-8"))
    environ = {"HOME": str(home), **bundle["server"]["mcp_config"]["env"]}
    environ = {name: "" if value.startswith("${") else value for name, value in environ.items()}  # nothing entered

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials(environ)

    assert "Settings, Extensions, Ayrshare, then the API key field" in str(raised.value)
    assert "AYRSHARE_API_KEY" not in str(raised.value)


def test_a_profile_key_without_an_api_key_in_the_environment_is_refused(home: Path) -> None:
    write_credentials(home / ".config/ayrshare/credentials.toml", f'api_key = "{API_KEY}"\n')

    with pytest.raises(CredentialsError, match="AYRSHARE_PROFILE_KEY is set but AYRSHARE_API_KEY is not"):
        resolve_credentials({"HOME": str(home), "AYRSHARE_PROFILE_KEY": PROFILE_KEY})


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('api_key = "unterminated\n', "is not valid TOML"),
        ("apikey = 'typo'\n", "has no api_key"),
        ("api_key = 42\n", "has no api_key"),
        (f'api_key = "{API_KEY}"\nprofile_key = ""\n', "profile_key must be a non-empty string"),
    ],
)
def test_a_malformed_file_is_reported_with_its_path_and_problem(home: Path, content: str, problem: str) -> None:
    path = write_credentials(home / "creds.toml", content)

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)})

    assert problem in str(raised.value)
    assert str(path) in str(raised.value)
    assert API_KEY not in str(raised.value)


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_file_other_users_can_read_is_refused_with_the_chmod_fix(home: Path, mode: int) -> None:
    path = write_credentials(home / "creds.toml", f'api_key = "{API_KEY}"\n', mode=mode)

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)})

    assert f"chmod 600 {path}" in str(raised.value)


@posix_only
@pytest.mark.parametrize("mode", [0o775, 0o757, 0o777])
def test_a_file_in_a_directory_others_can_write_to_is_refused(home: Path, mode: int) -> None:
    shared = home / "shared"
    shared.mkdir()
    path = write_credentials(shared / "creds.toml", f'api_key = "{API_KEY}"\n')
    shared.chmod(mode)

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)})

    assert f"which other users may write to (mode {mode:03o}). Run: chmod go-w {shared}" in str(raised.value)
    assert "\n" not in str(raised.value)


@posix_only
def test_a_link_to_a_file_in_a_directory_others_can_write_to_is_refused(home: Path) -> None:
    shared = home / "shared"
    shared.mkdir()
    target = write_credentials(shared / "creds.toml", f'api_key = "{API_KEY}"\n')
    shared.chmod(0o777)
    link = home / "credentials.toml"
    link.symlink_to(target)

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(link)})

    assert f"is in {shared}, which other users may write to" in str(raised.value)


@posix_only
@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="giving a file to another user takes root")
def test_a_file_owned_by_another_user_is_refused_and_one_owned_by_root_is_not(home: Path) -> None:
    path = write_credentials(home / "creds.toml", f'api_key = "{API_KEY}"\n')
    environ = {"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)}
    assert resolve_credentials(environ).api_key == API_KEY  # root's own: a container's secret mount
    os.chown(path, 65534, 65534)

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials(environ)

    assert "belongs to another user (uid 65534)" in str(raised.value)


def test_credentials_never_show_their_keys_in_a_repr() -> None:
    credentials = Credentials(api_key=API_KEY, profile_key=PROFILE_KEY)

    assert API_KEY not in repr(credentials)
    assert PROFILE_KEY not in repr(credentials)
    assert API_KEY not in str(credentials)


@pytest.mark.anyio
async def test_editing_the_file_takes_effect_on_the_next_call_without_a_restart(
    emulator: RunningEmulator, home: Path
) -> None:
    path = home / ".config/ayrshare/credentials.toml"
    write_credentials(path, f'api_key = "{API_KEY}"\n')

    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home)) as client:
            await succeed(client, "AYRSHARE_GET_POST_HISTORY", {})
            write_credentials(path, f'api_key = "{OTHER_API_KEY}"\nprofile_key = "{PROFILE_KEY}"\n')
            await succeed(client, "AYRSHARE_GET_POST_HISTORY", {})
            path.chmod(0o644)
            refused = await fail(client, "AYRSHARE_GET_POST_HISTORY", {})

    first, second = emulator.app.requests
    assert (first.header("authorization"), first.header("profile-key")) == (f"Bearer {API_KEY}", None)
    assert (second.header("authorization"), second.header("profile-key")) == (f"Bearer {OTHER_API_KEY}", PROFILE_KEY)
    assert "chmod 600" in refused["error"]


@pytest.mark.parametrize("name", ["AYRSHARE_API_KEY", "AYRSHARE_PROFILE_KEY", "AYRSHARE_X_API_KEY"])
@pytest.mark.parametrize("bad", ["\n", "\r\nInjected: yes", "\x00", " inner space ", "\u00e9"])
def test_a_key_with_control_or_non_ascii_characters_is_refused_naming_its_source_never_its_value(
    home: Path, name: str, bad: str
) -> None:
    environ = {"HOME": str(home), "AYRSHARE_API_KEY": API_KEY, "AYRSHARE_X_API_SECRET": "CANARY-X-SECRET-77aa"}
    if name != "AYRSHARE_X_API_KEY":
        environ.pop("AYRSHARE_X_API_SECRET")
    environ[name] = f"CANARY-BAD{bad}KEY-1234"

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials(environ)

    assert f"The environment variable {name} is not a usable key" in str(raised.value)
    assert "CANARY" not in str(raised.value)


def test_a_key_with_a_control_character_in_the_file_is_refused_naming_the_file(home: Path) -> None:
    path = write_credentials(home / "creds.toml", 'api_key = "CANARY-BAD\\nKEY-1234"\n')

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)})

    assert f"In the credentials file {path}, api_key is not a usable key" in str(raised.value)
    assert "CANARY" not in str(raised.value)


@pytest.mark.parametrize(
    "content",
    ["a = " + "[" * 5000 + "]" * 5000 + "\n", "a = " + "{b=" * 3000 + "1" + "}" * 3000 + "\n", "x" * 70_000],
    ids=["deep-arrays", "deep-tables", "huge"],
)
def test_a_deeply_nested_or_huge_credentials_file_is_one_clear_error(home: Path, content: str) -> None:
    path = write_credentials(home / "creds.toml", content)

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)})

    assert str(path) in str(raised.value)
    assert len(str(raised.value).splitlines()) == 1


@pytest.mark.parametrize("placeholder", ["YOUR-AYRSHARE-API-KEY", "<your key>", "$AYRSHARE_API_KEY", "..."])
def test_a_key_left_as_the_readmes_placeholder_is_refused_not_sent(home: Path, placeholder: str) -> None:
    with pytest.raises(CredentialsError, match="still a placeholder"):
        resolve_credentials({"HOME": str(home), "AYRSHARE_API_KEY": placeholder})
    with pytest.raises(CredentialsError, match="placeholder"):
        resolve_credentials({"HOME": str(home)}, {"x-ayrshare-api-key": placeholder})


# --- every source, every rule ---------------------------------------------------------------------------------


Configured = tuple[dict[str, str], dict[str, str], dict[str, str]]


def configured_through(source: Source, home: Path, values: dict[str, str]) -> Configured:
    """An environment and request headers in which `source` holds `values` (by kind name), and what it holds of them."""
    held = dict(values)  # a source that can hold only some kinds (a key-only file) filters them here
    return (*_configured_through(source, home, values), held)


def _configured_through(source: Source, home: Path, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    if source is HEADERS:
        return {"HOME": str(home)}, {kind.header.lower(): values[kind.name] for kind in KINDS if kind.name in values}
    if source is ENVIRONMENT:
        return {"HOME": str(home), **{kind.variable: values[kind.name] for kind in KINDS if kind.name in values}}, {}
    lines = "".join(f'{name} = "{value}"\n' for name, value in values.items())
    path = write_credentials(home / f"creds-{len(list(home.iterdir()))}.toml", lines)
    return {"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)}, {}


CANARIES = {kind.name: f"CANARY-{kind.name.upper()}-{n}a7f3c9" for n, kind in enumerate(KINDS)}


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: type(source).__name__.strip("_"))
def test_every_source_is_read_redacted_and_stripped_in_the_sandbox(home: Path, source: Source) -> None:
    environ, headers, held = configured_through(source, home, CANARIES)

    credentials = resolve_credentials(environ, headers if source is HEADERS else None)
    secrets = every_configured_secret(environ, headers)
    sandboxed = sandbox_environ(environ)

    assert credentials.secrets() == tuple(held.values())
    assert set(held.values()) <= set(secrets), "every value of every source is redacted"
    assert CANARY not in json.dumps(sandboxed), "the sandbox keeps no real credential"
    assert not set(held.values()) & set(every_configured_secret(sandboxed)), "nor a pointer to one"
    assert resolve_credentials(sandboxed).api_key == SANDBOX_API_KEY


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: type(source).__name__.strip("_"))
def test_every_source_of_the_servers_own_key_makes_http_need_a_token(home: Path, source: Source) -> None:
    environ, _, _ = configured_through(source, home, {"api_key": CANARIES["api_key"]})

    assert server_key_configured(environ) is source.servers_own


def test_one_rule_says_what_is_a_secret_for_loading_and_for_redacting(home: Path) -> None:
    short = "abcd"
    environ = {"HOME": str(home), "AYRSHARE_API_KEY": short}

    with pytest.raises(CredentialsError, match="5 to 200 visible ASCII characters"):
        resolve_credentials(environ)
    assert short not in every_configured_secret(environ)
