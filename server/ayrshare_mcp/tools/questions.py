"""The question a person answers before a post goes public, written so that what they read is what goes out.

Text from a model is untrusted: control characters could hide words in a terminal (ANSI codes, a carriage return),
bidirectional and invisible characters could reorder or hide them, and a run of blank lines could push a link below
what a dialog shows. Each is shown as a visible mark instead; the published text itself is not changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ayrshare_mcp.confirmation import Question

# Format characters (bidi controls, zero-width joiners and spaces) and controls other than newline and tab.
_HIDDEN = re.compile(r"[^\S\n\t ]|[\x00-\x08\x0b-\x1f\x7f-\x9f]|[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_BLANK_RUN = re.compile(r"\n{3,}")


def visible(text: str) -> str:
    """`text` with every hidden or control character shown as <U+XXXX>, and long runs of blank lines counted."""

    def mark(match: re.Match[str]) -> str:
        character = match.group()
        if character == " " or unicodedata.category(character) == "Zs":
            return character
        return f"<U+{ord(character):04X}>"

    shown = _HIDDEN.sub(mark, text)
    return _BLANK_RUN.sub(lambda run: f"\n\n<{len(run.group()) - 1} blank lines>\n", shown)


def publish_question(
    text: str, platforms: Sequence[str], when: str, media: Sequence[str] | None = None, profile: str | None = None
) -> Question:
    """Publish `text` on `platforms` at `when` ("now", "at <time>"), with its media, for the named profile?"""
    target = f" for the Ayrshare profile {visible(profile)!r}" if profile else ""
    attached = f"\n\nWith {len(media)} media file(s):\n" + "\n".join(map(visible, media)) if media else ""
    return Question(
        f"Publish this post {when} on {', '.join(platforms)}{target}? It is {len(text)} characters long:\n\n"
        f"{visible(text)}{attached}",
        consent="Yes, publish it",
        consequence="It goes public on these networks; a deleted post may already have been seen.",
    )
