"""Settings and the access policy: every unusable value is one clear error that names the setting and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ayrshare_mcp.access import AccessError, AccessPolicy, load_access_token
from ayrshare_mcp.settings import ConfigError, Settings
from tests.support import run_cli

STRONG_SECRET = "CANARY-STATE-SECRET-0123456789abcdefghij"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("AYRSHARE_BASE_URL", "ftp://example.com", "must be an http(s) URL"),
        ("AYRSHARE_BASE_URL", "https://api.ayrshare.com/api\r\nX-Injected: 1", "contains a line break"),
        ("AYRSHARE_BASE_URL", "https://", "must be an http(s) URL"),
        ("AYRSHARE_BASE_URL", "https://api.ayrshare.com:99999/api", "must be an http(s) URL"),
        ("AYRSHARE_TIMEOUT", "soon", "must be a number of seconds"),
        ("AYRSHARE_TIMEOUT", "0", "between 0 and 600 seconds"),
        ("AYRSHARE_ATTEMPT_TIMEOUT", "900", "between 0 and 600 seconds"),
        ("AYRSHARE_MAX_RETRIES", "5", "must be 0, 1 or 2"),
        ("AYRSHARE_MCP_LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO, WARNING, ERROR"),
        ("AYRSHARE_READ_ONLY", "maybe", "must be true or false"),
        ("AYRSHARE_ALLOW_UNCONFIRMED_DELETES", "2", "must be true or false"),
        ("AYRSHARE_MCP_STATE_SECRET", "too-short", "at least 32 random characters"),
        ("AYRSHARE_MCP_STATE_SECRET", "a" * 40, "at least 32 random characters"),
    ],
)
def test_an_unusable_setting_names_itself_and_what_it_must_be(name: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_environ({name: value})

    assert name in str(raised.value)
    assert problem in str(raised.value)


def test_flags_read_the_usual_spellings_and_an_unfilled_placeholder_as_off() -> None:
    assert Settings.from_environ({"AYRSHARE_READ_ONLY": "yes"}).read_only is True
    assert Settings.from_environ({"AYRSHARE_READ_ONLY": "Off"}).read_only is False
    assert Settings.from_environ({"AYRSHARE_READ_ONLY": "${user_config.read_only}"}).read_only is False


def test_an_attempt_never_outlasts_its_call() -> None:
    settings = Settings.from_environ({"AYRSHARE_TIMEOUT": "8", "AYRSHARE_ATTEMPT_TIMEOUT": "20"})

    assert (settings.call_timeout, settings.attempt_timeout) == (8.0, 8.0)


def test_the_state_secret_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    private = tmp_path / "secret"
    private.write_text(STRONG_SECRET + "\n", encoding="utf-8")
    private.chmod(0o600)
    shared = tmp_path / "shared"
    shared.write_text(STRONG_SECRET, encoding="utf-8")
    shared.chmod(0o644)

    assert Settings.from_environ({"AYRSHARE_MCP_STATE_SECRET": STRONG_SECRET}).state_secret == STRONG_SECRET.encode()
    assert (
        Settings.from_environ({"AYRSHARE_MCP_STATE_SECRET_FILE": str(private)}).state_secret == STRONG_SECRET.encode()
    )
    assert Settings.from_environ({}).state_secret is None
    with pytest.raises(ConfigError, match="chmod 600"):
        Settings.from_environ({"AYRSHARE_MCP_STATE_SECRET_FILE": str(shared)})
    assert "STATE-SECRET" not in repr(Settings.from_environ({"AYRSHARE_MCP_STATE_SECRET": STRONG_SECRET}))


@pytest.mark.anyio
async def test_the_command_line_turns_a_configuration_error_into_one_line_and_exit_1(home: Path) -> None:
    code, stdout, stderr = await run_cli("tools", env={"HOME": str(home), "AYRSHARE_TIMEOUT": "soon"})

    assert code == 1
    assert stdout == ""
    assert stderr.strip() == "ayrshare-mcp: AYRSHARE_TIMEOUT must be a number of seconds, got 'soon'."


def test_over_http_the_servers_key_is_lent_only_to_token_holders() -> None:
    keyless = AccessPolicy.for_http(token=None, server_key=False)
    tokened = AccessPolicy.for_http(token="t" * 24, server_key=True)

    assert (keyless.token, keyless.lends_server_key) == (None, False)
    assert tokened.lends_server_key is True
    with pytest.raises(AccessError, match="through a reverse proxy or tunnel"):
        AccessPolicy.for_http(token=None, server_key=True)


def test_a_token_file_is_read_private_and_stripped(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("CANARY-TOKEN-0a1b2c3d4e5f6g7h8i9j\n", encoding="utf-8")
    path.chmod(0o600)
    missing = tmp_path / "absent"

    assert load_access_token({}, path) == "CANARY-TOKEN-0a1b2c3d4e5f6g7h8i9j"
    assert load_access_token({}, None) is None
    with pytest.raises(AccessError, match="Cannot read the token file"):
        load_access_token({}, missing)
    with pytest.raises(AccessError, match="other than visible ASCII"):
        load_access_token({"AYRSHARE_MCP_TOKEN": "CANARY TOKEN WITH SPACES 1234567890"}, None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "warned"),
    [("http://ayrshare.example.net/api", True), ("http://127.0.0.1:8765/api", False), ("https://x.example/api", False)],
)
async def test_a_plain_http_base_url_beyond_this_machine_is_warned_about(home: Path, url: str, warned: bool) -> None:
    _, _, stderr = await run_cli("tools", "--summary", env={"HOME": str(home), "AYRSHARE_BASE_URL": url})

    assert ("plain http:// to another machine" in stderr) is warned


@pytest.mark.parametrize(
    "url",
    ["redis://cache.internal:6379/0", "rediss://:CANARY-PW@cache.internal:6380", "unix:///run/redis/redis.sock"],
)
def test_a_redis_url_over_tcp_tls_or_a_socket_is_taken_as_given(url: str) -> None:
    settings = Settings.from_environ({"AYRSHARE_MCP_REDIS_URL": f" {url} "})
    assert settings.redis_url == url
    assert "CANARY" not in repr(settings)


def test_without_a_redis_url_everything_stays_in_this_process() -> None:
    assert Settings.from_environ({}).redis_url is None
    assert Settings.from_environ({"AYRSHARE_MCP_REDIS_URL": "  "}).redis_url is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://:CANARY-PW@cache.internal:6379", "must start with redis://, rediss:// (TLS) or unix://"),
        ("redis://:CANARY-PW@cache.internal:port", "not a valid URL"),
        ("redis://:CANARY-PW@:6379", "must name the Redis host"),
        ("unix://:CANARY-PW@relative.sock", "full path"),
        ("redis://:CANARY-PW@cache internal", "space or control character"),
    ],
)
def test_an_unusable_redis_url_says_what_it_must_be_without_echoing_its_password(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_environ({"AYRSHARE_MCP_REDIS_URL": url})
    assert problem in str(raised.value)
    assert "AYRSHARE_MCP_REDIS_URL" in str(raised.value)
    assert "CANARY" not in str(raised.value)
