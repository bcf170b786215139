"""The account toolset: which networks a profile has linked (so an agent picks valid platforms), and the User
Profiles of a Business account. A profile's key is never part of an answer: Ayrshare does not send it, and any
field that looks like one is dropped before the answer leaves."""

from __future__ import annotations

import re
from typing import Any

from ayrshare_mcp.client import Account, JSONObject
from ayrshare_mcp.tools.arguments import BaseArguments, ToolArguments
from ayrshare_mcp.tools.spec import READ, ToolRefusal, ToolSpec

SUMMARY = "Linked networks of a profile, and the User Profiles of a Business account."

GET_USER = "AYRSHARE_GET_USER"
LIST_PROFILES = "AYRSHARE_LIST_PROFILES"

# Ayrshare says it never sends profile keys here; they are credentials, so any field that could hold one is dropped.
_CREDENTIAL_FIELD = re.compile(r"key|secret|token|password", re.IGNORECASE)


class GetUserArguments(ToolArguments):
    pass


async def get_user(account: Account, args: GetUserArguments) -> JSONObject:
    return await account.get_user()


class ListProfilesArguments(BaseArguments):
    pass


async def list_profiles(account: Account, args: ListProfilesArguments) -> JSONObject:
    if account.credentials.profile_key:
        raise ToolRefusal(
            "This server acts for one User Profile (a Profile-Key is configured), so it does not list the account's "
            "other profiles. Listing profiles needs the primary profile's API key and no Profile-Key."
        )
    answer: JSONObject = _without_keys(await account.list_profiles())
    return answer


def _without_keys(value: Any) -> Any:
    """`value` with every profile-key field removed, at any depth."""
    if isinstance(value, dict):
        return {name: _without_keys(item) for name, item in value.items() if not _CREDENTIAL_FIELD.search(name)}
    if isinstance(value, list):
        return [_without_keys(item) for item in value]
    return value


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=GET_USER,
        title="Get User",
        description=(
            "The Ayrshare profile: its linked networks (activeSocialAccounts, the valid platforms for a post), the "
            "account name on each, and usage. Call it before posting to choose platforms."
        ),
        arguments=GetUserArguments,
        annotations=READ,
        handler=get_user,
    ),
    ToolSpec(
        name=LIST_PROFILES,
        title="List Profiles",
        description=(
            "List the account's User Profiles (Business and Enterprise plans): title, refId, status and linked "
            "networks of each. Profile keys are never shown; the primary profile is not listed."
        ),
        arguments=ListProfilesArguments,
        annotations=READ,
        handler=list_profiles,
    ),
)
