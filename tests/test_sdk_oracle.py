"""Ayrshare's own Python SDK (social-post-api 1.3.0) as the oracle for every request the tools send.

The emulator was written from the docs, so a test against it is only as right as our reading of them. Here each
operation is made twice against the emulator, once through Ayrshare's SDK and once through the server's tool, and
the two requests must be the same: method, path, JSON body, query, and the credential headers.

Where we differ from the SDK on purpose, `normalised` says why:
- the SDK deletes through the legacy `DELETE /api/delete`; we use `DELETE /api/post`, the path Ayrshare's docs and
  its Node SDK use;
- the SDK adds `source: "pypi"` to every body and query, which tells Ayrshare which SDK called, not what to do;
- headers other than the credentials (User-Agent, Content-Type on bodyless GETs) are not compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from ayrshare import SocialPost
from ayrshare import ayrshare as ayrshare_sdk
from mcp import Client

from ayrshare_mcp.emulator import RecordedRequest
from ayrshare_mcp.server import build_server
from tests.envelope import call
from tests.support import API_KEY, PROFILE_KEY, X_API_KEY, X_API_SECRET, RunningEmulator, User, settings_for

pytestmark = pytest.mark.anyio

COMPARED_HEADERS = ("authorization", "profile-key", "x-twitter-oauth1-api-key", "x-twitter-oauth1-api-secret")
SDK_ONLY_FIELD = "source"


@dataclass(frozen=True)
class Operation:
    """One thing the tools do, said two ways: through Ayrshare's SDK, and as a tool call."""

    name: str
    sdk: Callable[[Any], object]
    tool: str
    arguments: dict[str, Any]
    # The tool's request to compare, when the tool makes more than one (create lists schedules first).
    request_index: int = -1


EVERY_SCHEDULE_FIELD = {
    "schedule": ["09:15Z", "18:30Z"],
    "title": "Weekday mornings",
    "daysOfWeek": [1, 2, 3, 4, 5],
    "excludeDates": ["2026-12-25", "2027-01-01"],
    "setStartDate": "2026-12-01T08:00:00Z",
}
EVERY_HISTORY_FILTER = {
    "startDate": "2026-01-01T00:00:00Z",
    "endDate": "2026-12-31T23:59:59Z",
    "lastDays": 0,
    "limit": 50,
    "status": "success",
    "platforms": ["twitter", "linkedin"],
    "type": "immediate",
}
POST_ID = "oracleP0st1d"
BULK_IDS = ["oracleBulk1", "oracleBulk2"]

OPERATIONS = [
    Operation(
        "set a schedule with every field",
        lambda sdk: sdk.setAutoSchedule(dict(EVERY_SCHEDULE_FIELD)),
        "AYRSHARE_POST_SET_AUTO_SCHEDULE",
        EVERY_SCHEDULE_FIELD,
    ),
    Operation(
        "list schedules",
        lambda sdk: sdk.listAutoSchedule(),
        "AYRSHARE_CREATE_AUTO_SCHEDULE",
        {"schedule": ["09:00Z"], "title": "oracle"},
        request_index=0,
    ),
    Operation(
        "history with every filter",
        lambda sdk: sdk.history(dict(EVERY_HISTORY_FILTER)),
        "AYRSHARE_GET_POST_HISTORY",
        EVERY_HISTORY_FILTER,
    ),
    Operation(
        "history by the legacy lastRecords",
        lambda sdk: sdk.history({"lastRecords": 10, "platforms": ["facebook"]}),
        "AYRSHARE_GET_POST_HISTORY",
        {"lastRecords": 10, "platforms": ["facebook"]},
    ),
    Operation("delete by id", lambda sdk: sdk.delete({"id": POST_ID}), "AYRSHARE_DELETE_DELETE_POST", {"id": POST_ID}),
    Operation(
        "mark manually deleted",
        lambda sdk: sdk.delete({"id": POST_ID, "markManualDeleted": True}),
        "AYRSHARE_DELETE_DELETE_POST",
        {"id": POST_ID, "markManualDeleted": True},
    ),
    Operation(
        "bulk delete",
        lambda sdk: sdk.delete({"bulk": list(BULK_IDS)}),
        "AYRSHARE_DELETE_DELETE_POST",
        {"bulk": BULK_IDS},
    ),
    Operation(
        "delete every scheduled post",
        lambda sdk: sdk.delete({"deleteAllScheduled": True}),
        "AYRSHARE_DELETE_DELETE_POST",
        {"deleteAllScheduled": True},
    ),
]

CREDENTIALS = {
    "key only": (False, False),
    "with a Profile-Key": (True, False),
    "with an X pair": (False, True),
    "with both": (True, True),
}


@pytest.fixture
def sdk_base(emulator: RunningEmulator) -> Iterator[None]:
    # The SDK reads its base URL from a module global; pointing it at the emulator is the only way in.
    original = ayrshare_sdk.base
    ayrshare_sdk.base = emulator.url + "/"
    yield
    ayrshare_sdk.base = original


def normalised(request: RecordedRequest) -> dict[str, Any]:
    """What both must agree on, with the deliberate differences (see the module docstring) taken out."""
    path = "/api/post" if (request.method, request.path) == ("DELETE", "/api/delete") else request.path
    body = {k: v for k, v in request.body.items() if k != SDK_ONLY_FIELD} if isinstance(request.body, dict) else None
    return {
        "method": request.method,
        "path": path,
        "body": body or None,
        "query": sorted((name, value) for name, value in request.query if name != SDK_ONLY_FIELD),
        "headers": {name: request.header(name) for name in COMPARED_HEADERS},
    }


async def through_the_sdk(emulator: RunningEmulator, operation: Operation, profile: bool, x_pair: bool) -> Any:
    sdk = SocialPost(API_KEY)
    if profile:
        sdk.setProfileKey(PROFILE_KEY)
    if x_pair:
        sdk.set_twitter_byo(X_API_KEY, X_API_SECRET)
    emulator.app.requests.clear()
    # The SDK is synchronous (requests); the emulator answers on this event loop meanwhile.
    await anyio.to_thread.run_sync(operation.sdk, sdk)
    [request] = emulator.app.requests
    return normalised(request)


async def through_the_server(
    emulator: RunningEmulator, home: Path, operation: Operation, profile: bool, x_pair: bool
) -> Any:
    env = {"AYRSHARE_API_KEY": API_KEY}
    if x_pair:
        env |= {"AYRSHARE_X_API_KEY": X_API_KEY, "AYRSHARE_X_API_SECRET": X_API_SECRET}
    arguments = operation.arguments | ({"Profile-Key": PROFILE_KEY} if profile else {})
    emulator.app.requests.clear()
    # A person who says yes, for the deletes that ask first.
    async with Client(build_server(settings_for(emulator, home, **env)), elicitation_callback=User()) as client:
        await call(client, operation.tool, arguments)
    return normalised(emulator.app.requests[operation.request_index])


@pytest.mark.usefixtures("sdk_base")
@pytest.mark.parametrize("credentials", CREDENTIALS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.name)
async def test_the_server_sends_what_ayrshares_own_sdk_sends(
    emulator: RunningEmulator, home: Path, operation: Operation, credentials: str
) -> None:
    profile, x_pair = CREDENTIALS[credentials]

    with anyio.fail_after(20):
        ours = await through_the_server(emulator, home, operation, profile, x_pair)
        emulator.service.profiles.clear()
        theirs = await through_the_sdk(emulator, operation, profile, x_pair)

    assert ours == theirs
    assert ours["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert (ours["headers"]["profile-key"] is not None) is profile
    assert (ours["headers"]["x-twitter-oauth1-api-key"] is not None) is x_pair
