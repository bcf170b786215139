"""Media to upload: a local file from a folder the user allowed (stdio only), or a `data:` URI.

A prompt-injected model must not be able to publish ~/.ssh/id_rsa. So a local file is read only when all of these
hold, each checked on what is actually read rather than on its name:
- it lies under a folder the user allowed (AYRSHARE_MEDIA_DIRS, --media-dir, the bundle's folder picker), after
  symlinks and `..` are resolved; the folder is recognised by identity (device and inode), which holds on
  case-insensitive filesystems too;
- it is opened by walking down from that folder one name at a time, refusing a symlink at every step, so nothing
  swapped in after the check can lead outside; and the opened file must be the one that was checked;
- it is a regular file (not a FIFO, device or folder), of at most MAX_FILE_BYTES, and its first bytes say it is a
  JPEG, PNG, GIF, WebP, MP4 or MOV, whatever its name says.

Over HTTP the server's disk is not the caller's: only `data:` URIs are taken. No URL is ever fetched for a caller
(that would be SSRF on a hosted server): an https media URL goes straight into a post's mediaUrls instead.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
import os
import stat
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

import anyio.to_thread
import httpx2

# Ayrshare's direct upload (POST /media/upload) takes files up to 10 MB; above that, a presigned upload URL.
DIRECT_MAX_BYTES = 10 * 1024 * 1024
# Ayrshare's presigned upload takes up to 5 GB, but this server caps a file at 1 GiB: the upload must finish within a
# tool call (hosts give up after about a minute, and AYRSHARE_TIMEOUT allows 600 s at most), and every network's own
# video limit but YouTube's and TikTok's is below it (X 512 MB, Instagram and Facebook 1 GB at most).
MAX_FILE_BYTES = 1024 * 1024 * 1024
# Read in pieces this size, so a large file never sits in memory whole.
CHUNK_BYTES = 1024 * 1024
# The longest path taken (Linux's PATH_MAX): resolving one costs time that grows with the square of its length.
MAX_PATH_BYTES = 4096
# The streamable-HTTP and SSE transports refuse a request body above this (transports.options.HttpLimits).
HTTP_BODY_LIMIT = "1 MiB"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class MediaType:
    mime: str
    # The extension a file of this type carries, and the contentType Ayrshare's uploadUrl takes ("" when it takes
    # none: such files go by the direct upload only).
    extension: str
    upload_url_type: str


JPEG = MediaType("image/jpeg", "jpg", "jpg")
PNG = MediaType("image/png", "png", "png")
GIF = MediaType("image/gif", "gif", "")
WEBP = MediaType("image/webp", "webp", "")
MP4 = MediaType("video/mp4", "mp4", "mp4")
MOV = MediaType("video/quicktime", "mov", "mov")
MEDIA_TYPES = (JPEG, PNG, GIF, WEBP, MP4, MOV)
ALLOWED = "JPEG, PNG, GIF, WebP, MP4 or MOV"
# The ISO base media brands of MP4 video (not HEIC or AVIF images, which share the container).
_MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"})


def sniff(head: bytes) -> MediaType | None:
    """The media type the first bytes of a file show, or None when they show none of the allowed ones."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return MOV
        if brand in _MP4_BRANDS:
            return MP4
    return None


class MediaRefusal(Exception):
    """The media cannot be uploaded; the message says why and what to do instead."""


@dataclass(frozen=True)
class MediaAccess:
    """What this call may read: the allowed folders, whether local files are taken at all (stdio and in-process
    only), and the network the presigned upload goes through (the server's own; swapped in the sandbox and tests)."""

    folders: tuple[Path, ...] = ()
    local_files: bool = True
    transport: httpx2.AsyncBaseTransport | None = None


# Set by the server for each tool call (see server.call_tool); the tools read it.
# Outside a call nothing may be read: no folders. (MediaAccess is frozen, so the shared default cannot change.)
ACCESS: contextvars.ContextVar[MediaAccess] = contextvars.ContextVar("media_access", default=MediaAccess())  # noqa: B039

NO_FOLDERS = (
    "No folder is allowed for uploads, so no local file can be read. The user can allow one: AYRSHARE_MEDIA_DIRS="
    "/path/to/folder (several separated by the OS path separator), --media-dir /path/to/folder, or the media folder "
    "setting in Claude Desktop; then restart the server. Or pass the file as a data: URI."
)
NOT_OVER_HTTP = (
    "This server runs over HTTP, so a local path would name a file on the server's disk, not yours: pass the file "
    f"as a data: URI (base64) within the {HTTP_BODY_LIMIT} request limit. For a file already online, put its https "
    "URL in the post's mediaUrls instead."
)


@dataclass(frozen=True)
class Identity:
    """A file as checked: which one (device, inode), and its size and last change, so a swap or edit is seen."""

    device: int
    inode: int
    size: int
    changed_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> Identity:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


@dataclass(frozen=True)
class LocalFile:
    """A checked local file: where it is, what it is, and its digest, all as the person is shown them."""

    path: Path
    identity: Identity
    media_type: MediaType
    sha256: str
    # Where the path leads once links and ".." are followed: what the person must be shown, since it is what is read.
    real_path: Path

    @property
    def size(self) -> int:
        return self.identity.size


def _refuse_not_found(path: str) -> MediaRefusal:
    return MediaRefusal(f"There is no readable file at {path!r}. Give the full path of a file in an allowed folder.")


def resolve(path: str, folders: tuple[Path, ...]) -> tuple[Path, tuple[str, ...]]:
    """The allowed folder `path` lies under, once symlinks and `..` are resolved, and its parts below that folder.

    Raises:
        MediaRefusal: it lies under none of them, or does not exist.
    """
    if len(os.fsencode(path)) > MAX_PATH_BYTES or any(ord(character) < 32 for character in path):
        raise MediaRefusal(
            f"That is not a file path (longer than {MAX_PATH_BYTES} bytes, or holding control characters). Give the "
            "file's full path, e.g. ~/Pictures/photo.jpg."
        )
    given = Path(path).expanduser()
    if not given.is_absolute():
        raise MediaRefusal(f"{path!r} is not a full path. Give the file's full path, e.g. ~/Pictures/photo.jpg.")
    resolved = Path(os.path.realpath(given))
    allowed = {_identity_of_folder(folder): folder for folder in folders}
    for ancestor in resolved.parents:
        try:
            here = _identity_of_folder(ancestor)
        except OSError:
            # Not told apart from "not allowed": whether a path exists outside the folders is none of the caller's
            # business.
            continue
        if here in allowed:
            return allowed[here], resolved.relative_to(ancestor).parts
    raise MediaRefusal(
        f"{path!r} is not in a folder the user allowed for uploads ({', '.join(map(str, folders))}); symlinks and "
        "'..' count where they lead. Move or copy the file into an allowed folder, or ask the user to allow its folder."
    )


def _identity_of_folder(folder: Path) -> tuple[int, int]:
    status = os.stat(folder)
    return status.st_dev, status.st_ino


@contextmanager
def open_checked(
    path: str, folders: tuple[Path, ...], expected: Identity | None = None
) -> Iterator[tuple[int, Identity]]:
    """The file at `path` opened for reading, with its identity, if it may be read: under an allowed folder, reached
    without following a symlink, a regular file of at most MAX_FILE_BYTES, and, when `expected` is given, the very
    file checked before (same device, inode, size and modification time).

    Raises:
        MediaRefusal: any of these does not hold.
    """
    if not folders:
        raise MediaRefusal(NO_FOLDERS)
    folder, parts = resolve(path, folders)
    if not parts:
        raise MediaRefusal(f"{path!r} is a folder, not a file. Name one file in it.")
    fd = _walk(folder, parts, path)
    try:
        status = os.fstat(fd)
        _require_regular(status, path)
        identity = Identity.of(status)
        if expected is not None and identity != expected:
            raise MediaRefusal(
                f"{path!r} changed after it was checked (replaced, edited or swapped), so nothing was uploaded. Check "
                "the file and ask again."
            )
        yield fd, identity
    finally:
        os.close(fd)


def _walk(folder: Path, parts: tuple[str, ...], path: str) -> int:
    """Open `folder`/`parts` one name at a time from the allowed folder, refusing a symlink at every step."""
    flags = os.O_RDONLY | _BINARY
    try:
        fd = os.open(folder, flags | _DIRECTORY)
    except OSError:
        raise _refuse_not_found(path) from None
    try:
        if (os.fstat(fd).st_dev, os.fstat(fd).st_ino) != _identity_of_folder(folder):
            raise MediaRefusal(f"The allowed folder {str(folder)!r} changed while it was opened. Try again.")
        for index, name in enumerate(parts):
            last = index == len(parts) - 1
            # Non-blocking: opening a FIFO would otherwise wait for a writer forever. No controlling terminal either.
            mode = flags | _NOFOLLOW | (_NONBLOCK | _NOCTTY if last else _DIRECTORY)
            try:
                child = os.open(name, mode, dir_fd=fd)
            except OSError:
                raise MediaRefusal(
                    f"{path!r} could not be opened without following a link, or does not exist. Give the file's "
                    "real path in an allowed folder."
                ) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _require_regular(status: os.stat_result, path: str) -> None:
    if not stat.S_ISREG(status.st_mode):
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "not a regular file (a pipe, device or socket)"
        raise MediaRefusal(f"{path!r} is {kind}. Only image and video files can be uploaded.")
    if status.st_size == 0:
        raise MediaRefusal(f"{path!r} is empty. Choose an image or video file.")
    if status.st_size > MAX_FILE_BYTES:
        raise MediaRefusal(
            f"{path!r} is {megabytes(status.st_size)}; this server uploads files up to {megabytes(MAX_FILE_BYTES)}. "
            "Use a smaller or compressed version."
        )


def _read(fd: int, offset: int, size: int) -> bytes:
    return os.pread(fd, size, offset)


def check_file(path: str, folders: tuple[Path, ...]) -> LocalFile:
    """The file at `path`, checked as the module says, with its type and digest (read in chunks)."""
    with open_checked(path, folders) as (fd, identity):
        media_type = _type_of(_read(fd, 0, 16), path)
        if identity.size > DIRECT_MAX_BYTES and not media_type.upload_url_type:
            raise MediaRefusal(
                f"{path!r} is a {media_type.mime} of {megabytes(identity.size)}; Ayrshare takes GIF and WebP files up "
                f"to {megabytes(DIRECT_MAX_BYTES)} (its large-file upload takes MP4, MOV, PNG and JPEG only)."
            )
        # A small file's digest binds the yes to its bytes; a large one is bound by its identity, checked again after
        # it was sent (reading a gigabyte for each question would make the person wait).
        digest = (
            hashlib.sha256(b"".join(_chunks(fd, identity.size))).hexdigest()
            if identity.size <= DIRECT_MAX_BYTES
            else ""
        )
        real = Path(os.path.realpath(Path(path).expanduser()))
        return LocalFile(Path(path).expanduser(), identity, media_type, digest, real)


def _type_of(head: bytes, path: str) -> MediaType:
    media_type = sniff(head)
    if media_type is None:
        raise MediaRefusal(
            f"{path!r} is not a {ALLOWED} file by its content, whatever its name says. Only images and videos of "
            "those types can be uploaded."
        )
    return media_type


def _chunks(fd: int, size: int) -> Iterator[bytes]:
    offset = 0
    while offset < size:
        chunk = _read(fd, offset, min(CHUNK_BYTES, size - offset))
        if not chunk:
            return
        offset += len(chunk)
        yield chunk


def read_whole(checked: LocalFile, folders: tuple[Path, ...]) -> bytes:
    """The bytes of a small file (at most DIRECT_MAX_BYTES), if it is still the file that was checked.

    Raises:
        MediaRefusal: it changed since, or its bytes are not those checked.
    """
    with open_checked(str(checked.path), folders, checked.identity) as (fd, identity):
        data = b"".join(_chunks(fd, identity.size))
    if hashlib.sha256(data).hexdigest() != checked.sha256:
        raise MediaRefusal(f"{str(checked.path)!r} changed after it was checked, so nothing was uploaded. Ask again.")
    return data


async def stream(checked: LocalFile, folders: tuple[Path, ...]) -> AsyncIterator[bytes]:
    """The bytes of a large file in chunks, read off the event loop, if it is still the file that was checked.

    Raises:
        MediaRefusal: it changed before or while it was read; the upload is then abandoned unfinished.
    """
    with open_checked(str(checked.path), folders, checked.identity) as (fd, identity):
        offset = 0
        while offset < identity.size:
            chunk = await anyio.to_thread.run_sync(_read, fd, offset, min(CHUNK_BYTES, identity.size - offset))
            if not chunk:
                break
            offset += len(chunk)
            yield chunk
        if offset != identity.size or Identity.of(os.fstat(fd)) != identity:
            raise MediaRefusal(f"{str(checked.path)!r} changed while it was uploaded, so the upload is not used.")


@dataclass(frozen=True)
class DataMedia:
    """Media passed inline as a data: URI, decoded and checked."""

    data: bytes
    media_type: MediaType

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def uri(self) -> str:
        return f"data:{self.media_type.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def decode_data_uri(uri: str) -> DataMedia:
    """A `data:<type>;base64,<bytes>` URI, decoded, of an allowed type by its content (which must agree with the type
    it declares), at most DIRECT_MAX_BYTES.

    Raises:
        MediaRefusal: it is not one.
    """
    header, comma, payload = uri.partition(",")
    declared = header.removeprefix("data:").removesuffix(";base64").lower()
    if not comma or not header.lower().endswith(";base64") or ";" in declared:
        raise MediaRefusal("A data: URI must be data:<type>;base64,<base64 bytes>, e.g. data:image/png;base64,iVBOR...")
    if len(payload) > (DIRECT_MAX_BYTES // 3 + 1) * 4:
        raise MediaRefusal(
            f"The data: URI holds more than {megabytes(DIRECT_MAX_BYTES)}; inline media must be smaller."
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MediaRefusal("The data: URI's base64 is not valid (no spaces or line breaks).") from None
    media_type = sniff(data[:16])
    if media_type is None or media_type.mime != declared:
        raise MediaRefusal(
            f"The data: URI's bytes are not a {declared or 'media'} file: it must hold a {ALLOWED} file whose type "
            "matches the URI's."
        )
    return DataMedia(data, media_type)


def file_name_for(name: str, media_type: MediaType) -> str:
    """`name` without any folder, with the extension its content calls for (photo.jpg that is a PNG: photo.png)."""
    stem = PurePath(name.replace("\\", "/")).stem or "upload"
    return f"{stem}.{media_type.extension}"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
