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
        orders: order_id -> :class:`RestingOrder`, every resting order (the incoming order is
            ``taker`` until it rests: most never do, and they stay out of this dict).
        refs: agent -> the agent's resting orders by ref. Keyed by agent first so an agent's live
            orders are found without scanning every ref (agents ask on every wake-up), and so the
            hot path needs no ``(agent, ref)`` tuple per order. The value is the *first* order under
            the ref while the agent has one live ref (no dict of its own: most agents of a busy
            book have one), else a dict ref -> first order; the further seats of an order set are
            chained from the first through :attr:`RestingOrder.seat`, in the order they came to
            rest. An agent with nothing resting has no entry. Changed only through :meth:`index`
            and :meth:`unindex`; read through :meth:`resting` and :meth:`live`.
        next_order_id, next_trade_id: the ids the next accepted order / trade will get.
        next_unit: the next unit to enter the forward window.
        taker: the incoming order while it matches (not resting), else ``None``.
        due: time of the next clock happening (``inf`` when none).
        last_book: the book an event was last applied to (a memo: most commands and events in a
            row concern one unit, and a native attribute read is far cheaper than a dict lookup
            of an int key). Read through :meth:`open_book` and :meth:`applied_book`; only
            applying sets it, and a gate closure clears it. Not part of the snapshot.
    """

    __slots__ = (
        "books",
        "orders",
        "refs",
        "next_order_id",
        "next_trade_id",
        "next_unit",
        "taker",
        "due",
        "last_book",
    )

    def __init__(self, first_unit: int) -> None:
        self.books: dict[int, Book] = {}
        self.orders: dict[int, RestingOrder] = {}
        self.refs: dict[str, RestingOrder | dict[str, RestingOrder]] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_unit = first_unit
        self.taker: RestingOrder | None = None
        self.due: float = INF
        self.last_book: Book | None = None

    def open_book(self, unit: int) -> Book | None:
        """The book of ``unit`` if it is open (read-only)."""
        last = self.last_book
        if last is not None and last.unit == unit:
            return last
        return self.books.get(unit)

    def applied_book(self, unit: int) -> Book:
        """The book of open ``unit``, for applying an event to it (remembered as ``last_book``)."""
        last = self.last_book
        if last is not None and last.unit == unit:
            return last
        book = self.books[unit]
        self.last_book = book
        return book

    def resting(self, agent: str, ref: str) -> RestingOrder | None:
        """The first order resting under ``agent``'s ``ref`` (its other seats follow ``.seat``)."""
        mine = self.refs.get(agent)
        if mine is None:
            return None
        if isinstance(mine, RestingOrder):
            return mine if mine.ref == ref else None
        return mine.get(ref)

    def live(self, agent: str) -> list[RestingOrder]:
        """Every order resting for ``agent`` (any order)."""
        mine = self.refs.get(agent)
        if mine is None:
            return []
        firsts = [mine] if isinstance(mine, RestingOrder) else list(mine.values())
        return [o for first in firsts for o in seats(first)]

    def index(self, o: RestingOrder) -> None:
        """Record resting ``o`` under its agent's ref."""
        refs = self.refs
        mine = refs.setdefault(o.agent, o)  # (one lookup for an agent's first live order)
        if mine is o:
            return
        if isinstance(mine, RestingOrder):
            if mine.ref == o.ref:
                _chain(mine, o)
            else:
                refs[o.agent] = {mine.ref: mine, o.ref: o}
        else:
            first = mine.get(o.ref)
            if first is None:
                mine[o.ref] = o
            else:
                _chain(first, o)

    def unindex(self, o: RestingOrder) -> None:
        """Forget resting ``o`` under its agent's ref (dropping emptied entries)."""
        refs = self.refs
        agent = o.agent
        mine = refs[agent]
        nxt = o.seat
        if isinstance(mine, RestingOrder):
            if mine is not o:
                _unchain(mine, o)
            elif nxt is None:
                del refs[agent]
            else:
                refs[agent] = nxt
        else:
            first = mine[o.ref]
            if first is not o:
                _unchain(first, o)
            elif nxt is not None:
                mine[o.ref] = nxt
            else:
                del mine[o.ref]
                if not mine:
                    del refs[agent]
        o.seat = None

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
                (agent, first.ref): [o.order_id for o in seats(first)]
                for agent, mine in sorted(self.refs.items())
                for first in ([mine] if isinstance(mine, RestingOrder) else mine.values())
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


def seats(first: RestingOrder) -> list[RestingOrder]:
    """``first`` and the seats chained after it."""
    out = [first]
    o = first.seat
    while o is not None:
        out.append(o)
        o = o.seat
    return out


def _chain(first: RestingOrder, o: RestingOrder) -> None:
    last = first
    while last.seat is not None:
        last = last.seat
    last.seat = o


def _unchain(first: RestingOrder, o: RestingOrder) -> None:
    prev = first
    while prev.seat is not o:
        nxt = prev.seat
        assert nxt is not None, "not chained under its ref"
        prev = nxt
    prev.seat = o.seat
