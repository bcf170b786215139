"""The duplicate-post key: the same post, spelled any way a reader cannot tell apart, gets the same key.

Ayrshare rejects a second post with an idempotencyKey it has seen. A host that repeats a call, or a model that
retypes a post with a double space, a CRLF, a zero-width character, a no-break space or fullwidth letters, or its
media URL with another host case, a `:443`, a fragment or an empty query, must not post it twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from ayrshare_mcp.tools.characters import is_hidden

DERIVED_KEY_PREFIX = "mcp-"
_SPACES = re.compile(r"[^\S\n]+")
_LINE_SEPARATORS = re.compile("\r\n|[\r\u2028\u2029\x85\x0b\x0c]")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# What a reader cannot tell from plain text: fullwidth ASCII, the Latin ligatures, and the other spaces. Only these:
# NFKC would also fold what a reader does tell apart (E=mc² and E=mc2, a vulgar fraction and digits).
_LOOK_ALIKES: dict[int, int | str] = {
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
    **{
        ord(ligature): unicodedata.normalize("NFKC", ligature)
        for ligature in "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
    },
    **dict.fromkeys((0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000), " "),
}
# Joiners change what is drawn between two characters beyond ASCII (an emoji family, a Persian word), so they are
# kept there; elsewhere they draw nothing.
_JOINERS = frozenset("\u200c\u200d")


def normalised_text(text: str) -> str:
    """The text as a reader sees it: composed (NFC), look-alikes folded (fullwidth letters, ligatures, no-break
    spaces), line ends as LF, nothing a question would mark as hidden, one space wherever there were several, no
    spaces at line ends or around it."""
    text = _LINE_SEPARATORS.sub("\n", unicodedata.normalize("NFC", text).translate(_LOOK_ALIKES))
    text = "".join(character for index, character in enumerate(text) if _seen(text, index))
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip(" ") for line in text.split("\n")).strip()


def _seen(text: str, index: int) -> bool:
    if text[index] == "\n":
        return True
    if text[index] in _JOINERS:
        before, after = text[index - 1 : index], text[index + 1 : index + 2]
        return bool(before and after) and ord(before) > 0x7F and ord(after) > 0x7F
    return not is_hidden(text, index)


def canonical_url(url: str) -> str:
    """The URL as the server it names reads it (RFC 3986 normalization): scheme and host in lower case, the host
    without a trailing dot and in its ASCII (punycode) form, no default port, no fragment, no empty query, no dot
    segments, percent-escapes in upper case and unescaped where they stand for an unreserved character. The path
    and query keep their case: they may be case-sensitive."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = _ascii_host(_IDEOGRAPHIC_DOTS.sub(".", parts.hostname or "").rstrip("."))
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = _without_dot_segments(_escapes(parts.path))
    return urlunsplit(SplitResult(scheme, netloc, path, _escapes(parts.query), ""))


# What IDNA reads as the dot between labels, besides "." itself (RFC 3490 3.1).
_IDEOGRAPHIC_DOTS = re.compile("[\u3002\uff0e\uff61]")


def _ascii_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


def _escapes(text: str) -> str:
    """Percent-escapes in one spelling: upper case, and none for an unreserved character."""

    def one(match: re.Match[str]) -> str:
        character = chr(int(match[1], 16))
        return character if character in _UNRESERVED else f"%{match[1].upper()}"

    return _PERCENT.sub(one, text)


def _without_dot_segments(path: str) -> str:
    """The path with "." and ".." segments resolved (RFC 3986, 5.2.4)."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    resolved = "/".join(kept)
    return resolved + "/" if path.endswith(("/.", "/..")) and not resolved.endswith("/") else resolved


def derived_key(account_fingerprint: str, body: dict[str, Any], sent_on: date) -> str:
    """The same post, for the same profile, at the same time (or sent the same UTC day), always gets the same key.

    "The same post" is what the public sees: the text as a reader sees it, the networks in any order, the media in
    order, and when it goes out as the caller asked: its scheduleDate, else the day it was sent (with its schedule,
    if any). Notes, link shortening and approval do not make a repeat a different post.
    """
    media: Sequence[Any] = body.get("mediaUrls") or []
    when = body.get("scheduleDate") or [sent_on.isoformat(), body.get("autoSchedule")]
    seen = [
        account_fingerprint,
        normalised_text(str(body.get("post", ""))),
        sorted(body.get("platforms", [])),
        [canonical_url(str(url)) for url in media],
        when,
    ]
    material = json.dumps(seen, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(b"idempotency\0" + material.encode()).hexdigest()
    return DERIVED_KEY_PREFIX + digest[:40]
