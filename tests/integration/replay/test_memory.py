"""Memory of the history commands on a long run stays bounded (issue 17): ``audit``, ``replay``,
``replay --verify``, ``fork``, ``resume``, ``book`` and ``accounts``, each measured in its own
process (peak RSS of it and its children: replay checks the chain in a forked child).

The run is simulated once per session: the default scenario over :data:`UNITS` quarter-hours
(days on end, a quarter of a million events), so that anything kept per event or per unit of
history would show; the bound is the issue's 300 MB. A short run of the same scenario is
measured too: the long run may not cost much more than it (what grows is history, not state).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rexnet.replay.history import read_history
from rexnet.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from measure import OWN_PEAK  # noqa: E402

pytestmark = pytest.mark.slow

UNITS = 640  # ~250k events
SHORT_UNITS = 24
BOUND_MB = 300
#: what the long run may cost beyond the short one (allocator noise, a larger open state at times)
GROWTH_MB = 40

WRAP = (
    OWN_PEAK
    + r"""
import resource, sys
from rexnet.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="rexnet", standalone_mode=True)
except SystemExit as done:
    code = done.code
else:
    code = 0
rss = max(_own_peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(f"##measure {code} {rss}", file=sys.stderr)
"""
)


def peak_mb(db: str, *args: str) -> float:
    """Peak RSS (MB) of one CLI command in a fresh process; the command must succeed."""
    out = subprocess.run([sys.executable, "-c", WRAP, "--db", db, *args], capture_output=True, text=True)
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("##measure")]
    assert line, out.stderr[-2000:]
    _, code, rss = line[-1].split()
    assert code in ("0", "None"), out.stderr[-2000:]
    return int(rss) / 1024


def _record(db: str, units: int, name: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rexnet.cli",
            "--db",
            db,
            "run",
            "--units",
            str(units),
            "--name",
            name,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def long_ledger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memory")
    db = f"sqlite:///{folder / 'ledger.db'}"
    runs = {"long": _record(db, UNITS, "long"), "short": _record(db, SHORT_UNITS, "short")}
    # a copy of each run cut short (a crash), for resume
    store = open_store(db)
    for name in ("long", "short"):
        run = store.get_run(name)
        cut = store.create_run(
            name=f"{name}-cut",
            scenario=run.scenario,
            seed=run.seed,
            code_version=run.code_version,
            market=run.market,
        )
        with store.writer(cut.run_id) as writer:
            writer.append(r.event() for r in read_history(store, run, to_seq=run.head_seq // 2))
        store.set_status(cut.run_id, "failed", reason="cut for the test")
    store.close()
    return db, runs


COMMANDS = {
    "replay": lambda name, end: ["replay", name],
    "replay --verify": lambda name, end: ["replay", name, "--verify"],
    "audit": lambda name, end: ["audit", name],
    "book": lambda name, end: ["book", name, "--unit", str(int(end // 900) + 1), "--time", str(end - 1800)],
    "accounts": lambda name, end: ["accounts", name, "--time", str(end - 1800)],
    "fork": lambda name, end: [
        "fork",
        name,
        "--time",
        str(end - 3600),
        "--set",
        "run.price_prior=55",
        "--name",
        f"{name}-fork",
    ],
    "resume": lambda name, end: ["resume", f"{name}-cut"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_memory_is_bounded_on_a_long_run(long_ledger, command):
    db, runs = long_ledger
    assert runs["long"]["events"] > 200_000
    peaks = {}
    for name, units in (("long", UNITS), ("short", SHORT_UNITS)):
        peaks[name] = peak_mb(db, *COMMANDS[command](name, units * 900.0))
    assert peaks["long"] < BOUND_MB, peaks
    assert peaks["long"] - peaks["short"] < GROWTH_MB, peaks
