"""Benchmark: what ayrshare-mcp adds on top of the MCP SDK and of the network, measured side by side.

    .venv/bin/python bench/run.py            # full run (a few minutes); writes bench/results.json
    .venv/bin/python bench/run.py --quick    # small counts, as CI runs it so the benchmark cannot rot

Everything runs on this machine in one process tree: the Ayrshare emulator (its own process), this server and the
floor server (`floor_server.py`: the same SDK, one trivial tool), and the clients (here, on the official SDK).
Medians of repeated runs; ratios against the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
from anyio.streams.buffered import BufferedByteReceiveStream
from listing_tokens import tokens_of
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from ayrshare_mcp.settings import TOOLSETS

HERE = Path(__file__).parent
PYTHON = sys.executable
API_KEY = "bench-key-0000"
OURS_STDIO = [PYTHON, "-m", "ayrshare_mcp"]
FLOOR_STDIO = [PYTHON, str(HERE / "floor_server.py")]
HISTORY: tuple[str, dict[str, Any]] = ("AYRSHARE_GET_POST_HISTORY", {})
ECHO: tuple[str, dict[str, Any]] = ("echo", {"text": "hello"})
FORWARD: tuple[str, dict[str, Any]] = ("forward", {})


@dataclass(frozen=True)
class Counts:
    cold_starts: int
    calls: int
    rounds: int
    in_flight: int
    memory_calls: int


FULL = Counts(cold_starts=15, calls=2000, rounds=10, in_flight=100, memory_calls=2000)
QUICK = Counts(cold_starts=3, calls=100, rounds=2, in_flight=20, memory_calls=200)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# An HTTP server with a key of its own serves only callers holding its token.
BENCH_TOKEN = "bench-access-token-9f8e7d6c5b4a3210"  # noqa: S105 - a fake token for local processes


def base_env(ayrshare_url: str, home: str) -> dict[str, str]:
    keep = ("PATH", "LANG", "SYSTEMROOT", "PYTHONPATH")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    return {
        **env,
        "HOME": home,
        "AYRSHARE_BASE_URL": ayrshare_url,
        "AYRSHARE_API_KEY": API_KEY,
        "AYRSHARE_MCP_TOKEN": BENCH_TOKEN,
    }


@asynccontextmanager
async def http_client(url: str) -> AsyncIterator[Client]:
    """An MCP client over streamable HTTP that presents the access token (the floor server ignores it)."""
    async with (
        httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {BENCH_TOKEN}"}, timeout=httpx2.Timeout(30, read=300)
        ) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def wait_for_port(port: int) -> None:
    while True:
        try:
            stream = await anyio.connect_tcp("127.0.0.1", port)
        except OSError:
            await anyio.sleep(0.02)
        else:
            await stream.aclose()
            return


@asynccontextmanager
async def running(command: list[str], env: dict[str, str], port: int | None = None) -> AsyncIterator[int]:
    """A background process; with `port`, yielded once it accepts connections. Yields its pid."""
    async with await anyio.open_process(command, env=env, stderr=subprocess.DEVNULL) as process:
        if port is not None:
            with anyio.fail_after(30):
                await wait_for_port(port)
        try:
            yield process.pid
        finally:
            process.terminate()
            await process.wait()


@asynccontextmanager
async def emulator(latency: float) -> AsyncIterator[str]:
    port = free_port()
    command = [PYTHON, "-m", "ayrshare_mcp.emulator", "--port", str(port), "--latency", str(latency)]
    async with running([*command, "--rate-limit", "100000000"], dict(os.environ), port):
        url = f"http://127.0.0.1:{port}/api"
        async with httpx2.AsyncClient(base_url=url + "/", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
            for text in ("Launch day!", "Behind the scenes", "Weekly roundup"):
                await http.post("post", json={"post": text, "platforms": ["twitter", "linkedin"]})
        yield url


# --- cold start -------------------------------------------------------------------------------------------------

INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}


def frame(message: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n"


async def cold_start(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds from spawn to the initialize result, and to the tools/list result; the bytes of that result."""
    started = time.perf_counter()
    async with await anyio.open_process(command, env=env, stderr=subprocess.DEVNULL) as process:
        assert process.stdin
        assert process.stdout
        stdout = BufferedByteReceiveStream(process.stdout)
        await process.stdin.send(frame({"id": 1, "method": "initialize", "params": INIT}))
        await stdout.receive_until(b"\n", 10**7)
        initialized = time.perf_counter() - started
        await process.stdin.send(
            frame({"method": "notifications/initialized"}) + frame({"id": 2, "method": "tools/list"})
        )
        listing = await stdout.receive_until(b"\n", 10**7)
        listed = time.perf_counter() - started
        await process.stdin.aclose()
        await process.wait()
    return initialized, listed, len(listing)


async def measure_cold_starts(env: dict[str, str], runs: int) -> dict[str, Any]:
    samples: dict[str, list[tuple[float, float, int]]] = {"ours": [], "floor": []}
    for _ in range(runs):  # interleaved, so drift hits both alike
        samples["ours"].append(await cold_start(OURS_STDIO, env))
        samples["floor"].append(await cold_start(FLOOR_STDIO, env))
    result: dict[str, Any] = {}
    for phase, index in (("initialize", 0), ("tools/list", 1)):
        ours = statistics.median(sample[index] for sample in samples["ours"])
        floor = statistics.median(sample[index] for sample in samples["floor"])
        result[phase] = {"ours_ms": ours * 1000, "floor_ms": floor * 1000, "ratio": ours / floor}
    return result


# --- what tools/list costs a host's context --------------------------------------------------------------------

# The toolsets alone and together: bytes on the wire, and tokens a model reads against their budget (see
# listing_tokens).
SELECTIONS = (*TOOLSETS, "all")


async def measure_listing_sizes(env: dict[str, str]) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for selection in SELECTIONS:
        _, _, size = await cold_start([*OURS_STDIO, "--toolsets", selection], env)
        counted = tokens_of(selection)
        sizes[selection] = {"bytes": size, **asdict(counted), "budget": counted.budget}
    return sizes


# --- per-call latency ------------------------------------------------------------------------------------------


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        "calls_per_s": len(ordered) / sum(ordered),
    }


async def warm_up(call: Callable[[], Awaitable[Any]]) -> None:
    for _ in range(20):  # connections, caches, first-call imports
        await call()


async def durations(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def tool_call(client: Client, tool: tuple[str, dict[str, Any]]) -> Callable[[], Awaitable[None]]:
    name, arguments = tool

    async def one() -> None:
        result = await client.call_tool(name, arguments)
        assert not result.is_error, result

    return one


def stdio(command: list[str], env: dict[str, str]) -> Client:
    return Client(StdioServerParameters(command=command[0], args=command[1:], env=env))


@asynccontextmanager
async def http_server(command: list[str], env: dict[str, str]) -> AsyncIterator[str]:
    port = free_port()
    async with running([*command, str(port)], env, port):
        yield f"http://127.0.0.1:{port}/mcp"


OURS_HTTP = [*OURS_STDIO, "--transport", "streamable-http", "--port"]
FLOOR_HTTP = [*FLOOR_STDIO, "--http"]


async def compare_calls(
    ours: Client, floor: Client, direct: Callable[[], Awaitable[Any]], count: int, rounds: int
) -> dict[str, Any]:
    """Interleave the three measurements in rounds, so drift on a shared machine hits all three alike."""
    await ours.list_tools()
    await floor.list_tools()
    calls = {
        "ours": tool_call(ours, HISTORY),
        "floor": tool_call(floor, ECHO),
        "direct": direct,
        "contract_floor": tool_call(floor, FORWARD),
    }
    for call in calls.values():
        await warm_up(call)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    shares, beyond_contract = [], []
    for _ in range(rounds):
        medians = {}
        for name, call in calls.items():
            taken = await durations(call, count // rounds)
            samples[name] += taken
            medians[name] = statistics.median(taken)
        shares.append(medians["ours"] - medians["floor"] - medians["direct"])
        beyond_contract.append(medians["ours"] - medians["contract_floor"])
    return {
        "ours": summary(samples["ours"]),
        "floor": summary(samples["floor"]),
        "direct_httpx2": summary(samples["direct"]),
        "contract_floor": summary(samples["contract_floor"]),
        "server_share_p50_ms": statistics.median(shares) * 1000,
        "server_share_by_round_ms": [share * 1000 for share in shares],
        # What the SDK makes any server pay for this contract: a bare forwarder's own "share".
        "contract_floor_share_p50_ms": (
            statistics.median(samples["contract_floor"])
            - statistics.median(samples["floor"])
            - statistics.median(samples["direct"])
        )
        * 1000,
        "beyond_contract_floor_p50_ms": statistics.median(beyond_contract) * 1000,
    }


async def measure_per_call(env: dict[str, str], ayrshare_url: str, count: int, rounds: int) -> dict[str, Any]:
    """The same Ayrshare request made directly with httpx2 is what the network and the emulator cost."""
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
    result: dict[str, Any] = {}
    async with httpx2.AsyncClient(base_url=ayrshare_url + "/", headers=headers) as http:

        async def direct() -> None:
            (await http.get("history")).raise_for_status()

        async with stdio(OURS_STDIO, env) as ours, stdio(FLOOR_STDIO, env) as floor:
            result["stdio"] = await compare_calls(ours, floor, direct, count, rounds)
        async with (
            http_server(OURS_HTTP, env) as ours_url,
            http_server(FLOOR_HTTP, env) as floor_url,
            http_client(ours_url) as ours,
            http_client(floor_url) as floor,
        ):
            result["streamable_http"] = await compare_calls(ours, floor, direct, count, rounds)
    return result


# --- concurrency -----------------------------------------------------------------------------------------------


async def in_flight(clients: list[Client], total: int) -> float:
    """Seconds for `total` history calls started at once, spread evenly over `clients`."""
    for client in clients:
        await client.call_tool(*HISTORY)
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for number in range(total):
            tg.start_soon(clients[number % len(clients)].call_tool, *HISTORY)
    return time.perf_counter() - started


async def measure_concurrency(env: dict[str, str], total: int) -> dict[str, Any]:
    async with stdio(OURS_STDIO, env) as client:
        one_session = await in_flight([client], total)
    async with http_server(OURS_HTTP, env) as url, AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(http_client(url)) for _ in range(10)]
        ten_sessions = await in_flight(clients, total)
    return {
        "calls_in_flight": total,
        "upstream_latency_ms": 100,
        "stdio_one_session_s": one_session,
        "http_ten_sessions_s": ten_sessions,
    }


# --- memory ----------------------------------------------------------------------------------------------------


def memory_kib(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss_kib": int(fields["VmRSS"].split()[0]), "peak_kib": int(fields["VmHWM"].split()[0])}


async def memory_profile(command: list[str], env: dict[str, str], tool: tuple[str, dict[str, Any]], calls: int) -> Any:
    port = free_port()
    async with running([*command, str(port)], env, port) as pid, http_client(f"http://127.0.0.1:{port}/mcp") as client:
        await client.list_tools()
        idle = memory_kib(pid)
        for _ in range(calls // 10):
            await client.call_tool(*tool)
        early = memory_kib(pid)
        for _ in range(calls - calls // 10):
            await client.call_tool(*tool)
        return {"idle": idle, f"after_{calls // 10}": early, f"after_{calls}": memory_kib(pid)}


async def measure_memory(env: dict[str, str], calls: int) -> dict[str, Any]:
    return {
        "ours": await memory_profile(OURS_HTTP, env, HISTORY, calls),
        "floor": await memory_profile(FLOOR_HTTP, env, ECHO, calls),
        "transport": "streamable-http (one long-lived process, so its memory can be read)",
    }


# --- report ----------------------------------------------------------------------------------------------------


def _mb(kib: int) -> str:
    return f"{kib / 1024:.1f} MB"


def report(results: dict[str, Any]) -> str:
    cold, calls, conc, memory = (results[k] for k in ("cold_start", "per_call", "concurrency", "memory"))
    rows: list[tuple[str, str, str, str, str]] = []
    for phase in ("initialize", "tools/list"):
        leg = cold[phase]
        ratio = f"{leg['ratio']:.2f}x"
        rows.append(
            (f"Cold start to {phase}", f"{leg['ours_ms']:.0f} ms", f"{leg['floor_ms']:.0f} ms", ratio, "<= 1.10x")
        )
    for transport, target in (("stdio", "< 0.5 ms"), ("streamable_http", "< 1 ms")):
        ours, floor = calls[transport]["ours"], calls[transport]["floor"]
        direct = calls[transport]["direct_httpx2"]["p50_ms"]
        share = f"share {calls[transport]['server_share_p50_ms']:+.2f} ms"
        rows.append((f"Call p50, {transport}", f"{ours['p50_ms']:.2f} ms", f"{floor['p50_ms']:.2f} + {direct:.2f} ms",
                     share, target))  # fmt: skip
        rows.append((f"Call p99 | calls/s, {transport}", f"{ours['p99_ms']:.2f} ms | {ours['calls_per_s']:.0f}",
                     f"{floor['p99_ms']:.2f} ms | {floor['calls_per_s']:.0f}", "", ""))  # fmt: skip
        contract = calls[transport]
        rows.append((f"  same request + envelope, bare SDK, {transport}",
                     f"{contract['contract_floor']['p50_ms']:.2f} ms",
                     f"share {contract['contract_floor_share_p50_ms']:+.2f} ms",
                     f"ours {contract['beyond_contract_floor_p50_ms']:+.2f} ms", "(SDK's part)"))  # fmt: skip
    for selection, size in results["tools_list_size"].items():
        per_tool, kb, outputs = size["tokens"] / size["tools"], size["bytes"] / 1000, size["output_schema_tokens"]
        detail = f"{per_tool:.0f} a tool; {kb:.1f} KB; +{outputs:,} output"
        rows.append((f"tools/list, --toolsets {selection} ({size['tools']} tools)", f"{size['tokens']:,} tokens", "",
                     detail, f"<= {size['budget']:,} tokens"))  # fmt: skip
    in_flight = conc["calls_in_flight"]
    rows.append((f"{in_flight} calls in flight, 1 stdio session", f"{conc['stdio_one_session_s']:.3f} s",
                 "0.100 s ideal", "", "< 0.3 s"))  # fmt: skip
    rows.append((f"{in_flight} calls in flight, 10 HTTP sessions", f"{conc['http_ten_sessions_s']:.3f} s",
                 "0.100 s ideal", "", "< 0.5 s"))  # fmt: skip
    ours_mem, floor_mem = memory["ours"], memory["floor"]
    for moment in ours_mem:
        ours_kib, floor_kib = ours_mem[moment]["peak_kib"], floor_mem[moment]["peak_kib"]
        label = "idle" if moment == "idle" else moment.replace("_", " ") + " calls"
        rows.append((f"Peak RSS, {label}", _mb(ours_kib), _mb(floor_kib), f"{(ours_kib - floor_kib) / 1024:+.1f} MB",
                     "<= +15 MB, flat"))  # fmt: skip
    header = ("Measure", "ayrshare-mcp", "floor (+ direct)", "difference", "target")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


async def main(counts: Counts, output: Path) -> None:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "counts": counts.__dict__,
    }
    with tempfile.TemporaryDirectory() as home:
        async with emulator(latency=0.0) as fast:
            env = base_env(fast, home)
            results["cold_start"] = await measure_cold_starts(env, counts.cold_starts)
            results["tools_list_size"] = await measure_listing_sizes(env)
            results["per_call"] = await measure_per_call(env, fast, counts.calls, counts.rounds)
            results["memory"] = await measure_memory(env, counts.memory_calls)
        async with emulator(latency=0.1) as slow:
            results["concurrency"] = await measure_concurrency(base_env(slow, home), counts.in_flight)
    table = report(results)
    results["table"] = table
    await anyio.Path(output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    machine = results["machine"]
    sys.stdout.write(f"{table}\n\n({machine['cpus']} CPUs, {machine['platform']}; written to {output})\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small counts, for CI")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    arguments = parser.parse_args()
    anyio.run(main, QUICK if arguments.quick else FULL, arguments.output)
