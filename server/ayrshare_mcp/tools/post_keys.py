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

DERIVED_KEY_PREFIX = "mcp-"
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that draw nothing.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_SPACES = re.compile(r"[^\S\n]+")
_DEFAULT_PORTS = {"https": 443, "http": 80}


def normalised_text(text: str) -> str:
    """The text as a reader sees it: compatibility forms folded (NFKC: fullwidth letters, no-break spaces), line
    ends as LF, nothing invisible, one space wherever there were several, no spaces at line ends or around it."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", _DEFAULT_IGNORABLE.sub("", text))
    return "\n".join(line.strip(" ") for line in text.split("\n")).strip()


def canonical_url(url: str) -> str:
    """The URL as the server it names reads it: scheme and host in lower case, no default port, no fragment, and
    no empty query. The path and query are kept as written (they may be case-sensitive)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    return urlunsplit(SplitResult(scheme, netloc, parts.path, parts.query, ""))


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
