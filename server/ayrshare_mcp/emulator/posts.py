"""The emulated publishing workflow: create and validate a post, get it, update it (approve, reschedule, notes), and
retry a failed one, with Ayrshare's documented shapes (docs/ayrshare-api.md; the per-platform answer of `/post`).

A post to a network that is not linked fails for that network with code 156; a network in `failing_platforms`
fails with a retryable error. Where the docs are silent the behaviour is a switch (see `Switches`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from ayrshare_mcp.emulator.ayrshare import (
    JSON,
    Ayrshare,
    Call,
    ErrorAnswer,
    Profile,
    Reply,
    Route,
    XHeaders,
    iso,
    parse_moment,
)

KNOWN_PLATFORMS = frozenset(
    {"bluesky", "facebook", "gmb", "instagram", "linkedin", "pinterest", "reddit", "snapchat", "telegram",
     "threads", "tiktok", "twitter", "youtube"}
)  # fmt: skip
NOT_LINKED = 156
PUBLISH_FAILED = 137


def _checked(service: Ayrshare, body: JSON, x_headers: XHeaders) -> tuple[str, list[str]]:
    """The text and platforms of a post body, after the checks Ayrshare makes before anything else."""
    text, platforms = body.get("post"), body.get("platforms")
    if not isinstance(text, str) or not isinstance(platforms, list) or not platforms:
        raise ErrorAnswer(400, "post (text) and platforms (array) are required.", action="post")
    unknown = [str(platform) for platform in platforms if platform not in KNOWN_PLATFORMS]
    if unknown:
        raise ErrorAnswer(400, f"Unknown platform {unknown[0]!r}.", action="post")
    media = body.get("mediaUrls", [])
    if not isinstance(media, list) or not all(isinstance(url, str) and url.startswith("https://") for url in media):
        raise ErrorAnswer(400, "Media URLs invalid. Please verify the media is an externally accessible URL.", code=136)
    if "scheduleDate" in body and "autoSchedule" in body:
        raise ErrorAnswer(400, "Use either autoSchedule or scheduleDate, not both.", action="post")
    service.require_x_credentials(x_headers, [], [str(platform) for platform in platforms])
    return text, [str(platform) for platform in platforms]


def create_post(service: Ayrshare, profile: Profile, body: JSON, x_headers: XHeaders, *, wrap: bool) -> Reply:
    """`POST /post`: now, at scheduleDate, into an auto schedule's next slot, or held for approval."""
    text, platforms = _checked(service, body, x_headers)
    key = body.get("idempotencyKey")
    if isinstance(key, str) and key in profile.idempotency:
        if service.switches.idempotency_repeat == "replay":
            return Reply(200, profile.idempotency[key])
        raise ErrorAnswer(400, "Duplicate idempotencyKey: a post with this key was already submitted.", action="post")
    when = _when(service, profile, body)
    post = service.add_post(profile, text=text, platforms=platforms, schedule_date=when, status="pending")
    post["mediaUrls"] = list(body.get("mediaUrls", []))
    if isinstance(body.get("notes"), str):
        post["notes"] = body["notes"]
    if body.get("requiresApproval") is True and service.switches.honours_approval:
        post["status"], post["requiresApproval"] = "awaiting approval", True
    elif when is None or when <= service.clock():
        publish(service, profile, post)
    answer = _answer(post)
    if answer["status"] == "awaiting approval" and not service.switches.approval_in_answer:
        answer["status"] = "success"
    if isinstance(key, str):
        profile.idempotency[key] = answer
    status = service.switches.partial_failure_status if post["errors"] else 200
    return Reply(status, {"status": answer["status"], "posts": [answer]} if wrap else answer)


def _when(service: Ayrshare, profile: Profile, body: JSON) -> datetime | None:
    auto = body.get("autoSchedule")
    if isinstance(auto, dict) and auto.get("schedule") is True:
        return service.next_free_slot(profile, str(auto.get("title", "default")))
    if isinstance(body.get("scheduleDate"), str):
        try:
            return parse_moment(body["scheduleDate"])
        except ValueError:
            raise ErrorAnswer(400, "scheduleDate must be an ISO-8601 date-time.", action="post") from None
    return None


def publish(service: Ayrshare, profile: Profile, post: JSON) -> None:
    """Send a post to its networks: linked ones that are not set to fail succeed, the others fail. It counts
    against the monthly quota either way."""
    service.count_published(profile)
    linked, failing = set(service.switches.linked_platforms), set(service.switches.failing_platforms)
    post["postIds"], post["errors"] = [], []
    for platform in post["platforms"]:
        if platform not in linked:
            post["errors"].append(_platform_error(platform, NOT_LINKED, f"{platform} is not linked with Ayrshare."))
        elif platform in failing:
            error = _platform_error(platform, PUBLISH_FAILED, f"Error posting to {platform}. Please try again.")
            post["errors"].append({**error, "retryAvailable": True})
        else:
            post["postIds"].append(
                {"status": "success", "id": f"{platform}-{post['id']}", "platform": platform,
                 "postUrl": f"https://{platform}.example/{post['id']}"}
            )  # fmt: skip
    post["status"] = "error" if post["errors"] else "success"


def _platform_error(platform: str, code: int, message: str) -> JSON:
    return {"action": "post", "status": "error", "code": code, "message": message, "platform": platform}


def _answer(post: JSON) -> JSON:
    pending = post["status"] in {"pending", "awaiting approval"}
    answer: JSON = {
        "status": "scheduled" if post["status"] == "pending" else post["status"],
        "errors": post["errors"],
        "postIds": post["postIds"],
        "id": post["id"],
        "refId": f"ref-{post['id']}",
        "post": post["post"],
    }
    if pending:
        answer["scheduleDate"] = post["scheduleDate"]["utc"]
    return answer


def validate_post(service: Ayrshare, body: JSON, x_headers: XHeaders) -> Reply:
    """`POST /validate/post`: the checks `/post` makes, and nothing sent; an unlinked network is a warning."""
    try:
        _, platforms = _checked(service, body, x_headers)
    except ErrorAnswer as error:
        return Reply(error.status, {"action": "post", **error.body})
    unlinked = [platform for platform in platforms if platform not in service.switches.linked_platforms]
    answer: JSON = {
        "status": "success",
        "message": "No validation issues were found with this post. This is only an Ayrshare validation test and "
        "the post may still return an error by the social networks.",
    }
    if unlinked:
        answer["warnings"] = [
            _platform_error(platform, NOT_LINKED, f"{platform} is not linked with Ayrshare.") for platform in unlinked
        ]
    return Reply(200, answer)


def find(profile: Profile, post_id: Any, action: str) -> JSON:
    for post in profile.posts:
        if post["id"] == post_id:
            return post
    raise ErrorAnswer(404, "Post not found. Check the Ayrshare post id.", code=114, action=action)


def get_post(profile: Profile, post_id: str) -> Reply:
    """`GET /post/:id`: the post, its scheduleDate as a plain ISO string (as the docs show it here)."""
    post = find(profile, post_id, "get")
    return Reply(
        200, {**{k: v for k, v in post.items() if k != "retried"}, "scheduleDate": post["scheduleDate"]["utc"]}
    )


def update_post(service: Ayrshare, profile: Profile, body: JSON) -> Reply:
    """`PUT` (the SDKs) or `PATCH` (the docs) `/post`: approve, reschedule or annotate a post not yet published."""
    post = find(profile, body.get("id"), "update")
    if "notes" in body:
        post["notes"] = str(body["notes"])
    if "scheduleDate" in body:
        if post["status"] not in {"pending", "awaiting approval"}:
            raise ErrorAnswer(400, "Only a scheduled post in a pending status can be rescheduled.", action="update")
        when = _when(service, profile, {"scheduleDate": body["scheduleDate"]})
        assert when is not None
        post["scheduleDate"] = {"_seconds": int(when.timestamp()), "_nanoseconds": 0, "utc": iso(when)}
        post["type"] = "scheduled"
    if body.get("approved") is True:
        if post["status"] != "awaiting approval":
            raise ErrorAnswer(400, "The post is not awaiting approval.", action="update")
        post["approved"], post["status"] = True, "pending"
    if post["status"] == "pending" and parse_moment(post["scheduleDate"]["utc"]) <= service.clock():
        publish(service, profile, post)
    answer = {"status": "success", "id": post["id"], "postStatus": post["status"]}
    if body.get("approved") is True and post["status"] in {"success", "error"}:
        answer |= {"postIds": post["postIds"], "errors": post["errors"]}
    return Reply(200, answer)


def retry_post(service: Ayrshare, profile: Profile, body: JSON) -> Reply:
    """`PUT /post/retry`: a post whose status is error goes again, once; it is pending while it does."""
    post = find(profile, body.get("id"), "retry")
    if post["status"] != "error":
        raise ErrorAnswer(400, "Only a post with a status of error can be retried.", action="retry")
    if post.get("retried"):
        raise ErrorAnswer(400, "A post can be retried only once.", action="retry")
    post["retried"], post["status"] = True, "pending"
    return Reply(200, {"status": "success", "id": post["id"], "postStatus": "pending"})


def ref_id(profile_key: str) -> str:
    return "ref-" + hashlib.sha256(profile_key.encode()).hexdigest()[:16]


def list_profiles(service: Ayrshare, api_key: str) -> Reply:
    """`GET /profiles`: the User Profiles of this account, never their Profile-Keys; the primary is not listed."""
    profiles = [
        {"status": "active", "title": profile.title, "refId": ref_id(profile_key),
         "createdUTC": "2026-01-01T00:00:00.000Z", "activeSocialAccounts": list(service.switches.linked_platforms),
         **({"profileKey": profile_key} if service.switches.profiles_answer_keys else {})}
        for (key, profile_key), profile in service.profiles.items()
        if key == api_key and profile_key is not None
    ]  # fmt: skip
    return Reply(200, {"profiles": profiles, "count": len(profiles)})


__all__ = ["create_post", "get_post", "list_profiles", "retry_post", "update_post", "validate_post"]


def _create(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    wrap = service.switches.wrap_profile_posts and bool(call.profile_key)
    return create_post(service, profile, call.json_object(), call.x_headers, wrap=wrap)


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/post"): _create,
    ("POST", "/api/validate/post"): lambda service, profile, call: validate_post(
        service, call.json_object(), call.x_headers
    ),
    ("PUT", "/api/post"): lambda service, profile, call: update_post(service, profile, call.json_object()),
    ("PATCH", "/api/post"): lambda service, profile, call: update_post(service, profile, call.json_object()),
    ("PUT", "/api/post/retry"): lambda service, profile, call: retry_post(service, profile, call.json_object()),
    ("GET", "/api/post/{id}"): lambda service, profile, call: get_post(profile, call.path["id"]),
    ("GET", "/api/profiles"): lambda service, profile, call: list_profiles(service, call.api_key),
}
