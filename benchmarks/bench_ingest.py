"""Ingest throughput and peak memory, next to raw ``executemany`` of the same event rows.

Usage::

    python benchmarks/bench_ingest.py [--sizes 100000 1000000] [--huge] [--repeat 3] [--pg URL]

For each stream size (a deterministic stream from :mod:`streams`, ``--huge`` adds 10M commands):

(a) ``rexnet ingest`` of the stream into a fresh (migrated) SQLite ledger, in a subprocess (a
    fresh interpreter, as a user runs it): wall time and the subprocess's peak resident memory
    (``ru_maxrss`` of the child, read by the child itself when it ends), commands/s;
(b) the limit: ``sqlite3.executemany`` of the *same* event rows (read back from (a)'s ledger,
    pre-encoded and pre-hashed, reading not timed) into a fresh ledger with the same schema
    (migrated: same table, triggers, foreign key and pragmas), one transaction per 5000 rows,
    in this process.

The ratio (b) time / (a) time is the issue's figure ("ingest at >= 0.25x raw executemany of the
same number of event rows"), printed for wall time and, on SQLite, for CPU time (the child's
own user + system time against this process's CPU time during the inserts: the steadier figure
on a machine shared with other work). The contenders run interleaved (a, b, a, b, ...) so
background load hits them alike; best and median of ``--repeat`` rounds are printed.

With ``--pg URL`` the same is done on PostgreSQL (a fresh schema per round): (a) ``rexnet
ingest`` (events and journal through ``COPY``) and (b) psycopg ``executemany`` of the same rows.
It also times the journal's append both ways (``COPY`` as the store does, and ``executemany``),
the measurement behind the choice of ``COPY``.

Not a test: a slow machine never fails CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import run_measured  # noqa: E402
from streams import write_stream  # noqa: E402

from rexnet.store import open_store  # noqa: E402

BATCH = 5000


def ingest(db: str, stream: Path) -> tuple[float, float, float, dict[str, Any]]:
    """``(wall seconds, CPU seconds, peak MB, summary)`` of ``rexnet ingest`` in a subprocess."""
    done = run_measured(["--db", db, "ingest", str(stream), "--format", "json"])
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr.strip()[-500:]}")
    return done.seconds, done.cpu_seconds, done.peak_mb, json.loads(done.stdout)


def stored_rows(db: str, run_id: str) -> Any:
    """The run's event rows in batches, as the writer inserts them (run_id, seq, ..., hash)."""
    if db.startswith("sqlite"):
        con = sqlite3.connect(db.split("///", 1)[1])
        cur = con.execute(
            "SELECT run_id, seq, t_ms, type, version, payload, hash FROM event_log "
            "WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
    else:
        import psycopg

        con = psycopg.connect(_libpq(db))
        cur = con.cursor()
        cur.execute(
            "SELECT run_id, seq, t_ms, type, version, payload, hash FROM event_log "
            "WHERE run_id = %s ORDER BY seq",
            (run_id,),
        )
    while True:
        rows = cur.fetchmany(BATCH)
        if not rows:
            break
        yield rows
    con.close()


def raw_sqlite(source_db: str, run_id: str, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``executemany`` of the run's rows into a fresh, migrated ledger
    (reading untimed; SQLite works in this thread, so its CPU time is this process's)."""
    path = folder / f"raw-{uuid.uuid4().hex[:8]}.db"
    url = f"sqlite:///{path}"
    store = open_store(url)
    run = store.create_run(name=None, scenario={"name": "raw"}, seed=0, code_version="bench", market={})
    store.close()
    con = sqlite3.connect(path)
    # the store's own pragmas (rexnet.store.database)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    elapsed = cpu = 0.0
    for rows in stored_rows(source_db, run_id):
        rows = [(run.run_id, *row[1:]) for row in rows]
        start, start_cpu = time.perf_counter(), time.process_time()
        with con:
            con.executemany("INSERT INTO event_log VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    con.close()
    path.unlink()
    return elapsed, cpu


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _pg_schema(url: str) -> str:
    """``url`` on a fresh schema of its own (dropped by :func:`_drop_schema`)."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(url), autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}"


def _drop_schema(url: str) -> None:
    import psycopg

    name = url.rsplit("%3D", 1)[1]
    with psycopg.connect(_libpq(url.split("?")[0]), autocommit=True) as con:
        con.execute(f"DROP SCHEMA {name} CASCADE")


def raw_pg(source_db: str, run_id: str) -> float:
    """Seconds of psycopg ``executemany`` of the run's rows into a fresh, migrated schema."""
    import psycopg

    url = _pg_schema(source_db.split("?")[0])
    store = open_store(url)
    run = store.create_run(name=None, scenario={"name": "raw"}, seed=0, code_version="bench", market={})
    store.close()
    elapsed = 0.0
    with psycopg.connect(
        _libpq(url.split("?")[0]), options=f"-csearch_path={url.rsplit('%3D', 1)[1]}"
    ) as con:
        cur = con.cursor()
        for rows in stored_rows(source_db, run_id):
            rows = [(run.run_id, *row[1:]) for row in rows]
            start = time.perf_counter()
            cur.executemany("INSERT INTO event_log VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
            con.commit()
            elapsed += time.perf_counter() - start
    _drop_schema(url)
    return elapsed


def journal_pg(source_db: str, run_id: str) -> tuple[float, float]:
    """Seconds to append the run's journal to a fresh run by ``COPY`` and by ``executemany``."""
    import psycopg

    from rexnet.store import journal

    chunks = list(open_store(source_db).journal_rows(run_id))
    out = []
    for use_copy in (True, False):
        url = _pg_schema(source_db.split("?")[0])
        store = open_store(url)
        run = store.create_run(name=None, scenario={"name": "j"}, seed=0, code_version="bench", market={})
        start = time.perf_counter()
        if use_copy:
            store.append_journal(run.run_id, chunks)
        else:
            with psycopg.connect(
                _libpq(url.split("?")[0]), options=f"-csearch_path={url.rsplit('%3D', 1)[1]}"
            ) as con:
                cur = con.cursor()
                for lo in range(0, len(chunks), journal.CHUNKS_PER_WRITE):
                    batch = [(run.run_id, *c) for c in chunks[lo : lo + journal.CHUNKS_PER_WRITE]]
                    cur.executemany("INSERT INTO input_journal VALUES (%s, %s, %s, %s, %s, %s)", batch)
                    con.commit()
        out.append(time.perf_counter() - start)
        store.close()
        _drop_schema(url)
    return out[0], out[1]


def _fmt(values: list[float]) -> str:
    return f"best {min(values):.2f} s, median {statistics.median(values):.2f} s"


def bench_size(n: int, folder: Path, repeat: int, pg: str | None) -> None:
    stream = folder / f"stream-{n}.jsonl"
    write_stream(stream, n)
    size_mb = stream.stat().st_size / 1e6
    print(f"\n== {n:,} commands ({size_mb:.0f} MB of JSONL)")
    backends = [("sqlite", None)] + ([("postgresql", pg)] if pg else [])
    for backend, url in backends:
        ingest_s: list[float] = []
        ingest_cpu: list[float] = []
        raw_s: list[float] = []
        raw_cpu: list[float] = []
        rss: list[float] = []
        events = 0
        for i in range(repeat):
            if url is None:
                db = f"sqlite:///{folder / f'ledger-{uuid.uuid4().hex[:8]}.db'}"
            else:
                db = _pg_schema(url)
            open_store(db).close()  # migrated before the clock starts, as raw's ledger is
            seconds, cpu, peak, summary = ingest(db, stream)
            events = summary["events"]
            ingest_s.append(seconds)
            ingest_cpu.append(cpu)
            rss.append(peak)
            if url is None:
                wall, raw_cpu_s = raw_sqlite(db, summary["run_id"], folder)
                raw_s.append(wall)
                raw_cpu.append(raw_cpu_s)
                Path(db.split("///", 1)[1]).unlink()
                for extra in ("-wal", "-shm"):
                    Path(db.split("///", 1)[1] + extra).unlink(missing_ok=True)
            else:
                raw_s.append(raw_pg(db, summary["run_id"]))
                if i == 0:
                    copy_s, many_s = journal_pg(db, summary["run_id"])
                    print(f"   journal append on PostgreSQL: COPY {copy_s:.3f} s, executemany {many_s:.3f} s")
                _drop_schema(db)
        print(f"-- {backend}: {events:,} events")
        print(f"   ingest (subprocess), wall: {_fmt(ingest_s)}; {n / min(ingest_s):,.0f} commands/s at best")
        print(f"   raw executemany, wall:     {_fmt(raw_s)}; {events / min(raw_s):,.0f} rows/s at best")
        _ratio("wall", raw_s, ingest_s)
        if raw_cpu:
            print(f"   ingest CPU time:           {_fmt(ingest_cpu)}")
            print(f"   raw executemany CPU time:  {_fmt(raw_cpu)}")
            _ratio("CPU", raw_cpu, ingest_cpu)
        print(f"   ingest peak memory:        best {min(rss):.0f} MB, median {statistics.median(rss):.0f} MB")


def _ratio(what: str, raw: list[float], ingested: list[float]) -> None:
    """Round by round, raw time / ingest time (the goal: >= 0.25x)."""
    ratios = [r / i for r, i in zip(raw, ingested, strict=True)]
    print(
        f"   ratio raw/ingest ({what}):{' ' * (5 - len(what))} best {max(ratios):.3f}x, "
        f"median {statistics.median(ratios):.3f}x (goal >= 0.25x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--huge", action="store_true", help="also 10,000,000 commands (slow: tens of minutes)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=None, help="also run against this PostgreSQL URL")
    args = parser.parse_args()
    sizes = args.sizes + ([10_000_000] if args.huge else [])
    with tempfile.TemporaryDirectory(prefix="rexnet-bench-ingest-") as tmp:
        for n in sizes:
            bench_size(n, Path(tmp), args.repeat, args.pg)
            for path in Path(tmp).glob("stream-*.jsonl"):
                path.unlink()
    sys.stdout.flush()
    os._exit(0)  # (no lingering pools at exit)


if __name__ == "__main__":
    main()
