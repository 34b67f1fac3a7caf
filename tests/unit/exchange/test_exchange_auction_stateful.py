"""Stateful property test of call-auction markets (periodic, and opening auction + continuous).

There is no reference model here (the continuous market has one in test_exchange_stateful.py);
the invariants are checked after every step: replay of the log equals the live state, quantity is
conserved per order, auction fills happen at the cleared price and add up to its volume, and a
unit in continuous phase is never crossed.
"""

from __future__ import annotations

from exchange_helpers import replayed
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Shrink
from rexnet.domain.events import (
    AuctionCleared,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderShrunk,
    ReservationFixed,
    TradeExecuted,
)
from rexnet.domain.market import MarketSpec
from rexnet.exchange import Exchange

LOT = 100
AGENTS = st.sampled_from(["a", "b", "c", "d"])
REFS = st.sampled_from(["r0", "r1", "r2", "r3"])
SIDES = st.sampled_from(["buy", "sell"])
PRICES = st.integers(97, 103)
QTYS = st.integers(1, 4).map(lambda n: n * LOT)
OFFSETS = st.integers(1, 3)


class AuctionMarket(RuleBasedStateMachine):
    SPEC = MarketSpec(unit_seconds=60, horizon=3, auction_mode="periodic", auction_period_seconds=30)

    def __init__(self) -> None:
        super().__init__()
        self.ex = Exchange(self.SPEC)
        self.t = 0
        self.log: list = []
        self.open_qty: dict[int, int] = {}
        self.feed(self.ex.advance(0))

    def feed(self, events: list) -> None:
        cleared = None
        for e in events:
            if isinstance(e, OrderAccepted):
                self.open_qty[e.order_id] = e.qty
            elif isinstance(e, AuctionCleared):
                cleared = [e, 0]
            elif isinstance(e, TradeExecuted):
                for oid in (e.buy_order_id, e.sell_order_id):
                    assert 0 < e.qty <= self.open_qty[oid]
                    self.open_qty[oid] -= e.qty
                if e.aggressor is None:
                    assert cleared is not None and e.price == cleared[0].price and e.unit == cleared[0].unit
                    cleared[1] += e.qty
            elif isinstance(e, (OrderCancelled, OrderExpired)):
                assert e.remaining == self.open_qty[e.order_id]
                self.open_qty[e.order_id] = 0
            elif isinstance(e, OrderShrunk):
                assert e.remaining < self.open_qty[e.order_id]
                self.open_qty[e.order_id] = e.remaining
            if cleared is not None and not isinstance(e, (AuctionCleared, TradeExecuted)):
                assert cleared[1] == cleared[0].volume
                cleared = None
        if cleared is not None:
            assert cleared[1] == cleared[0].volume
        by_unit: dict[int, int] = {}
        for e in events:
            if isinstance(e, ReservationFixed):
                by_unit[e.unit] = by_unit.get(e.unit, 0) + e.qty
        assert all(v == 0 for v in by_unit.values())
        self.log.extend(events)

    def unit(self, offset: int) -> int:
        return self.t // 60_000 + offset

    @rule(dt=st.integers(0, 4_000))
    def tick(self, dt):
        self.t += dt
        self.feed(self.ex.advance(self.t))

    @rule()
    def to_next_due(self):
        self.t = self.ex.next_due_ms()
        self.feed(self.ex.advance(self.t))

    @rule(
        agent=AGENTS,
        ref=REFS,
        side=SIDES,
        offset=OFFSETS,
        price=PRICES,
        qty=QTYS,
        tif=st.sampled_from(["gtc", "gtc", "gtc", "ioc", "fok"]),
    )
    def place_limit(self, agent, ref, side, offset, price, qty, tif):
        self.feed(self.ex.handle(PlaceLimit(self.t, agent, ref, side, self.unit(offset), price, qty, tif)))

    @rule(agent=AGENTS, ref=REFS, side=SIDES, offset=OFFSETS, qty=QTYS)
    def place_market(self, agent, ref, side, offset, qty):
        self.feed(self.ex.handle(PlaceMarket(self.t, agent, ref, side, self.unit(offset), qty)))

    @rule(
        agent=AGENTS,
        ref=REFS,
        side=SIDES,
        offsets=st.lists(OFFSETS, min_size=1, max_size=3, unique=True),
        price=PRICES,
        qty=QTYS,
    )
    def place_set(self, agent, ref, side, offsets, price, qty):
        units = tuple(self.unit(o) for o in offsets)
        self.feed(self.ex.handle(PlaceSet(self.t, agent, ref, side, units, price, qty)))

    @rule(agent=AGENTS, ref=REFS)
    def cancel(self, agent, ref):
        self.feed(self.ex.handle(Cancel(self.t, agent, ref)))

    @rule(agent=AGENTS, ref=REFS, qty=QTYS)
    def shrink(self, agent, ref, qty):
        self.feed(self.ex.handle(Shrink(self.t, agent, ref, qty)))

    @invariant()
    def sound(self):
        snap = self.ex.state.snapshot()
        resting = {}
        for book in snap["books"].values():
            bids, asks = book["bids"], book["asks"]
            if book["auction_due"] is None and bids and asks:
                assert bids[0][0] < asks[0][0], "crossed continuous book"
            for _, qty, count, orders in bids + asks:
                assert [o[0] for o in orders] == sorted(o[0] for o in orders)
                assert qty == sum(o[4] for o in orders) and count == len(orders)
                resting.update({o[0]: o[4] for o in orders})
        assert resting == {oid: q for oid, q in self.open_qty.items() if q}
        assert replayed(self.ex, self.log).state.snapshot() == snap


class OpeningAuctionMarket(AuctionMarket):
    SPEC = MarketSpec(
        unit_seconds=60, horizon=3, opening_auction=True, auction_period_seconds=30, self_trade="cancel_both"
    )


TestPeriodic = AuctionMarket.TestCase
TestPeriodic.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestOpening = OpeningAuctionMarket.TestCase
TestOpening.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
