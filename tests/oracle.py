"""What a test needs to compare a tool's request with the one Ayrshare's own SDK sends (see test_sdk_oracle.py).

A tool's tests may declare its cases beside them, as `SDK_ORACLE` (and `SDK_ORACLE_EXEMPT`, a tool and why the SDK
cannot make its request): test_sdk_oracle.py gathers them from every test module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.support import API_KEY, RunningEmulator

POST_ID = "oracleP0st1d"


@dataclass(frozen=True)
class Operation:
    """One thing the tools do, said two ways: through Ayrshare's SDK, and as a tool call."""

    name: str
    sdk: Callable[[Any], object]
    tool: str
    arguments: dict[str, Any]
    # The tool's request to compare, when the tool makes more than one (create lists schedules first).
    request_index: int = -1
    # What the tool needs to find in Ayrshare before it sends its request (a post to approve, a schedule to name).
    prepare: Callable[[RunningEmulator, str | None], None] | None = None
    # Account-wide operations act for the primary profile only.
    account_wide: bool = False


def a_post(status: str) -> Callable[[RunningEmulator, str | None], None]:
    def prepare(emulator: RunningEmulator, profile_key: str | None) -> None:
        later = datetime(2030, 1, 1, tzinfo=UTC)
        emulator.seed_post(profile_key=profile_key, post_id=POST_ID, schedule_date=later, status=status)

    return prepare


def a_schedule(emulator: RunningEmulator, profile_key: str | None) -> None:
    emulator.service.set_auto_schedule(
        emulator.service.profile(API_KEY, profile_key), {"schedule": ["09:00Z"], "title": "oracle"}
    )
