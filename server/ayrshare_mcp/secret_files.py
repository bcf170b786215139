"""Files that hold secrets (the credentials file, a token file, a state-secret file): read only when nobody but
their owner could have read, written or replaced them, as ssh insists for its keys, and only when small."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SecretFileError(Exception):
    """A secrets file is unusable or unsafe; the message says which, why, and the command that fixes it."""


def read_private_file(path: Path, what: str, *, max_bytes: int) -> str:
    """The text of a secrets file that only its owner can read, and that is not absurdly large.

    Raises:
        SecretFileError: the file is missing, not a regular file, open to others, too large, or not UTF-8.
    """
    check_private_file(path, what)
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except OSError as exc:
        raise SecretFileError(f"Cannot read the {what} {path}: {exc.strerror}.") from None
    if len(raw) > max_bytes:
        raise SecretFileError(f"The {what} {path} is larger than {max_bytes // 1024} KB; it holds a few lines.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretFileError(f"The {what} {path} is not UTF-8 text.") from None


def check_private_file(path: Path, what: str = "credentials file") -> None:
    """Refuse a secrets file that others could read, write or replace, as ssh does (POSIX only): the file open to
    group or others, owned by another user, or in a directory that others may write to (unless it is sticky, as
    /tmp is, or owned by root). Files owned by root pass: container secret mounts are.

    Raises:
        SecretFileError: the file is missing, not a regular file, or others have a hold on it; one line, with the
            command that fixes it.
    """
    try:
        status = path.stat()
    except OSError as exc:
        raise SecretFileError(f"Cannot read the {what} {path}: {exc.strerror}.") from None
    if not stat.S_ISREG(status.st_mode):
        raise SecretFileError(f"The {what} {path} is not a regular file.")
    if os.name != "posix":
        return
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise SecretFileError(
            f"The {what} {path} is readable or writable by other users (mode {mode:03o}). Run: chmod 600 {path}"
        )
    if not _owned_by_us_or_root(status):
        raise SecretFileError(
            f"The {what} {path} belongs to another user (uid {status.st_uid}). Make your own copy, and chmod 600 it."
        )
    # Both the way to the file as named and the way to where it really is (through any symbolic link).
    for directory in dict.fromkeys([*path.absolute().parents, *path.resolve().parents]):
        if (problem := _open_directory(directory)) is not None:
            raise SecretFileError(f"The {what} {path} is in {directory}, {problem}. Run: chmod go-w {directory}")


def _owned_by_us_or_root(status: os.stat_result) -> bool:
    return status.st_uid in (os.geteuid(), 0)


def _open_directory(directory: Path) -> str | None:
    """Why others could replace a file in `directory` (or in a directory below it), or None."""
    try:
        status = directory.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(status.st_mode)
    if mode & stat.S_ISVTX and status.st_uid == 0:
        return None  # like /tmp: others may write, but not rename or remove what is not theirs
    if mode & 0o022:
        return f"which other users may write to (mode {mode:03o})"
    if not _owned_by_us_or_root(status):
        return f"which belongs to another user (uid {status.st_uid})"
    return None
