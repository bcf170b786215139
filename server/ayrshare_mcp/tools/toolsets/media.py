"""The media toolset: upload an image or video to Ayrshare, list the media library, check that a media URL can be
fetched.

An upload puts a file at a public URL, so it asks first, showing the path, size and type. With nobody to ask, a file
from a folder the user allowed goes ahead (allowing the folder was the consent, and the file is seen only once a
post uses it, which asks or is held), as does a data: URI (the caller's own bytes). What may be read, and how, is
`tools.media_files`; the presigned upload of a large file is `client.storage`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import anyio.to_thread
from pydantic import Field

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.client import Account, JSONObject
from ayrshare_mcp.client.storage import content_type_for, put_presigned
from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.settings import Unattended
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.fields import HttpsUrl, Text
from ayrshare_mcp.tools.media_files import (
    ACCESS,
    DIRECT_MAX_BYTES,
    HTTP_BODY_LIMIT,
    NOT_OVER_HTTP,
    DataMedia,
    LocalFile,
    MediaRefusal,
    check_file,
    decode_data_uri,
    file_name_for,
    megabytes,
    read_whole,
    stream,
)
from ayrshare_mcp.tools.questions import visible
from ayrshare_mcp.tools.spec import READ, WRITE, Clearance, Confirmation, Proceed, ToolRefusal, ToolSpec

SUMMARY = "Upload images and videos (from allowed folders, or inline), list the media library, verify a media URL."

UPLOAD_MEDIA = "AYRSHARE_UPLOAD_MEDIA"
LIST_MEDIA = "AYRSHARE_LIST_MEDIA"
VERIFY_MEDIA_URL = "AYRSHARE_VERIFY_MEDIA_URL"

# A data: URI of DIRECT_MAX_BYTES, base64-encoded, with room for its header.
_MAX_FILE_ARGUMENT = (DIRECT_MAX_BYTES // 3 + 1) * 4 + 100
PUBLIC_URL = "It gets a public URL: anyone who has the URL can open it."


class UploadMediaArguments(ToolArguments):
    file: str = Field(
        min_length=1,
        max_length=_MAX_FILE_ARGUMENT,
        description="Full path of a local file in a folder the user allowed (stdio only), or a data:<type>;base64,... "
        "URI.",
    )
    file_name: Annotated[Text, Field(min_length=1, max_length=255)] | None = Field(
        default=None, alias="fileName", description="Name to store it under."
    )
    description: Annotated[Text, Field(max_length=2000)] | None = Field(default=None, description="Stored with it.")


Media = LocalFile | DataMedia


async def _media(args: UploadMediaArguments) -> Media:
    """The media the arguments name, checked; a ToolRefusal saying why not."""
    try:
        if args.file.startswith("data:"):
            return decode_data_uri(args.file)
        access = ACCESS.get()
        if not access.local_files:
            raise MediaRefusal(NOT_OVER_HTTP)
        return await anyio.to_thread.run_sync(check_file, args.file, access.folders)
    except MediaRefusal as refusal:
        raise ToolRefusal(f"{refusal} Nothing was uploaded.") from None


def _file_name(args: UploadMediaArguments, media: Media) -> str:
    given = args.file_name or (media.path.name if isinstance(media, LocalFile) else "upload")
    return file_name_for(given, media.media_type)


def _facts(media: Media) -> dict[str, str]:
    """What the person is shown about the media, which the upload must keep to."""
    if isinstance(media, LocalFile):
        identity = media.identity
        return {"file": f"{identity.device}:{identity.inode}:{identity.size}:{identity.changed_ns}:{media.sha256}"}
    return {"file": hashlib.sha256(media.data).hexdigest()}


async def _check(account: Account, args: UploadMediaArguments) -> None:
    await _media(args)


def _source(media: Media) -> str:
    if not isinstance(media, LocalFile):
        return "media passed inline"
    leads_to = "" if media.real_path == media.path else f" (which is {visible(str(media.real_path))!r})"
    return f"the file {visible(str(media.path))!r}{leads_to}"


async def _question(account: Account, args: UploadMediaArguments) -> Question:
    media = await _media(args)
    source = _source(media)
    profile = "the profile of this call's Profile-Key" if args.profile_key else "the default Ayrshare profile"
    named = visible(_file_name(args, media))
    described = f"\n\nDescription: {visible(args.description)}" if args.description else ""
    return Question(
        f"Upload {source} ({megabytes(media.size)}, {media.media_type.mime}) to the media library of {profile}, as "
        f"{named!r}? {PUBLIC_URL}{described}",
        consent="Yes, upload it",
        consequence=PUBLIC_URL,
        subject=json.dumps([args.file if isinstance(media, DataMedia) else str(media.path), _facts(media), named]),
        shown=_facts(media),
    )


def _unattended(args: UploadMediaArguments, unattended: Unattended) -> Proceed[UploadMediaArguments]:
    return Proceed(args, Clearance("operator"))


async def _upload(account: Account, args: UploadMediaArguments, clearance: Clearance) -> JSONObject:
    media = await _media(args)
    if clearance.question is not None and dict(clearance.question.shown) != _facts(media):
        raise ToolRefusal("The file changed after the person was asked, so nothing was uploaded. Ask again.")
    name = _file_name(args, media)
    if isinstance(media, LocalFile) and media.size > DIRECT_MAX_BYTES:
        return await _upload_large(account, media, name)
    if isinstance(media, LocalFile):
        try:
            data = await anyio.to_thread.run_sync(read_whole, media, ACCESS.get().folders)
        except MediaRefusal as refusal:
            raise ToolRefusal(str(refusal)) from None
        media = DataMedia(data, media.media_type)
    body: dict[str, Any] = {"file": media.uri, "fileName": name}
    if args.description:
        body["description"] = args.description
    return await account.upload_media(body)


async def _upload_large(account: Account, media: LocalFile, name: str) -> JSONObject:
    """Above Ayrshare's direct limit: a presigned URL, then the bytes PUT there in chunks, with no credentials."""
    answer = await account.media_upload_url(name, media.media_type.upload_url_type)
    access = ACCESS.get()
    try:
        await put_presigned(
            answer.get("uploadUrl"),
            stream(media, access.folders),
            size=media.size,
            content_type=content_type_for(answer.get("contentType"), media.media_type.mime),
            seconds=max(account.deadline - anyio.current_time(), 1.0),
            transport=access.transport,
        )
    except MediaRefusal as refusal:
        raise ToolRefusal(str(refusal)) from None
    return {
        "status": "success",
        "accessUrl": answer.get("accessUrl"),
        "contentType": media.media_type.mime,
        "fileName": name,
        "size": media.size,
    }


class ListMediaArguments(ToolArguments):
    pass


async def list_media(account: Account, args: ListMediaArguments) -> JSONObject:
    return await account.list_media()


class VerifyMediaUrlArguments(ToolArguments):
    media_url: HttpsUrl = Field(alias="mediaUrl", description="The https URL of an image or video.")


async def verify_media_url(account: Account, args: VerifyMediaUrlArguments) -> JSONObject:
    answer = await account.verify_media_url(args.media_url)
    return {"exists": answer.get("status") == "success", **answer}


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=UPLOAD_MEDIA,
        title="Upload Media",
        description=(
            "Upload an image or video to the Ayrshare media library; returns its URL for a post's mediaUrls. JPEG, "
            "PNG, GIF, WebP, MP4 or MOV, judged by content; up to 1 GB (GIF and WebP: 10 MB). Over HTTP only a data: "
            f"URI is taken, within the {HTTP_BODY_LIMIT} request limit. Media already at an https URL needs no "
            "upload: put the URL in mediaUrls. Asks the user first."
        ),
        arguments=UploadMediaArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=Confirmation(
            act=_upload,
            question=_question,
            declined="Nothing was uploaded: the user said no.",
            unattended=_unattended,
            check=_check,
        ),
    ),
    ToolSpec(
        name=LIST_MEDIA,
        title="List Media",
        description="The media library: the files uploaded to Ayrshare, with their URLs.",
        arguments=ListMediaArguments,
        annotations=READ,
        handler=list_media,
    ),
    ToolSpec(
        name=VERIFY_MEDIA_URL,
        title="Verify Media URL",
        description=(
            "Whether Ayrshare can fetch a media URL, before it goes in a post's mediaUrls (exists, HTTP status, "
            "content type)."
        ),
        arguments=VerifyMediaUrlArguments,
        annotations=READ,
        handler=verify_media_url,
    ),
)
