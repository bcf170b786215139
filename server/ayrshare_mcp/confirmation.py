"""Asking a person before an irreversible act (a bulk delete, a post going public), on either protocol era.

On the 2025 handshake era the server sends `elicitation/create` mid-call. On 2026-07-28 there is no back-channel:
the call answers `InputRequiredResult` with the question and a `requestState`, and the client calls again with the
answer and that state. The SDK's `RequestStateBoundary` seals the state (AES-GCM under the server's secret), so a
client cannot forge it; it expires with the confirmation window (`settings.confirmation_seconds`), is bound to the
tool, its arguments and the Ayrshare account (a hash of key and profile key), names the question the person saw (if
the question would differ now, say because the post was moved meanwhile, the person is asked again), and is
accepted once: by this process, or with a shared state (Redis) by every replica sharing it.

When the client declared it cannot ask a person, the answer is "nobody to ask", and the tool does what the operator
chose for that case (see `settings.Unattended`). When what it declared is not known (a stateless server forgets a
2025-era client's declaration), the answer is "client unknown", and nothing that needs a yes is done.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ayrshare_mcp.state import MemoryState, SharedState

ANSWER_KEY = "confirm"
STATE_PREFIX = "confirm-v3:"
# A spent state is kept by its hash: a short key that shows nothing of the question.
SPENT = "spent:"


@dataclass(frozen=True)
class Question:
    """A yes/no question for a person: what will happen, the box they tick to agree, and what agreeing means."""

    message: str
    consent: str
    consequence: str
    # What the yes is about, when the message also carries decoration that may change between asks (a profile's
    # display name, "in 3 days"): a yes stands as long as this is unchanged. Default: the whole question.
    subject: str = ""
    # What the person was shown that the act must keep to, by name (the slot a post was said to go into).
    shown: Mapping[str, str] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        """The form the client shows: one required yes/no box."""
        box = {"type": "boolean", "title": self.consent, "description": self.consequence}
        return {"type": "object", "properties": {ANSWER_KEY: box}, "required": [ANSWER_KEY]}


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    # The client declared it cannot ask a person.
    NOBODY_TO_ASK = "nobody to ask"
    # What the client declared is not known here (a stateless server forgets it): it might have asked.
    CLIENT_UNKNOWN = "client unknown"
    # The person did not answer within the confirmation window.
    UNANSWERED = "unanswered"


class Confirm(Protocol):
    """Asks this call's user yes/no questions."""

    async def ask(self, question: Question) -> Answer | types.InputRequiredResult:
        """The person's answer; an InputRequiredResult means "ask through the client and call again"."""
        ...

    def answered_no(self) -> bool:
        """Whether this call carries the person's "no" to an earlier question, which must stand."""
        ...


def request_state_boundary(
    secret: bytes | None,
    server_name: str,
    account_of: Callable[[ServerRequestContext[Any]], str | None],
    window: float,
) -> RequestStateBoundary:
    """The SDK middleware that seals and verifies every `requestState`, bound to the caller's Ayrshare account and
    good for `window` seconds."""
    security = RequestStateSecurity(keys=[secret or secrets.token_bytes(32)], ttl=window, bind_principal=account_of)
    return RequestStateBoundary(security, default_audience=server_name)


# The SDK accepts a sealed state until its expiry read on the verifying replica's clock, allowing this much skew
# between replicas' clocks each way: a spent state is remembered for as long as any replica may still accept it.
SEALED_CLOCK_SKEW_SECONDS = 120.0


class SpentStates:
    """The request states already answered, remembered until they expire, so each approval is used once: in this
    process, or in the state replicas share."""

    def __init__(self, window: float, state: SharedState | None = None) -> None:
        self._window = window
        self._state = state or MemoryState()

    async def spend(self, state: str) -> bool:
        """Mark `state` used; False when it already was.

        Raises:
            StateUnavailable: the shared state cannot say, so the approval is not used.
        """
        # SET NX with the approval's own lifetime: an expired state is refused by the boundary anyway.
        digest = hashlib.sha256(state.encode()).hexdigest()
        return await self._state.claim(SPENT + digest, self._window + SEALED_CLOCK_SKEW_SECONDS)

    async def ready(self) -> None:
        """Raises StateUnavailable when an answer could not be spent: nobody is then asked a question whose answer
        would be refused."""
        await self._state.ping()


def confirmer(
    ctx: ServerRequestContext[Any], params: types.CallToolRequestParams, spent: SpentStates, window: float
) -> Confirm:
    """How to ask this call's user a yes/no question, which they must answer within `window` seconds."""
    return _Confirmer(ctx, params, spent, window)


class _Confirmer:
    def __init__(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams, spent: SpentStates, window: float
    ):
        self._ctx, self._params, self._spent, self._window = ctx, params, spent, window

    async def ask(self, question: Question) -> Answer | types.InputRequiredResult:
        ctx = self._ctx
        if ctx.session.client_capabilities is None:
            return Answer.CLIENT_UNKNOWN
        if not _can_elicit(ctx.session.client_capabilities):
            return Answer.NOBODY_TO_ASK
        await self._spent.ready()
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return await _answer_from_retry(self._params, question, self._spent)
        if not ctx.session.can_send_request:
            return Answer.NOBODY_TO_ASK
        # As long as a 2026-era approval lives: a yes is for now, not for whenever.
        with anyio.move_on_after(self._window):
            answer = await ctx.session.elicit_form(
                question.message, question.schema(), related_request_id=ctx.request_id
            )
            return _accepted(answer)
        return Answer.UNANSWERED

    def answered_no(self) -> bool:
        # The boundary has verified the state is one this server sealed; its answer is the person's.
        state, answer = self._params.request_state, (self._params.input_responses or {}).get(ANSWER_KEY)
        if not (state and state.startswith(STATE_PREFIX)) or not isinstance(answer, types.ElicitResult):
            return False
        return _accepted(answer) is not Answer.YES


def _can_elicit(capabilities: types.ClientCapabilities) -> bool:
    elicitation = capabilities.elicitation
    # An empty elicitation capability means form mode, per the spec.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


async def _answer_from_retry(
    params: types.CallToolRequestParams, question: Question, spent: SpentStates
) -> Answer | types.InputRequiredResult:
    # By now the boundary has verified the state it sealed and handed back its plaintext, which names the question
    # it was issued for: a yes counts only if the question asked again now is the one the person saw.
    state, answer = params.request_state, (params.input_responses or {}).get(ANSWER_KEY)
    asked = _state_prefix(question)
    if state and state.startswith(asked) and isinstance(answer, types.ElicitResult) and await spent.spend(state):
        return _accepted(answer)
    request = types.ElicitRequest(
        params=types.ElicitRequestFormParams(message=question.message, requested_schema=question.schema())
    )
    return types.InputRequiredResult(
        input_requests={ANSWER_KEY: request}, request_state=asked + secrets.token_urlsafe(16)
    )


def _state_prefix(question: Question) -> str:
    shown = json.dumps([question.subject or question.message, question.consent, question.consequence]).encode()
    return f"{STATE_PREFIX}{hashlib.sha256(shown).hexdigest()[:32]}:"


def _accepted(answer: types.ElicitResult) -> Answer:
    confirmed = answer.action == "accept" and (answer.content or {}).get(ANSWER_KEY) is True
    return Answer.YES if confirmed else Answer.NO


def arguments_of(ctx: ServerRequestContext[Any]) -> Mapping[str, Any]:
    arguments = (ctx.params or {}).get("arguments")
    return arguments if isinstance(arguments, Mapping) else {}
