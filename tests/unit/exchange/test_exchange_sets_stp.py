"""Self-trade prevention policies and order sets."""

from __future__ import annotations

import pytest
from exchange_helpers import LOT, Recorder, U, cancel, kinds, limit, market, place_set, shrink

from rexnet.domain.events import OrderAccepted, OrderCancelled, TradeExecuted


def book_with_own_order(policy: str) -> Recorder:
    """Asks at 4000: a (1 lot), x (1 lot, the agent who will buy), b (1 lot)."""
    r = Recorder(self_trade=policy)
    r(limit("a", "a1", "sell", 4000, 1))
    r(limit("x", "x1", "sell", 4000, 1))
    r(limit("b", "b1", "sell", 4000, 1))
    return r


def test_cancel_resting_cancels_own_order_and_goes_on():
    r = book_with_own_order("cancel_resting")
    events = r(limit("x", "x2", "buy", 4000, 2))
    assert events[1:] == [
        TradeExecuted(1, 1, U, 4000, LOT, 4, 1, "x", "a", "buy"),
        OrderCancelled(1, 2, "x", U, LOT, "self_trade"),
        TradeExecuted(1, 2, U, 4000, LOT, 4, 3, "x", "b", "buy"),
    ]
    assert r.ex.depth(U) == {"unit": U, "bids": [], "asks": []}
    r.check_replay()


def test_cancel_resting_then_rest_when_only_own_liquidity_crossed():
    r = Recorder()
    r(limit("x", "x1", "sell", 4000, 1))
    events = r(limit("x", "x2", "buy", 4000, 2))
    assert kinds(events) == ["order_accepted", "order_cancelled"]
    assert r.ex.depth(U)["bids"] == [(4000, 2 * LOT, 1)] and r.ex.depth(U)["asks"] == []
    r.check_replay()


def test_cancel_incoming_stops_and_cancels_the_remainder():
    r = book_with_own_order("cancel_incoming")
    events = r(limit("x", "x2", "buy", 4000, 3))
    assert kinds(events) == ["order_accepted", "trade", "order_cancelled"]
    assert events[-1] == OrderCancelled(1, 4, "x", U, 2 * LOT, "self_trade")
    assert r.ex.depth(U)["asks"] == [(4000, 2 * LOT, 2)]
    assert r.ex.live_orders("x") == [(2, "x1", U, "sell", 4000, LOT)]
    r.check_replay()


def test_cancel_both():
    r = book_with_own_order("cancel_both")
    events = r(market("x", "m", "buy", 3))
    assert kinds(events) == ["order_accepted", "trade", "order_cancelled", "order_cancelled"]
    assert [(e.order_id, e.reason) for e in events[2:]] == [(2, "self_trade"), (4, "self_trade")]
    assert r.ex.depth(U)["asks"] == [(4000, LOT, 1)]
    r.check_replay()


def test_cancel_both_gtc_remainder_does_not_rest():
    r = Recorder(self_trade="cancel_both")
    r(limit("x", "x1", "sell", 4000, 1))
    events = r(limit("x", "x2", "buy", 4000, 2))
    assert [(e.TYPE, e.order_id) for e in events] == [
        ("order_accepted", 2),
        ("order_cancelled", 1),
        ("order_cancelled", 2),
    ]
    assert r.ex.depth(U) == {"unit": U, "bids": [], "asks": []} and r.ex.live_orders("x") == []
    r.check_replay()


def test_allow_trades_with_itself():
    r = book_with_own_order("allow")
    events = r(limit("x", "x2", "buy", 4000, 3))
    assert [(e.seller, e.qty) for e in events[1:]] == [("a", LOT), ("x", LOT), ("b", LOT)]
    assert r.ex.position("x", U) == -2 * LOT
    r.check_replay()


@pytest.mark.parametrize(
    ("policy", "fills"), [("cancel_resting", True), ("cancel_incoming", False), ("allow", True)]
)
def test_fok_counts_liquidity_under_the_policy(policy, fills):
    r = book_with_own_order(policy)
    events = r(limit("x", "x2", "buy", 4000, 2, tif="fok"))
    assert (events[0].TYPE == "order_accepted") is fills
    r.check_replay()


def test_fok_ignores_own_liquidity_when_cancelling_resting():
    r = book_with_own_order("cancel_resting")
    (e,) = r(limit("x", "x2", "buy", 4000, 3, tif="fok"))
    assert e.reason == "fok_not_fillable"


# -- order sets ---------------------------------------------------------------------------------
def test_set_places_one_seat_per_unit_each_matched_in_its_own_book():
    r = Recorder()
    r(limit("b", "b1", "buy", 4100, 1, unit=4))
    events = r(place_set("s", "S", "sell", [3, 4, 5], 4000, 2, t=2))
    assert events == [
        OrderAccepted(2, 2, "S", "s", "sell", 3, 4000, 2 * LOT, "gtc", "S"),
        OrderAccepted(2, 3, "S", "s", "sell", 4, 4000, 2 * LOT, "gtc", "S"),
        TradeExecuted(2, 1, 4, 4100, LOT, 1, 3, "b", "s", "sell"),
        OrderAccepted(2, 4, "S", "s", "sell", 5, 4000, 2 * LOT, "gtc", "S"),
    ]
    assert [(o.unit, o.remaining) for o in r.ex.live_orders("s")] == [(3, 2 * LOT), (4, LOT), (5, 2 * LOT)]
    r.check_replay()


def test_cancel_by_ref_cancels_every_seat():
    r = Recorder()
    r(place_set("s", "S", "sell", [5, 3, 4], 4000, 1))
    r(market("b", "m", "buy", 1, unit=3))  # seat in unit 3 fully filled
    events = r(cancel("s", "S", t=2))
    assert [(e.order_id, e.unit, e.reason) for e in events] == [(1, 5, "requested"), (3, 4, "requested")]
    assert r.ex.live_orders("s") == []
    (e,) = r(cancel("s", "S"))
    assert e.reason == "unknown_order"
    r.check_replay()


def test_shrink_set_reduces_seats_above_the_new_qty():
    r = Recorder()
    r(place_set("s", "S", "sell", [3, 4], 4000, 3))
    r(market("b", "m", "buy", 2, unit=4))  # seat 4 left with 1 lot
    events = r(shrink("s", "S", 2))
    assert [(e.order_id, e.remaining) for e in events] == [(1, 2 * LOT)]
    assert [o.remaining for o in r.ex.live_orders("s")] == [2 * LOT, LOT]
    r.check_replay()


@pytest.mark.parametrize(
    ("units", "reason"),
    [((), "bad_set"), ((3, 3), "bad_set"), ((3, 4, 9), "unit_not_open"), ((0, 3), "unit_closed")],
)
def test_bad_set_is_rejected_atomically(units, reason):
    r = Recorder()
    before = r.ex.state.snapshot()
    (e,) = r(place_set("s", "S", "sell", units, 4000, 1))
    assert e.reason == reason and e.ref == "S"
    assert r.ex.state.snapshot() == before


def test_set_with_bad_qty_or_duplicate_ref():
    r = Recorder()
    (e,) = r(place_set("s", "S", "sell", [3], 0, 1))
    assert e.reason == "non_positive_price"
    r(limit("s", "S", "sell", 4000, 1))
    (e,) = r(place_set("s", "S", "sell", [3, 4], 4000, 1))
    assert e.reason == "duplicate_ref"
