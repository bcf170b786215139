"""docs/hosting.md as an operator follows it: its tenants file is valid as written, and its command line, with its
environment, composes the server it describes. (Its registration screens at claude.ai and ChatGPT are the hosts' own
and untested; the sign-in after them is `test_hosting.py`.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ayrshare_mcp.auth.tenants import load_tenants
from ayrshare_mcp.cli import read_command_line
from ayrshare_mcp.cli.serve import serve_options
from ayrshare_mcp.transports.http import compose
from tests.support import API_KEY, PROFILE_KEY, X_API_KEY, X_API_SECRET

GUIDE = (Path(__file__).parent.parent / "docs" / "hosting.md").read_text()


def block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", GUIDE, re.S)
    assert found, f"docs/hosting.md has no {language} block"
    return found[1]


def the_guides_tenants_file(folder: Path) -> tuple[Path, dict[str, str]]:
    """The guide's tenants file, its secret files put in `folder`, and the variables it names set."""
    text = block("toml")
    for secret in sorted(set(re.findall(r'file = "(/run/secrets/[^"]+)"', text))):
        kept = folder / Path(secret).name
        kept.write_text(PROFILE_KEY + "\n")
        kept.chmod(0o600)
        text = text.replace(secret, str(kept))
    path = folder / "tenants.toml"
    path.write_text(text)
    path.chmod(0o600)
    keys = [API_KEY, PROFILE_KEY, X_API_KEY, X_API_SECRET]
    variables = sorted(set(re.findall(r'env = "([A-Z_]+)"', text)))
    return path, {name: keys[index % len(keys)] for index, name in enumerate(variables)}


def test_the_guides_tenants_file_is_valid_as_written(tmp_path: Path) -> None:
    path, environ = the_guides_tenants_file(tmp_path)
    tenants = load_tenants(path, environ)

    alice = tenants.person("https://auth.example.com", "auth0|64f1c2", {})
    social = tenants.person("https://auth.example.com", "someone", {"groups": ["social"]})
    assert alice is not None
    assert alice.profiles == ("acme-corp", "main-brand")
    assert social is not None
    assert social.scopes == frozenset({"ayrshare:read", "ayrshare:write"})
    assert tenants.static_entry is not None


def test_the_guides_command_line_composes_the_server_it_describes(tmp_path: Path) -> None:
    tenants, environ = the_guides_tenants_file(tmp_path)
    commands = block("bash").replace("\\\n", " ")
    for name, value in re.findall(r"^export (\w+)=(\S+)", commands, re.M):
        environ[name] = value
    secret = tmp_path / "state-secret"
    secret.write_text("CANARY-STATE-SECRET-0f1e2d3c4b5a69788796a5b4c3d2e1f0\n")
    secret.chmod(0o600)
    environ |= {
        "AYRSHARE_MCP_TENANTS_FILE": str(tenants),
        "AYRSHARE_MCP_STATE_SECRET_FILE": str(secret),
        "AYRSHARE_MCP_TOKEN": "CANARY-ACCESS-TOKEN-5c1d9e7f3a2b8d4f",
        "HOME": str(tmp_path),
    }
    line = next(line for line in commands.splitlines() if line.startswith("ayrshare-mcp "))
    settings, parsed = read_command_line(shlex.split(line)[1:], environ)
    options = serve_options(parsed)

    assert compose(settings, options.http) is not None
    assert settings.audit is True
    assert options.http.auth == "oauth"
    assert settings.redis_url == "redis://redis:6379/0"


def test_every_variable_the_guide_names_is_one_the_server_reads() -> None:
    package = Path(__file__).parent.parent / "server" / "ayrshare_mcp"
    code = "\n".join(path.read_text() for path in package.rglob("*.py"))
    named = set(re.findall(r"AYRSHARE_MCP_[A-Z_]*[A-Z]", GUIDE))

    assert {name for name in named if f'"{name}"' not in code} == set()
    assert len(named) >= 10
