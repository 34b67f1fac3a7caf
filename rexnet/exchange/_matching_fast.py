"""Continuous matching shaped for mypyc: the speed twin of :mod:`rexnet.exchange.matching`.

Same walk, same events, same return values as the reference :func:`rexnet.exchange.matching.match`
and :func:`~rexnet.exchange.matching.fillable` (the rules are documented there);
:class:`~rexnet.exchange._fast.FastExchange` calls these, and
``tests/unit/exchange/test_fast_path.py`` holds them to the reference. What differs exists only
for the compiled build:

* events are built with ``tuple.__new__`` (the named tuples' ``__new__`` is Python code), their
  classes read from ``Final`` names (C statics, not module-dict lookups);
* the time, the order ids, the unit and the price are ``Any`` locals: compiled, an ``int`` local is
  an unboxed machine int, and each event naming it would box it again (an allocation per value
  above 256), so each is boxed once (by the caller, or once per level for the price);
* the book's sorted level keys are walked directly, with an ``int`` sentinel for a market order's
  "no limit", so every comparison stays int-only.
"""

from __future__ import annotations

from typing import Any, Final

from rexnet.domain.events import OrderCancelled, TradeExecuted
from rexnet.exchange.book import Book, RestingOrder

#: "no limit" for a market order: below every level key (keys are prices or negated prices)
_NO_LIMIT: Final = -(1 << 62)
#: builds a NamedTuple without its Python-level ``__new__`` (hot path)
_new: Final[Any] = tuple.__new__
_TRADE: Final = TradeExecuted  # (Final: compiled, loaded from a C static)
_CANCELLED: Final = OrderCancelled


def match(
    book: Book,
    t: Any,
    oid: Any,
    agent: str,
    side: str,
    limit: int | None,
    qty: int,
    tid: int,
    stp: str,
    out: list[Any],
) -> tuple[int, int, bool]:
    """:func:`rexnet.exchange.matching.match`; ``t`` and ``oid`` are ints boxed once by the caller."""
    unit: Any = book.unit  # (boxed once)
    rem = qty
    allow = stp == "allow"
    # Both sides use keys that grow towards the best price (asks are stored negated), so
    # "this level crosses" is ``key >= lim`` either way.
    is_buy = side == "buy"
    if is_buy:
        keys, levels = book.ask_px, book.asks
        lim = _NO_LIMIT if limit is None else -limit
    else:
        keys, levels = book.bid_px, book.bids
        lim = _NO_LIMIT if limit is None else limit
    i = len(keys) - 1
    while i >= 0:  # best level first (the best key is the last one)
        key = keys[i]
        i -= 1
        if key < lim:
            break
        price: Any = -key if is_buy else key  # (boxed once per level)
        o: RestingOrder | None = levels[price].head
        while o is not None:
            if not allow and o.agent == agent:
                if stp == "cancel_incoming":
                    return rem, tid, True
                out.append(_new(_CANCELLED, (t, o.order_id, o.agent, unit, o.remaining, "self_trade")))
                if stp == "cancel_both":
                    return rem, tid, True
                o = o.next
                continue
            avail = o.remaining
            fill = avail if avail < rem else rem
            if is_buy:
                trade = (t, tid, unit, price, fill, oid, o.order_id, agent, o.agent, "buy")
            else:
                trade = (t, tid, unit, price, fill, o.order_id, oid, o.agent, agent, "sell")
            out.append(_new(_TRADE, trade))
            tid += 1
            rem -= fill
            if rem == 0:
                return 0, tid, False
            o = o.next
    return rem, tid, False


def fillable(book: Book, agent: str, side: str, limit: int, qty: int, stp: str) -> bool:
    """:func:`rexnet.exchange.matching.fillable`."""
    if side == "buy":
        keys, levels, sign, lim = book.ask_px, book.asks, -1, -limit
    else:
        keys, levels, sign, lim = book.bid_px, book.bids, 1, limit
    need = qty
    for key in reversed(keys):
        if key < lim:
            break
        o: RestingOrder | None = levels[sign * key].head
        while o is not None:
            if o.agent == agent and stp != "allow":
                if stp != "cancel_resting":
                    return False  # the walk would stop here
            else:
                need -= o.remaining
                if need <= 0:
                    return True
            o = o.next
    return False
