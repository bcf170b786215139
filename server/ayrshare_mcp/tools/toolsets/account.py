"""The account toolset: which networks a profile has linked (so an agent picks valid platforms), and the User
Profiles of a Business account. A profile's key is never part of an answer: Ayrshare does not send it, and only the
fields Ayrshare documents for a listing are passed on."""

from __future__ import annotations

from typing import Any

from ayrshare_mcp.client import Account, JSONObject
from ayrshare_mcp.tools.arguments import BaseArguments, ToolArguments
from ayrshare_mcp.tools.spec import PROFILE_NAMES, READ, ToolRefusal, ToolSpec

SUMMARY = "Linked networks of a profile, and the User Profiles of a Business account."

GET_USER = "AYRSHARE_GET_USER"
LIST_PROFILES = "AYRSHARE_LIST_PROFILES"

# Ayrshare says it never sends profile keys here; they are credentials, so only the documented fields are passed on.
_LISTING_FIELDS = frozenset({"profiles", "count", "lastUpdated", "nextUpdate", "pagination", "status"})
_PROFILE_FIELDS = frozenset(
    {"status", "title", "displayTitle", "created", "createdUTC", "refId", "activeSocialAccounts", "suspended"}
)


class GetUserArguments(ToolArguments):
    pass


async def get_user(account: Account, args: GetUserArguments) -> JSONObject:
    return await account.get_user()


class ListProfilesArguments(BaseArguments):
    pass


async def list_profiles(account: Account, args: ListProfilesArguments) -> JSONObject:
    if (names := PROFILE_NAMES.get()) is not None:
        return _named_profiles(*names)
    if account.credentials.profile_key:
        raise ToolRefusal(
            "This server acts for one User Profile (a Profile-Key is configured), so it does not list the account's "
            "other profiles. Listing profiles needs the primary profile's API key and no Profile-Key."
        )
    return _documented_fields(await account.list_profiles())


def _named_profiles(names: tuple[str, ...], default: str) -> JSONObject:
    """The profiles a caller signed in under a tenants file may act for: theirs alone, by the names Profile-Key
    takes. Ayrshare's listing is not asked: it would name the account's other profiles."""
    profiles: list[Any] = [{"name": name, "default": name == default} for name in names]
    return {"profiles": profiles, "count": len(profiles)}


def _documented_fields(listing: JSONObject) -> JSONObject:
    """The listing with only the fields Ayrshare documents for it, and for each profile."""
    kept = {name: value for name, value in listing.items() if name in _LISTING_FIELDS}
    if isinstance(kept.get("profiles"), list):
        kept["profiles"] = [
            {name: value for name, value in profile.items() if name in _PROFILE_FIELDS}
            for profile in kept["profiles"]
            if isinstance(profile, dict)
        ]
    return kept


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
