"""Sweep scaling: 16 small runs (4 grid points x 4 seeds) on a local Dask cluster of 1 and 2 workers.

Each configuration sweeps into a fresh ledger (so nothing is skipped): by default a SQLite main
file in a temporary folder, with one SQLite file per run; ``--db postgresql://...`` uses that
PostgreSQL database instead (a fresh schema per configuration is not made: give an empty
database, or sweeps after the first are named apart). The reference in the same run is the same
16 runs simulated one after the other in this process, without Dask.

Wall times include starting and stopping the cluster, as a user of ``rexnet sweep`` sees them;
that fixed cost is also measured on its own (a cluster started, warmed up and stopped) and taken
off to show the speed-up of the runs themselves. On a machine with as many cores as workers the
database server competes for them (PostgreSQL on the same host, or SQLite's per-file
migrations), so expect less than linear.

    python benchmarks/bench_sweep.py [--units 48] [--workers 1 2] [--db URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

GRID = '"settlement.penalty_price" = [1000.0, 2000.0, 3000.0, 4000.0]'
SEEDS = [1, 2, 3, 4]


def write_spec(folder: Path, name: str, units: int) -> Path:
    path = folder / f"{name}.toml"
    text = f'name = "{name}"\nscenario = "default"\nseeds = {SEEDS}\nunits = {units}\n[grid]\n{GRID}\n'
    path.write_text(text)
    return path


def serial(folder: Path, units: int, db: str | None) -> float:
    """The 16 runs one after the other in this process (no Dask), into ``db`` or one SQLite file."""
    from rexnet.app.simulate import run_scenario
    from rexnet.store import open_store
    from rexnet.sweep import load_sweep

    spec = load_sweep(write_spec(folder, "serial", units))
    with open_store(db or f"sqlite:///{folder / 'serial.db'}") as store:
        start = time.perf_counter()
        for point in spec.points:
            for seed in spec.seeds:
                run_scenario(store, point.scenarios[seed])
        return time.perf_counter() - start


def swept(folder: Path, units: int, workers: int, db: str | None) -> tuple[float, dict]:
    from rexnet.sweep import load_sweep, run_sweep

    name = f"bench-{workers}w-{int(time.time())}"
    spec = load_sweep(write_spec(folder, name, units))
    url = db or f"sqlite:///{folder / f'main-{workers}.db'}"
    start = time.perf_counter()
    outcome = run_sweep(url, spec, workers=workers)
    return time.perf_counter() - start, outcome


def cluster_cost(workers: int) -> float:
    """Seconds to start a local cluster of ``workers``, import RexNet's task in each, and stop it."""
    from rexnet.sweep.cluster import dask_client

    start = time.perf_counter()
    with dask_client(workers=workers, scheduler=None, jobs=workers) as client:
        client.run(lambda: __import__("rexnet.sweep.task"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=48)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: SQLite files in a temp folder)")
    args = parser.parse_args()
    runs = 4 * len(SEEDS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ref = serial(folder, args.units, args.db)
        print(
            f"{runs} runs x {args.units} units, default scenario; storage: "
            f"{'PostgreSQL' if args.db else 'one SQLite file per run'}",
            flush=True,
        )
        print(f"  serial, in process (no Dask): {ref:7.1f} s", flush=True)
        walls, work = {}, {}
        for workers in args.workers:
            wall, outcome = swept(folder, args.units, workers, args.db)
            assert outcome["completed"] == runs, outcome
            fixed = cluster_cost(workers)
            walls[workers], work[workers] = wall, max(wall - fixed, 1e-9)
            print(
                f"  sweep, {workers} worker(s):        {wall:7.1f} s  ({ref / wall:.2f}x the serial "
                f"reference); cluster start/stop {fixed:.1f} s, runs {work[workers]:.1f} s",
                flush=True,
            )
    if 1 in walls:
        for workers in walls:
            if workers != 1:
                print(
                    f"speed-up {workers} workers vs 1: {walls[1] / walls[workers]:.2f}x wall, "
                    f"{work[1] / work[workers]:.2f}x without the cluster's fixed cost"
                )


if __name__ == "__main__":
    main()
