"""How Ayrshare's error answers are read, in every shape the docs and live tests show, and what the model is told."""

from __future__ import annotations

import pytest

from ayrshare_mcp.client.errors import (
    AyrshareAPIError,
    AyrshareInvalidResponse,
    AyrshareOutcomeUnknown,
    AyrshareRateLimited,
    error_code,
    error_message,
)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"status": "error", "code": 114, "message": "Post not found."}, 114, "Post not found."),
        ({"history": {"code": 221, "status": "error", "message": "History not found."}, "count": 0}, 221, None),
        (
            {"status": "error", "errors": [{"code": 110, "message": "Status is a duplicate.", "platform": "twitter"}]},
            110,
            "Status is a duplicate.",
        ),
        ({"status": "error", "code": "156", "message": " Not linked. "}, 156, "Not linked."),
        ({"status": "error", "code": "x_credentials_required"}, None, None),
        ({"status": "error", "code": True}, None, None),
        ({"status": "error", "errors": []}, None, None),
    ],
    ids=["flat", "nested-under-history", "errors-array", "string-digits", "string-word", "bool", "empty-errors"],
)
def test_the_code_and_message_are_found_wherever_ayrshare_puts_them(
    body: dict[str, object], code: int | None, message: str | None
) -> None:
    assert error_code(body) == code
    if message is not None or "history" not in body:
        assert error_message(body) == message


def test_the_history_message_is_read_from_the_nested_error() -> None:
    assert error_message({"history": {"code": 221, "message": "History not found."}}) == "History not found."


@pytest.mark.parametrize(
    ("status", "body", "advice"),
    [
        (404, {"code": 114}, "top-level Ayrshare post id"),
        (402, {"code": 1}, "plan does not include"),
        (503, {"code": 1}, "server-side problem"),
        (418, {"code": 1}, "could not process the request"),
        (419, {"code": 419, "action": "x_credentials_required"}, "AYRSHARE_X_API_KEY"),
        (400, {"code": "x_credentials_required"}, "AYRSHARE_X_API_SECRET"),
    ],
)
def test_every_error_says_what_to_do_next(status: int, body: dict[str, object], advice: str) -> None:
    explained = AyrshareAPIError(status, {"status": "error", **body}).explain()

    assert advice in explained


def test_a_body_that_is_not_json_is_explained_by_its_status() -> None:
    assert "server-side problem" in AyrshareInvalidResponse(502, "text/html; charset=utf-8").explain()
    assert "did not accept the credentials" in AyrshareInvalidResponse(401, "").explain()
    assert "(no content type)" in AyrshareInvalidResponse(401, "").message


def test_status_and_code_carry_through_the_wrappers_for_the_log_line() -> None:
    answer = AyrshareAPIError(429, {"status": "error", "code": 135})

    assert AyrshareRateLimited(30, answer=answer).status_and_code() == "HTTP 429, Ayrshare code 135"
    assert AyrshareRateLimited(30).status_and_code() == "AyrshareRateLimited"
    assert AyrshareOutcomeUnknown(answer, "check").status_and_code() == "HTTP 429, Ayrshare code 135"


@pytest.mark.parametrize("status", [402, 403])
def test_a_refusal_from_an_endpoint_that_needs_more_of_a_plan_names_what_it_needs(status: int) -> None:
    body = {"status": "error", "code": 169, "message": "Not available on your plan."}

    advice = AyrshareAPIError(status, body, needs="the Premium plan or higher").explain()

    assert "code 169" in advice
    assert "Not available on your plan." in advice
    assert "needs the Premium plan or higher" in advice


def test_a_refusal_from_an_endpoint_any_plan_has_blames_the_key_not_the_plan() -> None:
    advice = AyrshareAPIError(403, {"status": "error", "message": "Forbidden."}).explain()

    assert "plan" not in advice.lower()
