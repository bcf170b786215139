"""Characters a reader cannot see: what a question marks visibly, free text refuses, and a duplicate-post key
ignores. One list, so that what is hidden in one place is hidden in all."""

from __future__ import annotations

import re
import unicodedata

# Control, format, private-use, unassigned, surrogate, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
# Characters that draw nothing although Unicode classes them otherwise (blank fillers, joiners).
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
# Variation selectors pick a glyph's form and draw nothing: 256 of them can carry a hidden byte after every
# character. Only text-or-emoji style (U+FE0E, U+FE0F) after a character that has both styles is left alone: a
# symbol or a punctuation mark beyond ASCII (as every base in Unicode's emoji-variation-sequences.txt is, but for
# U+2139 INFORMATION SOURCE), or a keycap.
VARIATION_SELECTORS = re.compile("[\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_EMOJI_STYLES = frozenset("\ufe0e\ufe0f")
_STYLED_CATEGORIES = frozenset({"So", "Sm", "Sk", "Sc", "Po", "Pd", "Ps", "Pe", "Pi", "Pf", "No"})
_STYLED_LETTERS = frozenset("\u2139")
# Keycap emoji (1️⃣, #️⃣) are an ASCII digit, # or * with the emoji style, then U+20E3 COMBINING ENCLOSING KEYCAP.
_KEYCAP_BASES = frozenset("#*0123456789")
_KEYCAP = "\u20e3"
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), and the blank fillers above.
IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def is_hidden(text: str, index: int) -> bool:
    """Whether the character at `index` draws nothing a reader would notice, or moves or hides what is around it."""
    character = text[index]
    if VARIATION_SELECTORS.match(character):
        return not (character in _EMOJI_STYLES and index > 0 and _has_styles(text, index - 1))
    return _invisible(character)


def _invisible(character: str) -> bool:
    return character in INVISIBLE or unicodedata.category(character) in HIDDEN_CATEGORIES


def _has_styles(text: str, index: int) -> bool:
    """Whether the character at `index` has a text and an emoji style, as used there."""
    base = text[index]
    if base in _KEYCAP_BASES:
        return text[index + 2 : index + 3] == _KEYCAP
    return ord(base) > 0x7F and (base in _STYLED_LETTERS or unicodedata.category(base) in _STYLED_CATEGORIES)
