"""`rexnet ingest`, `book`, `accounts`, `events` and `audit` end to end on a hand-worked stream."""

import json
import sqlite3
from decimal import Decimal

import pytest
from click.testing import CliRunner

from rexnet.cli import cli

STREAM = [
    {"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40.0, "qty": 1.5},
    {"t": 1, "op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5},
    {"t": 2, "op": "limit", "agent": "c", "ref": "o3", "side": "buy", "unit": 2, "price": 39, "qty": 1.0},
    {"t": 3, "op": "shrink", "agent": "a", "ref": "o1", "qty": 0.2},
    {"t": 4, "op": "limit", "agent": "d", "ref": "o4", "side": "sell", "unit": 99, "price": 40, "qty": 1},
    {"t": 5, "op": "limit", "agent": "e", "ref": "o5", "side": "sell", "unit": 2, "price": 40.005, "qty": 1},
    {"t": 1900, "op": "realize", "agent": "a", "unit": 2, "qty": 0.4},
    {"t": 1901, "op": "realize", "agent": "b", "unit": 2, "qty": -0.5},
]


def invoke(db, *args):
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


@pytest.fixture
def stream_file(tmp_path):
    path = tmp_path / "cmds.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in STREAM))
    return path


@pytest.fixture
def ingested(sqlite_url, stream_file):
    result = invoke(sqlite_url, "ingest", str(stream_file), "--name", "demo", "--format", "json")
    assert result.exit_code == 0, result.output
    return sqlite_url, json.loads(result.output)


def events_of(db, run, *types):
    args = ["events", run, "--format", "jsonl"] + [a for t in types for a in ("--type", t)]
    result = invoke(db, *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_ingest_prints_run_id_events_and_head_hash(ingested):
    db, summary = ingested
    assert set(summary) >= {"run_id", "events", "head_hash"} and len(summary["head_hash"]) == 64
    runs = json.loads(invoke(db, "runs", "--format", "json").output)
    assert [(r["name"], r["status"], r["events"]) for r in runs] == [("demo", "completed", summary["events"])]


def test_hand_worked_trade_rejections_and_reservations(ingested):
    db, _ = ingested
    trades = events_of(db, "demo", "trade")
    assert [(t["price"], t["qty"], t["buyer"], t["seller"], t["aggressor"]) for t in trades] == [
        (40, 0.5, "b", "a", "buy")
    ]
    rejected = events_of(db, "demo", "order_rejected")
    assert [(r["agent"], r["reason"]) for r in rejected] == [("d", "unit_not_open"), ("e", "off_tick")]
    reservations = events_of(db, "demo", "reservation_fixed")
    assert sorted((r["agent"], r["qty"]) for r in reservations) == [("a", 0.5), ("b", -0.5)]
    expired = events_of(db, "demo", "order_expired")
    assert sorted((e["agent"], e["remaining"]) for e in expired) == [("a", 0.2), ("c", 1.0)]
    gate = [g for g in events_of(db, "demo", "gate_closed") if g["unit"] == 2]
    assert (gate[0]["volume"], gate[0]["vwap"], gate[0]["t"]) == (0.5, 40, 1800)


def test_settlement_hand_worked(ingested):
    db, _ = ingested
    rows = {s["agent"]: s for s in events_of(db, "demo", "settled") if s["unit"] == 2}
    # a sold 0.5 kW at 40/MWh for 15 min (+0.005), realized 0.4: shortfall 0.1 kW at 3000/MWh
    assert (rows["a"]["trade_cash"], rows["a"]["shortfall"], rows["a"]["penalty"]) == (0.005, 0.1, 0.075)
    assert rows["a"]["net_cash"] == -0.07
    assert (rows["b"]["trade_cash"], rows["b"]["shortfall"], rows["b"]["net_cash"]) == (-0.005, 0, -0.005)
    assert rows["system"]["net_cash"] == 0.075
    assert sum(Decimal(str(r["net_cash"])) for r in rows.values()) == 0


def test_book_as_of_seq_and_time(ingested):
    db, _ = ingested
    at_2s = json.loads(invoke(db, "book", "demo", "--unit", "2", "--time", "2", "--format", "json").output)
    assert at_2s == {
        "unit": 2,
        "bids": [{"price": 39, "qty": 1, "orders": 1}],
        "asks": [{"price": 40, "qty": 1, "orders": 1}],
    }
    shrunk = [e for e in events_of(db, "demo", "order_shrunk")][0]
    by_seq = json.loads(
        invoke(db, "book", "demo", "--unit", "2", "--at", str(shrunk["seq"]), "--format", "json").output
    )
    assert by_seq["asks"] == [{"price": 40, "qty": 0.2, "orders": 1}]
    after_gate = json.loads(invoke(db, "book", "demo", "--unit", "2", "--format", "json").output)
    assert after_gate["bids"] == [] and after_gate["asks"] == []


def test_accounts(ingested):
    db, _ = ingested
    rows = {r["agent"]: r for r in json.loads(invoke(db, "accounts", "demo", "--format", "json").output)}
    assert rows["a"]["cash"] == -0.07 and rows["a"]["penalty"] == 0.075 and rows["a"]["shortfall_kw"] == 0.1
    assert rows["b"]["cash"] == -0.005 and rows["system"]["cash"] == 0.075
    mid = {
        r["agent"]: r
        for r in json.loads(invoke(db, "accounts", "demo", "--time", "10", "--format", "json").output)
    }
    assert mid["a"]["open_position_kw"] == 0.5 and mid["a"]["penalty"] == 0


def test_audit_clean_run(ingested):
    db, summary = ingested
    result = invoke(db, "audit", "demo")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"run {summary['run_id']}: ok")


def test_audit_detects_tampering_once_triggers_are_dropped(ingested):
    db, _ = ingested
    path = db.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE event_log SET payload = payload WHERE seq = 3")
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    seq, payload = con.execute("SELECT seq, payload FROM event_log WHERE type = 'trade'").fetchone()
    con.execute(
        "UPDATE event_log SET payload = ? WHERE seq = ?", (payload.replace('"qty":500', '"qty":600'), seq)
    )
    con.commit()
    con.close()
    result = invoke(db, "audit", "demo")
    assert result.exit_code == 1
    assert f"seq {seq}" in result.output


def test_malformed_stream_exit_2_and_nothing_written(sqlite_url, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(STREAM[0]) + "\n" + '{"t": 2, "op": "limit", "agent": "a"}\n')
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "ingest", str(path)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "Traceback" not in result.output
    assert json.loads(invoke(sqlite_url, "runs", "--format", "json").output) == []


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--db", "nosuchdriver://x", "runs"], "nosuchdriver"),
        (["--db", "postgresql+psycopg://postgres@127.0.0.1:1/test", "runs"], "127.0.0.1:1"),
    ],
)
def test_bad_database_url_is_one_line_exit_2(args, needle):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert needle in result.output and len(result.output.strip().splitlines()) == 1


def test_unknown_run_exit_2(sqlite_url):
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "events", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


def test_database_at_a_newer_schema_is_exit_2(sqlite_url):
    assert invoke(sqlite_url, "db", "upgrade").exit_code == 0
    con = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "runs"])
    assert result.exit_code == 2
    assert "9999" in result.output and len(result.output.strip().splitlines()) == 1
