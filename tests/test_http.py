"""The remote transports, over real HTTP with the official SDK client: both protocol eras, per-request keys, access."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.transports.options import HttpOptions, HttpTransport
from tests.envelope import fail, succeed
from tests.support import (
    API_KEY,
    BEARER,
    OTHER_API_KEY,
    PROFILE_KEY,
    TOKEN,
    WAIT,
    RunningEmulator,
    client_from,
    http_server,
    http_session,
    settings_for,
)

pytestmark = pytest.mark.anyio

HISTORY = "AYRSHARE_GET_POST_HISTORY"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "curl", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def keyless_settings(emulator: RunningEmulator, home: Path) -> Settings:
    return settings_for(emulator, home)


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
@pytest.mark.parametrize(("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
async def test_each_http_transport_serves_the_tools_in_both_protocol_eras(
    emulator: RunningEmulator, home: Path, transport: HttpTransport, mode: str, version: str
) -> None:
    emulator.seed_post(text="remote hello")
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with (
            http_server(settings, HttpOptions(transport=transport)) as url,
            http_session(url, transport=transport, mode=mode) as client,
        ):
            tools = (await client.list_tools()).tools
            data = await succeed(client, HISTORY, {})
            negotiated = client.protocol_version

    assert negotiated == version
    assert len(tools) == 4
    assert [post["post"] for post in data["history"]] == ["remote hello"]
    assert emulator.app.requests[0].header("authorization") == f"Bearer {API_KEY}"


async def test_stateless_streamable_http_serves_without_a_session(emulator: RunningEmulator, home: Path) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions(stateless=True)) as url:
            async with client_from(None) as http:
                answer = await http.post(url + "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **BEARER})
            async with http_session(url, mode="legacy") as client:
                data = await succeed(client, HISTORY, {})

    assert answer.status_code == 200
    assert "mcp-session-id" not in answer.headers
    assert data["history"] == []


async def test_the_health_check_answers_without_touching_ayrshare(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with (
            http_server(keyless_settings(emulator, home), HttpOptions(transport="sse")) as url,
            client_from(None) as http,
        ):
            answer = await http.get(url + "/healthz")

    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert emulator.app.requests == []


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_a_request_key_in_the_headers_is_used_for_that_requests_calls_only(
    emulator: RunningEmulator, home: Path, transport: HttpTransport
) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)
    own_key = {"X-Ayrshare-Api-Key": OTHER_API_KEY, "X-Ayrshare-Profile-Key": PROFILE_KEY}

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions(transport=transport)) as url:
            async with http_session(url, transport=transport, headers=own_key) as client:
                await succeed(client, HISTORY, {})
            async with http_session(url, transport=transport) as client:
                await succeed(client, HISTORY, {})

    with_header, without = emulator.app.requests
    assert (with_header.header("authorization"), with_header.header("profile-key")) == (
        f"Bearer {OTHER_API_KEY}",
        PROFILE_KEY,
    )
    assert (without.header("authorization"), without.header("profile-key")) == (f"Bearer {API_KEY}", None)


async def test_twenty_concurrent_sessions_with_two_keys_each_reach_ayrshare_with_their_own_key(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.latency = 0.02  # keeps many upstream calls in flight at once
    settings = keyless_settings(emulator, home)
    expected: dict[str, str] = {}

    async def session(number: int, url: str) -> None:
        key = (API_KEY, OTHER_API_KEY)[number % 2]
        profile = f"SESSION-{number:02d}"
        expected[profile] = f"Bearer {key}"
        headers = {"X-Ayrshare-Api-Key": key, "X-Ayrshare-Profile-Key": profile}
        async with http_session(url, headers=headers, mode="legacy" if number % 3 else "auto") as client:
            for _ in range(5):
                await succeed(client, HISTORY, {})

    with anyio.fail_after(WAIT * 4):  # a hundred calls over twenty sessions: seconds, under coverage, when loaded
        async with http_server(settings, HttpOptions()) as url, anyio.create_task_group() as tg:
            for number in range(20):
                tg.start_soon(session, number, url)

    received = emulator.app.received("/history")
    assert len(received) == 100
    assert all(request.header("authorization") == expected[str(request.header("profile-key"))] for request in received)


async def test_a_slow_answer_for_one_session_does_not_stall_another(emulator: RunningEmulator, home: Path) -> None:
    slow = {"X-Ayrshare-Api-Key": API_KEY, "X-Ayrshare-Profile-Key": "SLOW-PROFILE"}
    fast = {"X-Ayrshare-Api-Key": API_KEY, "X-Ayrshare-Profile-Key": "FAST-PROFILE"}
    released = anyio.Event()
    empty = {"history": [], "count": 0}
    emulator.app.inject(Fault(status=200, body=empty, header=("profile-key", "SLOW-PROFILE"), delay=10))
    finished: list[str] = []

    async def call(name: str, headers: dict[str, str], url: str) -> None:
        async with http_session(url, headers=headers) as client:
            await succeed(client, HISTORY, {})
        finished.append(name)
        if name == "fast":
            released.set()

    with anyio.fail_after(WAIT):
        async with http_server(keyless_settings(emulator, home), HttpOptions()) as url, anyio.create_task_group() as tg:
            tg.start_soon(call, "slow", slow, url)
            tg.start_soon(call, "fast", fast, url)
            await released.wait()
            tg.cancel_scope.cancel()

    assert finished == ["fast"]


async def test_sse_sessions_share_one_pooled_connection_to_ayrshare(emulator: RunningEmulator, home: Path) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions(transport="sse")) as url:
            for _ in range(3):
                async with http_session(url, transport="sse") as client:
                    await succeed(client, HISTORY, {})

    assert len(emulator.app.requests) == 3
    assert len({request.peer for request in emulator.app.requests}) == 1


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
@pytest.mark.parametrize("bind", ["127.0.0.1", "0.0.0.0"])
async def test_a_foreign_origin_gets_403_and_a_foreign_host_421_on_every_bind(
    emulator: RunningEmulator, home: Path, transport: HttpTransport, bind: str
) -> None:
    options = HttpOptions(transport=transport, host=bind)
    path = "/mcp" if transport == "streamable-http" else "/sse"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    with anyio.fail_after(WAIT):
        async with http_server(keyless_settings(emulator, home), options, TOKEN) as url, client_from(None) as http:
            evil_origin = await http.get(url + path, headers={**auth, "Origin": "http://evil.example"})
            evil_host = await http.get(url + path, headers={**auth, "Host": "evil.example"})
            local_origin = await http.post(
                url + "/mcp", json=INITIALIZE, headers={**auth, **MCP_HEADERS, "Origin": "http://localhost:3000"}
            )

    assert evil_origin.status_code == 403
    assert evil_host.status_code == 421
    assert local_origin.status_code in {200, 404}  # 404: /mcp is not served by the SSE transport


async def test_an_allowed_host_admits_that_hostname_and_its_https_origin(emulator: RunningEmulator, home: Path) -> None:
    options = HttpOptions(host="0.0.0.0", allowed_hosts=("mcp.example.com",))
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}

    with anyio.fail_after(WAIT):
        async with http_server(keyless_settings(emulator, home), options, TOKEN) as url, client_from(None) as http:
            named = await http.post(
                url + "/mcp",
                json=INITIALIZE,
                headers={**headers, "Host": "mcp.example.com", "Origin": "https://mcp.example.com"},
            )
            plain_http_origin = await http.post(
                url + "/mcp", json=INITIALIZE, headers={**headers, "Origin": "http://mcp.example.com"}
            )
            other = await http.post(url + "/mcp", json=INITIALIZE, headers={**headers, "Host": "other.example.com"})

    assert named.status_code == 200
    assert plain_http_origin.status_code == 403
    assert other.status_code == 421


async def test_with_an_access_token_every_request_but_the_health_check_must_present_it(
    emulator: RunningEmulator, home: Path
) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions(), TOKEN) as url:
            async with client_from(None) as http:
                missing = await http.post(url + "/mcp", json=INITIALIZE, headers=MCP_HEADERS)
                wrong = await http.post(
                    url + "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}x"}
                )
                health = await http.get(url + "/healthz")
            async with http_session(url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
                await succeed(client, HISTORY, {})

    assert (missing.status_code, wrong.status_code, health.status_code) == (401, 401, 200)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    [upstream] = emulator.app.requests
    assert upstream.header("authorization") == f"Bearer {API_KEY}"
    assert TOKEN not in str(upstream.headers)


async def test_a_server_that_must_not_lend_its_key_asks_each_request_for_one(
    emulator: RunningEmulator, home: Path
) -> None:
    public = HttpOptions(host="0.0.0.0")

    with anyio.fail_after(WAIT):
        async with http_server(keyless_settings(emulator, home), public) as url:
            async with http_session(url) as client:
                refused = await fail(client, HISTORY, {})
            async with http_session(url, headers={"X-Ayrshare-Api-Key": OTHER_API_KEY}) as client:
                await succeed(client, HISTORY, {})

    assert "X-Ayrshare-Api-Key" in refused["error"]
    [request] = emulator.app.requests
    assert request.header("authorization") == f"Bearer {OTHER_API_KEY}"


async def test_a_body_over_the_limit_gets_413_and_the_server_keeps_serving(
    emulator: RunningEmulator, home: Path
) -> None:
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)
    huge = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}}'

    with anyio.fail_after(WAIT):
        async with http_server(settings, HttpOptions()) as url:
            async with client_from(None) as http:
                answer = await http.post(url + "/mcp", content=huge, headers={**MCP_HEADERS, **BEARER})
            async with http_session(url) as client:
                await succeed(client, HISTORY, {})

    assert answer.status_code == 413
