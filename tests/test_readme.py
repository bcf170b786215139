"""The tool references in README.md and docs/tools.md are generated from `tools/list`; these tests fail when they
drift apart from what the server advertises, and say the command that regenerates each."""

from __future__ import annotations

import re
import shlex
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from ayrshare_mcp.cli import main

ROOT = Path(__file__).parent.parent
GENERATED = {
    ("README.md", "tools"): "ayrshare-mcp tools --markdown",
    ("README.md", "toolsets"): "ayrshare-mcp --toolsets posts,schedules,account tools --summary",
    ("docs/tools.md", "tools"): "ayrshare-mcp --toolsets all tools --markdown",
}


def block(path: Path, name: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    match = re.search(re.escape(start) + r"\n(.*)\n" + re.escape(end), path.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"{path.name} lacks the {start} ... {end} block"
    return match.group(1)


def output_of(command: str) -> str:
    printed = StringIO()
    with redirect_stdout(printed), pytest.raises(SystemExit) as exited:
        main(shlex.split(command)[1:], environ={})
    assert exited.value.code == 0
    return printed.getvalue().removesuffix("\n")


@pytest.mark.parametrize(("document", "name"), GENERATED, ids=lambda part: str(part))
def test_each_generated_tool_reference_matches_what_the_server_advertises(document: str, name: str) -> None:
    command = GENERATED[document, name]

    assert block(ROOT / document, name) == output_of(command), f"Regenerate it with: {command}"
