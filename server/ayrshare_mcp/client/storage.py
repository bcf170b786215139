"""The one request that does not go to Ayrshare: a large file's bytes, PUT to the presigned URL Ayrshare named for it.

Nothing of the caller's goes with it: no Authorization, no Profile-Key, no X pair, no cookie, and not the environment's
either (no ~/.netrc login, no proxy credentials: `trust_env` is off). A presigned URL is its own authorisation, and a
key sent to a storage host is a key leaked. The bytes go to that URL only: https, no user
name or password in it, and no redirect followed, so an answer cannot send them anywhere else.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import string
from collections.abc import AsyncIterable
from urllib.parse import urlsplit

import anyio
import httpx2

from ayrshare_mcp import __version__
from ayrshare_mcp.client.client import trust_store
from ayrshare_mcp.client.errors import AyrshareError

_UNSAFE = frozenset(string.whitespace) | {chr(code) for code in range(0x20)} | {"\x7f"}
# A media type as a header may carry it; anything else in an answer is replaced by the type the file was read as.
# A storage's answer to a PUT is a status and a short body: no more of it is read.
MAX_ANSWER_BYTES = 64 * 1024
_CONTENT_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]{0,60}")


class StorageError(AyrshareError):
    """The presigned upload was refused before it was sent, or did not complete."""


def checked_upload_url(url: object) -> str:
    """The presigned URL, if it is one the bytes may go to: https, with a host, and no credentials of its own.

    Raises:
        StorageError: it is not.
    """
    refusal = StorageError(
        "Nothing was uploaded: Ayrshare's answer named an upload URL that is not a plain https URL, so the file was "
        "not sent. Try again; if it persists, report it."
    )
    if not isinstance(url, str) or any(character in _UNSAFE for character in url):
        raise refusal
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise refusal from None
    if parts.scheme != "https" or not parts.hostname or parts.username is not None or parts.password is not None:
        raise refusal
    try:
        httpx2.URL(url)
    except httpx2.InvalidURL:
        raise refusal from None
    if not _public_name(parts.hostname):
        raise StorageError(
            "Nothing was uploaded: Ayrshare's answer named an upload host on this machine or a private network, "
            "where its storage never is, so the file was not sent. Try again; if it persists, report it."
        )
    return url


def _public_name(host: str) -> bool:
    """Whether `host` can be a storage host on the internet: a global address, or a name with a dot that is not
    localhost (an answer that names an internal host must not get a file, nor a request, from this server)."""
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        name = host.rstrip(".").lower()
        return "." in name and not name.endswith((".localhost", ".local", ".internal")) and name != "localhost"


async def _resolves_publicly(host: str) -> bool:
    """Whether every address `host` resolves to is a global one (checked when the real network is used)."""
    try:
        found = await anyio.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        return True  # not resolvable: the PUT itself fails, and says so
    return all(ipaddress.ip_address(str(address[4][0]).split("%")[0]).is_global for address in found)


async def _read_at_most(response: httpx2.Response, limit: int) -> None:
    """Read the storage's answer to its end, or to `limit` bytes: a storage that drops the connection mid-answer is
    seen, and one that never stops answering cannot fill this process's memory."""
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= limit:
                break
    finally:
        await response.aclose()


def content_type_for(answered: object, read_as: str) -> str:
    """The Content-Type the PUT carries: Ayrshare's, as presigned URLs are signed for it, if it is a plain media
    type; else the type the file was read as."""
    return answered if isinstance(answered, str) and _CONTENT_TYPE.fullmatch(answered) else read_as


async def put_presigned(
    url: object,
    content: AsyncIterable[bytes],
    *,
    size: int,
    content_type: str,
    seconds: float,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> None:
    """PUT `size` bytes to the presigned `url` within `seconds`; `transport` swaps the network (sandbox, tests).

    Raises:
        StorageError: the URL is not one to send to, or the upload did not complete (never repeated: the file may
            be half there, and a new URL is a new start).
    """
    target = checked_upload_url(url)
    if transport is None and not await _resolves_publicly(httpx2.URL(target).host):
        raise StorageError(
            "Nothing was uploaded: the upload host Ayrshare named resolves to an address on this machine or a private "
            "network, so the file was not sent. Try again; if it persists, report it."
        )
    headers = {"Content-Type": content_type, "Content-Length": str(size), "User-Agent": f"ayrshare-mcp/{__version__}"}
    try:
        with anyio.fail_after(seconds):
            async with httpx2.AsyncClient(
                transport=transport, verify=trust_store(), follow_redirects=False, timeout=seconds, trust_env=False
            ) as http:
                request = http.build_request("PUT", target, content=content, headers=headers)
                response = await http.send(request, stream=True)
                await _read_at_most(response, MAX_ANSWER_BYTES)
    except TimeoutError:
        raise StorageError(
            f"The upload did not finish within {seconds:g} s, so it is not usable. Try a smaller file, or raise "
            "AYRSHARE_TIMEOUT (up to 600 s)."
        ) from None
    except httpx2.HTTPError as exc:
        raise StorageError(
            f"The upload to Ayrshare's storage failed ({type(exc).__name__}), so it is not usable. Check the network "
            "and try again."
        ) from None
    if not 200 <= response.status_code < 300:
        raise StorageError(
            f"Ayrshare's storage refused the upload (HTTP {response.status_code}), so it is not usable. Try again; "
            "the upload URL is valid for 30 minutes only."
        )
