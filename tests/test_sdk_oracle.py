"""Ayrshare's own Python SDK (social-post-api 1.3.0) as the oracle for every request the tools send.

The emulator was written from the docs, so a test against it is only as right as our reading of them. Here each
operation is made twice against the emulator, once through Ayrshare's SDK and once through the server's tool, and
the two requests must be the same: method, path, JSON body, query, and the credential headers.

Where we differ from the SDK on purpose, `normalised` says why:
- the SDK deletes through the legacy `DELETE /api/delete`; we use `DELETE /api/post`, the path Ayrshare's docs and
  its Node SDK use;
- the SDK adds `source: "pypi"` to every body and query, which tells Ayrshare which SDK called, not what to do;
- the SDK's getPost repeats the id in the query (`GET /post/ID?id=ID`); the docs' request has it in the path only;
- the SDK has no method for `POST /validate/post`; its own `doPost` stands in, as its methods all do;
- headers other than the credentials (User-Agent, Content-Type on bodyless GETs) are not compared.

Listing profiles is account-wide: it is compared without a Profile-Key, which the tool refuses by design.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from ayrshare import SocialPost
from ayrshare import ayrshare as ayrshare_sdk
from mcp import Client

from ayrshare_mcp.emulator import RecordedRequest
from ayrshare_mcp.server import build_server
from ayrshare_mcp.tools import TOOLS_BY_NAME
from tests.envelope import call
from tests.support import API_KEY, PROFILE_KEY, WAIT, X_API_KEY, X_API_SECRET, RunningEmulator, User, settings_for

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
    # What the tool needs to find in Ayrshare before it sends its request (a post to approve, a schedule to name).
    prepare: Callable[[RunningEmulator, str | None], None] | None = None
    # Account-wide operations act for the primary profile only.
    account_wide: bool = False


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
EVERY_POST_FIELD = {
    "post": "Oracle launch post",
    "platforms": ["twitter", "linkedin"],
    "mediaUrls": ["https://img.example/oracle.png"],
    "scheduleDate": "2030-01-01T09:00:00Z",
    "requiresApproval": True,
    "shortenLinks": False,
    "notes": "Ask Sam",
    "idempotencyKey": "oracle-launch-1",
}
NOW_POST = {"post": "Oracle now", "platforms": ["linkedin"], "idempotencyKey": "oracle-now-1"}


def a_post(status: str) -> Callable[[RunningEmulator, str | None], None]:
    def prepare(emulator: RunningEmulator, profile_key: str | None) -> None:
        later = datetime(2030, 1, 1, tzinfo=UTC)
        emulator.seed_post(profile_key=profile_key, post_id=POST_ID, schedule_date=later, status=status)

    return prepare


def a_schedule(emulator: RunningEmulator, profile_key: str | None) -> None:
    emulator.service.set_auto_schedule(
        emulator.service.profile(API_KEY, profile_key), {"schedule": ["09:00Z"], "title": "oracle"}
    )


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
    Operation(
        "create a post with every field",
        lambda sdk: sdk.post(dict(EVERY_POST_FIELD)),
        "AYRSHARE_CREATE_POST",
        EVERY_POST_FIELD,
    ),
    Operation("publish a post now", lambda sdk: sdk.post(dict(NOW_POST)), "AYRSHARE_CREATE_POST", NOW_POST),
    Operation(
        "create a post in an auto schedule",
        lambda sdk: sdk.post(
            {
                "post": "Slotted",
                "platforms": ["linkedin"],
                "idempotencyKey": "oracle-slot-1",
                "autoSchedule": {"schedule": True, "title": "oracle"},
            }
        ),
        "AYRSHARE_CREATE_POST",
        {
            "post": "Slotted",
            "platforms": ["linkedin"],
            "idempotencyKey": "oracle-slot-1",
            "autoScheduleTitle": "oracle",
        },
        prepare=a_schedule,
    ),
    Operation(
        "validate a post",
        lambda sdk: ayrshare_sdk.doPost("validate/post", dict(EVERY_POST_FIELD), sdk.headers),
        "AYRSHARE_VALIDATE_POST",
        EVERY_POST_FIELD,
    ),
    Operation("get a post", lambda sdk: sdk.getPost({"id": POST_ID}), "AYRSHARE_GET_POST", {"id": POST_ID}),
    Operation(
        "reschedule and annotate a post",
        lambda sdk: sdk.updatePost({"id": POST_ID, "scheduleDate": "2030-02-01T10:00:00Z", "notes": "moved"}),
        "AYRSHARE_UPDATE_POST",
        {"id": POST_ID, "scheduleDate": "2030-02-01T10:00:00Z", "notes": "moved"},
        prepare=a_post("pending"),
    ),
    Operation(
        "approve a post",
        lambda sdk: sdk.updatePost({"id": POST_ID, "approved": True}),
        "AYRSHARE_UPDATE_POST",
        {"id": POST_ID, "approved": True},
        prepare=a_post("awaiting approval"),
    ),
    Operation(
        "retry a failed post",
        lambda sdk: sdk.retryPost({"id": POST_ID}),
        "AYRSHARE_RETRY_POST",
        {"id": POST_ID},
        prepare=a_post("error"),
    ),
    Operation("list auto schedules", lambda sdk: sdk.listAutoSchedule(), "AYRSHARE_LIST_AUTO_SCHEDULES", {}),
    Operation(
        "delete an auto schedule",
        lambda sdk: sdk.deleteAutoSchedule({"title": "oracle", "deleteLastScheduleDate": True}),
        "AYRSHARE_DELETE_AUTO_SCHEDULE",
        {"title": "oracle", "deleteLastScheduleDate": True},
        prepare=a_schedule,
    ),
    Operation("get the user", lambda sdk: sdk.user(), "AYRSHARE_GET_USER", {}),
    Operation("list profiles", lambda sdk: sdk.getProfiles(), "AYRSHARE_LIST_PROFILES", {}, account_wide=True),
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
    sdk_only = {SDK_ONLY_FIELD, "id"} if path.startswith("/api/post/") else {SDK_ONLY_FIELD}
    return {
        "method": request.method,
        "path": path,
        "body": body or None,
        "query": sorted((name, value) for name, value in request.query if name not in sdk_only),
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
    env = {"AYRSHARE_API_KEY": API_KEY, "AYRSHARE_TOOLSETS": "all"}
    if x_pair:
        env |= {"AYRSHARE_X_API_KEY": X_API_KEY, "AYRSHARE_X_API_SECRET": X_API_SECRET}
    arguments = operation.arguments | ({"Profile-Key": PROFILE_KEY} if profile else {})
    if operation.prepare:
        operation.prepare(emulator, PROFILE_KEY if profile else None)
    emulator.app.requests.clear()
    # A person who says yes, for the deletes and posts that ask first.
    async with Client(build_server(settings_for(emulator, home, **env)), elicitation_callback=User()) as client:
        await call(client, operation.tool, arguments)
    return normalised(emulator.app.requests[operation.request_index])


CASES = [
    pytest.param(operation, credentials, id=f"{operation.name}-{credentials}")
    for operation in OPERATIONS
    for credentials, (profile, _) in CREDENTIALS.items()
    if not (operation.account_wide and profile)
]


@pytest.mark.usefixtures("sdk_base")
@pytest.mark.parametrize(("operation", "credentials"), CASES)
async def test_the_server_sends_what_ayrshares_own_sdk_sends(
    emulator: RunningEmulator, home: Path, operation: Operation, credentials: str
) -> None:
    profile, x_pair = CREDENTIALS[credentials]

    with anyio.fail_after(WAIT):
        ours = await through_the_server(emulator, home, operation, profile, x_pair)
        emulator.service.profiles.clear()
        theirs = await through_the_sdk(emulator, operation, profile, x_pair)

    assert ours == theirs
    assert ours["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert (ours["headers"]["profile-key"] is not None) is profile
    assert (ours["headers"]["x-twitter-oauth1-api-key"] is not None) is x_pair


# Tools whose requests Ayrshare's SDK cannot make, and why; every other tool needs a case in OPERATIONS.
EXEMPT: dict[str, str] = {}


def test_every_tool_is_compared_with_the_sdk_or_says_why_it_cannot_be() -> None:
    compared = {operation.tool for operation in OPERATIONS}

    assert not compared & set(EXEMPT), "a tool is either compared or exempt"
    assert set(TOOLS_BY_NAME) - set(EXEMPT) <= compared, (
        f"add an Operation for {sorted(set(TOOLS_BY_NAME) - compared - set(EXEMPT))}, or an EXEMPT entry saying why "
        "the SDK cannot make its request"
    )
