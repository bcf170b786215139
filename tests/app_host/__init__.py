"""A host that renders MCP Apps, for tests and screenshots: headless Debian Chromium, driven by Playwright, opens a
page whose script is the official host bridge (AppBridge from @modelcontextprotocol/ext-apps, bundled by esbuild from
host.js) and shows a view the real server serves, sending it the real tool result and proxying its tools/call to the
real server over MCP.

Two origins, as in a host: the page at http://host.test/ and the view at http://sandbox.test/, the view under the
spec's default CSP (connect-src 'none'), so a view that reached for the network or for an outside script would break
here as it would in Claude. Playwright answers both origins itself (page.route), so nothing listens for them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcp import Client
from mcp.types import CallToolResult
from playwright.async_api import Browser, Error, FrameLocator, Page, Route, async_playwright

HERE = Path(__file__).parent
NODE_MODULES = HERE.parent / ".node" / "apphost" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
HOST_URL = "http://host.test/"
VIEW_URL = "http://sandbox.test/view.html"
# The spec's restrictive default (ext-apps specification 2026-01-26, "Host Behavior"), which a host applies when the
# resource declares no csp, plus what its sandbox proxy adds (frame-src, object-src, base-uri).
DEFAULT_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; "
    "frame-src 'none'; object-src 'none'; base-uri 'self'"
)


def bundle_host() -> str:
    """host.js with AppBridge bundled in, as one script for the page; fails saying how to install what it needs."""
    esbuild = NODE_MODULES / ".bin" / "esbuild"
    if not (NODE_MODULES / "@modelcontextprotocol" / "ext-apps").is_dir() or not esbuild.exists():
        raise AssertionError(f"the test host needs @modelcontextprotocol/ext-apps and esbuild in {NODE_MODULES}: "
                             "run bash tests/node-tools.sh")  # fmt: skip
    built = subprocess.run(
        [str(esbuild), str(HERE / "host.js"), "--bundle", "--minify", "--format=iife", "--log-level=warning"],
        # host.js lives outside node_modules' tree; NODE_PATH is where esbuild looks for its imports then.
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, f"esbuild could not bundle the test host:\n{built.stderr}"
    return built.stdout


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's headless Chromium; if it cannot start, the test fails and says why (it never skips)."""
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        except Error as error:
            raise AssertionError(
                f"Chromium could not start from {CHROMIUM} ({error.message.splitlines()[0]}); "
                "install Debian's chromium package (apt-get install chromium), as .ci/run does"
            ) from error
        try:
            yield browser
        finally:
            await browser.close()


def as_json(result: CallToolResult) -> dict[str, Any]:
    """A tool result as it travels over JSON-RPC: camelCase names, no empty fields."""
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass
class HostedView:
    page: Page
    view: FrameLocator  # the view's document, inside the host's iframe

    async def tool_calls(self) -> list[dict[str, Any]]:
        """Every tools/call the host received from the view, in order."""
        calls: list[dict[str, Any]] = await self.page.evaluate("window.toolCalls")
        return calls

    async def change_context(self, change: Mapping[str, Any]) -> None:
        """What a host sends when the person's settings change (ui/notifications/host-context-changed)."""
        await self.page.evaluate("change => changeContext(change)", dict(change))


@asynccontextmanager
async def hosting(
    browser: Browser,
    client: Client,
    html: str,
    *,
    tool_input: Mapping[str, Any],
    tool_result: CallToolResult,
    host_context: Mapping[str, Any],
    color_scheme: Literal["light", "dark"] = "light",
    width: int = 1100,
) -> AsyncIterator[HostedView]:
    """`html` shown by the test host in a fresh page, with `tool_result` sent to it; the view's tools/call go to
    `client` (the real server)."""
    page = await browser.new_page(viewport={"width": width, "height": 800}, color_scheme=color_scheme)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    host_page = (
        '<!doctype html><html><body style="margin:0">'
        '<iframe id="view" title="calendar" style="border:0;width:100%;height:600px;display:block"></iframe>'
        f"<script>{bundle_host()}</script></body></html>"
    )

    async def serve_host(route: Route) -> None:
        await route.fulfill(content_type="text/html", body=host_page)

    async def serve_view(route: Route) -> None:
        await route.fulfill(content_type="text/html", body=html, headers={"Content-Security-Policy": DEFAULT_CSP})

    async def forward(params: dict[str, Any]) -> dict[str, Any]:
        return as_json(await client.call_tool(params["name"], params.get("arguments") or {}))

    await page.route(HOST_URL, serve_host)
    await page.route(VIEW_URL, serve_view)
    await page.expose_function("forwardToolCall", forward)
    await page.goto(HOST_URL)
    await page.evaluate(
        "options => startHost(options)",
        {
            "viewUrl": VIEW_URL,
            "hostContext": dict(host_context),
            "toolInput": dict(tool_input),
            "toolResult": as_json(tool_result),
        },
    )
    try:
        yield HostedView(page, page.frame_locator("#view"))
    finally:
        await page.close()
    assert errors == [], f"the view or the host threw: {errors}"
