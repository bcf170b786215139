"""Characters a reader cannot see: what a question marks visibly, free text refuses, and a duplicate-post key
ignores. One list, so that what is hidden in one place is hidden in all."""

from __future__ import annotations

import re
import unicodedata

# Control, format, private-use, unassigned, surrogate, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
# Characters that draw nothing although Unicode classes them otherwise (blank fillers, joiners, Mongolian selectors).
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u2800\u3164\uffa0")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), and the blank fillers above.
IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def is_hidden(character: str) -> bool:
    """Whether a character draws nothing a reader would notice, or moves or hides what is around it."""
    return character in INVISIBLE or unicodedata.category(character) in HIDDEN_CATEGORIES
