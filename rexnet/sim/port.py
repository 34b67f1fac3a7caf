"""The simulator's view of the market: the protocol :class:`rexnet.market_engine.MarketEngine` meets.

The simulator never imports the engine; anything with these members can be driven (the real
engine, or a small fake in tests).
"""

from __future__ import annotations

from typing import Any, Protocol

from rexnet.domain.market import MarketSpec


class LiveOrder(Protocol):
    """A resting order as the market reports it."""

    order_id: int
    ref: str
    unit: int
    side: str
    price: int | None
    remaining: int


class MarketPort(Protocol):
    """What the simulator needs of a market. Times ms, prices ticks, quantities meter units."""

    spec: MarketSpec

    def submit(self, command: Any) -> list[Any]:
        """Advance the market clock to ``command.t``, then handle it; returns the events caused."""
        ...

    def advance(self, t_ms: int) -> list[Any]:
        """Run every market clock happening with time <= ``t_ms``."""
        ...

    def next_due_ms(self) -> int | None:
        """Time of the next market clock happening."""
        ...

    def best_bid(self, unit: int) -> int | None: ...

    def best_ask(self, unit: int) -> int | None: ...

    def open_units(self) -> list[int]: ...

    def position(self, agent: str, unit: int) -> int:
        """Sold - bought so far (meter units): the reservation-to-be."""
        ...

    def live_orders(self, agent: str) -> list[Any]:
        """The agent's resting orders (each with ``order_id, ref, unit, side, price, remaining``)."""
        ...
