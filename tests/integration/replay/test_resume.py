"""``rexnet resume``: a run killed with SIGKILL mid-way continues to the uninterrupted result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from replay_cli import invoke, invoke_json

from rexnet.store import open_store

UNITS = "24"


def start_run(db: str, name: str) -> subprocess.Popen:
    env = {**os.environ, "REXNET_BATCH_SIZE": "97"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rexnet.cli",
            "--db",
            db,
            "run",
            "--units",
            UNITS,
            "--seed",
            "4",
            "--name",
            name,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def head_seq(db: str, name: str) -> int:
    store = open_store(db)
    try:
        return store.get_run(name).head_seq
    except Exception:  # noqa: BLE001 - the run row may not exist yet
        return -1
    finally:
        store.close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    db = f"sqlite:///{tmp_path_factory.mktemp('full') / 'ledger.db'}"
    return invoke_json(db, "run", "--units", UNITS, "--seed", "4")


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [150, 2500, 6000])
def test_kill_9_then_resume_gives_the_uninterrupted_head(tmp_path, uninterrupted, kill_after):
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    proc = start_run(db, "x")
    deadline = time.monotonic() + 60
    try:
        while head_seq(db, "x") < kill_after:
            assert proc.poll() is None, "the run finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    run = open_store(db).get_run("x")
    assert run.status == "running" and kill_after <= run.head_seq < uninterrupted["events"] - 1
    summary = invoke_json(db, "resume", "x")
    assert summary["resumed"] and summary["appended"] == uninterrupted["events"] - run.head_seq - 1
    assert (summary["events"], summary["head_hash"]) == (uninterrupted["events"], uninterrupted["head_hash"])
    # the summary covers the whole history, not only the appended part
    assert (summary["trades"], summary["penalties"]) == (uninterrupted["trades"], uninterrupted["penalties"])
    run = open_store(db).get_run("x")
    assert run.status == "completed" and run.head_hash.hex() == uninterrupted["head_hash"]
    assert invoke(db, "audit", "x")[0] == 0
    code, out, _ = invoke(db, "replay", "x", "--verify")
    assert code == 0 and f"verified {uninterrupted['events']} events" in out
    # resuming again: nothing to do, exit 0
    code, out, _ = invoke(db, "resume", "x")
    assert code == 0 and "already completed" in out


def test_resume_of_a_killed_fork(parent_db):
    """A fork cut short (simulated: its writer stopped after a few batches) resumes to the full fork."""
    from rexnet.app.operations import fork_run
    from rexnet.replay.fork import with_change
    from rexnet.replay.history import read_history
    from rexnet.replay.rerun import Rerun, Sink

    db, parent = parent_db
    store = open_store(db)
    p = store.get_run("p")
    full = fork_run(store, p, at_time=9000, sets=["population.wind.capacity_kw=3.0"])
    # the same fork again, written only up to some events past the fork point
    record = with_change(
        p.scenario, {"at_ms": 9_000_000, "set": {"population[3].capacity_kw": 3.0}, "shocks": []}
    )
    cut = store.create_run(
        name="cut",
        scenario=record,
        seed=p.seed,
        code_version=p.code_version,
        market=p.market,
        parent_run_id=p.run_id,
        fork_seq=full.fork_seq,
    )
    writer = store.writer(cut.run_id, batch_size=50)

    class Partial:
        def append(self, events):
            if writer.seq < full.fork_seq + 400:
                writer.append(events)

    rerun = Rerun.for_run(store, cut)
    rerun.run(Sink(read_history(store, p, to_seq=full.fork_seq), full.fork_seq, writer=Partial()))
    writer.flush()
    assert store.get_run("cut").status == "running"
    summary = invoke_json(db, "resume", "cut")
    assert (summary["events"], summary["head_hash"]) == (full.events, full.head_hash)


def test_resume_errors(parent_db):
    db, _ = parent_db
    code, _, err = invoke(db, "resume", "no-such-run")
    assert code == 2 and "no run" in err
