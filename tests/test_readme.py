"""The README's tool reference is generated from `tools/list`; this test fails when the two drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from ayrshare_mcp.cli.tool_commands import markdown_reference

README = Path(__file__).parent.parent / "README.md"
START, END = "<!-- tools:start -->", "<!-- tools:end -->"


def test_the_readme_tool_reference_matches_what_the_server_advertises() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(re.escape(START) + r"\n(.*)\n" + re.escape(END), text, re.DOTALL)
    assert match, f"README.md lacks the {START} ... {END} block"
    assert match.group(1) == markdown_reference(), "Regenerate the block with: ayrshare-mcp tools --markdown"
