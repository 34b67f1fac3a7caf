"""The exchange's whole mutable state, and a plain comparable picture of it.

:class:`ExchangeState` is what a fold of events builds: the live exchange and a replay of its
log must end with equal :meth:`ExchangeState.snapshot` values (that is the event-sourcing promise
the tests check after every step).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rexnet.exchange.book import Book, RestingOrder

INF = float("inf")


class LiveOrder(NamedTuple):
    """A resting order as the read-only queries show it."""

    order_id: int
    ref: str
    unit: int
    side: str
    price: int
    remaining: int


class RefIndex(dict):  # type: ignore[type-arg]
    """``(agent, ref) -> resting orders``, also indexed by agent.

    Agents ask for their own live orders on every wake-up; scanning every ref of the exchange
    for that made a simulation quadratic in its population. Only inserting and deleting a key
    pay for the second index: lookups stay plain dict lookups on the hot path.
    """

    __slots__ = ("by_agent",)

    def __init__(self) -> None:
        super().__init__()
        self.by_agent: dict[str, dict[str, list[RestingOrder]]] = {}

    def __setitem__(self, key: tuple[str, str], orders: list[RestingOrder]) -> None:
        super().__setitem__(key, orders)
        agent, ref = key
        mine = self.by_agent.get(agent)
        if mine is None:
            self.by_agent[agent] = {ref: orders}
        else:
            mine[ref] = orders

    def __delitem__(self, key: tuple[str, str]) -> None:
        super().__delitem__(key)
        agent, ref = key
        mine = self.by_agent[agent]
        del mine[ref]
        if not mine:
            del self.by_agent[agent]


class ExchangeState:
    """Open books, resting orders and counters of one exchange. Changed only by ``Exchange.apply``.

    Attributes:
        books: unit -> :class:`Book` for every unit opened and not yet gate-closed, ascending.
        orders: order_id -> :class:`RestingOrder` (every resting order, plus the incoming one while
            its command's events are being applied).
        refs: (agent, ref) -> the resting orders under that ref (several for an order set).
        next_order_id, next_trade_id: the ids the next accepted order / trade will get.
        next_unit: the next unit to enter the forward window.
        taker: the incoming order while it matches (not resting), else ``None``.
        due: time of the next clock happening (``inf`` when none).
    """

    __slots__ = ("books", "orders", "refs", "next_order_id", "next_trade_id", "next_unit", "taker", "due")

    def __init__(self, first_unit: int) -> None:
        self.books: dict[int, Book] = {}
        self.orders: dict[int, RestingOrder] = {}
        self.refs = RefIndex()
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_unit = first_unit
        self.taker: RestingOrder | None = None
        self.due: float = INF

    def snapshot(self) -> dict[str, Any]:
        """Everything observable, as plain values (FIFO order of every level included)."""
        books: dict[int, Any] = {}
        for unit, book in self.books.items():
            books[unit] = {
                "bids": [_level(lv) for lv in book.bid_levels()],
                "asks": [_level(lv) for lv in book.ask_levels()],
                "auction_due": book.auction_due,
                "volume": book.volume,
                "notional": book.notional,
                "last_price": book.last_price,
                "positions": dict(sorted(book.positions.items())),
            }
        return {
            "books": books,
            "orders": sorted(self.orders),
            "refs": {key: [o.order_id for o in lst] for key, lst in sorted(self.refs.items())},
            "next_order_id": self.next_order_id,
            "next_trade_id": self.next_trade_id,
            "next_unit": self.next_unit,
            "taker": None if self.taker is None else self.taker.order_id,
            "due": self.due,
        }


def _level(level: Any) -> tuple[int, int, int, list[tuple[Any, ...]]]:
    return (
        level.price,
        level.qty,
        level.count,
        [(o.order_id, o.agent, o.ref, o.side, o.remaining, o.tif, o.set_ref) for o in level],
    )
