"""The tool references in README.md and docs/tools.md are generated from `tools/list`; these tests fail when they
drift apart from what the server advertises, and say the command that regenerates each."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.generated import BLOCKS, REGENERATE, block, expected_manifest_tools, manifest, output_of
from tests.support import WAIT, run_cli


@pytest.mark.parametrize(("document", "name"), BLOCKS, ids=lambda part: str(part))
def test_each_generated_tool_reference_matches_what_the_server_advertises(document: str, name: str) -> None:
    assert block(document, name) == output_of(BLOCKS[document, name]), f"Regenerate it with: {REGENERATE}"


def test_the_manifests_tools_are_the_ones_the_server_serves(  # the bundle lists them for the host's UI
) -> None:
    assert manifest()["tools"] == expected_manifest_tools(), f"Regenerate them with: {REGENERATE}"


@pytest.mark.anyio
async def test_the_readme_walkthrough_goes_from_a_schedule_to_an_auto_scheduled_post_in_the_sandbox(
    tmp_path: Path,
) -> None:
    lines = block("README.md", "walkthrough").strip("`\n").removeprefix("bash\n").splitlines()
    prefix = shlex.split(lines[0].split("=", 1)[1])[0].split()
    results: list[dict[str, Any]] = []

    with anyio.fail_after(WAIT):
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
