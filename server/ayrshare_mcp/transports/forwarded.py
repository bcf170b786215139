"""The client's address behind reverse proxies the operator trusts (`--trust-proxy`), and no one else's word for it.

A proxy appends the address it received a request from to `X-Forwarded-For` (or `Forwarded: for=`, RFC 7239), and
anything to the left of that may be whatever the client wrote. So the client is the right-most address that is not
one of the operator's proxies. The headers count only when the request came from a trusted proxy; a request that
carries both headers, naming different clients, is put down to the proxy itself (a client wrote one of them).

uvicorn's own ProxyHeadersMiddleware reads only `X-Forwarded-For` and has no hop count, hence this module.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_FORWARDED_FOR = re.compile(r'(?:^|[;,\s])for\s*=\s*("?)(?P<node>[^";,\s]+)\1', re.IGNORECASE)


class TrustProxyError(ValueError):
    """--trust-proxy names something that is neither an address, a network, nor a hop count."""


@dataclass(frozen=True)
class TrustedProxies:
    """The reverse proxies in front of this server: their addresses or networks, or how many there are (`hops`)."""

    networks: tuple[IPNetwork, ...] = ()
    hops: int = 0

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """`10.0.0.5,10.1.0.0/16` (addresses and networks) or `2` (that many proxies, whatever their addresses).

        Raises:
            TrustProxyError: naming the part that is neither.
        """
        text = text.strip()
        if text.isdigit():
            if not 1 <= int(text) <= 10:
                raise TrustProxyError(f"--trust-proxy takes a hop count from 1 to 10, got {text}.")
            return cls(hops=int(text))
        networks = []
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise TrustProxyError(
                    f"--trust-proxy: {part!r} is not an IP address or network; give the proxies' addresses (e.g. "
                    "10.0.0.5,10.1.0.0/16) or how many proxies there are (e.g. 1)."
                ) from None
        if not networks:
            raise TrustProxyError("--trust-proxy needs the proxies' addresses, or how many proxies there are.")
        return cls(networks=tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.networks) or self.hops > 0

    def describe(self) -> str:
        if self.hops:
            return f"any peer, as the nearest of {self.hops} reverse prox{'ies' if self.hops > 1 else 'y'}"
        return "the reverse proxies at " + ", ".join(map(str, self.networks))

    def trusts(self, address: str) -> bool:
        """Whether a request coming from `address` comes from one of the proxies."""
        if self.hops:
            return True
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str] | None, forwarded: Sequence[str] | None) -> str:
        """The client's address, from the peer and the values of the two headers (None: absent)."""
        if not self.trusts(peer):
            return peer
        chains = [chain for chain in (forwarded_for, forwarded) if chain is not None]
        clients = {self._right_most_untrusted(peer, chain) for chain in chains}
        return clients.pop() if len(clients) == 1 else peer

    def _right_most_untrusted(self, peer: str, chain: Sequence[str]) -> str:
        if self.hops:
            # The peer is the first proxy; the ones behind it wrote the last hops - 1 entries.
            index = len(chain) - self.hops
            return chain[index] if index >= 0 else (chain[0] if chain else peer)
        for address in reversed(chain):
            if not self.trusts(address):
                return address
        return chain[0] if chain else peer


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def x_forwarded_for(values: Sequence[str]) -> list[str]:
    """The addresses of every `X-Forwarded-For` header, in order; anything unreadable is kept as written."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def forwarded_for(values: Sequence[str]) -> list[str]:
    """The `for=` nodes of every `Forwarded` header, in order, without ports or brackets."""
    return [_node(match["node"]) for value in values for match in _FORWARDED_FOR.finditer(value)]


def _node(node: str) -> str:
    if node.startswith("["):
        return node[1:].split("]", 1)[0]
    host, separator, port = node.rpartition(":")
    return host if separator and port.isdigit() and host.count(":") == 0 else node


class ClientAddress:
    """Puts the client's address, as the trusted proxies say, in the request's `client` for every guard behind."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self._app, self._proxies = app, proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            peer, port = scope["client"]
            headers = scope["headers"]
            xff = [value.decode("latin-1") for key, value in headers if key == b"x-forwarded-for"]
            rfc = [value.decode("latin-1") for key, value in headers if key == b"forwarded"]
            client = self._proxies.client(
                peer, x_forwarded_for(xff) if xff else None, forwarded_for(rfc) if rfc else None
            )
            if client != peer:
                scope = {**scope, "client": (client, port)}
        await self._app(scope, receive, send)
