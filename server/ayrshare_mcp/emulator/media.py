"""The emulated media library: direct uploads (POST /media/upload), presigned uploads of large files (GET
/media/uploadUrl, then a PUT to the storage URL it names), the library listing (GET /media) and the URL check
(POST /media/urlExists), in the shapes Ayrshare documents (../shared/reference/ayrshare-engagement-api.md).

The presigned URL names `STORAGE_HOST` over https, as Ayrshare's names a cloud bucket; the emulator serves the PUT
itself under STORAGE_PATH, without an Ayrshare key (the URL is its own authorisation), and records what arrived so
tests can see that no credential came with it. Tests reach it through a transport that maps the storage host to the
emulator's loopback address; the sandbox's in-memory transport reaches it as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

from ayrshare_mcp.emulator.ayrshare import JSON, Ayrshare, Call, ErrorAnswer, Profile, Reply, Route, iso

STORAGE_HOST = "storage.emulator.invalid"
STORAGE_PATH = "/__storage__/"
MEDIA_HOST = "img.emulator.invalid"
DIRECT_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_URL_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "png": "image/png", "jpg": "image/jpeg",
                    "jpeg": "image/jpeg"}  # fmt: skip


@dataclass
class MediaSwitches:
    """What the docs leave open about media."""

    # GET /media: the docs show a bare array; the other reading wraps it as {"media": [...]}.
    list_answer: Literal["array", "object"] = "array"
    # POST /media/urlExists for a URL that cannot be fetched: the docs show the body, not the HTTP status.
    missing_url_status: int = 200


@dataclass
class _Pending:
    """A presigned upload waiting for its PUT."""

    library: list[JSON]
    item: JSON


@dataclass
class _Store:
    switches: MediaSwitches = field(default_factory=MediaSwitches)
    pending: dict[str, _Pending] = field(default_factory=dict)
    # What each presigned PUT carried, in order: its headers and the digest and size of its body.
    puts: list[JSON] = field(default_factory=list)


_STORES: weakref.WeakKeyDictionary[Ayrshare, _Store] = weakref.WeakKeyDictionary()


def store(service: Ayrshare) -> _Store:
    """The media state of one emulated service (its switches, libraries and the PUTs it received)."""
    if service not in _STORES:
        _STORES[service] = _Store()
    return _STORES[service]


def forget(service: Ayrshare) -> None:
    """Back to no media, no pending uploads and default switches (the emulator's reset)."""
    _STORES.pop(service, None)


def library(service: Ayrshare, profile: Profile) -> list[JSON]:
    return profile.media


def _new_item(service: Ayrshare, file_name: str, content_type: str, description: Any, size: int) -> JSON:
    media_id = secrets.token_hex(10)
    return {
        "id": media_id,
        "fileName": file_name,
        "url": f"https://{MEDIA_HOST}/{media_id}/{file_name}",
        "contentType": content_type,
        "size": size,
        "description": description if isinstance(description, str) else "",
        "created": iso(service.clock()),
    }


def upload(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /media/upload` with JSON: a base64 data: URI of at most 10 MB."""
    body = call.json_object()
    uri, file_name = body.get("file"), body.get("fileName")
    if not isinstance(uri, str) or not uri.startswith("data:") or ";base64," not in uri:
        raise ErrorAnswer(400, "file must be a base64 data URI, e.g. data:image/png;base64,...", action="upload")
    header, _, payload = uri.partition(",")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ErrorAnswer(400, "file is not valid base64.", action="upload") from None
    if len(data) > DIRECT_MAX_BYTES:
        raise ErrorAnswer(400, "Files above 10 MB must use /media/uploadUrl.", action="upload")
    name = file_name if isinstance(file_name, str) and file_name else "upload"
    item = _new_item(
        service, name, header.removeprefix("data:").removesuffix(";base64"), body.get("description"), len(data)
    )
    library(service, profile).append(item)
    return Reply(200, {"status": "success", "id": item["id"], "url": item["url"], "fileName": name,
                       "description": item["description"]})  # fmt: skip


def upload_url(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`GET /media/uploadUrl?fileName=&contentType=`: a presigned https URL for one PUT, and the URL to use after."""
    file_name, kind = call.query.get("fileName", ""), call.query.get("contentType", "")
    if not file_name:
        raise ErrorAnswer(400, "fileName is required.", action="upload")
    content_type = UPLOAD_URL_TYPES.get(kind.lower())
    if content_type is None:
        raise ErrorAnswer(400, "contentType must be mp4, mov, png, jpg or jpeg.", action="upload")
    token = secrets.token_urlsafe(16)
    item = _new_item(service, file_name, content_type, "", 0)
    store(service).pending[token] = _Pending(library(service, profile), item)
    return Reply(200, {"accessUrl": item["url"], "contentType": content_type,
                       "uploadUrl": f"https://{STORAGE_HOST}{STORAGE_PATH}{token}?X-Signature=emulated"})  # fmt: skip


def receive_put(service: Ayrshare, method: str, path: str, headers: dict[str, str], data: bytes) -> Reply:
    """The storage's side of a presigned PUT: the file appears in its profile's library once its bytes arrived."""
    media = store(service)
    media.puts.append({"headers": dict(headers), "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    pending = media.pending.pop(path.removeprefix(STORAGE_PATH), None)
    if method != "PUT" or pending is None:
        return Reply(403, {"status": "error", "message": "The presigned URL is not valid (used, expired or unknown)."})
    declared = headers.get("content-length")
    if declared is not None and declared != str(len(data)):
        return Reply(400, {"status": "error", "message": "The body is shorter than its Content-Length."})
    pending.item["size"] = len(data)
    pending.library.append(pending.item)
    return Reply(200, {})


def list_media(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    items = [dict(item) for item in library(service, profile)]
    if store(service).switches.list_answer == "object":
        return Reply(200, {"media": items})
    # The documented answer is a bare array, which a Reply otherwise never carries.
    return Reply(200, items)  # type: ignore[arg-type]


def url_exists(service: Ayrshare, profile: Profile, call: Call) -> Reply:
    """`POST /media/urlExists`: found for a URL in any library of this service, else the fetch's 404."""
    url = call.json_object().get("mediaUrl")
    if not isinstance(url, str) or not url:
        raise ErrorAnswer(400, "mediaUrl is required.", action="urlExists")
    for items in (owner.media for owner in service.profiles.values()):
        for item in items:
            if item["url"] == url:
                return Reply(200, {"status": "success", "statusCode": 200, "contentType": item["contentType"]})
    status = store(service).switches.missing_url_status
    return Reply(status, {"status": "error", "statusCode": 404, "statusText": "Not Found"})


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/media/upload"): upload,
    ("GET", "/api/media/uploadUrl"): upload_url,
    ("GET", "/api/media"): list_media,
    ("POST", "/api/media/urlExists"): url_exists,
}
