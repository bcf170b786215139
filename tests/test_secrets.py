"""Canary keys, set through every source, never appear in logs, tool results or error text, on any path."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import TextContent

from ayrshare_mcp.credentials import SANDBOX_API_KEY
from ayrshare_mcp.emulator import Fault, bind
from ayrshare_mcp.sandbox import MAX_ACCOUNTS, MAX_BYTES, MAX_POSTS, demo_emulator, sandbox_transport, state_file
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.transports.options import HttpOptions
from tests.envelope import call
from tests.support import (
    API_KEY,
    CANARY,
    OTHER_API_KEY,
    PROCESS_WAIT,
    PROFILE_KEY,
    WAIT,
    X_API_KEY,
    X_API_SECRET,
    RunningEmulator,
    captured_logs,
    client_from,
    http_server,
    http_session,
    memory_client,
    run_cli,
    server_env,
    serving_here,
    settings_for,
    stdio_session,
)

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
DELETE = "AYRSHARE_DELETE_DELETE_POST"


async def drive_every_path(client: Client, emulator: RunningEmulator) -> list[dict[str, Any]]:
    """Success, Ayrshare errors (4xx, 5xx, HTML, timeout, an echoed key) and bad input, all at DEBUG."""
    post = emulator.seed_post(profile_key=PROFILE_KEY)
    results = [
        await call(client, HISTORY, {}),
        await call(client, DELETE, {"id": post["id"]}),
        await call(client, DELETE, {"id": "unknownPost"}),
        await call(client, HISTORY, {"Profile-Key": PROFILE_KEY + " "}),
        await call(client, HISTORY, {"limit": "many"}),
    ]
    faults = [
        Fault(status=500, body={"status": "error", "message": f"Key {API_KEY} / {PROFILE_KEY} / {X_API_KEY}"}),
        Fault(status=419, body={"status": "error", "code": 419, "message": f"X {X_API_SECRET}"}),
        Fault(status=502, body="<html>Bad Gateway</html>", content_type="text/html", times=None),
        Fault(status=200, body={"history": []}, delay=3),
    ]
    for fault in faults:
        emulator.app.inject(fault)
        results.append(await call(client, HISTORY, {}))
        emulator.app.faults.clear()
    return results


async def test_keys_from_the_environment_never_leak_from_the_process(emulator: RunningEmulator, home: Path) -> None:
    # A real stdio process: whatever it writes to stderr, the runtime's own words included, is checked.
    env = server_env(
        emulator,
        home,
        AYRSHARE_API_KEY=API_KEY,
        AYRSHARE_PROFILE_KEY=PROFILE_KEY,
        AYRSHARE_X_API_KEY=X_API_KEY,
        AYRSHARE_X_API_SECRET=X_API_SECRET,
        AYRSHARE_MCP_LOG_LEVEL="DEBUG",
        AYRSHARE_TIMEOUT="0.5",
        AYRSHARE_MAX_RETRIES="1",
    )
    with tempfile.TemporaryFile("w+") as log, anyio.fail_after(PROCESS_WAIT):
        async with stdio_session(env, errlog=log, measured=False) as client:
            results = await drive_every_path(client, emulator)
        log.seek(0)
        stderr = log.read()

    assert_no_canary(stderr, results)
    assert [result["successful"] for result in results[:2]] == [True, True]
    assert "[redacted]" in results[5]["data"]["message"]
    assert "[redacted]" in results[6]["data"]["message"]
    assert "may take 0.5 s in all" in results[8]["error"]
    assert all(request.header("profile-key") == PROFILE_KEY for request in emulator.app.requests)
    assert all(request.header("x-twitter-oauth1-api-secret") == X_API_SECRET for request in emulator.app.requests)


async def test_keys_from_the_credentials_file_never_leak(emulator: RunningEmulator, home: Path) -> None:
    path = home / ".config" / "ayrshare" / "credentials.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        f'api_key = "{API_KEY}"\nprofile_key = "{PROFILE_KEY}"\n'
        f'x_api_key = "{X_API_KEY}"\nx_api_secret = "{X_API_SECRET}"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    settings = settings_for(emulator, home, AYRSHARE_TIMEOUT="0.5", AYRSHARE_MAX_RETRIES="1")
    with captured_logs("DEBUG") as log, anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            results = await drive_every_path(client, emulator)
            path.chmod(0o644)
            results.append(await call(client, HISTORY, {}))

    assert_no_canary(log.decode(), results)
    assert results[0]["successful"]
    assert "chmod 600" in results[-1]["error"]
    assert all(request.header("x-twitter-oauth1-api-key") == X_API_KEY for request in emulator.app.requests)


async def test_keys_never_leak_when_ayrshare_is_unreachable(home: Path) -> None:
    with bind() as sock:
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    env = {
        "AYRSHARE_BASE_URL": closed,
        "HOME": str(home),
        "AYRSHARE_API_KEY": API_KEY,
        "AYRSHARE_PROFILE_KEY": PROFILE_KEY,
        "AYRSHARE_MAX_RETRIES": "1",
    }
    with captured_logs("DEBUG") as log, anyio.fail_after(WAIT):
        async with memory_client(Settings.from_environ(env)) as client:
            results = [await call(client, HISTORY, {}), await call(client, DELETE, {"id": "abc"})]

    assert_no_canary(log.decode(), results)
    assert all("Could not reach Ayrshare" in result["error"] for result in results)


def assert_no_canary(stderr: str, results: list[dict[str, Any]]) -> None:
    """Neither the log nor any result holds a key; the log is at DEBUG, or this would prove nothing."""
    assert "DEBUG" in stderr, "the server did not log at DEBUG, so this test proves nothing"
    for text in (stderr, json.dumps(results)):
        assert API_KEY not in text
        assert PROFILE_KEY not in text
        assert X_API_KEY not in text
        assert X_API_SECRET not in text
        assert CANARY not in text


async def test_keys_and_the_access_token_sent_over_http_never_leak(emulator: RunningEmulator, home: Path) -> None:
    token = "CANARY-ACCESS-TOKEN-8e2b4d6f0a1c"
    env = server_env(emulator, home, AYRSHARE_MCP_TOKEN=token, AYRSHARE_TIMEOUT="0.5", AYRSHARE_MAX_RETRIES="1")
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Ayrshare-Api-Key": API_KEY,
        "X-Ayrshare-Profile-Key": PROFILE_KEY,
        "X-Twitter-OAuth1-Api-Key": X_API_KEY,
        "X-Twitter-OAuth1-Api-Secret": X_API_SECRET,
    }

    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "streamable-http"], env, log_level="DEBUG") as (_, url, log):
            results: list[dict[str, Any]] = []
            for mode in ("auto", "legacy"):
                async with http_session(url, headers=headers, mode=mode) as client:
                    results += await drive_every_path(client, emulator)
            async with client_from(None) as http:
                refused = await http.post(url + "/mcp", json={}, headers={"Authorization": f"Bearer {token}-wrong"})

    assert refused.status_code == 401
    assert_no_canary(log.decode(), [*results, {"refused": refused.text}])
    assert token not in log.decode()
    assert all(request.header("authorization") == f"Bearer {API_KEY}" for request in emulator.app.requests)
    assert all(request.header("x-twitter-oauth1-api-secret") == X_API_SECRET for request in emulator.app.requests)


async def test_the_servers_default_profile_key_is_redacted_even_when_a_call_names_another(
    emulator: RunningEmulator, home: Path
) -> None:
    # The call overrides the default Profile-Key, and Ayrshare echoes the default anyway.
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_PROFILE_KEY=PROFILE_KEY)
    emulator.app.inject(Fault(status=400, body={"status": "error", "message": f"profile {PROFILE_KEY} unknown"}))

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            result = await call(client, HISTORY, {"Profile-Key": "ANOTHER-PROFILE-1234"})

    assert PROFILE_KEY not in json.dumps(result)
    assert result["data"]["message"] == "profile [redacted] unknown"


async def test_keys_with_control_characters_never_reach_results_logs_or_check(
    emulator: RunningEmulator, home: Path
) -> None:
    # A key holding "\n" used to leak in full: redaction looked for the raw value, the message held its repr.
    bad_key = "CANARY-NEWLINE\nKEY-9f8e7d"
    env = server_env(emulator, home, AYRSHARE_API_KEY=bad_key)

    with captured_logs("DEBUG") as log, anyio.fail_after(WAIT):
        async with memory_client(Settings.from_environ(env)) as client:
            result = await call(client, HISTORY, {})
    code, stdout, stderr = await run_cli("check", env=env)

    assert "AYRSHARE_API_KEY is not a usable key" in result["error"]
    assert code == 1
    assert "AYRSHARE_API_KEY is not a usable key" in stdout
    for text in (json.dumps(result), log.decode(), stdout, stderr):
        assert "CANARY" not in text
        assert "NEWLINE" not in text
    assert emulator.app.requests == []


async def test_a_key_with_quotes_or_backslashes_is_redacted_too(emulator: RunningEmulator, home: Path) -> None:
    # In a result's JSON text such a key is escaped, so looking for it as typed found nothing and skipped redaction.
    key = 'CANARY-QUOTE"AND\\BACKSLASH-77'
    emulator.service.api_keys = None
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=key)
    emulator.app.inject(Fault(status=400, body={"status": "error", "message": f"bad key {key}"}))

    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            raw_result = await client.call_tool(HISTORY, {})

    [text] = raw_result.content
    assert isinstance(text, TextContent)
    assert "CANARY" not in text.text
    assert "CANARY" not in json.dumps(raw_result.structured_content)


async def test_check_never_shows_more_than_four_characters_of_a_key_ayrshare_echoes(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.inject(Fault(status=403, body={"status": "error", "code": 102, "message": f"{API_KEY} is invalid"}))

    code, stdout, stderr = await run_cli("check", env=server_env(emulator, home, AYRSHARE_API_KEY=API_KEY))

    assert code == 1
    assert API_KEY not in stdout + stderr
    assert "[redacted] is invalid" in stdout


# --- secrets at rest: the sandbox's file ------------------------------------------------------------------------


async def test_a_sandbox_over_http_keeps_no_callers_key_on_disk_and_its_file_is_private(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    keys = {
        "X-Ayrshare-Api-Key": API_KEY,
        "X-Ayrshare-Profile-Key": PROFILE_KEY,
        "X-Twitter-OAuth1-Api-Key": X_API_KEY,
        "X-Twitter-OAuth1-Api-Secret": X_API_SECRET,
    }

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions()) as url, http_session(url, headers=keys) as client:
            await call(client, "AYRSHARE_POST_SET_AUTO_SCHEDULE", {"schedule": ["09:00Z"], "title": "mine"})
            listed = await call(client, "AYRSHARE_GET_POST_HISTORY", {})

    saved = state_file(settings.environ)
    assert listed["successful"] is True
    assert CANARY not in saved.read_text(encoding="utf-8")
    assert saved.stat().st_mode & 0o777 == 0o600
    assert saved.parent.stat().st_mode & 0o777 == 0o700


async def test_the_same_caller_finds_its_sandbox_data_again_and_another_does_not(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    create = {"schedule": ["09:00Z"], "title": "mine"}

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions()) as url:
            async with http_session(url, headers={"X-Ayrshare-Api-Key": API_KEY}) as caller:
                await call(caller, "AYRSHARE_CREATE_AUTO_SCHEDULE", create)
            async with http_session(url, headers={"X-Ayrshare-Api-Key": API_KEY}) as same:
                again = await call(same, "AYRSHARE_CREATE_AUTO_SCHEDULE", create)
            async with http_session(url, headers={"X-Ayrshare-Api-Key": OTHER_API_KEY}) as other:
                theirs = await call(other, "AYRSHARE_CREATE_AUTO_SCHEDULE", create)

    assert "already exists" in again["error"]
    assert theirs["successful"] is True


async def test_the_sandbox_keeps_a_bounded_amount_whatever_callers_send(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    crowded = demo_emulator()
    for n in range(MAX_ACCOUNTS + 20):
        profile = crowded.service.profile(f"caller-{n}", None)
        for m in range(3):
            crowded.service.add_post(profile, text=f"post {m}", platforms=["linkedin"])
    primary = crowded.service.profile(SANDBOX_API_KEY, None)
    for m in range(MAX_POSTS + 50):
        crowded.service.add_post(primary, text=f"old {m}", platforms=["linkedin"])
    path = state_file(settings.environ)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**crowded.service.snapshot(), "salt": "00" * 16}), encoding="utf-8")

    async with memory_client(settings) as client:
        await call(client, "AYRSHARE_POST_SET_AUTO_SCHEDULE", {"schedule": ["10:00Z"]})

    kept = json.loads(path.read_text(encoding="utf-8"))["profiles"]
    assert len(kept) <= MAX_ACCOUNTS
    assert all(len(profile["posts"]) <= MAX_POSTS for profile in kept)
    assert any(profile["api_key"] == SANDBOX_API_KEY for profile in kept), "the sandbox's own data stays"


@pytest.mark.parametrize(
    "where", [["--host", "0.0.0.0"], ["--allowed-host", "mcp.example.com"], ["--trust-proxy", "1"]]
)
async def test_a_sandbox_served_beyond_this_machine_needs_an_access_token(home: Path, where: list[str]) -> None:
    code, _, stderr = await run_cli("--sandbox", "--transport", "streamable-http", *where, env={"HOME": str(home)})

    assert code == 1
    assert "Refusing to serve the sandbox beyond this machine without an access token" in stderr


async def test_long_posts_do_not_grow_the_sandbox_file_beyond_its_byte_bound(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    transport = sandbox_transport(settings.environ)
    long_text = "x" * 900_000

    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox/api/") as http:
        for n in range(12):
            body = {"post": f"{n} {long_text}", "platforms": ["linkedin"], "idempotencyKey": f"key-{n}"}
            answer = await http.post("post", json=body, headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"})
            assert answer.status_code == 200

    saved = state_file(settings.environ)
    kept = json.loads(saved.read_text(encoding="utf-8"))["profiles"]
    assert saved.stat().st_size <= MAX_BYTES
    newest = next(profile for profile in kept if profile["api_key"] == SANDBOX_API_KEY)["posts"][0]
    assert newest["post"].startswith("11 "), "the newest post is kept"


async def test_direct_messages_do_not_grow_the_sandbox_file_beyond_its_byte_bound(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    transport = sandbox_transport(settings.environ)
    headers = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}

    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox/api/") as http:
        for n in range(12):  # about 11 MB of messages, to six people
            body = {"message": f"{n} " + "x" * 900_000, "recipientId": f"person-{n % 6}"}
            assert (await http.post("messages/facebook", json=body, headers=headers)).status_code == 200

    saved = state_file(settings.environ)
    kept = json.loads(saved.read_text(encoding="utf-8"))["profiles"]
    assert saved.stat().st_size <= MAX_BYTES
    conversations = next(profile for profile in kept if profile["api_key"] == SANDBOX_API_KEY)["messaging"]
    assert conversations["conversations"], "the newer conversations are kept"


async def test_auto_schedules_do_not_grow_the_sandbox_file_beyond_its_byte_bound(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    transport = sandbox_transport(settings.environ)
    slots = [f"{hour:02d}:{minute:02d}Z" for hour in range(24) for minute in range(60)]
    excluded = [(date(1971, 1, 1) + timedelta(days=n)).isoformat() for n in range(64_000)]

    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox/api/") as http:
        for n in range(11):  # about 9 MB of schedules in all
            body = {"title": f"schedule {n}", "schedule": slots, "excludeDates": excluded}
            headers = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
            assert (await http.post("auto-schedule/set", json=body, headers=headers)).status_code == 200

    assert state_file(settings.environ).stat().st_size <= MAX_BYTES


async def test_reads_that_name_new_profiles_do_not_grow_the_sandbox_without_bound(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home)}).as_sandbox()
    transport = sandbox_transport(settings.environ)

    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox/api/") as http:
        for n in range(MAX_ACCOUNTS * 3):
            headers = {"Authorization": f"Bearer {SANDBOX_API_KEY}", "Profile-Key": f"CANARY-PROFILE-{n:04d}"}
            await http.get("history", headers=headers)
        profiles = transport.app.emulator.service.profiles  # type: ignore[attr-defined]

    assert len(profiles) <= MAX_ACCOUNTS
