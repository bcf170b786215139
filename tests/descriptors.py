"""`python -m tests.descriptors LIMIT ARGS...`: ayrshare-mcp ARGS, in a process that may open only LIMIT files.

On SIGUSR1 the process uses up every file descriptor it has left, as a leak or a burst of its own files would;
SIGUSR2 gives them back. The tests use it to see the server outlive running out of descriptors.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from types import FrameType

from ayrshare_mcp.cli import main

hogged: list[int] = []


def exhaust(signum: int, frame: FrameType | None) -> None:
    try:
        while True:
            hogged.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass


def release(signum: int, frame: FrameType | None) -> None:
    while hogged:
        os.close(hogged.pop())


if __name__ == "__main__":
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    signal.signal(signal.SIGUSR1, exhaust)
    signal.signal(signal.SIGUSR2, release)
    main(sys.argv[2:])
