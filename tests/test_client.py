"""The Ayrshare client on its own, against the emulator over real HTTP: answers, typed errors and deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from ayrshare_mcp.client import AyrshareClient, encode_query
from ayrshare_mcp.client.errors import (
    AyrshareAPIError,
    AyrshareConnectionError,
    AyrshareInvalidResponse,
    AyrshareTimeoutError,
)
from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.emulator import Fault, bind
from ayrshare_mcp.settings import Settings
from tests.support import API_KEY, PROFILE_KEY, WAIT, RunningEmulator

pytestmark = pytest.mark.anyio

CREDENTIALS = Credentials(api_key=API_KEY)


@asynccontextmanager
async def client_for(url: str, call_timeout: float = 5.0) -> AsyncIterator[AyrshareClient]:
    settings = Settings(base_url=url, call_timeout=call_timeout, retry_base_delay=0.01, environ={})
    async with AyrshareClient.connect(settings) as client:
        yield client


async def test_an_api_error_carries_the_http_status_the_ayrshare_code_and_the_message(
    emulator: RunningEmulator,
) -> None:
    async with client_for(emulator.url) as client:
        with pytest.raises(AyrshareAPIError) as raised:
            await client.account(CREDENTIALS).delete_post({"id": "missing"})

    error = raised.value
    assert (error.status, error.code) == (404, 114)
    assert error.ayrshare_message == "Post not found. Check the Ayrshare post id."
    assert error.body["action"] == "delete"
    assert "post history" in error.explain()


async def test_the_code_is_read_when_ayrshare_nests_the_error_under_history(emulator: RunningEmulator) -> None:
    emulator.app.inject(
        Fault(status=400, body={"history": {"code": 272, "status": "error", "message": "X auth"}, "count": 0})
    )

    async with client_for(emulator.url) as client:
        with pytest.raises(AyrshareAPIError) as raised:
            await client.account(CREDENTIALS).get_history({})

    assert (raised.value.status, raised.value.code, raised.value.ayrshare_message) == (400, 272, "X auth")


async def test_a_success_status_with_an_error_body_is_an_error(emulator: RunningEmulator) -> None:
    emulator.app.inject(Fault(status=200, body={"status": "error", "code": 156, "message": "Not linked"}))

    async with client_for(emulator.url) as client:
        with pytest.raises(AyrshareAPIError) as raised:
            await client.account(CREDENTIALS).set_auto_schedule({"schedule": ["10:00Z"]})

    assert (raised.value.status, raised.value.code) == (200, 156)
    assert "Link it in the Ayrshare dashboard" in raised.value.explain()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<html>Bad Gateway</html>", "text/html"), ('{"truncated": ', "application/json"), ("[1, 2]", "application/json")],
)
async def test_a_body_that_is_not_a_json_object_is_an_invalid_response(
    emulator: RunningEmulator, body: str, content_type: str
) -> None:
    emulator.app.inject(Fault(status=502, body=body, content_type=content_type, times=None))

    async with client_for(emulator.url) as client:
        with pytest.raises(AyrshareInvalidResponse) as raised:
            await client.account(CREDENTIALS).get_user()

    assert raised.value.status == 502
    assert raised.value.body == {"status": 502}
    assert len(emulator.app.requests) == 3  # the first attempt and two retries
    assert "server-side problem" in raised.value.explain()


async def test_no_schedules_yet_is_an_empty_listing_not_an_error(emulator: RunningEmulator) -> None:
    async with client_for(emulator.url) as client:
        listing = await client.account(CREDENTIALS).list_auto_schedules()

    assert listing == {"status": "success", "schedules": {}}
    [request] = emulator.app.requests
    assert request.path == "/api/auto-schedule/list"


async def test_no_schedules_is_recognised_whatever_http_status_carries_code_192(emulator: RunningEmulator) -> None:
    emulator.service.switches.no_schedules_status = 404

    async with client_for(emulator.url) as client:
        listing = await client.account(CREDENTIALS).list_auto_schedules()

    assert listing["schedules"] == {}


async def test_an_answer_slower_than_the_deadline_is_a_timeout_error(emulator: RunningEmulator) -> None:
    emulator.app.inject(Fault(status=200, body={"history": []}, delay=5))

    with anyio.fail_after(WAIT):
        async with client_for(emulator.url, call_timeout=0.2) as client:
            with pytest.raises(AyrshareTimeoutError) as raised:
                await client.account(CREDENTIALS).get_history({})

    assert "may take 0.2 s in all" in raised.value.explain()


async def test_a_refused_connection_is_a_connection_error() -> None:
    with bind() as sock:
        closed_port = sock.getsockname()[1]

    with anyio.fail_after(WAIT):
        async with client_for(f"http://127.0.0.1:{closed_port}/api") as client:
            with pytest.raises(AyrshareConnectionError) as raised:
                await client.account(CREDENTIALS).get_user()

    assert "Could not reach Ayrshare at 127.0.0.1" in raised.value.explain()


async def test_the_key_goes_in_the_authorization_header_and_the_profile_key_in_its_own(
    emulator: RunningEmulator,
) -> None:
    async with client_for(emulator.url) as client:
        await client.account(Credentials(api_key=API_KEY, profile_key=PROFILE_KEY)).get_user()
        await client.account(CREDENTIALS).get_user()

    with_profile, without = emulator.app.requests
    assert with_profile.header("authorization") == f"Bearer {API_KEY}"
    assert with_profile.header("profile-key") == PROFILE_KEY
    assert without.header("profile-key") is None


async def test_one_pooled_connection_serves_consecutive_calls(emulator: RunningEmulator) -> None:
    async with client_for(emulator.url) as client:
        for _ in range(3):
            await client.account(CREDENTIALS).get_user()

    assert len(emulator.app.requests) == 3
    assert len({request.peer for request in emulator.app.requests}) == 1


def test_lists_are_encoded_the_way_ayrshares_own_sdks_send_them() -> None:
    query = encode_query({"platforms": ["twitter", "facebook"], "limit": 5, "status": "awaiting approval"})

    assert str(query) == "platforms%5B0%5D=twitter&platforms%5B1%5D=facebook&limit=5&status=awaiting+approval"
