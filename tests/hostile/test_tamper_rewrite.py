"""Re-chained rewrites of a completed run (the hash chain holds, the head is moved to match):
``rexnet audit`` re-executes the run and names the first forged seq and its type, not the rows
derived from it. On SQLite and PostgreSQL."""

from __future__ import annotations

import orjson
from tamper_helpers import attacker, invoke, rewrite, rows_of, run_id_of, small_run

from rexnet.store import open_store


def audit_names(db: str, seq: int, kind: str) -> str:
    code, out, err = invoke(db, "audit", "honest")
    assert code == 1, out + err
    assert f"FAILED: history differs from its re-execution first at seq {seq} ({kind})" in out
    assert out.count("\n  seq ") <= 3  # the forged row (and its detail), not a cascade
    return out


def test_a_rechained_edit_of_an_order_is_named(db_url):
    small_run(db_url, "honest")
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url, guards_off=True) as conn:
        rows = rows_of(conn, run_id)
        i = next(i for i, r in enumerate(rows) if r[2] == "order_accepted" and '"price":null' not in r[4])
        payload = orjson.loads(rows[i][4])
        payload["price"] += 1  # one tick dearer
        edited = (*rows[i][:4], orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode())
        rewrite(conn, run_id, i, [edited, *rows[i + 1 :]])
    out = audit_names(db_url, i, "order_accepted")
    assert f"seq {i}: the stored order_accepted differs from the re-executed one" in out


def test_a_swap_of_two_events_is_named(db_url):
    small_run(db_url, "honest")
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url, guards_off=True) as conn:
        rows = rows_of(conn, run_id)
        # two neighbours of different types at one instant: the swap keeps time order
        i = next(
            i
            for i in range(1, len(rows) - 1)
            if rows[i][2] != rows[i + 1][2] and rows[i][1] == rows[i + 1][1]
        )
        rewrite(conn, run_id, i, [rows[i + 1], rows[i], *rows[i + 2 :]])
    out = audit_names(db_url, i, rows[i + 1][2])
    assert f"seq {i}: stored {rows[i + 1][2]}, re-execution gives {rows[i][2]}" in out


def test_a_forged_trade_in_the_middle_is_named(db_url):
    small_run(db_url, "honest")
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url, guards_off=True) as conn:
        rows = rows_of(conn, run_id)
        trades = [i for i, r in enumerate(rows) if r[2] == "trade"]
        i = trades[len(trades) // 2]
        payload = orjson.loads(rows[i][4])
        payload["qty"] *= 10  # a second, bigger fill right after a real one
        payload["trade_id"] += 100_000
        forged = (*rows[i][:4], orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode())
        rewrite(conn, run_id, i + 1, [forged, *rows[i + 1 :]])
    out = audit_names(db_url, i + 1, "trade")
    # the settlement rows derived from the forged fill are wrong too, but not listed
    assert "reservation" not in out and "net_cash" not in out


def test_a_forged_settlement_row_is_named_with_its_detail(db_url):
    small_run(db_url, "honest")
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url, guards_off=True) as conn:
        rows = rows_of(conn, run_id)
        i = next(i for i, r in enumerate(rows) if r[2] == "settled" and '"agent":"system"' not in r[4])
        payload = orjson.loads(rows[i][4])
        payload["net_cash"] += 1_000_000
        forged = (*rows[i][:4], orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode())
        rewrite(conn, run_id, i, [forged, *rows[i + 1 :]])
    out = audit_names(db_url, i, "settled")
    assert f"seq {i}: {payload['agent']} unit {payload['unit']} net_cash: expected" in out


def test_an_ingest_without_its_inputs_falls_back_to_the_settlement_recomputation(tmp_path):
    """An ingest recorded before its command stream was kept cannot be re-executed: audit says
    so and still recomputes reservations and settlements from the log."""
    db = f"sqlite:///{tmp_path / 'l.db'}"
    stream = tmp_path / "s.jsonl"
    lines = [
        {
            "t": 0,
            "op": "limit",
            "agent": "a",
            "ref": "o1",
            "side": "sell",
            "unit": 2,
            "price": 40.0,
            "qty": 1.0,
        },
        {
            "t": 1,
            "op": "limit",
            "agent": "b",
            "ref": "o2",
            "side": "buy",
            "unit": 2,
            "price": 40.0,
            "qty": 1.0,
        },
        {"t": 1850, "op": "realize", "agent": "a", "unit": 2, "qty": 0.5},
    ]
    stream.write_text("".join(orjson.dumps(x).decode() + "\n" for x in lines))
    assert invoke(db, "ingest", str(stream), "--name", "honest")[0] == 0
    store = open_store(db)
    honest = store.get_run("honest")
    # (a record of before verify support: neither the journal nor the older embedded list)
    legacy = {k: v for k, v in honest.scenario.items() if k not in ("commands", "journal")}
    for name, forge in (("old", False), ("old-forged", True)):
        run = store.create_run(
            name=name, scenario=legacy, seed=0, code_version=honest.code_version, market=honest.market
        )
        forged_seq = None
        with store.writer(run.run_id) as writer:
            for stored in store.read(honest.run_id):
                event = stored.event()
                if forge and event.TYPE == "settled" and event.agent == "a":
                    event = event._replace(penalty=0, net_cash=event.net_cash + event.penalty)
                    forged_seq = writer.seq + 1
                writer.append([event])
        code, out, _ = invoke(db, "audit", name)
        if forge:
            assert code == 1 and f"seq {forged_seq}: a unit 2 penalty: expected" in out
        else:
            assert code == 0 and "not re-executed: recorded without its inputs" in out
    store.close()
