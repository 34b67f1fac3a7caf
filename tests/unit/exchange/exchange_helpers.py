"""Helpers for the exchange tests: a default market and short command builders (qty in lots).

A plain module (not conftest.py) so test files import it by a name no other package shares.
"""

from __future__ import annotations

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Shrink
from rexnet.domain.market import MarketSpec
from rexnet.exchange import Exchange

LOT = MarketSpec().lot_units  # 100 meter units = 0.1 kW
U = 2  # a unit open from t=0 until its gate at 1_800_000 ms


def make(**spec_kwargs) -> Exchange:
    """A fresh exchange with its t=0 units opened."""
    ex = Exchange(MarketSpec(**spec_kwargs))
    ex.advance(0)
    return ex


def limit(agent, ref, side, price, lots, *, t=1, unit=U, tif="gtc"):
    return PlaceLimit(t, agent, ref, side, unit, price, lots * LOT, tif)


def market(agent, ref, side, lots, *, t=1, unit=U):
    return PlaceMarket(t, agent, ref, side, unit, lots * LOT)


def cancel(agent, ref, *, t=1):
    return Cancel(t, agent, ref)


def shrink(agent, ref, lots, *, t=1):
    return Shrink(t, agent, ref, lots * LOT)


def place_set(agent, ref, side, units, price, lots, *, t=1):
    return PlaceSet(t, agent, ref, side, tuple(units), price, lots * LOT)


def kinds(events) -> list[str]:
    return [e.TYPE for e in events]


def replayed(ex: Exchange, log: list) -> Exchange:
    """A fresh exchange of the same spec with every event of ``log`` applied."""
    fresh = Exchange(ex.spec)
    for e in log:
        fresh.apply(e)
    return fresh


class Recorder:
    """An exchange plus the full log of what it emitted."""

    def __init__(self, **spec_kwargs) -> None:
        self.ex = Exchange(MarketSpec(**spec_kwargs))
        self.log = list(self.ex.advance(0))

    def __call__(self, cmd):
        events = self.ex.handle(cmd)
        self.log.extend(events)
        return events

    def advance(self, t):
        events = self.ex.advance(t)
        self.log.extend(events)
        return events

    def check_replay(self) -> None:
        assert replayed(self.ex, self.log).state.snapshot() == self.ex.state.snapshot()
