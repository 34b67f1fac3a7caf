"""A forged tail: a chained event after ``run_completed``, refused by the database (migration
0005) and, forced in past the guards, named by ``rexnet audit`` at its own seq."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa
from tamper_helpers import attacker, invoke, rewrite, rows_of, run_id_of, small_run

from rexnet.domain.codec import chain_hash
from rexnet.domain.events import UnitOpened
from rexnet.domain.market import MarketSpec
from rexnet.store import open_store


def forged_trade(rows: list) -> tuple:
    """A copy of the log's first trade, re-timed to the end of the log, as a (seq-less) row."""
    trade = next(r for r in rows if r[2] == "trade")
    payload = orjson.loads(trade[4])
    payload["buyer"] = "mallory"
    return (None, rows[-1][1], "trade", trade[3], orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode())


def test_the_database_refuses_a_chained_tail_after_run_completed(db_url):
    small_run(db_url, "honest")
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url) as conn:
        rows = rows_of(conn, run_id)
        head = conn.execute(
            sa.text("SELECT head_seq, head_hash FROM runs WHERE run_id = :r"), {"r": run_id}
        ).one()
    assert rows[-1][2] == "run_completed" and head[0] == rows[-1][0]
    _, t_ms, kind, version, payload = forged_trade(rows)
    seq = head[0] + 1
    chained = chain_hash(bytes(head[1]), seq, t_ms, kind, version, payload.encode())
    with pytest.raises(sa.exc.DBAPIError, match="closed after run_completed"):
        with attacker(db_url) as conn:
            conn.execute(
                sa.text("INSERT INTO event_log VALUES (:r, :s, :t, :k, :v, :p, :h)"),
                {"r": run_id, "s": seq, "t": t_ms, "k": kind, "v": version, "p": payload, "h": chained},
            )
    with pytest.raises(sa.exc.DBAPIError, match="head of a completed run cannot move"):
        with attacker(db_url) as conn:
            conn.execute(
                sa.text("UPDATE runs SET head_seq = :s, head_hash = :h, events = :n WHERE run_id = :r"),
                {"r": run_id, "s": seq, "h": chained, "n": seq + 1},
            )
    code, out, _ = invoke(db_url, "audit", "honest")
    assert code == 0 and "ok (" in out


@pytest.mark.parametrize("move_head", [True, False], ids=["head-moved", "head-kept"])
def test_a_forced_tail_is_named_by_audit(db_url, move_head):
    small_run(db_url, "honest")
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url, guards_off=True) as conn:
        rows = rows_of(conn, run_id)
        seq = len(rows)
        if move_head:
            rewrite(conn, run_id, seq, [forged_trade(rows)])
        else:  # the row alone, chained, and the runs row left as it was
            _, t_ms, kind, version, payload = forged_trade(rows)
            prev = bytes(
                conn.execute(sa.text("SELECT head_hash FROM runs WHERE run_id = :r"), {"r": run_id}).scalar()
            )
            conn.execute(
                sa.text("INSERT INTO event_log VALUES (:r, :s, :t, :k, :v, :p, :h)"),
                {
                    "r": run_id,
                    "s": seq,
                    "t": t_ms,
                    "k": kind,
                    "v": version,
                    "p": payload,
                    "h": chain_hash(prev, seq, t_ms, kind, version, payload.encode()),
                },
            )
    code, out, err = invoke(db_url, "audit", "honest")
    assert code == 1, out + err
    if move_head:  # a chain that holds: re-execution names the appended row
        assert f"first at seq {seq} (trade)" in out
        assert f"seq {seq}: stored trade, but re-execution ends before it" in out + err
    else:  # the runs row disagrees with the log
        assert f"hash chain broken at seq {seq}" in out
    assert "discrepanc" not in out  # the derived rows are not listed


def test_the_database_refuses_a_row_below_the_last_seq(db_url):
    """Honest writers append in seq order, so a row below a run's last seq is a forgery."""
    store = open_store(db_url)
    run = store.create_run(name="r", scenario={}, seed=1, code_version="t", market=MarketSpec().to_record())
    with store.writer(run.run_id) as writer:
        writer.append([UnitOpened(0, 1), UnitOpened(0, 2)])
    store.close()
    with pytest.raises(sa.exc.DBAPIError, match="appended in seq order"):
        with attacker(db_url) as conn:
            conn.execute(
                sa.text("INSERT INTO event_log VALUES (:r, -1, 0, 'unit_opened', 1, :p, :h)"),
                {"r": run.run_id, "p": '{"unit":3}', "h": bytes(32)},
            )


def test_the_database_refuses_rows_after_run_completed_within_one_statement(db_url):
    """The PostgreSQL guard runs once per statement (a writer's COPY batch): rows that follow a
    run_completed inside the same statement are refused as well."""
    store = open_store(db_url)
    run = store.create_run(name="r", scenario={}, seed=1, code_version="t", market=MarketSpec().to_record())
    store.close()
    closing = '{"events":0,"head_hash":""}'
    with pytest.raises(sa.exc.DBAPIError, match="closed after run_completed"):
        with attacker(db_url) as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO event_log VALUES (:r, 0, 0, 'run_completed', 1, :c, :h), "
                    "(:r, 1, 0, 'unit_opened', 1, :p, :h)"
                ),
                {"r": run.run_id, "c": closing, "p": '{"unit":1}', "h": bytes(32)},
            )
