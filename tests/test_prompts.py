"""The prompts hosts show as slash commands, through the SDK client: offered only with every tool they name, filled
with checked arguments, and never sending a model to a tool it cannot call."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from mcp import MCPError
from mcp.types import GetPromptResult, TextContent

from ayrshare_mcp.prompts import PROMPTS, PromptSpec
from ayrshare_mcp.settings import TOOLSETS
from ayrshare_mcp.tools import TOOLS_BY_NAME
from tests.support import WAIT, RunningEmulator, memory_client, settings_for

pytestmark = pytest.mark.anyio

BY_NAME = {prompt.name: prompt for prompt in PROMPTS}


async def offered(emulator: RunningEmulator, home: Path, toolsets: tuple[str, ...], **extra: str) -> list[str]:
    settings = settings_for(emulator, home, AYRSHARE_TOOLSETS=",".join(toolsets), **extra)
    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            return [prompt.name for prompt in (await client.list_prompts()).prompts]


async def get(
    emulator: RunningEmulator, home: Path, name: str, arguments: dict[str, str] | None = None
) -> GetPromptResult:
    settings = settings_for(emulator, home, AYRSHARE_TOOLSETS="all")
    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            return await client.get_prompt(name, arguments)


async def refusal(
    emulator: RunningEmulator, home: Path, name: str, arguments: dict[str, str] | None = None, toolsets: str = "all"
) -> str:
    """The protocol error prompts/get answers with."""
    settings = settings_for(emulator, home, AYRSHARE_TOOLSETS=toolsets)
    with anyio.fail_after(WAIT):
        async with memory_client(settings) as client:
            with pytest.raises(MCPError) as caught:
                await client.get_prompt(name, arguments)
    return str(caught.value)


def text_of(result: GetPromptResult) -> str:
    [message] = result.messages
    assert message.role == "user"
    assert isinstance(message.content, TextContent)
    return message.content.text


def test_there_are_the_three_prompts_the_issue_names() -> None:
    assert [prompt.name for prompt in PROMPTS] == ["weekly_report", "triage_comments", "plan_week"]


@pytest.mark.parametrize("prompt", PROMPTS, ids=lambda prompt: prompt.name)
def test_every_tool_a_prompt_tells_the_model_to_call_is_one_it_declares_and_one_that_exists(prompt: PromptSpec) -> None:
    text = prompt.render({}, datetime(2026, 12, 4, 9, 30, tzinfo=UTC)).messages[0].content
    assert isinstance(text, TextContent)

    named = set(re.findall(r"AYRSHARE_[A-Z_]+", text.text))

    assert named == set(prompt.tools)
    assert named <= set(TOOLS_BY_NAME)


async def test_with_only_core_no_prompt_is_offered_since_each_names_tools_core_lacks(
    emulator: RunningEmulator, home: Path
) -> None:
    assert await offered(emulator, home, ("core",)) == []


@pytest.mark.parametrize("prompt", PROMPTS, ids=lambda prompt: prompt.name)
async def test_a_prompt_is_offered_with_the_toolsets_it_needs_and_not_without_any_one_of_them(
    emulator: RunningEmulator, home: Path, prompt: PromptSpec
) -> None:
    assert prompt.name in await offered(emulator, home, prompt.toolsets)
    for missing in prompt.toolsets:
        others = tuple(name for name in prompt.toolsets if name != missing) or ("account",)
        assert prompt.name not in await offered(emulator, home, others), f"offered without {missing}"


async def test_read_only_offers_only_the_prompt_that_changes_nothing(emulator: RunningEmulator, home: Path) -> None:
    assert await offered(emulator, home, TOOLSETS, AYRSHARE_READ_ONLY="1") == ["weekly_report"]


async def test_the_weekly_report_covers_the_last_seven_days_and_the_networks_asked_for(
    emulator: RunningEmulator, home: Path
) -> None:
    today = datetime.now(UTC)
    week_ago = (today - timedelta(days=7)).strftime("%Y-%m-%dT00:00:00Z")

    text = text_of(await get(emulator, home, "weekly_report", {"platforms": "Instagram, facebook,instagram"}))

    assert f"startDate {week_ago}" in text
    assert "on instagram, facebook" in text
    assert "read-only" in text


async def test_plan_week_names_the_schedule_and_topic_and_creates_nothing_before_a_yes(
    emulator: RunningEmulator, home: Path
) -> None:
    text = text_of(await get(emulator, home, "plan_week", {"title": "Launch week", "topic": "the spring\nsale"}))

    assert 'auto schedule "Launch week"' in text
    assert "about the spring sale" in text, "a line break in an argument cannot start a step of its own"
    assert "Create nothing until I approve" in text


async def test_triage_comments_drafts_replies_and_sends_none_without_approval(
    emulator: RunningEmulator, home: Path
) -> None:
    one_post = text_of(await get(emulator, home, "triage_comments", {"postId": "rhn6u7wwz2WxGv6MZGK9"}))
    recent = text_of(await get(emulator, home, "triage_comments"))

    assert "for the post rhn6u7wwz2WxGv6MZGK9" in one_post
    assert "lastDays 7" in recent
    assert "Send nothing yet" in one_post


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("plan_week", {"days": "7"}, "has no argument days; its arguments are: title, topic"),
        ("plan_week", {"title": "a*b"}, "without * ~ / [ ]"),
        ("plan_week", {"topic": "x" * 201}, "at most 200 characters"),
        ("weekly_report", {"platforms": "myspace"}, "myspace is not a network"),
        ("triage_comments", {"postId": "../../etc"}, "an Ayrshare post id"),
    ],
    ids=["unknown argument", "bad title", "too long", "unknown network", "bad post id"],
)
async def test_an_argument_a_prompt_cannot_use_gets_an_error_that_says_what_to_give(
    emulator: RunningEmulator, home: Path, name: str, arguments: dict[str, str], says: str
) -> None:
    assert says in await refusal(emulator, home, name, arguments)


async def test_a_prompt_whose_toolsets_are_not_served_says_which_to_add(emulator: RunningEmulator, home: Path) -> None:
    said = await refusal(emulator, home, "weekly_report", toolsets="core")

    assert f"toolsets {', '.join(BY_NAME['weekly_report'].toolsets)}" in said


async def test_an_unknown_prompt_gets_the_names_of_those_there_are(emulator: RunningEmulator, home: Path) -> None:
    said = await refusal(emulator, home, "monthly_report")

    assert "Unknown prompt 'monthly_report'" in said
    assert "plan_week" in said
