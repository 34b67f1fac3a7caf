"""A small log builder for settlement tests: trades -> gate closure -> realizations -> settlement."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from rexnet.domain.commands import Realize
from rexnet.domain.events import GateClosed, ReservationFixed, TradeExecuted
from rexnet.domain.market import MarketSpec
from rexnet.settlement import Settlement, round_half_up


class Ledger:
    """Builds a valid event log the way the engine would, feeding a live :class:`Settlement`."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.settlement = Settlement(spec)
        self.log: list[Any] = []
        self._trades: dict[int, list[TradeExecuted]] = {}

    def emit(self, event: Any) -> None:
        self.log.append(event)
        self.settlement.apply(event)

    def trade(self, unit: int, *, seller: str, buyer: str, price: int, qty: int) -> TradeExecuted:
        n = len(self.log)
        t = max(0, self.spec.gate_ms(unit) - 1000)
        ev = TradeExecuted(t, n, unit, price, qty, 2 * n, 2 * n + 1, buyer, seller, "buy")
        self._trades.setdefault(unit, []).append(ev)
        self.emit(ev)
        return ev

    def close_gate(self, unit: int) -> None:
        """gate_closed with exact notional, then one reservation_fixed per agent with e != 0."""
        trades = self._trades.get(unit, [])
        volume = sum(tr.qty for tr in trades)
        notional = sum(tr.price * tr.qty for tr in trades)
        vwap = round_half_up(Fraction(notional, volume)) if volume else None
        t = self.spec.gate_ms(unit)
        self.emit(GateClosed(t, unit, volume, vwap, notional))
        e: dict[str, int] = {}
        for tr in trades:
            e[tr.seller] = e.get(tr.seller, 0) + tr.qty
            e[tr.buyer] = e.get(tr.buyer, 0) - tr.qty
        for agent in sorted(e):
            if e[agent]:
                self.emit(ReservationFixed(t, agent, unit, e[agent]))

    def realize(self, unit: int, agent: str, qty: int, *, t: int | None = None) -> list[Any]:
        when = self.spec.delivery_start_ms(unit) + 1000 if t is None else t
        events = self.settlement.handle(Realize(when, agent, unit, qty))
        self.log.extend(events)
        return events

    def settle_through(self, unit: int) -> list[Any]:
        events = self.settlement.advance(self.spec.delivery_end_ms(unit))
        self.log.extend(events)
        return events

    def seqd(self) -> list[tuple[int, Any]]:
        return list(enumerate(self.log))


@pytest.fixture
def spec() -> MarketSpec:
    return MarketSpec()


@pytest.fixture(scope="session")
def ledger_for() -> type[Ledger]:
    """The :class:`Ledger` class (session-scoped so hypothesis tests may use it)."""
    return Ledger
