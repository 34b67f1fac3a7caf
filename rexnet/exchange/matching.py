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

This is the reference; :mod:`rexnet.exchange._matching_fast` is the same walk shaped for mypyc.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rexnet.domain.events import OrderCancelled, TradeExecuted
from rexnet.exchange.book import Book, Level


def match(
    book: Book,
    t: int,
    oid: int,
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
        t, oid: the time and the incoming order's id.
        limit: the limit price, ``None`` for a market order.
        tid: the id of the first trade.
        stp: the market's self-trade prevention (see the module docstring).

    Returns:
        ``(remaining, next_trade_id, stopped_by_self_trade)``.
    """
    remaining = qty
    if limit is not None and not book.crosses(side, limit):
        return remaining, tid, False  # nothing to walk (as for most limit orders)
    for level in _crossing_levels(book, side, limit):
        for resting in level:
            if resting.agent == agent and stp != "allow":
                if stp == "cancel_incoming":
                    return remaining, tid, True
                out.append(
                    OrderCancelled(t, resting.order_id, agent, book.unit, resting.remaining, "self_trade")
                )
                if stp == "cancel_both":
                    return remaining, tid, True
                continue
            fill = min(resting.remaining, remaining)
            if side == "buy":
                buy_id, sell_id, buyer, seller = oid, resting.order_id, agent, resting.agent
            else:
                buy_id, sell_id, buyer, seller = resting.order_id, oid, resting.agent, agent
            out.append(
                TradeExecuted(t, tid, book.unit, level.price, fill, buy_id, sell_id, buyer, seller, side)
            )
            tid += 1
            remaining -= fill
            if remaining == 0:
                return 0, tid, False
    return remaining, tid, False


def fillable(book: Book, agent: str, side: str, limit: int, qty: int, stp: str) -> bool:
    """Whether a fill-or-kill order of ``qty`` would fill completely now (the walk of :func:`match`,
    counting only)."""
    needed = qty
    for level in _crossing_levels(book, side, limit):
        for resting in level:
            if resting.agent == agent and stp != "allow":
                if stp != "cancel_resting":
                    return False  # the walk would stop here
                continue  # the resting order would be cancelled, not traded with
            needed -= resting.remaining
            if needed <= 0:
                return True
    return False


def _crossing_levels(book: Book, side: str, limit: int | None) -> Iterator[Level]:
    """The opposite side's levels an order of ``side`` at ``limit`` (``None``: market) can trade
    with, best first."""
    if side == "buy":
        for level in book.ask_levels():
            if limit is not None and level.price > limit:
                return
            yield level
    else:
        for level in book.bid_levels():
            if limit is not None and level.price < limit:
                return
            yield level
