"""Issue 17: ingesting a million commands, auditing and replaying the run stay under the memory
bound (each measured in a subprocess).

Before the input journal, ``rexnet ingest`` held the whole parsed stream and embedded it in
``run_started``: 1.39 GB at a million commands, growing with the stream. Now memory is the
engine's open state plus one journal chunk and one writer batch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from measure import run_measured  # noqa: E402
from streams import write_stream  # noqa: E402

#: the issue's bound for any command over a run of any length
BOUND_MB = 300


@pytest.mark.slow
def test_a_million_command_ingest_stays_under_the_memory_bound(tmp_path):
    stream = write_stream(tmp_path / "m.jsonl", 1_000_000, seed=1)
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    done = run_measured(["--db", db, "ingest", str(stream), "--name", "m", "--format", "json"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["events"] > 1_000_000
    assert done.peak_mb < BOUND_MB, f"peak {done.peak_mb:.0f} MB"
    # the record holds metadata, not the stream (it was 50 MB at this length)
    from rexnet.store import open_store

    store = open_store(db)
    try:
        record = store.get_run("m").scenario
    finally:
        store.close()
    assert record["journal"]["commands"] == 1_000_000 and len(json.dumps(record)) < 1000
    # audit re-executes the journal as a stream; replay folds the 2M-event history
    for command in (["audit", "m"], ["replay", "m"]):
        done = run_measured(["--db", db, *command])
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        assert done.peak_mb < BOUND_MB, f"{command[0]}: peak {done.peak_mb:.0f} MB"
