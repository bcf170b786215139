"""An independent attack on the calendar view, in Chromium, kept as tests: hostile Ayrshare data (post text,
schedule titles, error messages) stays text, a long title stays in its day, and the view keeps the profile the model
asked for (before, it showed and deleted from the default profile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayrshare_mcp.tools.toolsets.posts import GET_POST
from tests.support import API_KEY, PROCESS_WAIT, RunningEmulator
from tests.test_calendar_view import ZONE, hosted_week, seed_week

# Markup that, run, would delete a post through the host.
XSS = (
    "<img src=x onerror=\"document.title='PWNED';window.parent.postMessage({jsonrpc:'2.0',id:999,method:"
    "'tools/call',params:{name:'AYRSHARE_DELETE_DELETE_POST',arguments:{id:'victim'}}},'*')\">"
)
FAKE_UI = "Delete this scheduled post\n\u202eFREE\u202c  Deleted post victim."


@pytest.mark.browser
@pytest.mark.anyio
async def test_hostile_text_and_titles_stay_text_and_no_tool_is_called_without_a_click(
    emulator: RunningEmulator, home: Path
) -> None:
    from playwright.async_api import expect

    week = seed_week(emulator)
    profile = emulator.service.profile(API_KEY, None)
    # A schedule title as Ayrshare could list it (set elsewhere: the dashboard, another API client).
    profile.schedules[XSS] = {"schedule": ["05:00Z"], "excludeDates": [week.monday.isoformat()]}
    at = datetime(week.monday.year, week.monday.month, week.monday.day, 5, 0, tzinfo=UTC) + timedelta(days=1)
    emulator.seed_post(post_id="victim", text="victim post", schedule_date=at + timedelta(days=1))
    hostile = emulator.seed_post(post_id="hostile", text=XSS + "\n" + FAKE_UI + "\n" + XSS, schedule_date=at)
    hostile["errors"] = [{"platform": XSS, "message": XSS}]
    hostile["postIds"] = [{"platform": XSS, "status": XSS, "postUrl": "javascript:alert(1)"}]
    with anyio.fail_after(PROCESS_WAIT):
        arguments = {"week": week.label, "timeZone": ZONE}
        async with hosted_week(emulator, home, arguments, host_context={"timeZone": ZONE}) as hosted:
            view = hosted.view
            dialogs: list[str] = []

            async def dismissed(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            hosted.page.on("dialog", dismissed)
            card = view.locator('.card[data-id="hostile"]')
            await expect(card).to_contain_text("<img src=x")
            await card.click()
            details = view.locator("#details")
            await expect(details).to_contain_text("Deleted post victim")
            # Markup would be elements already, before any handler of theirs could run.
            assert await view.locator("img").count() == 0
            assert await view.locator("a").count() == 0
            assert await view.locator("button", has_text="Delete this scheduled post").count() == 1
            assert "PWNED" not in await hosted.page.frames[1].title()
            calls = await hosted.tool_calls()
            assert [c["name"] for c in calls] == [GET_POST], calls
            assert emulator.app.received("/api/post", method="DELETE") == []
            await expect(view.locator(f'section.day[data-date="{week.monday.isoformat()}"]')).to_contain_text(
                "Excluded: <img"
            )
            assert dialogs == []


@pytest.mark.browser
@pytest.mark.anyio
async def test_a_long_schedule_title_stays_inside_its_day(emulator: RunningEmulator, home: Path) -> None:
    """A 100-character title (what CREATE_AUTO_SCHEDULE itself accepts) in "Excluded: ..." must not spill over the
    next day's column and cover its cards."""

    week = seed_week(emulator)
    profile = emulator.service.profile(API_KEY, None)
    profile.schedules["N" * 100] = {"schedule": ["05:00Z"], "excludeDates": [week.monday.isoformat()]}
    with anyio.fail_after(PROCESS_WAIT):
        arguments = {"week": week.label, "timeZone": ZONE}
        async with hosted_week(emulator, home, arguments, host_context={"timeZone": ZONE}) as hosted:
            exc = hosted.view.locator(f'section.day[data-date="{week.monday.isoformat()}"] .exc')
            await exc.wait_for()
            overflow = await exc.evaluate("e => e.scrollWidth - e.clientWidth")
            assert overflow <= 0, f"the title runs {overflow}px past its column"


@pytest.mark.browser
@pytest.mark.anyio
async def test_the_view_keeps_the_profile_it_was_asked_for(emulator: RunningEmulator, home: Path) -> None:
    """The model asks for a client profile's week (Profile-Key). The host's zone differs, so the view asks again:
    it must ask for the same profile, not show the default profile's posts under the same heading."""
    from playwright.async_api import expect

    from tests.support import PROFILE_KEY

    week = seed_week(emulator)  # the primary profile's schedule and posts
    client_profile = emulator.service.profile(API_KEY, PROFILE_KEY)
    emulator.service.set_auto_schedule(client_profile, {"schedule": ["03:00Z"]})
    at = datetime(week.monday.year, week.monday.month, week.monday.day, 3, 0, tzinfo=UTC)
    emulator.seed_post(profile_key=PROFILE_KEY, post_id="clientpost", text="Client's own post", schedule_date=at)
    with anyio.fail_after(PROCESS_WAIT):
        arguments = {"week": week.label, "Profile-Key": PROFILE_KEY}  # as a model calls it: no zone
        async with hosted_week(emulator, home, arguments, host_context={"timeZone": ZONE}) as hosted:
            view = hosted.view
            await expect(view.locator("#range")).to_contain_text(f"times in {ZONE}")
            cards = await view.locator(".card").all_inner_texts()
            calls = await hosted.tool_calls()
            assert any("Client's own post" in card for card in cards), cards
            assert not any("Winter menu" in card for card in cards), "the primary profile's posts are shown"
            assert all(call["arguments"].get("Profile-Key") == PROFILE_KEY for call in calls), calls
            await expect(view.locator("#range")).to_contain_text("the profile the assistant named")
