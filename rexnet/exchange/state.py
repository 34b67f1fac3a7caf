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


class ExchangeState:
    """Open books, resting orders and counters of one exchange. Changed only by ``Exchange.apply``.

    Attributes:
        books: unit -> :class:`Book` for every unit opened and not yet gate-closed, ascending.
        orders: order_id -> :class:`RestingOrder` (every resting order, plus the incoming one while
            its command's events are being applied).
        refs: agent -> ref -> the resting orders under that ref (several for an order set). Keyed
            by agent first so an agent's live orders are found without scanning every ref (agents
            ask on every wake-up), and so the hot path needs no ``(agent, ref)`` tuple per order;
            an agent with nothing resting has no entry. Changed only through :meth:`index` and
            :meth:`unindex`.
        next_order_id, next_trade_id: the ids the next accepted order / trade will get.
        next_unit: the next unit to enter the forward window.
        taker: the incoming order while it matches (not resting), else ``None``.
        due: time of the next clock happening (``inf`` when none).
    """

    __slots__ = ("books", "orders", "refs", "next_order_id", "next_trade_id", "next_unit", "taker", "due")

    def __init__(self, first_unit: int = 1) -> None:  # (default: see rexnet.exchange.book)
        self.books: dict[int, Book] = {}
        self.orders: dict[int, RestingOrder] = {}
        self.refs: dict[str, dict[str, list[RestingOrder]]] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_unit = first_unit
        self.taker: RestingOrder | None = None
        self.due: float = INF

    def resting(self, agent: str, ref: str) -> list[RestingOrder] | None:
        """The orders resting under ``agent``'s ``ref`` (``None`` if none)."""
        mine = self.refs.get(agent)
        return None if mine is None else mine.get(ref)

    def index(self, o: RestingOrder) -> None:
        """Record resting ``o`` under its agent's ref."""
        refs = self.refs
        mine = refs.get(o.agent)
        if mine is None:
            refs[o.agent] = {o.ref: [o]}
            return
        found = mine.get(o.ref)
        if found is None:
            mine[o.ref] = [o]
        else:
            lst: list[RestingOrder] = found
            lst.append(o)

    def unindex(self, o: RestingOrder) -> None:
        """Forget resting ``o`` under its agent's ref (dropping emptied entries)."""
        mine = self.refs[o.agent]
        lst = mine[o.ref]
        if len(lst) == 1:
            del mine[o.ref]
            if not mine:
                del self.refs[o.agent]
        else:
            lst.remove(o)

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
            "refs": {
                (agent, ref): [o.order_id for o in lst]
                for agent, mine in sorted(self.refs.items())
                for ref, lst in sorted(mine.items())
            },
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
