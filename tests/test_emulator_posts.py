"""The emulator's publishing workflow answers as Ayrshare documents it; checked with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from tests.support import API_KEY, PROFILE_KEY, RunningEmulator, client_from

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {API_KEY}"}
LINKEDIN = {"post": "Hello world", "platforms": ["linkedin"]}


@pytest.fixture
async def http(emulator: RunningEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_from(None, base_url=emulator.url + "/", headers=AUTH) as client:
        yield client


async def create(http: httpx2.AsyncClient, **body: Any) -> httpx2.Response:
    return await http.post("post", json={**LINKEDIN, **body})


async def test_a_created_post_appears_in_history_and_by_id(http: httpx2.AsyncClient) -> None:
    created = (await create(http)).json()

    history = (await http.get("history")).json()["history"]
    by_id = (await http.get(f"post/{created['id']}")).json()

    assert created["status"] == "success"
    assert [entry["platform"] for entry in created["postIds"]] == ["linkedin"]
    assert history[0]["id"] == created["id"]
    assert (by_id["post"], by_id["status"], by_id["scheduleDate"]) == ("Hello world", "success", by_id["created"])


async def test_a_network_that_fails_makes_the_whole_post_an_error_naming_each_network(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    emulator.service.switches.failing_platforms = ["facebook"]

    answer = await create(http, platforms=["linkedin", "facebook", "youtube"])

    body = answer.json()
    assert answer.status_code == 400
    assert body["status"] == "error"
    assert [entry["platform"] for entry in body["postIds"]] == ["linkedin"]
    assert [(error["platform"], error["code"]) for error in body["errors"]] == [("facebook", 137), ("youtube", 156)]
    assert body["errors"][0]["retryAvailable"] is True


async def test_approval_holds_a_post_until_it_is_approved(http: httpx2.AsyncClient) -> None:
    held = (await create(http, requiresApproval=True)).json()
    before = (await http.get(f"post/{held['id']}")).json()["status"]
    approved = await http.put("post", json={"id": held["id"], "approved": True})
    again = await http.patch("post", json={"id": held["id"], "approved": True})

    assert (held["status"], before) == ("awaiting approval", "awaiting approval")
    assert approved.json()["postStatus"] == "success"
    assert again.status_code == 400


async def test_a_failed_post_is_retried_once_and_is_pending_meanwhile(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    emulator.service.switches.failing_platforms = ["linkedin"]
    failed = (await create(http)).json()

    first = await http.put("post/retry", json={"id": failed["id"]})
    second = await http.put("post/retry", json={"id": failed["id"]})

    assert first.json()["postStatus"] == "pending"
    assert (await http.get(f"post/{failed['id']}")).json()["status"] == "pending"
    assert second.status_code == 400


async def test_a_scheduled_post_can_be_rescheduled_and_annotated(http: httpx2.AsyncClient) -> None:
    scheduled = (await create(http, scheduleDate="2030-01-01T09:00:00Z")).json()

    await http.put("post", json={"id": scheduled["id"], "scheduleDate": "2030-02-01T09:00:00Z", "notes": "moved"})

    post = (await http.get(f"post/{scheduled['id']}")).json()
    assert (scheduled["status"], post["status"]) == ("scheduled", "pending")
    assert (post["scheduleDate"], post["notes"]) == ("2030-02-01T09:00:00Z", "moved")


async def test_validation_sends_nothing_and_warns_of_unlinked_networks(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    passed = (await http.post("validate/post", json={**LINKEDIN, "platforms": ["linkedin", "youtube"]})).json()
    failed = await http.post("validate/post", json={**LINKEDIN, "mediaUrls": ["http://insecure.example/a.png"]})

    assert passed["status"] == "success"
    assert [warning["platform"] for warning in passed["warnings"]] == ["youtube"]
    assert (failed.status_code, failed.json()["code"]) == (400, 136)
    assert emulator.service.profile(API_KEY, None).posts == []


@pytest.mark.parametrize(("mode", "second_status"), [("reject", 400), ("replay", 200)])
async def test_a_repeated_idempotency_key_follows_the_switch(
    emulator: RunningEmulator, http: httpx2.AsyncClient, mode: str, second_status: int
) -> None:
    emulator.service.switches.idempotency_repeat = mode  # type: ignore[assignment]

    first = await create(http, idempotencyKey="key-1")
    second = await create(http, idempotencyKey="key-1")

    assert second.status_code == second_status
    assert len(emulator.service.profile(API_KEY, None).posts) == 1
    if mode == "replay":
        assert second.json() == first.json()


async def test_a_post_for_a_user_profile_is_wrapped_and_profiles_are_listed_without_keys(
    http: httpx2.AsyncClient,
) -> None:
    wrapped = (await http.post("post", json=LINKEDIN, headers={"Profile-Key": PROFILE_KEY})).json()
    profiles = (await http.get("profiles")).json()

    assert wrapped["status"] == "success"
    assert wrapped["posts"][0]["postIds"][0]["platform"] == "linkedin"
    [listed] = profiles["profiles"]
    assert listed["title"].startswith("Profile ")
    assert not any(PROFILE_KEY[-n:] in str(profiles) for n in (4, 6, 8))


async def test_an_unknown_post_id_is_404_with_code_114(http: httpx2.AsyncClient) -> None:
    answer = await http.get("post/nothingHere")

    assert (answer.status_code, answer.json()["code"]) == (404, 114)


async def test_a_post_counts_against_the_monthly_quota_when_it_publishes_not_when_it_is_scheduled(
    emulator: RunningEmulator, http: httpx2.AsyncClient
) -> None:
    emulator.service.switches.monthly_post_quota = 1

    scheduled = await create(http, scheduleDate="2099-01-01T00:00:00Z")
    held = await create(http, requiresApproval=True)
    now = await create(http)
    spent = await create(http)
    delete = await http.request("DELETE", "post", json={"id": scheduled.json()["id"]})

    assert [answer.status_code for answer in (scheduled, held, now)] == [200, 200, 200]
    assert (spent.status_code, spent.json()["code"]) == (429, 106)
    assert (delete.status_code, delete.json()["code"]) == (429, 106), "once spent, deletes are refused too"
