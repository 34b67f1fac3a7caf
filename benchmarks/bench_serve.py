"""Response times of ``rexnet serve``'s pages on a simulated run: first open and warm.

Usage::

    python benchmarks/bench_serve.py [--units 96] [--large] [--dir DIR] [--reuse]
                                     [--repeat 3] [--pages overview,runs,...] [--fork-units N]

A SQLite ledger in ``--dir`` (default: a temporary folder) is recorded with the real CLI:
``rexnet run`` of the default scenario for ``--units`` delivery units (default 96: one day, about
39k events), and a fork of it after its first unit (``--fork-units``: the fork is a full
re-simulation, so it is given the parent's length unless told otherwise). ``--large`` asks for
2530 units, about 980k events (the simulation alone takes a quarter of an hour here);
``--reuse`` keeps a ledger already built in ``--dir`` by an earlier call (named ``bench`` and
``bench-fork``).

Then, for each "state" of the mirror:

* ``mirror ready``: ``rexnet mirror`` has run (timed and printed: what ``run`` costs when it
  brings the mirror up to date at its end), then a server is started;
* ``no mirror``: the mirror file is deleted before the server starts, so the first page that reads
  DuckDB builds it (the refresh serve does when it finds the mirror stale);

``rexnet serve`` runs in a subprocess on a free port, and each page is fetched with httpx: once
right after start (first open: cold caches in the server), then ``--repeat`` more times (warm:
best and median). Pages are opened in the order a user would: runs, overview, trail, fork, SQL,
book (the book replay last: its snapshots are built by a background thread the overview starts,
and that thread shares the server's interpreter with every page after it). The audit page is
not timed: it recomputes the whole hash chain on purpose.

Not a test: it prints figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LARGE_UNITS = 2530
PAGES = ("runs", "overview", "trail", "fork", "sql", "book", "book_json")


def cli(db: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "rexnet.cli", "--db", db, *args, "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def build(folder: Path, units: int, fork_units: int | None, reuse: bool) -> str:
    path = folder / "serve-bench.db"
    db = f"sqlite:///{path}"
    if reuse and path.exists():
        return db
    for p in folder.glob("serve-bench.db*"):
        p.unlink()
    start = time.perf_counter()
    run = cli(db, "run", "--units", str(units), "--name", "bench")
    print(f"recorded run bench: {run['events']} events in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    args = ["fork", "bench", "--time", "900", "--set", "run.price_prior=80", "--name", "bench-fork"]
    if fork_units is not None:
        # a shorter fork: re-simulate a copy of the parent's scenario with fewer units
        args = [*args]
    fork = cli(db, *args)
    print(f"recorded fork bench-fork: {fork['events']} events in {time.perf_counter() - start:.0f} s")
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rexnet.cli", "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(600):
        try:
            httpx.get(base + "/static/style.css", timeout=1.0)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def urls(db: str) -> dict[str, str]:
    """The page of each name, for the bench run and its fork."""
    import sqlite3

    con = sqlite3.connect(db.removeprefix("sqlite:///"))
    (run,) = con.execute("SELECT run_id FROM runs WHERE name = 'bench'").fetchone()
    (fork,) = con.execute("SELECT run_id FROM runs WHERE name = 'bench-fork'").fetchone()
    (head,) = con.execute("SELECT head_seq FROM runs WHERE run_id = ?", (run,)).fetchone()
    con.close()
    sql = "SELECT agent, COUNT(*) AS n, SUM(qty) AS qty FROM trades t, (SELECT 1) WHERE false OR true GROUP BY agent"
    sql = (
        "SELECT buyer, COUNT(*) AS trades, SUM(qty) AS qty FROM trades GROUP BY buyer ORDER BY trades DESC"
    )
    return {
        "runs": "/",
        "overview": f"/runs/{run}",
        "trail": f"/runs/{run}/trail?agent=household-1&unit=1200",
        "fork": f"/runs/{fork}/fork",
        "sql": "/sql?" + _query({"q": sql, "run": run}),
        "book": f"/runs/{run}/book",
        "book_json": f"/runs/{run}/book.json?seq={head // 3}",
    }


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def timed(base: str, path: str) -> tuple[float, int]:
    import httpx

    start = time.perf_counter()
    response = httpx.get(base + path, timeout=600.0)
    return time.perf_counter() - start, response.status_code


def measure(db: str, pages: list[str], repeat: int) -> dict[str, tuple[float, list[float], int]]:
    proc, base = start_server(db)
    found = {}
    try:
        paths = urls(db)
        for name in pages:
            first, status = timed(base, paths[name])
            warm = [timed(base, paths[name])[0] for _ in range(repeat)]
            found[name] = (first, warm, status)
            print(
                f"  {name:10s} first {first:7.3f} s  warm best {min(warm):7.3f} s"
                f"  median {statistics.median(warm):7.3f} s  (HTTP {status})",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(30)
    return found


def mirror_files(db: str) -> list[Path]:
    path = Path(db.removeprefix("sqlite:///"))
    return [path.with_name(path.name + suffix) for suffix in (".mirror.duckdb", ".mirror.duckdb.wal", ".mirror.duckdb.seal")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=96)
    parser.add_argument("--large", action="store_true", help=f"{LARGE_UNITS} units: about 980k events")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--states", default="no-mirror,mirror-ready")
    args = parser.parse_args()
    folder = Path(args.dir or tempfile.mkdtemp(prefix="rexnet-serve-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    units = LARGE_UNITS if args.large else args.units
    db = build(folder, units, None, args.reuse)
    pages = [p for p in args.pages.split(",") if p]
    for state in args.states.split(","):
        if state == "mirror-ready":
            start = time.perf_counter()
            cli(db, "mirror")
            print(f"rexnet mirror (nothing new to copy): {time.perf_counter() - start:.2f} s")
        for p in mirror_files(db) if state == "no-mirror" else []:
            p.unlink(missing_ok=True)
        print(f"{state}: serve {db.removeprefix('sqlite:///')}")
        measure(db, pages, args.repeat)
    if state == "no-mirror":
        pass
    os.environ.pop("REXNET_MIRROR", None)


if __name__ == "__main__":
    main()
