"""How `config HOST` launches this installation: its own script, or uvx by absolute path, never a bare name when an
absolute one can be found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ayrshare_mcp.cli.hosts import Installation, install_source, launcher

GIT = json.dumps(
    {"url": "https://github.com/example/ayrshare-mcp", "vcs_info": {"vcs": "git", "requested_revision": "v1"}}
)
DIRECTORY = json.dumps({"url": "file:///home/me/ayrshare-mcp", "dir_info": {}})


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_an_installation_with_its_own_script_is_launched_by_that_script(tmp_path: Path) -> None:
    python = executable(tmp_path / "venv/bin/python")
    script = executable(tmp_path / "venv/bin/ayrshare-mcp")

    assert launcher(Installation(python, tmp_path / "venv", None, {})) == (str(script), [])


def test_uvxs_throwaway_environment_is_launched_through_uvx_from_the_same_source(tmp_path: Path) -> None:
    cache = tmp_path / "cache/uv/archive-v0/abc"
    python = executable(cache / "bin/python")
    executable(cache / "bin/ayrshare-mcp")
    uvx = executable(tmp_path / "bin/uvx")

    command, args = launcher(Installation(python, cache, GIT, {"PATH": str(uvx.parent)}))

    assert (command, args) == (str(uvx), ["--from", "git+https://github.com/example/ayrshare-mcp@v1", "ayrshare-mcp"])


@pytest.mark.parametrize("sibling", [True, False])
def test_without_uvx_on_path_the_uv_that_started_this_process_is_used(tmp_path: Path, sibling: bool) -> None:
    cache = tmp_path / "cache/uv/builds-v0/abc"
    python = executable(cache / "bin/python")
    uv = executable(tmp_path / "tools/uv")
    if sibling:
        executable(tmp_path / "tools/uvx")

    command, args = launcher(Installation(python, cache, DIRECTORY, {"PATH": "/nowhere", "UV": str(uv)}))

    if sibling:
        assert (command, args) == (str(tmp_path / "tools/uvx"), ["--from", "/home/me/ayrshare-mcp", "ayrshare-mcp"])
    else:
        assert (command, args) == (str(uv), ["tool", "run", "--from", "/home/me/ayrshare-mcp", "ayrshare-mcp"])


def test_with_no_uv_to_be_found_the_name_is_all_there_is(tmp_path: Path) -> None:
    python = executable(tmp_path / "cache/uv/archive-v0/x/bin/python")

    assert launcher(Installation(python, python.parent.parent, None, {"PATH": "/nowhere", "UV": "uv"})) == (
        "uvx",
        ["ayrshare-mcp"],
    )


def test_a_windows_installation_looks_for_exe_files(tmp_path: Path) -> None:
    python = executable(tmp_path / "venv/Scripts/python.exe")
    script = executable(tmp_path / "venv/Scripts/ayrshare-mcp.exe")

    assert launcher(Installation(python, tmp_path / "venv", None, {}, windows=True)) == (str(script), [])


@pytest.mark.parametrize(
    ("direct_url", "source"),
    [
        (GIT, "git+https://github.com/example/ayrshare-mcp@v1"),
        (json.dumps({"url": "https://github.com/x/y", "vcs_info": {"vcs": "git"}}), "git+https://github.com/x/y"),
        (DIRECTORY, "/home/me/ayrshare-mcp"),
        (json.dumps({"url": "https://files.example/ayrshare_mcp-0.1.0.whl", "archive_info": {}}), None),
        (None, None),
        ("", None),
    ],
)
def test_the_install_source_is_read_from_pep_610_metadata(direct_url: str | None, source: str | None) -> None:
    assert install_source(direct_url) == source
