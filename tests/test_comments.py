"""The comments toolset through the MCP client, against the emulator: what is commented appears under the post and is
gone once deleted; a comment or reply goes out only after a person saw it, at most once, and not twice in a day;
deleting all of a post's comments asks like a bulk delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayrshare_mcp.client import AyrshareAPIError, AyrshareClient
from ayrshare_mcp.credentials import Credentials
from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.emulator.comments import seed_comment
from ayrshare_mcp.settings import Settings
from tests.envelope import fail, succeed
from tests.modern import RawModernClient, the_question_was_asked
from tests.oracle import POST_ID, Operation
from tests.support import (
    API_KEY,
    PROFILE_KEY,
    RunningEmulator,
    User,
    client_from,
    one_emulator_per_module,
    server_env,
    serving_here,
    with_every_toolset,
)

pytestmark = pytest.mark.anyio

GET, POST, REPLY, DELETE = (
    "AYRSHARE_GET_COMMENTS",
    "AYRSHARE_POST_COMMENT",
    "AYRSHARE_REPLY_COMMENT",
    ("AYRSHARE_DELETE_COMMENT"),
)


# One emulator for the module (the raw 2026-07-28 attacks share one server process); each test resets it.
anyio_backend, emulator = one_emulator_per_module()


def a_published_post(emulator: RunningEmulator, profile_key: str | None = None, post_id: str | None = None) -> str:
    post = emulator.seed_post(profile_key=profile_key, post_id=post_id, platforms=["facebook", "twitter"])
    return str(post["id"])


def sent(emulator: RunningEmulator, path: str, method: str = "POST") -> list[Any]:
    return [request.body for request in emulator.app.received(path, method=method)]


def comment_on(post_id: str, text: str = "Thanks for coming!", **extra: Any) -> dict[str, Any]:
    return {"id": post_id, "comment": text, "platforms": ["facebook", "twitter"], **extra}


# --- what is commented is there, and gone once deleted ----------------------------------------------------------


async def test_a_comment_posted_through_the_tool_appears_in_get_comments_after_the_person_saw_it(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = a_published_post(emulator)
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        posted = await succeed(client, POST, comment_on(post_id))
        listed = await succeed(client, GET, {"id": post_id})

    [question] = person.questions
    assert "Thanks for coming!" in question
    assert "facebook, twitter" in question
    assert post_id in question
    assert posted["facebook"]["status"] == "success"
    assert [entry["comment"] for entry in listed["facebook"]] == ["Thanks for coming!"]
    assert [entry["comment"] for entry in listed["twitter"]] == ["Thanks for coming!"]


async def test_a_reply_appears_under_its_comment(emulator: RunningEmulator, home: Path) -> None:
    post_id = a_published_post(emulator)
    post = emulator.service.profile(API_KEY, None).posts[0]
    theirs = seed_comment(emulator.service, post, "facebook", "Love it!")
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(
            client,
            REPLY,
            {"commentId": theirs["commentId"], "searchPlatformId": True, "platforms": ["facebook"], "comment": "Ty!"},
        )
        listed = await succeed(client, GET, {"id": post_id})

    assert theirs["commentId"] in person.questions[0]
    [comment] = listed["facebook"]
    assert [reply["comment"] for reply in comment["replies"]] == ["Ty!"]


async def test_one_comment_deleted_by_its_id_is_gone_and_nobody_is_asked(emulator: RunningEmulator, home: Path) -> None:
    post_id = a_published_post(emulator)
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        posted = await succeed(client, POST, comment_on(post_id))
        await succeed(client, DELETE, {"commentId": posted["commentID"]})
        listed = await succeed(client, GET, {"id": post_id})

    assert len(person.questions) == 1  # the comment itself, not the delete
    assert "facebook" not in listed
    assert "twitter" not in listed


async def test_a_comment_deleted_by_the_networks_id_is_gone_there_only(emulator: RunningEmulator, home: Path) -> None:
    post_id = a_published_post(emulator)

    async with with_every_toolset(emulator, home, person=User()) as client:
        posted = await succeed(client, POST, comment_on(post_id))
        network_id = posted["twitter"]["commentId"]
        await succeed(client, DELETE, {"commentId": network_id, "platform": "twitter"})
        listed = await succeed(client, GET, {"id": post_id})

    assert "twitter" not in listed
    assert [entry["comment"] for entry in listed["facebook"]] == ["Thanks for coming!"]


async def test_comments_are_read_by_the_networks_own_post_id(emulator: RunningEmulator, home: Path) -> None:
    post_id = a_published_post(emulator)
    post = emulator.service.profile(API_KEY, None).posts[0]
    seed_comment(emulator.service, post, "facebook", "First!")

    async with with_every_toolset(emulator, home) as client:
        listed = await succeed(client, GET, {"id": f"facebook-{post_id}", "platform": "facebook"})

    assert [entry["comment"] for entry in listed["facebook"]] == ["First!"]


async def test_an_unknown_post_gets_ayrshares_not_found_error(emulator: RunningEmulator, home: Path) -> None:
    async with with_every_toolset(emulator, home, person=User()) as client:
        envelope = await fail(client, GET, {"id": "noSuchPost"})
        deleted = await fail(client, DELETE, {"commentId": "noSuchComment"})

    assert envelope["data"]["code"] == 114
    assert "404" in envelope["error"] or "not found" in envelope["error"].lower()
    assert "not found" in deleted["error"].lower()


# --- deleting all of a post's comments asks, like a bulk delete ------------------------------------------------


async def test_deleting_all_of_a_posts_comments_asks_and_a_no_deletes_nothing(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = a_published_post(emulator)
    async with with_every_toolset(emulator, home, person=User()) as client:
        await succeed(client, POST, comment_on(post_id))
    declining = User(confirm=False)

    async with with_every_toolset(emulator, home, person=declining) as client:
        envelope = await fail(client, DELETE, {"postId": post_id})
        listed = await succeed(client, GET, {"id": post_id})

    [question] = declining.questions
    assert post_id in question
    assert "declined" in envelope["error"]
    assert sent(emulator, "/api/comments/" + post_id, "DELETE") == []
    assert len(listed["facebook"]) == 1


async def test_deleting_all_of_a_posts_comments_after_yes_removes_every_one(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = a_published_post(emulator)

    async with with_every_toolset(emulator, home, person=User()) as client:
        await succeed(client, POST, comment_on(post_id))
        await succeed(client, POST, comment_on(post_id, "And thanks again"))
        await succeed(client, DELETE, {"postId": post_id})
        listed = await succeed(client, GET, {"id": post_id})

    assert set(listed) & {"facebook", "twitter"} == set()


@pytest.mark.parametrize(("allow", "deleted"), [("", False), ("1", True)])
async def test_deleting_all_with_nobody_to_ask_follows_the_delete_switch(
    emulator: RunningEmulator, home: Path, allow: str, deleted: bool
) -> None:
    post_id = a_published_post(emulator)
    post = emulator.service.profile(API_KEY, None).posts[0]
    seed_comment(emulator.service, post, "facebook", "ours")["ayrshareId"] = "cOurs"

    async with with_every_toolset(emulator, home, AYRSHARE_ALLOW_UNCONFIRMED_DELETES=allow) as client:
        envelope = await (succeed if deleted else fail)(client, DELETE, {"postId": post_id})

    assert bool(sent(emulator, "/api/comments/" + post_id, "DELETE")) is deleted
    if not deleted:
        assert "AYRSHARE_ALLOW_UNCONFIRMED_DELETES=1" in envelope["error"]


async def test_a_post_id_passed_as_one_comments_id_is_refused_rather_than_deleting_all_unasked(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = a_published_post(emulator)
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, POST, comment_on(post_id))
        envelope = await fail(client, DELETE, {"commentId": post_id})
        listed = await succeed(client, GET, {"id": post_id})

    assert "postId" in envelope["error"]
    assert sent(emulator, "/api/comments/" + post_id, "DELETE") == []
    assert len(listed["facebook"]) == 1


# --- attacks on public acts ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def modern_server(module_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Any:
    env = server_env(module_emulator, tmp_path_factory.mktemp("home"), AYRSHARE_API_KEY=API_KEY)
    command = ["--transport", "streamable-http", "--toolsets", "comments"]
    async with serving_here(command, env) as (_, url, _log), client_from(None) as http:
        yield RawModernClient(http, url)


@pytest.mark.parametrize(
    "changed",
    [
        {"comment": "Buy cheap pills at spam.example"},
        {"id": "otherPost"},
        {"platforms": ["facebook"]},
    ],
    ids=["another text", "another post", "another network"],
)
async def test_a_yes_for_one_comment_does_not_cover_another_text_or_target(
    emulator: RunningEmulator, modern_server: RawModernClient, changed: dict[str, Any]
) -> None:
    post_id = a_published_post(emulator)
    a_published_post(emulator, post_id="otherPost")
    shown = comment_on(post_id, "Thanks, see you next week")
    state = the_question_was_asked(await modern_server.call(POST, shown))

    swapped = await modern_server.answer(POST, shown | changed, state)

    assert swapped.get("result", {}).get("resultType") == "input_required" or "error" in swapped, swapped
    assert sent(emulator, "/api/comments") == []


async def test_a_yes_for_one_reply_does_not_cover_a_reply_to_another_comment(
    emulator: RunningEmulator, modern_server: RawModernClient
) -> None:
    a_published_post(emulator)
    shown = {"commentId": "cAsked", "platforms": ["facebook"], "comment": "Glad you liked it"}
    state = the_question_was_asked(await modern_server.call(REPLY, shown))

    swapped = await modern_server.answer(REPLY, shown | {"commentId": "cOther"}, state)

    assert swapped.get("result", {}).get("resultType") == "input_required" or "error" in swapped, swapped
    assert sent(emulator, "/api/comments/reply") == []


async def test_the_same_comment_within_a_day_is_refused_before_anyone_is_asked_however_it_is_spelled(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = a_published_post(emulator)
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, POST, comment_on(post_id, "Thanks for coming!"))
        again = await fail(client, POST, comment_on(post_id, "  Thanks\u00a0for  coming!\u200b"))
        one_network = await fail(client, POST, comment_on(post_id, "Thanks for coming!") | {"platforms": ["twitter"]})

    assert len(person.questions) == 1
    assert len(sent(emulator, "/api/comments")) == 1
    assert "24 hours" in again["error"]
    assert "twitter" in one_network["error"]


async def test_the_same_reply_to_the_same_comment_within_a_day_is_refused_before_anyone_is_asked(
    emulator: RunningEmulator, home: Path
) -> None:
    a_published_post(emulator)
    post = emulator.service.profile(API_KEY, None).posts[0]
    theirs = seed_comment(emulator.service, post, "facebook", "Love it!")
    reply = {"commentId": theirs["commentId"], "searchPlatformId": True, "platforms": ["facebook"], "comment": "Ty!"}
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, REPLY, reply)
        envelope = await fail(client, REPLY, reply | {"comment": " Ty!\u200b "})

    assert len(person.questions) == 1
    assert "24 hours" in envelope["error"]


async def test_the_same_words_under_another_post_or_for_another_profile_are_asked_about_and_sent(
    emulator: RunningEmulator, home: Path
) -> None:
    first, second = a_published_post(emulator), a_published_post(emulator)
    on_profile = a_published_post(emulator, profile_key=PROFILE_KEY)
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, POST, comment_on(first))
        await succeed(client, POST, comment_on(second))
        await succeed(client, POST, comment_on(on_profile, **{"Profile-Key": PROFILE_KEY}))

    assert len(person.questions) == 3
    assert len(sent(emulator, "/api/comments")) == 3


@pytest.mark.parametrize(("mode", "goes"), [("approval", False), ("direct", True)])
async def test_with_nobody_to_ask_a_comment_follows_the_publishing_switch(
    emulator: RunningEmulator, home: Path, mode: str, goes: bool
) -> None:
    post_id = a_published_post(emulator)

    async with with_every_toolset(emulator, home, AYRSHARE_PUBLISH=mode) as client:
        envelope = await (succeed if goes else fail)(client, POST, comment_on(post_id))

    assert bool(sent(emulator, "/api/comments")) is goes
    if not goes:
        assert "no approval flow" in envelope["error"]
        assert "AYRSHARE_PUBLISH=direct" in envelope["error"]


async def test_with_nobody_to_ask_under_approval_a_reply_is_not_sent(emulator: RunningEmulator, home: Path) -> None:
    a_published_post(emulator)

    async with with_every_toolset(emulator, home) as client:
        envelope = await fail(client, REPLY, {"commentId": "cX", "platforms": ["facebook"], "comment": "hi"})

    assert "no approval flow" in envelope["error"]
    assert sent(emulator, "/api/comments/reply") == []


async def test_a_comment_whose_answer_was_lost_is_not_retried_says_how_to_check_and_is_not_sent_again(
    emulator: RunningEmulator, home: Path
) -> None:
    post_id = a_published_post(emulator)
    emulator.app.inject(
        Fault(path="/api/comments", method="POST", status=200, body={"status": "success"}, action="reset")
    )
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        lost = await fail(client, POST, comment_on(post_id))
        again = await fail(client, POST, comment_on(post_id))

    assert len(sent(emulator, "/api/comments")) == 1
    assert "not retried" in lost["error"]
    assert "get its comments" in lost["error"]
    assert "24 hours" in again["error"]
    assert len(person.questions) == 1


async def test_the_question_marks_hidden_characters_in_a_comment(emulator: RunningEmulator, home: Path) -> None:
    post_id = a_published_post(emulator)
    person = User()

    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, POST, comment_on(post_id, "Nice\u202e!ti evol I\u2066"))

    [question] = person.questions
    assert "<U+202E>" in question
    assert "<U+2066>" in question
    assert "\u202e" not in question


# --- local checks, and the emulator's own limits ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "why"),
    [
        (POST, {"id": "p", "comment": "hi", "platforms": ["threads"]}, "Input should be"),
        (POST, {"id": "p", "comment": "hi", "platforms": ["instagram"], "mediaUrls": ["https://i.ex/a"]}, "mediaUrls"),
        (POST, {"id": "p", "comment": "hi", "platforms": ["facebook"], "mediaUrls": ["https://a/1", "https://a/2"]},
         "mediaUrls"),
        (REPLY, {"commentId": "c", "comment": "hi", "platforms": ["twitter"], "mediaUrls": ["https://i.ex/a"]},
         "mediaUrls"),
        (POST, {"id": "p", "comment": "   ", "platforms": ["facebook"]}, "blank"),
        (POST, {"id": "p", "comment": "hi", "platforms": ["facebook", "twitter"], "searchPlatformId": True},
         "exactly one"),
        (GET, {"id": "../post"}, "not an id"),
        (DELETE, {}, "commentId"),
        (DELETE, {"postId": "p", "platform": "facebook"}, "platform goes with commentId"),
    ],
)  # fmt: skip
async def test_bad_arguments_are_refused_locally_saying_what_to_do(
    emulator: RunningEmulator, home: Path, tool: str, arguments: dict[str, Any], why: str
) -> None:
    async with with_every_toolset(emulator, home, person=User()) as client:
        envelope = await fail(client, tool, arguments)

    assert why in envelope["error"]
    assert "Nothing was sent" in envelope["error"]
    assert emulator.app.requests == []


@pytest.mark.parametrize(
    ("path", "body", "why"),
    [
        ("comments", {"comment": "hi", "platforms": ["threads"]}, "not supported on threads"),
        ("comments", {"comment": "hi", "platforms": ["instagram"], "mediaUrls": ["https://i.example/a"]}, "Media"),
        ("comments", {"comment": "", "platforms": ["facebook"]}, "comment (text) is required"),
        ("comments/reply", {"comment": "hi", "platforms": ["twitter"], "mediaUrls": ["https://i.example/a"]}, "Media"),
        ("comments/reply", {"commentId": "none", "comment": "hi", "platforms": ["facebook"]}, "Comment not found"),
    ],
)  # fmt: skip
async def test_the_emulator_keeps_ayrshares_limits_for_comments(
    emulator: RunningEmulator, path: str, body: dict[str, Any], why: str
) -> None:
    post_id = a_published_post(emulator)
    settings = Settings(base_url=emulator.url, environ={})
    async with AyrshareClient.connect(settings) as client:
        account = client.account(Credentials(api_key=API_KEY))
        send = account.post_comment if path == "comments" else account.reply_comment
        with pytest.raises(AyrshareAPIError) as refused:
            await send({"id": post_id, **body} if path == "comments" else body)

    assert why in refused.value.message


# --- Ayrshare's SDK as the oracle -------------------------------------------------------------------------------


def a_commented_post(emulator: RunningEmulator, profile_key: str | None) -> None:
    emulator.seed_post(profile_key=profile_key, post_id=POST_ID, platforms=["facebook", "instagram"])
    post = emulator.service.profile(API_KEY, profile_key).posts[0]
    seed_comment(emulator.service, post, "facebook", "oracle")["commentId"] = "oracleComment1"


SDK_ORACLE = [
    Operation(
        "get a post's comments",
        lambda sdk: sdk.getComments({"id": POST_ID}),
        GET,
        {"id": POST_ID},
        prepare=a_commented_post,
    ),
    Operation(
        "get comments by the network's post id",
        lambda sdk: sdk.getComments({"id": "17900001", "searchPlatformId": "true", "platform": "instagram"}),
        GET,
        {"id": "17900001", "platform": "instagram"},
    ),
    Operation(
        "post a comment with media",
        lambda sdk: sdk.postComment(
            {"id": POST_ID, "comment": "Oracle comment", "platforms": ["facebook"], "mediaUrls": ["https://i.example/o.png"]}
        ),
        POST,
        {"id": POST_ID, "comment": "Oracle comment", "platforms": ["facebook"], "mediaUrls": ["https://i.example/o.png"]},
        prepare=a_commented_post,
    ),
    Operation(
        "reply to a comment by the network's id",
        lambda sdk: sdk.replyComment(
            {"commentId": "oracleComment1", "comment": "Re", "platforms": ["facebook"], "searchPlatformId": True}
        ),
        REPLY,
        {"commentId": "oracleComment1", "comment": "Re", "platforms": ["facebook"], "searchPlatformId": True},
        prepare=a_commented_post,
    ),
    Operation(
        "delete one comment by the network's id",
        lambda sdk: sdk.deleteComments({"id": "oracleComment1", "searchPlatformId": True, "platform": "facebook"}),
        DELETE,
        {"commentId": "oracleComment1", "platform": "facebook"},
        prepare=a_commented_post,
    ),
    Operation(
        "delete all of a post's comments",
        lambda sdk: sdk.deleteComments({"id": POST_ID}),
        DELETE,
        {"postId": POST_ID},
        prepare=a_commented_post,
    ),
]  # fmt: skip
