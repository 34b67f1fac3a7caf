"""A tiny stand-in for ``rexnet.market_engine.MarketEngine`` (the simulator's ``MarketPort``).

Continuous double auction with price-time priority, good-till-gate limit orders and market
orders, unit openings, gate closures with reservations, and a bare settlement (one ``settled``
per agent with a reservation or realization, money fields 0). It also logs every command, so
tests can compare command streams. Not a reference implementation of the exchange.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, Realize, Shrink
from rexnet.domain.events import (
    GateClosed,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderRejected,
    Realized,
    ReservationFixed,
    Settled,
    TradeExecuted,
    UnitOpened,
)
from rexnet.domain.market import MarketSpec


class Order(NamedTuple):
    order_id: int
    ref: str
    unit: int
    side: str
    price: int | None
    remaining: int
    agent: str


class FakeMarket:
    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.now = 0
        self.commands: list[Any] = []
        self.trades: list[TradeExecuted] = []
        self._orders: list[Order] = []  # resting, in arrival order
        self._pos: dict[tuple[str, int], int] = {}
        self._open: list[int] = []
        self._next_open = 0
        self._closed: set[int] = set()
        self._realized: dict[int, dict[str, int]] = {}
        self._reserved: dict[int, dict[str, int]] = {}
        self._to_settle: set[int] = set()
        self._ids = 0

    # -- clock -------------------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        due = [self.spec.opens_at_ms(self._next_open)]
        due += [self.spec.gate_ms(u) for u in self._open]
        due += [self.spec.delivery_end_ms(u) for u in self._to_settle]
        return min(due)

    def advance(self, t_ms: int) -> list[Any]:
        out: list[Any] = []
        while (due := self.next_due_ms()) is not None and due <= t_ms:
            for unit in sorted(self._open):
                if self.spec.gate_ms(unit) == due:
                    out += self._close(unit, due)
            for unit in sorted(self._to_settle):
                if self.spec.delivery_end_ms(unit) == due:
                    out += self._settle(unit, due)
            while self.spec.opens_at_ms(self._next_open) == due:
                if self.spec.gate_ms(self._next_open) > due:
                    self._open.append(self._next_open)
                    out.append(UnitOpened(due, self._next_open))
                self._next_open += 1
        self.now = max(self.now, t_ms)
        return out

    def _close(self, unit: int, t: int) -> list[Any]:
        out: list[Any] = []
        for o in [o for o in self._orders if o.unit == unit]:
            self._orders.remove(o)
            out.append(OrderExpired(t, o.order_id, o.agent, unit, o.remaining))
        self._open.remove(unit)
        self._closed.add(unit)
        out.append(GateClosed(t, unit, 0, None, 0))
        res = {a: q for (a, u), q in sorted(self._pos.items()) if u == unit and q != 0}
        self._reserved[unit] = res
        out += [ReservationFixed(t, a, unit, q) for a, q in res.items()]
        if res:
            self._to_settle.add(unit)
        return out

    def _settle(self, unit: int, t: int) -> list[Any]:
        self._to_settle.discard(unit)
        res, real = self._reserved.get(unit, {}), self._realized.get(unit, {})
        out = []
        for agent in sorted(set(res) | set(real)):
            e, x = res.get(agent, 0), real.get(agent, 0)
            out.append(Settled(t, agent, unit, e, x, 0, max(0, e - x), 0, max(0, x - e), 0, 0))
        return out

    # -- commands ----------------------------------------------------------------------------
    def submit(self, cmd: Any) -> list[Any]:
        self.commands.append(cmd)
        out = self.advance(cmd.t)
        if isinstance(cmd, Realize):
            end = self.spec.delivery_end_ms(cmd.unit)
            if not self.spec.delivery_start_ms(cmd.unit) <= cmd.t < end:
                return out + [OrderRejected(cmd.t, "", cmd.agent, "outside_delivery", "")]
            self._realized.setdefault(cmd.unit, {})[cmd.agent] = cmd.qty
            self._to_settle.add(cmd.unit)
            return out + [Realized(cmd.t, cmd.agent, cmd.unit, cmd.qty)]
        if isinstance(cmd, Cancel):
            hit = [o for o in self._orders if o.agent == cmd.agent and o.ref == cmd.ref]
            if not hit:
                return out + [OrderRejected(cmd.t, cmd.ref, cmd.agent, "unknown_order", "")]
            for o in hit:
                self._orders.remove(o)
                out.append(OrderCancelled(cmd.t, o.order_id, o.agent, o.unit, o.remaining, "requested"))
            return out
        if isinstance(cmd, Shrink):
            hit = [
                o for o in self._orders if o.agent == cmd.agent and o.ref == cmd.ref and o.remaining > cmd.qty
            ]
            if not hit:
                return out + [OrderRejected(cmd.t, cmd.ref, cmd.agent, "not_a_reduction", "")]
            for o in hit:
                self._orders[self._orders.index(o)] = o._replace(remaining=cmd.qty)
            return out
        assert isinstance(cmd, (PlaceLimit, PlaceMarket)), cmd
        if cmd.unit not in self._open or cmd.t >= self.spec.gate_ms(cmd.unit):
            return out + [OrderRejected(cmd.t, cmd.ref, cmd.agent, "unit_not_open", "")]
        if cmd.qty <= 0 or cmd.qty % self.spec.lot_units:
            return out + [OrderRejected(cmd.t, cmd.ref, cmd.agent, "off_lot", "")]
        price = cmd.price if isinstance(cmd, PlaceLimit) else None
        if price is not None and price <= 0:
            return out + [OrderRejected(cmd.t, cmd.ref, cmd.agent, "non_positive_price", "")]
        self._ids += 1
        oid = self._ids
        out.append(
            OrderAccepted(cmd.t, oid, cmd.ref, cmd.agent, cmd.side, cmd.unit, price, cmd.qty, "gtc", None)
        )
        remaining = self._match(cmd, oid, price, out)
        if remaining and price is not None:
            self._orders.append(Order(oid, cmd.ref, cmd.unit, cmd.side, price, remaining, cmd.agent))
        elif remaining:
            out.append(OrderCancelled(cmd.t, oid, cmd.agent, cmd.unit, remaining, "market_remainder"))
        return out

    def _match(self, cmd: Any, oid: int, price: int | None, out: list[Any]) -> int:
        remaining = cmd.qty
        buying = cmd.side == "buy"
        while remaining:
            opp = [
                o for o in self._orders if o.unit == cmd.unit and o.side != cmd.side and o.agent != cmd.agent
            ]
            if not opp:
                break
            best = min(opp, key=lambda o: (o.price if buying else -o.price, o.order_id))
            if price is not None and (best.price > price if buying else best.price < price):
                break
            qty = min(remaining, best.remaining)
            remaining -= qty
            if best.remaining == qty:
                self._orders.remove(best)
            else:
                self._orders[self._orders.index(best)] = best._replace(remaining=best.remaining - qty)
            buyer, seller = (cmd.agent, best.agent) if buying else (best.agent, cmd.agent)
            trade = TradeExecuted(
                cmd.t,
                len(self.trades) + 1,
                cmd.unit,
                best.price,
                qty,
                oid if buying else best.order_id,
                best.order_id if buying else oid,
                buyer,
                seller,
                cmd.side,
            )
            self.trades.append(trade)
            out.append(trade)
            self._pos[(seller, cmd.unit)] = self._pos.get((seller, cmd.unit), 0) + qty
            self._pos[(buyer, cmd.unit)] = self._pos.get((buyer, cmd.unit), 0) - qty
        return remaining

    # -- views -------------------------------------------------------------------------------
    def best_bid(self, unit: int) -> int | None:
        bids = [o.price for o in self._orders if o.unit == unit and o.side == "buy"]
        return max(bids) if bids else None

    def best_ask(self, unit: int) -> int | None:
        asks = [o.price for o in self._orders if o.unit == unit and o.side == "sell"]
        return min(asks) if asks else None

    def open_units(self) -> list[int]:
        return list(self._open)

    def position(self, agent: str, unit: int) -> int:
        return 0 if unit in self._closed else self._pos.get((agent, unit), 0)

    def live_orders(self, agent: str) -> list[Order]:
        return [o for o in self._orders if o.agent == agent]
