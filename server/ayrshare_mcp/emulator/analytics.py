"""The emulated analytics and history by network (as issue 17's engagement reference gathers them): the figures
of a post the emulator knows, per network it went to; account figures per linked network; and each network's own
list of posts, the profile's published posts there plus the ones made outside Ayrshare (`seed_native_post`), a page
at a time.

Analytics needs the Premium plan; `Switches.analytics_refusal_status` makes the emulator refuse it, since the docs do
not say how Ayrshare does. The figures are made up, but stable: the same post always has the same figures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime, timedelta

from ayrshare_mcp.emulator.ayrshare import JSON, Ayrshare, Call, ErrorAnswer, Profile, Reply, Route, iso, parse_moment
from ayrshare_mcp.emulator.posts import KNOWN_PLATFORMS, find

# The networks GET /history/:platform serves: no gmb, reddit or telegram.
HISTORY_PLATFORMS = frozenset(
    {"bluesky", "facebook", "instagram", "linkedin", "pinterest", "snapchat", "threads", "tiktok", "twitter", "youtube"}
)
DEFAULT_HISTORY_LIMIT = 10
MAX_HISTORY_LIMIT = 500
DATA_TYPES = frozenset({"posts", "stories"})
MAX_QUARTERS = 4
POST_FIGURES = ("impressions", "likeCount", "commentCount", "shareCount")
# The account figures the hurl tests assert, per network; a network not named here reports followers.
ACCOUNT_FIGURES = {
    "facebook": ("fanCount", "pagePostEngagements"),
    "instagram": ("followersCount", "reachCount", "viewsCount"),
    "twitter": ("followersCount",),
}


def seed_native_post(
    service: Ayrshare,
    profile: Profile,
    platform: str,
    text: str,
    *,
    post_id: str | None = None,
    created: datetime | None = None,
    data_type: str = "posts",
) -> JSON:
    """Put a post on a network as if made in the network's own app: in its history, not in Ayrshare's."""
    created = created or service.clock()
    post_id = post_id or f"{platform}-native-{hashlib.sha256(f'{text}{created}'.encode()).hexdigest()[:12]}"
    post: JSON = {
        "id": post_id,
        "post": text,
        "created": iso(created),
        "postUrl": f"https://{platform}.example/{post_id}",
        "dataType": data_type,
    }
    profile.native_posts.setdefault(platform, []).append(post)
    return post


def _require_plan(service: Ayrshare) -> None:
    status = service.switches.analytics_refusal_status
    if status is not None:
        raise ErrorAnswer(
            status,
            "Analytics is available on the Premium plan or higher. Please upgrade your plan.",
            code=service.switches.analytics_refusal_code,
            action="analytics",
        )


def _platforms(body: JSON) -> list[str]:
    platforms = body.get("platforms")
    if (
        not isinstance(platforms, list)
        or not platforms
        or not all(isinstance(p, str) and p in KNOWN_PLATFORMS for p in platforms)
    ):
        raise ErrorAnswer(400, "platforms must be a non-empty array of supported platforms.", action="analytics")
    return [str(platform) for platform in platforms]


def _figures(seed: str, names: tuple[str, ...]) -> dict[str, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return {name: digest[index] * (index + 1) for index, name in enumerate(names)}


def network_posts(profile: Profile, platform: str, data_type: str = "posts") -> list[JSON]:
    """A network's own list of the profile's posts, newest first: those published through Ayrshare there (by their
    id on the network), and those made outside it."""
    published = [
        {"id": entry["id"], "post": post["post"], "created": post["scheduleDate"]["utc"],
         "postUrl": entry.get("postUrl", f"https://{platform}.example/{entry['id']}"), "dataType": "posts"}
        for post in profile.posts
        if post["status"] != "deleted"
        for entry in post["postIds"]
        if entry.get("platform") == platform
    ]  # fmt: skip
    everything = [post for post in published + profile.native_posts.get(platform, []) if post["dataType"] == data_type]
    return sorted(everything, key=lambda post: parse_moment(post["created"]), reverse=True)


def _post_figures(service: Ayrshare, platform: str, native_id: str, url: str) -> JSON:
    now = service.clock()
    return {
        "id": native_id,
        "postUrl": url,
        "analytics": _figures(f"{platform}/{native_id}", POST_FIGURES),
        "lastUpdated": iso(now),
        "nextUpdate": iso(now + timedelta(minutes=10)),
    }


def post_analytics(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /analytics/post`: by Ayrshare post id, per network it went to; or by a network's own post id
    (`searchPlatformId`, exactly one platform)."""
    _require_plan(service)
    body = call.json_object()
    platforms = _platforms(body)
    post_id = body.get("id")
    if not isinstance(post_id, str) or not post_id:
        raise ErrorAnswer(400, "id (the post id) is required.", action="analytics")
    service.require_x_credentials(call.x_headers, [], platforms)
    if body.get("searchPlatformId") is True:
        if len(platforms) != 1:
            raise ErrorAnswer(400, "searchPlatformId requires exactly one platform.", action="analytics")
        [platform] = platforms
        everything = network_posts(profile, platform) + network_posts(profile, platform, "stories")
        for native in everything:
            if native["id"] == post_id:
                return Reply(
                    200, {"status": "success", platform: _post_figures(service, platform, post_id, native["postUrl"])}
                )
        raise ErrorAnswer(404, f"No {platform} post with id {post_id} found for this profile.", action="analytics")
    post = find(profile, post_id, "analytics")
    published = {entry["platform"]: entry for entry in post["postIds"]}
    if not set(platforms) & set(published):
        raise ErrorAnswer(
            400,
            f"The post was not published on {', '.join(platforms)}, so it has no analytics there.",
            action="analytics",
        )
    answer: JSON = {"status": "success", "id": post_id}
    for platform in platforms:
        entry = published.get(platform)
        answer[platform] = (
            _post_figures(service, platform, entry["id"], entry.get("postUrl", ""))
            if entry
            else {"status": "error", "message": f"The post was not published on {platform}."}
        )
    return Reply(200, answer)


def social_analytics(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /analytics/social`: account figures for each linked network asked for."""
    _require_plan(service)
    body = call.json_object()
    platforms = _platforms(body)
    quarters = body.get("quarters")
    if quarters is not None and (type(quarters) is not int or not 1 <= quarters <= MAX_QUARTERS):
        raise ErrorAnswer(400, "quarters must be a number from 1 to 4.", action="analytics")
    if any(not isinstance(body.get(flag, False), bool) for flag in ("daily", "period60Days")):
        raise ErrorAnswer(400, "daily and period60Days must be booleans.", action="analytics")
    if call.profile_key and ("userId" in body or "userName" in body):
        raise ErrorAnswer(400, "userId and userName can be used only with the API key, not a Profile-Key.")
    service.require_x_credentials(call.x_headers, [], platforms)
    answer: JSON = {"status": "success"}
    for platform in platforms:
        answer[platform] = (
            {"analytics": _account_figures(service, profile, platform, call.api_key)}
            if platform in service.switches.linked_platforms
            else {"status": "error", "code": 156, "message": f"{platform} is not linked with Ayrshare."}
        )
    return Reply(200, answer)


def _account_figures(service: Ayrshare, profile: Profile, platform: str, api_key: str) -> dict[str, int]:
    seed = hashlib.sha256(f"{api_key}/{profile.title}/{platform}".encode()).hexdigest()
    figures = _figures(seed, ACCOUNT_FIGURES.get(platform, ("followersCount",)))
    if platform == "twitter":
        figures["tweetCount"] = len(network_posts(profile, platform))
    return figures


def platform_history(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`GET /history/:platform`: the network's own posts, newest first, `limit` a page, `meta.pagination.next` the
    cursor to the next page while there is one."""
    platform = call.path["platform"]
    if platform not in HISTORY_PLATFORMS:
        raise ErrorAnswer(400, f"History by platform is not available for {platform}.", action="history")
    raw_limit = call.query.get("limit", str(DEFAULT_HISTORY_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_HISTORY_LIMIT:
        raise ErrorAnswer(400, "limit must be between 1 and 500.", action="history")
    data_type = call.query.get("dataType", "posts")
    if data_type not in DATA_TYPES:
        raise ErrorAnswer(400, "dataType must be posts or stories.", action="history")
    service.require_x_credentials(call.x_headers, [], [platform])
    posts = network_posts(profile, platform, data_type)
    start = _page_start(call.query.get("next"), platform, data_type)
    end = start + int(raw_limit)
    now = service.clock()
    answer: JSON = {
        "status": "success",
        "posts": [{k: v for k, v in post.items() if k != "dataType"} for post in posts[start:end]],
        "lastUpdated": iso(now),
        "nextUpdate": iso(now + timedelta(minutes=10)),
    }
    if end < len(posts):
        answer["meta"] = {"pagination": {"next": _cursor(platform, data_type, end)}}
    return Reply(200, answer)


def _cursor(platform: str, data_type: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{platform}:{data_type}:{offset}".encode()).decode().rstrip("=")


def _page_start(cursor: str | None, platform: str, data_type: str) -> int:
    if cursor is None:
        return 0
    try:
        named, kind, offset = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        named, kind, offset = "", "", ""
    if (named, kind) != (platform, data_type) or not offset.isdigit():
        raise ErrorAnswer(400, "Invalid next cursor: pass the meta.pagination.next of the last page.", action="history")
    return int(offset)


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/analytics/post"): post_analytics,
    ("POST", "/api/analytics/social"): social_analytics,
    ("GET", "/api/history/{platform}"): platform_history,
}
