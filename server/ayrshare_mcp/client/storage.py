"""The one request that does not go to Ayrshare: a large file's bytes, PUT to the presigned URL Ayrshare named for it.

Nothing of the caller's goes with it: no Authorization, no Profile-Key, no X pair, no cookie, and not the environment's
either (no ~/.netrc login, no proxy credentials: `trust_env` is off). A presigned URL is its own authorisation, and a
key sent to a storage host is a key leaked. The bytes go to that URL only: https, no user
name or password in it, and no redirect followed, so an answer cannot send them anywhere else.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterable
from urllib.parse import urlsplit

import anyio
import httpx2

from ayrshare_mcp import __version__
from ayrshare_mcp.client.client import trust_store
from ayrshare_mcp.client.errors import AyrshareError

_UNSAFE = frozenset(string.whitespace) | {chr(code) for code in range(0x20)} | {"\x7f"}


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
    return url


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
    headers = {"Content-Type": content_type, "Content-Length": str(size), "User-Agent": f"ayrshare-mcp/{__version__}"}
    try:
        with anyio.fail_after(seconds):
            async with httpx2.AsyncClient(
                transport=transport, verify=trust_store(), follow_redirects=False, timeout=seconds, trust_env=False
            ) as http:
                response = await http.send(http.build_request("PUT", target, content=content, headers=headers))
                await response.aclose()
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
