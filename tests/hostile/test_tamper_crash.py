"""Honest faults are not tampering: a run killed with SIGKILL at several moments (early, in the
middle of a settlement batch, after its last event but before its status) is "incomplete,
resumable" to ``rexnet audit`` (exit 0), never a discrepancy, and ``rexnet resume`` brings it to
the uninterrupted head. On SQLite and PostgreSQL.

The kill is deterministic: the child process wraps the writer's flush (or the status update) to
SIGKILL itself once a chosen seq is committed, exactly as an outside ``kill -9`` would stop it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from tamper_helpers import attacker, invoke, invoke_json, rows_of

ARGS = ("run", "--units", "2", "--seed", "3", "--name", "x")

#: the child: ``python -c CHILD TARGET DB ARGS...``; TARGET < 0 kills at the status update
CHILD = """
import os, signal, sys
from rexnet.store.event_store import EventStore
from rexnet.store.writer import RunWriter

target = int(sys.argv[1])
flush, set_status = RunWriter.flush, EventStore.set_status

def killing_flush(self):
    flush(self)
    if 0 <= target <= self.committed_seq:
        os.kill(os.getpid(), signal.SIGKILL)

def killing_status(self, run_id, status):
    if target < 0 and status == "completed":
        os.kill(os.getpid(), signal.SIGKILL)
    set_status(self, run_id, status)

RunWriter.flush, EventStore.set_status = killing_flush, killing_status
from rexnet.cli import cli
cli.main(args=["--db", *sys.argv[2:]], prog_name="rexnet")
"""


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[dict, list[str]]:
    """The run, uninterrupted: its summary and the type of each event."""
    db = f"sqlite:///{tmp_path_factory.mktemp('full') / 'ledger.db'}"
    summary = invoke_json(db, *ARGS)
    with attacker(db) as conn:
        types = [row[2] for row in rows_of(conn, summary["run_id"])]
    return summary, types


def kill_at(db: str, target: int) -> None:
    env = {**os.environ, "REXNET_BATCH_SIZE": "5"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(target), db, *ARGS], env=env, capture_output=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["early", "mid-settlement", "before-status"])
def test_an_honest_kill_is_incomplete_and_resumable(db_url, uninterrupted, moment):
    summary, types = uninterrupted
    first_settled = types.index("settled")
    target = {"early": 100, "mid-settlement": first_settled + 12, "before-status": -1}[moment]
    kill_at(db_url, target)
    run = invoke_json(db_url, "runs")[0]
    assert run["status"] == "running"
    head = run["events"] - 1
    if moment == "mid-settlement":  # the cut lies inside a batch of settled rows
        assert types[head] == "settled" and types[head + 1] == "settled"
    if moment == "before-status":
        assert head == summary["events"] - 1
    code, out, err = invoke(db_url, "audit", "x")
    assert code == 0, out + err
    assert "incomplete, resumable" in out and "FAILED" not in out and "discrepanc" not in out + err
    report = invoke_json(db_url, "audit", "x")
    assert report["verdict"] == "incomplete" and report["ok"]
    resumed = invoke_json(db_url, "resume", "x")
    assert (resumed["events"], resumed["head_hash"]) == (summary["events"], summary["head_hash"])
    code, out, _ = invoke(db_url, "audit", "x")
    assert code == 0 and out.startswith(f"run {run['run_id']}: ok (")
