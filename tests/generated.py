"""The generated parts of the docs and the bundle: which command writes each, and how to rewrite them all.

`bash scripts/regen-docs` rewrites every one; `test_readme.py` and `test_packaging.py` fail, naming that command,
when one drifts from what the server advertises.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

from ayrshare_mcp.cli import main
from ayrshare_mcp.cli.tool_commands import listing, manifest_tools
from ayrshare_mcp.settings import TOOLSETS

ROOT = Path(__file__).parent.parent
REGENERATE = "bash scripts/regen-docs"
# (document, block name): the command whose output the block is.
BLOCKS = {
    ("README.md", "toolsets"): "ayrshare-mcp --toolsets all tools --summary",
    ("docs/tools.md", "tools"): "ayrshare-mcp --toolsets all tools --markdown",
}
MANIFEST = ROOT / "manifest.json"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(f"<!-- {name}:start -->") + r"\n(.*)\n" + re.escape(f"<!-- {name}:end -->"), re.DOTALL)


def block(document: str, name: str) -> str:
    match = _pattern(name).search((ROOT / document).read_text(encoding="utf-8"))
    assert match, f"{document} lacks the <!-- {name}:start --> ... <!-- {name}:end --> block"
    return match.group(1)


def output_of(command: str) -> str:
    printed = StringIO()
    with redirect_stdout(printed), contextlib.suppress(SystemExit):
        main(shlex.split(command)[1:], environ={})
    return printed.getvalue().removesuffix("\n")


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def expected_manifest_tools() -> list[dict[str, str]]:
    return manifest_tools(listing(TOOLSETS))


def rewrite() -> list[str]:
    """Rewrite every generated part; the names of those that changed."""
    changed = []
    for (document, name), command in BLOCKS.items():
        path = ROOT / document
        text = path.read_text(encoding="utf-8")
        generated = f"<!-- {name}:start -->\n{output_of(command)}\n<!-- {name}:end -->"
        fresh = _pattern(name).sub(generated.replace("\\", "\\\\"), text)
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            changed.append(f"{document} ({name})")
    bundle = manifest()
    if bundle["tools"] != expected_manifest_tools():
        bundle["tools"] = expected_manifest_tools()
        MANIFEST.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        changed.append("manifest.json (tools)")
    return changed


if __name__ == "__main__":
    changed = rewrite()
    sys.stdout.write("".join(f"rewrote {part}\n" for part in changed) or "every generated part was up to date\n")
