"""The calendar view (issue 18) as a person sees it: the real view, served by the real server over HTTP, shown by the
official host bridge in headless Debian Chromium, its calls going through the host to the server and the emulator.

The browser tests are marked `browser` (Chromium and the Node tools are not on every developer's machine); CI runs
them (.ci/run), and there a Chromium that cannot start fails the test, saying why. The size and self-containment
checks need no browser and run with the default suite.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import TextResourceContents

from ayrshare_mcp.tools.toolsets.calendar import SHOW_CALENDAR, VIEW_URI
from ayrshare_mcp.tools.toolsets.core import DELETE_POST
from ayrshare_mcp.tools.toolsets.posts import GET_POST
from tests.support import API_KEY, BEARER, PROCESS_WAIT, RunningEmulator, client_from, server_env, serving_here

if TYPE_CHECKING:
    from tests.app_host import HostedView

VIEW = resources.files("ayrshare_mcp").joinpath("views", "calendar.html")
# The budget: what a host fetches and parses for every calendar it shows. A week grid with its client is about
# 23 KB today; 40 KB leaves room to grow and still says no to a framework or a bundled SDK (the official view-side
# App class alone is about 650 KB).
SIZE_BUDGET = 40 * 1024
# Not UTC, and far enough east that a 16:30Z slot falls on the next local day.
ZONE = "Asia/Tokyo"
SLOTS = ("00:30Z", "16:30Z")


def test_the_view_stays_within_its_size_budget() -> None:
    size = len(VIEW.read_bytes())
    assert size <= SIZE_BUDGET, f"calendar.html is {size:,} bytes, over its budget of {SIZE_BUDGET:,}"


def test_the_view_loads_nothing_from_outside_itself() -> None:
    # The host's default CSP blocks every outside script, style, font and connection: the view must not need one.
    html = VIEW.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", html, re.IGNORECASE)
    assert not re.search(r"@import|url\(|https?://", html)
    assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|innerHTML|eval)\b", html)


# --- in the browser ---------------------------------------------------------------------------------------------


@dataclass
class Week:
    """Next week in ZONE (wholly in the future, so its slots are Ayrshare's to fill), and what the emulator holds."""

    label: str
    monday: date
    excluded: date
    scheduled: dict[str, Any]  # a pending post in a slot, on Monday
    crossing: dict[str, Any]  # a pending post in a 16:30Z slot: the next local day
    off_slot: dict[str, Any]  # a pending post at a time that is no slot

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=offset) for offset in range(7)]

    def slot_times(self) -> list[datetime]:
        """Every slot of the schedule that falls in the week in ZONE, in UTC."""
        zone = ZoneInfo(ZONE)
        moments = []
        for offset in range(-1, 8):
            day = self.monday + timedelta(days=offset)
            for slot in SLOTS:
                moment = datetime(day.year, day.month, day.day, int(slot[:2]), int(slot[3:5]), tzinfo=UTC)
                if moment.astimezone(zone).date() in self.days:
                    moments.append(moment)
        return moments


def seed_week(emulator: RunningEmulator) -> Week:
    zone = ZoneInfo(ZONE)
    next_week = datetime.now(zone).date() + timedelta(days=7)
    year, number, weekday = next_week.isocalendar()
    monday = next_week - timedelta(days=weekday - 1)
    wednesday = monday + timedelta(days=2)
    service = emulator.service
    profile = service.profile(API_KEY, None)
    service.set_auto_schedule(profile, {"schedule": list(SLOTS), "excludeDates": [wednesday.isoformat()]})

    def at(day: date, hour: int, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    return Week(
        label=f"{year}-W{number:02d}",
        monday=monday,
        excluded=wednesday,
        scheduled=emulator.seed_post(text="Winter menu is live\nsecond line", platforms=["twitter", "facebook"],
                                     schedule_date=at(monday, 0, 30)),
        crossing=emulator.seed_post(text="Late-night launch", platforms=["linkedin"], schedule_date=at(monday, 16, 30)),
        off_slot=emulator.seed_post(text="<b>Not</b> a slot", platforms=["instagram"],
                                    schedule_date=at(monday + timedelta(days=3), 3, 15)),
    )  # fmt: skip


@asynccontextmanager
async def app_host_client(emulator: RunningEmulator, home: Path) -> AsyncIterator[Client]:
    """A session with the real server over streamable HTTP, from a client that says it renders MCP Apps."""
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY)
    apps = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    async with (
        serving_here(["--transport", "streamable-http", "--toolsets", "calendar"], env) as (_, url, _),
        client_from(None, headers=BEARER, timeout=httpx2.Timeout(30)) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http), extensions=[apps]) as client,
    ):
        yield client


async def view_html(client: Client) -> str:
    [page] = (await client.read_resource(VIEW_URI)).contents
    assert isinstance(page, TextResourceContents)
    assert page.mime_type == APP_MIME_TYPE
    return page.text


@asynccontextmanager
async def hosted_week(
    emulator: RunningEmulator, home: Path, arguments: dict[str, str], **options: Any
) -> AsyncIterator[HostedView]:
    """The calendar for `arguments`, as the real server answers a model, shown by the test host in Chromium; the
    view's tools/call go to that server. `options` are the host's (`host_context`, `color_scheme`)."""
    from tests.app_host import chromium, hosting

    async with app_host_client(emulator, home) as client, chromium() as browser:
        html = await view_html(client)
        result = await client.call_tool(SHOW_CALENDAR, arguments)
        async with hosting(browser, client, html, tool_input=arguments, tool_result=result, **options) as hosted:
            yield hosted


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(ZONE))


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_moment(post: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(post["scheduleDate"]["utc"].replace("Z", "+00:00"))


@pytest.mark.browser
@pytest.mark.anyio
async def test_a_person_sees_each_slot_and_post_on_its_local_day_and_can_open_and_delete_a_post(
    emulator: RunningEmulator, home: Path
) -> None:
    from playwright.async_api import expect

    week = seed_week(emulator)
    with anyio.fail_after(PROCESS_WAIT):
        # As a model calls it, without a zone: UTC. The host's context says Tokyo, and the view asks again.
        arguments = {"week": week.label}
        context = {"theme": "light", "timeZone": ZONE, "displayMode": "inline", "locale": "en-GB",
                   "availableDisplayModes": ["inline", "fullscreen"]}  # fmt: skip
        async with hosted_week(emulator, home, arguments, host_context=context) as hosted:
            view = hosted.view
            await expect(view.locator("#range")).to_contain_text(f"times in {ZONE}")
            assert (await hosted.tool_calls())[0] == {
                "name": SHOW_CALENDAR,
                "arguments": {"week": week.label, "timeZone": ZONE},
            }

            # Every slot of the week in its local day's column, at its local time, its UTC time on hover.
            taken = {post_moment(post) for post in (week.scheduled, week.crossing)}
            for moment in week.slot_times():
                column = view.locator(f'section.day[data-date="{local(moment).date().isoformat()}"]')
                cell = column.locator(f'[data-utc="{utc_iso(moment)}"]')
                await expect(cell).to_contain_text(local(moment).strftime("%H:%M"))
                await expect(cell).to_have_attribute("title", re.compile(re.escape(moment.strftime("%H:%M UTC"))))
                if moment in taken:
                    await expect(cell).to_have_class(re.compile(r"\bcard\b"))
            # The 16:30Z post on Monday is on Tuesday in Tokyo, at 01:30.
            crossing = view.locator(f'section.day[data-date="{week.days[1].isoformat()}"] .card')
            await expect(crossing).to_contain_text("01:30")
            await expect(crossing).to_contain_text("Late-night launch")
            await expect(crossing).to_contain_text("linkedin")
            # The post at no slot time still shows, on its day and time; its text is text, never markup.
            off = local(post_moment(week.off_slot))
            off_card = view.locator(f'section.day[data-date="{off.date().isoformat()}"] .card')
            await expect(off_card).to_contain_text(off.strftime("%H:%M"))
            await expect(off_card).to_contain_text("<b>Not</b> a slot")
            await expect(off_card).to_have_attribute("title", re.compile("not a slot time"))

            # The last slot of the week lies after every post: Ayrshare fills it, and it says Free.
            last = max(week.slot_times())
            free = view.locator(f'[data-utc="{utc_iso(last)}"]')
            await expect(free).to_have_class(re.compile(r"\bfree\b"))
            await expect(free).to_contain_text("Free")
            await expect(free).to_have_attribute("aria-label", re.compile("free slot"))

            # The excluded date is greyed out, and says so in words.
            excluded = view.locator(f'section.day[data-date="{week.excluded.isoformat()}"]')
            await expect(excluded).to_have_class(re.compile(r"\bexcluded\b"))
            await expect(excluded).to_contain_text("Excluded: default")
            other_days = view.locator("section.day.excluded")
            await expect(other_days).to_have_count(1)

            # A click on a post shows its details, fetched through the host from the server.
            card = view.locator(f'.card[data-id="{week.scheduled["id"]}"]')
            await expect(card).to_contain_text("Winter menu is live")
            await expect(card).to_contain_text("twitter, facebook")
            await card.click()
            details = view.locator("#details")
            await expect(details).to_contain_text("Winter menu is live\nsecond line")
            await expect(details).to_contain_text(local(post_moment(week.scheduled)).strftime("%H:%M"))
            assert {"name": GET_POST, "arguments": {"id": week.scheduled["id"]}} in await hosted.tool_calls()
            assert len(emulator.app.received(f"/api/post/{week.scheduled['id']}", method="GET")) == 1

            # Deleting it goes through the host to the emulator once, and the week is drawn again without it.
            emulator.app.requests.clear()
            await details.get_by_role("button", name="Delete this scheduled post").click()
            await expect(view.locator("#status")).to_contain_text(f"Deleted post {week.scheduled['id']}")
            await expect(card).to_have_count(0)
            deletes = [request for request in emulator.app.requests if request.method == "DELETE"]
            assert [request.path for request in deletes] == ["/api/post"]
            assert deletes[0].body == {"id": week.scheduled["id"]}
            assert (await hosted.tool_calls()).count(
                {"name": DELETE_POST, "arguments": {"id": week.scheduled["id"]}}
            ) == 1


@pytest.mark.browser
@pytest.mark.anyio
async def test_the_view_follows_the_hosts_theme_and_the_system_scheme_and_keeps_clear_of_the_safe_area(
    emulator: RunningEmulator, home: Path
) -> None:
    from playwright.async_api import expect

    week = seed_week(emulator)
    with anyio.fail_after(PROCESS_WAIT):
        arguments = {"week": week.label, "timeZone": ZONE}
        # No theme from the host, a dark system: prefers-color-scheme decides.
        context = {"timeZone": ZONE, "safeAreaInsets": {"top": 0, "right": 0, "bottom": 40, "left": 24}}
        async with hosted_week(emulator, home, arguments, host_context=context, color_scheme="dark") as hosted:
            body = hosted.view.locator("body")
            await expect(hosted.view.locator(".card").first).to_be_visible()
            assert await hosted.tool_calls() == []  # the result was already in the host's zone
            await expect(body).to_have_css("background-color", "rgb(27, 27, 29)")
            await expect(body).to_have_css("padding-left", "36px")
            await expect(body).to_have_css("padding-bottom", "52px")
            # The host says light: the view turns light, whatever the system prefers.
            await hosted.change_context({"theme": "light"})
            await expect(body).to_have_css("background-color", "rgb(255, 255, 255)")
            await hosted.change_context({"theme": "dark"})
            await expect(body).to_have_css("background-color", "rgb(27, 27, 29)")


@pytest.mark.browser
@pytest.mark.anyio
async def test_a_keyboard_reaches_every_post_and_opens_it_with_enter(emulator: RunningEmulator, home: Path) -> None:
    from playwright.async_api import expect

    week = seed_week(emulator)
    with anyio.fail_after(PROCESS_WAIT):
        arguments = {"week": week.label, "timeZone": ZONE}
        async with hosted_week(emulator, home, arguments, host_context={"timeZone": ZONE}) as hosted:
            view = hosted.view
            card = view.locator(f'.card[data-id="{week.crossing["id"]}"]')
            await card.focus()
            await hosted.page.keyboard.press("Enter")
            await expect(card).to_have_attribute("aria-expanded", "true")
            await expect(view.locator("#details")).to_contain_text("Late-night launch")
            await hosted.page.keyboard.press("Escape")
            await expect(view.locator("#details")).to_be_hidden()
            await expect(card).to_be_focused()
            # Next week, through the host: the server answers the week after, in the same zone.
            await view.get_by_role("button", name="Next week").click()
            await expect(view.locator("#range")).to_contain_text(next_label(week.monday))
            assert (await hosted.tool_calls())[-1]["arguments"]["timeZone"] == ZONE


def next_label(monday: date) -> str:
    year, number, _ = (monday + timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"
