"""How a tool is declared and run: validation first, then credentials, then a person's yes, then Ayrshare.

A `ToolSpec` holds everything about one tool; `run` turns any outcome into the envelope (see `envelope`), never an
exception, and leaves one log line for every call that fails, with no secret and no post text in it.

A tool that can do something irreversible declares a `Confirmation` instead of a plain handler: the checks that
must pass before anyone is asked, the question to put to a person for the arguments that call for one, what to say
when they decline, what to do when no person can be asked, and the act itself, which is told how it was cleared.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, TypeVar

import mcp_types as types
from pydantic import ValidationError

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.client import Account, AyrshareClient, AyrshareError, JSONObject
from ayrshare_mcp.confirmation import Answer, Confirm, Question
from ayrshare_mcp.credentials import Credentials, CredentialsError
from ayrshare_mcp.settings import Unattended
from ayrshare_mcp.state import StateUnavailable
from ayrshare_mcp.tools.arguments import NOT_SENT, BaseArguments, describe_invalid_arguments
from ayrshare_mcp.tools.envelope import OUTPUT_SCHEMA, failure, redact, success
from ayrshare_mcp.tools.schema import advertised, input_schema

logger = logging.getLogger(__name__)

ArgsT = TypeVar("ArgsT", bound=BaseArguments)
# How many times a person is asked when what they are asked about keeps changing under them.
MAX_ASKS = 3
UNANSWERED = "Nothing was sent: the question went unanswered in time. Ask again if the user still wants it."
KEPT_CHANGING = "Nothing was sent: the post kept changing while the person was being asked. Try again."
CLIENT_UNKNOWN = (
    "Nothing was sent: this needs a person's yes, and this server cannot tell whether your client can ask one (a "
    "stateless server forgets what a 2025-era client declared). Serve with sessions (--stateless off; sticky "
    "sessions behind a load balancer), or use a client on protocol 2026-07-28."
)

# The four kinds of tool, as MCP annotations. Every tool reaches Ayrshare and the networks: an open world.
READ = types.ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
WRITE = types.ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
IDEMPOTENT_WRITE = WRITE.model_copy(update={"idempotent_hint": True})
DESTRUCTIVE = WRITE.model_copy(update={"destructive_hint": True})


@dataclass(frozen=True)
class ToolAnswer:
    """A handler's answer with more than Ayrshare's data: a `notice` the model must tell the user (see the envelope's
    `notice`), and the answer as plain `text`, a second content block after the envelope's JSON, for models and hosts
    that show no structured view of it (the calendar's week as lines)."""

    data: JSONObject
    notice: str = ""
    text: str | None = None


HandlerAnswer = JSONObject | ToolAnswer
Handler = Callable[[Account, ArgsT], Awaitable[HandlerAnswer]]

# The names of the tools the server answering this call serves (set by the server for each call): a tool can say
# what a client may call next, e.g. whether a delete button could work.
SERVED_TOOLS: ContextVar[frozenset[str]] = ContextVar("served_tools", default=frozenset())
# Under a tenants file, the profiles the caller may act for by name, and their default (set by the server for each
# call); None otherwise.
PROFILE_NAMES: ContextVar[tuple[tuple[str, ...], str] | None] = ContextVar("profile_names", default=None)


@dataclass(frozen=True)
class Clearance:
    """How a confirmed act was cleared: a person said yes to `question`, the operator lets it act unasked, nobody
    could be asked (the act must then hold back as the operator chose), or these arguments needed no yes."""

    by: Literal["person", "operator", "nobody", "not_needed"]
    question: Question | None = None


ClearedHandler = Callable[[Account, ArgsT, Clearance], Awaitable[HandlerAnswer]]


class ToolRefusal(Exception):
    """The tool does not do what was asked, or did only part of it; `data` is what Ayrshare said, if anything."""

    def __init__(self, message: str, data: JSONObject | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}


@dataclass(frozen=True)
class Proceed(Generic[ArgsT]):
    """Go ahead with these arguments, as cleared; tell the model `notice` (what was held back) if there is one."""

    arguments: ArgsT
    clearance: Clearance
    notice: str | None = None


async def _nothing_to_check(account: Account, args: Any) -> None:
    return None


@dataclass(frozen=True)
class Confirmation(Generic[ArgsT]):
    """A tool that asks a person first: what it checks, what it asks, what each answer leads to, and what it does."""

    # The act, told how it was cleared.
    act: ClearedHandler[ArgsT]
    # The question for these arguments, or None when they need no yes; it may look the post up first.
    question: Callable[[Account, ArgsT], Awaitable[Question | None]]
    # The error when the person says no.
    declined: str
    # When nobody can be asked: go ahead under the operator's choices (cleared by "operator", or by "nobody" when
    # the act must hold back), or the refusal.
    unattended: Callable[[ArgsT, Unattended], Proceed[ArgsT] | str]
    # What must hold before anyone is asked (raises ToolRefusal): nobody is asked about what would be refused.
    check: Callable[[Account, ArgsT], Awaitable[None]] = _nothing_to_check


@dataclass(frozen=True)
class ToolSpec(Generic[ArgsT]):
    """Everything about one tool, in one place: what it is called, what it takes, and what it does (a plain
    `handler`, or a `confirmation` whose act runs once cleared)."""

    name: str
    title: str
    description: str
    arguments: type[ArgsT]
    annotations: types.ToolAnnotations
    handler: Handler[ArgsT] | None = None
    confirmation: Confirmation[ArgsT] | None = None
    # The tool's `_meta` as listed, e.g. the MCP Apps view it renders in ({"ui": {"resourceUri": ...}}).
    meta: dict[str, Any] | None = None
    # The OAuth scope a caller's token must hold. Reads and deletes follow from the annotations; a tool that writes
    # says which it is: `scopes.PUBLISH` if it can put anything in public, whatever its arguments, else `scopes.WRITE`.
    scope: scopes.Scope | None = None
    # What the tool accepts, every constraint included; `tool` advertises it trimmed (see `schema.advertised`).
    accepts: dict[str, Any] = field(init=False, repr=False)
    tool: types.Tool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.confirmation is None):
            raise TypeError(f"{self.name}: declare either a handler or a confirmation, not both or neither")
        object.__setattr__(self, "scope", self._needed_scope())
        accepts = input_schema(self.arguments)
        object.__setattr__(self, "accepts", accepts)
        tool = types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=advertised(accepts),
            output_schema=OUTPUT_SCHEMA,
            annotations=self.annotations,
            meta=self.meta,
        )
        object.__setattr__(self, "tool", tool)

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)

    def _needed_scope(self) -> scopes.Scope:
        derived = scopes.READ if self.read_only else scopes.DELETE if self.annotations.destructive_hint else None
        if derived is not None and self.scope not in (None, derived):
            raise TypeError(f"{self.name}: its annotations call for the {derived} scope, not {self.scope}")
        needed = derived or self.scope
        if needed is None:
            raise TypeError(f"{self.name}: a tool that writes declares its scope, {scopes.PUBLISH} or {scopes.WRITE}")
        return needed

    async def run(
        self,
        arguments: Mapping[str, Any] | None,
        client: AyrshareClient,
        credentials: Callable[[str | None], Credentials],
        confirm: Confirm | None = None,
        *,
        unattended: Unattended | None = None,
        redact: Sequence[str] = (),
    ) -> types.CallToolResult | types.InputRequiredResult:
        """Validate, resolve credentials, confirm, call Ayrshare; every outcome is an envelope, never an exception.

        `credentials` gives the call's credentials for the profile it names (its Profile-Key argument, if any).
        """
        try:
            args = self.arguments.model_validate(arguments or {})
        except ValidationError as exc:
            self._log_failure("invalid arguments")
            return failure(describe_invalid_arguments(self.name, self.accepts["properties"], exc))
        except (RecursionError, OverflowError, MemoryError):
            # Arguments too deep or too large for a validator; still a tool result, never a protocol error.
            self._log_failure("invalid arguments")
            return failure(
                f"Invalid arguments for {self.name}: a value is nested too deeply or out of range. {NOT_SENT}"
            )
        try:
            creds = credentials(args.acting_profile())
        except CredentialsError as exc:
            self._log_failure("no usable credentials")
            return failure(str(exc), redact=redact)
        redact = (*redact, *creds.secrets())
        try:
            go = await self._confirmed(client.account(creds), args, confirm, unattended or Unattended(), redact)
            if not isinstance(go, Proceed):
                return go
            # The call's deadline starts now: a person may take longer to answer than a call may take.
            answer = await self._act(client.account(creds), go)
        except ToolRefusal as refusal:
            self._log_failure("refused or partly done")
            return failure(refusal.message, refusal.data, redact=redact)
        except AyrshareError as exc:
            self._log_failure(exc.status_and_code())
            return failure(exc.explain(), exc.body, redact=redact)
        except StateUnavailable as exc:
            self._log_failure("shared state unreachable")
            return failure(exc.message)
        except Exception as exc:  # the tool boundary: a bug must still reach the model as a readable tool error
            logger.exception("%s failed unexpectedly", self.name)
            return failure(unexpected(self, exc), redact=redact)
        if isinstance(answer, ToolAnswer):
            notice = " ".join(part for part in (go.notice, answer.notice) if part)
            return success(answer.data, notice=notice, redact=redact, text=answer.text)
        return success(answer, notice=go.notice, redact=redact)

    async def _act(self, account: Account, go: Proceed[ArgsT]) -> HandlerAnswer:
        if self.confirmation is not None:
            return await self.confirmation.act(account, go.arguments, go.clearance)
        assert self.handler is not None  # one of the two, see __post_init__
        return await self.handler(account, go.arguments)

    async def _confirmed(
        self,
        account: Account,
        args: ArgsT,
        confirm: Confirm | None,
        unattended: Unattended,
        secrets: Sequence[str],
    ) -> Proceed[ArgsT] | types.CallToolResult | types.InputRequiredResult:
        """Go ahead as cleared, or the result that stops the call: a question or a refusal."""
        if self.confirmation is None:
            return Proceed(args, Clearance("not_needed"))
        await self.confirmation.check(account, args)
        question = await self._question(account, args, secrets)
        if question is None:
            # A "no" to a question that no longer arises (the post moved meanwhile) still stands.
            if confirm is not None and confirm.answered_no():
                return failure(self.confirmation.declined)
            return Proceed(args, Clearance("not_needed"))
        for _ in range(MAX_ASKS):
            answer = await confirm.ask(question) if confirm else Answer.NOBODY_TO_ASK
            if isinstance(answer, types.InputRequiredResult):
                return answer
            if answer is Answer.YES:
                # The yes is for what the person read: if that changed while they read it, they are asked again.
                now = await self._question(account, args, secrets)
                if now is None or now.subject == question.subject:
                    return Proceed(args, Clearance("person", question))
                question = now
                continue
            self._log_failure(answer.value)
            if answer is Answer.NO:
                return failure(self.confirmation.declined)
            if answer is Answer.UNANSWERED:
                return failure(UNANSWERED)
            if answer is Answer.CLIENT_UNKNOWN:
                # The operator's "go ahead unasked" is for clients known not to ask; this one might have asked.
                return failure(CLIENT_UNKNOWN)
            decision = self.confirmation.unattended(args, unattended)
            return failure(decision) if isinstance(decision, str) else decision
        return failure(KEPT_CHANGING)

    async def _question(self, account: Account, args: ArgsT, secrets: Sequence[str]) -> Question | None:
        assert self.confirmation is not None
        question = await self.confirmation.question(account, args)
        if question is None:
            return None
        # The question is built partly from Ayrshare's data; no secret goes to the person (or, on 2026, the model).
        return replace(
            question, message=redact(question.message, secrets), subject=question.subject or question.message
        )

    def _log_failure(self, what: str) -> None:
        logger.warning("%s failed: %s", self.name, what)


def unexpected(spec: ToolSpec[Any], exc: Exception) -> str:
    check = (
        " Ayrshare may or may not have acted: check post history (status=deleted) before trying again."
        if spec.annotations.destructive_hint
        else ""
    )
    return (
        f"ayrshare-mcp hit an unexpected error ({type(exc).__name__}) in {spec.name}; it is in the server's log."
        f"{check} Please report it."
    )
