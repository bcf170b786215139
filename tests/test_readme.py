"""The tool references in README.md and docs/tools.md are generated from `tools/list`; these tests fail when they
drift apart from what the server advertises, and say the command that regenerates each."""

from __future__ import annotations

import json
import re
import shlex
from contextlib import redirect_stdout
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayrshare_mcp.cli import main
from tests.support import run_cli

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


@pytest.mark.anyio
async def test_the_readme_walkthrough_goes_from_a_schedule_to_an_auto_scheduled_post_in_the_sandbox(
    tmp_path: Path,
) -> None:
    lines = block(ROOT / "README.md", "walkthrough").strip("`\n").removeprefix("bash\n").splitlines()
    prefix = shlex.split(lines[0].split("=", 1)[1])[0].split()
    results: list[dict[str, Any]] = []

    with anyio.fail_after(60):
        for line in lines[1:]:
            arguments = shlex.split(line.removeprefix("$A "))
            post_id = next((result["data"]["id"] for result in results if "scheduleDate" in result["data"]), "")
            command = [*prefix[1:], *arguments[:-1], arguments[-1].replace("POST-ID", post_id)]
            _, stdout, _ = await run_cli(*command, env={"HOME": str(tmp_path)})
            results.append(json.loads(stdout))

    scheduled, user, validated, created, repeated, fetched = results
    slot = datetime.fromisoformat(created["data"]["scheduleDate"])
    assert scheduled["data"]["schedule"] == ["09:30Z"]
    assert {"linkedin", "facebook"} <= set(user["data"]["activeSocialAccounts"])
    assert validated["successful"] is True
    assert (slot.strftime("%H:%M"), slot.isoweekday() <= 5) == ("09:30", True)
    assert "already submitted" in repeated["error"]
    assert (fetched["data"]["status"], fetched["data"]["scheduleDate"]) == ("pending", created["data"]["scheduleDate"])
