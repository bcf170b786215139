"""How a tool is declared and run: validation first, then credentials, then a person's yes, then Ayrshare.

A `ToolSpec` holds everything about one tool; `run` turns any outcome into the envelope (see `envelope`), never an
exception, and leaves one log line for every call that fails, with no secret and no post text in it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import mcp_types as types
from pydantic import ValidationError

from ayrshare_mcp.client import Account, AyrshareClient, AyrshareError, JSONObject
from ayrshare_mcp.confirmation import Answer, Confirm
from ayrshare_mcp.credentials import Credentials, CredentialsError
from ayrshare_mcp.settings import ENV_ALLOW_UNCONFIRMED_DELETES
from ayrshare_mcp.tools.arguments import ToolArguments, describe_invalid_arguments
from ayrshare_mcp.tools.envelope import OUTPUT_SCHEMA, failure, success
from ayrshare_mcp.tools.schema import input_schema

logger = logging.getLogger(__name__)

ArgsT = TypeVar("ArgsT", bound=ToolArguments)
Handler = Callable[[Account, ArgsT], Awaitable[JSONObject]]
DECLINED = "Nothing was deleted: the user declined the confirmation. Do not try again unless the user asks for it."
NOBODY_TO_ASK = (
    "Nothing was deleted: deleting several posts at once needs a person's yes, and this client cannot ask one (it "
    "does not support MCP elicitation). Delete the posts one at a time by id instead, or the server's operator can "
    f"allow unconfirmed bulk deletes with {ENV_ALLOW_UNCONFIRMED_DELETES}=1."
)


class ToolRefusal(Exception):
    """The tool does not do what was asked, or did only part of it; `data` is what Ayrshare said, if anything."""

    def __init__(self, message: str, data: JSONObject | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}


@dataclass(frozen=True)
class ToolSpec(Generic[ArgsT]):
    """Everything about one tool, in one place: what it is called, what it takes, and what it does."""

    name: str
    title: str
    description: str
    arguments: type[ArgsT]
    annotations: types.ToolAnnotations
    handler: Handler[ArgsT]
    # The question to put to a person before acting, for arguments that call for one.
    confirmation: Callable[[ArgsT], str | None] | None = None
    tool: types.Tool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        tool = types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=input_schema(self.arguments),
            output_schema=OUTPUT_SCHEMA,
            annotations=self.annotations,
        )
        object.__setattr__(self, "tool", tool)

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)

    async def run(
        self,
        arguments: Mapping[str, Any] | None,
        client: AyrshareClient,
        credentials: Callable[[], Credentials],
        confirm: Confirm | None = None,
        *,
        redact: Sequence[str] = (),
    ) -> types.CallToolResult | types.InputRequiredResult:
        """Validate, resolve credentials, confirm, call Ayrshare; every outcome is an envelope, never an exception."""
        try:
            args = self.arguments.model_validate(arguments or {})
        except ValidationError as exc:
            self._log_failure("invalid arguments")
            return failure(describe_invalid_arguments(self.name, self.tool.input_schema["properties"], exc))
        try:
            creds = credentials().with_profile_key(args.profile_key)
        except CredentialsError as exc:
            self._log_failure("no usable credentials")
            return failure(str(exc), redact=redact)
        if confirm is not None and self.confirmation is not None and (question := self.confirmation(args)):
            answer = await confirm(question)
            if isinstance(answer, types.InputRequiredResult):
                return answer
            if answer is not Answer.YES:
                self._log_failure("not confirmed" if answer is Answer.NO else "nobody to confirm")
                return failure(DECLINED if answer is Answer.NO else NOBODY_TO_ASK)
        redact = (*redact, *creds.secrets())
        try:
            data = await self.handler(client.account(creds), args)
        except ToolRefusal as refusal:
            self._log_failure("refused or partly done")
            return failure(refusal.message, refusal.data, redact=redact)
        except AyrshareError as exc:
            self._log_failure(exc.status_and_code())
            return failure(exc.explain(), exc.body, redact=redact)
        except Exception as exc:  # the tool boundary: a bug must still reach the model as a readable tool error
            logger.exception("%s failed unexpectedly", self.name)
            return failure(unexpected(self, exc), redact=redact)
        return success(data, redact=redact)

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
