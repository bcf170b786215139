"""The media toolset through the MCP client, against the emulator: an upload reads only what the user allowed, shows
the person what becomes public, sends a large file to the presigned URL with no credential, and appears in the
library; over HTTP only data: URIs are taken, and no URL is ever fetched for a caller.

Each attack on reading the disk (traversal, a symlink out, a renamed text file, a FIFO, a device, a folder, a file
swapped between the check and the read, an oversize file, a path outside every allowed folder) is a test here.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from ayrshare import SocialPost
from ayrshare import ayrshare as ayrshare_sdk
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from ayrshare_mcp.client.client import trust_store
from ayrshare_mcp.emulator import Fault
from ayrshare_mcp.emulator import media as emulated
from ayrshare_mcp.server import SharedClient, build_server
from ayrshare_mcp.settings import ConfigError, Settings
from ayrshare_mcp.tools.media_files import (
    DIRECT_MAX_BYTES,
    MAX_FILE_BYTES,
    MediaRefusal,
    check_file,
    read_whole,
    sniff,
)
from tests.envelope import fail, succeed
from tests.oracle import Operation
from tests.support import (
    API_KEY,
    CANARY,
    PROFILE_KEY,
    WAIT,
    X_API_KEY,
    X_API_SECRET,
    RunningEmulator,
    User,
    http_session,
    run_cli,
    serving_here,
    settings_for,
)

pytestmark = pytest.mark.anyio

UPLOAD, LIST, VERIFY = "AYRSHARE_UPLOAD_MEDIA", "AYRSHARE_LIST_MEDIA", "AYRSHARE_VERIFY_MEDIA_URL"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64, 128))
GIF = b"GIF89a" + bytes(32)
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- CANARY-SSH-KEY"


def mp4_header() -> bytes:
    return struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2"


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


class StorageOnLoopback(httpx2.AsyncBaseTransport):
    """The real network, except that the emulator's storage host resolves to the emulator on loopback (as DNS would
    for a real bucket). The server's https-only rule is checked on the URL Ayrshare named, before this; so tests
    reach the emulator's plain-http port without the production rule being loosened. Records every URL asked for."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self._port = httpx2.URL(emulator.url).port
        self._network = httpx2.AsyncHTTPTransport(verify=trust_store())
        self.asked: list[httpx2.URL] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.asked.append(request.url)
        if request.url.host == emulated.STORAGE_HOST:
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


@asynccontextmanager
async def media_client(
    emulator: RunningEmulator,
    home: Path,
    folders: list[Path],
    *,
    person: Any = None,
    transport: StorageOnLoopback | None = None,
    **env: str,
) -> AsyncIterator[Client]:
    """An in-memory client (a local caller, as over stdio) of a server serving the media toolset, allowed `folders`."""
    settings = settings_for(
        emulator,
        home,
        AYRSHARE_API_KEY=API_KEY,
        AYRSHARE_TOOLSETS="media",
        AYRSHARE_MEDIA_DIRS=os.pathsep.join(map(str, folders)),
        **env,
    )
    shared = SharedClient(settings, transport=transport or StorageOnLoopback(emulator))
    with anyio.fail_after(WAIT):
        async with Client(build_server(settings, shared=shared), elicitation_callback=person) as client:
            yield client


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A private file outside every allowed folder, which looks like an image so that only the folder rule stops it."""
    folder = tmp_path / "ssh"
    folder.mkdir()
    path = folder / "id_rsa.png"
    path.write_bytes(PNG + SECRET)
    return path


def nothing_uploaded(emulator: RunningEmulator) -> bool:
    uploads = emulator.app.received("/api/media/upload") + emulator.app.received("/api/media/uploadUrl")
    return not uploads and not emulated.store(emulator.service).puts


def library(emulator: RunningEmulator, profile_key: str | None = None) -> list[dict[str, Any]]:
    return emulated.library(emulator.service, emulator.service.profile(API_KEY, profile_key))


# --- what the user allowed goes, after they saw it --------------------------------------------------------------


async def test_an_image_from_an_allowed_folder_is_shown_to_the_person_then_uploaded_and_listed(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    (pictures / "beach.png").write_bytes(PNG)
    person = User()

    async with media_client(emulator, home, [pictures], person=person) as client:
        uploaded = await succeed(client, UPLOAD, {"file": str(pictures / "beach.png"), "description": "Sunset"})
        listed = await succeed(client, LIST, {})

    [question] = person.questions
    assert str(pictures / "beach.png") in question
    assert f"{len(PNG)} bytes" in question
    assert "image/png" in question
    assert "public URL" in question
    [sent] = emulator.app.received("/api/media/upload")
    assert sent.body == {"file": data_uri(PNG), "fileName": "beach.png", "description": "Sunset"}
    assert [item["url"] for item in listed["media"]] == [uploaded["url"]]


async def test_a_no_uploads_nothing(emulator: RunningEmulator, home: Path, pictures: Path) -> None:
    (pictures / "beach.png").write_bytes(PNG)

    async with media_client(emulator, home, [pictures], person=User(confirm=False)) as client:
        refused = await fail(client, UPLOAD, {"file": str(pictures / "beach.png")})

    assert "said no" in refused["error"]
    assert nothing_uploaded(emulator)


async def test_with_nobody_to_ask_a_file_from_an_allowed_folder_goes_ahead(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    (pictures / "beach.png").write_bytes(PNG)

    async with media_client(emulator, home, [pictures]) as client:
        uploaded = await succeed(client, UPLOAD, {"file": str(pictures / "beach.png")})

    assert [item["url"] for item in library(emulator)] == [uploaded["url"]]


async def test_a_file_is_named_for_what_it_holds_not_for_what_its_name_says(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    (pictures / "photo.jpg").write_bytes(PNG)

    async with media_client(emulator, home, [pictures]) as client:
        await succeed(client, UPLOAD, {"file": str(pictures / "photo.jpg"), "fileName": "../../etc/cover.jpeg"})

    [sent] = emulator.app.received("/api/media/upload")
    assert (sent.body["fileName"], sent.body["file"][:22]) == ("cover.png", "data:image/png;base64,")


async def test_an_allowed_folder_is_recognised_whatever_path_names_it(
    emulator: RunningEmulator, home: Path, pictures: Path, tmp_path: Path
) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(pictures)
    (pictures / "beach.png").write_bytes(PNG)

    async with media_client(emulator, home, [alias]) as client:
        await succeed(client, UPLOAD, {"file": str(pictures / "beach.png")})
        await succeed(client, UPLOAD, {"file": str(alias / "beach.png")})

    assert len(library(emulator)) == 2


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (PNG, "image/png"),
        (b"GIF87a" + bytes(8), "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (mp4_header(), "video/mp4"),
        (struct.pack(">I", 20) + b"ftypqt  \x00\x00\x02\x00", "video/quicktime"),
        (struct.pack(">I", 24) + b"ftypheic\x00\x00\x00\x00", None),
        (b"%PDF-1.7\n", None),
        (b"", None),
    ],
)
def test_a_file_is_judged_by_its_first_bytes(head: bytes, mime: str | None) -> None:
    found = sniff(head[:16])

    assert (found.mime if found else None) == mime


# --- a large file goes to the presigned URL, and nowhere else ----------------------------------------------------


async def test_a_large_video_goes_to_the_presigned_url_with_no_credential_and_appears_in_the_list(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    video = pictures / "launch.mov"
    content = mp4_header() + os.urandom(DIRECT_MAX_BYTES)
    video.write_bytes(content)
    network = StorageOnLoopback(emulator)
    env = {"AYRSHARE_X_API_KEY": X_API_KEY, "AYRSHARE_X_API_SECRET": X_API_SECRET}

    async with media_client(emulator, home, [pictures], person=User(), transport=network, **env) as client:
        uploaded = await succeed(client, UPLOAD, {"file": str(video), "Profile-Key": PROFILE_KEY})
        listed = await succeed(client, LIST, {"Profile-Key": PROFILE_KEY})

    [asked] = emulator.app.received("/api/media/uploadUrl")
    assert asked.query_dict() == {"fileName": "launch.mp4", "contentType": "mp4"}
    [put] = emulated.store(emulator.service).puts
    assert put["size"] == len(content)
    sent_headers = {name.lower() for name in put["headers"]}
    assert not sent_headers & {"authorization", "profile-key", "cookie"}
    assert not any(name.startswith("x-") for name in sent_headers)
    assert CANARY not in repr(put["headers"])
    storage = [url for url in network.asked if url.host != "127.0.0.1"]
    assert [(url.scheme, url.host) for url in storage] == [("https", emulated.STORAGE_HOST)]
    assert [item["url"] for item in listed["media"]] == [uploaded["accessUrl"]]


@pytest.mark.parametrize(
    "upload_url",
    [
        f"http://{emulated.STORAGE_HOST}/__storage__/token",
        f"https://user:password@{emulated.STORAGE_HOST}/__storage__/token",
        "https:///__storage__/token",
        "file:///etc/passwd",
        None,
    ],
)
async def test_an_upload_url_that_is_not_plain_https_gets_no_bytes(
    emulator: RunningEmulator, home: Path, pictures: Path, upload_url: str | None
) -> None:
    video = pictures / "launch.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    answer = {"accessUrl": "https://img.example/x.mp4", "contentType": "video/mp4", "uploadUrl": upload_url}
    emulator.app.inject(Fault(status=200, body=answer, path="/media/uploadUrl"))
    network = StorageOnLoopback(emulator)

    async with media_client(emulator, home, [pictures], transport=network) as client:
        refused = await fail(client, UPLOAD, {"file": str(video)})

    assert "not a plain https URL" in refused["error"]
    assert not emulated.store(emulator.service).puts
    assert all(url.host == "127.0.0.1" for url in network.asked), "nothing but Ayrshare was asked"


async def test_a_redirect_from_the_storage_is_not_followed(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    video = pictures / "launch.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    elsewhere = "https://collector.example/steal"
    emulator.app.inject(Fault(status=307, body={}, headers={"Location": elsewhere}, method="PUT", times=None))
    network = StorageOnLoopback(emulator)

    async with media_client(emulator, home, [pictures], transport=network) as client:
        refused = await fail(client, UPLOAD, {"file": str(video)})

    assert "HTTP 307" in refused["error"]
    assert all(url.host != "collector.example" for url in network.asked)
    assert library(emulator) == []


async def test_a_storage_that_drops_the_upload_leaves_nothing_usable(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    video = pictures / "launch.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    emulator.app.inject(Fault(status=200, action="reset", method="PUT"))

    async with media_client(emulator, home, [pictures]) as client:
        refused = await fail(client, UPLOAD, {"file": str(video)})

    assert "storage failed" in refused["error"]
    assert "accessUrl" not in refused["data"]
    assert library(emulator) == []


# --- attacks on the disk -------------------------------------------------------------------------------------------


async def refused_upload(emulator: RunningEmulator, home: Path, folders: list[Path], path: str) -> str:
    with anyio.fail_after(WAIT):
        async with media_client(emulator, home, folders, person=User()) as client:
            envelope = await fail(client, UPLOAD, {"file": path})
    assert nothing_uploaded(emulator)
    assert "Nothing was uploaded" in envelope["error"]
    error: str = envelope["error"]
    return error


async def test_traversal_out_of_the_allowed_folder_is_refused(
    emulator: RunningEmulator, home: Path, pictures: Path, secret: Path
) -> None:
    path = f"{pictures}/../{secret.parent.name}/{secret.name}"

    assert "not in a folder the user allowed" in await refused_upload(emulator, home, [pictures], path)


async def test_a_symlink_out_of_the_allowed_folder_is_refused(
    emulator: RunningEmulator, home: Path, pictures: Path, secret: Path
) -> None:
    (pictures / "holiday.png").symlink_to(secret)

    error = await refused_upload(emulator, home, [pictures], str(pictures / "holiday.png"))

    assert "not in a folder the user allowed" in error


async def test_a_path_outside_every_allowed_folder_is_refused(
    emulator: RunningEmulator, home: Path, pictures: Path, secret: Path, tmp_path: Path
) -> None:
    other = tmp_path / "Videos"
    other.mkdir()

    error = await refused_upload(emulator, home, [pictures, other], str(secret))

    assert "not in a folder the user allowed" in error
    assert str(pictures) in error
    assert str(other) in error


async def test_a_text_file_renamed_as_an_image_is_refused(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    (pictures / "notes.png").write_text("my passwords: CANARY hunter2\n")

    error = await refused_upload(emulator, home, [pictures], str(pictures / "notes.png"))

    assert "by its content" in error
    assert "hunter2" not in error


async def test_a_fifo_is_refused_without_waiting_for_a_writer(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    os.mkfifo(pictures / "stream.png")

    error = await refused_upload(emulator, home, [pictures], str(pictures / "stream.png"))

    assert "not a regular file" in error


async def test_a_device_is_refused_even_in_an_allowed_folder(emulator: RunningEmulator, home: Path) -> None:
    error = await refused_upload(emulator, home, [Path("/dev")], "/dev/zero")

    assert "not a regular file" in error


async def test_a_folder_is_refused(emulator: RunningEmulator, home: Path, pictures: Path) -> None:
    (pictures / "album.png").mkdir()

    assert "is a folder" in await refused_upload(emulator, home, [pictures], str(pictures / "album.png"))


async def test_an_oversize_file_is_refused_before_it_is_read(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    huge = pictures / "huge.mp4"
    with huge.open("wb") as file:
        file.write(mp4_header())
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing of it is on disk, and nothing is read

    error = await refused_upload(emulator, home, [pictures], str(huge))

    assert "uploads files up to 1073.7 MB" in error


async def test_a_gif_above_the_direct_limit_is_refused(emulator: RunningEmulator, home: Path, pictures: Path) -> None:
    big = pictures / "big.gif"
    with big.open("wb") as file:
        file.write(GIF)
        file.truncate(DIRECT_MAX_BYTES + 1)

    assert "GIF and WebP files up to" in await refused_upload(emulator, home, [pictures], str(big))


def test_a_file_swapped_between_the_check_and_the_read_is_refused(pictures: Path, secret: Path) -> None:
    photo = pictures / "beach.png"
    photo.write_bytes(PNG)
    checked = check_file(str(photo), (pictures,))
    swapped = pictures / "swap.png"
    swapped.write_bytes(secret.read_bytes())
    os.replace(swapped, photo)

    with pytest.raises(MediaRefusal, match="changed after it was checked"):
        read_whole(checked, (pictures,))


def test_a_file_turned_into_a_symlink_between_the_check_and_the_read_is_refused(pictures: Path, secret: Path) -> None:
    photo = pictures / "beach.png"
    photo.write_bytes(PNG)
    checked = check_file(str(photo), (pictures,))
    photo.unlink()
    photo.symlink_to(secret)

    with pytest.raises(MediaRefusal):
        read_whole(checked, (pictures,))


async def test_a_file_swapped_while_the_person_reads_the_question_is_asked_about_again(
    emulator: RunningEmulator, home: Path, pictures: Path, secret: Path
) -> None:
    photo = pictures / "beach.png"
    photo.write_bytes(PNG)

    class Swapper(User):
        async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
            if not self.questions:
                photo.unlink()
                photo.symlink_to(secret)
            return await super().__call__(context, params)

    async with media_client(emulator, home, [pictures], person=Swapper()) as client:
        refused = await fail(client, UPLOAD, {"file": str(photo)})

    assert "not in a folder the user allowed" in refused["error"]
    assert nothing_uploaded(emulator)


async def test_a_file_edited_while_the_person_reads_the_question_is_shown_again_before_it_goes(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    photo = pictures / "beach.png"
    photo.write_bytes(PNG)

    class Editor(User):
        async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
            if not self.questions:
                photo.write_bytes(OTHER_PNG + b"longer")
            return await super().__call__(context, params)

    person = Editor()
    async with media_client(emulator, home, [pictures], person=person) as client:
        await succeed(client, UPLOAD, {"file": str(photo)})

    assert len(person.questions) == 2
    assert f"{len(OTHER_PNG) + 6} bytes" in person.questions[1]
    [sent] = emulator.app.received("/api/media/upload")
    assert sent.body["file"] == data_uri(OTHER_PNG + b"longer")


async def test_with_no_folder_allowed_the_tool_says_how_to_allow_one(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    (pictures / "beach.png").write_bytes(PNG)

    error = await refused_upload(emulator, home, [], str(pictures / "beach.png"))

    assert "AYRSHARE_MEDIA_DIRS" in error
    assert "--media-dir" in error
    assert "data: URI" in error


# --- inline media, and HTTP ----------------------------------------------------------------------------------------


async def test_a_data_uri_is_uploaded_with_a_name_that_fits_its_content(emulator: RunningEmulator, home: Path) -> None:
    async with media_client(emulator, home, [], person=User()) as client:
        uploaded = await succeed(client, UPLOAD, {"file": data_uri(GIF, "image/gif")})

    [sent] = emulator.app.received("/api/media/upload")
    assert (sent.body["fileName"], sent.body["file"]) == ("upload.gif", data_uri(GIF, "image/gif"))
    assert [item["url"] for item in library(emulator)] == [uploaded["url"]]


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (data_uri(b"#!/bin/sh\nrm -rf ~\n"), "are not a image/png file"),
        (data_uri(GIF, "image/png"), "are not a image/png file"),
        ("data:image/png,notbase64", "must be data:<type>;base64"),
        ("data:image/png;base64,@@@", "base64 is not valid"),
    ],
)
async def test_a_data_uri_must_hold_what_it_says(emulator: RunningEmulator, home: Path, uri: str, problem: str) -> None:
    async with media_client(emulator, home, [], person=User()) as client:
        refused = await fail(client, UPLOAD, {"file": uri})

    assert problem in refused["error"]
    assert nothing_uploaded(emulator)


async def test_over_http_a_local_path_is_refused_and_a_data_uri_is_taken(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    (pictures / "beach.png").write_bytes(PNG)
    env = {"AYRSHARE_BASE_URL": emulator.url, "AYRSHARE_API_KEY": API_KEY, "HOME": str(home)}
    args = ["--transport", "streamable-http", "--toolsets", "media", "--media-dir", str(pictures)]

    with anyio.fail_after(WAIT):
        async with serving_here(args, env) as (_, url, _), http_session(url, elicitation=User()) as client:
            refused = await fail(client, UPLOAD, {"file": str(pictures / "beach.png")})
            uploaded = await succeed(client, UPLOAD, {"file": data_uri(PNG)})

    assert "data: URI" in refused["error"]
    assert "1 MiB" in refused["error"]
    [sent] = emulator.app.received("/api/media/upload")
    assert sent.body["file"] == data_uri(PNG)
    assert uploaded["url"].startswith("https://")


# --- the library and the URL check --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["array", "object"])
async def test_the_media_list_reads_either_documented_shape(emulator: RunningEmulator, home: Path, shape: str) -> None:
    emulated.store(emulator.service).switches.list_answer = shape  # type: ignore[assignment]

    async with media_client(emulator, home, []) as client:
        empty = await succeed(client, LIST, {})
        uploaded = await succeed(client, UPLOAD, {"file": data_uri(PNG)})
        listed = await succeed(client, LIST, {})

    assert empty["media"] == []
    assert [item["url"] for item in listed["media"]] == [uploaded["url"]]


@pytest.mark.parametrize("missing_status", [200, 400])
async def test_a_media_url_is_checked_by_ayrshare_and_never_fetched_here(
    emulator: RunningEmulator, home: Path, missing_status: int
) -> None:
    emulated.store(emulator.service).switches.missing_url_status = missing_status
    network = StorageOnLoopback(emulator)

    async with media_client(emulator, home, [], transport=network) as client:
        uploaded = await succeed(client, UPLOAD, {"file": data_uri(PNG)})
        known = await succeed(client, VERIFY, {"mediaUrl": uploaded["url"]})
        unknown = await succeed(client, VERIFY, {"mediaUrl": "https://169.254.169.254/latest/meta-data/x.png"})

    assert (known["exists"], known["contentType"]) == (True, "image/png")
    assert (unknown["exists"], unknown["statusCode"]) == (False, 404)
    assert all(url.host == "127.0.0.1" for url in network.asked), "the server fetched nothing itself"


# --- settings ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [("/no/such/folder", "is not an existing folder"), ("Pictures", "is a relative path")],
)
def test_an_unusable_media_folder_stops_the_start_naming_the_setting(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_environ({"AYRSHARE_MEDIA_DIRS": value})

    assert "AYRSHARE_MEDIA_DIRS" in str(raised.value)
    assert problem in str(raised.value)


def test_media_folders_are_resolved_and_none_is_the_default(pictures: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(pictures)

    assert Settings.from_environ({}).media_dirs == ()
    assert Settings.from_environ({"AYRSHARE_MEDIA_DIRS": "${user_config.media_dir}"}).media_dirs == ()
    both = os.pathsep.join([str(alias), f"{pictures}/../{pictures.name}"])
    assert Settings.from_environ({"AYRSHARE_MEDIA_DIRS": both}).media_dirs == (pictures.resolve(),)


async def test_media_dir_flags_replace_the_variable_and_a_bad_one_stops_the_command(
    pictures: Path, tmp_path: Path, home: Path
) -> None:
    env = {"AYRSHARE_MEDIA_DIRS": str(tmp_path), "HOME": str(home), "AYRSHARE_SANDBOX": "1"}

    code, _, stderr = await run_cli("--media-dir", str(pictures / "missing"), "tools", env=env)
    good, _, _ = await run_cli("--media-dir", str(pictures), "tools", env=env)

    assert code == 1
    assert "--media-dir" in stderr
    assert "not an existing folder" in stderr
    assert good == 0


# --- the SDK oracle ------------------------------------------------------------------------------------------------

SDK_ORACLE = [
    Operation("list the media library", lambda sdk: sdk.media(), LIST, {}),
    Operation(
        "verify a media URL",
        lambda sdk: sdk.verifyMediaExists({"mediaUrl": "https://img.example/a.png"}),
        VERIFY,
        {"mediaUrl": "https://img.example/a.png"},
    ),
]
SDK_ORACLE_EXEMPT = {
    UPLOAD: "the SDK's upload() POSTs to /upload, not /media/upload, and it has no PUT to a presigned URL; the "
    "uploadUrl request is compared with its mediaUploadUrl() in test_media.py",
}


async def test_the_upload_url_request_is_the_one_ayrshares_sdk_sends(
    emulator: RunningEmulator, home: Path, pictures: Path
) -> None:
    video = pictures / "clip.mp4"
    video.write_bytes(mp4_header() + bytes(DIRECT_MAX_BYTES))
    async with media_client(emulator, home, [pictures], person=User()) as client:
        await succeed(client, UPLOAD, {"file": str(video)})
    [ours] = emulator.app.received("/api/media/uploadUrl")

    original, ayrshare_sdk.base = ayrshare_sdk.base, emulator.url + "/"
    try:
        sdk = SocialPost(API_KEY)
        with anyio.fail_after(WAIT):
            await anyio.to_thread.run_sync(lambda: sdk.mediaUploadUrl({"fileName": "clip.mp4", "contentType": "mp4"}))
    finally:
        ayrshare_sdk.base = original
    [_, theirs] = emulator.app.received("/api/media/uploadUrl")

    assert ours.method == theirs.method == "GET"
    assert ours.query_dict() == {name: value for name, value in theirs.query_dict().items() if name != "source"}
    assert ours.header("authorization") == theirs.header("authorization") == f"Bearer {API_KEY}"
