"""The ways a call to Ayrshare fails, each with a sentence that says what happened and what to do next.

Nothing here knows about MCP: the tools turn these into tool results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ayrshare_mcp.credentials import how_to_provide_an_x_pair

# Ayrshare's own codes, as documented or observed (docs/ayrshare-api.md §2); the advice is what to do next.
_CODE_ADVICE: dict[int, str] = {
    102: "The API key was rejected. Check it on the API Key page of the Ayrshare dashboard and update the "
    "server's configuration.",
    114: "No post with that id exists for this profile. Use the top-level Ayrshare post id from post history "
    "(not a social network's id), and the same Profile-Key that made the post.",
    156: "A social account is not linked to this profile. Link it in the Ayrshare dashboard, then try again.",
    192: "This profile has no auto schedule yet. Create one first.",
    221: "There is no post history in the requested window. Widen the window (lastDays, startDate/endDate) "
    "or relax the filters.",
    272: "Ayrshare lost its X/Twitter authorization. Re-link X in the Ayrshare dashboard.",
    382: "The post still exists on the social network, so it cannot be marked as manually deleted. Delete it "
    "without markManualDeleted, or remove it in the network's app first.",
    383: "The post was already deleted. Nothing more to do; post history with status=deleted lists it.",
}

_STATUS_ADVICE: dict[int, str] = {
    400: "Ayrshare could not process the request. Check the arguments against the tool's description.",
    401: "Ayrshare did not accept the credentials. Check the API key on the Ayrshare dashboard.",
    402: "The Ayrshare plan does not include this feature (auto schedules need Premium or higher). "
    "Upgrade the plan or use another account.",
    403: "Ayrshare refused the request: the key or Profile-Key lacks access, or the profile is suspended. "
    "Check the dashboard.",
    404: "Ayrshare found nothing at that id. Check the id against post history.",
    405: "Ayrshare does not allow this method here; this is a bug in ayrshare-mcp, please report it.",
    429: "Ayrshare's rate limit (300 requests per 5 minutes per profile) is spent. Wait a few minutes before "
    "retrying, and do not retry in a loop: repeated rate-limit errors can suspend the profile.",
}

# How Ayrshare says an X-bound call came without the account's X Developer App credentials (npm SDK 1.3.0 README).
X_CREDENTIALS_REQUIRED = "x_credentials_required"
X_CREDENTIALS_STATUS = 419

_SERVER_ADVICE = "Ayrshare had a server-side problem. Try again in a minute; if it persists, check status.ayrshare.com."


class AyrshareError(Exception):
    """A call to Ayrshare did not produce a usable answer."""

    # The HTTP status and Ayrshare code of the answer, when there was one: for retry decisions and the log line.
    status: int | None = None
    code: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def body(self) -> dict[str, Any]:
        """What Ayrshare answered, as far as there was an answer."""
        return {}

    def explain(self) -> str:
        """A sentence for a person or a model: what happened, and what to do next."""
        return self.message

    def status_and_code(self) -> str:
        """The answer's HTTP status and Ayrshare code, or the kind of failure: safe to log, no text of Ayrshare's."""
        kind = f"HTTP {self.status}" if self.status is not None else type(self).__name__
        return kind + (f", Ayrshare code {self.code}" if self.code is not None else "")


class AyrshareConnectionError(AyrshareError):
    """Ayrshare could not be reached: DNS, refused or reset connection, TLS failure."""


class AyrshareTimeoutError(AyrshareError):
    """Ayrshare did not answer in time: one attempt, or the whole call."""


class AyrshareAnswerTooLarge(AyrshareError):
    """Ayrshare's answer was larger than this server reads: the rest is not read, and it is not used."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Ayrshare's answer was larger than {limit // 1_000_000} MB, so it was not read. Ask for less (a smaller "
            "limit or a shorter window) and try again."
        )


class AyrshareRateLimited(AyrshareError):
    """The profile's rate-limit budget is spent: known before sending, or learnt from Ayrshare's 429 (`answer`)."""

    def __init__(
        self, retry_in: float, *, used: int | None = None, limit: int | None = None, answer: AyrshareError | None = None
    ) -> None:
        budget = f" ({used} of {limit} requests used)" if used is not None and limit is not None else ""
        sent = "Ayrshare answered 429 Too Many Requests" if answer else "nothing was sent"
        super().__init__(
            f"Ayrshare's rate limit for this profile is spent{budget}; {sent}. Try again in about "
            f"{max(1, round(retry_in))} s, and do not retry in a loop: repeated rate-limit errors can get the "
            "profile suspended."
        )
        self.retry_in = retry_in
        self._answer = answer
        self.status = answer.status if answer else None
        self.code = answer.code if answer else None

    @property
    def body(self) -> dict[str, Any]:
        return self._answer.body if self._answer else {}


class AyrshareQuotaSpent(AyrshareError):
    """The profile's monthly post quota is spent (Ayrshare code 106): known before sending, or just learnt."""

    def __init__(self, until: datetime, *, answer: AyrshareError | None = None) -> None:
        sent = "Ayrshare answered 429 with code 106" if answer else "nothing was sent"
        super().__init__(
            f"This Ayrshare profile has used up its monthly post quota ({sent}). Until it resets on "
            f"{until:%Y-%m-%d at %H:%M} UTC, Ayrshare refuses new posts, and getting, deleting and retrying posts and "
            "their analytics, for this profile. Do not retry before then: repeated rate-limit errors can get the "
            "profile suspended. Upgrading the Ayrshare plan raises the quota."
        )
        self.until = until
        self._answer = answer
        self.status = answer.status if answer else None
        self.code = answer.code if answer else 106

    @property
    def body(self) -> dict[str, Any]:
        return self._answer.body if self._answer else {}


class AyrshareDuplicatePost(AyrshareError):
    """A post with this idempotencyKey was already submitted from this server: it is not sent again."""

    def __init__(self, idempotency_key: str) -> None:
        super().__init__(
            f"A post with the idempotencyKey {idempotency_key} was already submitted from this server, so it was not "
            "sent again."
        )
        self.idempotency_key = idempotency_key


class AyrshareOutcomeUnknown(AyrshareError):
    """A change may or may not have happened: the request may have reached Ayrshare, and it is not retried."""

    def __init__(self, cause: AyrshareError, how_to_check: str) -> None:
        super().__init__(
            f"The outcome is unknown: Ayrshare may or may not have carried this out ({cause.message.rstrip('.')}). "
            f"It was not retried, because repeating it could act twice. {how_to_check}"
        )
        self.cause = cause
        self.status, self.code = cause.status, cause.code

    @property
    def body(self) -> dict[str, Any]:
        return self.cause.body


class AyrshareInvalidResponse(AyrshareError):
    """Ayrshare answered with something that is not a JSON object (an HTML error page, say)."""

    def __init__(self, status: int, content_type: str) -> None:
        kind = content_type.split(";")[0].strip() or "no content type"
        super().__init__(f"Ayrshare answered HTTP {status} with a body that is not JSON ({kind}).")
        self.status: int = status

    @property
    def body(self) -> dict[str, Any]:
        return {"status": self.status}

    def explain(self) -> str:
        advice = _SERVER_ADVICE if self.status >= 500 else _STATUS_ADVICE.get(self.status, _SERVER_ADVICE)
        return f"{self.message} {advice}"


class AyrshareAPIError(AyrshareError):
    """Ayrshare answered with an error: an HTTP error status, or `"status": "error"` in the body."""

    def __init__(self, status: int, body: dict[str, Any], *, needs: str = "") -> None:
        self.status: int = status
        # The plan or add-on the endpoint needs (see `Endpoint.needs`), named when Ayrshare refuses.
        self.needs = needs
        self.code = error_code(body)
        self.ayrshare_message = error_message(body)
        self._body = body
        super().__init__(self._summary())

    @property
    def body(self) -> dict[str, Any]:
        return self._body

    def _summary(self) -> str:
        code = f", code {self.code}" if self.code is not None else ""
        said = f": {self.ayrshare_message}" if self.ayrshare_message else ""
        return f"Ayrshare answered HTTP {self.status}{code}{said}"

    def explain(self) -> str:
        return f"{self.message.rstrip('.')}. {self.advice()}"

    @property
    def needs_x_credentials(self) -> bool:
        """Ayrshare wants the X pair: HTTP or code 419, or `x_credentials_required` as the action or the code."""
        error = _error_object(self._body)
        marked = X_CREDENTIALS_REQUIRED in (error.get("action"), error.get("code"))
        return marked or X_CREDENTIALS_STATUS in (self.status, self.code)

    def advice(self) -> str:
        if self.needs_x_credentials:
            return (
                "Ayrshare needs this account's own X/Twitter API credentials for anything that touches X (required "
                f"since 2026-03-31). {how_to_provide_an_x_pair()}"
            )
        if self.code is not None and self.code in _CODE_ADVICE:
            return _CODE_ADVICE[self.code]
        if self.needs and self.status in (402, 403):
            return (
                f"This needs {self.needs} on the Ayrshare account (and enabled for the profile, if it is an "
                "add-on): check the plan in the Ayrshare dashboard. If the account has it, check the key or "
                "Profile-Key."
            )
        if self.status >= 500:
            return _SERVER_ADVICE
        return _STATUS_ADVICE.get(self.status, _STATUS_ADVICE[400])


def _error_object(body: dict[str, Any]) -> dict[str, Any]:
    """Ayrshare puts the error at the top level, under `history` for history, or in `errors[]` for posts."""
    nested = body.get("history")
    if isinstance(nested, dict) and "code" in nested:
        return nested
    errors = body.get("errors")
    if "code" not in body and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return body


def error_code(body: dict[str, Any]) -> int | None:
    code = _error_object(body).get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return None


def error_message(body: dict[str, Any]) -> str | None:
    message = _error_object(body).get("message")
    return message.strip()[:500] if isinstance(message, str) and message.strip() else None
