"""The emulator answers like Ayrshare does, as the reference documents it; checked with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, posts
from ayrshare_mcp.emulator.ayrshare import XHeaders
from tests.support import API_KEY, PROFILE_KEY, RunningEmulator, client_from

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
async def http(emulator: RunningEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_from(None, base_url=emulator.url + "/", headers=AUTH) as client:
        yield client


async def test_every_answer_carries_the_rate_limit_headers_and_429_follows_the_budget(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    emulator.service.switches.rate_limit = 2
    emulator.service.switches.retry_after_seconds = 30

    answers = [await http.get("user") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ratelimit-count"] for a in answers] == ["1", "2", "2"]
    assert all(a.headers["x-ratelimit-max"] == "2" for a in answers)
    assert answers[2].headers["retry-after"] == "30"
    assert answers[2].json()["status"] == "error"


async def test_the_rate_limit_is_counted_per_profile(emulator: RunningEmulator, http: httpx2.AsyncClient) -> None:
    emulator.service.switches.rate_limit = 1

    primary = await http.get("user")
    profile = await http.get("user", headers={"Profile-Key": PROFILE_KEY})

    assert (primary.status_code, profile.status_code) == (200, 200)


@pytest.mark.parametrize("status", [401, 403])
async def test_an_unknown_key_is_code_102_with_the_switched_status(emulator: RunningEmulator, status: int) -> None:
    emulator.service.switches.auth_failure_status = status

    async with client_from(None, base_url=emulator.url + "/") as client:
        unknown = await client.get("history", headers={"Authorization": "Bearer nope"})
        missing = await client.get("history")

    assert (unknown.status_code, unknown.json()["code"]) == (status, 102)
    assert (missing.status_code, missing.json()["code"]) == (status, 102)


async def test_schedules_are_listed_by_title_and_echo_what_was_stored(http: httpx2.AsyncClient) -> None:
    empty = await http.get("auto-schedule/list")
    created = await http.post(
        "auto-schedule/set",
        json={"schedule": ["22:14z", "13:05Z"], "title": "Instagram Schedule", "daysOfWeek": [1, 3],
              "excludeDates": ["04/04/2024"], "source": "pypi"},
    )  # fmt: skip
    listing = await http.get("auto-schedule")

    assert (empty.status_code, empty.json()["code"]) == (400, 192)
    assert created.json() == {
        "status": "success",
        "message": "Auto schedule set.",
        "title": "Instagram Schedule",
        "schedule": ["13:05Z", "22:14Z"],
        "daysOfWeek": [1, 3],
        "excludeDates": ["04/04/2024"],
    }
    assert listing.json()["schedules"] == {
        "Instagram Schedule": {"schedule": ["13:05Z", "22:14Z"], "daysOfWeek": [1, 3], "excludeDates": ["04/04/2024"]}
    }


async def test_each_profile_has_its_own_schedules(http: httpx2.AsyncClient) -> None:
    await http.post("auto-schedule/set", json={"schedule": ["10:00Z"]}, headers={"Profile-Key": PROFILE_KEY})

    primary = await http.get("auto-schedule/list")
    profile = await http.get("auto-schedule/list", headers={"Profile-Key": PROFILE_KEY})

    assert primary.json()["code"] == 192
    assert list(profile.json()["schedules"]) == ["default"]


@pytest.mark.parametrize(
    "body",
    [{"schedule": ["24:00Z"]}, {"schedule": []}, {"schedule": ["10:00Z"], "title": "a*b"}, {"title": "x"}],
)
async def test_a_malformed_schedule_is_a_400_error(http: httpx2.AsyncClient, body: dict[str, Any]) -> None:
    answer = await http.post("auto-schedule/set", json=body)

    assert answer.status_code == 400
    assert answer.json()["status"] == "error"


async def test_auto_scheduled_posts_fill_the_next_free_slots_and_deleting_does_not_free_one() -> None:
    monday_ten = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    service = Ayrshare(clock=lambda: monday_ten)
    profile = service.profile(API_KEY, None)
    service.set_auto_schedule(profile, {"schedule": ["09:00Z", "17:00Z"], "daysOfWeek": [1, 2, 3]})

    def publish() -> str:
        body = {"post": "hi", "platforms": ["linkedin"], "autoSchedule": {"schedule": True}}
        reply = posts.create_post(service, profile, body, XHeaders(), wrap=False)
        return str(reply.body["scheduleDate"])

    first, second = publish(), publish()
    service.delete_post(profile, {"id": profile.posts[0]["id"]})
    third = publish()

    assert (first, second, third) == ("2026-11-30T17:00:00Z", "2026-12-01T09:00:00Z", "2026-12-01T17:00:00Z")


async def test_history_hides_deleted_posts_unless_asked_and_filters_by_platform_in_any_encoding(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    kept = emulator.seed_post(platforms=["linkedin"])
    gone = emulator.seed_post(platforms=["twitter"])
    await http.request("DELETE", "post", json={"id": gone["id"]})

    def ids(answer: httpx2.Response) -> list[str]:
        return [post["id"] for post in answer.json()["history"]]

    assert ids(await http.get("history")) == [kept["id"]]
    assert ids(await http.get("history", params={"status": "deleted"})) == [gone["id"]]
    for params in ({"platforms[0]": "linkedin"}, {"platforms": "facebook,linkedin"}, {"platforms": ["linkedin"]}):
        assert ids(await http.get("history", params=params)) == [kept["id"]]
    missing = await http.get("history", params={"platforms[0]": "youtube"})
    assert missing.status_code == 400
    assert missing.json() == {
        "history": {"code": 221, "action": "get", "status": "error", "message": "History not found."},
        "count": 0,
    }


async def test_history_honours_its_window_and_limit(emulator: RunningEmulator, http: httpx2.AsyncClient) -> None:
    now = datetime.now(UTC)
    old = emulator.seed_post(created=now - timedelta(days=40))
    recent = [emulator.seed_post(created=now - timedelta(days=day)) for day in (3, 2, 1)]

    default_window = (await http.get("history")).json()["history"]
    everything = (await http.get("history", params={"lastDays": 0})).json()["history"]
    limited = (await http.get("history", params={"lastDays": 0, "limit": 2})).json()["history"]

    assert [post["id"] for post in default_window] == [post["id"] for post in reversed(recent)]
    assert everything[-1]["id"] == old["id"]
    assert len(limited) == 2


async def test_deleting_a_published_instagram_post_follows_the_switch(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    refused_post = emulator.seed_post(platforms=["instagram"])
    allowed_post = emulator.seed_post(platforms=["tiktok"])

    refused = await http.request("DELETE", "post", json={"id": refused_post["id"]})
    manual = await http.request("DELETE", "post", json={"id": refused_post["id"], "markManualDeleted": True})
    emulator.service.switches.published_ig_tiktok_delete = "allow"
    allowed = await http.request("DELETE", "delete", json={"id": allowed_post["id"]})
    again = await http.request("DELETE", "post", json={"id": allowed_post["id"]})

    assert refused.status_code == 400
    assert "markManualDeleted" in refused.json()["message"]
    assert manual.json() == {"status": "success", "id": refused_post["id"], "code": 200}
    assert allowed.json()["tiktok"]["status"] == "success"
    assert (again.status_code, again.json()["code"]) == (400, 383)


async def test_bulk_deletes_only_pending_posts(emulator: RunningEmulator, http: httpx2.AsyncClient) -> None:
    pending = emulator.seed_post(schedule_date=datetime.now(UTC) + timedelta(days=1))
    published = emulator.seed_post()

    answer = await http.request("DELETE", "post", json={"bulk": [pending["id"], published["id"], "nope"]})

    assert [(item["id"], item["status"]) for item in answer.json()["bulk"]] == [
        (pending["id"], "success"),
        (published["id"], "error"),
        ("nope", "error"),
    ]


async def test_faults_and_the_request_log_are_reachable_over_http(emulator: RunningEmulator) -> None:
    async with client_from(None, base_url=emulator.url.removesuffix("/api")) as control:
        await control.post("/__emulator__/faults", json={"status": 503, "path": "/user", "times": 1})
        faulted = await control.get("/api/user", headers=AUTH)
        healthy = await control.get("/api/user", headers=AUTH)
        log = (await control.get("/__emulator__/requests")).json()
        bad = await control.post("/__emulator__/config", json={"no_such_switch": 1})

    assert (faulted.status_code, healthy.status_code) == (503, 200)
    assert [entry["path"] for entry in log] == ["/api/user", "/api/user"]
    assert bad.status_code == 400


async def test_the_emulator_runs_in_memory_without_a_socket() -> None:
    app = EmulatorApp()
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox/api/", headers=AUTH) as client:
        answer = await client.get("user")

    assert answer.status_code == 200
    assert answer.json()["title"] == "Primary Profile"


async def test_with_the_x_switch_on_x_bound_operations_need_both_x_headers(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    emulator.service.switches.x_credentials_required = True
    x_post = emulator.seed_post(platforms=["twitter"])
    other = emulator.seed_post(platforms=["linkedin"])
    pair = {"X-Twitter-OAuth1-Api-Key": "k", "X-Twitter-OAuth1-Api-Secret": "s"}

    listing = await http.get("history")
    delete = await http.request("DELETE", "post", json={"id": x_post["id"]})
    half = await http.request("DELETE", "post", json={"id": x_post["id"]}, headers={"X-Twitter-OAuth1-Api-Key": "k"})
    not_x = await http.get("history", params={"platforms[0]": "linkedin"})
    with_pair = await http.request("DELETE", "post", json={"id": x_post["id"]}, headers=pair)

    assert (listing.status_code, listing.json()["code"], listing.json()["action"]) == (
        419,
        419,
        "x_credentials_required",
    )
    assert delete.status_code == 419
    assert half.status_code == 400
    assert "X-Twitter-OAuth1-Api-Secret" in half.json()["message"]
    assert [post["id"] for post in not_x.json()["history"]] == [other["id"]]
    assert with_pair.json()["status"] == "success"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "said"),
    [
        ("POST", "auto-schedule/set", {"schedule": ["09:00Z"], "daysOfWeek": [9]}, 400, "daysOfWeek"),
        ("POST", "auto-schedule/set", {"schedule": ["09:00Z"], "excludeDates": [1]}, 400, "excludeDates"),
        ("POST", "auto-schedule/set", {"schedule": ["09:00Z"], "setStartDate": "soon"}, 400, "setStartDate"),
        ("POST", "auto-schedule/set", [1, 2], 400, "JSON object"),
        ("POST", "post", {"post": "hi"}, 400, "platforms"),
        ("POST", "post", {"post": "hi", "platforms": ["x"]}, 400, "Unknown platform"),
        ("POST", "post", {"post": "hi", "platforms": ["linkedin"], "autoSchedule": {"schedule": True, "title": "no"}},
         400, "not found"),
        ("DELETE", "post", {}, 400, "Missing id"),
        ("DELETE", "auto-schedule/delete", {"title": "nope"}, 404, "not found"),
        ("GET", "history?status=lost", None, 400, "Unknown status"),
        ("GET", "history?limit=0", None, 400, "limit"),
        ("GET", "history?lastDays=soon", None, 400, "lastDays"),
        ("PATCH", "nowhere", None, 404, "No endpoint"),
    ],
)  # fmt: skip
async def test_malformed_requests_get_ayrshares_error_shape(
    http: httpx2.AsyncClient, method: str, path: str, body: Any, status: int, said: str
) -> None:
    answer = await http.request(method, path, json=body)

    assert answer.status_code == status
    assert answer.json()["status"] == "error"
    assert said in answer.json()["message"]


async def test_a_body_that_is_not_json_is_refused_after_authentication(http: httpx2.AsyncClient) -> None:
    refused = await http.post("auto-schedule/set", content=b"{not json", headers={"Content-Type": "application/json"})
    unauthenticated = await http.post("auto-schedule/set", content=b"{not json", headers={"Authorization": "Basic x"})

    assert (refused.status_code, refused.json()["message"]) == (400, "The request body is not valid JSON.")
    assert unauthenticated.json()["code"] == 102


async def test_posts_are_created_now_at_a_date_or_in_an_auto_schedules_next_slot(http: httpx2.AsyncClient) -> None:
    await http.post("auto-schedule/set", json={"schedule": ["09:00Z"], "title": "mornings"})

    now = (await http.post("post", json={"post": "now", "platforms": ["linkedin"]})).json()
    later = (
        await http.post(
            "post", json={"post": "later", "platforms": ["linkedin"], "scheduleDate": "2030-01-01T09:00:00Z"}
        )
    ).json()
    slotted = (
        await http.post(
            "post",
            json={"post": "slot", "platforms": ["linkedin"], "autoSchedule": {"schedule": True, "title": "mornings"}},
        )
    ).json()
    removed = await http.request("DELETE", "auto-schedule/delete", json={"title": "mornings"})

    assert now["status"] == "success"
    assert (later["status"], later["scheduleDate"]) == ("scheduled", "2030-01-01T09:00:00Z")
    assert slotted["scheduleDate"].endswith("T09:00:00Z")
    assert removed.json() == {"status": "success", "title": "mornings"}


async def test_the_control_endpoints_set_switches_add_latency_and_reset(emulator: RunningEmulator) -> None:
    async with client_from(None, base_url=emulator.url.removesuffix("/api")) as control:
        configured = await control.post("/__emulator__/config", json={"latency": 0.01, "rate_limit": 5})
        emulator.seed_post()
        reset = await control.post("/__emulator__/reset", json={})
        missing = await control.get("/__emulator__/nothing")

    assert configured.json()["switches"]["rate_limit"] == 5
    assert reset.json() == {"reset": True}
    assert (emulator.app.latency, emulator.service.switches.rate_limit, emulator.service.profiles) == (0.0, 300, {})
    assert missing.status_code == 404
