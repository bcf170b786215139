"""An in-memory Ayrshare: accounts, profiles, posts and auto schedules, answering with Ayrshare's documented shapes.

Nothing here knows about HTTP or about the rest of this package; `app` puts it on the wire. Where Ayrshare's docs
are silent or contradict themselves, the behaviour is a field of `Switches` so tests can cover every reading.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

JSON = dict[str, Any]
# How an endpoint is served: the service, the caller's profile and the request, to a reply. Each part of the emulator
# declares its own as ROUTES, keyed by method and path ("{name}" matches one path segment); `app` gathers them.
Route = Callable[["Ayrshare", "Profile", "Call"], "Reply"]

TIME_SLOT = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])[Zz]$")
BANNED_TITLE_CHARACTERS = set("*~/[]")
HISTORY_STATUSES = {"success", "error", "processing", "pending", "paused", "deleted", "awaiting approval"}
UNDELETABLE_WHEN_PUBLISHED = {"instagram", "tiktok"}
X_PLATFORM = "twitter"
RATE_WINDOW_SECONDS = 300
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


@dataclass
class Switches:
    """Ayrshare behaviour the docs leave open (docs/ayrshare-api.md §5); defaults are the most likely reading."""

    # §5.14: a missing or unknown API key is documented both as 401 and as 403 / code 102.
    auth_failure_status: int = 403
    # §1.3: "no schedules ever set" is code 192; its HTTP status is not recorded.
    no_schedules_status: int = 400
    # §5.1: the documented default daysOfWeek [0,6] may mean every day, or Sunday and Saturday only.
    default_days_of_week: list[int] = field(default_factory=lambda: list(EVERY_DAY))
    # §5.6: the docs say published Instagram/TikTok posts cannot be deleted; Ayrshare's own test deletes one.
    published_ig_tiktok_delete: Literal["refuse", "allow"] = "refuse"
    # §2: requests per 5-minute window per profile, and whether a 429 carries Retry-After (undocumented).
    rate_limit: int = 300
    retry_after_seconds: int | None = None
    # Since 2026-03-31 X-bound operations need the account's own X app credentials, or answer 419
    # x_credentials_required (npm SDK 1.3.0). Off by default, so callers without X posts need not care.
    x_credentials_required: bool = False
    # §5.5: a bulk delete answers "an array of delete status" (legacy docs, no example): one entry per post, or
    # (the other reading) only an overall status.
    bulk_answer: Literal["per_post", "summary"] = "per_post"
    # docs/ayrshare-api.md §1.2 and the publishing notes: a repeated idempotencyKey is "rejected" (Ayrshare's MCP
    # plugin), with no code or status documented; the other reading replays the first answer.
    idempotency_repeat: Literal["reject", "replay"] = "reject"
    # A /post where some networks failed: the only documented example is labelled 400; 200 is the other reading.
    partial_failure_status: int = 400
    # A /post with a Profile-Key answers {status, posts: [...]} (docs); flat without one.
    wrap_profile_posts: bool = True
    # The networks linked to every profile, and those whose publishing fails (retryable), for partial failures.
    linked_platforms: list[str] = field(default_factory=lambda: ["facebook", "instagram", "linkedin", "twitter"])
    failing_platforms: list[str] = field(default_factory=list)
    # GET /profiles: "for security, the Profile Keys are not returned" (docs); on, the answer carries them anyway.
    profiles_answer_keys: bool = False
    # Analytics needs Premium or higher; how Ayrshare refuses a lesser plan is not documented. A status (402 or 403)
    # makes /analytics/* refuse with it and `analytics_refusal_code`; None: the plan has analytics.
    analytics_refusal_status: int | None = None
    analytics_refusal_code: int = 169
    # requiresApproval holds a post "awaiting approval" (the plugin's docs); off, the plan ignores it and the post is
    # published (or scheduled) as if it had not been asked for.
    honours_approval: bool = True
    # Whether the /post answer for a held post says "awaiting approval" (its status), or only "success".
    approval_in_answer: bool = True
    # GET /auto-schedule/list documents lastScheduleDate but not setStartDate; on, the listing shows it too.
    list_shows_start_date: bool = False
    # Posts a profile may publish per month (its plan's quota); None: no limit. Once used up, Ayrshare answers 429
    # with code 106 to posts, their gets, deletes and retries, and analytics, until the 1st at 00:07 UTC. A post
    # counts when it publishes (failed or not), so a scheduled or held one counts only once something publishes it.
    monthly_post_quota: int | None = None
    # Direct messages need the Messaging add-on; no source records how Ayrshare refuses an account without it. None:
    # the add-on is enabled; 402 or 403: every /messages call is refused with that status.
    messaging_refusal_status: int | None = None


@dataclass(frozen=True)
class XHeaders:
    """The X/Twitter app credentials a request carried (X-Twitter-OAuth1-Api-Key and -Secret), if any."""

    api_key: str | None = None
    api_secret: str | None = None


@dataclass(frozen=True)
class Call:
    """One request as an operation sees it: its body, query, path parameters and the headers that matter here."""

    body: Any
    query: Mapping[str, str] = field(default_factory=dict)
    lists: Mapping[str, list[str]] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)
    profile_key: str | None = None
    api_key: str = ""
    x_headers: XHeaders = field(default_factory=lambda: XHeaders())

    def json_object(self) -> JSON:
        if isinstance(self.body, dict):
            return self.body
        raise ErrorAnswer(400, "The request body must be a JSON object.")


@dataclass
class Reply:
    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


class ErrorAnswer(Exception):
    """An error answer: raised inside an operation, turned into a `Reply` at the edge."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        action: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body: JSON = {"status": "error", "message": message}
        if code is not None:
            self.body["code"] = code
        if action is not None:
            self.body["action"] = action


@dataclass
class Profile:
    """One User Profile's data: what a Profile-Key (or its absence, for the primary profile) selects."""

    title: str
    schedules: dict[str, JSON] = field(default_factory=dict)
    posts: list[JSON] = field(default_factory=list)
    # The first answer to each idempotencyKey seen.
    idempotency: dict[str, JSON] = field(default_factory=dict)
    window_started: float = 0.0
    requests_in_window: int = 0
    # Posts published in the quota month named, as "YYYY-MM".
    posts_in_month: tuple[str, int] = ("", 0)
    # Posts on each network that did not go through Ayrshare, newest first (see `analytics.seed_native_post`).
    native_posts: dict[str, list[JSON]] = field(default_factory=dict)
    # Direct messages and the auto-response (see `messages`).
    messaging: JSON = field(default_factory=dict)
    # The media library, oldest first (see `media`).
    media: list[JSON] = field(default_factory=list)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _new_id() -> str:
    return secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")[:20]


class Ayrshare:
    """The emulated service. Every public operation takes the caller's identity and returns a `Reply`."""

    def __init__(
        self,
        *,
        api_keys: set[str] | None = None,
        switches: Switches | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        # None accepts any non-empty key, so the sandbox and ad-hoc use need no set-up.
        self.api_keys = api_keys
        self.switches = switches or Switches()
        self.clock = clock
        self._monotonic = monotonic or (lambda: self.clock().timestamp())
        self.profiles: dict[tuple[str, str | None], Profile] = {}

    def snapshot(self) -> JSON:
        """Every profile's data, as JSON: what `restore` takes back (the sandbox keeps it on disk)."""
        return {
            "profiles": [
                {"api_key": key, "profile_key": profile_key, "title": profile.title, "schedules": profile.schedules,
                 "posts": profile.posts, "idempotency": profile.idempotency, "native_posts": profile.native_posts,
                 "messaging": profile.messaging, "media": profile.media}
                for (key, profile_key), profile in self.profiles.items()
            ]
        }  # fmt: skip

    def restore(self, snapshot: JSON) -> None:
        self.profiles = {
            (entry["api_key"], entry["profile_key"]): Profile(
                title=entry["title"],
                schedules=entry["schedules"],
                posts=entry["posts"],
                idempotency=entry.get("idempotency", {}),
                native_posts=entry.get("native_posts", {}),
                messaging=entry.get("messaging", {}),
                media=entry.get("media", []),
            )
            for entry in snapshot["profiles"]
        }

    # --- keys and rate limit ---------------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key or (self.api_keys is not None and key not in self.api_keys):
            raise ErrorAnswer(self.switches.auth_failure_status, "API Key not valid.", code=102)
        return key

    def profile(self, api_key: str, profile_key: str | None) -> Profile:
        owner = (api_key, profile_key or None)
        if owner not in self.profiles:
            # Named by a hash: no part of a key may appear in an answer.
            title = f"Profile {_digest(profile_key)[:6]}" if profile_key else "Primary Profile"
            self.profiles[owner] = Profile(title=title)
        return self.profiles[owner]

    def count_request(self, profile: Profile) -> dict[str, str]:
        """Count one request against the profile's window; the rate-limit headers Ayrshare sends with every answer.

        Raises:
            ErrorAnswer: 429 once the window's budget is spent.
        """
        now = self._monotonic()
        if now - profile.window_started >= RATE_WINDOW_SECONDS:
            profile.window_started, profile.requests_in_window = now, 0
        profile.requests_in_window += 1
        headers = {
            "x-ratelimit-max": str(self.switches.rate_limit),
            "x-ratelimit-count": str(min(profile.requests_in_window, self.switches.rate_limit)),
        }
        if profile.requests_in_window > self.switches.rate_limit:
            if self.switches.retry_after_seconds is not None:
                headers["retry-after"] = str(self.switches.retry_after_seconds)
            raise ErrorAnswer(429, "Rate limit exceeded. Please wait before making more requests.", headers=headers)
        return headers

    def check_post_quota(self, profile: Profile, path: str) -> None:
        """Refuse what Ayrshare refuses once the profile's monthly post quota is spent.

        Raises:
            ErrorAnswer: 429 with code 106, for a post-related operation once the quota is used up.
        """
        quota = self.switches.monthly_post_quota
        if quota is None or not (path == "/api/post" or path.startswith(("/api/post/", "/api/analytics/"))):
            return
        _, counted = self._posts_this_month(profile)
        if counted >= quota:
            raise ErrorAnswer(
                429, "Monthly post limit reached. Upgrade your plan or wait for the reset on the 1st.", code=106
            )

    def count_published(self, profile: Profile) -> None:
        """A post of this profile just published: it counts against this month's quota."""
        month, counted = self._posts_this_month(profile)
        profile.posts_in_month = (month, counted + 1)

    def _posts_this_month(self, profile: Profile) -> tuple[str, int]:
        month = (self.clock() - timedelta(minutes=7)).strftime("%Y-%m")
        return month, profile.posts_in_month[1] if profile.posts_in_month[0] == month else 0

    def require_x_credentials(self, sent: XHeaders, posts: list[JSON], platforms: Sequence[str] = ()) -> None:
        """Refuse an operation that touches X (these posts, or a filter on these platforms) without the X pair."""
        touches_x = X_PLATFORM in platforms or any(X_PLATFORM in post["platforms"] for post in posts)
        if not self.switches.x_credentials_required or not touches_x or (sent.api_key and sent.api_secret):
            return
        if sent.api_key or sent.api_secret:
            missing = "X-Twitter-OAuth1-Api-Secret" if sent.api_key else "X-Twitter-OAuth1-Api-Key"
            raise ErrorAnswer(400, f"The {missing} header is missing: send both X credentials headers.", code=400)
        raise ErrorAnswer(
            419,
            "X/Twitter operations require your own X API credentials in the X-Twitter-OAuth1-Api-Key and "
            "X-Twitter-OAuth1-Api-Secret headers.",
            code=419,
            action="x_credentials_required",
        )

    # --- auto schedules ------------------------------------------------------------------------------------------

    def set_auto_schedule(self, profile: Profile, body: JSON) -> Reply:
        title = body.get("title", "default")
        if not isinstance(title, str) or not title or BANNED_TITLE_CHARACTERS & set(title):
            raise ErrorAnswer(400, "Title must be a non-empty string without * ~ / [ ].", action="autoSchedule")
        slots = body.get("schedule")
        if slots is None and "setStartDate" not in body:
            raise ErrorAnswer(400, "Missing schedule.", action="autoSchedule")
        stored = dict(profile.schedules.get(title, {}))
        if slots is not None:
            stored["schedule"] = self._time_slots(slots)
        if "daysOfWeek" in body:
            stored["daysOfWeek"] = self._days_of_week(body["daysOfWeek"])
        if "excludeDates" in body:
            stored["excludeDates"] = self._string_list(body["excludeDates"], "excludeDates")
        if "setStartDate" in body:
            stored["setStartDate"] = self._moment(body["setStartDate"], "setStartDate")
        profile.schedules[title] = stored
        echo: JSON = {key: stored[key] for key in ("schedule", "daysOfWeek", "excludeDates") if key in stored}
        return Reply(200, {"status": "success", "message": "Auto schedule set.", "title": title, **echo})

    def list_auto_schedules(self, profile: Profile) -> Reply:
        if not profile.schedules:
            raise ErrorAnswer(
                self.switches.no_schedules_status, "No auto schedules found.", code=192, action="autoSchedule"
            )
        hidden = set() if self.switches.list_shows_start_date else {"setStartDate"}
        listing = {
            title: {k: v for k, v in stored.items() if k not in hidden} for title, stored in profile.schedules.items()
        }
        return Reply(200, {"status": "success", "schedules": listing})

    def delete_auto_schedule(self, profile: Profile, body: JSON) -> Reply:
        title = body.get("title", "default")
        if title not in profile.schedules:
            raise ErrorAnswer(404, f"Auto schedule {title!r} not found.", action="autoSchedule")
        if body.get("deleteLastScheduleDate") is True:
            profile.schedules[title].pop("lastScheduleDate", None)
        else:
            del profile.schedules[title]
        return Reply(200, {"status": "success", "title": title})

    def _time_slots(self, slots: Any) -> list[str]:
        if not isinstance(slots, list) or not slots:
            raise ErrorAnswer(400, "schedule must be a non-empty array of times like 13:05Z.", action="autoSchedule")
        normalised: list[str] = []
        for slot in slots:
            if not isinstance(slot, str) or not TIME_SLOT.match(slot):
                raise ErrorAnswer(400, f"Invalid schedule time {slot!r}; use HH:MMZ.", action="autoSchedule")
            normalised.append(slot.upper())
        return sorted(set(normalised))

    def _days_of_week(self, days: Any) -> list[int]:
        valid = isinstance(days, list) and len(days) > 0 and all(type(d) is int and 0 <= d <= 6 for d in days)
        if not valid:
            raise ErrorAnswer(400, "daysOfWeek must be an array of integers 0-6.", action="autoSchedule")
        return sorted(set(days))

    def _string_list(self, values: Any, name: str) -> list[str]:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ErrorAnswer(400, f"{name} must be an array of strings.", action="autoSchedule")
        return list(values)

    def _moment(self, value: Any, name: str) -> str:
        try:
            return iso(parse_moment(value))
        except (TypeError, ValueError):
            raise ErrorAnswer(400, f"{name} must be an ISO-8601 date-time.") from None

    # --- posts ---------------------------------------------------------------------------------------------------

    def add_post(
        self,
        profile: Profile,
        *,
        text: str,
        platforms: list[str],
        schedule_date: datetime | None = None,
        created: datetime | None = None,
        status: str | None = None,
        post_id: str | None = None,
    ) -> JSON:
        """Record a post as Ayrshare would list it in history; tests use it to seed data."""
        created = created or self.clock()
        published = (schedule_date is None or schedule_date <= self.clock()) and status in {None, "success"}
        post_id = post_id or _new_id()
        post: JSON = {
            "id": post_id,
            "post": text,
            "platforms": platforms,
            "postIds": [
                {"status": "success", "id": f"{platform}-{post_id}", "platform": platform}
                for platform in platforms
                if published
            ],
            "errors": [],
            "urls": [],
            "type": "now" if schedule_date is None else "scheduled",
            "created": iso(created),
            "status": status or ("success" if published else "pending"),
            "scheduleDate": {
                "_seconds": int((schedule_date or created).timestamp()),
                "_nanoseconds": 0,
                "utc": iso(schedule_date or created),
            },
        }
        profile.posts.insert(0, post)
        return post

    def next_free_slot(self, profile: Profile, title: str) -> datetime:
        """The first slot after the last one used, on an allowed, non-excluded day (Ayrshare's overview)."""
        stored = profile.schedules.get(title)
        if not stored or not stored.get("schedule"):
            raise ErrorAnswer(400, f"Auto schedule {title!r} not found.", action="post")
        floor = max(
            self.clock(),
            parse_moment(stored["lastScheduleDate"]) if "lastScheduleDate" in stored else self.clock(),
            parse_moment(stored["setStartDate"]) if "setStartDate" in stored else self.clock(),
        )
        days = stored.get("daysOfWeek") or self.switches.default_days_of_week
        excluded = set(stored.get("excludeDates", []))
        for offset in range(366 * 2):
            day = (floor + timedelta(days=offset)).date()
            if (day.isoweekday() % 7) not in days or day.isoformat() in excluded:
                continue
            for slot in stored["schedule"]:
                moment = datetime.combine(day, datetime.strptime(slot[:5], "%H:%M").time(), tzinfo=UTC)
                if moment > floor:
                    stored["lastScheduleDate"] = iso(moment)
                    return moment
        raise ErrorAnswer(400, f"Auto schedule {title!r} has no free slot in the next two years.", action="post")

    def delete_post(self, profile: Profile, body: JSON, x_headers: XHeaders = XHeaders()) -> Reply:
        self.require_x_credentials(x_headers, self._delete_targets(profile, body))
        if body.get("deleteAllScheduled") is True:
            deleted = [post for post in profile.posts if post["status"] == "pending"]
            for post in deleted:
                post["status"] = "deleted"
            return Reply(
                200,
                {
                    "status": "success",
                    "deleteAllScheduled": True,
                    "count": len(deleted),
                    "ids": [post["id"] for post in deleted],
                },
            )
        if isinstance(body.get("bulk"), list):
            outcomes = [self._delete_pending(profile, post_id) for post_id in body["bulk"]]
            if self.switches.bulk_answer == "summary":
                return Reply(200, {"status": "success"})
            return Reply(200, {"status": "success", "bulk": outcomes})
        post_id = body.get("id")
        if not isinstance(post_id, str) or not post_id:
            raise ErrorAnswer(400, "Missing id, bulk or deleteAllScheduled.", action="delete")
        return self._delete_one(profile, post_id, manual=body.get("markManualDeleted") is True)

    def _delete_targets(self, profile: Profile, body: JSON) -> list[JSON]:
        if body.get("deleteAllScheduled") is True:
            return [post for post in profile.posts if post["status"] == "pending"]
        bulk = body.get("bulk")
        wanted: list[Any] = bulk if isinstance(bulk, list) else [body.get("id")]
        return [post for post in profile.posts if post["id"] in wanted]

    def _find(self, profile: Profile, post_id: str) -> JSON:
        for post in profile.posts:
            if post["id"] == post_id:
                return post
        raise ErrorAnswer(404, "Post not found. Check the Ayrshare post id.", code=114, action="delete")

    def _delete_one(self, profile: Profile, post_id: str, *, manual: bool) -> Reply:
        post = self._find(profile, post_id)
        if post["status"] == "deleted":
            raise ErrorAnswer(400, "Post already deleted.", code=383, action="delete")
        published = post["status"] == "success"
        blocked = UNDELETABLE_WHEN_PUBLISHED & set(post["platforms"]) if published and not manual else set()
        if blocked and self.switches.published_ig_tiktok_delete == "refuse":
            names = ", ".join(sorted(blocked))
            raise ErrorAnswer(
                400,
                f"Published {names} posts cannot be deleted via the API. Delete them in the app, then use "
                "markManualDeleted.",
                action="delete",
            )
        post["status"] = "deleted"
        per_network = (
            {}
            if manual
            else {
                entry["platform"]: {"action": "delete", "status": "success", "id": entry["id"]}
                for entry in post["postIds"]
            }
        )
        return Reply(200, {"status": "success", "id": post_id, "code": 200, **per_network})

    def _delete_pending(self, profile: Profile, post_id: Any) -> JSON:
        try:
            post = self._find(profile, str(post_id))
        except ErrorAnswer as error:
            return {"id": post_id, **error.body}
        if post["status"] != "pending":
            return {"id": post_id, "status": "error", "message": "Only pending scheduled posts are deleted in bulk."}
        post["status"] = "deleted"
        return {"id": post_id, "status": "success"}

    # --- history -------------------------------------------------------------------------------------------------

    def history(
        self,
        profile: Profile,
        query: Mapping[str, str],
        platforms: list[str],
        x_headers: XHeaders = XHeaders(),
    ) -> Reply:
        wanted_status = query.get("status")
        if wanted_status is not None and wanted_status not in HISTORY_STATUSES:
            raise ErrorAnswer(400, f"Unknown status {wanted_status!r}.", action="get")
        start, end = self._window(query)
        wanted_type = {"immediate": "now", "scheduled": "scheduled"}.get(query.get("type", ""))
        limit = self._limit(query)
        matches = [
            post
            for post in profile.posts
            if (post["status"] == wanted_status if wanted_status else post["status"] != "deleted")
            and (start is None or parse_moment(post["scheduleDate"]["utc"]) >= start)
            and (end is None or parse_moment(post["scheduleDate"]["utc"]) <= end)
            and (not platforms or set(platforms) & set(post["platforms"]))
            and (wanted_type is None or post["type"] == wanted_type)
        ][:limit]
        self.require_x_credentials(x_headers, matches, platforms)
        if not matches:
            # Observed live: an empty window is an error nested under "history", with HTTP 400.
            body = {
                "history": {"code": 221, "action": "get", "status": "error", "message": "History not found."},
                "count": 0,
            }
            return Reply(400, body)
        now = self.clock()
        return Reply(
            200,
            {
                "history": matches,
                "count": len(matches),
                "refId": f"ref-{id(profile):x}",
                "lastUpdated": iso(now),
                "nextUpdate": iso(now + timedelta(minutes=1)),
            },
        )

    def _window(self, query: Mapping[str, str]) -> tuple[datetime | None, datetime | None]:
        try:
            start = parse_moment(query["startDate"]) if "startDate" in query else None
            end = parse_moment(query["endDate"]) if "endDate" in query else None
            # Beyond a century back is all of history; a larger number must not overflow the calendar.
            last_days = min(int(query.get("lastDays", "30")), 36_500)
        except ValueError:
            raise ErrorAnswer(400, "Invalid startDate, endDate or lastDays.", action="get") from None
        if start and end:
            return start, end
        if last_days > 0:
            start = (
                max(start, self.clock() - timedelta(days=last_days))
                if start
                else self.clock() - timedelta(days=last_days)
            )
        return start, end

    def _limit(self, query: Mapping[str, str]) -> int:
        raw = query.get("limit", query.get("lastRecords", "25"))
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise ErrorAnswer(400, "limit must be between 1 and 1000.", action="get")
        return int(raw)

    # --- user ----------------------------------------------------------------------------------------------------

    def user(self, profile: Profile) -> Reply:
        return Reply(
            200,
            {
                "activeSocialAccounts": list(self.switches.linked_platforms),
                "email": "sandbox@example.com",
                "title": profile.title,
                "refId": f"ref-{id(profile):x}",
                "created": {"_seconds": 1700000000, "_nanoseconds": 0, "utc": "2023-11-14T22:13:20Z"},
                "lastApiCall": iso(self.clock()),
            },
        )


# The documented paths, and the aliases Ayrshare's own SDKs and tests still use.
ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/auto-schedule/set"): lambda service, profile, call: service.set_auto_schedule(
        profile, call.json_object()
    ),
    ("POST", "/api/auto-schedule"): lambda service, profile, call: service.set_auto_schedule(
        profile, call.json_object()
    ),
    ("GET", "/api/auto-schedule/list"): lambda service, profile, call: service.list_auto_schedules(profile),
    ("GET", "/api/auto-schedule"): lambda service, profile, call: service.list_auto_schedules(profile),
    ("DELETE", "/api/auto-schedule/delete"): lambda service, profile, call: service.delete_auto_schedule(
        profile, call.json_object()
    ),
    ("DELETE", "/api/auto-schedule"): lambda service, profile, call: service.delete_auto_schedule(
        profile, call.json_object()
    ),
    ("DELETE", "/api/post"): lambda service, profile, call: service.delete_post(
        profile, call.json_object(), call.x_headers
    ),
    ("DELETE", "/api/delete"): lambda service, profile, call: service.delete_post(
        profile, call.json_object(), call.x_headers
    ),
    ("GET", "/api/history"): lambda service, profile, call: service.history(
        profile, call.query, call.lists.get("platforms", []), call.x_headers
    ),
    ("GET", "/api/user"): lambda service, profile, call: service.user(profile),
}
