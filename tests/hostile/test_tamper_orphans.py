"""Event rows of runs that do not exist: refused by the database on every connection (SQLite's
foreign keys are per connection, so a trigger guards them there), and found by ``audit --all``
when forced in past the guards. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tamper_helpers import attacker, invoke, invoke_json, small_run

INSERT = sa.text("INSERT INTO event_log VALUES ('ghost', 0, 0, 'unit_opened', 1, :p, :h)")
ROW = {"p": '{"unit":1}', "h": bytes(32)}


def test_an_orphan_row_is_refused(db_url):
    small_run(db_url, "honest")
    with pytest.raises(sa.exc.DBAPIError, match="no such run|foreign key"):
        with attacker(db_url) as conn:  # a plain connection: SQLite's foreign keys are off on it
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
            conn.execute(INSERT, ROW)


def test_audit_all_finds_orphan_rows_and_audits_every_run(db_url):
    small_run(db_url, "honest")
    small_run(db_url, "second", seed=5)
    report = invoke_json(db_url, "audit", "--all")
    assert [r["verdict"] for r in report["runs"]] == ["ok", "ok"] and report["orphans"] == []
    with attacker(db_url, guards_off=True) as conn:
        conn.execute(INSERT, ROW)
    code, out, err = invoke(db_url, "audit", "--all")
    assert code == 1
    assert "event_log: 1 events (seq 0..0) of run 'ghost', which does not exist" in out
    assert "2 runs: 2 ok, 0 incomplete, 0 failed; 1 unknown run ids in event_log" in out
    assert invoke(db_url, "audit", "--all", "honest")[0] == 2  # --all takes no RUN
    assert invoke(db_url, "audit")[0] == 2
