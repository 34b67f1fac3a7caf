"""Call auction: clear one unit's batch of orders at a single uniform price (read-only).

Clearing price rule (the Euronext / Xetra family of rules, applied in this order):

1. **Maximum volume.** Among the candidate prices (every limit price in the book between the
   lowest ask and the highest bid), keep those maximizing ``V(p) = min(D(p), S(p))`` where
   ``D(p)`` is the bid quantity at ``>= p`` and ``S(p)`` the ask quantity at ``<= p``.
2. **Minimum surplus.** Keep those minimizing ``|D(p) - S(p)|``.
3. **Market pressure.** If every remaining price has buy surplus (``D > S``) take the highest;
   if every one has sell surplus take the lowest.
4. **Reference price.** Otherwise take the remaining price closest to the reference: the unit's
   last trade price, or, before any trade, the midpoint of the remaining prices (rounded down);
   a tie goes to the lower price.

Only book prices are candidates, so every rule is decided exactly (no interpolation).

Allocation is by price-time priority on each side: orders that are strictly better than the
clearing price fill completely; at the marginal level the oldest orders fill first. Buy and sell
fills are then paired in priority order into ``trade`` events with ``aggressor=None``.
Self-trade prevention does not apply in a call auction (an agent's own buy and sell can pair; its
position is unchanged by such a trade).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from rexnet.domain.events import TradeExecuted
from rexnet.exchange.book import Book, RestingOrder


def clearing_price(book: Book) -> tuple[int | None, int]:
    """``(price, volume)`` of the uniform-price auction of ``book``; ``(None, 0)`` if nothing crosses."""
    best_bid, best_ask = book.best_bid(), book.best_ask()
    if best_bid is None or best_ask is None or best_bid < best_ask:
        return None, 0
    bid_px = book.bid_px  # ascending
    ask_px = [-k for k in reversed(book.ask_px)]  # ascending
    bid_suffix = [0] * (len(bid_px) + 1)  # bid_suffix[i] = qty of bids bid_px[i:]
    for i in range(len(bid_px) - 1, -1, -1):
        bid_suffix[i] = bid_suffix[i + 1] + book.bids[bid_px[i]].qty
    ask_prefix = [0]  # ask_prefix[i] = qty of asks ask_px[:i]
    for p in ask_px:
        ask_prefix.append(ask_prefix[-1] + book.asks[p].qty)
    candidates = sorted({p for p in (*bid_px, *ask_px) if best_ask <= p <= best_bid})
    scored = []
    for p in candidates:
        demand = bid_suffix[bisect_left(bid_px, p)]
        supply = ask_prefix[bisect_right(ask_px, p)]
        scored.append((p, min(demand, supply), demand - supply))
    volume = max(v for _, v, _ in scored)
    kept = [(p, s) for p, v, s in scored if v == volume]
    least = min(abs(s) for _, s in kept)
    kept = [(p, s) for p, s in kept if abs(s) == least]
    if all(s > 0 for _, s in kept):
        return kept[-1][0], volume
    if all(s < 0 for _, s in kept):
        return kept[0][0], volume
    prices = [p for p, _ in kept]
    ref = book.last_price if book.last_price is not None else (prices[0] + prices[-1]) // 2
    return min(prices, key=lambda p: (abs(p - ref), p)), volume


def _take(levels: list, volume: int) -> list[tuple[RestingOrder, int]]:
    """The fills of one side, in priority order, totalling ``volume``."""
    fills: list[tuple[RestingOrder, int]] = []
    need = volume
    for level in levels:
        for o in level:
            q = o.remaining if o.remaining < need else need
            fills.append((o, q))
            need -= q
            if need == 0:
                return fills
    raise AssertionError("auction volume exceeds the executable quantity")


def clear(book: Book, t: int, tid: int) -> tuple[int | None, int, list[TradeExecuted]]:
    """Price, volume and trades (ids from ``tid``) of the call auction of ``book`` at ``t``."""
    price, volume = clearing_price(book)
    if price is None or volume == 0:
        return None, 0, []
    buys = _take([lv for lv in book.bid_levels() if lv.price >= price], volume)
    sells = _take([lv for lv in book.ask_levels() if lv.price <= price], volume)
    trades: list[TradeExecuted] = []
    i = j = 0
    b, bq = buys[0]
    s, sq = sells[0]
    unit = book.unit
    while True:
        q = bq if bq < sq else sq
        trades.append(TradeExecuted(t, tid, unit, price, q, b.order_id, s.order_id, b.agent, s.agent, None))
        tid += 1
        bq -= q
        sq -= q
        if bq == 0:
            i += 1
            if i == len(buys):
                break
            b, bq = buys[i]
        if sq == 0:
            j += 1
            s, sq = sells[j]
    return price, volume, trades
