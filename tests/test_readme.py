"""The README as a newcomer meets it: its generated tool references match what the server advertises (the tests
name the command that regenerates them), and its walk-through runs, in process and as written in bash and zsh."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.generated import BLOCKS, REGENERATE, ROOT, block, expected_manifest_tools, manifest, output_of
from tests.support import WAIT, run_cli


@pytest.mark.parametrize(("document", "name"), BLOCKS, ids=lambda part: str(part))
def test_each_generated_tool_reference_matches_what_the_server_advertises(document: str, name: str) -> None:
    assert block(document, name) == output_of(BLOCKS[document, name]), f"Regenerate it with: {REGENERATE}"


def test_the_manifests_tools_are_the_ones_the_server_serves(  # the bundle lists them for the host's UI
) -> None:
    assert manifest()["tools"] == expected_manifest_tools(), f"Regenerate them with: {REGENERATE}"


WALKTHROUGH = re.compile(r"^(\w+)\(\) \{ (.*) \"\$@\"; \}$")


def walkthrough() -> tuple[str, list[str], list[str]]:
    """The README's walk-through: the shell function it defines, its command, and the calls that use it."""
    definition, *calls = block("README.md", "walkthrough").strip("`\n").removeprefix("bash\n").splitlines()
    match = WALKTHROUGH.match(definition)
    assert match, f"the walk-through starts by defining a shell function, not {definition!r}"
    return definition, shlex.split(match[2]), [call.removeprefix(match[1] + " ") for call in calls]


def check_the_walk(results: list[dict[str, Any]]) -> None:
    scheduled, user, validated, created, repeated, fetched = results
    slot = datetime.fromisoformat(created["data"]["scheduleDate"])
    assert scheduled["data"]["schedule"] == ["09:30Z"]
    assert {"linkedin", "facebook"} <= set(user["data"]["activeSocialAccounts"])
    assert validated["successful"] is True
    assert (slot.strftime("%H:%M"), slot.isoweekday() <= 5) == ("09:30", True)
    assert "already submitted" in repeated["error"]
    assert "--sandbox-reset starts it over" in repeated["sandbox"]
    assert (fetched["data"]["status"], fetched["data"]["scheduleDate"]) == ("pending", created["data"]["scheduleDate"])


def post_id_of(results: list[dict[str, Any]]) -> str:
    return next((result["data"]["id"] for result in results if "scheduleDate" in result["data"]), "")


@pytest.mark.anyio
async def test_the_readme_walkthrough_goes_from_a_schedule_to_an_auto_scheduled_post_in_the_sandbox(
    tmp_path: Path,
) -> None:
    _, command, calls = walkthrough()
    results: list[dict[str, Any]] = []

    with anyio.fail_after(WAIT * 2):  # six commands, each composing a server and its sandbox
        for call in calls:
            arguments = shlex.split(call.replace("POST-ID", post_id_of(results)))
            _, stdout, _ = await run_cli(*command[1:], *arguments, env={"HOME": str(tmp_path)})
            results.append(json.loads(stdout))

    check_the_walk(results)


@pytest.mark.packaging
@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_walkthrough_runs_as_written_in_bash_and_in_zsh(tmp_path: Path, shell: str) -> None:
    # zsh, the macOS default, does not split a variable's value into words: the walk-through must not rely on it.
    executable = shutil.which(shell)
    if executable is None:
        message = f"{shell} is not installed (.ci/run installs it)"
        if os.environ.get("AYRSHARE_MCP_REQUIRE_PACKAGING") == "1":
            pytest.fail(message)
        pytest.skip(message)
    definition, _, calls = walkthrough()
    env = {"HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    results: list[dict[str, Any]] = []
    for call in calls:
        line = call.replace("POST-ID", post_id_of(results))
        run = subprocess.run(
            [executable, "-c", f"{definition}\na {line}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        results.append(json.loads(run.stdout))

    check_the_walk(results)
