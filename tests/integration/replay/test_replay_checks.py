"""``rexnet replay`` checks the chain (on the other core for long runs) and names bad rows."""

from __future__ import annotations

import sqlite3

import pytest
from replay_cli import invoke, invoke_json, recorded_run

from rexnet.domain.events import OrderCancelled
from rexnet.replay import background
from rexnet.replay.background import ChainCheck
from rexnet.replay.history import check_chain, read_history
from rexnet.store import open_store


def tampered_copy(parent_db, tmp_path) -> tuple[str, int]:
    """A copy of the ledger with one payload byte of the first trade changed (triggers dropped)."""
    db, _ = parent_db
    path = tmp_path / "tampered.db"
    con = sqlite3.connect(path)
    with sqlite3.connect(db.removeprefix("sqlite:///")) as source:  # (a WAL file is not one file)
        source.backup(con)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    seq, payload = con.execute(
        "SELECT seq, payload FROM event_log WHERE type = 'trade' ORDER BY seq"
    ).fetchone()
    changed = payload.replace('"qty":', '"qty":1', 1)
    assert changed != payload
    con.execute("UPDATE event_log SET payload = ? WHERE seq = ?", (changed, seq))
    con.commit()
    con.close()
    return f"sqlite:///{path}", seq


def test_forked_check_equals_the_inline_check(parent_db, tmp_path):
    db, _ = parent_db
    store = open_store(db)
    run = store.get_run("p")
    check = ChainCheck(store, run, min_events=0)
    assert check.forked
    assert check.result() is None and check_chain(store, run) is None

    bad_db, seq = tampered_copy(parent_db, tmp_path)
    bad_store = open_store(bad_db)
    bad_run = bad_store.get_run("p")
    check = ChainCheck(bad_store, bad_run, min_events=0)
    assert check.forked
    assert check.result() == seq == check_chain(bad_store, bad_run)
    assert not ChainCheck(bad_store, bad_run).forked  # a short run is checked in the caller


@pytest.mark.parametrize("min_events", [0, 10**9], ids=["forked", "inline"])
def test_replay_of_a_tampered_log_names_the_seq(parent_db, tmp_path, monkeypatch, min_events):
    monkeypatch.setattr(background, "MIN_EVENTS", min_events)
    bad_db, seq = tampered_copy(parent_db, tmp_path)
    code, out, err = invoke(bad_db, "replay", "p")
    assert code == 1
    assert f"hash chain broken at seq {seq}" in err + out


def test_a_row_that_cannot_be_applied_is_named(parent_db):
    """A log written through the store API (so its chain holds) with a cancel of an unknown order."""
    db, _ = parent_db
    store = open_store(db)
    p = store.get_run("p")
    events = [r.event() for r in read_history(store, p, to_seq=200)]
    bogus = OrderCancelled(events[-1].t, 99_999_999, "nobody", 9, 100, "requested")
    recorded_run(store, p, "unappliable", [*events, bogus])
    for args in (["replay", "unappliable"], ["book", "unappliable", "--unit", "9"]):
        code, out, err = invoke(db, *args)
        assert code == 1, (args, out, err)
        assert "seq 201 (order_cancelled) cannot be applied to the state before it" in err + out
        assert "Traceback" not in err + out


def test_forked_check_leaves_the_parents_connections_working(db_url):
    """The child opens its own pool; the parent's pooled connection (a live PostgreSQL session,
    or SQLite's file handles) must still serve the parent afterwards."""
    summary = invoke_json(db_url, "run", "--units", "3", "--seed", "4", "--name", "r")
    store = open_store(db_url)
    run = store.get_run("r")  # the pool now holds a connection the child inherits
    for _ in range(2):
        check = ChainCheck(store, run, min_events=0)
        assert check.forked
        assert check.result() is None
        assert store.head(run.run_id)[1].hex() == summary["head_hash"]  # the parent's pool still works
    assert sum(1 for _ in read_history(store, run)) == summary["events"]
    store.close()
