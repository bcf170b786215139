"""Sessions and SSE streams: how many each caller may hold, and whose give way when the server is full.

Who pays for a session is what a caller cannot invent for free:
- the access token's holder, or an Ayrshare key that has made a successful call here ("proven"): each such caller
  may hold `per_caller` sessions, from any number of addresses (a team behind one proxy is not one caller); a
  token's holders sending keys not yet proven share one such quota;
- anyone else is charged to their address (an IPv6 /64): `per_address` sessions, in a pool of at most half the
  server's, and their idle sessions end after `unproven_idle_seconds` instead of `idle_seconds`.

At its quota, a newcomer's own idle session (the same session owner) gives way; nobody else's. When the server (or
the unproven pool) is full, a newcomer takes the place of a session of the payer holding the most, if that is more
than the newcomer's holds: an unproven one first, and never a proven caller's for an unproven newcomer. A newcomer
refused for room whose key Ayrshare accepts (asked then, a few at a time) is admitted as proven. So a flooding
caller, from any number of addresses and with any number of invented keys, cannot lock out a caller with a real key.

A streamable-HTTP session is ended as its owner would end it (DELETE), so the SDK forgets it too; an SSE stream
is closed. An opening `initialize` is capped in size, since a session keeps it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ayrshare_mcp.access import ProvenKeys
from ayrshare_mcp.logs import Throttle, untrusted
from ayrshare_mcp.transports.guards import header, respond
from ayrshare_mcp.transports.signin import CALLER, Caller, caller_of

logger = logging.getLogger(__name__)
THROTTLE = Throttle()

SESSION_HEADER = b"mcp-session-id"
# How long an SSE stream told its client left may take to end before it is cut off.
SSE_END_SECONDS = 1.0
# A session keeps its initialize for its whole life; real ones are a few hundred bytes.
MAX_OPENING_BYTES = 64 * 1024
# The SSE endpoint event names the stream's session: /messages/?session_id=<32 hex digits>.
_SSE_SESSION = re.compile(rb"session_id=([0-9a-f]{32})")
_QUERY_SESSION = re.compile(r"(?:^|&)session_id=([0-9a-f]{32})(?:&|$)")

Kind = Literal["opening", "session", "stream"]
# Asks Ayrshare whether the key in these request headers is real: True once it is proven, False when Ayrshare
# refused it, None when that could not be told (Ayrshare failed or was slow).
Vouch = Callable[[Mapping[str, str]], Awaitable[bool | None]]
# Keys vouched for at once, across the server; how many a minute, across the server and from one network (an IPv4
# address, an IPv6 /48: what one party gets for free); and how long keys Ayrshare refused are not asked about again.
MAX_VOUCHING = 16
VOUCHES_PER_MINUTE = 600
VOUCHES_PER_NETWORK_PER_MINUTE = 6
DOUBT_SECONDS = 600.0
MAX_DOUBTED = 10_000


@dataclass(frozen=True)
class Quotas:
    """How many sessions (streamable-HTTP sessions and SSE streams alike) the server, a proven caller and an unproven
    address may hold, and how long an idle one lives."""

    sessions: int
    per_caller: int
    per_address: int
    # The SDK's idle timeout, mirrored here for the sessions of proven callers.
    idle_seconds: float
    unproven_idle_seconds: float = 60.0


@dataclass(frozen=True)
class Refusal:
    status: int
    why: str


@dataclass(eq=False)
class _Holding:
    caller: Caller
    kind: Kind
    last_active: float
    # Requests being answered: all of them, and those other than a GET stream (which a client holds open at will).
    in_flight: int = 0
    calls_in_flight: int = 0
    end: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)


class _Book:
    """The sessions, streams and openings held, each with its caller, in the order they opened."""

    def __init__(self, quotas: Quotas, proven: ProvenKeys, clock: Callable[[], float] = anyio.current_time) -> None:
        self._quotas, self._proven, self.now = quotas, proven, clock
        self.holdings: list[_Holding] = []
        self.sessions: dict[str, _Holding] = {}
        self.streams: dict[str, _Holding] = {}

    def payer(self, caller: Caller) -> tuple[str, bool]:
        """Who a caller's sessions are charged to, and whether that is a proven identity. A token's holders are
        proven; those of them sending keys not yet proven share one quota, so invented keys cannot multiply it."""
        proven_key = caller.key is not None and caller.key in self._proven
        if caller.token_holder is not None:
            token = f"token:{caller.token_holder}"
            if caller.key is None:
                return token, True
            return (f"{token}/key:{caller.key}" if proven_key else f"{token}/unproven-keys"), True
        if proven_key:
            return f"key:{caller.key}", True
        return f"address:{_network_of(caller.address)}", False

    def admit(self, caller: Caller, kind: Kind) -> tuple[_Holding, list[_Holding]] | Refusal:
        """A new holding for `caller` and the holdings that end to make room for it; or (status, why) if it may not
        open. Never awaits: the check and the booking happen without another request slipping in between."""
        ended: list[_Holding] = []
        payer, proven = self.payer(caller)
        held = [holding for holding in self.holdings if self.payer(holding.caller)[0] == payer]
        quota = self._quotas.per_caller if proven else self._quotas.per_address
        if len(held) >= quota:
            gives_way = self._within_quota(held, caller)
            if gives_way is None:
                return self._over_quota(caller, proven, len(held))
            self.forget(gives_way)
            ended.append(gives_way)
            held.remove(gives_way)
        if self._full(proven):
            victim = self._victim(proven, len(held))
            if victim is None:
                THROTTLE.warn(logger, "Refused a new session: %d are open", len(self.holdings))
                return Refusal(503, "Too many open sessions on this server; try again later.")
            THROTTLE.warn(logger, "Ended a session of the caller holding the most, to make room for another")
            self.forget(victim)
            ended.append(victim)
        holding = _Holding(caller, kind, self.now())
        self.holdings.append(holding)
        return holding, ended

    def _within_quota(self, held: list[_Holding], caller: Caller) -> _Holding | None:
        """The session that gives way to a newcomer whose payer (one shared token, one address) is at its quota: the
        newcomer's own longest-idle one; else, of whoever under that payer holds the most, if they would still hold
        more than the newcomer, their longest-idle one. Nobody's last session goes to a newcomer holding none."""
        mine = [holding for holding in held if holding.caller.owner == caller.owner]
        if (own := self._longest_idle(mine)) is not None:
            return own
        owners = Counter(holding.caller.owner for holding in held)
        fullest, count = owners.most_common(1)[0]
        if count - 1 <= len(mine):
            return None
        return self._longest_idle([holding for holding in held if holding.caller.owner == fullest])

    def _over_quota(self, caller: Caller, proven: bool, holding: int) -> Refusal:
        if proven:
            THROTTLE.warn(logger, "Refused a new session: the caller has %d open, none idle", holding)
            return Refusal(429, "Too many open sessions for this caller, all in use; end one (DELETE) first.")
        where = untrusted(caller.address)
        THROTTLE.warn(logger, "Refused a new session: address %s has %d open, none idle", where, holding)
        return Refusal(429, "Too many open sessions from this address, all in use; end one first.")

    @staticmethod
    def _longest_idle(holdings: list[_Holding]) -> _Holding | None:
        """The one making no call (an open GET stream is no call) for the longest."""
        idle = [held for held in holdings if not held.calls_in_flight and held.end is not None]
        return min(idle, key=lambda held: held.last_active, default=None)

    def _full(self, proven: bool) -> bool:
        if len(self.holdings) >= self._quotas.sessions:
            return True
        unproven = sum(not self.payer(held.caller)[1] for held in self.holdings)
        return not proven and unproven >= max(1, self._quotas.sessions // 2)

    def _victim(self, proven: bool, mine: int) -> _Holding | None:
        """The holding to end for a newcomer who holds `mine`: of the payer holding the most, if they would still
        hold more than the newcomer once it is in, the one idle longest. Unproven holdings go first; a proven
        caller's never give way to an unproven newcomer."""
        candidates = [held for held in self.holdings if held.kind != "opening" and held.end is not None]
        counts = Counter(self.payer(held.caller)[0] for held in candidates)
        # Within a payer (one shared token, one address), the owner holding the most gives way first.
        owners = Counter(held.caller.owner for held in candidates)

        def rank(held: _Holding) -> tuple[bool, int, int, bool, float]:
            payer, payer_proven = self.payer(held.caller)
            return (not payer_proven, counts[payer], owners[held.caller.owner], not held.in_flight, -held.last_active)

        eligible = []
        for held in candidates:
            payer, payer_proven = self.payer(held.caller)
            if payer_proven and not proven:
                continue
            if counts[payer] - 1 > mine or (proven and not payer_proven):
                eligible.append(held)
        return max(eligible, key=rank, default=None)

    def expired(self) -> list[_Holding]:
        """Idle sessions past their time, and unproven callers' streams with no message for that long: forgotten
        here, for the caller to end."""
        now = self.now()
        expired = []
        for held in list(self.holdings):
            proven = self.payer(held.caller)[1]
            # An unproven caller keeps a session alive by using it, not by holding a stream open.
            busy = held.in_flight if proven else held.calls_in_flight
            if held.kind == "opening" or busy or (held.kind == "stream" and proven):
                continue
            lifetime = self._quotas.idle_seconds if proven else self._quotas.unproven_idle_seconds
            if now - held.last_active >= lifetime:
                self.forget(held)
                expired.append(held)
        return expired

    def forget(self, holding: _Holding) -> None:
        if holding in self.holdings:
            self.holdings.remove(holding)
        for index in (self.sessions, self.streams):
            for name in [name for name, held in index.items() if held is holding]:
                del index[name]


class CallerQuotas:
    """Caps on the sessions and SSE streams each caller holds, fair shares when the server is full, and a cap on the
    size of an opening `initialize`. The SDK caps streamable-HTTP sessions in all, too."""

    def __init__(
        self,
        app: ASGIApp,
        quotas: Quotas,
        proven: ProvenKeys,
        *,
        mcp_path: str,
        sse_path: str,
        messages_path: str,
        max_body: int,
        vouch: Vouch | None = None,
    ) -> None:
        self._app = app
        self._mcp_path, self._sse_path, self._messages_path = mcp_path, sse_path, messages_path
        self._max_body = max_body
        self._book = _Book(quotas, proven)
        self._proven, self._vouch = proven, vouch
        # Networks with a key being vouched for now, the vouches of the last minute, and the callers (session owners,
        # by all their key headers) whose keys Ayrshare refused lately.
        self._vouching: set[str] = set()
        self._vouched_at: deque[tuple[float, str]] = deque()
        self._doubted: OrderedDict[str, float] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = caller_of(scope)
        if scope["type"] != "http" or caller is None:
            await self._app(scope, receive, send)
        elif scope["path"] == self._sse_path and scope["method"] == "GET":
            await self._stream(scope, receive, send, caller)
        elif scope["path"] == self._mcp_path:
            await self._streamable(scope, receive, send, caller)
        else:
            if scope["path"].startswith(self._messages_path):
                self._touch_stream(scope)
            await self._app(scope, receive, send)

    async def _open(self, caller: Caller, kind: Kind, scope: Scope, send: Send) -> _Holding | None:
        """Book a holding for `caller`, ending what must give way; None once the refusal is sent. A caller refused
        for want of room whose key Ayrshare accepts is admitted as the proven caller it then is."""
        await _end(self._book.expired())
        admitted = self._book.admit(caller, kind)
        if isinstance(admitted, Refusal) and await self._vouched_for(caller, scope):
            admitted = self._book.admit(caller, kind)
        if isinstance(admitted, Refusal):
            await respond(send, admitted.status, admitted.why)
            return None
        holding, ended = admitted
        await _end(ended)
        return holding

    async def _vouched_for(self, caller: Caller, scope: Scope) -> bool:
        """Whether Ayrshare accepts the key this caller sent, asked now: a first-time caller cannot otherwise prove
        its key while unproven callers fill its share. A few at a time, one per network at once, a few a minute from
        each network and at most `VOUCHES_PER_MINUTE` in all; and keys Ayrshare refused are not asked about again for
        a while. So callers refused for room can neither make the server hammer Ayrshare nor spend another network's
        chance to get in."""
        if self._vouch is None or caller.key is None or caller.key in self._proven:
            return False
        now, network = self._book.now(), _vouching_network(caller.address)
        self._forget_before(now)
        from_network = sum(1 for _, where in self._vouched_at if where == network)
        busy = network in self._vouching or len(self._vouching) >= MAX_VOUCHING
        spent = len(self._vouched_at) >= VOUCHES_PER_MINUTE or from_network >= VOUCHES_PER_NETWORK_PER_MINUTE
        if caller.owner in self._doubted or busy or spent:
            return False
        self._vouched_at.append((now, network))
        self._vouching.add(network)
        try:
            vouched = await self._vouch(Headers(scope=scope))
        finally:
            self._vouching.discard(network)
        if vouched:
            THROTTLE.warn(logger, "Ayrshare accepted the key of a caller refused for room: it is admitted as proven")
        elif vouched is False:
            self._doubted[caller.owner] = now
            while len(self._doubted) > MAX_DOUBTED:
                self._doubted.popitem(last=False)
        return bool(vouched)

    def _forget_before(self, now: float) -> None:
        while self._doubted and now - next(iter(self._doubted.values())) > DOUBT_SECONDS:
            self._doubted.popitem(last=False)
        while self._vouched_at and now - self._vouched_at[0][0] > 60:
            self._vouched_at.popleft()

    # --- SSE -----------------------------------------------------------------------------------------------------

    async def _stream(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> None:
        holding = await self._open(caller, "stream", scope, send)
        if holding is None:
            return
        started = finished = named = False

        async def watch(message: Message) -> None:
            nonlocal started, finished, named
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body":
                finished = not message.get("more_body", False)
                if not named and (match := _SSE_SESSION.search(message.get("body", b""))):
                    self._book.streams[match[1].decode()], named = holding, True
            await send(message)

        gone = anyio.Event()
        with anyio.CancelScope() as stream_scope:

            async def end() -> None:
                # As if the client had left: the SDK then closes the connection's streams itself. Cancelling it
                # instead would leave them to the garbage collector; that is only the fallback, for an app that does
                # not listen for the client leaving.
                gone.set()
                with anyio.move_on_after(SSE_END_SECONDS):
                    await ended.wait()
                stream_scope.cancel()

            ended = anyio.Event()
            holding.end = end
            try:
                await self._app(scope, _until(gone, receive), watch)
            finally:
                ended.set()
                self._book.forget(holding)
        if (gone.is_set() or stream_scope.cancelled_caught) and started and not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _touch_stream(self, scope: Scope) -> None:
        match = _QUERY_SESSION.search(scope.get("query_string", b"").decode("latin-1"))
        if match and (holding := self._book.streams.get(match[1])) is not None:
            holding.last_active = self._book.now()

    # --- streamable HTTP -----------------------------------------------------------------------------------------

    async def _streamable(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> None:
        session_id = header(scope, SESSION_HEADER)
        if session_id is None:
            await self._maybe_new_session(scope, receive, send, caller)
            return
        session = self._book.sessions.get(session_id)
        if session is None:
            await self._app(scope, receive, send)
            return
        call = scope["method"] != "GET"
        session.in_flight += 1
        session.calls_in_flight += call
        session.last_active = self._book.now()
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, watch)
        finally:
            session.in_flight -= 1
            session.calls_in_flight -= call
            session.last_active = self._book.now()
            # Only the owner's own answer says the session is gone: anyone else gets 404 for a session that lives.
            owners_answer = caller.owner == session.caller.owner
            if owners_answer and (status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300)):
                self._book.forget(session)

    async def _maybe_new_session(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> None:
        try:
            messages, opening = await _read_opening(receive, self._max_body)
        except _Unreadable:
            THROTTLE.warn(logger, "Refused a request whose body is nested too deeply to read")
            await respond(send, 400, "Parse error: the body is nested too deeply to be a JSON-RPC message.")
            return
        if messages[-1]["type"] == "http.disconnect":
            return  # the client went away before its request was whole: there is nobody to answer
        if opening is None:
            await self._app(scope, _replay(messages, receive), send)
            return
        if opening > MAX_OPENING_BYTES:
            THROTTLE.warn(logger, "Refused an initialize of %d bytes", opening)
            await respond(send, 413, f"An initialize request is at most {MAX_OPENING_BYTES // 1024} KB.")
            return
        holding = await self._open(caller, "opening", scope, send)
        if holding is None:
            return

        async def register(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", []):
                    if key.lower() == SESSION_HEADER:
                        # The opening becomes the session at once: the client may ask again before this call returns.
                        session_id = value.decode("latin-1")
                        holding.kind, holding.end = "session", self._ender(session_id, scope)
                        self._book.sessions[session_id] = holding
            await send(message)

        try:
            await self._app(scope, _replay(messages, receive), register)
        finally:
            if holding.kind == "opening":
                self._book.forget(holding)

    def _ender(self, session_id: str, opening: Scope) -> Callable[[], Awaitable[None]]:
        """How to end this session as its owner would: a DELETE for it, with the owner's identity."""
        # The opening's headers carry keys: the DELETE needs none of them, only the session id.
        scope = {**opening, "method": "DELETE", "headers": [(SESSION_HEADER, session_id.encode("latin-1"))]}
        scope.pop(CALLER, None)

        async def end() -> None:
            with anyio.CancelScope(shield=True):
                await self._app(scope, _no_body, _discard)

        return end


def _network_of(address: str) -> str:
    """An address as quotas count it: an IPv6 address by its /64 (one host is handed the whole of one), and an
    IPv4 address written as IPv6 (::ffff:a.b.c.d, as a dual-stack proxy may) as the IPv4 address it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False)) if parsed.version == 6 else str(parsed)


def _vouching_network(address: str) -> str:
    """Where a vouch is charged: an IPv4 address, or an IPv6 /48 (a party can have a whole /48 for free)."""
    network = _network_of(address)
    try:
        parsed = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return network
    return str(parsed.supernet(new_prefix=48)) if parsed.version == 6 else network


async def _end(holdings: list[_Holding]) -> None:
    for holding in holdings:
        if holding.end is not None:
            await holding.end()


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Message) -> None:
    return None


class _Unreadable(Exception):
    """A body too deeply nested for the JSON reader."""


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _read_opening(receive: Receive, max_body: int) -> tuple[list[Message], int | None]:
    """The request's body messages, read ahead, and the body's size if it is an `initialize` (what opens a
    session); None when it is anything else.

    Raises:
        _Unreadable: the body is JSON nested too deeply to read.
    """
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        body += message.get("body", b"")
        if len(body) > max_body:
            return messages, None  # the SDK answers 413
        if not message.get("more_body", False):
            break
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return messages, None
    except RecursionError:
        raise _Unreadable from None
    opens = isinstance(payload, dict) and payload.get("method") == "initialize"
    return messages, len(body) if opens else None


def _until(gone: anyio.Event, receive: Receive) -> Receive:
    """`receive`, answering `http.disconnect` once `gone` is set: how an SSE stream is ended from this side."""

    async def receive_until_gone() -> Message:
        if gone.is_set():
            return {"type": "http.disconnect"}
        message: Message = {"type": "http.disconnect"}
        async with anyio.create_task_group() as tg:

            async def from_client() -> None:
                nonlocal message
                message = await receive()
                tg.cancel_scope.cancel()

            async def until_gone() -> None:
                await gone.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(from_client)
            tg.start_soon(until_gone)
        return message

    return receive_until_gone
