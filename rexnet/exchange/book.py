"""The order book of one delivery unit: price levels with an intrusive FIFO queue each.

Passive data only: nothing here decides anything. The exchange reads a :class:`Book` when it
decides events and changes it (through :meth:`Book.add`, :meth:`Book.remove`, :meth:`Book.reduce`)
only while applying them.

Layout, chosen for the matching hot path:

* a :class:`Level` per price and side, holding a doubly linked list of :class:`RestingOrder`
  (``head`` is the oldest), so appending, filling the head and cancelling anywhere are all O(1);
* ``bids`` / ``asks``: dict price -> level, plus ``bid_px`` (ascending bid prices) and ``ask_px``
  (ascending *negated* ask prices), so the best price of each side is the *last* element and
  consuming the best level is a cheap ``list.pop()``; a new level is placed with ``bisect``.

This module is compiled by mypyc when the package is built with it (see ``setup.py``): the
classes become native C structs (fixed attributes, no ``__dict__``), so every attribute is
declared with its type in ``__init__``. The same source runs unchanged as pure Python.
Nothing copies or pickles these objects: a snapshot of the state is the plain bytes of
:mod:`rexnet.replay.state_codec`, which builds fresh objects through these constructors.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any, Final

BUY: Final = "buy"


class RestingOrder:
    """An accepted order (resting in a level, or the incoming order while it matches)."""

    __slots__ = (
        "order_id",
        "agent",
        "ref",
        "side",
        "unit",
        "price",
        "remaining",
        "tif",
        "set_ref",
        "seat",
        "level",
        "prev",
        "next",
    )

    def __init__(
        self,
        order_id: Any,
        agent: str,
        ref: str,
        side: str,
        unit: int,
        price: int | None,
        remaining: int,
        tif: str,
        set_ref: str | None,
    ) -> None:
        # An int, kept as the object the events hold: compiled, an ``int`` attribute is an
        # unboxed machine int that would be boxed again (an allocation) for every event naming it.
        self.order_id: Any = order_id
        self.agent = agent
        self.ref = ref
        self.side = side
        self.unit = unit
        self.price = price
        self.remaining = remaining
        self.tif = tif
        self.set_ref = set_ref
        # the next seat of the same order set resting under the same ref (see ExchangeState.refs)
        self.seat: RestingOrder | None = None
        self.level: Level | None = None  # None while not resting (incoming, ioc, market)
        self.prev: RestingOrder | None = None
        self.next: RestingOrder | None = None

    def __repr__(self) -> str:
        return (
            f"RestingOrder({self.order_id}, {self.agent!r}, {self.ref!r}, {self.side}, u{self.unit}, "
            f"{self.price}, rem={self.remaining})"
        )


class Level:
    """All resting orders of one side at one price, oldest first."""

    __slots__ = ("price", "head", "tail", "qty", "count")

    def __init__(self, price: int) -> None:
        self.price = price
        self.head: RestingOrder | None = None
        self.tail: RestingOrder | None = None
        self.qty = 0
        self.count = 0

    def __iter__(self) -> Iterator[RestingOrder]:
        o = self.head
        while o is not None:
            yield o
            o = o.next


class Book:
    """One delivery unit's book, with the unit's running trade totals and positions."""

    __slots__ = (
        "unit",
        "bids",
        "asks",
        "bid_px",
        "ask_px",
        "auction_due",
        "volume",
        "notional",
        "last_price",
        "positions",
    )

    def __init__(self, unit: int) -> None:
        self.unit = unit
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_px: list[int] = []  # ascending; best bid last
        self.ask_px: list[int] = []  # ascending negated ask prices; best ask last
        self.auction_due: int | None = None  # next call auction time while in auction phase
        self.volume = 0
        self.notional = 0
        self.last_price: int | None = None
        self.positions: dict[str, int] = {}  # agent -> sold - bought

    # -- queries --------------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        px = self.bid_px
        return px[-1] if px else None

    def best_ask(self) -> int | None:
        px = self.ask_px
        return -px[-1] if px else None

    def crosses(self, side: str, price: int) -> bool:
        """Whether a limit order of ``side`` at ``price`` meets the opposite side's best price.

        The one crossing test: deciding (does a new order match?) and applying (does the incoming
        order rest yet?) both ask it.
        """
        if side == BUY:
            keys = self.ask_px
            return len(keys) > 0 and -keys[-1] <= price
        keys = self.bid_px
        return len(keys) > 0 and keys[-1] >= price

    def bid_levels(self) -> Iterator[Level]:
        """Bid levels, best (highest) first."""
        bids = self.bids
        for p in reversed(self.bid_px):
            yield bids[p]

    def ask_levels(self) -> Iterator[Level]:
        """Ask levels, best (lowest) first."""
        asks = self.asks
        for p in reversed(self.ask_px):
            yield asks[-p]

    def orders(self) -> Iterator[RestingOrder]:
        for levels in (self.bid_levels(), self.ask_levels()):
            for level in levels:
                yield from level

    def depth(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "bids": [(lv.price, lv.qty, lv.count) for lv in self.bid_levels()],
            "asks": [(lv.price, lv.qty, lv.count) for lv in self.ask_levels()],
        }

    # -- mutation (only ever called while applying an event) ------------------------------------
    def add(self, o: RestingOrder) -> None:
        """Append ``o`` at the tail of its price level (creating the level if needed)."""
        price = o.price
        assert price is not None
        if o.side == BUY:
            levels = self.bids
            level = levels.get(price)
            if level is None:
                level = levels[price] = Level(price)
                px = self.bid_px
                if not px or price > px[-1]:
                    px.append(price)
                else:
                    insort(px, price)
        else:
            levels = self.asks
            level = levels.get(price)
            if level is None:
                level = levels[price] = Level(price)
                px = self.ask_px
                if not px or -price > px[-1]:
                    px.append(-price)
                else:
                    insort(px, -price)
        o.level = level
        tail = level.tail
        o.prev = tail
        o.next = None
        if tail is None:
            level.head = o
        else:
            tail.next = o
        level.tail = o
        level.qty += o.remaining
        level.count += 1

    def remove(self, o: RestingOrder) -> None:
        """Unlink resting ``o`` from its level; drop the level when it empties."""
        level = o.level
        assert level is not None
        prev, nxt = o.prev, o.next
        if prev is None:
            level.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            level.tail = prev
        else:
            nxt.prev = prev
        o.level = o.prev = o.next = None
        level.qty -= o.remaining
        level.count -= 1
        if level.count == 0:
            price = level.price
            if o.side == BUY:
                del self.bids[price]
                px = self.bid_px
                key = price
            else:
                del self.asks[price]
                px = self.ask_px
                key = -price
            if px[-1] == key:
                px.pop()
            else:
                del px[bisect_left(px, key)]
