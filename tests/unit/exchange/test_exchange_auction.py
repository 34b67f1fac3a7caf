"""Call auctions: periodic mode, the opening auction, and the clearing price rule."""

from __future__ import annotations

from exchange_helpers import LOT, Recorder, U, kinds, limit, market

from rexnet.domain.events import AuctionCleared, TradeExecuted
from rexnet.exchange import AUCTION_PHASE
from rexnet.exchange.auction import clearing_price

P = 300_000  # auction period in ms


def periodic() -> Recorder:
    return Recorder(auction_mode="periodic", auction_period_seconds=300)


def test_orders_collect_without_matching_until_the_auction():
    r = periodic()
    r(limit("a", "a1", "sell", 99, 1))
    events = r(limit("b", "b1", "buy", 101, 1))
    assert kinds(events) == ["order_accepted"]
    assert (r.ex.best_bid(U), r.ex.best_ask(U)) == (101, 99)  # crossed until the auction
    assert r.ex.next_due_ms() == P
    r.check_replay()


def test_ioc_fok_and_market_are_rejected_in_auction_phase():
    r = periodic()
    r(limit("a", "a1", "sell", 99, 1))
    for cmd in (
        limit("b", "b", "buy", 101, 1, tif="ioc"),
        limit("b", "b", "buy", 101, 1, tif="fok"),
        market("b", "b", "buy", 1),
    ):
        (e,) = r(cmd)
        assert e.reason == AUCTION_PHASE


def test_max_volume_then_min_surplus_then_market_pressure():
    r = periodic()
    for agent, side, price, lots in [
        ("a", "buy", 105, 10),
        ("b", "buy", 103, 5),
        ("c", "buy", 100, 5),
        ("d", "sell", 99, 8),
        ("e", "sell", 102, 6),
        ("f", "sell", 104, 10),
    ]:
        r(limit(agent, agent, side, price, lots))
    assert clearing_price(r.ex.state.books[U]) == (103, 14 * LOT)
    events = [e for e in r.advance(P) if getattr(e, "unit", None) == U]
    assert events == [
        AuctionCleared(P, U, 103, 14 * LOT),
        TradeExecuted(P, 1, U, 103, 8 * LOT, 1, 4, "a", "d", None),
        TradeExecuted(P, 2, U, 103, 2 * LOT, 1, 5, "a", "e", None),
        TradeExecuted(P, 3, U, 103, 4 * LOT, 2, 5, "b", "e", None),
    ]
    assert r.ex.depth(U) == {
        "unit": U,
        "bids": [(103, LOT, 1), (100, 5 * LOT, 1)],
        "asks": [(104, 10 * LOT, 1)],
    }
    assert r.ex.position("e", U) == 6 * LOT
    r.check_replay()


def test_sell_pressure_takes_the_lowest_price():
    r = periodic()
    r(limit("a", "a", "buy", 102, 2))
    r(limit("b", "b", "sell", 100, 3))
    r(limit("c", "c", "sell", 101, 3))
    # V(100) = V(101) = V(102) = 2; surplus -1, -4, -4 -> 100 has the least
    assert clearing_price(r.ex.state.books[U]) == (100, 2 * LOT)
    r2 = periodic()
    r2(limit("a", "a", "buy", 102, 2))
    r2(limit("b", "b", "sell", 100, 4))
    r2(limit("c", "c", "buy", 100, 1))
    # V(100) = 3 (surplus -1), V(102) = 2 -> 100
    assert clearing_price(r2.ex.state.books[U]) == (100, 3 * LOT)


def test_balanced_range_goes_to_the_reference_price():
    r = periodic()
    r(limit("a", "a", "buy", 101, 1))
    r(limit("b", "b", "sell", 99, 1))
    assert clearing_price(r.ex.state.books[U]) == (99, LOT)  # midpoint 100 ties -> lower
    r.ex.state.books[U].last_price = 101  # (a test-only poke: a previous trade at 101)
    assert clearing_price(r.ex.state.books[U]) == (101, LOT)


def test_nothing_crosses():
    r = periodic()
    r(limit("a", "a", "buy", 98, 1))
    r(limit("b", "b", "sell", 99, 1))
    events = r.advance(P)
    assert AuctionCleared(P, U, None, 0) in events
    assert r.ex.depth(U)["bids"] == [(98, LOT, 1)]
    assert r.ex.next_due_ms() == 2 * P  # periodic: the next batch


def test_periodic_schedule_with_gates_and_openings():
    r = periodic()
    events = r.advance(3 * P)  # = 900 s: unit 1's gate
    assert [(e.TYPE, e.t, e.unit) for e in events if e.t == 3 * P] == (
        [("gate_closed", 3 * P, 1)]
        + [("auction_cleared", 3 * P, u) for u in range(2, 9)]
        + [("unit_opened", 3 * P, 9)]
    )
    # unit 9 opened at 900 s: its first auction is the next period boundary
    assert r.ex.state.books[9].auction_due == 4 * P
    r.check_replay()


def test_opening_auction_then_continuous():
    r = Recorder(opening_auction=True, auction_period_seconds=300)
    r(limit("a", "a1", "sell", 99, 2))
    r(limit("b", "b1", "buy", 101, 1))
    events = r(limit("c", "c1", "buy", 100, 1, t=P))
    assert AuctionCleared(P, U, 99, LOT) in events  # sell surplus at 99 and 101: the lowest
    assert events[-1].TYPE == "trade"  # continuous now: c1 trades on arrival
    assert r.ex.state.books[U].auction_due is None
    assert r.ex.advance(2 * P) == []  # no more auctions in continuous mode
    r.check_replay()


def test_marginal_level_is_allocated_by_time():
    r = periodic()
    r(limit("a", "a", "buy", 100, 2))
    r(limit("b", "b", "buy", 100, 2))
    r(limit("s", "s", "sell", 100, 3))
    trades = [e for e in r.advance(P) if e.TYPE == "trade"]
    assert [(e.buy_order_id, e.qty) for e in trades] == [(1, 2 * LOT), (2, LOT)]
    assert r.ex.live_orders("b") == [(2, "b", U, "buy", 100, LOT)]
    r.check_replay()
