"""The MCP server: advertises the tool catalog, routes calls to it, and picks each call's credentials.

The process has one pooled Ayrshare client (`SharedClient`), shared by every session on every transport, and one
state (`state`): what the client and the confirmations remember between calls, in this process or in Redis.

A toolset with an MCP Apps view (the calendar) makes the server advertise the `io.modelcontextprotocol/ui`
extension, serve the view as a `ui://` resource, and serve the tools the view calls; those its toolsets do not
serve to the model are listed, marked app-only, to clients that render apps, decided per request (on 2026-07-28 a
client's capabilities come with each request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID, client_supports_apps
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request

from ayrshare_mcp import __version__
from ayrshare_mcp.access import AccessPolicy, ProvenKeys
from ayrshare_mcp.client import AyrshareAPIError, AyrshareClient, AyrshareError
from ayrshare_mcp.confirmation import (
    SpentStates,
    arguments_of,
    confirmer,
    request_state_boundary,
)
from ayrshare_mcp.credentials import (
    HEADER_API_KEY,
    Credentials,
    CredentialsError,
    account_key,
    every_configured_secret,
    resolve_credentials,
)
from ayrshare_mcp.prompts import get_prompt, served_prompts
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.state import open_state
from ayrshare_mcp.tools import TOOLS_BY_NAME, TOOLSET_OF, instructions, served
from ayrshare_mcp.tools.catalog import app_only, views
from ayrshare_mcp.tools.envelope import with_notice
from ayrshare_mcp.tools.media_files import ACCESS, MediaAccess
from ayrshare_mcp.tools.spec import SERVED_TOOLS

SERVER_NAME = "ayrshare"
SANDBOX_NOTICE = (
    "Sandbox: this result came from ayrshare-mcp's built-in Ayrshare emulator (--sandbox); "
    "no real Ayrshare account or social post was touched. The sandbox keeps its posts and schedules between runs "
    "(so a post made again the same day is refused as already submitted); --sandbox-reset starts it over."
)


class SharedClient:
    """The process's one pooled Ayrshare client, open while any server lifespan (or the HTTP app) borrows it.

    SSE enters the server lifespan once per connection; borrowing keeps that from opening a pool per client.
    """

    def __init__(self, settings: Settings, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._transport = transport or _sandbox_transport(settings)
        # Connected on first use, and only with AYRSHARE_MCP_REDIS_URL set; else this process's memory.
        self.state = open_state(settings.redis_url)
        self._lock = anyio.Lock()
        self._borrowers = 0
        self._client: AyrshareClient | None = None
        self._stack = AsyncExitStack()

    @asynccontextmanager
    async def borrow(self) -> AsyncIterator[AyrshareClient]:
        async with self._lock:
            if self._client is None:
                self._client = await self._stack.enter_async_context(
                    AyrshareClient.connect(self._settings, transport=self._transport, state=self.state)
                )
                self._stack.push_async_callback(self.state.aclose)
            self._borrowers += 1
            client = self._client
        try:
            yield client
        finally:
            async with self._lock:
                self._borrowers -= 1
                if self._borrowers == 0:
                    self._client = None
                    await self._stack.aclose()


def _sandbox_transport(settings: Settings) -> httpx2.AsyncBaseTransport | None:
    if not settings.sandbox:
        return None
    # Imported only in sandbox mode: the emulator is not needed to talk to Ayrshare.
    from ayrshare_mcp.sandbox import sandbox_transport

    return sandbox_transport(settings.environ)


# How long asking Ayrshare whether a caller's key is real may hold up that caller's first request (at most a call's
# time).
VOUCH_SECONDS = 5.0
# What Ayrshare answers a key it does not accept (docs/ayrshare-api.md: 401, or 403 with code 102).
REFUSED_KEY_STATUSES = frozenset({401, 403})


def key_voucher(
    settings: Settings, shared: SharedClient, proven: ProvenKeys
) -> Callable[[Mapping[str, str]], Awaitable[bool | None]]:
    """Asks Ayrshare whether the key in a request's headers is real (its GET /user answers), and counts it as
    proven if so: for a caller with a real key who has not yet made a call, when the server is full. False when
    Ayrshare refused the key; None when it could not say (it failed, or was slow)."""

    async def vouch(headers: Mapping[str, str]) -> bool | None:
        api_key = headers.get(HEADER_API_KEY.lower(), "").strip()
        try:
            credentials = resolve_credentials(settings.environ, headers, lend_server_key=False)
        except CredentialsError:
            return False
        async with shared.borrow() as client:
            try:
                deadline = anyio.current_time() + min(VOUCH_SECONDS, settings.call_timeout)
                await client.account(credentials, deadline=deadline).get_user()
            except AyrshareAPIError as error:
                return False if error.status in REFUSED_KEY_STATUSES else None
            except AyrshareError:
                return None
        proven.prove(api_key)
        return True

    return vouch


@dataclass(frozen=True)
class AppState:
    client: AyrshareClient


def build_server(
    settings: Settings,
    *,
    shared: SharedClient | None = None,
    access: AccessPolicy | None = None,
    proven: ProvenKeys | None = None,
) -> Server[AppState]:
    """The server for these settings.

    `shared` is the process's Ayrshare client (a fresh one by default); `access` says whether HTTP callers without
    their own Ayrshare key may use the server's (by default they may: stdio and in-memory clients are the user);
    `proven` learns which callers' keys made a successful call (the HTTP guards' quotas read it).
    In read-only mode only read-only tools exist.
    """
    shared = shared or SharedClient(settings)
    access = access or AccessPolicy()
    model_tools = served(settings.toolsets, read_only=settings.read_only)
    view_tools = app_only(settings.toolsets, read_only=settings.read_only)
    served_tools = {spec.name: spec for spec in (*model_tools, *view_tools)}
    model_names = frozenset(spec.name for spec in model_tools)
    view_names = frozenset(served_tools)
    listing = types.ListToolsResult(tools=[spec.tool for spec in model_tools])
    # Hosts that render apps keep app-only tools from the model; any other host would put them in its context.
    app_listing = types.ListToolsResult(tools=[spec.tool for spec in (*model_tools, *view_tools)])
    pages = {uri: _view(uri, file) for uri, file in views(settings.toolsets).items()}
    resource_listing = types.ListResourcesResult(resources=[resource for resource, _ in pages.values()])
    offered = served_prompts(settings.toolsets, read_only=settings.read_only)
    prompt_listing = types.ListPromptsResult(prompts=[prompt.prompt for prompt in offered.values()])
    spent = SpentStates(settings.confirmation_seconds, shared.state)

    def credentials_for(headers: Mapping[str, str] | None) -> Credentials:
        return resolve_credentials(settings.environ, headers, lend_server_key=access.lends_server_key)

    def account_of(ctx: ServerRequestContext[Any]) -> str | None:
        """The Ayrshare account a call acts for, which a confirmation is bound to; None when there is none."""
        try:
            credentials = credentials_for(_http_headers(ctx))
        except CredentialsError:
            return None
        profile_key = arguments_of(ctx).get("Profile-Key")
        acting = profile_key if isinstance(profile_key, str) else credentials.profile_key
        return account_key(credentials.api_key, acting)

    @asynccontextmanager
    async def lifespan(_: Server[AppState]) -> AsyncIterator[AppState]:
        async with shared.borrow() as client:
            yield AppState(client=client)

    async def list_tools(
        ctx: ServerRequestContext[AppState], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return app_listing if view_tools and client_supports_apps(ctx) else listing

    async def call_tool(
        ctx: ServerRequestContext[AppState], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        spec = served_tools.get(params.name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, unknown_tool(params.name, settings))
        with_views = _may_render_views(ctx)
        if spec.name not in model_names and not with_views:
            raise MCPError(types.INVALID_PARAMS, view_tool_only(spec.name))
        headers = _http_headers(ctx)
        # What an upload may read: the allowed folders, and local files at all only when the caller is on this machine.
        ACCESS.set(MediaAccess(settings.media_dirs, local_files=headers is None, transport=shared._transport))
        SERVED_TOOLS.set(view_names if with_views else model_names)
        result = await spec.run(
            params.arguments,
            ctx.lifespan_context.client,
            lambda: credentials_for(headers),
            confirmer(ctx, params, spent, settings.confirmation_seconds),
            unattended=settings.unattended,
            redact=every_configured_secret(settings.environ, headers),
        )
        if not isinstance(result, types.CallToolResult):
            return result
        api_key = headers.get(HEADER_API_KEY.lower(), "").strip() if headers is not None else ""
        if proven is not None and api_key and not result.is_error:
            proven.prove(api_key)
        return with_notice(result, "sandbox", SANDBOX_NOTICE) if settings.sandbox else result

    async def list_prompts(
        ctx: ServerRequestContext[AppState], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return prompt_listing

    async def prompt(
        ctx: ServerRequestContext[AppState], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        return get_prompt(offered, params.name, params.arguments)

    def input_schema(name: str) -> dict[str, Any] | None:
        return served_tools[name].tool.input_schema if name in served_tools else None

    async def list_resources(
        ctx: ServerRequestContext[AppState], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return resource_listing

    async def read_resource(
        ctx: ServerRequestContext[AppState], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        if params.uri not in pages:
            # Only the start of what was asked is echoed: a URI may be as long as a request allows.
            raise MCPError(
                types.INVALID_PARAMS, f"No resource {params.uri[:100]!r}; resources/list names those there are."
            )
        resource, html = pages[params.uri]
        contents = types.TextResourceContents(uri=resource.uri, mime_type=APP_MIME_TYPE, text=html)
        return types.ReadResourceResult(contents=[contents])

    # Only a server with a view has resources: the others keep the capabilities they always had.
    resource_handlers: dict[str, Any] = (
        {"on_list_resources": list_resources, "on_read_resource": read_resource} if pages else {}
    )
    server = Server(
        SERVER_NAME,
        version=__version__,
        title="Ayrshare",
        instructions=instructions(settings.toolsets),
        lifespan=lifespan,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_prompts=list_prompts,
        on_get_prompt=prompt,
        **resource_handlers,
    )
    if pages:
        server.extensions[EXTENSION_ID] = {"mimeTypes": [APP_MIME_TYPE]}
    boundary = request_state_boundary(settings.state_secret, SERVER_NAME, account_of, settings.confirmation_seconds)
    server.middleware.append(boundary)
    return server


def _view(uri: str, file: str) -> tuple[types.Resource, str]:
    """A view in the package's `views/` folder, as the resource resources/list names and the page it reads."""
    html = resources.files("ayrshare_mcp").joinpath("views", file).read_text(encoding="utf-8")
    name = file.removesuffix(".html")
    resource = types.Resource(
        uri=uri,
        name=name,
        title=f"Ayrshare {name}",
        mime_type=APP_MIME_TYPE,
        size=len(html.encode()),
    )
    return resource, html


def _http_headers(ctx: ServerRequestContext[Any]) -> Mapping[str, str] | None:
    """The headers of the HTTP request that carried this call; None on stdio and in memory."""
    return ctx.request.headers if isinstance(ctx.request, Request) else None


def _may_render_views(ctx: ServerRequestContext[Any]) -> bool:
    """Whether this request may come from a view: its client declared MCP Apps, or is on the 2025 era, whose
    capabilities cannot say so (a host there may render the view without telling)."""
    return client_supports_apps(ctx) or ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS


def view_tool_only(name: str) -> str:
    """Why a tool that only a view calls is refused to a client that renders no views."""
    toolset = TOOLSET_OF[name]
    return (
        f"{name} is here only for the calendar view, and this client did not say it renders MCP Apps. To let a model "
        f"call it, serve its toolset too: --toolsets {toolset},calendar (or AYRSHARE_TOOLSETS)."
    )


def unknown_tool(name: str, settings: Settings) -> str:
    """Why a tool cannot be called here, in one line."""
    toolset = TOOLSET_OF.get(name)
    if toolset is not None and toolset not in settings.toolsets:
        wanted = ",".join((*settings.toolsets, toolset))
        return (
            f"{name} is in the {toolset} toolset, which this server does not serve: start it with --toolsets "
            f"{wanted} (or AYRSHARE_TOOLSETS={wanted})."
        )
    if settings.read_only and name in TOOLS_BY_NAME:
        return f"{name} is not available: this server runs read-only (--read-only / AYRSHARE_READ_ONLY)."
    return f"Unknown tool {name!r}; call tools/list for the tools there are."
