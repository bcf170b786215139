"""An independent attack on the engagement toolsets (media, comments, messages), kept as tests: each failed on the
code as first merged, and asserts what must hold instead."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.emulator import media as emulated
from ayrshare_mcp.tools.media_files import DIRECT_MAX_BYTES
from tests.envelope import call, fail, succeed
from tests.support import API_KEY, User, with_every_toolset
from tests.test_media import (
    PNG,
    StorageOnLoopback,
    media_client,
    mp4_header,
    nothing_uploaded,
)
from tests.test_messages import wrote_in

pytestmark = pytest.mark.anyio

UPLOAD = "AYRSHARE_UPLOAD_MEDIA"
POST = "AYRSHARE_POST_COMMENT"
SEND = "AYRSHARE_SEND_MESSAGE"


def unexpected(envelope: dict[str, Any]) -> bool:
    return "unexpected error" in envelope.get("error", "")


# --- F1: a NUL byte in the path crashes the upload tool (unexpected-error envelope) ---------------------------------


async def test_a_nul_byte_in_a_path_is_refused_not_a_crash(emulator: Any, home: Path, pictures: Path) -> None:
    (pictures / "a.png").write_bytes(PNG)
    async with media_client(emulator, home, [pictures], person=User()) as client:
        refused = await fail(client, UPLOAD, {"file": str(pictures / "a.png") + "\x00.png"})
    assert not unexpected(refused), refused["error"]


# --- F2: a path of many components hangs the server for minutes (quadratic resolve) --------------------------------


async def test_a_path_longer_than_any_real_one_is_refused_before_it_is_resolved(
    emulator: Any, home: Path, pictures: Path
) -> None:
    """Resolving a path costs time that grows with the square of its parts: 40,000 of them took 10 s, on a worker
    thread a cancelled call cannot stop. (The argument may be up to ~14 MB.)"""
    path = "/x" * 40_000
    async with media_client(emulator, home, [pictures], person=User()) as client:
        refused = await fail(client, UPLOAD, {"file": path})

    assert "not a file path (longer than 4096 bytes" in refused["error"]


# --- F3: a file name that is not UTF-8 (reachable with a lone surrogate) crashes at the send ------------------------


async def test_a_non_utf8_file_name_is_uploaded_or_refused_not_a_crash(
    emulator: Any, home: Path, pictures: Path
) -> None:
    (pictures / os.fsdecode(b"photo\xff.png")).write_bytes(PNG)
    async with media_client(emulator, home, [pictures], person=User()) as client:
        envelope = await call(client, UPLOAD, {"file": str(pictures) + "/photo\udcff.png"})
    assert not unexpected(envelope), envelope.get("error")


# --- F4: the presigned PUT goes to any https host Ayrshare's answer names, loopback and link-local included --------


async def test_an_upload_url_on_loopback_gets_no_bytes(emulator: Any, home: Path, pictures: Path) -> None:
    video = pictures / "launch.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    internal = "https://127.0.0.1:9/__storage__/token"  # or https://169.254.169.254/, https://10.0.0.1/
    answer = {"accessUrl": "https://img.example/x.mp4", "contentType": "video/mp4", "uploadUrl": internal}
    emulator.app.inject(Fault(status=200, body=answer, path="/media/uploadUrl"))
    network = StorageOnLoopback(emulator)
    async with media_client(emulator, home, [pictures], transport=network) as client:
        await call(client, UPLOAD, {"file": str(video)})
    asked = [(url.scheme, url.host, url.port) for url in network.asked]
    assert ("https", "127.0.0.1", 9) not in asked, asked


# --- F5: a content type from Ayrshare's answer with a line break crashes the upload --------------------------------


async def test_a_content_type_with_a_line_break_is_refused_not_a_crash(
    emulator: Any, home: Path, pictures: Path
) -> None:
    video = pictures / "launch.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    answer = {
        "accessUrl": "https://img.example/x.mp4",
        "contentType": "video/mp4\r\nAuthorization: Bearer x",
        "uploadUrl": f"https://{emulated.STORAGE_HOST}/__storage__/token",
    }
    emulator.app.inject(Fault(status=200, body=answer, path="/media/uploadUrl"))
    async with media_client(emulator, home, [pictures]) as client:
        envelope = await call(client, UPLOAD, {"file": str(video)})
    assert not unexpected(envelope), envelope.get("error")


# --- F6: the 24 h repeat check misses characters the question itself marks as hidden -------------------------------


@pytest.mark.parametrize("hidden", ["\x7f", "\x01", "\ufff9", "\ue000", "\U000110bd"])
async def test_a_comment_repeated_with_a_hidden_character_is_refused(emulator: Any, home: Path, hidden: str) -> None:
    post = str(emulator.seed_post(platforms=["facebook"])["id"])
    person = User()
    async with with_every_toolset(emulator, home, person=person) as client:
        await succeed(client, POST, {"id": post, "comment": "Thanks for coming!", "platforms": ["facebook"]})
        again = await call(
            client, POST, {"id": post, "comment": "Thanks for coming!" + hidden, "platforms": ["facebook"]}
        )
    assert again["successful"] is False, (again, person.questions[-1])
    assert "already went" in again["error"]


# --- F7: the repeat check refuses texts a reader tells apart (NFKC folds superscripts, fractions; ZWJ dropped) -----


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("E=mc\u00b2", "E=mc2"),
        ("Our family \U0001f468\u200d\U0001f469\u200d\U0001f467", "Our family \U0001f468\U0001f469\U0001f467"),
        ("\u00bd price today", "1\u20442 price today"),
    ],
)
async def test_different_comments_are_not_refused_as_repeats(
    emulator: Any, home: Path, first: str, second: str
) -> None:
    post = str(emulator.seed_post(platforms=["facebook"])["id"])
    async with with_every_toolset(emulator, home, person=User()) as client:
        await succeed(client, POST, {"id": post, "comment": first, "platforms": ["facebook"]})
        await succeed(client, POST, {"id": post, "comment": second, "platforms": ["facebook"]})


# --- F8: the same DM to the same person repeats when a conversationId is added ---------------------------------------


async def test_the_same_message_to_the_same_person_is_refused_however_it_is_addressed(
    emulator: Any, home: Path
) -> None:
    conversation = wrote_in(emulator, "facebook", "fb-person-7", "Where is my refund?")
    reply = {"platform": "facebook", "recipientId": "fb-person-7", "message": "Your refund is approved."}
    async with with_every_toolset(emulator, home, person=User()) as client:
        first = await call(client, SEND, reply)
        again = await call(client, SEND, reply | {"conversationId": conversation})
    sent = [r.body for r in emulator.app.received("/api/messages/facebook", method="POST")]
    assert len(sent) <= 1, (first, again, sent)


# --- held: over SSE and stateless streamable HTTP a local path is refused too --------------------------------------


@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_over_every_http_transport_a_local_path_is_refused(
    emulator: Any, home: Path, pictures: Path, transport: str, mode: str
) -> None:
    from tests.support import WAIT, http_session, serving_here

    (pictures / "beach.png").write_bytes(PNG)
    env = {"AYRSHARE_BASE_URL": emulator.url, "AYRSHARE_API_KEY": API_KEY, "HOME": str(home)}
    args = ["--transport", transport, "--toolsets", "media", "--media-dir", str(pictures)]
    with anyio.fail_after(WAIT * 2):
        async with (
            serving_here(args, env) as (_, url, _),
            http_session(url, transport=transport, mode=mode, elicitation=User()) as client,
        ):
            refused = await fail(client, UPLOAD, {"file": str(pictures / "beach.png")})
    assert "data: URI" in refused["error"]
    assert nothing_uploaded(emulator)


# --- F9: the presigned PUT reads the storage's whole answer body into memory ----------------------------------------


async def test_no_more_of_the_storages_answer_is_read_than_a_short_body() -> None:
    import httpx2

    from ayrshare_mcp.client.storage import put_presigned

    served = 0

    async def endless() -> Any:
        nonlocal served
        while True:
            served += 1024 * 1024
            yield b"\0" * (1024 * 1024)
            await anyio.lowlevel.checkpoint()

    def storage(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=endless())

    async def body() -> Any:
        yield PNG

    with anyio.fail_after(5):  # before, it read until its deadline: 2.2 GiB in 2 s
        await put_presigned(
            "https://storage.example/put",
            body(),
            size=len(PNG),
            content_type="image/png",
            seconds=2,
            transport=httpx2.MockTransport(storage),
        )
    assert served <= 1024 * 1024, f"read {served // 2**20} MiB of the storage's answer"


# --- F10: an upload answer with an IDNA-invalid host or a non-ASCII content type crashes the tool -------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"uploadUrl": "https://a\u200b.example/put", "contentType": "video/mp4"},
        {"uploadUrl": f"https://{emulated.STORAGE_HOST}/__storage__/token", "contentType": "vid\u00e9o/mp4"},
    ],
    ids=["idna-host", "non-ascii-content-type"],
)
async def test_a_strange_upload_answer_is_refused_not_a_crash(
    emulator: Any, home: Path, pictures: Path, answer: dict[str, str]
) -> None:
    video = pictures / "launch.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    emulator.app.inject(
        Fault(status=200, body={"accessUrl": "https://img.example/x.mp4", **answer}, path="/media/uploadUrl")
    )
    async with media_client(emulator, home, [pictures]) as client:
        envelope = await call(client, UPLOAD, {"file": str(video)})
    assert envelope["successful"] is False
    assert not unexpected(envelope), envelope["error"]


# --- F11 (informational): a run of spaces on one line is shown as is, pushing the rest out of view ------------------


def test_a_long_run_of_spaces_in_a_comment_is_counted_in_the_question() -> None:
    from ayrshare_mcp.tools.public import Outgoing, public_question

    text = "Great event!" + " " * 9000 + "Claim your prize at https://scam.example"
    question = public_question(Outgoing("comment", text, ["facebook"], "under the post 'p1'"), None)
    assert " " * 100 not in question.message


# --- F12 (informational): the upload question shows the path as given, not the file it resolves to -----------------


async def test_the_upload_question_names_the_file_that_is_read(emulator: Any, home: Path, pictures: Path) -> None:
    (pictures / "private").mkdir()
    (pictures / "private" / "passport-scan.png").write_bytes(PNG)
    (pictures / "holiday.png").symlink_to(pictures / "private" / "passport-scan.png")
    person = User()
    async with media_client(emulator, home, [pictures], person=person) as client:
        await succeed(client, UPLOAD, {"file": str(pictures / "holiday.png")})
    [question] = person.questions
    assert "passport-scan.png" in question, question


# --- held ----------------------------------------------------------------------------------------------------------


def test_directory_symlinks_proc_paths_and_swaps(pictures: Path, tmp_path: Path) -> None:
    import base64

    from ayrshare_mcp.tools import media_files
    from ayrshare_mcp.tools.media_files import MediaRefusal, check_file, decode_data_uri, read_whole

    outside = tmp_path / "ssh"
    outside.mkdir()
    (outside / "id.png").write_bytes(PNG + b"CANARY")
    (pictures / "link").symlink_to(outside)
    (pictures / "ok.png").write_bytes(PNG)
    with open(outside / "id.png", "rb") as held:
        for path in (
            str(pictures / "link" / "id.png"),
            f"/proc/self/fd/{held.fileno()}",
            f"/proc/self/root{outside}/id.png",
            f"{pictures}/../ssh/id.png",
            f"file://{pictures}/ok.png",
        ):
            with pytest.raises(MediaRefusal):
                check_file(path, (pictures,))
    # A folder component swapped for a symlink between the check and the read.
    (pictures / "sub").mkdir()
    (pictures / "sub" / "x.png").write_bytes(PNG)
    checked = check_file(str(pictures / "sub" / "x.png"), (pictures,))
    (pictures / "sub").rename(pictures / "sub-old")
    (pictures / "sub").symlink_to(outside)
    with pytest.raises(MediaRefusal):
        read_whole(checked, (pictures,))
    # data: URIs: malformed, mismatched, non-ASCII, oversize
    good = base64.b64encode(PNG).decode()
    for uri in (
        "data:image/png;base64," + good[:-1],
        "data:image/jpeg;base64," + good,
        "data:image/png;base64," + good + "\u0663",
        "data:image/png;base64, " + good,
        "data:image/png," + good,
        "data:;base64," + good,
        "data:image/png;base64," + "A" * ((media_files.DIRECT_MAX_BYTES // 3 + 2) * 4),
    ):
        with pytest.raises(MediaRefusal):
            decode_data_uri(uri)


async def test_an_upload_host_whose_name_resolves_to_this_machine_is_not_public() -> None:
    """Names are checked again by what they resolve to when the real network is used (a name with a dot that points
    at loopback would pass the name check)."""
    from ayrshare_mcp.client.storage import _resolves_publicly

    assert not await _resolves_publicly("localhost")
