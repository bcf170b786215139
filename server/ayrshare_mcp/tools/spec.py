"""How a tool is declared, advertised and run: validation first, then credentials, then Ayrshare, then the envelope.

Every result, success or failure, is the same envelope `{data, error?, successful}`, sent as
`structuredContent` and as JSON text, so clients that read either see the same thing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import mcp_types as types
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from ayrshare_mcp.client import Account, AyrshareClient, AyrshareError, JSONObject
from ayrshare_mcp.credentials import Credentials, CredentialsError

logger = logging.getLogger(__name__)

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "description": "Ayrshare's JSON answer on success; on failure, Ayrshare's error body (status, code, "
            "message) when it sent one, else an empty object.",
        },
        "error": {
            "type": "string",
            "description": "Present only on failure: what went wrong, the Ayrshare code if any, and what to do next.",
        },
        "successful": {"type": "boolean", "description": "True when the call did what was asked."},
        "sandbox": {
            "type": "string",
            "description": "Present only when the server runs in sandbox mode: the result is simulated.",
        },
    },
    "required": ["data", "successful"],
}

_SECRET_FIELDS = frozenset({"Profile-Key"})
_REDACTED = "[redacted]"


class ToolArguments(BaseModel):
    """Base of every tool's arguments: unknown parameters are errors, and each call may name a Profile-Key."""

    # Strict: "true" is not a boolean and "5" is not a number, so a confused call fails loudly instead of deleting.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    profile_key: str | None = Field(
        default=None,
        alias="Profile-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[!-~]+$",
        description="Ayrshare User Profile key to act for (Business and Enterprise plans). Sent as the Profile-Key "
        "header. Omit to use the server's default profile.",
    )

    body_excludes: ClassVar[frozenset[str]] = frozenset({"profile_key"})

    def payload(self) -> dict[str, Any]:
        """The arguments as Ayrshare spells them, without the ones that travel as headers."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude=set(self.body_excludes))


ArgsT = TypeVar("ArgsT", bound=ToolArguments)
Handler = Callable[[Account, ArgsT], Awaitable[JSONObject]]
# Asks the user a yes/no question; an InputRequiredResult means "ask through the client and call again".
Confirm = Callable[[str], Awaitable[bool | types.InputRequiredResult]]
DECLINED = "Nothing was deleted: the user declined the confirmation. Do not try again unless the user asks for it."


class ToolRefusal(Exception):
    """A tool declines to act (the request makes no sense in the current state); Ayrshare was not asked to change."""

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
    # The question to put to the user before acting, for arguments that call for one.
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
    ) -> types.CallToolResult | types.InputRequiredResult:
        """Validate, resolve credentials, confirm, call Ayrshare; every outcome is an envelope, never an exception."""
        try:
            args = self.arguments.model_validate(arguments or {})
        except ValidationError as exc:
            return failure(describe_invalid_arguments(self, exc))
        try:
            creds = credentials().with_profile_key(args.profile_key)
        except CredentialsError as exc:
            return failure(str(exc))
        if confirm is not None and self.confirmation is not None and (question := self.confirmation(args)):
            answer = await confirm(question)
            if isinstance(answer, types.InputRequiredResult):
                return answer
            if not answer:
                return failure(DECLINED)
        try:
            data = await self.handler(client.account(creds), args)
        except ToolRefusal as refusal:
            return failure(refusal.message, refusal.data, secrets=creds)
        except AyrshareError as exc:
            return failure(exc.explain(), exc.body, secrets=creds)
        except Exception as exc:  # the tool boundary: a bug must still reach the model as a readable tool error
            logger.exception("%s failed unexpectedly", self.name)
            return failure(unexpected(self, exc), secrets=creds)
        return success(data, secrets=creds)


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


def success(data: JSONObject, *, secrets: Credentials | None = None) -> types.CallToolResult:
    return _envelope({"data": data, "successful": True}, secrets)


def failure(error: str, data: JSONObject | None = None, *, secrets: Credentials | None = None) -> types.CallToolResult:
    return _envelope({"data": data or {}, "error": error, "successful": False}, secrets)


def with_notice(result: types.CallToolResult, field: str, notice: str) -> types.CallToolResult:
    """The same result with one more envelope field, in both its structured and its text form."""
    return _as_result({**(result.structured_content or {}), field: notice})


def _envelope(envelope: dict[str, Any], secrets: Credentials | None) -> types.CallToolResult:
    text = _json(envelope)
    if secrets is not None and _contains_secret(text, secrets):
        # Ayrshare should never echo a key back, but a result is the one place a leak would reach the model.
        envelope = _redact(envelope, secrets)
        text = _json(envelope)
    return _as_result(envelope, text)


def _as_result(envelope: dict[str, Any], text: str | None = None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text or _json(envelope))],
        structured_content=envelope,
        is_error=not envelope["successful"],
    )


def _json(value: Any) -> str:
    # pydantic-core's encoder: the same JSON as json.dumps, several times faster on every result.
    return pydantic_core.to_json(value).decode()


def _contains_secret(text: str, credentials: Credentials) -> bool:
    return any(secret in text for secret in credentials.secrets())


def _redact(value: Any, credentials: Credentials) -> Any:
    if isinstance(value, str):
        for secret in credentials.secrets():
            value = value.replace(secret, _REDACTED)
        return value
    if isinstance(value, dict):
        return {key: _redact(item, credentials) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, credentials) for item in value]
    return value


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A flat, portable JSON schema: no titles, no `$ref`, no defaults, and optional means "not required", never
    "or null"."""
    schema = model.model_json_schema(by_alias=True)
    properties = {name: _flatten_property(prop) for name, prop in schema.get("properties", {}).items()}
    # The tool's own parameters first; the ones every tool shares (Profile-Key) last.
    shared = {field.alias or name for name, field in ToolArguments.model_fields.items()}
    properties = {name: prop for name, prop in properties.items() if name not in shared} | {
        name: prop for name, prop in properties.items() if name in shared
    }
    flat: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required := schema.get("required"):
        flat["required"] = required
    return flat


def _flatten_property(prop: dict[str, Any]) -> dict[str, Any]:
    prop = dict(prop)
    prop.pop("title", None)
    if "anyOf" in prop:
        branches = [branch for branch in prop.pop("anyOf") if branch != {"type": "null"}]
        if len(branches) != 1:
            raise TypeError(f"a tool argument must have a single JSON type, got {branches}")
        prop = {**branches[0], **prop}
    # Defaults are for the model to read, so the descriptions say them; not every host accepts the keyword.
    prop.pop("default", None)
    if isinstance(prop.get("items"), dict):
        prop["items"] = _flatten_property(prop["items"])
    return prop


def describe_invalid_arguments(spec: ToolSpec[Any], exc: ValidationError) -> str:
    problems = [_describe_problem(spec, error) for error in exc.errors(include_url=False)]
    return f"Invalid arguments for {spec.name}: " + " ".join(problems) + " Nothing was sent to Ayrshare."


def _describe_problem(spec: ToolSpec[Any], error: ErrorDetails) -> str:
    location = ".".join(str(part) for part in error["loc"])
    top = str(error["loc"][0]) if error["loc"] else ""
    properties: dict[str, Any] = spec.tool.input_schema["properties"]
    hint = properties.get(top, {}).get("description", "")
    if error["type"] == "extra_forbidden":
        return f"Unknown parameter '{location}'; the parameters are: {', '.join(properties)}."
    if error["type"] == "missing":
        return f"'{location}' is required. {hint}"
    message = error["msg"].removeprefix("Value error, ")
    if not top:
        return message if message.endswith(".") else message + "."
    shown = "" if top in _SECRET_FIELDS else f" (got {_preview(error.get('input'))})"
    return f"'{location}': {message}{shown}. {hint}"


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
