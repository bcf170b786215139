"""Ayrshare's own Python SDK (social-post-api 1.3.0) as the oracle for every request the tools send.

The emulator was written from the docs, so a test against it is only as right as our reading of them. Here each
operation is made twice against the emulator, once through Ayrshare's SDK and once through the server's tool, and
the two requests must be the same: method, path, JSON body, query, and the credential headers.

Where we differ from the SDK on purpose, `normalised` says why:
- the SDK deletes through the legacy `DELETE /api/delete`; we use `DELETE /api/post`, the path Ayrshare's docs and
  its Node SDK use;
- the SDK adds `source: "pypi"` to every body and query, which tells Ayrshare which SDK called, not what to do;
- the SDK's getPost and getComments repeat the id in the query (`GET /post/ID?id=ID`); the docs' requests have it in
  the path only;
- the SDK has no method for `POST /validate/post`; its own `doPost` stands in, as its methods all do;
- headers other than the credentials (User-Agent, Content-Type on bodyless GETs) are not compared.

Listing profiles is account-wide: it is compared without a Profile-Key, which the tool refuses by design.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
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
from tests.oracle import POST_ID, Operation, a_post, a_schedule
from tests.support import API_KEY, PROFILE_KEY, WAIT, X_API_KEY, X_API_SECRET, RunningEmulator, User, settings_for

pytestmark = pytest.mark.anyio

COMPARED_HEADERS = ("authorization", "profile-key", "x-twitter-oauth1-api-key", "x-twitter-oauth1-api-secret")
SDK_ONLY_FIELD = "source"


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
    sdk_only = {SDK_ONLY_FIELD, "id"} if path.startswith(("/api/post/", "/api/comments/")) else {SDK_ONLY_FIELD}
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


def declared_beside_their_tools() -> tuple[list[Operation], dict[str, str]]:
    """The cases, and the exemptions, that other test modules declare beside their tools' tests."""
    cases: list[Operation] = []
    exempt: dict[str, str] = {}
    for found in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if found.name.startswith("test_") and found.name != Path(__file__).stem:
            module = importlib.import_module(f"tests.{found.name}")
            cases += getattr(module, "SDK_ORACLE", [])
            exempt |= getattr(module, "SDK_ORACLE_EXEMPT", {})
    return cases, exempt


ELSEWHERE, EXEMPT = declared_beside_their_tools()
OPERATIONS += ELSEWHERE

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


def test_every_tool_is_compared_with_the_sdk_or_says_why_it_cannot_be() -> None:
    compared = {operation.tool for operation in OPERATIONS}

    assert not compared & set(EXEMPT), "a tool is either compared or exempt"
    assert set(TOOLS_BY_NAME) - set(EXEMPT) <= compared, (
        f"add an Operation for {sorted(set(TOOLS_BY_NAME) - compared - set(EXEMPT))}, or an EXEMPT entry saying why "
        "the SDK cannot make its request"
    )
