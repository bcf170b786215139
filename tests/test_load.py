"""A bounded load test over streamable HTTP: many sessions and keys, latency and faults, nothing lost or crossed.

The server runs as its own process so its memory can be read from /proc; the emulator and the clients run here.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import anyio
import pytest

from ayrshare_mcp.emulator import Fault
from tests.envelope import call
from tests.support import API_KEY, OTHER_API_KEY, RunningEmulator, http_session, server_env, serving

pytestmark = [pytest.mark.anyio, pytest.mark.load, pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

SESSIONS = 20
CALLS_PER_SESSION = 250
WARM_UP_CALLS_PER_SESSION = 25  # 500 calls in all: the memory baseline


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


async def test_5000_calls_from_20_sessions_with_2_keys_lose_nothing_cross_nothing_and_leak_nothing(
    emulator: RunningEmulator, home: Path
) -> None:
    emulator.app.latency = 0.002
    emulator.app.inject(Fault(status=503, body={"status": "error"}, path="/history", times=None, every=97))
    keys = {f"LOAD-{n:02d}": (API_KEY, OTHER_API_KEY)[n % 2] for n in range(SESSIONS)}
    # The posts must not quote the profile keys: the server would redact them from results.
    texts = {profile: f"post number {n}" for n, profile in enumerate(keys)}
    for profile, key in keys.items():
        emulator.seed_post(api_key=key, profile_key=profile, text=texts[profile])
    answers: Counter[str] = Counter()
    wrong: list[str] = []
    warmed_up = anyio.Event()
    memory: dict[str, int] = {}

    async def session(profile: str, url: str, start_second_half: anyio.Event) -> None:
        headers = {"X-Ayrshare-Api-Key": keys[profile], "X-Ayrshare-Profile-Key": profile}
        async with http_session(url, headers=headers, mode="legacy" if profile[-1] in "02468" else "auto") as client:
            for number in range(CALLS_PER_SESSION):
                if number == WARM_UP_CALLS_PER_SESSION:
                    answers["warm"] += 1
                    if answers["warm"] == SESSIONS:
                        warmed_up.set()
                    await start_second_half.wait()
                envelope = await call(client, "AYRSHARE_GET_POST_HISTORY", {"limit": 5})
                posts = [post["post"] for post in envelope["data"].get("history", [])]
                if envelope["successful"] and posts == [texts[profile]]:
                    answers["ok"] += 1
                else:
                    wrong.append(f"{profile}: {envelope}")

    with anyio.fail_after(600):
        async with serving(["--transport", "streamable-http"], server_env(emulator, home)) as (process, url, _):
            second_half = anyio.Event()
            async with anyio.create_task_group() as tg:
                for profile in keys:
                    tg.start_soon(session, profile, url, second_half)
                await warmed_up.wait()
                memory["after 500"] = rss_kib(process.pid)
                second_half.set()
            memory["after 5000"] = rss_kib(process.pid)

    sys.stderr.write(f"server RSS: {memory}\n")
    received = emulator.app.received("/history")
    assert wrong == []
    assert answers["ok"] == SESSIONS * CALLS_PER_SESSION
    assert all(r.header("authorization") == f"Bearer {keys[str(r.header('profile-key'))]}" for r in received)
    assert len(received) > SESSIONS * CALLS_PER_SESSION  # the injected 503s were retried, not lost
    assert memory["after 5000"] <= memory["after 500"] * 1.10, memory
