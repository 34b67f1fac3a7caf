"""A damaged ledger is a failed check (exit 1), not bad input: a dropped ``event_log`` (SQLite
and PostgreSQL) or a corrupt page (SQLite). Exit 2 stays for a bad run id or option."""

from __future__ import annotations

import sqlite3

from tamper_helpers import attacker, invoke, small_run


def test_a_dropped_event_log_is_exit_1(db_url):
    small_run(db_url, "honest")
    with attacker(db_url) as conn:
        conn.exec_driver_sql(
            "DROP TABLE event_log" + (" CASCADE" if conn.dialect.name == "postgresql" else "")
        )
    for args in (["audit", "honest"], ["replay", "honest", "--verify"], ["events", "honest"]):
        code, out, err = invoke(db_url, *args)
        assert code == 1, (args, out, err)
        assert "the ledger is damaged" in err and "Traceback" not in out + err
    code, out, err = invoke(db_url, "audit", "--all")
    assert code == 1 and "the ledger is damaged" in out + err


def test_a_corrupt_page_is_exit_1(tmp_path):
    path = tmp_path / "ledger.db"
    db = f"sqlite:///{path}"
    small_run(db, "honest")
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    size = con.execute("PRAGMA page_size").fetchone()[0]
    # a leaf page of event_log in the middle of the run, overwritten with garbage
    leaves = [
        n for (n,) in con.execute("SELECT pageno FROM dbstat WHERE name = 'event_log' AND pagetype = 'leaf'")
    ]
    con.close()
    with open(path, "r+b") as handle:
        handle.seek((leaves[len(leaves) // 2] - 1) * size)
        handle.write(b"\x07" * size)
    code, out, err = invoke(db, "audit", "honest")
    assert code == 1, out + err
    assert "database disk image is malformed (the ledger is damaged)" in err


def test_bad_input_stays_exit_2(db_url):
    small_run(db_url, "honest")
    assert invoke(db_url, "audit", "no-such-run")[0] == 2
    assert invoke(db_url, "audit", "honest", "--format", "xml")[0] == 2
    assert invoke(db_url, "audit", "honest", "--all")[0] == 2
