"""Run statistics: the end-of-run summary, as a streaming fold over events.

Used live (fed each batch as it is recorded, so it never holds the history) and after the fact
(folded over a stored log). Prosumer types come from agent ids of the form ``kind-NNN``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, Final

from rexnet.domain.events import SYSTEM_AGENT, OrderRejected, Settled, TradeExecuted
from rexnet.domain.market import MarketSpec

# (Final: compiled, C statics instead of a lookup in the module's dict at every event)
_TRADE: Final = TradeExecuted
_REJECTED: Final = OrderRejected
_SETTLED: Final = Settled


def agent_kind(agent: str) -> str:
    """``"wind"`` for ``"wind-003"``; the id itself when it has no numeric suffix."""
    head, _, tail = agent.rpartition("-")
    return head if head and tail.isdigit() else agent


class RunStats:
    """Counts, volume, price range, penalties, imbalance energy and cost per kWh by type."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.events = 0
        self.trades = 0
        self.volume = 0  # meter units x units (power over one delivery unit)
        self.min_price: int | None = None
        self.max_price: int | None = None
        self.penalties = 0
        self.deficit = 0
        self.surplus = 0
        self.rejections = 0
        self.units_settled = 0
        self.net_cash_by_kind: dict[str, int] = defaultdict(int)
        self.energy_by_kind: dict[str, int] = defaultdict(int)  # |x| summed over units
        self.agents_by_kind: dict[str, set[str]] = defaultdict(set)

    def apply(self, event: Any) -> None:
        self.events += 1
        kind = type(event)  # (the record class: compiled, an identity test)
        if kind is _TRADE:
            self.trades += 1
            self.volume += event.qty
            p = event.price
            self.min_price = p if self.min_price is None else min(self.min_price, p)
            self.max_price = p if self.max_price is None else max(self.max_price, p)
        elif kind is _REJECTED:
            self.rejections += 1
        elif kind is _SETTLED:
            if event.agent == SYSTEM_AGENT:
                self.units_settled += 1
                self.deficit += event.shortfall
                self.surplus += event.surplus
                self.penalties -= event.penalty
                return
            k = agent_kind(event.agent)
            self.agents_by_kind[k].add(event.agent)
            self.net_cash_by_kind[k] += event.net_cash
            self.energy_by_kind[k] += abs(event.realized)

    def feed(self, events: list[Any]) -> None:
        for event in events:
            self.apply(event)

    def _kwh(self, units_sum: int) -> Decimal:
        """Energy of a sum of per-unit average powers (meter units) in kWh."""
        return (units_sum * self.spec.meter_kw * self.spec.unit_seconds / 3600).normalize()

    def summary(self) -> dict[str, Any]:
        spec = self.spec
        by_kind = []
        for k in sorted(self.net_cash_by_kind):
            energy = self._kwh(self.energy_by_kind[k])
            cash = spec.money_display(self.net_cash_by_kind[k])
            by_kind.append(
                {
                    "kind": k,
                    "agents": len(self.agents_by_kind[k]),
                    "energy_kwh": energy,
                    "net_cash": cash,
                    # positive: pays per kWh it consumed or produced; negative: earns per kWh
                    "cost_per_kwh": (-cash / energy).quantize(Decimal("0.0001")) if energy else None,
                }
            )
        return {
            "events": self.events,
            "trades": self.trades,
            "volume_kwh": self._kwh(self.volume),
            "min_price": None if self.min_price is None else spec.price_display(self.min_price),
            "max_price": None if self.max_price is None else spec.price_display(self.max_price),
            "rejections": self.rejections,
            "units_settled": self.units_settled,
            "penalties": spec.money_display(self.penalties),
            "deficit_kwh": self._kwh(self.deficit),
            "surplus_kwh": self._kwh(self.surplus),
            "by_kind": by_kind,
        }
