"""The accounts projection: cash, positions, reservations and penalties per participant.

A pure fold over the log (trades, reservations, realizations, settlements), independent of the
settlement engine's internals so that it doubles as a cross-check of what was settled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from rexnet.domain.events import SYSTEM_AGENT, GateClosed, Realized, ReservationFixed, Settled, TradeExecuted
from rexnet.domain.market import MarketSpec

# (Final: compiled, C statics instead of a lookup in the module's dict at every event)
_TRADE: Final = TradeExecuted
_GATE_CLOSED: Final = GateClosed
_RESERVATION: Final = ReservationFixed
_REALIZED: Final = Realized
_SETTLED: Final = Settled


@dataclass
class Account:
    trade_cash: int = 0
    bought: int = 0
    sold: int = 0
    reserved: int = 0
    realized: int = 0
    shortfall: int = 0
    surplus: int = 0
    penalty: int = 0
    surplus_credit: int = 0
    units_settled: int = 0
    open_position: dict[int, int] = field(default_factory=dict)

    @property
    def cash(self) -> int:
        """Everything received minus paid so far: trades (settled or not), penalties, credits."""
        return self.trade_cash - self.penalty + self.surplus_credit


class Accounts:
    """Fold of the log into one :class:`Account` per participant (plus ``system``)."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = defaultdict(Account)

    def apply(self, event: Any) -> None:
        # (dispatch on the record class: compiled, an identity test; most events are none of these)
        kind = type(event)
        if kind is _TRADE:
            cash = event.price * event.qty
            seller, buyer = self.accounts[event.seller], self.accounts[event.buyer]
            seller.trade_cash += cash
            seller.sold += event.qty
            buyer.trade_cash -= cash
            buyer.bought += event.qty
            seller.open_position[event.unit] = seller.open_position.get(event.unit, 0) + event.qty
            buyer.open_position[event.unit] = buyer.open_position.get(event.unit, 0) - event.qty
        elif kind is _GATE_CLOSED:
            for account in self.accounts.values():
                account.open_position.pop(event.unit, None)
        elif kind is _RESERVATION:
            self.accounts[event.agent].reserved += event.qty
        elif kind is _REALIZED:
            self.accounts[event.agent].realized += event.qty
        elif kind is _SETTLED:
            account = self.accounts[event.agent]
            account.units_settled += 1
            # the system row holds unit totals, with penalties received and credits paid stored
            # negated, so the same sums give its cash too
            account.shortfall += event.shortfall
            account.surplus += event.surplus
            account.penalty += event.penalty
            account.surplus_credit += event.surplus_credit

    def rows(self, spec: MarketSpec) -> list[dict[str, Any]]:
        """One row per participant in display units, sorted by agent, ``system`` last."""
        names = sorted(a for a in self.accounts if a != SYSTEM_AGENT)
        if SYSTEM_AGENT in self.accounts:
            names.append(SYSTEM_AGENT)
        out = []
        for name in names:
            a = self.accounts[name]
            out.append(
                {
                    "agent": name,
                    "cash": spec.money_display(a.cash),
                    "trade_cash": spec.money_display(a.trade_cash),
                    "penalty": spec.money_display(a.penalty),
                    "surplus_credit": spec.money_display(a.surplus_credit),
                    "bought_kw": spec.kw_display(a.bought),
                    "sold_kw": spec.kw_display(a.sold),
                    "open_position_kw": spec.kw_display(sum(a.open_position.values())),
                    "reserved_kw": spec.kw_display(a.reserved),
                    "realized_kw": spec.kw_display(a.realized),
                    "shortfall_kw": spec.kw_display(a.shortfall),
                    "units_settled": a.units_settled,
                }
            )
        return out
