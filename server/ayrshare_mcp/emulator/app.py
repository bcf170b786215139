"""The emulator on the wire: an ASGI app serving Ayrshare's endpoints, with a request log and injectable faults.

Serve it with uvicorn for a real HTTP server on loopback, or hand it to an HTTP client's ASGI transport to run
in memory. Control endpoints under `/__emulator__/` let a test in another process inject faults and read the log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ayrshare_mcp.emulator import analytics, ayrshare, comments, media, messages, posts
from ayrshare_mcp.emulator.ayrshare import Ayrshare, Call, ErrorAnswer, Reply, Route, Switches, XHeaders

ADMIN_PREFIX = "/__emulator__"
_INDEXED = re.compile(r"^(?P<name>[A-Za-z]+)\[\d+\]$")


@dataclass
class RecordedRequest:
    """One request as the emulator received it, for tests to assert on."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any = None
    # The client's address and port: one value per TCP connection, so tests can see connection reuse.
    peer: str = ""
    # When it arrived (anyio's clock), and whether the client hung up before the answer was sent.
    arrived: float = 0.0
    aborted: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)

    def query_list(self, name: str) -> list[str]:
        """A list parameter in any encoding clients use: name[0]=a, repeated name=a, or name=a,b."""
        values: list[str] = []
        for key, value in self.query:
            match = _INDEXED.match(key)
            if key == name or (match and match["name"] == name):
                values.extend(part for part in value.split(",") if part)
        return values


@dataclass
class Fault:
    """An answer to give instead of the real one, to matching requests, `times` times (None: until cleared)."""

    status: int = 500
    body: Any = field(default_factory=lambda: {"status": "error", "message": "Internal server error"})
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    method: str | None = None
    path: str | None = None
    # Only requests carrying this header value, e.g. ("profile-key", "P1"): a fault for one session among many.
    header: tuple[str, str] | None = None
    times: int | None = 1
    # Only every n-th matching request (1: each one), for a steady trickle of faults under load.
    every: int = 1
    # "respond": answer with the above; "reset": start the answer, then drop the connection mid-body;
    # "crash": raise inside the app (a 500 over HTTP; an exception in the caller with an in-memory transport).
    action: Literal["respond", "reset", "crash"] = "respond"

    seen: int = field(default=0, init=False, repr=False)

    def fires_for(self, request: RecordedRequest) -> bool:
        """Whether this fault answers `request`; counts the request when it matches, for `every`."""
        if not (
            (self.method is None or self.method == request.method)
            and (self.path is None or request.path.endswith(self.path))
            and (self.header is None or request.header(self.header[0]) == self.header[1])
        ):
            return False
        self.seen += 1
        return self.seen % self.every == 0

    def response(self) -> Response:
        content = self.body if isinstance(self.body, str) else json.dumps(self.body)
        if self.action == "reset":
            return _CutShort(content, status_code=self.status, media_type=self.content_type, headers=self.headers)
        return Response(content, status_code=self.status, media_type=self.content_type, headers=self.headers)


class _CutShort(Response):
    """Promises the whole body, sends half, and ends: the server then drops the connection mid-response."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


# Every endpoint the emulator serves: each part declares its own.
PARTS = (ayrshare, posts, analytics, comments, messages, media)
ROUTES: dict[tuple[str, str], Route] = {key: route for part in PARTS for key, route in part.ROUTES.items()}


def route_of(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving a request, and the values of its path's "{name}" segments."""
    if (method, path) in ROUTES:
        return ROUTES[method, path], {}
    given = path.split("/")
    for (route_method, pattern), route in ROUTES.items():
        parts = pattern.split("/")
        if route_method != method or len(parts) != len(given) or "{" not in pattern:
            continue
        if all(part == value or (part.startswith("{") and value) for part, value in zip(parts, given, strict=True)):
            return route, {part[1:-1]: value for part, value in zip(parts, given, strict=True) if part.startswith("{")}
    return None


def _call(request: RecordedRequest, api_key: str, path: dict[str, str]) -> Call:
    return Call(
        body=request.body,
        query=request.query_dict(),
        lists={name: request.query_list(name) for name in ("platforms",)},
        path=path,
        profile_key=request.header("profile-key"),
        api_key=api_key,
        x_headers=XHeaders(request.header("x-twitter-oauth1-api-key"), request.header("x-twitter-oauth1-api-secret")),
    )


class EmulatorApp:
    """The ASGI application. `service` holds the data; `requests`, `faults` and `latency` are the test controls."""

    def __init__(self, service: Ayrshare | None = None, *, max_requests: int | None = None) -> None:
        self.service = service or Ayrshare()
        # How many requests the log keeps, newest last; None: all of them (a test's whole run).
        self.max_requests = max_requests
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self._waiters: list[tuple[int, anyio.Event]] = []
        self._abort_waiters: list[tuple[int, anyio.Event]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _run_lifespan(receive, send)
            return
        request = Request(scope, receive)
        if request.url.path.startswith(ADMIN_PREFIX):
            response = await self._admin(request)
        else:
            response = await self._serve(request)
        await response(scope, receive, send)

    def reset(self) -> None:
        """Back to a fresh emulator: no data, no requests, no faults, default switches, no added latency."""
        self.requests.clear()
        self.faults.clear()
        self.latency = 0.0
        self.service.profiles.clear()
        self.service.switches = Switches()
        media.forget(self.service)

    def inject(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    async def wait_for_requests(self, count: int) -> None:
        """Return once at least `count` requests have arrived (bound the wait with a timeout)."""
        if len(self.requests) < count:
            arrived = anyio.Event()
            self._waiters.append((count, arrived))
            await arrived.wait()

    async def wait_for_abort(self, count: int) -> None:
        """Return once at least `count` requests were abandoned by their client (bound the wait with a timeout)."""
        if self._aborted() < count:
            hung_up = anyio.Event()
            self._abort_waiters.append((count, hung_up))
            await hung_up.wait()

    def _aborted(self) -> int:
        return sum(request.aborted for request in self.requests)

    def _record_arrival(self, request: RecordedRequest) -> None:
        self.requests.append(request)
        if self.max_requests is not None and len(self.requests) > self.max_requests:
            del self.requests[: len(self.requests) - self.max_requests]
        self._notify(self._waiters, len(self.requests))

    def _record_abort(self, request: RecordedRequest) -> None:
        request.aborted = True
        self._notify(self._abort_waiters, self._aborted())

    @staticmethod
    def _notify(waiters: list[tuple[int, anyio.Event]], reached: int) -> None:
        for waiter in [waiter for waiter in waiters if waiter[0] <= reached]:
            waiters.remove(waiter)
            waiter[1].set()

    def received(self, path_suffix: str = "", method: str | None = None) -> list[RecordedRequest]:
        """The requests received so far, optionally only those to one endpoint."""
        return [
            request
            for request in self.requests
            if request.path.endswith(path_suffix) and (method is None or request.method == method)
        ]

    async def _serve(self, request: Request) -> Response:
        recorded = await _record(request)
        self._record_arrival(recorded)
        fault = self._take_fault(recorded)
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay and await _hung_up_within(request, delay):
            self._record_abort(recorded)
            return _NoAnswer()
        if fault and fault.action == "crash":
            raise RuntimeError("emulator fault: crash")
        if fault:
            return fault.response()
        if recorded.path.startswith(media.STORAGE_PATH):
            # A presigned upload: authorised by its URL alone, as a cloud bucket's signed PUT is.
            reply = media.receive_put(
                self.service, recorded.method, recorded.path, recorded.headers, await request.body()
            )
        else:
            reply = self._answer(recorded)
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        for fault in self.faults:
            if fault.fires_for(request):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def _answer(self, request: RecordedRequest) -> Reply:
        found = route_of(request.method, request.path)
        if found is None:
            return Reply(404, {"status": "error", "message": f"No endpoint {request.method} {request.path}."})
        route, path = found
        rate_headers: dict[str, str] = {}
        try:
            api_key = self.service.authenticate(request.header("authorization"))
            profile = self.service.profile(api_key, request.header("profile-key"))
            rate_headers = self.service.count_request(profile)
            self.service.check_post_quota(profile, request.path)
            if isinstance(request.body, _InvalidJSON):
                raise ErrorAnswer(400, "The request body is not valid JSON.")
            reply = route(self.service, profile, _call(request, api_key, path))
        except ErrorAnswer as error:
            reply = Reply(error.status, error.body, error.headers)
        reply.headers = {**rate_headers, **reply.headers}
        return reply

    async def _admin(self, request: Request) -> Response:
        action = request.url.path.removeprefix(ADMIN_PREFIX)
        handler = _ADMIN.get((request.method, action))
        if handler is None:
            return JSONResponse({"error": f"no control endpoint {request.method} {action}"}, status_code=404)
        try:
            payload = await request.json() if request.method == "POST" else {}
            return JSONResponse(await handler(self, payload))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)


class _NoAnswer(Response):
    """Nothing to send: the client is gone."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


async def _hung_up_within(request: Request, seconds: float) -> bool:
    """Wait `seconds`, unless the client disconnects first; True when it did."""
    hung_up = False
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            nonlocal hung_up
            while (await request.receive())["type"] != "http.disconnect":
                pass
            hung_up = True
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        await anyio.sleep(seconds)
        tg.cancel_scope.cancel()
    return hung_up


class _InvalidJSON:
    """Marks a body that did not parse, so the error comes after authentication, as Ayrshare's would."""


async def _record(request: Request) -> RecordedRequest:
    raw = await request.body()
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = _InvalidJSON()
    return RecordedRequest(
        method=request.method,
        path=request.url.path,
        query=list(request.query_params.multi_items()),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        peer=f"{request.client.host}:{request.client.port}" if request.client else "",
        arrived=anyio.current_time(),
    )


async def _run_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _admin_requests(app: EmulatorApp, _: Mapping[str, Any]) -> Any:
    return [asdict(request) | {"body": _plain(request.body)} for request in app.requests]


async def _admin_fault(app: EmulatorApp, payload: Mapping[str, Any]) -> Any:
    app.inject(Fault(**payload))
    return {"faults": len(app.faults)}


async def _admin_config(app: EmulatorApp, payload: Mapping[str, Any]) -> Any:
    settings = dict(payload)
    if "latency" in settings:
        app.latency = float(settings.pop("latency"))
    for name, value in settings.items():
        if not hasattr(app.service.switches, name):
            raise ValueError(f"unknown switch {name}")
        setattr(app.service.switches, name, value)
    return {"latency": app.latency, "switches": asdict(app.service.switches)}


async def _admin_reset(app: EmulatorApp, _: Mapping[str, Any]) -> Any:
    app.reset()
    return {"reset": True}


def _plain(body: Any) -> Any:
    return None if isinstance(body, _InvalidJSON) else body


_ADMIN: dict[tuple[str, str], Callable[[EmulatorApp, Mapping[str, Any]], Awaitable[Any]]] = {
    ("GET", "/requests"): _admin_requests,
    ("POST", "/faults"): _admin_fault,
    ("POST", "/config"): _admin_config,
    ("POST", "/reset"): _admin_reset,
}
