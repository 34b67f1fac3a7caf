"""The ledger's views read with plain ``sqlite3``: display units, full fork history, append-only."""

from __future__ import annotations

import sqlite3

import pytest
from analytics_helpers import FORK_COMMANDS, FORK_SEQ, make_fork

from rexnet.analytics.catalogue import APPEND_ONLY_MESSAGE, RUN_VIEWS


def connect(url: str) -> sqlite3.Connection:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.row_factory = sqlite3.Row
    return con


def rows(con, sql, *args):
    return [dict(r) for r in con.execute(sql, args).fetchall()]


def test_every_view_exists_and_reads(ledger):
    url, run = ledger
    con = connect(url)
    names = {r["name"] for r in rows(con, "SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert set(RUN_VIEWS) <= names
    for view in RUN_VIEWS:
        con.execute(f"SELECT * FROM {view}").fetchall()


def test_events_view_columns_and_seconds(ledger):
    url, run = ledger
    con = connect(url)
    events = rows(con, "SELECT * FROM events WHERE run_id = ? ORDER BY seq", run)
    assert list(events[0]) == ["run_id", "seq", "t", "type", "version", "payload"]
    assert [e["seq"] for e in events] == list(range(len(events)))
    realized = [e for e in events if e["type"] == "realized"]
    assert [e["t"] for e in realized] == [1900.0, 1901.0]


def test_trades_orders_and_settlements_in_display_units(ledger):
    url, run = ledger
    con = connect(url)
    (trade,) = rows(con, "SELECT * FROM trades")
    assert (
        trade["unit"],
        trade["price"],
        trade["qty"],
        trade["buyer"],
        trade["seller"],
        trade["aggressor"],
    ) == (2, 40.0, 0.5, "b", "a", "buy")
    assert trade["t"] == 1.0 and trade["lead"] == 1799.0  # gate of unit 2 at 1800 s
    orders = {o["ref"]: o for o in rows(con, "SELECT * FROM orders")}
    assert (orders["o1"]["price"], orders["o1"]["qty"], orders["o1"]["status"]) == (40.0, 1.5, "expired")
    assert (orders["o1"]["filled"], orders["o1"]["remaining"]) == (0.5, 0.2)
    assert (orders["o2"]["price"], orders["o2"]["status"], orders["o2"]["filled"]) == (None, "filled", 0.5)
    assert (orders["o3"]["status"], orders["o3"]["filled"], orders["o3"]["remaining"]) == ("expired", 0, 1.0)
    settled = {s["agent"]: s for s in rows(con, "SELECT * FROM settlements WHERE unit = 2")}
    a = settled["a"]
    assert (a["reserved"], a["realized"], a["trade_cash"], a["shortfall"], a["penalty"], a["net_cash"]) == (
        0.5,
        0.4,
        0.005,
        0.1,
        0.075,
        -0.07,
    )
    assert settled["system"]["net_cash"] == 0.075
    assert {r["agent"]: r["qty"] for r in rows(con, "SELECT * FROM reservations")} == {"a": 0.5, "b": -0.5}
    assert {r["agent"]: r["qty"] for r in rows(con, "SELECT * FROM realizations")} == {"a": 0.4, "b": -0.5}
    assert [(r["agent"], r["reason"]) for r in rows(con, "SELECT * FROM rejections ORDER BY seq")] == [
        ("d", "unit_not_open"),
        ("e", "off_tick"),
    ]
    updates = [
        (u["type"], u["agent"], u["remaining"]) for u in rows(con, "SELECT * FROM order_updates ORDER BY seq")
    ]
    assert updates == [("order_shrunk", "a", 0.2), ("order_expired", "a", 0.2), ("order_expired", "c", 1.0)]


def test_unit_prices_and_imbalance(ledger):
    url, run = ledger
    con = connect(url)
    (price,) = rows(con, "SELECT * FROM unit_prices")
    assert price == {
        "run_id": run,
        "unit": 2,
        "volume": 0.5,
        "vwap": 40.0,
        "first_price": 40.0,
        "last_price": 40.0,
        "min_price": 40.0,
        "max_price": 40.0,
        "n_trades": 1,
        "first_t": 1.0,
        "last_t": 1.0,
    }
    (imb,) = rows(con, "SELECT * FROM imbalance")
    assert (
        imb["unit"],
        imb["participants"],
        imb["reserved"],
        imb["system_balance"],
        imb["deficit"],
        imb["surplus"],
        imb["penalties"],
    ) == (2, 2, 0.0, -0.1, 0.1, 0.0, 0.075)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'x'",
        "DELETE FROM events",
        "DELETE FROM event_log",
        "UPDATE event_log SET t_ms = 0",
    ],
)
def test_history_cannot_be_changed_through_the_view_or_the_table(ledger, statement):
    url, _ = ledger
    con = connect(url)
    with pytest.raises(sqlite3.DatabaseError, match=APPEND_ONLY_MESSAGE):
        con.execute(statement)


def test_fork_shows_full_history(forked):
    url, parent, fork = forked
    con = connect(url)
    own = rows(con, "SELECT seq FROM event_log WHERE run_id = ? ORDER BY seq", fork)
    assert own[0]["seq"] == FORK_SEQ + 1
    history = rows(con, "SELECT seq, type FROM events WHERE run_id = ? ORDER BY seq", fork)
    assert [h["seq"] for h in history] == list(range(len(history)))
    shared = rows(
        con, "SELECT seq, type FROM events WHERE run_id = ? AND seq <= ? ORDER BY seq", parent, FORK_SEQ
    )
    assert history[: FORK_SEQ + 1] == shared
    (trade,) = rows(con, "SELECT price, qty, buyer FROM trades WHERE run_id = ?", fork)
    assert trade == {"price": 40.0, "qty": 1.0, "buyer": "b"}
    orders = rows(con, "SELECT ref, status, filled FROM orders WHERE run_id = ? ORDER BY seq", fork)
    assert orders[0] == {"ref": "o1", "status": "expired", "filled": 1.0}  # the parent's order, inherited
    (imb,) = rows(con, "SELECT deficit, penalties FROM imbalance WHERE run_id = ?", fork)
    assert imb == {"deficit": 0.6, "penalties": 0.45}


def test_fork_of_a_fork_inherits_through_both_ancestors(forked):
    url, root, fork = forked
    # fork the fork after its trade (seq 11): seqs 0..9 come from the root, 10..11 from the fork
    grandchild = make_fork(url, fork, name="fork2", fork_seq=11, commands=FORK_COMMANDS[1:])
    con = connect(url)
    history = rows(
        con, "SELECT seq, source_run_id FROM event_history WHERE run_id = ? ORDER BY seq", grandchild
    )
    assert [h["seq"] for h in history] == list(range(len(history)))
    sources = [h["source_run_id"] for h in history]
    assert sources[:10] == [root] * 10 and sources[10:12] == [fork] * 2 and set(sources[12:]) == {grandchild}
    (trade,) = rows(con, "SELECT seq, qty FROM trades WHERE run_id = ?", grandchild)
    assert trade == {"seq": 11, "qty": 1.0}
    (imb,) = rows(con, "SELECT penalties FROM imbalance WHERE run_id = ?", grandchild)
    assert imb["penalties"] == 0.45
