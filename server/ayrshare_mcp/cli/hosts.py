"""`ayrshare-mcp config HOST`: a ready-to-paste client configuration that launches this very installation.

Hosts start servers with an almost empty PATH, so the launcher is written as an absolute path. The key is a
placeholder: real keys belong in the host's own config, typed by the user, never printed by this command.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ayrshare_mcp.settings import DEFAULT_TOOLSETS, TOOLSETS, Settings

KEY_PLACEHOLDER = "YOUR-AYRSHARE-API-KEY"
SERVER_NAME = "ayrshare"

WHERE = {
    "claude": "Claude Desktop: merge into claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, "
    "Windows: %APPDATA%\\Claude\\), then fully quit and reopen Claude Desktop.",
    "cursor": "Cursor: merge into .cursor/mcp.json in your project, or ~/.cursor/mcp.json for every project.",
    "vscode": "VS Code: merge into .vscode/mcp.json in your workspace.",
    "claude-code": "Claude Code: run this command in your project.",
}

# Every host above renders MCP Apps, so each can show the schedule as a calendar; the default (core) leaves it out.
CALENDAR_HINT = (
    "To see auto schedules as a week calendar in this host (an MCP App), add the calendar toolset: ayrshare-mcp "
    "--toolsets {toolsets} config {host}"
)


def print_config(host: str, settings: Settings) -> int:
    command, args = launcher(Installation.here(settings.environ))
    args += [flag for flag, wanted in (("--sandbox", settings.sandbox), ("--read-only", settings.read_only)) if wanted]
    if settings.toolsets != DEFAULT_TOOLSETS:
        args += ["--toolsets", "all" if settings.toolsets == TOOLSETS else ",".join(settings.toolsets)]
    env = {} if settings.sandbox else {"AYRSHARE_API_KEY": KEY_PLACEHOLDER}
    sys.stderr.write(WHERE[host] + "\n")
    if "calendar" not in settings.toolsets:
        sys.stderr.write(CALENDAR_HINT.format(toolsets=",".join((*settings.toolsets, "calendar")), host=host) + "\n")
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


@dataclass(frozen=True)
class Installation:
    """What decides how a host should start this installation; `here()` reads it off the running process."""

    executable: Path
    prefix: Path
    # PEP 610's direct_url.json of this distribution, when it was installed from a URL (a directory, git).
    direct_url: str | None
    environ: Mapping[str, str]
    windows: bool = False

    @classmethod
    def here(cls, environ: Mapping[str, str]) -> Installation:
        try:
            direct_url = metadata.distribution("ayrshare-mcp").read_text("direct_url.json")
        except metadata.PackageNotFoundError:
            direct_url = None
        return cls(Path(sys.executable), Path(sys.prefix), direct_url, environ, windows=sys.platform == "win32")

    def executable_named(self, directory: Path, name: str) -> Path:
        return directory / (f"{name}.exe" if self.windows else name)


def launcher(installation: Installation) -> tuple[str, list[str]]:
    """How a host should start this installation: its own console script, or uvx when this one is uvx's throwaway.

    Always an absolute path where one can be found: a bare "uvx" is exactly the `spawn uvx ENOENT` that a host's
    near-empty PATH produces.
    """
    script = installation.executable_named(installation.executable.parent, "ayrshare-mcp")
    if not _is_uv_cache(installation.prefix) and script.exists():
        return str(script), []
    source = install_source(installation.direct_url)
    tool = ["--from", source, "ayrshare-mcp"] if source else ["ayrshare-mcp"]
    if uvx := shutil.which("uvx", path=installation.environ.get("PATH")):
        return uvx, tool
    # uv tells the processes it starts where it is (UV); uvx is `uv tool run`.
    uv = installation.environ.get("UV", "")
    if uv and Path(uv).is_absolute():
        sibling = installation.executable_named(Path(uv).parent, "uvx")
        return (str(sibling), tool) if sibling.exists() else (uv, ["tool", "run", *tool])
    return "uvx", tool


def _is_uv_cache(prefix: Path) -> bool:
    # uvx runs from environments inside uv's cache, which uv may delete at any time.
    return any(part in {"archive-v0", "builds-v0"} for part in prefix.parts) or "uv" in prefix.parts[-4:-1]


def install_source(direct_url: str | None) -> str | None:
    """Where this distribution was installed from (PEP 610), when that was a directory or a git repository."""
    if not direct_url:
        return None
    origin = json.loads(direct_url)
    url = str(origin.get("url", ""))
    if vcs := origin.get("vcs_info"):
        revision = vcs.get("requested_revision")
        return f"git+{url}" + (f"@{revision}" if revision else "")
    return url.removeprefix("file://") if url.startswith("file://") else None
