"""The calendar through the official SDK client, against the emulator: the tool's two content blocks and its model,
the view as an MCP App resource, the `_meta` on tools, the view's tools served app-only, read-only, and hosts that
render no apps reading the text calendar on every transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import CallToolResult, TextContent, TextResourceContents

from ayrshare_mcp.server import build_server
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.tools.toolsets.calendar import HISTORY_PAGE, MAX_HISTORY_CALLS, SHOW_CALENDAR, VIEW_URI
from ayrshare_mcp.transports.options import HttpOptions, HttpTransport
from tests.envelope import envelope_of, fail, succeed
from tests.oracle import Operation
from tests.support import API_KEY, WAIT, RunningEmulator, http_server, http_session, settings_for

pytestmark = pytest.mark.anyio

GET_POST = "AYRSHARE_GET_POST"
DELETE_POST = "AYRSHARE_DELETE_DELETE_POST"
# A week well ahead, so every empty slot in it is free: Monday 4 to Sunday 10 March 2030, Berlin on winter time.
WEEK = "2030-W10"
MONDAY = datetime(2030, 3, 4, tzinfo=UTC)
APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})


def calendar_settings(emulator: RunningEmulator, home: Path, toolsets: str = "calendar", **env: str) -> Settings:
    return settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_TOOLSETS=toolsets, **env)


@asynccontextmanager
async def host(settings: Settings, *, renders_apps: bool = True, mode: str = "auto") -> AsyncIterator[Client]:
    """A host reaching the server in memory: one that renders MCP Apps says so, as the spec asks."""
    extensions = [APPS] if renders_apps else []
    async with Client(build_server(settings), extensions=extensions, mode=mode) as client:
        yield client


def a_week_of_posts(emulator: RunningEmulator) -> None:
    """Two schedules and three posts: one in a slot, one awaiting approval in another, one at no slot's time."""
    profile = emulator.service.profile(API_KEY, None)
    emulator.service.set_auto_schedule(profile, {"schedule": ["09:30Z"], "daysOfWeek": [1, 2, 3, 4, 5]})
    emulator.service.set_auto_schedule(
        profile, {"title": "evening", "schedule": ["18:00Z"], "excludeDates": ["2030-03-06"]}
    )
    emulator.seed_post(post_id="inslot", text="Spring launch\nmore", schedule_date=MONDAY + timedelta(hours=9.5))
    emulator.seed_post(
        post_id="held", text="Waiting", schedule_date=MONDAY + timedelta(days=1, hours=18), status="awaiting approval"
    )
    emulator.seed_post(
        post_id="offslot", text="Off", platforms=["linkedin"], schedule_date=MONDAY + timedelta(hours=14)
    )


def text_calendar(result: CallToolResult) -> str:
    assert len(result.content) == 2
    block = result.content[1]
    assert isinstance(block, TextContent)
    return block.text


async def test_the_calendar_answers_with_its_model_as_data_and_the_week_as_text_after_the_envelope(
    emulator: RunningEmulator, home: Path
) -> None:
    a_week_of_posts(emulator)

    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            result = await client.call_tool(SHOW_CALENDAR, {"week": WEEK, "timeZone": "Europe/Berlin"})

    model = envelope_of(result)["data"]
    assert json.loads(result.content[0].text)["data"] == model  # type: ignore[union-attr]
    assert (model["week"], model["timeZone"], model["start"], model["end"]) == (
        WEEK, "Europe/Berlin", "2030-03-04", "2030-03-10"
    )  # fmt: skip
    monday, tuesday, wednesday = model["days"][:3]
    assert [(s["schedule"], s["time"], s["state"], s["postId"]) for s in monday["slots"]] == [
        ("default", "10:30", "taken", "inslot"),
        ("evening", "19:00", "free", None),
    ]
    assert [(p["id"], p["time"], p["inSlot"]) for p in monday["posts"]] == [("inslot", "10:30", True),
                                                                           ("offslot", "15:00", False)]  # fmt: skip
    assert [(s["schedule"], s["state"]) for s in tuesday["slots"]] == [("default", "free"), ("evening", "taken")]
    assert tuesday["posts"][0]["status"] == "awaiting approval"
    assert wednesday["excluded"] == ["evening"]
    assert [s["state"] for s in wednesday["slots"]] == ["free", "excluded"]
    assert (model["canDelete"], model["emptyHint"]) == (True, None)
    text = text_calendar(result)
    assert "  10:30 (09:30Z) default: taken by post inslot [pending] 'Spring launch' (twitter, facebook)" in text
    assert "  15:00 (14:00Z) not a slot: post offslot [pending] 'Off' (linkedin)" in text
    assert "Wed 2030-03-06 (excluded for evening)" in text


async def test_the_week_s_history_is_asked_for_its_window_with_the_largest_page(
    emulator: RunningEmulator, home: Path
) -> None:
    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            await succeed(client, SHOW_CALENDAR, {"week": WEEK, "timeZone": "Europe/Berlin"})

    listing, history = emulator.app.requests
    assert listing.path == "/api/auto-schedule/list"
    # Local midnight to local midnight: Berlin is UTC+1 in March 2030.
    assert dict(history.query) == {
        "startDate": "2030-03-03T23:00:00Z", "endDate": "2030-03-10T22:59:59Z", "limit": str(HISTORY_PAGE)
    }  # fmt: skip


async def test_a_profile_with_no_schedules_is_told_how_to_create_one(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            result = await client.call_tool(SHOW_CALENDAR, {"week": WEEK})

    assert envelope_of(result)["data"]["emptyHint"].endswith("create one with AYRSHARE_CREATE_AUTO_SCHEDULE.")
    assert "AYRSHARE_CREATE_AUTO_SCHEDULE" in text_calendar(result)


async def test_a_week_with_more_posts_than_one_history_page_is_read_in_halves_until_every_post_is_in(
    emulator: RunningEmulator, home: Path
) -> None:
    # 1,500 posts, one every 6 minutes from Monday 00:00: more than a page; each half of the week holds fewer.
    for number in range(1500):
        emulator.seed_post(post_id=f"p{number}", schedule_date=MONDAY + timedelta(minutes=6 * number))

    with anyio.fail_after(WAIT * 4):
        async with host(calendar_settings(emulator, home)) as client:
            envelope = envelope_of(await client.call_tool(SHOW_CALENDAR, {"week": WEEK}))

    shown = {post["id"] for day in envelope["data"]["days"] for post in day["posts"]}
    assert len(shown) == 1500
    assert "notice" not in envelope
    history = [request for request in emulator.app.requests if request.path == "/api/history"]
    assert len(history) == 3  # the week, then its two halves


async def test_more_posts_in_one_minute_than_a_page_holds_show_a_page_of_them_and_say_some_are_missing(
    emulator: RunningEmulator, home: Path
) -> None:
    # No window can be split finer than that minute: the calendar shows what one page holds and says so.
    for number in range(HISTORY_PAGE + 1):
        emulator.seed_post(post_id=f"p{number}", schedule_date=MONDAY + timedelta(hours=12))

    with anyio.fail_after(WAIT * 4):
        async with host(calendar_settings(emulator, home)) as client:
            envelope = envelope_of(await client.call_tool(SHOW_CALENDAR, {"week": WEEK}))

    shown = [post for day in envelope["data"]["days"] for post in day["posts"]]
    assert len(shown) == HISTORY_PAGE
    assert envelope["notice"].startswith("Post history held more posts in part of this week than one calendar reads")
    assert "AYRSHARE_GET_POST_HISTORY" in envelope["notice"]
    history = [request for request in emulator.app.requests if request.path == "/api/history"]
    assert len(history) <= MAX_HISTORY_CALLS


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ({"week": "2030-10"}, "'week': week must be an ISO 8601 week like 2026-W49"),
        ({"week": "2027-W53"}, "2027-W53 does not exist"),
        ({"timeZone": "Berlin"}, "'timeZone': 'Berlin' is not an IANA time zone; give one like Europe/Berlin"),
    ],
)
async def test_a_bad_week_or_time_zone_is_refused_clearly_before_anything_is_sent(
    emulator: RunningEmulator, home: Path, arguments: dict[str, Any], said: str
) -> None:
    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            envelope = await fail(client, SHOW_CALENDAR, arguments)

    assert said in envelope["error"]
    assert emulator.app.requests == []


async def test_a_title_shows_that_schedule_alone_and_an_unknown_one_names_those_there_are(
    emulator: RunningEmulator, home: Path
) -> None:
    a_week_of_posts(emulator)

    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            evening = await succeed(client, SHOW_CALENDAR, {"week": WEEK, "title": "evening"})
            unknown = await fail(client, SHOW_CALENDAR, {"week": WEEK, "title": "morning"})

    assert [schedule["title"] for schedule in evening["schedules"]] == ["evening"]
    assert {slot["schedule"] for day in evening["days"] for slot in day["slots"]} == {"evening"}
    assert unknown["error"] == "No auto schedule is titled 'morning'. The schedules are: default, evening."


# --- The view: a resource, the extension, the tools it calls ----------------------------------------------------


async def test_the_view_is_listed_and_read_as_an_mcp_app_resource(emulator: RunningEmulator, home: Path) -> None:
    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            listed = (await client.list_resources()).resources
            read = (await client.read_resource(VIEW_URI)).contents
            with pytest.raises(MCPError, match=r"No resource 'ui://ayrshare/other\.html'"):
                await client.read_resource("ui://ayrshare/other.html")

    assert [(resource.uri, resource.mime_type) for resource in listed] == [(VIEW_URI, APP_MIME_TYPE)]
    [page] = read
    assert isinstance(page, TextResourceContents)
    assert page.mime_type == "text/html;profile=mcp-app"
    assert page.text == resources.files("ayrshare_mcp").joinpath("views/calendar.html").read_text(encoding="utf-8")
    assert page.text.lstrip().lower().startswith("<!doctype html>")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_server_advertises_the_apps_extension_when_the_calendar_is_served_and_only_then(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home, "core,calendar"), mode=mode) as client:
            with_calendar = client.server_capabilities
        async with host(calendar_settings(emulator, home, "core"), mode=mode) as client:
            without = client.server_capabilities

    # The 2025-11-25 schema has no capabilities.extensions, so the SDK leaves it off that wire: hosts there go by the
    # tool's _meta.ui alone. On 2026-07-28 it is advertised.
    expected = {EXTENSION_ID: {"mimeTypes": [APP_MIME_TYPE]}} if mode == "auto" else None
    assert with_calendar.extensions == expected
    assert with_calendar.resources is not None
    assert (without.extensions, without.resources) == (None, None)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_view_s_tools_are_listed_app_only_to_a_host_that_renders_apps_where_their_toolsets_are_not_served(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home, "calendar"), mode=mode) as client:
            alone = {tool.name: tool.meta for tool in (await client.list_tools()).tools}
        async with host(calendar_settings(emulator, home, "core,posts,calendar"), mode=mode) as client:
            with_theirs = {tool.name: tool.meta for tool in (await client.list_tools()).tools}

    assert alone == {
        SHOW_CALENDAR: {"ui": {"resourceUri": VIEW_URI}},
        GET_POST: {"ui": {"visibility": ["app"]}},
        DELETE_POST: {"ui": {"visibility": ["app"]}},
    }
    assert with_theirs[SHOW_CALENDAR] == {"ui": {"resourceUri": VIEW_URI}}
    assert (with_theirs[GET_POST], with_theirs[DELETE_POST]) == (None, None)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_host_that_renders_no_apps_lists_no_app_only_tool_and_still_reads_a_useful_text_calendar(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    a_week_of_posts(emulator)

    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home), renders_apps=False, mode=mode) as client:
            listed = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool(SHOW_CALENDAR, {"week": WEEK, "timeZone": "Europe/Berlin"})
            if mode == "legacy":
                # The 2025 era cannot declare MCP Apps: a host there may render the view without saying so.
                details = await succeed(client, GET_POST, {"id": "inslot"})
                assert details["id"] == "inslot"
            else:
                # A 2026 client that renders no view has no use for them: its model must not delete through them.
                with pytest.raises(MCPError, match="only for the calendar view"):
                    await client.call_tool(DELETE_POST, {"id": "inslot"})

    # Listed, they would cost its model context that only a view could use.
    assert listed == [SHOW_CALENDAR]
    assert result.structured_content is not None
    assert result.structured_content["data"]["canDelete"] is (mode == "legacy")
    assert [request for request in emulator.app.requests if request.method == "DELETE"] == []
    text = text_calendar(result)
    assert text.startswith("Calendar 2030-W10, 2030-03-04 to 2030-03-10, times in Europe/Berlin")
    assert "Tue 2030-03-05" in text
    assert "  19:00 (18:00Z) evening: taken by post held [awaiting approval] 'Waiting'" in text


async def test_the_view_deletes_a_pending_post_through_the_app_only_delete_once_without_asking(
    emulator: RunningEmulator, home: Path
) -> None:
    a_week_of_posts(emulator)

    with anyio.fail_after(WAIT):
        async with host(calendar_settings(emulator, home)) as client:
            before = await succeed(client, SHOW_CALENDAR, {"week": WEEK})
            await succeed(client, before["deleteTool"], {"id": "inslot"})
            after = await succeed(client, SHOW_CALENDAR, {"week": WEEK})

    deletes = [request for request in emulator.app.requests if request.method == "DELETE"]
    assert [request.body for request in deletes] == [{"id": "inslot"}]
    assert before["canDelete"] is True
    # The post is gone; its slot stays used (lastScheduleDate is not the emulator's to move here, so it is free
    # again only because nothing placed it: history no longer shows a post there).
    assert [post["id"] for post in after["days"][0]["posts"]] == ["offslot"]


async def test_under_read_only_the_delete_is_not_served_and_the_calendar_says_it_cannot_delete(
    emulator: RunningEmulator, home: Path
) -> None:
    settings = calendar_settings(emulator, home, "core,calendar", AYRSHARE_READ_ONLY="1")

    with anyio.fail_after(WAIT):
        async with host(settings) as client:
            listed = {tool.name: tool.meta for tool in (await client.list_tools()).tools}
            model = await succeed(client, SHOW_CALENDAR, {"week": WEEK})
            with pytest.raises(MCPError, match="read-only"):
                await client.call_tool(DELETE_POST, {"id": "anything"})

    assert listed == {
        "AYRSHARE_GET_POST_HISTORY": None,
        SHOW_CALENDAR: {"ui": {"resourceUri": VIEW_URI}},
        GET_POST: {"ui": {"visibility": ["app"]}},
    }
    assert model["canDelete"] is False


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_every_http_transport_carries_both_blocks_to_a_host_that_renders_no_apps(
    emulator: RunningEmulator, home: Path, transport: HttpTransport, mode: str
) -> None:
    a_week_of_posts(emulator)

    with anyio.fail_after(WAIT):
        async with (
            http_server(calendar_settings(emulator, home), HttpOptions(transport=transport)) as url,
            http_session(url, transport=transport, mode=mode) as client,
        ):
            result = await client.call_tool(SHOW_CALENDAR, {"week": WEEK})

    assert envelope_of(result)["data"]["week"] == WEEK
    assert "  09:30 (09:30Z) default: taken by post inslot" in text_calendar(result)


async def test_in_the_sandbox_the_text_calendar_survives_the_sandbox_notice(home: Path) -> None:
    settings = Settings.from_environ({"HOME": str(home), "AYRSHARE_SANDBOX": "1", "AYRSHARE_TOOLSETS": "calendar"})

    with anyio.fail_after(WAIT):
        async with host(settings) as client:
            result = await client.call_tool(SHOW_CALENDAR, {"week": WEEK})

    assert "sandbox" in envelope_of(result)
    assert text_calendar(result).startswith("Calendar 2030-W10")


SDK_ORACLE = [
    Operation(
        "calendar: its schedules", lambda sdk: sdk.listAutoSchedule(), SHOW_CALENDAR, {"week": WEEK}, request_index=0
    ),
    Operation(
        "calendar: its week of history",
        lambda sdk: sdk.history(
            {"startDate": "2030-03-04T00:00:00Z", "endDate": "2030-03-10T23:59:59Z", "limit": 1000}
        ),
        SHOW_CALENDAR,
        {"week": WEEK},
        request_index=1,
    ),
]
