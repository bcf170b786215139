"""The prompts hosts offer as slash commands: a few of a social-media manager's routines, each naming the tools it
uses. A server lists a prompt only when it serves every one of those tools (its toolsets, and not read-only if the
prompt changes anything), so a prompt never sends a model to a tool it cannot call.

Each is declared once, below, as data: its name, what it is for, its arguments, the tools it uses and its text. The
text is instructions to the model; the person chose the prompt, and every public act in it still asks them first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import get_args

import mcp_types as types
from mcp import MCPError

from ayrshare_mcp.tools.catalog import TOOLSET_OF, served
from ayrshare_mcp.tools.fields import Platform

PLATFORMS: tuple[str, ...] = get_args(Platform)

HISTORY = "AYRSHARE_GET_POST_HISTORY"
POST_ANALYTICS = "AYRSHARE_GET_POST_ANALYTICS"
SOCIAL_ANALYTICS = "AYRSHARE_GET_SOCIAL_ANALYTICS"
GET_COMMENTS = "AYRSHARE_GET_COMMENTS"
REPLY_COMMENT = "AYRSHARE_REPLY_COMMENT"
LIST_AUTO_SCHEDULES = "AYRSHARE_LIST_AUTO_SCHEDULES"
CREATE_POST = "AYRSHARE_CREATE_POST"

# A prompt's argument is one line a person typed into a host's form, never a document.
MAX_ARGUMENT_CHARACTERS = 200
_TITLE = re.compile(r"[^*~/\[\]\x00-\x1f\x7f]{1,100}")
_POST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class PromptArgumentError(ValueError):
    """An argument the prompt cannot use, with what to give instead."""


@dataclass(frozen=True)
class Argument:
    name: str
    description: str
    required: bool = False
    # Raises PromptArgumentError for a value the prompt cannot use; returns the value as the text should show it.
    check: Callable[[str], str] = str.strip


@dataclass(frozen=True)
class PromptSpec:
    name: str
    title: str
    description: str
    # Every tool the text sends the model to.
    tools: tuple[str, ...]
    arguments: tuple[Argument, ...]
    text: Callable[[Mapping[str, str], datetime], str]

    @property
    def prompt(self) -> types.Prompt:
        listed = [types.PromptArgument(name=a.name, description=a.description, required=a.required)
                  for a in self.arguments]  # fmt: skip
        return types.Prompt(name=self.name, title=self.title, description=self.description, arguments=listed)

    @property
    def toolsets(self) -> tuple[str, ...]:
        """The toolsets a server must serve for this prompt, in the order its tools name them."""
        return tuple(dict.fromkeys(TOOLSET_OF[tool] for tool in self.tools))

    def render(self, given: Mapping[str, str] | None, now: datetime) -> types.GetPromptResult:
        """The prompt's message for these arguments (raises PromptArgumentError)."""
        values = self._checked(given or {})
        message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=self.text(values, now)))
        return types.GetPromptResult(description=self.description, messages=[message])

    def _checked(self, given: Mapping[str, str]) -> dict[str, str]:
        known = {argument.name: argument for argument in self.arguments}
        if unknown := sorted(set(given) - set(known)):
            raise PromptArgumentError(
                f"{self.name} has no argument {', '.join(unknown)}; its arguments are: {', '.join(known) or 'none'}."
            )
        values: dict[str, str] = {}
        for name, argument in known.items():
            value = given.get(name, "")
            if not isinstance(value, str) or len(value) > MAX_ARGUMENT_CHARACTERS:
                raise PromptArgumentError(f"{name}: give text of at most {MAX_ARGUMENT_CHARACTERS} characters.")
            if value.strip():
                values[name] = argument.check(value)
            elif argument.required:
                raise PromptArgumentError(f"{name} is required: {argument.description}")
        return values


def _platforms(value: str) -> str:
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    if unknown := [name for name in names if name not in PLATFORMS]:
        raise PromptArgumentError(
            f"platforms: {', '.join(unknown)} is not a network Ayrshare posts to; use some of {', '.join(PLATFORMS)}."
        )
    return ", ".join(dict.fromkeys(names))


def _title(value: str) -> str:
    title = value.strip()
    if not _TITLE.fullmatch(title):
        raise PromptArgumentError("title: an auto schedule's title, 1-100 characters, without * ~ / [ ].")
    return title


def _post_id(value: str) -> str:
    post_id = value.strip()
    if not _POST_ID.fullmatch(post_id):
        raise PromptArgumentError("postId: an Ayrshare post id (letters, digits, _ and -) from post history.")
    return post_id


def _one_line(value: str) -> str:
    """Free text as one line: a line break in an argument could pass itself off as a step of the prompt."""
    return " ".join(value.split())


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT00:00:00Z")


def _weekly_report(values: Mapping[str, str], now: datetime) -> str:
    start, end = _day(now - timedelta(days=7)), _day(now)
    networks = values.get("platforms")
    scope = f" on {networks}" if networks else ""
    return f"""Write a report on the last 7 days of social media{scope}, from {start} to {end} (UTC).

1. Call {HISTORY} with startDate {start} and endDate {end} to list the posts of the week.
2. For each post with status success, call {POST_ANALYTICS} with its id and its platforms.
3. Call {SOCIAL_ANALYTICS} with the networks the posts went to, for followers and reach.
4. Summarise in a short report: how many posts went out and where, the best and weakest by engagement (with \
their numbers and first lines), follower and reach changes, posts that failed and why, and two or three \
suggestions for next week.

This is read-only: create, change or delete nothing. If a call fails because of the plan (analytics needs the \
Premium plan or higher), say so and report what the other calls returned."""


def _triage_comments(values: Mapping[str, str], now: datetime) -> str:
    post = values.get("postId")
    source = (
        f"Call {GET_COMMENTS} for the post {post}."
        if post
        else f"Call {HISTORY} with lastDays 7 and status success, then {GET_COMMENTS} for each post."
    )
    return f"""Triage the comments on my recent posts and draft replies for me to approve.

1. {source}
2. Group the comments: questions, complaints, praise, and spam or abuse.
3. For each question and complaint, draft a short, friendly reply in my voice. Suggest no reply to spam or abuse.
4. Show me a table: the comment (author, network, text), its group, and the draft reply.
5. Send nothing yet. Only for a reply I approve, word for word, call {REPLY_COMMENT}; I will be asked to \
confirm each one. Never reply to the same comment twice."""


def _plan_week(values: Mapping[str, str], now: datetime) -> str:
    title = values.get("title", "default")
    topic = values.get("topic")
    about = f" about {topic}" if topic else ""
    return f"""Plan next week's posts{about} into the free slots of my auto schedule "{title}".

1. Call {LIST_AUTO_SCHEDULES} and find the schedule "{title}": its daily UTC slots, its days and excluded dates.
2. Call {HISTORY} with status pending to see which posts are already queued, and so which slots are taken.
3. Draft one post for each free slot in the next 7 days (from {_day(now)}), suited to each network, and show me \
the drafts with the slot each would take.
4. Create nothing until I approve a draft. For each approved draft, call {CREATE_POST} with autoScheduleTitle \
"{title}"; I will be asked to confirm each post. If the schedule does not exist, say so and stop."""


PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        name="weekly_report",
        title="Weekly report",
        description="Analytics for the last 7 days, summarised: posts, engagement, followers, failures.",
        tools=(HISTORY, POST_ANALYTICS, SOCIAL_ANALYTICS),
        arguments=(Argument("platforms", "Networks to cover, comma-separated (default: all).", check=_platforms),),
        text=_weekly_report,
    ),
    PromptSpec(
        name="triage_comments",
        title="Triage comments",
        description="Read new comments and draft replies for you to approve; nothing is sent without your yes.",
        tools=(HISTORY, GET_COMMENTS, REPLY_COMMENT),
        arguments=(Argument("postId", "One post's Ayrshare id (default: last week's posts).", check=_post_id),),
        text=_triage_comments,
    ),
    PromptSpec(
        name="plan_week",
        title="Plan the week",
        description="Draft posts into an auto schedule's free slots; each is created only after your yes.",
        tools=(LIST_AUTO_SCHEDULES, HISTORY, CREATE_POST),
        arguments=(
            Argument("title", 'The auto schedule\'s title (default "default").', check=_title),
            Argument("topic", "What the week's posts are about.", check=_one_line),
        ),
        text=_plan_week,
    ),
)


def served_prompts(toolsets: tuple[str, ...], *, read_only: bool) -> dict[str, PromptSpec]:
    """The prompts a server with these settings offers: those whose every tool it serves."""
    tools = {spec.name for spec in served(toolsets, read_only=read_only)}
    return {prompt.name: prompt for prompt in PROMPTS if set(prompt.tools) <= tools}


def get_prompt(
    prompts: Mapping[str, PromptSpec], name: str, arguments: Mapping[str, str] | None
) -> types.GetPromptResult:
    """prompts/get: the prompt's message, or a protocol error that says what to do."""
    prompt = prompts.get(name)
    if prompt is None:
        raise MCPError(types.INVALID_PARAMS, _not_offered(name, prompts))
    try:
        return prompt.render(arguments, datetime.now(UTC))
    except PromptArgumentError as exc:
        raise MCPError(types.INVALID_PARAMS, str(exc)) from None


def _not_offered(name: str, prompts: Mapping[str, PromptSpec]) -> str:
    declared = {prompt.name: prompt for prompt in PROMPTS}.get(name)
    if declared is not None:
        return (
            f"{name} uses {', '.join(declared.tools)}, which this server does not serve: it needs the toolsets "
            f"{', '.join(declared.toolsets)}, not read-only (--toolsets / AYRSHARE_TOOLSETS)."
        )
    return f"Unknown prompt {name!r}; the prompts here are: {', '.join(prompts) or 'none'}."
