"""What a `/post` answer says happened, network by network, read so that no failure can pass for a success.

Ayrshare answers per network: `postIds[]` for the networks that took the post, `errors[]` for those that did not,
either at the top or, with a Profile-Key, inside `posts[]`. The documented shapes are read as documented; anything
else that mentions a failure (an error given as text, a `postIds` entry whose status is not success, a wrapped entry
whose own status is error) counts as a failure too, and a post that should have gone out now must be confirmed on
every network it was sent to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ayrshare_mcp.client import JSONObject

# A network still processing the post (TikTok works asynchronously): not failed, not yet published.
IN_PROGRESS = frozenset({"pending", "processing"})
AWAITING_APPROVAL = "awaiting approval"


@dataclass
class Outcome:
    post_id: str | None = None
    published: list[str] = field(default_factory=list)
    processing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # When Ayrshare will publish it, if it said (a scheduled or auto-scheduled post), as it wrote it.
    schedule_date: str | None = None
    # Whether Ayrshare said it holds the post until someone approves it.
    awaiting_approval: bool = False

    def read(self, result: JSONObject) -> None:
        """Take in one result: the answer itself, or one of its `posts[]`."""
        if self.post_id is None and isinstance(result.get("id"), str):
            self.post_id = result["id"]
        self.schedule_date = self.schedule_date or moment_text(result.get("scheduleDate"))
        self.awaiting_approval = self.awaiting_approval or result.get("status") == AWAITING_APPROVAL
        for entry in _entries(result.get("postIds")):
            self._network(entry)
        self.failed += [describe_error(entry) for entry in _entries(result.get("errors"))]

    def _network(self, entry: Any) -> None:
        status = entry.get("status") if isinstance(entry, dict) else None
        if status == "success":
            self.published.append(str(entry.get("platform")))
        elif status in IN_PROGRESS:
            self.processing.append(str(entry.get("platform")))
        else:
            self.failed.append(describe_error(entry))

    def unaccounted(self, requested: Sequence[str]) -> list[str]:
        return [name for name in requested if name not in self.published and name not in self.processing]


def outcome_of(answer: JSONObject, *, requested: Sequence[str], now: bool) -> Outcome:
    """Where the post went out and where it did not; `now`: it should have gone out on every requested network."""
    outcome = Outcome()
    results = list(_results(answer))
    for result in results:
        outcome.read(result)
        if result.get("status") == "error" and not result.get("errors") and result is not answer:
            outcome.failed.append(describe_error(result))
    if not now:
        return outcome
    if any(result.get("status") in IN_PROGRESS for result in results):
        outcome.processing += outcome.unaccounted(requested)
    if not outcome.failed:
        outcome.failed += [f"{name} (Ayrshare did not confirm it)" for name in outcome.unaccounted(requested)]
    return outcome


def moment_text(value: Any) -> str | None:
    """A scheduleDate as Ayrshare writes it: a plain string (`/post`, `GET /post`) or Firestore's {utc} (history)."""
    text = value.get("utc") if isinstance(value, dict) else value
    return text if isinstance(text, str) and text.strip() else None


def _results(answer: JSONObject) -> Iterator[JSONObject]:
    """The answer itself, and each entry of `posts` (one per profile, with a Profile-Key)."""
    yield answer
    wrapped = answer.get("posts")
    if isinstance(wrapped, list):
        yield from (entry for entry in wrapped if isinstance(entry, dict))


def _entries(value: Any) -> list[Any]:
    """A list as given; an object's values (keyed by network); any other non-empty value as one entry."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [entry if isinstance(entry, dict) else f"{name}: {entry}" for name, entry in value.items()]
    return [value] if value else []


def describe_error(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    code = f"code {entry['code']}: " if entry.get("code") is not None else ""
    retry = "; Ayrshare can retry it" if entry.get("retryAvailable") else ""
    return f"{entry.get('platform', '?')} ({code}{str(entry.get('message') or 'failed').strip()}{retry})"
