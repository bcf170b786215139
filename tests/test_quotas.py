"""Who pays for a session, whose gives way when the server is full, and the client's address behind proxies:
the rules themselves, with a clock the test moves. The attacks on a real server process are in test_lockout.py."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from ayrshare_mcp.access import ProvenKeys
from ayrshare_mcp.transports.forwarded import TrustedProxies, TrustProxyError, forwarded_for, x_forwarded_for
from ayrshare_mcp.transports.quotas import Quotas, Refusal, _Book, _Holding
from ayrshare_mcp.transports.signin import Caller

REAL_KEY = "CANARY-PROVEN-KEY-8c2d"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def caller(address: str = "10.0.0.1", key: str | None = None, token: bool = False) -> Caller:
    user = AuthenticatedUser(AccessToken(token="", client_id="open", scopes=[], subject=address + (key or "")))
    fingerprint = ProvenKeys.fingerprint(key) if key else None
    return Caller(user=user, token_holder="token-holder" if token else None, key=fingerprint, address=address)


def book(proven: ProvenKeys | None = None, clock: Clock | None = None, **quotas: Any) -> _Book:
    settings = {"sessions": 10, "per_caller": 3, "per_address": 4, "idle_seconds": 600.0, **quotas}
    return _Book(Quotas(**settings), proven or ProvenKeys(), clock or Clock())


def open_session(ledger: _Book, who: Caller) -> _Holding | Refusal:
    admitted = ledger.admit(who, "session")
    if isinstance(admitted, Refusal):
        return admitted
    holding, _ = admitted

    async def end() -> None:
        return None

    holding.end = end
    return holding


def admitted(ledger: _Book, who: Caller) -> tuple[_Holding, list[_Holding]]:
    result = ledger.admit(who, "session")
    assert not isinstance(result, Refusal), result
    return result


def in_use(*holdings: _Holding | Refusal) -> None:
    for holding in holdings:
        assert isinstance(holding, _Holding)
        holding.in_flight = holding.calls_in_flight = 1


def test_callers_with_no_proven_identity_are_charged_to_their_address_and_only_their_own_sessions_give_way() -> None:
    ledger = book()
    held = [open_session(ledger, caller(key=f"INVENTED-{n}")) for n in range(4)]

    another = open_session(ledger, caller(key="INVENTED-5"))
    _, ended = admitted(ledger, caller(key="INVENTED-1"))
    in_use(*ledger.holdings)

    assert another == Refusal(429, "Too many open sessions from this address, all in use; end one first.")
    assert ended == [held[1]], "a caller reconnecting gives up its own idle session, nobody else's"
    assert open_session(ledger, caller(key="INVENTED-1")) == Refusal(
        429, "Too many open sessions from this address, all in use; end one first."
    )


def test_an_ipv4_client_written_as_ipv6_by_a_dual_stack_proxy_is_its_own_address() -> None:
    ledger = book(per_address=1)
    in_use(open_session(ledger, caller(address="::ffff:198.51.100.7")))

    assert isinstance(open_session(ledger, caller(address="::ffff:203.0.113.9")), _Holding)
    assert isinstance(open_session(ledger, caller(address="198.51.100.7")), Refusal), "the same IPv4 client"


def test_a_server_for_one_session_admits_its_first_caller() -> None:
    ledger = book(sessions=1)

    assert isinstance(open_session(ledger, caller(key="FIRST-KEY")), _Holding)


def test_a_key_that_made_a_successful_call_is_charged_as_itself_from_any_address() -> None:
    proven = ProvenKeys()
    proven.prove(REAL_KEY)
    ledger = book(proven)
    held = [open_session(ledger, caller(address=f"10.0.0.{n}", key=REAL_KEY)) for n in range(3)]
    in_use(*held)

    assert open_session(ledger, caller(address="10.0.0.9", key=REAL_KEY)) == Refusal(
        429, "Too many open sessions for this caller, all in use; end one (DELETE) first."
    )
    assert isinstance(open_session(ledger, caller(key="INVENTED")), _Holding), "its addresses are not charged"


def test_an_ipv6_host_is_one_address_whatever_it_picks_from_its_64() -> None:
    ledger = book()
    for n in range(4):
        in_use(open_session(ledger, caller(address=f"2001:db8:1:2::{n + 1:x}")))

    assert isinstance(open_session(ledger, caller(address="2001:db8:1:3::1")), _Holding), "another /64"
    assert isinstance(open_session(ledger, caller(address="2001:db8:1:2::ffff")), Refusal)


def test_unproven_callers_get_at_most_half_the_server_and_proven_ones_the_rest() -> None:
    proven = ProvenKeys()
    proven.prove(REAL_KEY)
    ledger = book(proven, per_caller=10)
    for n in range(5):
        assert isinstance(open_session(ledger, caller(address=f"10.0.0.{n}")), _Holding)

    another_from_one_of_them = open_session(ledger, caller(address="10.0.0.1"))
    assert another_from_one_of_them == Refusal(503, "Too many open sessions on this server; try again later.")
    assert all(isinstance(open_session(ledger, caller(key=REAL_KEY)), _Holding) for _ in range(5))


def test_a_newcomer_takes_the_place_of_the_longest_idle_session_of_whoever_holds_the_most() -> None:
    clock = Clock()
    ledger = book(clock=clock, per_address=10)
    hoarded = []
    for _ in range(4):
        hoarded.append(open_session(ledger, caller(address="10.0.0.1")))
        clock.now += 1
    modest = open_session(ledger, caller(address="10.0.0.2"))

    _, ended = admitted(ledger, caller(address="10.0.0.3"))

    assert ended == [hoarded[0]]
    assert modest in ledger.holdings


def test_nobody_is_pushed_out_by_a_newcomer_who_would_then_hold_as_many() -> None:
    ledger = book()
    for n in range(5):  # the unproven half of the server, one session each
        assert isinstance(open_session(ledger, caller(address=f"10.0.0.{n}")), _Holding)

    assert open_session(ledger, caller(address="10.0.0.99")) == Refusal(
        503, "Too many open sessions on this server; try again later."
    )


def test_a_proven_callers_session_never_gives_way_to_an_unproven_newcomer() -> None:
    proven = ProvenKeys()
    proven.prove(REAL_KEY)
    ledger = book(proven, sessions=4, per_caller=4)
    mine = [open_session(ledger, caller(key=REAL_KEY)) for _ in range(4)]

    assert open_session(ledger, caller(address="10.0.0.7")) == Refusal(
        503, "Too many open sessions on this server; try again later."
    )
    assert all(each in ledger.holdings for each in mine)


def test_idle_sessions_of_unproven_callers_end_sooner_than_those_of_proven_ones() -> None:
    proven = ProvenKeys()
    proven.prove(REAL_KEY)
    clock = Clock()
    ledger = book(proven, clock=clock, unproven_idle_seconds=60.0)
    anonymous = open_session(ledger, caller(address="10.0.0.1"))
    known = open_session(ledger, caller(key=REAL_KEY))
    clock.now = 61.0

    assert ledger.expired() == [anonymous]
    assert known in ledger.holdings


def test_a_session_making_a_call_does_not_expire_but_an_open_stream_keeps_no_unproven_one_alive() -> None:
    clock = Clock()
    ledger = book(clock=clock, unproven_idle_seconds=60.0)
    calling, streaming = open_session(ledger, caller()), open_session(ledger, caller())
    assert isinstance(calling, _Holding)
    assert isinstance(streaming, _Holding)
    calling.in_flight = calling.calls_in_flight = 1
    streaming.in_flight = 1  # a GET stream, held open
    clock.now = 1000.0

    assert ledger.expired() == [streaming]


def test_token_holders_inventing_keys_share_one_quota_apart_from_those_using_the_servers_key() -> None:
    ledger = book()
    held = [open_session(ledger, caller(address=f"10.0.0.{n}", key=f"INVENTED-{n}", token=True)) for n in range(3)]

    assert isinstance(open_session(ledger, caller(address="10.0.0.8", key="INVENTED-8", token=True)), Refusal)
    assert isinstance(open_session(ledger, caller(address="10.0.0.9", token=True)), _Holding)
    assert all(each in ledger.holdings for each in held)


def test_a_token_holder_at_the_tokens_quota_never_ends_another_holders_session() -> None:
    ledger = book(per_caller=2)
    colleague = open_session(ledger, caller(address="10.0.0.1", token=True))
    first = open_session(ledger, caller(address="10.0.0.2", token=True))

    _, ended = admitted(ledger, caller(address="10.0.0.2", token=True))
    stranger = open_session(ledger, caller(address="10.0.0.3", token=True))

    assert ended == [first], "reconnecting, a holder gives up its own idle session"
    assert stranger == Refusal(429, "Too many open sessions for this caller, all in use; end one (DELETE) first.")
    assert colleague in ledger.holdings


def test_when_the_server_is_full_the_owner_holding_the_most_within_a_payer_gives_way() -> None:
    clock = Clock()
    ledger = book(clock=clock, sessions=4, per_caller=4)
    colleague = open_session(ledger, caller(address="10.0.0.1", key="A-KEY", token=True))
    hoarded = []
    for _ in range(3):
        clock.now += 1
        hoarded.append(open_session(ledger, caller(address="10.0.0.2", key="B-KEY", token=True)))

    _, ended = admitted(ledger, caller(address="10.0.0.3", token=True))

    assert ended == [hoarded[0]], "not the colleague's, idle longer but alone"
    assert colleague in ledger.holdings


def test_proven_keys_are_remembered_up_to_a_bound() -> None:
    proven = ProvenKeys(capacity=2)
    for key in ("one-key-1234", "two-key-1234", "three-key-1234"):
        proven.prove(key)

    assert ProvenKeys.fingerprint("one-key-1234") not in proven
    assert ProvenKeys.fingerprint("three-key-1234") in proven


# --- the client's address behind proxies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trust", "peer", "xff", "forwarded", "client"),
    [
        ("10.0.0.5", "10.0.0.5", ["1.2.3.4"], None, "1.2.3.4"),
        ("10.0.0.5", "10.0.0.5", ["6.6.6.6, 1.2.3.4"], None, "1.2.3.4"),
        ("10.0.0.0/8", "10.0.0.5", ["1.2.3.4, 10.0.0.9"], None, "1.2.3.4"),
        ("10.0.0.5", "9.9.9.9", ["1.2.3.4"], None, "9.9.9.9"),
        ("10.0.0.5", "10.0.0.5", None, ['for=1.2.3.4;proto=https, for="[2001:db8::1]:4711"'], "2001:db8::1"),
        ("10.0.0.5", "10.0.0.5", ["1.2.3.4"], ["for=1.2.3.4"], "1.2.3.4"),
        ("10.0.0.5", "10.0.0.5", ["1.2.3.4"], ["for=6.6.6.6"], "10.0.0.5"),
        ("10.0.0.5", "10.0.0.5", None, None, "10.0.0.5"),
        ("1", "10.0.0.5", ["6.6.6.6, 1.2.3.4"], None, "1.2.3.4"),
        ("2", "10.0.0.5", ["6.6.6.6, 1.2.3.4, 10.0.0.4"], None, "1.2.3.4"),
        ("2", "10.0.0.5", ["1.2.3.4"], None, "1.2.3.4"),
    ],
)
def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(
    trust: str, peer: str, xff: list[str] | None, forwarded: list[str] | None, client: str
) -> None:
    proxies = TrustedProxies.parse(trust)
    chain = x_forwarded_for(xff) if xff is not None else None
    nodes = forwarded_for(forwarded) if forwarded is not None else None

    assert proxies.client(peer, chain, nodes) == client


@pytest.mark.parametrize("text", ["proxy.example.com", "0", "11", "", "10.0.0.1,nonsense"])
def test_trust_proxy_refuses_what_is_neither_an_address_nor_a_hop_count(text: str) -> None:
    with pytest.raises(TrustProxyError, match="trust-proxy"):
        TrustedProxies.parse(text)


def test_without_trusted_proxies_nobody_is_trusted() -> None:
    assert TrustedProxies().client("10.0.0.5", ["1.2.3.4"], None) == "10.0.0.5"


def test_a_holder_with_all_of_a_shared_quota_idle_gives_way_to_one_holding_none() -> None:
    ledger = book(per_caller=3)
    hoarded = [open_session(ledger, caller(address="10.0.0.1", token=True)) for _ in range(3)]

    _, ended = admitted(ledger, caller(address="10.0.0.2", token=True))

    assert ended == [hoarded[0]], "the holder of all three gives up its longest-idle one; nobody else is ended"
