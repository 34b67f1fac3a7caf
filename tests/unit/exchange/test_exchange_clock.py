"""The forward window and gate closure: openings, expiry, reservations, VWAP, rolling."""

from __future__ import annotations

from exchange_helpers import LOT, Recorder, kinds, limit, make

from rexnet.domain.events import GateClosed, OrderExpired, ReservationFixed, UnitOpened
from rexnet.domain.market import MarketSpec
from rexnet.exchange import Exchange

UM = 900_000  # unit length in ms


def test_units_open_at_time_zero():
    ex = Exchange(MarketSpec())
    assert ex.open_units() == [] and ex.next_due_ms() == 0
    events = ex.advance(0)
    assert events == [UnitOpened(0, u) for u in range(1, 9)]
    assert ex.open_units() == list(range(1, 9))
    assert ex.next_due_ms() == UM  # gate of unit 1


def test_first_command_runs_the_clock():
    ex = Exchange(MarketSpec())
    events = ex.handle(limit("a", "r", "buy", 4000, 1, t=0))
    assert kinds(events) == ["unit_opened"] * 8 + ["order_accepted"]


def test_window_rolls_gate_before_opening():
    ex = make()
    events = ex.advance(UM)
    assert events == [GateClosed(UM, 1, 0, None, 0), UnitOpened(UM, 9)]
    assert ex.open_units() == list(range(2, 10))
    assert ex.advance(UM) == []  # idempotent at the same time
    events = ex.advance(3 * UM + 5)
    assert [(e.TYPE, e.t, e.unit) for e in events] == [
        ("gate_closed", 2 * UM, 2),
        ("unit_opened", 2 * UM, 10),
        ("gate_closed", 3 * UM, 3),
        ("unit_opened", 3 * UM, 11),
    ]
    for t in (3 * UM + 5, 4 * UM - 1):
        assert ex.open_units() == [u for u in range(0, 20) if ex.spec.is_open(u, t)]


def test_gate_lead_shifts_gates_and_openings():
    ex = Exchange(MarketSpec(gate_lead_seconds=1000, horizon=4))  # lead > one unit
    opened = ex.advance(0)
    assert [e.unit for e in opened] == [2, 3, 4]  # unit 1's gate (-100 s) is already past
    assert ex.next_due_ms() == 2 * UM - 1_000_000  # unit 2's gate at 800 s
    events = ex.advance(UM)
    assert [(e.TYPE, e.t, e.unit) for e in events] == [("gate_closed", 800_000, 2), ("unit_opened", UM, 5)]


def test_no_unit_opens_when_lead_covers_the_window():
    ex = Exchange(MarketSpec(gate_lead_seconds=900 * 8, horizon=8))
    assert ex.advance(10**9) == [] and ex.next_due_ms() is None


def test_commands_at_or_after_gate_are_rejected_unit_closed():
    ex = make()
    (e,) = ex.handle(limit("a", "r", "buy", 4000, 1, unit=1, t=UM - 1))
    assert e.TYPE == "order_accepted"
    events = ex.handle(limit("a", "r2", "buy", 4000, 1, unit=1, t=UM))
    assert kinds(events) == ["order_expired", "gate_closed", "unit_opened", "order_rejected"]
    assert events[-1].reason == "unit_closed"
    (e,) = ex.handle(limit("a", "r3", "buy", 4000, 1, unit=10, t=UM))
    assert e.reason == "unit_not_open"
    (e,) = ex.handle(limit("a", "r4", "buy", 4000, 1, unit=9, t=UM))
    assert e.TYPE == "order_accepted"


def test_gate_closure_expires_reserves_and_prices():
    r = Recorder()
    r(limit("s1", "a", "sell", 4000, 3, unit=1))
    r(limit("s2", "b", "sell", 4001, 2, unit=1))
    r(limit("b1", "c", "buy", 4001, 4, unit=1))  # 3 lots @ 4000, 1 lot @ 4001
    r(limit("b2", "d", "buy", 3000, 2, unit=1))
    r(limit("b2", "e", "buy", 2000, 1, unit=1))
    events = r.advance(UM)
    notional = 4000 * 3 * LOT + 4001 * LOT
    assert events == [
        OrderExpired(UM, 2, "s2", 1, LOT),
        OrderExpired(UM, 4, "b2", 1, 2 * LOT),
        OrderExpired(UM, 5, "b2", 1, LOT),
        ReservationFixed(UM, "b1", 1, -4 * LOT),
        ReservationFixed(UM, "s1", 1, 3 * LOT),
        ReservationFixed(UM, "s2", 1, LOT),
        GateClosed(UM, 1, 4 * LOT, 4000, notional),  # 4000.25 rounds half-up to 4000
        UnitOpened(UM, 9),
    ]
    assert sum(e.qty for e in events if isinstance(e, ReservationFixed)) == 0
    assert r.ex.position("s1", 1) == 0  # the unit's positions went with it
    assert r.ex.live_orders("b2") == []
    r.check_replay()


def test_vwap_rounds_half_up():
    r = Recorder()
    r(limit("s", "a", "sell", 4000, 1, unit=1))
    r(limit("s", "b", "sell", 4001, 1, unit=1))
    r(limit("b", "c", "buy", 4001, 2, unit=1))
    closed = [e for e in r.advance(UM) if isinstance(e, GateClosed)]
    assert closed == [GateClosed(UM, 1, 2 * LOT, 4001, 8001 * LOT)]  # 4000.5 -> 4001


def test_self_trade_allowed_gives_no_reservation():
    r = Recorder(self_trade="allow")
    r(limit("a", "x", "sell", 4000, 1, unit=1))
    r(limit("a", "y", "buy", 4000, 1, unit=1))
    events = r.advance(UM)
    assert kinds(events) == ["gate_closed", "unit_opened"]
    assert events[0].volume == LOT


def test_replay_of_a_rolling_session_matches():
    r = Recorder()
    for k in range(6):
        t = k * UM // 2 + 1
        unit = 2 + k // 2
        r(limit("s", f"s{k}", "sell", 4000 + k, 2, unit=unit, t=t))
        r(limit("b", f"b{k}", "buy", 4000 + k, 1, unit=unit, t=t))
        r(limit("c", f"c{k}", "buy", 3000, 1, unit=unit + 1, t=t))
        r.check_replay()
    r.advance(10 * UM)
    r.check_replay()
    assert r.ex.open_units() == list(range(11, 19))
