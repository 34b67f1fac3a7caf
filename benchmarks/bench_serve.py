"""Response times of ``rexnet serve``'s pages on a simulated run and its fork: first open and warm.

Usage::

    python benchmarks/bench_serve.py [--units 96] [--large] [--dir DIR] [--reuse]
                                     [--db PATH --run NAME --fork NAME]
                                     [--repeat 3] [--pages runs,overview,...]
                                     [--states mirror-ready,no-mirror]

The ledger: a SQLite file in ``--dir`` (default: a temporary folder) recorded with the real CLI,
``rexnet run`` of the default scenario for ``--units`` delivery units (default 96: one day, about
39k events) named ``bench``, and ``rexnet fork bench --time 900`` (another price prior) named
``bench-fork``, which re-simulates the rest of the run: it is as long as its parent. ``--large``
asks for 2530 units, about a million events each (both take about 90 s of CPU to record);
``--reuse`` keeps a ledger already built in ``--dir``; ``--db`` serves an existing SQLite ledger
whose run and fork are named by ``--run`` and ``--fork``.

For each state of the analytics mirror:

* ``mirror-ready``: ``rexnet mirror`` is run first (its time is printed: the cost of a no-op
  refresh, or of the first copy when there was no mirror);
* ``no-mirror``: the mirror's files are deleted before the server starts, which then builds the
  mirror in the background; the pages that read DuckDB answer with a progress page (503) until it
  is done. The time until the overview answers 200 is printed.

``rexnet serve`` runs in a subprocess on a free port; every page is fetched with httpx (one
client, keep-alive): once right after the server answers its first request (first open: cold
caches; ``--settle S`` waits S seconds first, as a user would take to click), then ``--repeat``
times more (warm: best and median), with the server process's CPU time during the first open
(all its threads: a figure that the machine's load does not inflate as it does wall time, but
that includes whatever the server does in the background meanwhile). The order is the one a user
would take (runs, overview, trail, fork, SQL, book); the book replay comes last because its
snapshots are taken by a background thread that the overview starts, which shares the server's
interpreter (and its CPU figure) with every page opened after it. The audit page is not timed:
it re-executes the run, on purpose.

Figures on a shared machine are noisy: run it twice and compare. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

LARGE_UNITS = 2530
PAGES = ("runs", "overview", "trail", "fork", "sql", "book", "book_json")
SQL = "SELECT buyer, COUNT(*) AS trades, SUM(qty) AS qty FROM trades GROUP BY buyer ORDER BY trades DESC"


def cli(db: str, *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "rexnet.cli", "--db", f"sqlite:///{db}", *args, "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def build(folder: Path, units: int, reuse: bool) -> Path:
    path = folder / "serve-bench.db"
    if reuse and path.exists():
        return path
    for p in folder.glob("serve-bench.db*"):
        p.unlink()
    start = time.perf_counter()
    run = cli(str(path), "run", "--units", str(units), "--name", "bench")
    print(f"recorded run bench: {run['events']} events in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    fork = cli(
        str(path), "fork", "bench", "--time", "900", "--set", "run.price_prior=80", "--name", "bench-fork"
    )
    print(f"recorded fork bench-fork: {fork['events']} events in {time.perf_counter() - start:.0f} s")
    return path


def urls(path: Path, run_name: str, fork_name: str) -> dict[str, str]:
    """The page of each name, for the run and its fork (read from the ledger, read-only)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        run, head = con.execute("SELECT run_id, head_seq FROM runs WHERE name = ?", (run_name,)).fetchone()
        (fork,) = con.execute("SELECT run_id FROM runs WHERE name = ?", (fork_name,)).fetchone()
        (agent,) = con.execute(
            "SELECT json_extract(payload, '$.agent') FROM event_log"
            " WHERE run_id = ? AND type = 'agent_registered'"
            " AND json_extract(payload, '$.kind') = 'household' ORDER BY seq LIMIT 1",
            (run,),
        ).fetchone()
        (t_end,) = con.execute(
            "SELECT t_ms FROM event_log WHERE run_id = ? AND seq = ?", (run, head)
        ).fetchone()
        market = json.loads(con.execute("SELECT market FROM runs WHERE run_id = ?", (run,)).fetchone()[0])
    finally:
        con.close()
    unit = t_end // 1000 // market["unit_seconds"] // 2
    return {
        "runs": "/",
        "overview": f"/runs/{run}",
        "trail": f"/runs/{run}/trail?" + urlencode({"agent": agent, "unit": unit}),
        "fork": f"/runs/{fork}/fork",
        "sql": "/sql?" + urlencode({"q": SQL, "run": run}),
        "book": f"/runs/{run}/book",
        "book_json": f"/runs/{run}/book.json?seq={head // 3}",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``rexnet serve`` in a subprocess, and an httpx client to it."""

    def __init__(self, path: Path) -> None:
        import httpx2 as httpx  # (the test extra's client: Starlette's TestClient needs httpx2)

        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rexnet.cli", "serve", "--db", f"sqlite:///{path}", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900.0)
        for _ in range(1200):
            try:
                self.client.get("/static/style.css")
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.close()
        raise SystemExit("the server did not start")

    def cpu(self) -> float:
        """CPU seconds the server process has used so far (all its threads, user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def get(self, url: str) -> tuple[float, int, float]:
        """Wall seconds, HTTP status and the server's CPU seconds meanwhile."""
        cpu, start = self.cpu(), time.perf_counter()
        status = self.client.get(url).status_code
        return time.perf_counter() - start, status, self.cpu() - cpu

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(60)


def measure(path: Path, paths: dict[str, str], pages: list[str], repeat: int, settle: float) -> None:
    server = Server(path)
    started = time.perf_counter()
    if settle:
        time.sleep(settle)
    try:
        for name in pages:
            first, status, cpu = server.get(paths[name])
            line = f"  {name:10s} first {first:7.3f} s (server CPU {cpu:6.2f} s, HTTP {status})"
            if status == 503:  # the progress page: wait for the mirror
                while status == 503:
                    time.sleep(1.0)
                    first, status, cpu = server.get(paths[name])
                line += (
                    f", HTTP {status} {time.perf_counter() - started:.1f} s after start,"
                    f" then {first:.3f} s (CPU {cpu:.2f} s)"
                )
            warm = [server.get(paths[name])[0] for _ in range(repeat)]
            if warm:
                line += f"  warm best {min(warm):7.3f} s  median {statistics.median(warm):7.3f} s"
            print(line, flush=True)
    finally:
        server.close()


def mirror_files(path: Path) -> list[Path]:
    return [
        path.with_name(path.name + s) for s in (".mirror.duckdb", ".mirror.duckdb.wal", ".mirror.duckdb.seal")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=96)
    parser.add_argument("--large", action="store_true", help=f"{LARGE_UNITS} units: about 1M events")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--db", default=None, help="an existing SQLite ledger (path)")
    parser.add_argument("--run", default="bench")
    parser.add_argument("--fork", default="bench-fork")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--states", default="mirror-ready,no-mirror")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after the server answers, before the first page",
    )
    args = parser.parse_args()
    if args.db:
        path = Path(args.db)
    else:
        folder = Path(args.dir or tempfile.mkdtemp(prefix="rexnet-serve-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = build(folder, LARGE_UNITS if args.large else args.units, args.reuse)
    paths = urls(path, args.run, args.fork)
    pages = [p for p in args.pages.split(",") if p]
    for state in [s for s in args.states.split(",") if s]:
        if state == "mirror-ready":
            start = time.perf_counter()
            cli(str(path), "mirror")
            print(f"rexnet mirror: {time.perf_counter() - start:.2f} s (process included)")
        elif state == "no-mirror":
            for p in mirror_files(path):
                p.unlink(missing_ok=True)
        else:
            raise SystemExit(f"unknown state {state}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{state}: rexnet serve {path.name} (load average {load} on {os.cpu_count()} cores)", flush=True
        )
        measure(path, paths, pages, args.repeat, args.settle)


if __name__ == "__main__":
    main()
