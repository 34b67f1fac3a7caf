"""DuckDB analysis speed over a large ledger: build runs of 1M (and optionally 10M) events, then time queries.

Usage::

    python benchmarks/bench_analytics.py [--events 1000000] [--large] [--dir DIR] [--pg URL] [--repeat 3]

Build: a synthetic but realistic order flow (200 prosumers of six types, limit and market orders
around a unit-specific price that drifts with lead time, cancels, realizations) is run through the
real market engine (:func:`rexnet.replay.recording.record_commands`), so every event (trades, expiries,
gate closures, reservations, settlements with penalties) is what a live run would record, hashed
and appended by the store's RunWriter. The build time and rate are printed.

Queries, each timed as the best of ``--repeat`` (first run separately: it includes DuckDB's
extension load, attach and view creation):

(a) VWAP and volume by target unit and lead-time bucket (named query ``vwap_by_unit_lead``);
(b) per-participant settlement totals (trade cash, penalties, net cash by agent);
(c) reference: (a) and (b) run by SQLite itself over the ledger's own views (``sqlite3``), to show
    the ratio DuckDB buys;
(d) ``rexnet export``-style Parquet export of trades and settlements, then (a) over the Parquet
    file: what DuckDB does when the ledger's scanner is not the bottleneck.

``--large`` adds a 10M-event run (several minutes to build). Not a test: prints figures only.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from rexnet.analytics import Analytics
from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, Realize
from rexnet.domain.market import MarketSpec
from rexnet.replay.recording import record_commands
from rexnet.store import open_store

TYPES = {"wind": 30, "solar": 40, "house": 80, "flex": 25, "gas": 10, "battery": 15}
AGENTS = [f"{kind}-{i:03d}" for kind, n in TYPES.items() for i in range(n)]
UNIT_S = 900
HORIZON = 8

SETTLEMENT_TOTALS = (
    "SELECT agent, COUNT(*) AS units, SUM(trade_cash) AS trade_cash, SUM(penalty) AS penalties, "
    "SUM(net_cash) AS net_cash FROM settlements WHERE run_id = {run} GROUP BY agent ORDER BY agent"
)
VWAP_SQLITE = (
    "SELECT unit, CAST(lead / 900 AS INTEGER) AS bucket, SUM(qty) AS volume, "
    "SUM(price * qty) / SUM(qty) AS vwap "
    "FROM trades WHERE run_id = ? GROUP BY unit, bucket ORDER BY unit, bucket"
)


def commands(n_orders: int, *, seed: int = 11) -> Iterator[Any]:
    """Time-ordered commands: per 900 s step, orders for the open units, cancels and realizations."""
    rng = random.Random(seed)
    per_step = 240  # orders per step across the 8 open units (~4 events per order once recorded)
    steps = max(1, n_orders // per_step)
    live: list[tuple[str, str]] = []
    traders: dict[int, set[str]] = {}
    ref = 0
    for step in range(steps):
        t0 = step * UNIT_S * 1000
        batch: list[Any] = []
        for _ in range(per_step):
            unit = step + 1 + rng.randrange(HORIZON)
            t = t0 + rng.randrange(UNIT_S * 1000)
            if t >= unit * UNIT_S * 1000:
                continue
            agent = rng.choice(AGENTS)
            side = "sell" if agent.startswith(("wind", "solar", "gas")) or rng.random() < 0.3 else "buy"
            lead_units = unit - t / (UNIT_S * 1000)
            fair = 5000 + 1500 * ((unit % 96) / 96) + rng.gauss(0, 150 * lead_units)
            ref += 1
            name = f"r{ref}"
            qty = 100 * rng.randint(1, 30)
            if rng.random() < 0.1:
                batch.append(PlaceMarket(t, agent, name, side, unit, qty))
            else:
                price = int(fair + (-1 if side == "buy" else 1) * rng.randint(0, 400))
                batch.append(PlaceLimit(t, agent, name, side, unit, max(price, 1), qty))
                live.append((agent, name))
            traders.setdefault(unit, set()).add(agent)
            if live and rng.random() < 0.2:
                who, which = live.pop(rng.randrange(len(live)))
                batch.append(Cancel(t + 1, who, which))
        for agent in sorted(traders.pop(step, ())):  # delivery of unit `step` happens during this step
            x = rng.randint(-3000, 3000)
            batch.append(Realize(t0 + rng.randrange(UNIT_S * 1000), agent, step, x))
        if len(live) > 5000:
            live = live[-2000:]
        batch.sort(key=lambda c: c.t)
        yield from batch


def build(url: str, target_events: int, name: str) -> tuple[str, int, float]:
    store = open_store(url)
    start = time.perf_counter()
    summary = record_commands(
        store,
        commands(target_events // 4),
        spec=MarketSpec(),
        name=name,
        scenario={"kind": "bench-analytics", "target_events": target_events},
    )
    elapsed = time.perf_counter() - start
    store.close()
    return summary["run_id"], summary["events"], elapsed


def best(fn, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench(url: str, run: str, events: int, repeat: int, sqlite_path: Path | None) -> None:
    start = time.perf_counter()
    ax = Analytics(url)
    frame = ax.named("vwap_by_unit_lead", run)
    first = time.perf_counter() - start
    print(
        f"  first query (open DuckDB, load extension, attach, views, VWAP): {first:.2f} s ({len(frame)} rows)"
    )
    t_vwap, frame = best(lambda: ax.named("vwap_by_unit_lead", run), repeat)
    print(
        f"  (a) VWAP by unit and lead bucket  : {t_vwap:7.3f} s  "
        f"({len(frame)} rows, {events / t_vwap / 1e6:.1f} M events/s)"
    )
    sql = SETTLEMENT_TOTALS.format(run=f"'{run}'")
    t_settle, frame = best(lambda: ax.query(sql), repeat)
    print(f"  (b) settlement totals by agent    : {t_settle:7.3f} s  ({len(frame)} agents)")
    t_orders, frame = best(
        lambda: ax.query(f"SELECT status, COUNT(*) FROM orders WHERE run_id = '{run}' GROUP BY ALL"), 1
    )
    print(f"      orders by final status         : {t_orders:7.3f} s  {dict(frame.itertuples(index=False))}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ax.export_parquet(run, tmp, views=["trades", "settlements"])
        t_export = time.perf_counter() - start
        con = duckdb.connect()
        trades = f"read_parquet('{Path(tmp) / 'trades.parquet'}')"
        t_pq, _ = best(
            lambda: con.execute(
                "SELECT unit, FLOOR(lead / 900) AS bucket, SUM(qty), SUM(price * qty) / SUM(qty) "
                f"FROM {trades} "
                "GROUP BY ALL"
            ).fetchall(),
            repeat,
        )
        con.close()
    print(
        f"  (d) export trades+settlements to Parquet {t_export:.2f} s; "
        f"VWAP over the Parquet file {t_pq:.3f} s"
    )
    ax.close()
    if sqlite_path is not None:
        con = sqlite3.connect(sqlite_path)
        t_ref_vwap, _ = best(lambda: con.execute(VWAP_SQLITE, (run,)).fetchall(), 1)
        t_ref_settle, _ = best(lambda: con.execute(SETTLEMENT_TOTALS.format(run="?"), (run,)).fetchall(), 1)
        con.close()
        print(
            f"  (c) same in SQLite over its views : VWAP {t_ref_vwap:.3f} s, settlements {t_ref_settle:.3f} s"
            f"  -> DuckDB x{t_ref_vwap / t_vwap:.1f} and x{t_ref_settle / t_settle:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--large", action="store_true", help="also build and query a 10M-event run")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to put the SQLite ledger (default: temp)"
    )
    parser.add_argument("--pg", default=None, help="also build and query on this PostgreSQL URL")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [args.events] + ([10_000_000] if args.large else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            path = folder / f"bench_{size}.db"
            path.unlink(missing_ok=True)
            targets = [("sqlite", f"sqlite:///{path}", path)] + (
                [("postgresql", args.pg, None)] if args.pg else []
            )
            for backend, url, sqlite_path in targets:
                run, events, elapsed = build(url, size, f"bench-{size}-{int(time.time())}")
                print(
                    f"{backend}: built run {run}: {events:,} events in {elapsed:.1f} s "
                    f"({events / elapsed:,.0f} events/s, engine + hash chain + append)"
                )
                if sqlite_path is not None:
                    print(f"  file size {sqlite_path.stat().st_size / 1e6:.0f} MB")
                bench(url, run, events, args.repeat, sqlite_path)


if __name__ == "__main__":
    main()
