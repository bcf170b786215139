"""The analytics toolset through the MCP client, against the emulator: analytics answer for the posts Ayrshare knows,
a network's own history pages through `next` untouched, a plan without analytics is told what it needs, and bad
arguments are refused before anything is sent. Then the emulator's own answers, with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ayrshare_mcp.emulator.analytics import seed_native_post
from tests.envelope import fail, succeed
from tests.oracle import POST_ID, Operation
from tests.support import API_KEY, PROFILE_KEY, RunningEmulator, User, client_from, with_every_toolset

pytestmark = pytest.mark.anyio

POST_ANALYTICS, SOCIAL_ANALYTICS = "AYRSHARE_GET_POST_ANALYTICS", "AYRSHARE_GET_SOCIAL_ANALYTICS"
PLATFORM_HISTORY, CREATE = "AYRSHARE_GET_PLATFORM_HISTORY", "AYRSHARE_CREATE_POST"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def native(emulator: RunningEmulator, platform: str, text: str, hours_ago: float, **fields: Any) -> dict[str, Any]:
    """A post made in the network's own app, `hours_ago`: in the network's history, not in Ayrshare's."""
    created = datetime.now(UTC) - timedelta(hours=hours_ago)
    profile = emulator.service.profile(API_KEY, fields.pop("profile_key", None))
    return seed_native_post(emulator.service, profile, platform, text, created=created, **fields)


def requests_to(emulator: RunningEmulator, path: str) -> list[Any]:
    return emulator.app.received(path)


# --- analytics answer for the posts Ayrshare knows -----------------------------------------------------------------


async def test_a_post_published_through_the_server_has_analytics_on_each_network_it_went_to(
    emulator: RunningEmulator, home: Path
) -> None:
    async with with_every_toolset(emulator, home, person=User()) as client:
        post = await succeed(client, CREATE, {"post": "Launch day", "platforms": ["linkedin", "facebook"]})
        analytics = await succeed(client, POST_ANALYTICS, {"id": post["id"], "platforms": ["linkedin", "facebook"]})

    network_ids = {entry["platform"]: entry["id"] for entry in post["postIds"]}
    assert analytics["id"] == post["id"]
    for platform in ("linkedin", "facebook"):
        assert analytics[platform]["id"] == network_ids[platform]
        assert set(analytics[platform]["analytics"]) >= {"likeCount", "commentCount", "impressions"}
    [sent] = requests_to(emulator, "/api/analytics/post")
    assert sent.body == {"id": post["id"], "platforms": ["linkedin", "facebook"]}


async def test_a_post_made_outside_ayrshare_is_found_in_the_networks_history_and_by_its_own_id(
    emulator: RunningEmulator, home: Path
) -> None:
    made_in_the_app = native(emulator, "instagram", "Shot on the phone", hours_ago=2, post_id="urn:ig:17890")
    emulator.seed_post(text="Sent through Ayrshare", platforms=["instagram"])

    async with with_every_toolset(emulator, home) as client:
        history = await succeed(client, PLATFORM_HISTORY, {"platform": "instagram"})
        ids = [post["id"] for post in history["posts"]]
        analytics = await succeed(
            client, POST_ANALYTICS, {"id": made_in_the_app["id"], "platforms": ["instagram"], "searchPlatformId": True}
        )

    assert [post["post"] for post in history["posts"]] == ["Sent through Ayrshare", "Shot on the phone"]
    assert "urn:ig:17890" in ids
    assert analytics["instagram"]["id"] == "urn:ig:17890"
    assert "likeCount" in analytics["instagram"]["analytics"]


async def test_account_analytics_count_the_posts_the_network_has_and_pass_the_options_on(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.seed_post(platforms=["twitter"])
    native(emulator, "twitter", "Typed in the X app", hours_ago=1)
    arguments = {"platforms": ["twitter", "tiktok"], "quarters": 2, "daily": True, "period60Days": True}

    async with with_every_toolset(emulator, home) as client:
        analytics = await succeed(client, SOCIAL_ANALYTICS, arguments)

    assert analytics["twitter"]["analytics"]["tweetCount"] == 2
    assert analytics["tiktok"]["code"] == 156, "a network that is not linked says so, as Ayrshare's answer does"
    [sent] = requests_to(emulator, "/api/analytics/social")
    assert sent.body == arguments


async def test_a_profile_gets_the_analytics_of_its_own_posts(emulator: RunningEmulator, home: Path) -> None:
    post = emulator.seed_post(profile_key=PROFILE_KEY, platforms=["linkedin"])

    async with with_every_toolset(emulator, home) as client:
        own = await succeed(
            client, POST_ANALYTICS, {"id": post["id"], "platforms": ["linkedin"], "Profile-Key": PROFILE_KEY}
        )
        primary = await fail(client, POST_ANALYTICS, {"id": post["id"], "platforms": ["linkedin"]})

    assert own["linkedin"]["id"] == f"linkedin-{post['id']}"
    assert "code 114" in primary["error"]
    assert requests_to(emulator, "/api/analytics/post")[0].header("profile-key") == PROFILE_KEY


# --- a network's history, a page at a time ---------------------------------------------------------------------------


async def test_platform_history_pages_through_next_exactly_as_ayrshare_gave_it(
    emulator: RunningEmulator, home: Path
) -> None:
    for hours in (1, 2, 3, 4, 5):
        native(emulator, "linkedin", f"{hours} hours ago", hours_ago=hours)

    async with with_every_toolset(emulator, home) as client:
        first = await succeed(client, PLATFORM_HISTORY, {"platform": "linkedin", "limit": 2})
        cursor = first["meta"]["pagination"]["next"]
        second = await succeed(client, PLATFORM_HISTORY, {"platform": "linkedin", "limit": 2, "next": cursor})
        last = await succeed(
            client, PLATFORM_HISTORY, {"platform": "linkedin", "limit": 2, "next": second["meta"]["pagination"]["next"]}
        )

    pages = [[post["post"] for post in page["posts"]] for page in (first, second, last)]
    assert pages == [["1 hours ago", "2 hours ago"], ["3 hours ago", "4 hours ago"], ["5 hours ago"]]
    assert "meta" not in last, "the last page has no next"
    sent = requests_to(emulator, "/api/history/linkedin")
    assert sent[1].query_dict() == {"limit": "2", "next": cursor}


async def test_stories_are_listed_apart_from_posts(emulator: RunningEmulator, home: Path) -> None:
    native(emulator, "facebook", "A post", hours_ago=1)
    native(emulator, "facebook", "A story", hours_ago=2, data_type="stories")

    async with with_every_toolset(emulator, home) as client:
        stories = await succeed(client, PLATFORM_HISTORY, {"platform": "facebook", "dataType": "stories"})
        posts = await succeed(client, PLATFORM_HISTORY, {"platform": "facebook"})

    assert [post["post"] for post in stories["posts"]] == ["A story"]
    assert [post["post"] for post in posts["posts"]] == ["A post"]


async def test_a_cursor_from_elsewhere_is_refused_with_how_to_page(emulator: RunningEmulator, home: Path) -> None:
    for hours in (1, 2):
        native(emulator, "youtube", f"video {hours}", hours_ago=hours)

    async with with_every_toolset(emulator, home) as client:
        first = await succeed(client, PLATFORM_HISTORY, {"platform": "youtube", "limit": 1})
        elsewhere = await fail(
            client, PLATFORM_HISTORY, {"platform": "tiktok", "next": first["meta"]["pagination"]["next"]}
        )

    assert "HTTP 400" in elsewhere["error"]
    assert (
        "meta.pagination.next exactly as the previous page of this platform and dataType gave it" in elsewhere["error"]
    )


async def test_history_on_x_without_the_accounts_x_credentials_says_how_to_provide_them(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.x_credentials_required = True

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, PLATFORM_HISTORY, {"platform": "twitter"})

    assert "HTTP 419" in refused["error"]
    assert "X/Twitter API credentials" in refused["error"]


# --- what a plan without analytics is told ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [402, 403])
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [(POST_ANALYTICS, {"id": POST_ID, "platforms": ["facebook"]}), (SOCIAL_ANALYTICS, {"platforms": ["facebook"]})],
    ids=["post", "social"],
)
async def test_a_plan_without_analytics_is_told_the_plan_the_code_and_what_to_do(
    emulator: RunningEmulator, home: Path, status: int, tool: str, arguments: dict[str, Any]
) -> None:
    emulator.service.switches.analytics_refusal_status = status
    emulator.service.switches.analytics_refusal_code = 169

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, tool, arguments)

    assert f"HTTP {status}, code 169" in refused["error"]
    assert "needs the Premium plan or higher" in refused["error"]
    assert "check the plan in the Ayrshare dashboard" in refused["error"]
    assert refused["data"]["code"] == 169


async def test_platform_history_is_not_refused_for_the_plan(emulator: RunningEmulator, home: Path) -> None:
    emulator.service.switches.analytics_refusal_status = 403

    async with with_every_toolset(emulator, home) as client:
        history = await succeed(client, PLATFORM_HISTORY, {"platform": "threads"})

    assert history["posts"] == []


async def test_once_the_monthly_post_quota_is_spent_analytics_say_when_it_resets(
    emulator: RunningEmulator, home: Path
) -> None:
    post = emulator.seed_post(platforms=["facebook"])
    emulator.service.switches.monthly_post_quota = 0

    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, POST_ANALYTICS, {"id": post["id"], "platforms": ["facebook"]})

    assert "monthly post quota" in refused["error"]
    assert "analytics" in refused["error"]


# --- unknown posts -------------------------------------------------------------------------------------------------


async def test_an_unknown_ayrshare_post_id_says_where_post_ids_come_from(emulator: RunningEmulator, home: Path) -> None:
    async with with_every_toolset(emulator, home) as client:
        unknown = await fail(client, POST_ANALYTICS, {"id": "noSuchPost", "platforms": ["facebook"]})

    assert "HTTP 404, code 114" in unknown["error"]
    assert "AYRSHARE_GET_POST_HISTORY" in unknown["error"]
    assert "searchPlatformId: true" in unknown["error"]


async def test_an_unknown_network_post_id_points_to_the_networks_history(emulator: RunningEmulator, home: Path) -> None:
    arguments = {"id": "1234567890", "platforms": ["facebook"], "searchPlatformId": True}

    async with with_every_toolset(emulator, home) as client:
        unknown = await fail(client, POST_ANALYTICS, arguments)

    assert "HTTP 404" in unknown["error"]
    assert "the id the post has on facebook, as AYRSHARE_GET_PLATFORM_HISTORY lists it" in unknown["error"]


async def test_a_post_not_yet_published_there_has_no_analytics_and_ayrshare_says_why(
    emulator: RunningEmulator, home: Path
) -> None:
    post = emulator.seed_post(platforms=["linkedin"])

    async with with_every_toolset(emulator, home) as client:
        elsewhere = await fail(client, POST_ANALYTICS, {"id": post["id"], "platforms": ["facebook"]})

    assert "not published on facebook" in elsewhere["error"]


# --- bad arguments are refused before anything is sent ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "explained"),
    [
        (
            POST_ANALYTICS,
            {"id": "1234", "platforms": ["facebook", "instagram"], "searchPlatformId": True},
            "give exactly one platform",
        ),
        (POST_ANALYTICS, {"id": "has space", "platforms": ["facebook"]}, "printable ASCII characters, no spaces"),
        (POST_ANALYTICS, {"id": "abc", "platforms": ["x"]}, "'twitter'"),
        (POST_ANALYTICS, {"id": "abc", "platforms": ["facebook", "facebook"]}, "remove the duplicate facebook"),
        (SOCIAL_ANALYTICS, {"platforms": ["facebook"], "period60Days": True}, "add tiktok to platforms"),
        (SOCIAL_ANALYTICS, {"platforms": ["facebook"], "quarters": 5}, "'quarters'"),
        (SOCIAL_ANALYTICS, {"platforms": []}, "'platforms'"),
        (PLATFORM_HISTORY, {"platform": "reddit"}, "'youtube'"),
        (PLATFORM_HISTORY, {"platform": "facebook", "limit": 501}, "'limit'"),
        (PLATFORM_HISTORY, {"platform": "facebook", "next": ""}, "exactly as Ayrshare or the network gave it"),
        (PLATFORM_HISTORY, {"platform": "facebook", "dataType": "reels"}, "'stories'"),
    ],
    ids=[
        "searchPlatformId with two networks",
        "an id with a space",
        "X by another name",
        "a network twice",
        "sixty days without TikTok",
        "a fifth quarter",
        "no networks",
        "a network without history",
        "a page too large",
        "an empty cursor",
        "reels",
    ],
)
async def test_bad_arguments_are_explained_and_nothing_is_sent(
    emulator: RunningEmulator, home: Path, tool: str, arguments: dict[str, Any], explained: str
) -> None:
    async with with_every_toolset(emulator, home) as client:
        refused = await fail(client, tool, arguments)

    assert refused["error"].startswith(f"Invalid arguments for {tool}")
    assert explained in refused["error"]
    assert "Nothing was sent to Ayrshare." in refused["error"]
    assert emulator.app.requests == []


# --- the emulator's own answers ------------------------------------------------------------------------------------


@pytest.fixture
async def http(emulator: RunningEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_from(None, base_url=emulator.url + "/", headers=AUTH) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"id": "x", "platforms": "facebook"}, "platforms must be a non-empty array"),
        ({"id": "x", "platforms": ["myspace"]}, "platforms must be a non-empty array"),
        ({"id": "x", "platforms": [{"name": "facebook"}]}, "platforms must be a non-empty array"),
        ({"platforms": ["facebook"]}, "id (the post id) is required"),
        ({"id": "x", "platforms": ["facebook", "twitter"], "searchPlatformId": True}, "exactly one platform"),
    ],
)
async def test_the_emulator_refuses_post_analytics_ayrshare_would_refuse(
    http: httpx2.AsyncClient, body: dict[str, Any], message: str
) -> None:
    answer = await http.post("analytics/post", json=body)

    assert answer.status_code == 400
    assert message in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        ({"platforms": ["facebook"], "quarters": 0}, {}, "quarters must be a number from 1 to 4"),
        ({"platforms": ["facebook"], "quarters": True}, {}, "quarters must be a number from 1 to 4"),
        ({"platforms": ["facebook"], "daily": "yes"}, {}, "must be booleans"),
        ({"platforms": ["twitter"], "userName": "someone"}, {"Profile-Key": PROFILE_KEY}, "only with the API key"),
    ],
)
async def test_the_emulator_refuses_social_analytics_ayrshare_would_refuse(
    http: httpx2.AsyncClient, body: dict[str, Any], headers: dict[str, str], message: str
) -> None:
    answer = await http.post("analytics/social", json=body, headers=headers)

    assert answer.status_code == 400
    assert message in answer.json()["message"]


async def test_the_emulator_answers_x_analytics_by_user_name_for_the_api_key(http: httpx2.AsyncClient) -> None:
    answer = await http.post("analytics/social", json={"platforms": ["twitter"], "userName": "someone"})

    assert answer.status_code == 200
    assert "followersCount" in answer.json()["twitter"]["analytics"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("history/reddit", "not available for reddit"),
        ("history/facebook?limit=0", "limit must be between 1 and 500"),
        ("history/facebook?limit=ten", "limit must be between 1 and 500"),
        ("history/facebook?dataType=reels", "dataType must be posts or stories"),
        ("history/facebook?next=%25%25%25", "Invalid next cursor"),
        ("history/facebook?next=ZmFjZWJvb2s6cG9zdHM6eA", "Invalid next cursor"),
    ],
)
async def test_the_emulator_refuses_history_ayrshare_would_refuse(
    http: httpx2.AsyncClient, path: str, message: str
) -> None:
    answer = await http.get(path)

    assert answer.status_code == 400
    assert message in answer.json()["message"]


async def test_a_deleted_post_leaves_the_networks_history(emulator: RunningEmulator, http: httpx2.AsyncClient) -> None:
    kept = emulator.seed_post(text="kept", platforms=["linkedin"])
    gone = emulator.seed_post(text="gone", platforms=["linkedin"])
    await http.request("DELETE", "post", json={"id": gone["id"]})

    listed = (await http.get("history/linkedin")).json()["posts"]

    assert [post["id"] for post in listed] == [f"linkedin-{kept['id']}"]


async def test_the_emulator_default_page_is_ten_posts(emulator: RunningEmulator, http: httpx2.AsyncClient) -> None:
    for minutes in range(11):
        native(emulator, "pinterest", f"pin {minutes}", hours_ago=minutes / 60)

    page = (await http.get("history/pinterest")).json()

    assert len(page["posts"]) == 10
    assert page["meta"]["pagination"]["next"]


# --- the SDK as oracle -------------------------------------------------------------------------------------------


def _published(emulator: RunningEmulator, profile_key: str | None) -> None:
    emulator.seed_post(profile_key=profile_key, post_id=POST_ID, platforms=["twitter", "facebook"])


SDK_ORACLE = [
    Operation(
        "post analytics by Ayrshare id",
        lambda sdk: sdk.analyticsPost({"id": POST_ID, "platforms": ["twitter", "facebook"]}),
        POST_ANALYTICS,
        {"id": POST_ID, "platforms": ["twitter", "facebook"]},
        prepare=_published,
    ),
    Operation(
        "post analytics by a network's own id",
        lambda sdk: sdk.analyticsPost({"id": "1234567890", "platforms": ["facebook"], "searchPlatformId": True}),
        POST_ANALYTICS,
        {"id": "1234567890", "platforms": ["facebook"], "searchPlatformId": True},
    ),
    Operation(
        "account analytics with every option",
        lambda sdk: sdk.analyticsSocial(
            {"platforms": ["tiktok", "instagram"], "quarters": 4, "daily": True, "period60Days": True}
        ),
        SOCIAL_ANALYTICS,
        {"platforms": ["tiktok", "instagram"], "quarters": 4, "daily": True, "period60Days": True},
    ),
]

SDK_ORACLE_EXEMPT = {
    PLATFORM_HISTORY: (
        "Ayrshare's SDK (social-post-api 1.3.0) has no GET /history/:platform: its history() reaches only /history "
        "and /history/{id}. The oracle is the reference gathered for issue 17 (ayrshare-engagement-api.md, 'History "
        "by platform', from Ayrshare's plugin skills/history/references/schemas.md): the path names one of ten "
        "networks; limit (1-500), next and dataType go in the query; the next page's cursor comes back in "
        "meta.pagination.next. test_platform_history_pages_through_next_exactly_as_ayrshare_gave_it checks the "
        "request against it."
    ),
}
