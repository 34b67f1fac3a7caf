"""Order-book analyses by replay: best bid/ask over time and depth at a time.

The book is not stored, it is a projection: these fold the run's full history (a fork's inherited
prefix included, read from the ``event_history`` view) through :class:`rexnet.market_engine.MarketEngine`
``apply``, the same fold the live run used, so the books are exact rather than approximated in
SQL. Cost: one pass over the run's events in Python; memory: the open books only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rexnet.domain.codec import decode
from rexnet.market_engine import MarketEngine
from rexnet.replay.projection import run_spec

if TYPE_CHECKING:
    from rexnet.store.records import RunInfo

Rows = tuple[list[str], list[tuple[Any, ...]]]

#: events after which a unit's best bid or ask may have moved
_BOOK_EVENTS = frozenset(
    {
        "order_accepted",
        "trade",
        "order_cancelled",
        "order_shrunk",
        "order_expired",
        "gate_closed",
        "auction_cleared",
        "unit_opened",
    }
)


def history(
    ax: Any, run: RunInfo, *, to_t_ms: int | None = None, chunk: int = 50_000
) -> Iterator[tuple[int, Any]]:
    """``(seq, event record)`` of the run's full history, in seq order (streamed)."""
    con = ax.session([run.run_id])
    sql = "SELECT seq, t_ms, type, version, payload FROM event_history WHERE run_id = $run"
    params: dict[str, Any] = {"run": run.run_id}
    if to_t_ms is not None:
        sql += " AND t_ms <= $to"
        params["to"] = to_t_ms
    cursor = con.execute(sql + " ORDER BY seq", params)
    while True:
        rows = cursor.fetchmany(chunk)
        if not rows:
            return
        for seq, t_ms, kind, version, payload in rows:
            yield seq, decode(kind, version, t_ms, payload)


def spread_over_time(ax: Any, run: RunInfo, *, unit: int | None = None) -> Rows:
    """One row each time a unit's best bid or best ask changes (None: that side is empty)."""
    engine = MarketEngine(run_spec(run))
    spec = engine.spec
    last: dict[int, tuple[int | None, int | None]] = {}
    rows: list[tuple[Any, ...]] = []
    for seq, event in history(ax, run):
        engine.apply(event)
        if event.TYPE not in _BOOK_EVENTS:
            continue
        u = event.unit
        if unit is not None and u != unit:
            continue
        best = (engine.best_bid(u), engine.best_ask(u))
        if last.get(u, (None, None)) == best:
            continue
        last[u] = best
        bid, ask = best
        rows.append(
            (
                u,
                seq,
                event.t / 1000.0,
                None if bid is None else float(spec.price_display(bid)),
                None if ask is None else float(spec.price_display(ask)),
                None if bid is None or ask is None else float(spec.price_display(ask - bid)),
                None if bid is None or ask is None else float(spec.price_display(bid + ask)) / 2,
            )
        )
    return ["unit", "seq", "t", "best_bid", "best_ask", "spread", "mid"], rows


def run_end_ms(ax: Any, run: RunInfo) -> int:
    con = ax.session([run.run_id])
    row = con.execute(
        "SELECT MIN(t_ms), MAX(t_ms) FROM event_history WHERE run_id = $run", {"run": run.run_id}
    ).fetchone()
    return 0 if row is None or row[1] is None else int(row[1])


def middle_time(ax: Any, run: RunInfo) -> float:
    """The middle of the run in seconds (the default time of ``depth_at``)."""
    return run_end_ms(ax, run) / 2000.0


def depth_at(ax: Any, run: RunInfo, *, time: float | None = None, unit: int | None = None) -> Rows:
    """Price levels of every open book (or ``unit``'s) after all events with ``t <= time``."""
    if time is None:
        time = middle_time(ax, run)
    engine = MarketEngine(run_spec(run))
    spec = engine.spec
    for _seq, event in history(ax, run, to_t_ms=int(round(time * 1000))):
        engine.apply(event)
    rows: list[tuple[Any, ...]] = []
    units = sorted(engine.open_units()) if unit is None else [unit]
    for u in units:
        depth = engine.depth(u)
        for side, key in (("bid", "bids"), ("ask", "asks")):
            cum = 0
            for level, (price, qty, orders) in enumerate(depth[key], start=1):
                cum += qty
                rows.append(
                    (
                        time,
                        u,
                        side,
                        level,
                        float(spec.price_display(price)),
                        float(spec.kw_display(qty)),
                        orders,
                        float(spec.kw_display(cum)),
                    )
                )
    return ["time", "unit", "side", "level", "price", "qty", "orders", "cum_qty"], rows
