"""The X/Twitter pair: from the environment, the credentials file or request headers, sent on every Ayrshare request
exactly when configured, never lent to a caller who brings their own Ayrshare key, and explained when it is missing."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.credentials import X_BYO_SETUP_URL, CredentialsError, XPair, resolve_credentials
from ayrshare_mcp.transports.options import HttpOptions
from tests.envelope import fail, succeed
from tests.support import (
    API_KEY,
    OTHER_API_KEY,
    PROFILE_KEY,
    WAIT,
    X_API_KEY,
    X_API_SECRET,
    RunningEmulator,
    http_server,
    http_session,
    memory_client,
    settings_for,
)

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
DELETE = "AYRSHARE_DELETE_DELETE_POST"
SET_SCHEDULE = "AYRSHARE_POST_SET_AUTO_SCHEDULE"
X_ENV = {"AYRSHARE_X_API_KEY": X_API_KEY, "AYRSHARE_X_API_SECRET": X_API_SECRET}
OTHER_X = ("CANARY-X-KEY-OTHER-9b1c", "CANARY-X-SECRET-OTHER-4d7e")


def x_headers_sent(emulator: RunningEmulator) -> list[tuple[str | None, str | None]]:
    return [
        (request.header("x-twitter-oauth1-api-key"), request.header("x-twitter-oauth1-api-secret"))
        for request in emulator.app.requests
    ]


def write_private(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


async def test_a_pair_from_the_environment_goes_on_every_ayrshare_request(
    emulator: RunningEmulator, home: Path
) -> None:
    post = emulator.seed_post()
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, **X_ENV)

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            await succeed(client, HISTORY, {})
            await succeed(client, SET_SCHEDULE, {"schedule": ["09:00Z"]})
            await succeed(client, DELETE, {"id": post["id"]})

    assert x_headers_sent(emulator) == [(X_API_KEY, X_API_SECRET)] * 3


async def test_without_a_pair_no_x_header_is_sent(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)) as client:
            await succeed(client, HISTORY, {})

    assert x_headers_sent(emulator) == [(None, None)]


async def test_a_pair_from_the_credentials_file_goes_with_the_files_key(emulator: RunningEmulator, home: Path) -> None:
    write_private(
        home / ".config/ayrshare/credentials.toml",
        f'api_key = "{API_KEY}"\nx_api_key = "{X_API_KEY}"\nx_api_secret = "{X_API_SECRET}"\n',
    )

    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home)) as client:
            await succeed(client, HISTORY, {})

    assert x_headers_sent(emulator) == [(X_API_KEY, X_API_SECRET)]


@pytest.mark.parametrize(
    ("env", "given", "missing"),
    [
        ({"AYRSHARE_X_API_KEY": X_API_KEY}, "AYRSHARE_X_API_KEY", "AYRSHARE_X_API_SECRET"),
        ({"AYRSHARE_X_API_SECRET": X_API_SECRET}, "AYRSHARE_X_API_SECRET", "AYRSHARE_X_API_KEY"),
    ],
)
async def test_half_a_pair_in_the_environment_is_a_tool_error_that_names_both_and_sends_nothing(
    emulator: RunningEmulator, home: Path, env: dict[str, str], given: str, missing: str
) -> None:
    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, **env)) as client:
            refused = await fail(client, HISTORY, {})

    assert f"{given} is set but {missing} is not" in refused["error"]
    assert X_BYO_SETUP_URL in refused["error"]
    assert emulator.app.requests == []


def test_half_a_pair_in_the_credentials_file_is_refused_with_the_files_path(home: Path) -> None:
    path = write_private(home / "creds.toml", f'api_key = "{API_KEY}"\nx_api_secret = "{X_API_SECRET}"\n')

    with pytest.raises(CredentialsError) as raised:
        resolve_credentials({"HOME": str(home), "AYRSHARE_CREDENTIALS_FILE": str(path)})

    assert f"In {path}, x_api_key" in str(raised.value)
    assert X_API_SECRET not in str(raised.value)


def test_a_pair_in_the_environment_never_joins_a_key_from_the_credentials_file(home: Path) -> None:
    # The pair belongs to one Ayrshare account; the file's key may be another's.
    write_private(home / ".config/ayrshare/credentials.toml", f'api_key = "{API_KEY}"\n')

    with pytest.raises(CredentialsError, match="AYRSHARE_X_API_KEY/AYRSHARE_X_API_SECRET is set but AYRSHARE_API_KEY"):
        resolve_credentials({"HOME": str(home), **X_ENV})


def test_a_caller_with_their_own_key_never_gets_the_servers_pair(home: Path) -> None:
    environ = {"HOME": str(home), "AYRSHARE_API_KEY": API_KEY, **X_ENV}

    own_key = resolve_credentials(environ, {"x-ayrshare-api-key": OTHER_API_KEY})
    own_key_and_pair = resolve_credentials(
        environ,
        {
            "x-ayrshare-api-key": OTHER_API_KEY,
            "x-twitter-oauth1-api-key": OTHER_X[0],
            "x-twitter-oauth1-api-secret": OTHER_X[1],
        },
    )
    lent_key = resolve_credentials(environ, {})
    lent_key_own_pair = resolve_credentials(
        environ, {"x-twitter-oauth1-api-key": OTHER_X[0], "x-twitter-oauth1-api-secret": OTHER_X[1]}
    )

    assert (own_key.api_key, own_key.x_pair) == (OTHER_API_KEY, None)
    assert own_key_and_pair.x_pair == XPair(*OTHER_X)
    assert (lent_key.api_key, lent_key.x_pair) == (API_KEY, XPair(X_API_KEY, X_API_SECRET))
    assert (lent_key_own_pair.api_key, lent_key_own_pair.x_pair) == (API_KEY, XPair(*OTHER_X))


async def test_over_http_each_caller_reaches_ayrshare_with_the_pair_the_rules_give_it(
    emulator: RunningEmulator, home: Path
) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, **X_ENV)
    callers = {
        "lent key and pair": {},
        "own key": {"X-Ayrshare-Api-Key": OTHER_API_KEY},
        "own key and pair": {
            "X-Ayrshare-Api-Key": OTHER_API_KEY,
            "X-Twitter-OAuth1-Api-Key": OTHER_X[0],
            "X-Twitter-OAuth1-Api-Secret": OTHER_X[1],
        },
    }

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions()) as url:
            for headers in callers.values():
                async with http_session(url, headers=headers) as client:
                    await succeed(client, HISTORY, {})

    assert x_headers_sent(emulator) == [(X_API_KEY, X_API_SECRET), (None, None), OTHER_X]


@pytest.mark.parametrize("header", ["X-Twitter-OAuth1-Api-Key", "X-Twitter-OAuth1-Api-Secret"])
async def test_half_a_pair_in_request_headers_is_an_error_naming_the_header(
    emulator: RunningEmulator, home: Path, header: str
) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with (
            http_server(settings, HttpOptions()) as url,
            http_session(url, headers={header: "CANARY-HALF-PAIR-1a2b3c"}) as client,
        ):
            refused = await fail(client, HISTORY, {})

    assert f"The {header} header is set but" in refused["error"]
    assert "CANARY" not in refused["error"]
    assert emulator.app.requests == []


async def test_ayrshares_419_becomes_an_error_naming_both_settings_and_the_setup_page(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.x_credentials_required = True
    emulator.seed_post(platforms=["twitter"])

    with anyio.fail_after(WAIT):
        async with memory_client(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, PROFILE_KEY="")) as client:
            refused = await fail(client, HISTORY, {})

    assert refused["data"]["action"] == "x_credentials_required"
    for named in ("AYRSHARE_X_API_KEY", "AYRSHARE_X_API_SECRET", X_BYO_SETUP_URL, "419"):
        assert named in refused["error"]


async def test_with_the_pair_configured_x_bound_operations_go_through(emulator: RunningEmulator, home: Path) -> None:
    emulator.service.switches.x_credentials_required = True
    post = emulator.seed_post(platforms=["twitter"], profile_key=PROFILE_KEY)
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_PROFILE_KEY=PROFILE_KEY, **X_ENV)

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            listed = await succeed(client, HISTORY, {"platforms": ["twitter"]})
            await succeed(client, DELETE, {"id": post["id"]})

    assert [item["id"] for item in listed["history"]] == [post["id"]]
    assert post["status"] == "deleted"
