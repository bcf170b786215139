"""What every tool's arguments share, and how invalid arguments are explained to the model."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from ayrshare_mcp.credentials import CREDENTIAL_PATTERN

NOT_SENT = "Nothing was sent to Ayrshare."
# Arguments whose values are never echoed back in an error: they are secrets.
_SECRET_ARGUMENTS = frozenset({"Profile-Key"})


class BaseArguments(BaseModel):
    """Base of every tool's arguments: unknown parameters are errors, and types are exact."""

    # Strict: "true" is not a boolean and "5" is not a number, so a confused call fails loudly instead of deleting.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    body_excludes: ClassVar[frozenset[str]] = frozenset()

    def acting_profile(self) -> str | None:
        """The Profile-Key this call names, if any; account-wide tools name none."""
        return None

    def payload(self) -> dict[str, Any]:
        """The arguments as Ayrshare spells them, without the ones that travel as headers."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude=set(self.body_excludes))


class ToolArguments(BaseArguments):
    """Arguments of a tool that acts for one Ayrshare profile: each call may name a Profile-Key."""

    profile_key: str | None = Field(
        default=None,
        alias="Profile-Key",
        min_length=1,
        max_length=200,
        pattern=CREDENTIAL_PATTERN,
        description="The User Profile key to act for; omit for the default profile.",
    )

    body_excludes: ClassVar[frozenset[str]] = frozenset({"profile_key"})

    def acting_profile(self) -> str | None:
        return self.profile_key


def describe_invalid_arguments(tool: str, properties: dict[str, Any], exc: ValidationError) -> str:
    problems = [_describe_problem(properties, error) for error in exc.errors(include_url=False)]
    return f"Invalid arguments for {tool}: " + " ".join(problems) + f" {NOT_SENT}"


def _describe_problem(properties: dict[str, Any], error: ErrorDetails) -> str:
    location = ".".join(str(part) for part in error["loc"])
    top = str(error["loc"][0]) if error["loc"] else ""
    hint = properties.get(top, {}).get("description", "")
    if error["type"] == "extra_forbidden":
        return f"Unknown parameter '{location}'; the parameters are: {', '.join(properties)}."
    if error["type"] == "missing":
        return f"'{location}' is required. {hint}"
    message = error["msg"].removeprefix("Value error, ")
    if not top:
        return message if message.endswith(".") else message + "."
    shown = "" if top in _SECRET_ARGUMENTS else f" (got {_preview(error.get('input'))})"
    return f"'{location}': {message}{shown}. {hint}"


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
