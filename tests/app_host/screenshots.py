"""The README's pictures of the calendar, taken from the real view against the sandbox, as a host shows it:

    .venv/bin/python -m tests.app_host.screenshots     # writes docs/calendar-light.png and docs/calendar-dark.png

`ayrshare-mcp --sandbox` is started as a process (in a throwaway home, so the sandbox starts from its seeded week),
this week is asked for as a host asks, and the test host (tests/app_host) shows it in headless Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Literal

import anyio
import httpx2
from mcp import Client
from mcp.client.extension import advertise
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import TextResourceContents
from playwright.async_api import expect

from ayrshare_mcp.tools.toolsets.calendar import SHOW_CALENDAR, VIEW_URI
from tests.app_host import chromium, hosting
from tests.support import BEARER, PROCESS_WAIT, TOKEN, serving

DOCS = Path(__file__).resolve().parents[2] / "docs"
ZONE = "Europe/Berlin"
THEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


async def take() -> list[Path]:
    written = []
    with tempfile.TemporaryDirectory() as home, anyio.fail_after(PROCESS_WAIT):
        env = {"HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "AYRSHARE_MCP_TOKEN": TOKEN}
        command = ["--sandbox", "--transport", "streamable-http", "--toolsets", "calendar"]
        apps = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
        async with (
            serving(command, env) as (_, url, _),
            httpx2.AsyncClient(headers=BEARER, timeout=httpx2.Timeout(30)) as http,
            Client(streamable_http_client(url + "/mcp", http_client=http), extensions=[apps]) as client,
            chromium() as browser,
        ):
            [page] = (await client.read_resource(VIEW_URI)).contents
            assert isinstance(page, TextResourceContents)
            arguments = {"timeZone": ZONE}
            result = await client.call_tool(SHOW_CALENDAR, arguments)
            for theme in THEMES:
                context = {"theme": theme, "timeZone": ZONE, "locale": "en-GB", "displayMode": "inline"}
                async with hosting(
                    browser, client, page.text, tool_input=arguments, tool_result=result, host_context=context,
                    color_scheme=theme, width=1000,
                ) as hosted:  # fmt: skip
                    await expect(hosted.view.locator(".card").first).to_be_visible()
                    target = DOCS / f"calendar-{theme}.png"
                    await hosted.page.locator("#view").screenshot(path=target)
                    written.append(target)
    return written


if __name__ == "__main__":
    for path in anyio.run(take, backend="asyncio"):
        sys.stdout.write(f"{path.relative_to(DOCS.parent)}: {path.stat().st_size:,} bytes\n")
