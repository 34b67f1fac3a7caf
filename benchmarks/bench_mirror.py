"""The columnar analytics mirror against the scanner: refresh cost and the two analytics queries.

Usage::

    python benchmarks/bench_mirror.py [--sizes 100000 1000000] [--large] [--dir DIR] [--pg URL]
                                      [--repeat 3] [--reuse]

For each size a SQLite ledger holding one run of about that many events is built the honest way:
the synthetic order flow of ``bench_analytics.py`` (200 prosumers, limit and market orders,
cancels, realizations) run through the real market engine, hashed and appended by the store, so
every event is one a live run would record. (Ingesting a JSONL stream is slower per event; this is
the fastest way that still produces real histories.) ``--reuse`` keeps a ledger already built in
``--dir`` by an earlier call.

Then, each step in a fresh subprocess so its peak memory (max RSS) is its own:

* full refresh (the mirror deleted first), no-op refresh (nothing new), incremental refresh after a
  second run of 1% of the size was appended (only its events are copied);
* (a) VWAP by unit and lead-time bucket (named query ``vwap_by_unit_lead``) and (b) per-participant
  settlement totals, best of ``--repeat``, over the mirror and over the ledger (the scanner path),
  with the ratio scanner / mirror. "open" is the first session: for the mirror it includes the
  refresh check, for the scanner the extension load and attach.

``--large`` adds 10M events (builds for a quarter of an hour). ``--pg URL`` repeats the steps on a
PostgreSQL ledger (one schema per size, dropped afterwards) and compares the two ways of reading
the log out of PostgreSQL: DuckDB's ``postgres_query`` and psycopg ``COPY ... TO STDOUT``.
Not a test: it prints figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from measure import own_peak_kb  # noqa: E402

SETTLEMENT_TOTALS = (
    "SELECT agent, COUNT(*) AS units, SUM(trade_cash) AS trade_cash, SUM(penalty) AS penalties,"
    " SUM(net_cash) AS net_cash FROM settlements WHERE run_id = $run GROUP BY agent ORDER BY agent"
)


# -- steps (run in a subprocess: ``bench_mirror.py --step NAME URL [RUN]``) -------------------------
def _peak_mb() -> float:
    """This step's own peak (VmHWM; ru_maxrss would carry the parent's peak across execve)."""
    return own_peak_kb() / 1024


def step_refresh(url: str, rebuild: bool) -> dict[str, Any]:
    from rexnet.analytics.mirror import refresh
    from rexnet.store import open_store

    with open_store(url) as store:
        db = store.engine.url
    start = time.perf_counter()
    summary = refresh(db, rebuild=rebuild)
    return {"seconds": time.perf_counter() - start, "rows": summary.rows, "peak_mb": _peak_mb()}


def step_queries(url: str, run: str, mode: str, repeat: int) -> dict[str, Any]:
    from rexnet.analytics import Analytics

    start = time.perf_counter()
    ax = Analytics(url, mirror=mode)
    ax.session([run])
    opened = time.perf_counter() - start
    out: dict[str, Any] = {"open": opened}
    for name, call in (
        ("vwap", lambda: ax.named_rows("vwap_by_unit_lead", run)),
        ("settlements", lambda: ax.rows(SETTLEMENT_TOTALS, {"run": run}, run=run)),
    ):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            _, rows = call()
            times.append(time.perf_counter() - start)
        out[name] = min(times)
        out[name + "_rows"] = len(rows)
    ax.close()
    out["peak_mb"] = _peak_mb()
    return out


def step_pg_read(url: str, run: str) -> dict[str, Any]:
    """Seconds to read a run's rows out of PostgreSQL into a DuckDB table, two ways."""
    import duckdb
    import psycopg

    from rexnet.analytics import duckdb_session
    from rexnet.store import open_store

    with open_store(url) as store:
        db = store.engine.url
    select = f"SELECT run_id, seq, t_ms, type, version, payload, hash FROM event_log WHERE run_id = '{run}'"
    con = duckdb.connect()
    con.execute(f"LOAD '{duckdb_session.extension_path('postgresql')}'")
    con.execute(f"ATTACH '{duckdb_session._libpq_url(db, None)}' AS src (TYPE postgres, READ_ONLY)")
    start = time.perf_counter()
    con.execute(f"CREATE TABLE a AS SELECT * FROM postgres_query('src', $${select}$$)")
    scanner = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "rows.csv")
        start = time.perf_counter()
        with (
            psycopg.connect(duckdb_session._libpq_url(db, None)) as pg,
            pg.cursor() as cur,
            path.open("wb") as out,
        ):
            with cur.copy(
                f"COPY ({select.replace('hash FROM', 'encode(hash, $$hex$$) FROM')}) TO STDOUT (FORMAT csv)"
            ) as copy:
                for block in copy:
                    out.write(block)
        con.execute(
            "CREATE TABLE b AS SELECT * REPLACE (unhex(hash) AS hash)"
            f" FROM read_csv('{path}', header = false, columns = "
            "{'run_id': 'VARCHAR', 'seq': 'BIGINT', 't_ms': 'BIGINT', 'type': 'VARCHAR',"
            " 'version': 'INTEGER', 'payload': 'VARCHAR', 'hash': 'VARCHAR'})"
        )
        copy_s = time.perf_counter() - start
    same = con.execute("SELECT COUNT(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b)").fetchone()
    return {
        "postgres_query": scanner,
        "copy_csv": copy_s,
        "rows": con.execute("SELECT COUNT(*) FROM a").fetchone()[0],
        "differ": same[0] if same else None,
    }


def _run_step(*args: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--step", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"step {args[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the benchmark ----------------------------------------------------------------------------------
def _build(url: str, events: int, name: str) -> tuple[str, int, float]:
    from bench_analytics import build

    return build(url, events, name)


def _existing(url: str, name: str) -> tuple[str, int] | None:
    from rexnet.errors import RunNotFound
    from rexnet.store import open_store

    with open_store(url) as store:
        try:
            run = store.get_run(name)
        except RunNotFound:
            return None
        return run.run_id, run.events


def bench_ledger(label: str, url: str, size: int, repeat: int, reuse: bool, env: dict[str, str]) -> None:
    found = _existing(url, f"size-{size}") if reuse else None
    if found is None:
        run, events, seconds = _build(url, size, f"size-{size}")
        print(f"{label} {size:>10,}: built run {run}: {events:,} events in {seconds:.0f} s")
    else:
        run, events = found
        print(f"{label} {size:>10,}: reusing run {run} ({events:,} events)")
    full = _run_step("refresh", url, "rebuild", env=env)
    noop = _run_step("refresh", url, "", env=env)
    _build(url, max(10_000, size // 100), f"extra-{size}-{uuid.uuid4().hex[:6]}")  # a new run arrives
    incremental = _run_step("refresh", url, "", env=env)
    print(
        f"  refresh full        {full['seconds']:7.2f} s  {full['peak_mb']:6.0f} MB  "
        f"{full['rows']:,} events ({full['rows'] / full['seconds']:,.0f}/s)"
    )
    print(f"  refresh, nothing new{noop['seconds']:7.2f} s  {noop['peak_mb']:6.0f} MB")
    print(
        f"  refresh incremental {incremental['seconds']:7.2f} s  {incremental['peak_mb']:6.0f} MB  "
        f"{incremental['rows']:,} new events (a new run of 1%)"
    )
    mirror = _run_step("queries", url, run, "require", str(repeat), env=env)
    scanner = _run_step("queries", url, run, "off", str(repeat), env=env)
    for key, what in (
        ("open", "open (first session)"),
        ("vwap", "(a) VWAP by unit, lead"),
        ("settlements", "(b) settlement totals"),
    ):
        print(
            f"  {what:24} mirror {mirror[key]:7.3f} s   scanner {scanner[key]:7.3f} s   "
            f"scanner/mirror x{scanner[key] / max(mirror[key], 1e-9):.1f}"
        )
    assert (
        mirror["vwap_rows"] == scanner["vwap_rows"]
        and mirror["settlements_rows"] == scanner["settlements_rows"]
    )
    print(
        f"  peak memory of the query process: mirror {mirror['peak_mb']:.0f} MB,"
        f" scanner {scanner['peak_mb']:.0f} MB"
    )
    if url.startswith("postgresql"):
        read = _run_step("pg_read", url, run, env=env)
        print(
            f"  reading the run out of PostgreSQL: postgres_query {read['postgres_query']:.2f} s, "
            f"psycopg COPY (csv) + read_csv {read['copy_csv']:.2f} s"
            f" ({read['rows']:,} rows, {read['differ']} differ)"
        )


def _pg_schema_url(base: str) -> tuple[str, Any]:
    import sqlalchemy as sa

    schema = "bench_" + uuid.uuid4().hex[:8]
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--large", action="store_true", help="also 10M events")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite ledgers go (default: temp)")
    parser.add_argument("--reuse", action="store_true", help="reuse ledgers already built in --dir")
    parser.add_argument("--pg", default=None, help="also on this PostgreSQL URL (a schema per size)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.step:
        name, url, *rest = args.step
        if name == "refresh":
            result = step_refresh(url, rebuild=bool(rest and rest[0]))
        elif name == "queries":
            result = step_queries(url, rest[0], rest[1], int(rest[2]))
        else:
            result = step_pg_read(url, rest[0])
        print(json.dumps(result))
        return
    sizes = args.sizes + ([10_000_000] if args.large else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "REXNET_MIRROR_DIR": str(folder / "pg-mirrors")}
        print(f"CPUs: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f}")
        for size in sizes:
            path = folder / f"mirror_{size}.db"
            if not args.reuse:
                for suffix in ("", "-wal", "-shm", ".mirror.duckdb", ".mirror.duckdb.seal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            bench_ledger("sqlite", f"sqlite:///{path}", size, args.repeat, args.reuse, env)
            if args.pg:
                url, drop = _pg_schema_url(args.pg)
                try:
                    bench_ledger("postgresql", url, size, args.repeat, False, env)
                finally:
                    drop()


if __name__ == "__main__":
    main()
