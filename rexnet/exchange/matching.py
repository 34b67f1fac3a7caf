"""Continuous matching: walk a book read-only and say which trades an incoming order makes.

Price-time priority: the opposite side is walked from its best level, each level from its oldest
order; every fill is at the *resting* order's price. Nothing here changes the book: the trades
(and self-trade cancels) are returned as events and only applying them changes the book.

Self-trade prevention (``MarketSpec.self_trade``), when the incoming order meets a resting
order of the same agent:

* ``cancel_resting`` (default): the resting order is cancelled (reason ``self_trade``) and the
  walk goes on;
* ``cancel_incoming``: the walk stops; the caller cancels the incoming remainder (``self_trade``);
* ``cancel_both``: the resting order is cancelled and the walk stops as for ``cancel_incoming``;
* ``allow``: the agent trades with itself (its position does not change).
"""

from __future__ import annotations

from typing import Any, Final

from rexnet.domain.events import OrderCancelled, TradeExecuted
from rexnet.exchange.book import Book, RestingOrder

#: "no limit" for a market order: below every level key (keys are prices or negated prices, and
#: an int keeps the comparison int-only when the module is compiled)
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
    """Append the trades (and self-trade cancels) of an incoming order to ``out``.

    Args:
        t, oid: the time and the incoming order's id, ints as the events will hold them (boxed
            once by the caller: compiled, an ``int`` parameter would be boxed again per trade).
        limit: the limit price, ``None`` for a market order.
        tid: the id of the first trade.

    Returns:
        ``(remaining, next_trade_id, stopped_by_self_trade)``.
    """
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
    """Whether a fill-or-kill order of ``qty`` would fill completely now (read-only walk)."""
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
