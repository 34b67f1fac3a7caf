"""Every named query on the hand-worked run (and its fork) against answers computed by hand.

See ``analytics_helpers`` for the runs. Energies: unit 2 lasts 0.25 h, so 0.5 kW reserved is
0.125 kWh; money: 0.5 kW x 40/MWh x 0.25 h = 0.005.
"""

from __future__ import annotations

import pytest

from rexnet.analytics import Analytics, AnalyticsError
from rexnet.analytics.queries import QUERIES


def named(url, name, run, **params):
    with Analytics(url) as ax:
        columns, rows = ax.named_rows(name, run, **params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_the_library_has_the_documented_queries():
    assert set(QUERIES) == {
        "vwap_by_unit_lead",
        "spread_over_time",
        "depth_at",
        "reservation_vs_realization",
        "costs_by_type",
        "system_balance",
        "order_to_trade",
        "fork_diff",
        # the metrics of docs/metrics.md (tests/integration/analytics/test_metrics.py)
        "allocative_efficiency",
        "efficiency_by_unit",
        "gate_liquidity",
        "fill_rate",
        "uncertainty_premium",
        "uncertainty_premium_by_unit",
        "avoidable_dispatch",
        "newsvendor_calibration",
        "price_volatility",
        "tariff_comparison",
        "costs_by_group",
    }


def test_vwap_by_unit_lead(ledger):
    url, run = ledger
    # the trade at t = 1 s is 1799 s before unit 2's gate (1800 s)
    assert named(url, "vwap_by_unit_lead", run) == [
        {"unit": 2, "lead_from": 900.0, "lead_to": 1800.0, "trades": 1, "volume": 0.5, "vwap": 40.0}
    ]
    assert named(url, "vwap_by_unit_lead", "demo", bucket="600")[0]["lead_from"] == 1200.0


def test_spread_over_time(ledger):
    url, run = ledger
    rows = [
        (r["seq"], r["t"], r["best_bid"], r["best_ask"], r["spread"], r["mid"])
        for r in named(url, "spread_over_time", run)
    ]
    assert rows == [
        (9, 0.0, None, 40.0, None, None),  # a's ask rests
        (12, 2.0, 39.0, 40.0, 1.0, 39.5),  # c's bid; the trade (seq 11) and the shrink moved no price
        (18, 1800.0, 39.0, None, None, None),  # gate closure: a's rest expires ...
        (19, 1800.0, None, None, None, None),  # ... then c's
    ]
    assert named(url, "spread_over_time", run, unit=3) == []


def test_depth_at(ledger):
    url, run = ledger
    at_2 = [
        (r["unit"], r["side"], r["level"], r["price"], r["qty"], r["orders"], r["cum_qty"])
        for r in named(url, "depth_at", run, time=2)
    ]
    assert at_2 == [(2, "bid", 1, 39.0, 1.0, 1, 1.0), (2, "ask", 1, 40.0, 1.0, 1, 1.0)]
    middle = named(url, "depth_at", run)  # the run ends at 2700 s: the middle is 1350 s, after the shrink
    assert [(r["time"], r["side"], r["qty"]) for r in middle] == [(1350.0, "bid", 1.0), (1350.0, "ask", 0.2)]


def test_reservation_vs_realization(ledger):
    url, run = ledger
    assert named(url, "reservation_vs_realization", run) == [
        {
            "agent_type": "a",
            "agent": "a",
            "units": 1,
            "reserved_kwh": 0.125,
            "realized_kwh": 0.1,
            "gap_kwh": -0.025,
            "shortfall_kwh": 0.025,
            "surplus_kwh": 0.0,
            "short_units": 1,
        },
        {
            "agent_type": "b",
            "agent": "b",
            "units": 1,
            "reserved_kwh": -0.125,
            "realized_kwh": -0.125,
            "gap_kwh": 0.0,
            "shortfall_kwh": 0.0,
            "surplus_kwh": 0.0,
            "short_units": 0,
        },
    ]


def test_costs_by_type(ledger):
    url, run = ledger
    rows = {r["agent_type"]: r for r in named(url, "costs_by_type", run)}
    a, b = rows["a"], rows["b"]
    assert (
        a["produced_kwh"],
        a["consumed_kwh"],
        a["penalties"],
        a["trade_cash"],
        a["net_cash"],
        a["cost"],
    ) == (0.1, 0.0, 0.075, 0.005, -0.07, 0.07)
    # a's net cost 0.07 over 0.1 kWh produced; its penalty 0.075 over the same energy
    assert (a["energy_kwh"], a["cost_per_kwh"], a["penalty_per_kwh"]) == (0.1, 0.7, 0.75)
    # b paid 0.005 for 0.125 kWh: 0.04/kWh = 40/MWh
    assert (b["consumed_kwh"], b["cost"], b["cost_per_kwh"], b["penalties"]) == (0.125, 0.005, 0.04, 0.0)


def test_system_balance(ledger):
    url, run = ledger
    assert named(url, "system_balance", run) == [
        {
            "unit": 2,
            "participants": 2,
            "system_balance": -0.1,
            "deficit": 0.1,
            "surplus": 0.0,
            "penalties": 0.075,
            "volume": 0.5,
            "vwap": 40.0,
        }
    ]


def test_order_to_trade(ledger):
    url, run = ledger
    rows = {r["agent"]: r for r in named(url, "order_to_trade", run)}
    assert set(rows) == {"a", "b", "c", "d", "e"}
    a = rows["a"]
    assert (a["orders"], a["rejected"], a["cancels"], a["shrinks"], a["trades"]) == (1, 0, 0, 1, 1)
    assert (
        a["order_to_trade"],
        a["messages_per_trade"],
        a["ordered_kw"],
        a["traded_kw"],
        a["volume_ratio"],
    ) == (1.0, 2.0, 1.5, 0.5, 3.0)
    assert (rows["c"]["orders"], rows["c"]["trades"], rows["c"]["order_to_trade"]) == (1, 0, None)
    assert (rows["d"]["orders"], rows["d"]["rejected"]) == (0, 1)


def test_fork_diff(forked):
    url, parent, fork = forked
    assert named(url, "fork_diff", fork) == [
        {
            "unit": 2,
            "parent_vwap": 40.0,
            "fork_vwap": 40.0,
            "vwap_delta": 0.0,
            "parent_volume": 0.5,
            "fork_volume": 1.0,
            "volume_delta": 0.5,
            "parent_penalties": 0.075,
            "fork_penalties": 0.45,
            "penalty_delta": 0.375,
            "parent_balance": -0.1,
            "fork_balance": -0.6,
        }
    ]


def test_fork_diff_of_a_root_run_is_refused(ledger):
    url, run = ledger
    with pytest.raises(AnalyticsError, match="not a fork"):
        named(url, "fork_diff", run)


def test_unknown_query_and_parameter(ledger):
    url, run = ledger
    with pytest.raises(AnalyticsError, match="no named query"):
        named(url, "nope", run)
    with pytest.raises(AnalyticsError, match="no parameter 'x'"):
        named(url, "system_balance", run, x=1)


def test_dataframes_for_notebooks(forked):
    url, parent, fork = forked
    with Analytics(url) as ax:
        frame = ax.query("SELECT run_id, SUM(qty) AS volume FROM trades GROUP BY run_id ORDER BY volume")
        assert list(frame["volume"]) == [0.5, 1.0] and list(frame["run_id"]) == [parent, fork]
        only_fork = ax.query("SELECT DISTINCT run_id FROM events", run="fork")
        assert list(only_fork["run_id"]) == [fork]
        assert list(ax.named("system_balance", "fork")["deficit"]) == [0.6]
