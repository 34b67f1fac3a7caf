"""``rexnet replay [--verify]``: the summary from the log, and divergence detection."""

from __future__ import annotations

import json

import pytest
from replay_cli import invoke, invoke_json, recorded_run

from rexnet.replay.history import read_history
from rexnet.store import open_store


def test_replay_summary(parent_db):
    db, parent = parent_db
    s = invoke_json(db, "replay", "p")
    assert (s["events"], s["head_hash"]) == (parent["events"], parent["head_hash"])
    assert s["trades"] == parent["trades"] and s["units_settled"] == 6
    assert s["accounts_total_cash"] == 0  # money is conserved
    assert s["open_orders"] >= 0 and s["status"] == "completed" and "verify" not in s
    code, out, _ = invoke(db, "replay", "p", "--verify")
    assert code == 0 and out.strip().endswith(f"verified {parent['events']} events")
    v = invoke_json(db, "replay", "p", "--verify")["verify"]
    assert v == {
        "run_id": parent["run_id"],
        "verified": parent["events"],
        "head_hash": parent["head_hash"],
        "complete": True,
    }


def forged_copy(store, source, name: str, change) -> str:
    """A run recorded through the store API with ``change(seq, event)`` applied to every event."""
    return recorded_run(store, source, name, (change(r.seq, r.event()) for r in read_history(store, source)))


@pytest.mark.parametrize("target", [0, 1, 777, "last"])
def test_verify_names_the_first_diverging_seq(parent_db, target):
    db, parent = parent_db
    store = open_store(db)
    p = store.get_run("p")
    seq = parent["events"] - 1 if target == "last" else target
    rows = list(read_history(store, p, from_seq=seq, to_seq=seq))
    original = rows[0].event()
    # a different event in its place: an event of another type taken from elsewhere in the log
    other = next(
        r.event() for r in read_history(store, p) if r.type != original.TYPE and r.type != "run_started"
    )
    other = other._replace(t=original.t)
    run_id = forged_copy(store, p, f"forged-{target}", lambda s, e: other if s == seq else e)
    assert invoke(db, "audit", run_id)[0] in (0, 1)  # the chain itself is intact: it was written so
    code, _, err = invoke(db, "replay", run_id, "--verify")
    assert code == 1, err
    assert f"diverges at seq {seq}: stored {other.TYPE}, re-simulated {original.TYPE}" in err


def test_verify_detects_a_changed_value(parent_db):
    db, _ = parent_db
    store = open_store(db)
    p = store.get_run("p")
    first_trade = next(read_history(store, p, types={"trade"}))
    run_id = forged_copy(
        store, p, "forged-qty", lambda s, e: e._replace(qty=e.qty + 1) if s == first_trade.seq else e
    )
    code, _, err = invoke(db, "replay", run_id, "--verify", "--format", "json")
    assert code == 1 and f"seq {first_trade.seq}: stored trade, re-simulated trade" in err


def test_verify_of_a_truncated_log(parent_db):
    """A run whose stored log stops early (never completed) verifies its prefix and says so."""
    db, _ = parent_db
    store = open_store(db)
    p = store.get_run("p")
    part = store.create_run(
        name="partial", scenario=p.scenario, seed=p.seed, code_version=p.code_version, market=p.market
    )
    w = store.writer(part.run_id)
    w.append(r.event() for r in read_history(store, p, to_seq=1234))
    w.flush()
    code, out, _ = invoke(db, "replay", "partial", "--verify")
    assert code == 0 and "verified 1235 events (the run is incomplete" in out


def test_ingest_runs_verify_and_resume(tmp_path):
    db = f"sqlite:///{tmp_path / 'i.db'}"
    stream = tmp_path / "c.jsonl"
    lines = [
        {
            "t": 0.0,
            "op": "limit",
            "agent": "a",
            "ref": "o1",
            "side": "sell",
            "unit": 2,
            "price": 40.0,
            "qty": 1.5,
        },
        {"t": 1.0, "op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5},
        {
            "t": 1.5,
            "op": "limit",
            "agent": "b",
            "ref": "o4",
            "side": "buy",
            "unit": 3,
            "price": 40.005,
            "qty": 1,
        },
        {"t": 2.0, "op": "cancel", "agent": "a", "ref": "o1"},
        {"t": 3.0, "op": "shrink", "agent": "a", "ref": "o3", "qty": 0.2},
        {
            "t": 4.0,
            "op": "set",
            "agent": "c",
            "ref": "s1",
            "side": "buy",
            "units": [3, 4],
            "price": 55.0,
            "qty": 1.0,
        },
        {"t": 1900.0, "op": "realize", "agent": "a", "unit": 2, "qty": 1.1},
    ]
    stream.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    run = invoke_json(db, "ingest", str(stream), "--name", "ing")
    store = open_store(db)
    info = store.get_run("ing")
    assert info.scenario["journal"]["commands"] == 7 and info.scenario["lines"] == 7
    assert "commands" not in info.scenario  # the inputs are in the journal, not in run_started
    code, out, _ = invoke(db, "replay", "ing", "--verify")
    assert code == 0 and f"verified {run['events']} events" in out
    # an ingest run cut short resumes from its record
    cut = store.create_run(
        name="cut", scenario=info.scenario, seed=0, code_version=info.code_version, market=info.market
    )
    store.append_journal(cut.run_id, store.journal_rows(info.run_id))  # its inputs, as ingest stores them
    w = store.writer(cut.run_id)
    w.append(r.event() for r in read_history(store, info, to_seq=10))
    w.flush()
    s = invoke_json(db, "resume", "cut")
    assert (s["events"], s["head_hash"]) == (run["events"], run["head_hash"]) and s["appended"] == run[
        "events"
    ] - 11
