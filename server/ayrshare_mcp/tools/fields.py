"""Argument types shared by the tools: each carries its JSON-schema constraints and its exact validation."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Hashable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field

from ayrshare_mcp.tools.characters import is_hidden

T = TypeVar("T", bound=Hashable)


def _decode_json_array(value: Any) -> Any:
    """Models sometimes send an array as its JSON text ('["a","b"]'); accept that, the schema is unchanged."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


def _no_duplicates(values: Sequence[T]) -> Sequence[T]:
    seen: set[T] = set()
    duplicates = [value for value in values if value in seen or seen.add(value)]  # type: ignore[func-returns-value]
    if duplicates:
        raise ValueError(f"remove the duplicate {', '.join(map(str, dict.fromkeys(duplicates)))}")
    return values


# Nothing on a social network is older; and strftime writes years before 1000 with fewer than four digits.
EARLIEST_YEAR = 1970


def utc_datetime(value: str) -> str:
    """`value` (ISO-8601, UTC unless it has an offset) as YYYY-MM-DDTHH:MM:SSZ; ValueError if it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not a real date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None
    if moment.year < EARLIEST_YEAR:
        raise ValueError(f"is before {EARLIEST_YEAR}, earlier than any post can be")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_or_none(value: str | None) -> str | None:
    """`value` as `utc_datetime` gives it, or None when there is none or it is not a date and time."""
    if value is None:
        return None
    try:
        return utc_datetime(value)
    except ValueError:
        return None


def _real_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a real calendar date") from None
    return value


def _plain(value: str, *, lines: bool) -> str:
    """Free text other than a post's: nothing a reader cannot see (control, format, bidirectional, invisible or
    separator characters; line breaks and tabs only where `lines`). A title or a note with them reads differently
    in the dashboard, a log or a terminal, or is two titles nobody can tell apart."""
    for index, character in enumerate(value):
        if lines and character in "\n\t":
            continue
        if is_hidden(value, index):
            kind = "control" if unicodedata.category(character) == "Cc" else "invisible or formatting"
            raise ValueError(f"contains the {kind} character U+{ord(character):04X}; remove it")
    return value


TIME_SLOT_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]Z$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"

TimeSlot = Annotated[str, Field(pattern=TIME_SLOT_PATTERN)]
Weekday = Annotated[int, Field(ge=0, le=6)]
IsoDate = Annotated[str, Field(pattern=DATE_PATTERN), AfterValidator(_real_date)]
# Sent to Ayrshare normalised to UTC with a Z, whatever offset the caller used.
IsoDateTime = Annotated[str, Field(pattern=DATETIME_PATTERN), AfterValidator(utc_datetime)]
Platform = Literal[
    "bluesky",
    "facebook",
    "gmb",
    "instagram",
    "linkedin",
    "pinterest",
    "reddit",
    "snapchat",
    "telegram",
    "threads",
    "tiktok",
    "twitter",
    "youtube",
]
PostId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
# Ayrshare's reserved characters in a schedule title are * ~ / [ ].
ScheduleTitle = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^*~/\[\]]+$"), AfterValidator(partial(_plain, lines=False))
]
# Notes and other free text a person reads back: lines and tabs, but nothing hidden.
Text = Annotated[str, AfterValidator(partial(_plain, lines=True))]
# Ayrshare fetches media itself and takes https only; no spaces (encode them), no fragments of other schemes.
HttpsUrl = Annotated[str, Field(min_length=9, max_length=2048, pattern=r"^https://[^\s/?#]+[^\s]*$")]


# Applied to every array argument: arrays sent as JSON text are decoded, and items must be distinct. The schema
# does not say uniqueItems: Gemini's function declarations reject the keyword, so the descriptions say it instead.
_ARRAY = (BeforeValidator(_decode_json_array), AfterValidator(_no_duplicates))

TimeSlots = Annotated[list[TimeSlot], *_ARRAY]
Weekdays = Annotated[list[Weekday], *_ARRAY]
IsoDates = Annotated[list[IsoDate], *_ARRAY]
PostIds = Annotated[list[PostId], *_ARRAY]
Platforms = Annotated[list[Platform], *_ARRAY]
HttpsUrls = Annotated[list[HttpsUrl], *_ARRAY]
