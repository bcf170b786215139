"""Confirmations (bulk deletes, posts going public now) that nobody can skip, forge, replay or answer for someone else.

The attacks are made as a client would make them: the SDK client where it can express them, raw JSON-RPC over a
real HTTP server process where it cannot (a forged or replayed requestState, another caller's session).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from ayrshare_mcp.server import build_server
from tests.envelope import call, fail, succeed
from tests.modern import RawModernClient, the_question_was_asked
from tests.support import (
    API_KEY,
    OTHER_API_KEY,
    WAIT,
    RunningEmulator,
    User,
    client_from,
    http_session,
    one_emulator_per_module,
    server_env,
    serving_here,
    settings_for,
)

pytestmark = pytest.mark.anyio

DELETE = "AYRSHARE_DELETE_DELETE_POST"
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 and the 2025-11-25 handshake
BULK_FORMS = pytest.mark.parametrize("form", ["bulk", "deleteAllScheduled"])
NOBODY = "this client cannot ask one"


# One emulator and one server process for the raw 2026-07-28 attacks; each test starts from a reset emulator.
anyio_backend, emulator = one_emulator_per_module()


def pending_posts(emulator: RunningEmulator, count: int, api_key: str = API_KEY) -> list[str]:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    return [
        emulator.seed_post(api_key=api_key, schedule_date=tomorrow + timedelta(hours=n))["id"] for n in range(count)
    ]


def arguments(form: str, ids: list[str]) -> dict[str, Any]:
    return {"bulk": ids} if form == "bulk" else {"deleteAllScheduled": True}


def deletes(emulator: RunningEmulator) -> list[Any]:
    return [request.body for request in emulator.app.received("/post", method="DELETE")]


# --- who is asked, and what happens when nobody can be ---------------------------------------------------------


@ERAS
@BULK_FORMS
async def test_a_bulk_delete_asks_first_and_deletes_only_after_yes(
    emulator: RunningEmulator, home: Path, mode: str, form: str
) -> None:
    ids = pending_posts(emulator, 2)
    person = User()

    with anyio.fail_after(WAIT):
        server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))
        async with Client(server, mode=mode, elicitation_callback=person) as client:
            await succeed(client, DELETE, arguments(form, ids))

    assert len(person.questions) == 1
    assert deletes(emulator) == [arguments(form, ids)]


@ERAS
@BULK_FORMS
async def test_a_client_that_cannot_ask_a_person_is_refused_and_nothing_is_sent(
    emulator: RunningEmulator, home: Path, mode: str, form: str
) -> None:
    ids = pending_posts(emulator, 2)

    with anyio.fail_after(WAIT):
        async with Client(build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)), mode=mode) as client:
            refused = await fail(client, DELETE, arguments(form, ids))

    assert NOBODY in refused["error"]
    assert "one at a time by id" in refused["error"]
    assert "AYRSHARE_ALLOW_UNCONFIRMED_DELETES=1" in refused["error"]
    assert emulator.app.requests == []


@ERAS
async def test_the_operator_can_allow_bulk_deletes_when_nobody_can_be_asked(
    emulator: RunningEmulator, home: Path, mode: str
) -> None:
    ids = pending_posts(emulator, 2)
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_ALLOW_UNCONFIRMED_DELETES="1")

    with anyio.fail_after(WAIT):
        async with Client(build_server(settings), mode=mode) as client:
            await succeed(client, DELETE, {"bulk": ids})

    assert deletes(emulator) == [{"bulk": ids}]


async def test_with_the_operators_switch_a_person_who_can_be_asked_still_is(
    emulator: RunningEmulator, home: Path
) -> None:
    pending_posts(emulator, 1)
    settings = settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY, AYRSHARE_ALLOW_UNCONFIRMED_DELETES="1")

    with anyio.fail_after(WAIT):
        async with Client(build_server(settings), elicitation_callback=User("decline", False)) as client:
            await fail(client, DELETE, {"deleteAllScheduled": True})

    assert emulator.app.requests == []


@ERAS
async def test_deleting_one_post_by_id_asks_nobody(emulator: RunningEmulator, home: Path, mode: str) -> None:
    post = emulator.seed_post()

    with anyio.fail_after(WAIT):
        async with Client(build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY)), mode=mode) as client:
            await succeed(client, DELETE, {"id": post["id"]})

    assert deletes(emulator) == [{"id": post["id"]}]


@pytest.mark.parametrize(
    ("operator", "tool"),
    [
        ({}, DELETE),
        ({"AYRSHARE_ALLOW_UNCONFIRMED_DELETES": "1"}, DELETE),
        ({"AYRSHARE_PUBLISH": "direct", "AYRSHARE_TOOLSETS": "all"}, "AYRSHARE_CREATE_POST"),
    ],
    ids=["bulk delete", "bulk delete, allowed unasked", "post, published directly"],
)
async def test_a_stateless_server_that_forgot_what_a_legacy_client_declared_refuses_instead_of_skipping_the_question(
    emulator: RunningEmulator, home: Path, operator: dict[str, str], tool: str
) -> None:
    # Observed before: the declined question was never put and the posts were deleted; with the operator's
    # switches on, a client that could have asked was treated as one that cannot, and it acted unasked.
    arguments = {"bulk": pending_posts(emulator, 2)} if tool == DELETE else {"post": "Hi", "platforms": ["linkedin"]}
    emulator.app.requests.clear()
    person = User("decline", False)
    env = server_env(emulator, home, AYRSHARE_API_KEY=API_KEY, **operator)

    with anyio.fail_after(WAIT):
        async with (
            serving_here(["--transport", "streamable-http", "--stateless"], env) as (_, url, _),
            http_session(url, mode="legacy", elicitation=person) as client,
        ):
            refused = await fail(client, tool, arguments)

    assert "cannot tell whether your client can ask" in refused["error"]
    assert "sticky sessions" in refused["error"]
    assert [request.path for request in emulator.app.requests if request.method != "GET"] == []


# --- the 2026-07-28 requestState: sealed, bound, short-lived, used once ----------------------------------------


@pytest.fixture(scope="module")
async def modern_server(module_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Any:
    env = server_env(module_emulator, tmp_path_factory.mktemp("home"), AYRSHARE_API_KEY=API_KEY)
    command = ["--transport", "streamable-http", "--toolsets", "all"]
    async with serving_here(command, env) as (_, url, log), client_from(None) as http:
        yield http, url, log


async def test_a_request_state_computed_offline_is_refused_and_nothing_is_deleted(
    emulator: RunningEmulator, modern_server: Any
) -> None:
    http, url, _ = modern_server
    ids = pending_posts(emulator, 2)
    args = {"bulk": ids}
    question = f"Delete 2 Ayrshare posts ({ids[0]}, {ids[1]})? This cannot be undone."
    # The old state was public arithmetic: sha256 of the tool, its arguments and the question.
    canonical = json.dumps([DELETE, args, question], sort_keys=True, default=str)
    forged = "confirm-v1:" + hashlib.sha256(canonical.encode()).hexdigest()

    refused = await RawModernClient(http, url).answer(DELETE, args, forged)

    assert refused["error"]["message"] == "Invalid or expired requestState"
    assert deletes(emulator) == []


async def test_a_tampered_request_state_is_refused(emulator: RunningEmulator, modern_server: Any) -> None:
    http, url, _ = modern_server
    client = RawModernClient(http, url)
    args = {"bulk": pending_posts(emulator, 1)}
    state = the_question_was_asked(await client.call(DELETE, args))

    refused = await client.answer(DELETE, args, state[:-2] + ("AA" if not state.endswith("AA") else "BB"))

    assert refused["error"]["message"] == "Invalid or expired requestState"
    assert deletes(emulator) == []


async def test_an_approval_is_used_once_and_cannot_be_replayed_against_new_posts(
    emulator: RunningEmulator, modern_server: Any
) -> None:
    http, url, _ = modern_server
    client = RawModernClient(http, url)
    args = {"deleteAllScheduled": True}
    pending_posts(emulator, 2)
    state = the_question_was_asked(await client.call(DELETE, args))

    first = await client.answer(DELETE, args, state)
    later = pending_posts(emulator, 2)
    replayed = await client.answer(DELETE, args, state)

    assert first["result"]["structuredContent"]["successful"] is True
    assert replayed["result"]["resultType"] == "input_required", "a replayed approval must be asked again"
    assert deletes(emulator) == [args]
    assert all(post["status"] == "pending" for post in emulator.service.profile(API_KEY, None).posts[:2])
    assert {post["id"] for post in emulator.service.profile(API_KEY, None).posts[:2]} == set(later)


async def test_an_approval_for_one_account_does_not_work_for_another(
    emulator: RunningEmulator, modern_server: Any
) -> None:
    http, url, _ = modern_server
    args = {"deleteAllScheduled": True}
    pending_posts(emulator, 1)
    pending_posts(emulator, 1, api_key=OTHER_API_KEY)
    state = the_question_was_asked(await RawModernClient(http, url).call(DELETE, args))

    other_tenant = RawModernClient(http, url, {"X-Ayrshare-Api-Key": OTHER_API_KEY})
    refused = await other_tenant.answer(DELETE, args, state)

    assert refused["error"]["message"] == "Invalid or expired requestState"
    assert deletes(emulator) == []


async def test_an_approval_binds_the_exact_arguments(emulator: RunningEmulator, modern_server: Any) -> None:
    http, url, _ = modern_server
    client = RawModernClient(http, url)
    asked, other = pending_posts(emulator, 2)
    state = the_question_was_asked(await client.call(DELETE, {"bulk": [asked]}))

    refused = await client.answer(DELETE, {"bulk": [other]}, state)

    assert refused["error"]["message"] == "Invalid or expired requestState"
    assert deletes(emulator) == []


async def test_a_yes_to_publishing_one_text_cannot_publish_another(
    emulator: RunningEmulator, modern_server: Any
) -> None:
    http, url, _ = modern_server
    client = RawModernClient(http, url)
    shown = {"post": "We are hiring!", "platforms": ["linkedin"]}
    state = the_question_was_asked(await client.call("AYRSHARE_CREATE_POST", shown))

    swapped = await client.answer("AYRSHARE_CREATE_POST", shown | {"post": "Something nobody read"}, state)
    widened = await client.answer("AYRSHARE_CREATE_POST", shown | {"platforms": ["linkedin", "facebook"]}, state)

    assert swapped["error"]["message"] == widened["error"]["message"] == "Invalid or expired requestState"
    assert emulator.app.received("/api/post", method="POST") == []


# --- another caller answering a pending confirmation -----------------------------------------------------------


async def test_another_caller_cannot_answer_a_confirmation_meant_for_someone_else(
    emulator: RunningEmulator, home: Path
) -> None:
    # Caller B holds the shared token but not A's key, and answers the question put to A, in A's session.
    token = "CANARY-SHARED-TOKEN-4f8a2c6e1b3d"
    env = server_env(emulator, home, AYRSHARE_MCP_TOKEN=token)
    ids = pending_posts(emulator, 2)
    asked = anyio.Event()
    release = anyio.Event()
    seen: dict[str, Any] = {}

    async def victim(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        seen["request_id"] = context.request_id
        asked.set()
        await release.wait()
        return ElicitResult(action="decline")

    a_headers = {"Authorization": f"Bearer {token}", "X-Ayrshare-Api-Key": API_KEY}
    with anyio.fail_after(WAIT):
        async with serving_here(["--transport", "streamable-http"], env) as (_, url, log):
            session_ids: list[str] = []
            async with http_session(
                url, headers=a_headers, mode="legacy", elicitation=victim, session_ids=session_ids
            ) as a:
                result: dict[str, Any] = {}

                async def a_deletes() -> None:
                    result["a"] = await fail(a, DELETE, {"bulk": ids})

                async with anyio.create_task_group() as tg:
                    tg.start_soon(a_deletes)
                    await asked.wait()
                    session_id = session_ids[0]
                    accept = {"action": "accept", "content": {"confirm": True}}
                    answer = {"jsonrpc": "2.0", "id": seen["request_id"], "result": accept}
                    async with client_from(None) as b:
                        hijack = await b.post(
                            url + "/mcp",
                            json=answer,
                            headers={
                                "Authorization": f"Bearer {token}",
                                "X-Ayrshare-Api-Key": OTHER_API_KEY,
                                "Mcp-Session-Id": session_id,
                                "MCP-Protocol-Version": "2025-11-25",
                                "Accept": "application/json, text/event-stream",
                            },
                        )
                    release.set()

    assert hijack.status_code == 404
    assert deletes(emulator) == []
    assert result["a"]["error"].startswith("Nothing was deleted: the user declined")
    assert session_id not in log.decode()


# --- what a bulk delete reports ----------------------------------------------------------------------------------


async def bulk_delete(emulator: RunningEmulator, home: Path, ids: list[str]) -> dict[str, Any]:
    with anyio.fail_after(WAIT):
        server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))
        async with Client(server, elicitation_callback=User()) as client:
            return await call(client, DELETE, {"bulk": ids})


async def test_a_bulk_delete_succeeds_only_when_every_post_was_deleted(emulator: RunningEmulator, home: Path) -> None:
    ids = pending_posts(emulator, 3)

    envelope = await bulk_delete(emulator, home, ids)

    assert envelope["successful"] is True


async def test_a_bulk_delete_where_every_id_failed_is_an_error_naming_each_with_its_code(
    emulator: RunningEmulator, home: Path
) -> None:
    published = emulator.seed_post()["id"]

    envelope = await bulk_delete(emulator, home, ["unknownPost1", published])

    assert envelope["successful"] is False
    assert envelope["error"].startswith("Deleted 0 of 2 posts.")
    assert "unknownPost1 (code 114: Post not found" in envelope["error"]
    assert f"{published} (Only pending scheduled posts are deleted in bulk.)" in envelope["error"]
    assert envelope["data"]["status"] == "success", "Ayrshare's own overall status is kept as it said it"


async def test_a_partly_done_bulk_delete_names_what_was_deleted_and_what_was_not(
    emulator: RunningEmulator, home: Path
) -> None:
    pending = pending_posts(emulator, 2)

    envelope = await bulk_delete(emulator, home, [*pending, "unknownPost1"])

    assert envelope["successful"] is False
    assert envelope["error"].startswith(f"Deleted 2 of 3 posts. Deleted: {pending[0]}, {pending[1]}. Not deleted:")
    assert "unknownPost1 (code 114" in envelope["error"]


async def test_a_bulk_answer_that_does_not_say_which_posts_went_is_not_called_a_success(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.service.switches.bulk_answer = "summary"
    ids = pending_posts(emulator, 2)

    envelope = await bulk_delete(emulator, home, ids)

    assert envelope["successful"] is False
    assert "did not say which were deleted" in envelope["error"]
    assert "status=deleted" in envelope["error"]


async def test_more_than_100_ids_are_refused_before_anything_is_sent_or_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    person = User()
    ids = [f"post{number}" for number in range(101)]

    with anyio.fail_after(WAIT):
        server = build_server(settings_for(emulator, home, AYRSHARE_API_KEY=API_KEY))
        async with Client(server, elicitation_callback=person) as client:
            refused = await fail(client, DELETE, {"bulk": ids})
            tools = (await client.list_tools()).tools

    assert "at most 100" in refused["error"]
    assert person.questions == []
    assert emulator.app.requests == []
    [delete] = [tool for tool in tools if tool.name == DELETE]
    assert delete.input_schema["properties"]["bulk"]["maxItems"] == 100
