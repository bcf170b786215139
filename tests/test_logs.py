"""The log filter: what it escapes, masks, throttles and withholds, and that it never raises, whatever the line."""

from __future__ import annotations

import json
import logging

import pytest

from ayrshare_mcp.logs import WITHHELD, Throttle, _LibraryLines, untrusted, without_messages


def test_untrusted_text_is_escaped_and_bounded_for_the_log() -> None:
    assert untrusted("a\nb\r\x1b[31m\\") == "a\\nb\\r\\x1b[31m\\\\"
    assert untrusted("caf\u00e9 \u202e \U0001f600") == "caf\\xe9 \\u202e \\U0001f600"
    assert len(untrusted("x" * 1000)) == 203
    assert len(untrusted("\x00" * 1000)) == 203


def test_repeated_warnings_are_held_back_and_counted_once_the_window_ends(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    throttle = Throttle(burst=2, window=60, clock=lambda: now[0])
    logger = logging.getLogger("tests.throttle")

    with caplog.at_level(logging.WARNING, logger="tests.throttle"):
        for _ in range(5):
            throttle.warn(logger, "refused %s", "x")
        now[0] = 61.0
        throttle.warn(logger, "refused %s", "y")

    assert [record.getMessage() for record in caplog.records] == [
        "refused x",
        "refused x",
        "3 more like this were not logged in 61 s: refused %s",
        "refused y",
    ]


def record(name: str, message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, exc_info)


def test_library_lines_that_name_a_new_id_each_time_are_one_kind_for_the_throttle() -> None:
    lines = _LibraryLines(Throttle(burst=5))

    kept = [lines.filter(record("mcp.server.sse", f"Could not find session for ID: {n:032x}")) for n in range(1000)]

    assert kept.count(True) == 5


def test_the_throttle_remembers_a_bounded_number_of_kinds() -> None:
    throttle = Throttle(burst=1, max_kinds=50)

    for n in range(10_000):
        throttle.admit(f"kind {n}")

    assert len(throttle._windows) <= 51


def test_the_filter_never_raises_whatever_the_line() -> None:
    lines = _LibraryLines()
    broken = record("asyncio", "%d things", "not a number")

    assert lines.filter(broken) is True
    assert "could not be made safe to print" in broken.getMessage()


def test_a_library_traceback_keeps_its_frames_and_loses_its_messages() -> None:
    secret = "CANARY-BODY-TEXT-77ad"
    try:
        try:
            json.loads('{"key": "' + secret)
        except ValueError as inner:
            raise RuntimeError(f"could not read {secret}") from inner
    except RuntimeError as exc:
        line = record("mcp.server.sse", "Failed to parse message", exc=exc)

    assert _LibraryLines().filter(line)

    assert line.exc_info is None
    assert line.exc_text is not None
    assert secret not in line.exc_text
    assert "test_logs.py" in line.exc_text
    assert f"RuntimeError {WITHHELD}" in line.exc_text
    assert f"JSONDecodeError {WITHHELD}" in line.exc_text


def test_own_lines_keep_their_traceback() -> None:
    try:
        raise ValueError("our own words")
    except ValueError as exc:
        line = record("ayrshare_mcp.tools.spec", "failed", exc=exc)

    assert _LibraryLines().filter(line)
    assert line.exc_info is not None


def test_a_chain_that_loops_back_on_itself_still_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first

    assert without_messages(first).count("Traceback") == 2


def test_a_flood_of_lines_others_vary_at_will_cannot_silence_another_kind() -> None:
    lines = _LibraryLines(Throttle(burst=5, max_kinds=8))
    flood = [record("mcp.server.sse", f"Received invalid session ID: {'x' * n}") for n in range(3000)]
    elsewhere = logging.LogRecord("mcp.server.sse", logging.WARNING, "other.py", 7, "Could not find session", (), None)

    kept = [lines.filter(line) for line in flood]

    assert kept.count(True) == 5
    assert lines.filter(elsewhere), "a line from another place in the code has its own allowance"


def test_a_library_line_about_input_that_did_not_parse_carries_no_traceback() -> None:
    try:
        json.loads("[" * 10 + "oops")
    except ValueError as exc:
        line = record("mcp.server.sse", "Failed to parse message", exc=exc)

    assert _LibraryLines().filter(line)
    assert line.exc_info is None
    assert line.exc_text is None
    assert line.getMessage() == "Failed to parse message (JSONDecodeError)"
