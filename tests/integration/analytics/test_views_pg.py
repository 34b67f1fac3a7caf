"""The views on PostgreSQL: read with psycopg (what ``psql`` users see) and through DuckDB."""

from __future__ import annotations

import json

import psycopg
import pytest
from analytics_helpers import ingest, invoke, make_fork

from rexnet.analytics import Analytics
from rexnet.analytics.catalogue import APPEND_ONLY_MESSAGE, RUN_VIEWS

pytestmark = pytest.mark.pg


@pytest.fixture
def pg_ledger(pg_url, tmp_path):
    run = ingest(pg_url, tmp_path)
    return pg_url, run, make_fork(pg_url, run)


def rows(url, sql, *args):
    # a psql user's connection: libpq takes postgresql://, not SQLAlchemy's dialect+driver form
    url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as con:
        return con.execute(sql, args).fetchall()


def test_views_in_display_units(pg_ledger):
    url, run, fork = pg_ledger
    for view in RUN_VIEWS:
        rows(url, f"SELECT * FROM {view}")
    (trade,) = rows(url, "SELECT unit, price, qty, buyer, lead FROM trades WHERE run_id = %s", run)
    assert trade == {"unit": 2, "price": 40.0, "qty": 0.5, "buyer": "b", "lead": 1799.0}
    settled = {s["agent"]: s for s in rows(url, "SELECT * FROM settlements WHERE run_id = %s", run)}
    a = settled["a"]
    assert (a["trade_cash"], a["shortfall"], a["penalty"], a["net_cash"]) == (0.005, 0.1, 0.075, -0.07)
    orders = {o["ref"]: o for o in rows(url, "SELECT * FROM orders WHERE run_id = %s", run)}
    assert (orders["o1"]["status"], orders["o1"]["filled"], orders["o1"]["remaining"]) == (
        "expired",
        0.5,
        0.2,
    )
    (price,) = rows(url, "SELECT volume, vwap, n_trades FROM unit_prices WHERE run_id = %s", run)
    assert price == {"volume": 0.5, "vwap": 40.0, "n_trades": 1}
    (imb,) = rows(url, "SELECT system_balance, deficit, penalties FROM imbalance WHERE run_id = %s", run)
    assert imb == {"system_balance": -0.1, "deficit": 0.1, "penalties": 0.075}


def test_fork_history_on_postgresql(pg_ledger):
    url, run, fork = pg_ledger
    history = [r["seq"] for r in rows(url, "SELECT seq FROM events WHERE run_id = %s ORDER BY seq", fork)]
    assert history == list(range(len(history)))
    (imb,) = rows(url, "SELECT penalties FROM imbalance WHERE run_id = %s", fork)
    assert imb["penalties"] == 0.45


@pytest.mark.parametrize(
    "statement", ["UPDATE events SET type = 'x'", "DELETE FROM events", "DELETE FROM event_log"]
)
def test_history_cannot_be_changed(pg_ledger, statement):
    url, _, _ = pg_ledger
    with pytest.raises(psycopg.errors.RestrictViolation, match=APPEND_ONLY_MESSAGE):
        rows(url, statement)


def test_duckdb_over_postgresql(pg_ledger):
    url, run, fork = pg_ledger
    with Analytics(url) as ax:
        assert list(ax.named("fork_diff", fork)["penalty_delta"]) == [0.375]
        assert list(ax.named("spread_over_time", run)["best_bid"].fillna(-1)) == [-1, 39.0, 39.0, -1]
        frame = ax.query("SELECT agent, net_cash FROM settlements WHERE unit = 2 ORDER BY agent", run="demo")
        assert list(frame["net_cash"]) == [-0.07, -0.005, 0.075]
    result = invoke(url, "sql", "SELECT COUNT(*) AS n FROM trades", "--run", "fork", "--format", "json")
    assert json.loads(result.output) == [{"n": 1}]
    assert invoke(url, "sql", "DELETE FROM events").exit_code == 2
