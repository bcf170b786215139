"""The analytics toolset: how a post did, how an account is doing, and what a network itself lists as the profile's
posts (including those made outside Ayrshare, whose network ids the post analytics then take). All read-only.

Analytics needs Ayrshare's Premium plan; the client names the plan when Ayrshare refuses (`Endpoint.needs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from ayrshare_mcp.client import Account, AyrshareAPIError, JSONObject
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.fields import Platforms
from ayrshare_mcp.tools.spec import READ, ToolRefusal, ToolSpec
from ayrshare_mcp.tools.toolsets.core import GET_POST_HISTORY

SUMMARY = "Analytics of posts and accounts (Premium plan), and each network's own list of the profile's posts."

GET_POST_ANALYTICS = "AYRSHARE_GET_POST_ANALYTICS"
GET_SOCIAL_ANALYTICS = "AYRSHARE_GET_SOCIAL_ANALYTICS"
GET_PLATFORM_HISTORY = "AYRSHARE_GET_PLATFORM_HISTORY"

PREMIUM = " Needs the Premium plan or higher."


def _as_given(longest: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not 1 <= len(value) <= longest or not all("!" <= character <= "~" for character in value):
            raise ValueError(
                f"give it exactly as Ayrshare or the network gave it: 1 to {longest} printable ASCII characters, "
                "no spaces"
            )
        return value

    return check


# Ayrshare's own post ids are letters, digits, - and _; a network's may hold more (LinkedIn's urn:li:share:…). Checked
# by a validator, not advertised: its error says what to do, and what a model reads per call stays short.
AnyPostId = Annotated[str, AfterValidator(_as_given(256))]
Cursor = Annotated[str, AfterValidator(_as_given(2048))]
# Checked as `Platforms` is, but the names are not listed in the schema: that list costs 45 tokens a tool, the names
# come from Ayrshare's own answers (a post's platforms, GET_USER's activeSocialAccounts), and a wrong one is refused
# with the list.
Networks = Annotated[Platforms, WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1})]
NETWORKS = "Networks as Ayrshare names them (twitter for X), no duplicates."
HistoryPlatform = Literal[
    "bluesky", "facebook", "instagram", "linkedin", "pinterest", "snapchat", "threads", "tiktok", "twitter", "youtube"
]
NOT_FOUND = 114


class PostAnalyticsArguments(ToolArguments):
    id: AnyPostId = Field(
        description="Ayrshare post id, or the network's own with searchPlatformId: true and one platform."
    )
    platforms: Networks = Field(min_length=1, description=NETWORKS)
    search_platform_id: bool | None = Field(default=None, alias="searchPlatformId")

    @model_validator(mode="after")
    def _one_network_for_a_network_id(self) -> PostAnalyticsArguments:
        if self.search_platform_id and len(self.platforms) != 1:
            raise ValueError("searchPlatformId: true looks up a network's own post id, so give exactly one platform.")
        return self


async def get_post_analytics(account: Account, args: PostAnalyticsArguments) -> JSONObject:
    try:
        return await account.post_analytics(args.payload())
    except AyrshareAPIError as error:
        if error.status != 404 and error.code != NOT_FOUND:
            raise
        if args.search_platform_id:
            advice = (
                f"Use the id the post has on {args.platforms[0]}, as {GET_PLATFORM_HISTORY} lists it, and the "
                "profile that owns the account."
            )
        else:
            advice = (
                f"Use the top-level Ayrshare post id from {GET_POST_HISTORY} and the Profile-Key that made the post; "
                "for a network's own post id, add searchPlatformId: true with its one platform."
            )
        raise ToolRefusal(f"{error.message.rstrip('.')}. {advice}", error.body) from None


class SocialAnalyticsArguments(ToolArguments):
    platforms: Networks = Field(min_length=1, description=NETWORKS)
    quarters: int | None = Field(default=None, ge=1, le=4, description="Past quarters to add.")
    daily: bool | None = None
    period60_days: bool | None = Field(default=None, alias="period60Days")

    @model_validator(mode="after")
    def _tiktok_for_sixty_days(self) -> SocialAnalyticsArguments:
        if self.period60_days and "tiktok" not in self.platforms:
            raise ValueError("period60Days applies to TikTok only: add tiktok to platforms, or leave it out.")
        return self


async def get_social_analytics(account: Account, args: SocialAnalyticsArguments) -> JSONObject:
    return await account.social_analytics(args.payload())


class PlatformHistoryArguments(ToolArguments):
    platform: HistoryPlatform
    limit: int | None = Field(default=None, ge=1, le=500)
    next: Cursor | None = None
    data_type: Literal["posts", "stories"] | None = Field(default=None, alias="dataType")

    body_excludes: ClassVar[frozenset[str]] = frozenset({"profile_key", "platform"})


async def get_platform_history(account: Account, args: PlatformHistoryArguments) -> JSONObject:
    try:
        return await account.platform_history(args.platform, args.payload())
    except AyrshareAPIError as error:
        if args.next is None or error.status != 400:
            raise
        raise ToolRefusal(
            f"{error.message.rstrip('.')}. next must be meta.pagination.next exactly as the previous page of this "
            "platform and dataType gave it; leave it out to start from the newest posts.",
            error.body,
        ) from None


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=GET_POST_ANALYTICS,
        title="Get Post Analytics",
        description=(
            "A post's likes, comments, shares and impressions on each network. YouTube and TikTok fill in after "
            f"24-48 h.{PREMIUM}"
        ),
        arguments=PostAnalyticsArguments,
        annotations=READ,
        handler=get_post_analytics,
    ),
    ToolSpec(
        name=GET_SOCIAL_ANALYTICS,
        title="Get Social Analytics",
        description=(
            "Account figures on each linked network, such as followers, reach and views. Use period60Days with "
            f"TikTok.{PREMIUM}"
        ),
        arguments=SocialAnalyticsArguments,
        annotations=READ,
        handler=get_social_analytics,
    ),
    ToolSpec(
        name=GET_PLATFORM_HISTORY,
        title="Get Platform History",
        description=(
            "Posts as the network lists them, newest first, incl. ones not sent through Ayrshare, with network ids "
            "(for searchPlatformId). Pages of 10 unless limit; pass meta.pagination.next as next for more."
        ),
        arguments=PlatformHistoryArguments,
        annotations=READ,
        handler=get_platform_history,
    ),
)
