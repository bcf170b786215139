"""The questions a person answers before a post goes public, written so that what they read is what goes out.

Text from a model is untrusted: control characters could hide words in a terminal (ANSI codes, a carriage return),
bidirectional and invisible characters could reorder or hide them, and a run of blank lines could push a link below
what a dialog shows. Each is shown as a visible mark instead; the published text itself is not changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.tools.characters import is_hidden

# Shown as themselves: newline and tab, and characters that draw something; everything else is marked.
_SHOWN_CONTROLS = frozenset("\n\t")
_BLANK_LINES = re.compile(r"(?:\n[^\S\n]*){3,}")
# A run of spaces this long can push the rest of a line out of a dialog that wraps, as blank lines push it down.
_LONG_SPACES = re.compile(r"[^\S\n]{20,}")
PUBLISH_CONSEQUENCE = "It goes public on these networks; a deleted post may already have been seen."


def visible(text: str) -> str:
    """`text` with every control, invisible or formatting character shown as <U+XXXX>, and runs of blank (or
    blank-looking) lines, and of spaces, counted rather than shown. An emoji's style (U+FE0F or U+FE0E after a
    character that has one) is left alone; any other variation selector can carry hidden data, and is marked."""
    shown: list[str] = []
    for index, character in enumerate(text):
        hidden = character not in _SHOWN_CONTROLS and is_hidden(text, index)
        shown.append(_mark(character) if hidden else character)
    counted = _BLANK_LINES.sub(lambda run: f"\n\n<{run.group().count(chr(10)) - 1} blank lines>\n", "".join(shown))
    return _LONG_SPACES.sub(lambda run: f" <{len(run.group())} spaces> ", counted)


def _mark(character: str) -> str:
    return f"<U+{ord(character):04X}>"


@dataclass(frozen=True)
class When:
    """When a post goes out, as a person reads it ("at 2026-12-07T09:00:00Z UTC (in 3 days)"), and exactly (what a
    yes is bound to; words like "in 3 days" change while the person reads)."""

    shown: str
    exact: str
    # Facts the act must keep to, e.g. the slot an auto-scheduled post was said to go into.
    facts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Post:
    """What the public will see: the text, the networks, the media; and for which profile."""

    text: str
    platforms: Sequence[str]
    media: Sequence[str] = ()
    profile: str | None = None


def for_profile(profile: str | None) -> str:
    """ " for the Ayrshare profile 'Shop'", or nothing when the profile's name is not known."""
    return f" for the Ayrshare profile {visible(profile)!r}" if profile else ""


def what_goes_out(text: str, media: Sequence[str]) -> str:
    """The text and media exactly as they will appear, hidden characters marked: what a person says yes to."""
    attached = f"\n\nWith {len(media)} media file(s):\n" + "\n".join(map(visible, media)) if media else ""
    return f"It is {len(text)} characters long:\n\n{visible(text)}{attached}"


def publish_question(post: Post, when: When, *, held: bool = False, verb: str = "Publish this post") -> Question:
    """ "Publish this post <when> on <platforms>, for <profile>?", with the text and media as they will appear."""
    hold = " It is held as awaiting approval until someone approves it." if held else ""
    return Question(
        f"{verb} {when.shown} on {', '.join(post.platforms)}{for_profile(post.profile)}?{hold} "
        f"{what_goes_out(post.text, post.media)}",
        consent="Yes, publish it",
        consequence=PUBLISH_CONSEQUENCE,
        # The profile's display name is looked up best-effort: the yes is about the post, not the decoration.
        subject=json.dumps([verb, post.text, list(post.platforms), when.exact, list(post.media), held]),
        shown=when.facts,
    )
