"""`python -m ayrshare_mcp.emulator`: run the Ayrshare emulator on loopback, for manual tries and benchmarks."""

from __future__ import annotations

import argparse
import sys

import anyio

from ayrshare_mcp.emulator import Ayrshare, EmulatorApp, bind, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ayrshare_mcp.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--api-key", action="append", help="accept only these keys (default: any key)")
    parser.add_argument("--rate-limit", type=int, default=300, help="requests per 5 minutes per profile (default 300)")
    args = parser.parse_args()
    app = EmulatorApp(Ayrshare(api_keys=set(args.api_key) if args.api_key else None))
    app.service.switches.rate_limit = args.rate_limit
    app.latency = args.latency
    sock = bind(args.host, args.port)
    sys.stderr.write(f"Ayrshare emulator on http://{args.host}:{sock.getsockname()[1]}/api\n")
    anyio.run(serve, app, sock)


if __name__ == "__main__":
    main()
