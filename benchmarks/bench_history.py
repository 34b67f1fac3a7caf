"""Long histories: time and peak memory of the reading commands, and as-of reads with and without
persisted snapshots.

Usage::

    python benchmarks/bench_history.py [--sizes 100000 1000000] [--repeat 3] [--keep DIR]
                                       [--commands replay audit verify book accounts]

For each size a simulated run of about that many events (the default scenario, 60 prosumers,
``size / 400`` quarter-hour units, i.e. days on end) is recorded into a fresh SQLite ledger (or
found in ``--keep DIR`` from an earlier call). Then, each command in its own process:

* ``rexnet replay``, ``rexnet audit`` and ``rexnet replay --verify``: wall time and peak RSS
  (the process and its children: replay's chain check runs in a forked child);
* ``rexnet book --time T`` / ``accounts --time T`` with ``T`` an hour before the run's end, on the
  ledger as recorded (persisted snapshots every ``EVERY`` events) and on a copy whose snapshots
  were deleted (a fold from seq 0, as before persisted snapshots): the command's wall time
  (start-up included) and the read itself timed inside the process (``state_as_of``), rounds
  interleaved, best and median.

Not a test: prints figures (no thresholds; the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import OWN_PEAK  # noqa: E402

#: runs a CLI command in this process; prints wall seconds and peak RSS (KB, with children) to stderr
WRAP = (
    OWN_PEAK
    + r"""
import sys, time
t = time.perf_counter()
from rexnet.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="rexnet", standalone_mode=True)
except SystemExit as done:
    code = done.code
else:
    code = 0
wall = time.perf_counter() - t
rss = max(_own_peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(f"##measure {code} {wall:.3f} {rss}", file=sys.stderr)
"""
)

#: times the as-of read itself (no CLI start-up), with the snapshots it can use
READ = (
    OWN_PEAK
    + r"""
import json, sys, time
from rexnet.store import open_store
from rexnet.replay.projection import state_as_of
store = open_store(sys.argv[1], read_only=True)
run = store.get_run(sys.argv[2])
t = time.perf_counter()
engine, accounts = state_as_of(store, run, at_time=float(sys.argv[3]))
wall = time.perf_counter() - t
print(json.dumps({"read_s": wall, "rss_kb": _own_peak_kb()}))
"""
)


def measure(url: str, *args: str) -> tuple[int, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", WRAP, "--db", url, *args], capture_output=True, text=True, check=False
    )
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("##measure")][-1]
    _, code, wall, rss = line.split()
    return int(code), float(wall), int(rss)


def read_time(url: str, run_id: str, t: float) -> float:
    out = subprocess.run(
        [sys.executable, "-c", READ, url, run_id, str(t)], capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout)["read_s"])


def ledger(size: int, folder: Path) -> tuple[str, dict]:
    """A ledger with one simulated run of about ``size`` events (made once, kept in ``folder``)."""
    path = folder / f"history-{size}.db"
    url = f"sqlite:///{path}"
    info = folder / f"history-{size}.json"
    if info.exists() and path.exists():
        return url, json.loads(info.read_text())
    units = max(4, size // 400)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "rexnet.cli", "--db", url, "run", "--units", str(units), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    summary["record_s"] = time.perf_counter() - start
    info.write_text(json.dumps(summary))
    return url, summary


def without_snapshots(path: Path) -> str:
    copy = path.with_name(path.stem + "-nosnap.db")
    if not copy.exists():
        con = sqlite3.connect(path)
        con.execute(f"VACUUM INTO '{copy}'")
        con.close()
        con = sqlite3.connect(copy)
        con.execute("DELETE FROM snapshots")
        con.commit()
        con.close()
    return f"sqlite:///{copy}"


def fmt(values: list[float]) -> str:
    return f"best {min(values):7.3f} s  median {statistics.median(values):7.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the ledgers in this folder")
    parser.add_argument(
        "--commands",
        nargs="+",
        default=["replay", "audit", "verify", "book", "accounts"],
        choices=["replay", "audit", "verify", "book", "accounts"],
    )
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory() if args.keep is None else None
    folder = args.keep or Path(tmp.name)  # type: ignore[union-attr]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for size in args.sizes:
            url, run = ledger(size, folder)
            run_id, events = run["run_id"], run["events"]
            end_s = (max(4, size // 400)) * 900
            at = end_s - 3600
            print(f"\n== {events} events (run {run_id}; recorded in {run.get('record_s', 0):.1f} s)")
            for name, argv in (
                ("replay", ["replay", run_id]),
                ("audit", ["audit", run_id]),
                ("verify", ["replay", run_id, "--verify"]),
            ):
                if name in args.commands:
                    code, wall, rss = measure(url, *argv)
                    print(
                        f"rexnet {' '.join(argv[:1] + argv[2:]):18s} exit {code}  {wall:8.2f} s  "
                        f"peak RSS {rss / 1024:7.1f} MB"
                    )
            bare = without_snapshots(Path(url.removeprefix("sqlite:///")))
            for name in ("book", "accounts"):
                if name not in args.commands:
                    continue
                argv = [name, run_id, "--time", str(at)] + (
                    ["--unit", str(at // 900 + 2)] if name == "book" else []
                )
                walls: dict[str, list[float]] = {"with": [], "without": []}
                reads: dict[str, list[float]] = {"with": [], "without": []}
                rss: dict[str, int] = {}
                for _ in range(args.repeat):  # interleaved
                    for label, where in (("with", url), ("without", bare)):
                        code, wall, peak = measure(where, *argv)
                        walls[label].append(wall)
                        rss[label] = peak
                        reads[label].append(read_time(where, run_id, at))
                for label in ("with", "without"):
                    print(
                        f"rexnet {name} --time {at} {label:7s} persisted snapshots: "
                        f"command {fmt(walls[label])}; "
                        f"read alone {fmt(reads[label])}; peak RSS {rss[label] / 1024:.1f} MB"
                    )
                best = min(reads["without"]) / max(min(reads["with"]), 1e-9)
                print(f"  read speed-up with snapshots (best/best): {best:.0f}x")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
