"""The emulated comments: post a comment on a published post, reply to one, list a post's comments, delete one or all
(docs: ayrshare.com/docs/apis/comments; ../shared/reference/ayrshare-engagement-api.md).

Comments live with their post (`post["comments"]`), one entry per network, each with the network's own comment id
(`commentId`) and the Ayrshare comment id of the call that sent it (`ayrshareId`, shared by its networks). A reply
is an entry under its comment's `replies`. Ids may be the Ayrshare ones or, with `searchPlatformId`, the network's.
Where the docs leave a choice open (fields in the body, as the SDK sends them, or in the query, as the docs show),
both are accepted.
"""

from __future__ import annotations

import secrets
from typing import Any

from ayrshare_mcp.emulator.ayrshare import JSON, Ayrshare, Call, ErrorAnswer, Profile, Reply, Route, iso

# Per operation, the networks the docs list, and those that take one media URL.
GET_PLATFORMS = frozenset({"bluesky", "facebook", "instagram", "linkedin", "threads", "tiktok", "twitter", "youtube"})
POST_PLATFORMS = frozenset({"bluesky", "facebook", "instagram", "linkedin", "reddit", "tiktok", "twitter", "youtube"})
POST_MEDIA_PLATFORMS = frozenset({"facebook", "linkedin", "twitter"})
REPLY_MEDIA_PLATFORMS = frozenset({"facebook", "linkedin"})
POST_NOT_FOUND = 114


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(8)


def _post_not_found(action: str) -> ErrorAnswer:
    return ErrorAnswer(404, "Post not found. Check the Ayrshare post id.", code=POST_NOT_FOUND, action=action)


def _comment_not_found(action: str) -> ErrorAnswer:
    return ErrorAnswer(404, "Comment not found. Check the comment id.", action=action)


def _flag(call: Call, body: JSON, name: str) -> bool:
    return body.get(name) is True or call.query.get(name) == "true"


def _field(call: Call, body: JSON, name: str) -> Any:
    return body.get(name, call.query.get(name))


def _published_post(profile: Profile, post_id: str, platform: str | None, *, social: bool, action: str) -> JSON:
    """The post an id names: its Ayrshare id, or (social) its id on `platform`."""
    for post in profile.posts:
        if post["status"] == "deleted":
            continue
        if not social and post["id"] == post_id:
            return post
        if social and any(entry["id"] == post_id and entry["platform"] == platform for entry in post["postIds"]):
            return post
    raise _post_not_found(action)


def _checked_platforms(body: JSON, allowed: frozenset[str], action: str) -> list[str]:
    platforms = body.get("platforms")
    if not isinstance(platforms, list) or not platforms or not all(isinstance(name, str) for name in platforms):
        raise ErrorAnswer(400, "platforms (array) is required.", action=action)
    if unsupported := [name for name in platforms if name not in allowed]:
        raise ErrorAnswer(400, f"Comments are not supported on {unsupported[0]}.", action=action)
    return list(platforms)


def _checked_text(body: JSON, action: str) -> str:
    text = body.get("comment")
    if not isinstance(text, str) or not text.strip():
        raise ErrorAnswer(400, "comment (text) is required.", action=action)
    return text


def _checked_media(body: JSON, platforms: list[str], allowed: frozenset[str], action: str) -> list[str]:
    media = body.get("mediaUrls", [])
    if not media:
        return []
    if not isinstance(media, list) or len(media) != 1 or not str(media[0]).startswith("https://"):
        raise ErrorAnswer(400, "mediaUrls takes one https URL.", action=action)
    if refused := [name for name in platforms if name not in allowed]:
        raise ErrorAnswer(400, f"Media in comments is not supported on {refused[0]}.", action=action)
    return [str(media[0])]


def seed_comment(service: Ayrshare, post: JSON, platform: str, text: str, *, author: str = "a_follower") -> JSON:
    """A comment someone else left on a post, as the network would list it; for tests."""
    entry: JSON = {
        "comment": text,
        "commentId": _new_id(f"{platform}-c"),
        "created": iso(service.clock()),
        "from": {"username": author},
        "platform": platform,
        "replies": [],
    }
    post.setdefault("comments", []).append(entry)
    return entry


def _checked_comment(
    call: Call, body: JSON, media_platforms: frozenset[str], action: str
) -> tuple[list[str], str, list[str], bool]:
    """What a comment or reply sends, checked as Ayrshare does: its networks, text, media and id kind."""
    platforms = _checked_platforms(body, POST_PLATFORMS, action)
    text = _checked_text(body, action)
    media = _checked_media(body, platforms, media_platforms, action)
    social = _flag(call, body, "searchPlatformId")
    if social and len(platforms) != 1:
        raise ErrorAnswer(400, "searchPlatformId takes exactly one platform.", action=action)
    return platforms, text, media, social


def post_comment(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /comments`: the comment goes on every network named where the post is published."""
    body = call.json_object()
    platforms, text, media, social = _checked_comment(call, body, POST_MEDIA_PLATFORMS, "comments")
    post = _published_post(profile, str(body.get("id", "")), platforms[0], social=social, action="comments")
    published = {entry["platform"] for entry in post["postIds"]}
    if missing := [name for name in platforms if name not in published]:
        raise ErrorAnswer(400, f"The post was not published on {missing[0]}.", action="comments")
    ayrshare_id = _new_id("c")
    answer: JSON = {"status": "success", "commentID": ayrshare_id, "id": post["id"]}
    for platform in platforms:
        entry = seed_comment(service, post, platform, text, author=profile.title)
        entry |= {"ayrshareId": ayrshare_id, "mediaUrls": media}
        answer[platform] = {"status": "success", "commentId": entry["commentId"], "comment": text, "platform": platform}
    return Reply(200, answer)


def _comment_entries(profile: Profile, comment_id: str, platform: str | None, *, social: bool) -> list[JSON]:
    """Every entry (comment or reply) an id names: the network's comment id on `platform`, or an Ayrshare one."""

    def named(entry: JSON) -> bool:
        if social:
            return bool(entry["commentId"] == comment_id and entry["platform"] == platform)
        return bool(entry.get("ayrshareId") == comment_id)

    return [entry for post in profile.posts for entry in _all_entries(post) if named(entry)]


def _all_entries(post: JSON) -> list[JSON]:
    entries: list[JSON] = []
    for comment in post.get("comments", []):
        entries += [comment, *comment["replies"]]
    return entries


def reply_comment(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /comments/reply`: a reply under the comment named, on each network named that it is on."""
    body = call.json_object()
    platforms, text, media, social = _checked_comment(call, body, REPLY_MEDIA_PLATFORMS, "reply")
    targets = _comment_entries(profile, str(body.get("commentId", "")), platforms[0], social=social)
    parents = {entry["platform"]: entry for entry in targets if entry["platform"] in platforms and "replies" in entry}
    if not parents:
        raise _comment_not_found("reply")
    ayrshare_id = _new_id("r")
    answer: JSON = {"status": "success", "commentId": ayrshare_id}
    for platform, parent in parents.items():
        reply: JSON = {
            "comment": text,
            "commentId": _new_id(f"{platform}-r"),
            "created": iso(service.clock()),
            "from": {"username": profile.title},
            "platform": platform,
            "ayrshareId": ayrshare_id,
            "mediaUrls": media,
        }
        parent["replies"].append(reply)
        answer[platform] = {
            "status": "success",
            "commentId": reply["commentId"],
            "sourceCommentId": parent["commentId"],
            "comment": text,
            "platform": platform,
        }
    return Reply(200, answer)


def get_comments(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`GET /comments/:id`: a post's comments per network, each with its replies."""
    platform = call.query.get("platform")
    social = call.query.get("searchPlatformId") == "true"
    if social and platform not in GET_PLATFORMS:
        raise ErrorAnswer(400, "searchPlatformId needs a supported platform.", action="comments")
    post = _published_post(profile, call.path["id"], platform, social=social, action="comments")
    answer: JSON = {"status": "success", "id": post["id"], "lastUpdated": iso(service.clock())}
    for entry in post.get("comments", []):
        if platform is None or entry["platform"] == platform:
            answer.setdefault(entry["platform"], []).append(_shown(entry))
    return Reply(200, answer)


def _shown(entry: JSON) -> JSON:
    shown = {key: value for key, value in entry.items() if key not in {"ayrshareId", "replies"}}
    if "replies" in entry:
        shown["replies"] = [_shown(reply) for reply in entry["replies"]]
    return shown


def delete_comments(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`DELETE /comments/:id`: one comment (an Ayrshare comment id, or the network's with searchPlatformId and
    platform), or every comment sent through Ayrshare under an Ayrshare post id."""
    body = call.body if isinstance(call.body, dict) else {}
    target = call.path["id"]
    social = _flag(call, body, "searchPlatformId")
    platform = _field(call, body, "platform")
    posts = [post for post in profile.posts if post["id"] == target and post["status"] != "deleted"]
    doomed = (
        [entry for post in posts for entry in _all_entries(post) if "ayrshareId" in entry]
        if posts and not social
        else _comment_entries(profile, target, platform, social=social)
    )
    if not doomed:
        raise _comment_not_found("delete")
    answer: JSON = {"status": "success"}
    for post in profile.posts:
        _remove(post, doomed)
    for entry in doomed:
        deleted = {"action": "delete", "status": "success", "id": entry["commentId"], "comment": entry["comment"]}
        earlier = answer.get(entry["platform"])
        # One per network, as the docs show; several (all of a post's) as a list.
        answer[entry["platform"]] = deleted if earlier is None else [*_as_list(earlier), deleted]
    return Reply(200, answer)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _remove(post: JSON, doomed: list[JSON]) -> None:
    gone = {id(entry) for entry in doomed}
    kept = [comment for comment in post.get("comments", []) if id(comment) not in gone]
    for comment in kept:
        comment["replies"] = [reply for reply in comment["replies"] if id(reply) not in gone]
    if "comments" in post:
        post["comments"] = kept


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/comments/{id}"): get_comments,
    ("POST", "/api/comments"): post_comment,
    ("POST", "/api/comments/reply"): reply_comment,
    ("DELETE", "/api/comments/{id}"): delete_comments,
}
