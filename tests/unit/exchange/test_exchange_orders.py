"""Hand-worked books and trades for every order type, cancel, shrink and every rejection."""

from __future__ import annotations

import pytest
from exchange_helpers import LOT, Recorder, U, cancel, kinds, limit, make, market, shrink

from rexnet.domain.commands import PlaceLimit, PlaceMarket, Shrink, Side, TimeInForce
from rexnet.domain.events import OrderAccepted, OrderCancelled, OrderRejected, OrderShrunk, TradeExecuted
from rexnet.exchange import ExchangeError


def seeded_asks() -> Recorder:
    """Asks: 4000 x 1 lot (a), 4000 x 2 lots (b), 4001 x 3 lots (c); bids: 3990 x 1 lot (d)."""
    r = Recorder()
    r(limit("a", "a1", "sell", 4000, 1))
    r(limit("b", "b1", "sell", 4000, 2))
    r(limit("c", "c1", "sell", 4001, 3))
    r(limit("d", "d1", "buy", 3990, 1))
    return r


def test_resting_orders_build_levels_best_first():
    r = seeded_asks()
    ex = r.ex
    assert ex.depth(U) == {
        "unit": U,
        "bids": [(3990, LOT, 1)],
        "asks": [(4000, 3 * LOT, 2), (4001, 3 * LOT, 1)],
    }
    assert (ex.best_bid(U), ex.best_ask(U)) == (3990, 4000)
    assert [o.order_id for o in ex.live_orders("b")] == [2]
    assert ex.live_orders("b")[0] == (2, "b1", U, "sell", 4000, 2 * LOT)


def test_accept_event_fields():
    ex = make()
    (e,) = ex.handle(limit("a", "r", "sell", 4000, 1, t=5))
    assert e == OrderAccepted(5, 1, "r", "a", "sell", U, 4000, LOT, "gtc", None)


def test_crossing_limit_fills_fifo_at_resting_prices_then_rests():
    r = seeded_asks()
    events = r(limit("x", "x1", "buy", 4001, 5, t=7))
    assert events == [
        OrderAccepted(7, 5, "x1", "x", "buy", U, 4001, 5 * LOT, "gtc", None),
        TradeExecuted(7, 1, U, 4000, LOT, 5, 1, "x", "a", "buy"),
        TradeExecuted(7, 2, U, 4000, 2 * LOT, 5, 2, "x", "b", "buy"),
        TradeExecuted(7, 3, U, 4001, 2 * LOT, 5, 3, "x", "c", "buy"),
    ]
    assert r.ex.depth(U)["asks"] == [(4001, LOT, 1)]
    assert r.ex.position("x", U) == -5 * LOT
    assert r.ex.position("b", U) == 2 * LOT
    r.check_replay()


def test_crossing_limit_remainder_rests_at_its_limit():
    r = seeded_asks()
    r(limit("x", "x1", "buy", 4000, 4))
    assert r.ex.depth(U)["bids"] == [(4000, LOT, 1), (3990, LOT, 1)]
    assert r.ex.depth(U)["asks"] == [(4001, 3 * LOT, 1)]
    assert r.ex.live_orders("x") == [(5, "x1", U, "buy", 4000, LOT)]
    r.check_replay()


def test_sell_walks_bids_best_first():
    r = Recorder()
    r(limit("a", "a1", "buy", 3990, 1))
    r(limit("b", "b1", "buy", 3995, 1))
    events = r(limit("x", "x1", "sell", 3980, 2))
    assert [(e.price, e.buy_order_id, e.aggressor) for e in events[1:]] == [
        (3995, 2, "sell"),
        (3990, 1, "sell"),
    ]
    assert r.ex.depth(U) == {"unit": U, "bids": [], "asks": []}
    r.check_replay()


def test_ioc_fills_what_crosses_and_cancels_the_rest():
    r = seeded_asks()
    events = r(limit("x", "x1", "buy", 4000, 5, tif="ioc"))
    assert kinds(events) == ["order_accepted", "trade", "trade", "order_cancelled"]
    assert events[-1] == OrderCancelled(1, 5, "x", U, 2 * LOT, "ioc_remainder")
    assert r.ex.live_orders("x") == []
    assert r.ex.depth(U)["asks"] == [(4001, 3 * LOT, 1)]
    r.check_replay()


def test_ioc_that_does_not_cross_is_accepted_then_cancelled():
    r = seeded_asks()
    events = r(limit("x", "x1", "buy", 3000, 1, tif="ioc"))
    assert kinds(events) == ["order_accepted", "order_cancelled"]
    assert events[1].reason == "ioc_remainder" and events[1].remaining == LOT
    r.check_replay()


def test_fok_fills_completely():
    r = seeded_asks()
    events = r(limit("x", "x1", "buy", 4001, 6, tif="fok"))
    assert kinds(events) == ["order_accepted"] + ["trade"] * 3
    assert sum(e.qty for e in events[1:]) == 6 * LOT
    assert r.ex.depth(U)["asks"] == []
    r.check_replay()


def test_fok_not_fillable_is_rejected_without_accept():
    r = seeded_asks()
    before = r.ex.state.snapshot()
    events = r(limit("x", "x1", "buy", 4000, 4, tif="fok"))
    assert kinds(events) == ["order_rejected"] and events[0].reason == "fok_not_fillable"
    assert r.ex.state.snapshot() == before


def test_market_order_walks_the_book_and_cancels_the_remainder():
    r = seeded_asks()
    events = r(market("x", "m1", "buy", 7, t=9))
    assert events[0] == OrderAccepted(9, 5, "m1", "x", "buy", U, None, 7 * LOT, "ioc", None)
    assert [(e.price, e.qty) for e in events[1:4]] == [(4000, LOT), (4000, 2 * LOT), (4001, 3 * LOT)]
    assert events[4] == OrderCancelled(9, 5, "x", U, LOT, "market_remainder")
    assert r.ex.depth(U)["asks"] == []
    r.check_replay()


def test_market_order_filled_completely_leaves_nothing():
    r = seeded_asks()
    events = r(market("x", "m1", "sell", 1))
    assert kinds(events) == ["order_accepted", "trade"]
    assert r.ex.depth(U)["bids"] == [] and r.ex.state.taker is None
    r.check_replay()


def test_market_order_on_empty_side_is_rejected_no_liquidity():
    ex = make()
    ex.handle(limit("a", "a1", "buy", 4000, 1))
    (e,) = ex.handle(market("x", "m1", "buy", 1))
    assert isinstance(e, OrderRejected) and e.reason == "no_liquidity"
    assert ex.state.next_order_id == 2  # nothing was accepted


def test_order_ids_and_trade_ids_increase_across_units():
    ex = make()
    ex.handle(limit("a", "a1", "sell", 4000, 1, unit=3))
    ex.handle(limit("a", "a2", "sell", 4000, 1, unit=4))
    e1 = ex.handle(limit("b", "b1", "buy", 4000, 1, unit=4))
    e2 = ex.handle(limit("b", "b2", "buy", 4000, 1, unit=3))
    assert (e1[0].order_id, e1[1].trade_id, e2[0].order_id, e2[1].trade_id) == (3, 1, 4, 2)


def test_cancel_removes_the_order():
    r = seeded_asks()
    events = r(cancel("b", "b1", t=3))
    assert events == [OrderCancelled(3, 2, "b", U, 2 * LOT, "requested")]
    assert r.ex.depth(U)["asks"] == [(4000, LOT, 1), (4001, 3 * LOT, 1)]
    r.check_replay()


def test_cancel_unknown_or_finished_ref_is_rejected():
    r = seeded_asks()
    r(market("x", "m", "buy", 1))  # fills a1 completely
    for cmd in (cancel("a", "a1"), cancel("a", "nope"), cancel("b", "a1")):
        (e,) = r(cmd)
        assert e.reason == "unknown_order"


def test_ref_is_free_again_once_the_order_is_finished():
    r = seeded_asks()
    r(cancel("a", "a1"))
    (e,) = r(limit("a", "a1", "sell", 4005, 1))
    assert e.TYPE == "order_accepted"


def test_shrink_keeps_queue_position():
    r = seeded_asks()
    events = r(shrink("b", "b1", 1, t=4))
    assert events == [OrderShrunk(4, 2, "b", U, LOT)]
    assert r.ex.depth(U)["asks"][0] == (4000, 2 * LOT, 2)
    # b1 is still ahead of a newer order at the same price
    r(limit("e", "e1", "sell", 4000, 1))
    fills = r(market("x", "m", "buy", 2))
    assert [e.sell_order_id for e in fills[1:]] == [1, 2]
    r.check_replay()


@pytest.mark.parametrize(
    ("lots", "reason"),
    [(2, "not_a_reduction"), (3, "not_a_reduction"), (0, "non_positive_qty"), (-1, "non_positive_qty")],
)
def test_shrink_rejections(lots, reason):
    r = seeded_asks()
    (e,) = r(shrink("b", "b1", lots))
    assert e.reason == reason


def test_shrink_off_lot_and_unknown():
    r = seeded_asks()
    (e,) = r(Shrink(1, "b", "b1", LOT + 1))
    assert e.reason == "off_lot"
    (e,) = r(shrink("b", "zz", 1))
    assert e.reason == "unknown_order"


@pytest.mark.parametrize(
    ("cmd", "reason"),
    [
        (PlaceLimit(1, "a", "r", "buy", U, 0, LOT), "non_positive_price"),
        (PlaceLimit(1, "a", "r", "buy", U, -5, LOT), "non_positive_price"),
        (PlaceLimit(1, "a", "r", "buy", U, 4000, 0), "non_positive_qty"),
        (PlaceLimit(1, "a", "r", "buy", U, 4000, -LOT), "non_positive_qty"),
        (PlaceLimit(1, "a", "r", "buy", U, 4000, LOT + 50), "off_lot"),
        (PlaceMarket(1, "a", "r", "buy", U, 0), "non_positive_qty"),
        (PlaceMarket(1, "a", "r", "buy", U, 150), "off_lot"),
        (PlaceLimit(1, "a", "r", "buy", 0, 4000, LOT), "unit_closed"),
        (PlaceLimit(1, "a", "r", "buy", -3, 4000, LOT), "unit_closed"),
        (PlaceLimit(1, "a", "r", "buy", 9, 4000, LOT), "unit_not_open"),
        (PlaceMarket(1, "a", "r", "buy", 40, LOT), "unit_not_open"),
    ],
)
def test_rejections(cmd, reason):
    ex = make()
    ex.handle(limit("z", "z", "sell", 4000, 1))
    before = ex.state.snapshot()
    (e,) = ex.handle(cmd)
    assert isinstance(e, OrderRejected)
    assert (e.reason, e.ref, e.agent, e.t) == (reason, "r", "a", 1)
    assert type(e.reason) is str and e.message
    assert ex.state.snapshot() == before


def test_duplicate_live_ref_is_rejected():
    r = seeded_asks()
    (e,) = r(limit("a", "a1", "sell", 4100, 1))
    assert e.reason == "duplicate_ref"
    (e,) = r(limit("z", "a1", "sell", 4100, 1))  # another agent may use the same ref
    assert e.TYPE == "order_accepted"


def test_enum_side_and_tif_are_recorded_as_plain_strings():
    ex = make()
    (e,) = ex.handle(PlaceLimit(1, "a", "r", Side.SELL, U, 4000, LOT, TimeInForce.GTC))
    assert type(e.side) is str and type(e.tif) is str


def test_malformed_side_or_tif_raises():
    ex = make()
    with pytest.raises(ExchangeError):
        ex.handle(PlaceLimit(1, "a", "r", "up", U, 4000, LOT))
    with pytest.raises(ExchangeError):
        ex.handle(PlaceLimit(1, "a", "r", "buy", U, 4000, LOT, "day"))
