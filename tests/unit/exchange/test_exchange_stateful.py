"""Stateful property test: the exchange against a naive reference book, step by step.

The reference (``NaiveMarket``) keeps resting orders in a plain dict and re-sorts the opposite
side by (price, arrival) on every order; it predicts the exact event list of every command and
every clock advance. After each step we also check the invariants directly: the book is never
crossed, FIFO holds within each level, quantity is conserved per order, no fill exceeds the open
quantity, and a fresh exchange folding the whole log equals the live one.
"""

from __future__ import annotations

import copy
import math
from fractions import Fraction

from exchange_helpers import replayed
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Shrink
from rexnet.domain.events import (
    GateClosed,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderRejected,
    OrderShrunk,
    ReservationFixed,
    TradeExecuted,
    UnitOpened,
)
from rexnet.domain.market import MarketSpec
from rexnet.exchange import Exchange

LOT = 100
AGENTS = st.sampled_from(["a", "b", "c"])
REFS = st.sampled_from(["r0", "r1", "r2", "r3", "r4"])
SIDES = st.sampled_from(["buy", "sell"])


PRICES = st.integers(97, 103)
QTYS = st.integers(1, 4).map(lambda n: n * LOT)
OFFSETS = st.integers(1, 3)  # unit = t // unit_ms + offset: open at any t (horizon 3)
BAD_PRICES = st.sampled_from([0, -1, 100])
BAD_QTYS = st.sampled_from([0, -LOT, LOT + 1, LOT])
BAD_OFFSETS = st.sampled_from([0, 4, -1, 2])


class NaiveMarket:
    """Reference model: obviously-correct, slow."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.policy = spec.self_trade
        self.orders: dict[int, dict] = {}  # resting orders by id
        self.next_oid = 1
        self.next_tid = 1
        self.next_unit = 1
        self.open: list[int] = []
        self.pos: dict[int, dict[str, int]] = {}
        self.vol: dict[int, list[int]] = {}

    # -- clock ------------------------------------------------------------------------------
    def clock(self, t: int) -> list:
        out: list = []
        while True:
            happenings = [(self.spec.gate_ms(u), 0, u) for u in self.open]
            happenings.append((self.spec.opens_at_ms(self.next_unit), 1, self.next_unit))
            when, kind, unit = min(happenings)
            if when > t:
                return out
            if kind == 1:
                out.append(UnitOpened(when, unit))
                self.open.append(unit)
                self.pos[unit], self.vol[unit] = {}, [0, 0]
                self.next_unit += 1
                continue
            for oid in sorted(o for o, v in self.orders.items() if v["unit"] == unit):
                o = self.orders.pop(oid)
                out.append(OrderExpired(when, oid, o["agent"], unit, o["rem"]))
            for agent, e in sorted(self.pos.pop(unit).items()):
                if e:
                    out.append(ReservationFixed(when, agent, unit, e))
            volume, notional = self.vol.pop(unit)
            vwap = math.floor(Fraction(notional, volume) + Fraction(1, 2)) if volume else None  # half-up
            out.append(GateClosed(when, unit, volume, vwap, notional))
            self.open.remove(unit)

    # -- commands -----------------------------------------------------------------------------
    def unit_reason(self, unit: int, t: int) -> str | None:
        if unit in self.open:
            return None
        return "unit_closed" if t >= self.spec.gate_ms(unit) else "unit_not_open"

    def field_reason(self, agent, ref, price, qty) -> str | None:
        if price is not None and price <= 0:
            return "non_positive_price"
        if qty <= 0:
            return "non_positive_qty"
        if qty % LOT:
            return "off_lot"
        if any(o["agent"] == agent and o["ref"] == ref for o in self.orders.values()):
            return "duplicate_ref"
        return None

    def match(self, t, oid, agent, side, unit, limit, qty) -> tuple[list, int, bool]:
        def crosses(o):
            return limit is None or (o["price"] <= limit if side == "buy" else o["price"] >= limit)

        opp = [o for o in self.orders.values() if o["unit"] == unit and o["side"] != side and crosses(o)]
        opp.sort(key=lambda o: (o["price"] if side == "buy" else -o["price"], o["id"]))
        out: list = []
        rem = qty
        for o in opp:
            if o["agent"] == agent and self.policy != "allow":
                if self.policy == "cancel_incoming":
                    return out, rem, True
                out.append(OrderCancelled(t, o["id"], agent, unit, o["rem"], "self_trade"))
                del self.orders[o["id"]]
                if self.policy == "cancel_both":
                    return out, rem, True
                continue
            f = min(rem, o["rem"])
            buy, sell = (
                ((oid, agent), (o["id"], o["agent"]))
                if side == "buy"
                else ((o["id"], o["agent"]), (oid, agent))
            )
            out.append(
                TradeExecuted(t, self.next_tid, unit, o["price"], f, buy[0], sell[0], buy[1], sell[1], side)
            )
            self.next_tid += 1
            self.pos[unit][sell[1]] = self.pos[unit].get(sell[1], 0) + f
            self.pos[unit][buy[1]] = self.pos[unit].get(buy[1], 0) - f
            self.vol[unit][0] += f
            self.vol[unit][1] += f * o["price"]
            o["rem"] -= f
            if o["rem"] == 0:
                del self.orders[o["id"]]
            rem -= f
            if rem == 0:
                break
        return out, rem, False

    def rest(self, oid, agent, ref, side, unit, price, qty):
        self.orders[oid] = dict(id=oid, agent=agent, ref=ref, side=side, unit=unit, price=price, rem=qty)

    def limit(self, c: PlaceLimit) -> list:
        t, agent, ref, side, unit, price, qty, tif = c
        why = self.unit_reason(unit, t) or self.field_reason(agent, ref, price, qty)
        if why:
            return [OrderRejected(t, ref, agent, why, "")]
        if tif == "fok":
            trial = copy.deepcopy(self)
            _, rem, _ = trial.match(t, 0, agent, side, unit, price, qty)
            if rem:
                return [OrderRejected(t, ref, agent, "fok_not_fillable", "")]
        oid = self.next_oid
        self.next_oid += 1
        out = [OrderAccepted(t, oid, ref, agent, side, unit, price, qty, tif, None)]
        events, rem, stopped = self.match(t, oid, agent, side, unit, price, qty)
        out += events
        if rem and (stopped or tif != "gtc"):
            out.append(OrderCancelled(t, oid, agent, unit, rem, "self_trade" if stopped else "ioc_remainder"))
        elif rem:
            self.rest(oid, agent, ref, side, unit, price, rem)
        return out

    def market(self, c: PlaceMarket) -> list:
        t, agent, ref, side, unit, qty = c
        why = self.unit_reason(unit, t) or self.field_reason(agent, ref, None, qty)
        if not why and not any(o["unit"] == unit and o["side"] != side for o in self.orders.values()):
            why = "no_liquidity"
        if why:
            return [OrderRejected(t, ref, agent, why, "")]
        oid = self.next_oid
        self.next_oid += 1
        out = [OrderAccepted(t, oid, ref, agent, side, unit, None, qty, "ioc", None)]
        events, rem, stopped = self.match(t, oid, agent, side, unit, None, qty)
        out += events
        if rem:
            out.append(
                OrderCancelled(t, oid, agent, unit, rem, "self_trade" if stopped else "market_remainder")
            )
        return out

    def place_set(self, c: PlaceSet) -> list:
        t, agent, ref, side, units, price, qty = c
        why = "bad_set" if not units or len(set(units)) != len(units) else None
        why = why or next((r for r in (self.unit_reason(u, t) for u in units) if r), None)
        why = why or self.field_reason(agent, ref, price, qty)
        if why:
            return [OrderRejected(t, ref, agent, why, "")]
        out: list = []
        for unit in units:
            oid = self.next_oid
            self.next_oid += 1
            out.append(OrderAccepted(t, oid, ref, agent, side, unit, price, qty, "gtc", ref))
            events, rem, stopped = self.match(t, oid, agent, side, unit, price, qty)
            out += events
            if rem and stopped:
                out.append(OrderCancelled(t, oid, agent, unit, rem, "self_trade"))
            elif rem:
                self.rest(oid, agent, ref, side, unit, price, rem)
        return out

    def mine(self, agent, ref) -> list[dict]:
        return sorted(
            (o for o in self.orders.values() if (o["agent"], o["ref"]) == (agent, ref)), key=lambda o: o["id"]
        )

    def cancel(self, c: Cancel) -> list:
        t, agent, ref = c
        mine = self.mine(agent, ref)
        if not mine:
            return [OrderRejected(t, ref, agent, "unknown_order", "")]
        for o in mine:
            del self.orders[o["id"]]
        return [OrderCancelled(t, o["id"], agent, o["unit"], o["rem"], "requested") for o in mine]

    def shrink(self, c: Shrink) -> list:
        t, agent, ref, qty = c
        mine = self.mine(agent, ref)
        why = "non_positive_qty" if qty <= 0 else "off_lot" if qty % LOT else None
        why = why or ("unknown_order" if not mine else None)
        why = why or ("not_a_reduction" if all(o["rem"] <= qty for o in mine) else None)
        if why:
            return [OrderRejected(t, ref, agent, why, "")]
        out = []
        for o in mine:
            if o["rem"] > qty:
                o["rem"] = qty
                out.append(OrderShrunk(t, o["id"], agent, o["unit"], qty))
        return out


def _without_messages(events: list) -> list:
    return [e._replace(message="") if isinstance(e, OrderRejected) else e for e in events]


class ExchangeVersusNaive(RuleBasedStateMachine):
    POLICY = "cancel_resting"

    def __init__(self) -> None:
        super().__init__()
        spec = MarketSpec(unit_seconds=60, horizon=3, self_trade=self.POLICY)
        self.ex = Exchange(spec)
        self.model = NaiveMarket(spec)
        self.t = 0
        self.log: list = []
        self.accepted: dict[int, int] = {}
        self.done: dict[int, int] = {}  # filled + cancelled + expired + shrunk away
        self.feed(self.ex.advance(0), self.model.clock(0))

    def feed(self, got: list, want: list) -> None:
        assert _without_messages(got) == want
        for e in got:
            if isinstance(e, OrderAccepted):
                self.accepted[e.order_id] = e.qty
                self.done[e.order_id] = 0
            elif isinstance(e, TradeExecuted):
                for oid in (e.buy_order_id, e.sell_order_id):
                    assert e.qty <= self.accepted[oid] - self.done[oid]  # never beyond open qty
                    self.done[oid] += e.qty
            elif isinstance(e, (OrderCancelled, OrderExpired)):
                assert e.remaining == self.accepted[e.order_id] - self.done[e.order_id]
                self.done[e.order_id] += e.remaining
            elif isinstance(e, OrderShrunk):
                self.done[e.order_id] = self.accepted[e.order_id] - e.remaining
        self.log.extend(got)

    def unit(self, offset: int) -> int:
        return self.t // 60_000 + offset

    def run(self, cmd, predict) -> None:
        pre = self.model.clock(cmd.t)
        self.feed(self.ex.handle(cmd), pre + predict(cmd))

    @rule(dt=st.integers(0, 20_000))
    def tick(self, dt):
        self.t += dt
        self.feed(self.ex.advance(self.t), self.model.clock(self.t))

    @rule(early=st.booleans())
    def to_next_gate(self, early):
        """Jump to the next clock happening (or just before it)."""
        due = self.ex.next_due_ms()
        assert due is not None and due > self.t
        self.t = due - 1 if early else due
        self.feed(self.ex.advance(self.t), self.model.clock(self.t))

    @rule(
        agent=AGENTS,
        ref=REFS,
        side=SIDES,
        offset=OFFSETS,
        price=PRICES,
        qty=QTYS,
        tif=st.sampled_from(["gtc", "gtc", "ioc", "fok"]),
    )
    def place_limit(self, agent, ref, side, offset, price, qty, tif):
        self.run(PlaceLimit(self.t, agent, ref, side, self.unit(offset), price, qty, tif), self.model.limit)

    @rule(agent=AGENTS, ref=REFS, side=SIDES, offset=OFFSETS, price=PRICES, qty=QTYS)
    def place_passive(self, agent, ref, side, offset, price, qty):
        """A second gtc rule: resting orders are what the rest of the rules need."""
        self.place_limit(agent, ref, side, offset, price, qty, "gtc")

    @rule(agent=AGENTS, ref=REFS, side=SIDES, offset=OFFSETS, qty=QTYS)
    def place_market(self, agent, ref, side, offset, qty):
        self.run(PlaceMarket(self.t, agent, ref, side, self.unit(offset), qty), self.model.market)

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
        self.run(PlaceSet(self.t, agent, ref, side, units, price, qty), self.model.place_set)

    @rule(
        agent=AGENTS,
        ref=REFS,
        side=SIDES,
        offset=BAD_OFFSETS,
        price=BAD_PRICES,
        qty=BAD_QTYS,
        kind=st.sampled_from(["limit", "market", "set", "shrink"]),
        offsets=st.lists(BAD_OFFSETS, max_size=3),
    )
    def doubtful(self, agent, ref, side, offset, price, qty, kind, offsets):
        """Commands with values likely to be rejected (each field on its own may still be fine)."""
        if kind == "limit":
            self.place_limit(agent, ref, side, offset, price, qty, "gtc")
        elif kind == "market":
            self.place_market(agent, ref, side, offset, qty)
        elif kind == "set":
            units = tuple(self.unit(o) for o in offsets)
            self.run(PlaceSet(self.t, agent, ref, side, units, price, qty), self.model.place_set)
        else:
            self.shrink(agent, ref, qty)

    @rule(agent=AGENTS, ref=REFS)
    def cancel(self, agent, ref):
        self.run(Cancel(self.t, agent, ref), self.model.cancel)

    @rule(agent=AGENTS, ref=REFS, qty=QTYS)
    def shrink(self, agent, ref, qty):
        self.run(Shrink(self.t, agent, ref, qty), self.model.shrink)

    @invariant()
    def book_matches_the_reference_and_is_sound(self):
        snap = self.ex.state.snapshot()
        resting = {}
        for book in snap["books"].values():
            bids, asks = book["bids"], book["asks"]
            if bids and asks:
                assert bids[0][0] < asks[0][0], "crossed book"
            assert [lv[0] for lv in bids] == sorted((lv[0] for lv in bids), reverse=True)
            assert [lv[0] for lv in asks] == sorted(lv[0] for lv in asks)
            for _, qty, count, orders in bids + asks:
                ids = [o[0] for o in orders]
                assert ids == sorted(ids), "FIFO broken"
                assert qty == sum(o[4] for o in orders) and count == len(orders) > 0
                resting.update({o[0]: o[4] for o in orders})
        assert resting == {oid: o["rem"] for oid, o in self.model.orders.items()}
        for oid, qty in self.accepted.items():  # accepted = filled + cancelled + expired + shrunk + resting
            assert qty == self.done[oid] + resting.get(oid, 0)
        assert snap["taker"] is None

    @invariant()
    def replay_equals_live(self):
        assert replayed(self.ex, self.log).state.snapshot() == self.ex.state.snapshot()


class CancelIncoming(ExchangeVersusNaive):
    POLICY = "cancel_incoming"


class CancelBoth(ExchangeVersusNaive):
    POLICY = "cancel_both"


class Allow(ExchangeVersusNaive):
    POLICY = "allow"


_settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestCancelResting = ExchangeVersusNaive.TestCase
TestCancelResting.settings = _settings
TestCancelIncoming = CancelIncoming.TestCase
TestCancelIncoming.settings = settings(_settings, max_examples=60)
TestCancelBoth = CancelBoth.TestCase
TestCancelBoth.settings = settings(_settings, max_examples=60)
TestAllow = Allow.TestCase
TestAllow.settings = settings(_settings, max_examples=60)
