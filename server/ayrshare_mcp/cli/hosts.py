"""`ayrshare-mcp config HOST`: a ready-to-paste client configuration that launches this very installation.

Hosts start servers with an almost empty PATH, so the launcher is written as an absolute path. The key is a
placeholder: real keys belong in the host's own config, typed by the user, never printed by this command.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

KEY_PLACEHOLDER = "YOUR-AYRSHARE-API-KEY"
SERVER_NAME = "ayrshare"

WHERE = {
    "claude": "Claude Desktop: merge into claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, "
    "Windows: %APPDATA%\\Claude\\), then fully quit and reopen Claude Desktop.",
    "cursor": "Cursor: merge into .cursor/mcp.json in your project, or ~/.cursor/mcp.json for every project.",
    "vscode": "VS Code: merge into .vscode/mcp.json in your workspace.",
    "claude-code": "Claude Code: run this command in your project.",
}


def print_config(host: str, *, sandbox: bool = False) -> int:
    command, args = launcher()
    if sandbox:
        args = [*args, "--sandbox"]
    env = {} if sandbox else {"AYRSHARE_API_KEY": KEY_PLACEHOLDER}
    sys.stderr.write(WHERE[host] + "\n")
    sys.stdout.write(render(host, command, args, env) + "\n")
    return 0


def render(host: str, command: str, args: list[str], env: dict[str, str]) -> str:
    if host == "claude-code":
        env_flags = [flag for name, value in env.items() for flag in ("--env", f"{name}={value}")]
        return shlex.join(["claude", "mcp", "add", SERVER_NAME, *env_flags, "--", command, *args])
    entry: dict[str, Any] = {"command": command, "args": args}
    if env:
        entry["env"] = env
    if host == "vscode":
        document = {"servers": {SERVER_NAME: {"type": "stdio", **entry}}}
    else:
        document = {"mcpServers": {SERVER_NAME: entry}}
    return json.dumps(document, indent=2)


def launcher() -> tuple[str, list[str]]:
    """How a host should start this installation: its own console script, or uvx when this one is uvx's throwaway."""
    script = Path(sys.executable).parent / ("ayrshare-mcp.exe" if sys.platform == "win32" else "ayrshare-mcp")
    if not _is_uv_cache(Path(sys.prefix)) and script.exists():
        return str(script), []
    uvx = shutil.which("uvx") or "uvx"
    source = _install_source()
    return uvx, (["--from", source, "ayrshare-mcp"] if source else ["ayrshare-mcp"])


def _is_uv_cache(prefix: Path) -> bool:
    # uvx runs from environments inside uv's cache, which uv may delete at any time.
    return any(part in {"archive-v0", "builds-v0"} for part in prefix.parts) or "uv" in prefix.parts[-4:-1]


def _install_source() -> str | None:
    """Where this distribution was installed from (PEP 610), when that was a directory or a git repository."""
    try:
        raw = metadata.distribution("ayrshare-mcp").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not raw:
        return None
    origin = json.loads(raw)
    url = str(origin.get("url", ""))
    if vcs := origin.get("vcs_info"):
        revision = vcs.get("requested_revision")
        return f"git+{url}" + (f"@{revision}" if revision else "")
    return url.removeprefix("file://") if url.startswith("file://") else None
