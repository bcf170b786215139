"""The MCP server: advertises the tool catalog, routes calls to it, and picks each call's credentials.

The process has one pooled Ayrshare client (`SharedClient`), shared by every session on every transport, and one
state (`state`): what the client and the confirmations remember between calls, in this process or in Redis.

A toolset with an MCP Apps view (the calendar) makes the server advertise the `io.modelcontextprotocol/ui`
extension, serve the view as a `ui://` resource, and serve the tools the view calls; those its toolsets do not
serve to the model are listed, marked app-only, to clients that render apps, decided per request (on 2026-07-28 a
client's capabilities come with each request).
"""

from __future__ import annotations

import contextlib
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

from ayrshare_mcp import __version__, audit
from ayrshare_mcp.access import AccessPolicy, ProvenKeys
from ayrshare_mcp.auth.signed_in import SignedIn, signed_in_of
from ayrshare_mcp.auth.tenants import Tenant
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
    every_configured_secret,
    resolve_credentials,
)
from ayrshare_mcp.prompts import PromptSpec, get_prompt, served_prompts
from ayrshare_mcp.settings import Settings
from ayrshare_mcp.state import StateUnavailable, open_state
from ayrshare_mcp.tools import TOOLS_BY_NAME, TOOLSET_OF, instructions, served
from ayrshare_mcp.tools.catalog import app_only, views
from ayrshare_mcp.tools.envelope import with_notice
from ayrshare_mcp.tools.media_files import ACCESS, MediaAccess
from ayrshare_mcp.tools.spec import PROFILE_NAMES, SERVED_TOOLS, ToolSpec

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
                # Redis is met at start: its memory's epoch is learnt, and an unreachable one is logged once.
                with contextlib.suppress(StateUnavailable):
                    await self.state.ping()
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
    named = {spec.name: with_profile_names(spec.tool) for spec in (*model_tools, *view_tools)}
    pages = {uri: _view(uri, file) for uri, file in views(settings.toolsets).items()}
    resource_listing = types.ListResourcesResult(resources=[resource for resource, _ in pages.values()])
    offered = served_prompts(settings.toolsets, read_only=settings.read_only)
    prompt_listing = types.ListPromptsResult(prompts=[prompt.prompt for prompt in offered.values()])
    spent = SpentStates(settings.confirmation_seconds, shared.state)
    if settings.audit:
        audit.enable()

    def credentials_for(ctx: ServerRequestContext[Any]) -> Callable[[str | None], Credentials]:
        """The call's credentials, for the profile it names: from the caller's tenants entry when signed in with one
        (a profile is then named, not keyed), else from the request's headers and the server's own sources."""
        signed = _signed_in(ctx)
        if signed is not None and signed.tenant is not None:
            return signed.tenant.credentials
        headers = _http_headers(ctx)

        def resolve(profile_key: str | None) -> Credentials:
            credentials = resolve_credentials(settings.environ, headers, lend_server_key=access.lends_server_key)
            return credentials.with_profile_key(profile_key)

        return resolve

    def acting_for(ctx: ServerRequestContext[Any]) -> Credentials | None:
        """The credentials a call acts with; None when it has none."""
        profile = arguments_of(ctx).get("Profile-Key")
        try:
            return credentials_for(ctx)(profile if isinstance(profile, str) else None)
        except CredentialsError:
            return None

    def account_of(ctx: ServerRequestContext[Any]) -> str | None:
        """The Ayrshare account a call acts for, and the person signed in if any: what a confirmation is bound to;
        None when there is no account."""
        credentials = acting_for(ctx)
        if credentials is None:
            return None
        signed = _signed_in(ctx)
        person = f"{signed.issuer}\0{signed.subject}" if signed is not None and signed.user is not None else ""
        return f"{credentials.account_key}\0{person}"

    @asynccontextmanager
    async def lifespan(_: Server[AppState]) -> AsyncIterator[AppState]:
        async with shared.borrow() as client:
            yield AppState(client=client)

    async def list_tools(
        ctx: ServerRequestContext[AppState], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        tools = app_listing if view_tools and client_supports_apps(ctx) else listing
        signed = _signed_in(ctx)
        if signed is None:
            return tools
        allowed = [tool for tool in tools.tools if can_call(signed, tool.name)]
        # Under a tenants file the same tools, but their Profile-Key takes a profile's name.
        return types.ListToolsResult(tools=[named[tool.name] for tool in allowed] if signed.tenant else allowed)

    async def call_tool(
        ctx: ServerRequestContext[AppState], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        spec = served_tools.get(params.name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, unknown_tool(params.name, settings))
        with_views = _may_render_views(ctx)
        if spec.name not in model_names and not with_views:
            raise MCPError(types.INVALID_PARAMS, view_tool_only(spec.name))
        signed = _signed_in(ctx)
        if signed is not None and not can_call(signed, spec.name):
            raise MCPError(types.INVALID_PARAMS, missing_scope(spec))
        headers = _http_headers(ctx)
        # What an upload may read: the allowed folders, and local files at all only when the caller is on this machine.
        ACCESS.set(MediaAccess(settings.media_dirs, local_files=headers is None, transport=shared._transport))
        SERVED_TOOLS.set(view_names if with_views else model_names)
        tenant = signed.tenant if signed is not None else None
        PROFILE_NAMES.set((tenant.profiles, tenant.default_profile) if tenant is not None else None)
        result = await spec.run(
            params.arguments,
            ctx.lifespan_context.client,
            credentials_for(ctx),
            confirmer(ctx, params, spent, settings.confirmation_seconds),
            unattended=settings.unattended,
            redact=(*every_configured_secret(settings.environ, headers), *(tenant.account.secrets() if tenant else ())),
        )
        if settings.audit and not spec.read_only:
            profile = _profile_label(ctx, tenant, acting_for(ctx))
            audit.record(spec.name, params.arguments, result, signed=signed, profile=profile)
        if not isinstance(result, types.CallToolResult):
            return result
        api_key = headers.get(HEADER_API_KEY.lower(), "").strip() if headers is not None else ""
        if proven is not None and api_key and not result.is_error:
            proven.prove(api_key)
        return with_notice(result, "sandbox", SANDBOX_NOTICE) if settings.sandbox else result

    def prompts_for(ctx: ServerRequestContext[AppState]) -> dict[str, PromptSpec]:
        """The prompts a caller is offered: those whose every tool their sign-in allows."""
        signed = _signed_in(ctx)
        if signed is None:
            return offered
        return {name: spec for name, spec in offered.items() if all(can_call(signed, tool) for tool in spec.tools)}

    def can_call(signed: SignedIn, tool: str) -> bool:
        """Whether a signed-in caller's scopes let them call `tool` (the one rule: listing, calls and prompts)."""
        return tool in served_tools and served_tools[tool].scope in signed.scopes

    async def list_prompts(
        ctx: ServerRequestContext[AppState], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        mine = prompts_for(ctx)
        if mine is offered:
            return prompt_listing
        return types.ListPromptsResult(prompts=[prompt.prompt for prompt in mine.values()])

    async def prompt(
        ctx: ServerRequestContext[AppState], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        return get_prompt(prompts_for(ctx), params.name, params.arguments)

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


def _signed_in(ctx: ServerRequestContext[Any]) -> SignedIn | None:
    """Who signed in for the HTTP request that carried this call; None on stdio, in memory, and on an open server."""
    return signed_in_of(ctx.request.scope) if isinstance(ctx.request, Request) else None


def with_profile_names(tool: types.Tool) -> types.Tool:
    """The tool as a caller under a tenants file sees it: its Profile-Key argument takes a profile's name."""
    properties = tool.input_schema.get("properties", {})
    if "Profile-Key" not in properties:
        return tool
    named = {**properties["Profile-Key"], "description": PROFILE_NAME_DESCRIPTION}
    schema = {**tool.input_schema, "properties": {**properties, "Profile-Key": named}}
    return tool.model_copy(update={"input_schema": schema})


PROFILE_NAME_DESCRIPTION = (
    "The name of a profile you may act for (AYRSHARE_LIST_PROFILES lists them); omit for your default profile."
)


def _profile_label(ctx: ServerRequestContext[Any], tenant: Tenant | None, acting: Credentials | None) -> str | None:
    """Which profile a call acted for, for the audit log: its name under a tenants file, else the account's
    fingerprint (a key is never logged)."""
    named = arguments_of(ctx).get("Profile-Key")
    if tenant is not None:
        # The name asked for, even one refused: an attempt on another's profile must show as one.
        return named[:64] if isinstance(named, str) else tenant.default_profile
    return f"account:{acting.account_key[:12]}" if acting is not None else None


def missing_scope(spec: ToolSpec[Any]) -> str:
    """Why a signed-in caller cannot call a tool their token's scopes do not cover."""
    return (
        f"{spec.name} needs the {spec.scope} scope, which your sign-in does not grant. Sign in again asking for it, "
        "or ask the server's operator for it (the tenants file may limit your scopes)."
    )


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
