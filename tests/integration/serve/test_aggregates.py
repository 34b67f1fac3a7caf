"""The explorer's aggregates are pushed into DuckDB: they give what the rows they replace give.

The overview bins the run's trades in SQL (heat map cells, lead-time buckets, summary figures),
and the fork page computes ``fork_diff``'s columns and the costs by type without the views that
cost a window over every trade. Here each is set against its reference: the heat map against
numpy's histogram of the trade rows (what the overview computed before), the fork page against
the named queries, and every overview figure read through the columnar mirror against the same
figure read from the ledger by the scanner.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rexnet.replay.projection import run_spec
from rexnet.serve import overview as ov
from rexnet.serve import plots
from rexnet.serve.explorer import Explorer


@pytest.fixture(scope="module")
def explorers(ledger):
    """One explorer reading the mirror (required) and one reading the ledger (mirror off)."""
    mirrored = Explorer(ledger[0], mirror="require")
    scanned = Explorer(ledger[0], mirror="off")
    yield mirrored, scanned
    mirrored.close()
    scanned.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("explorer-")]


def test_mirror_and_scanner_give_the_same_overview(explorers):
    mirrored, scanned = explorers
    for name in ("demo", "p", "f"):
        ours, theirs = (ov.overview(ex, ex.run(name)) for ex in (mirrored, scanned))
        assert ours == theirs, name
    assert mirrored.duck.analytics().uses_mirror and not scanned.duck.analytics().uses_mirror


def test_heat_map_cells_are_numpys_histogram_of_the_trades(explorers):
    ex = explorers[0]
    run = ex.run("p")
    us = run_spec(run).unit_seconds
    columns, rows = ex.table(
        "SELECT unit, t, price, qty, lead FROM trades WHERE run_id = $run ORDER BY seq",
        [run.run_id],
        run=run.run_id,
    )
    trades = dict(zip(columns, np.array(rows, dtype=float).T, strict=True))
    assert len(trades["t"]) > 50
    figures = ov.overview(ex, run)
    # the reference: the trades binned by numpy, as the overview did when it read every trade
    grid = plots.HeatGrid.of(
        trades["t"].min(), trades["t"].max(), int(trades["unit"].min()), int(trades["unit"].max()), us
    )
    t_edges = np.linspace(grid.t0, grid.t0 + grid.span, grid.bins + 1)
    u_edges = np.arange(grid.u0, int(trades["unit"].max()) + grid.band + 1, grid.band) - 0.5
    bins = [u_edges, t_edges]
    notional, _, _ = np.histogram2d(
        trades["unit"], trades["t"] / 3600.0, bins, weights=trades["price"] * trades["qty"]
    )
    volume, _, _ = np.histogram2d(trades["unit"], trades["t"] / 3600.0, bins, weights=trades["qty"])
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.round(np.where(volume > 0, notional / volume, np.nan), 4)
    (trace,) = figures["figures"]["heatmap"]["data"]
    assert np.array(trace["z"], dtype=float).shape == vwap.shape
    np.testing.assert_allclose(np.array(trace["z"], dtype=float), vwap, rtol=0, atol=1e-9)
    # lead-time buckets of a quarter unit, and the summary
    width = us / 4
    keys, inverse = np.unique(np.floor(trades["lead"] / width), return_inverse=True)
    vol = np.bincount(inverse, weights=trades["qty"])
    cash = np.bincount(inverse, weights=trades["price"] * trades["qty"])
    vwap_line, volume_bars = figures["figures"]["vwap_lead"]["data"]
    assert vwap_line["x"] == pytest.approx(list((keys + 0.5) * width / 60.0))
    assert vwap_line["y"] == pytest.approx(list(np.round(cash / vol, 4)))
    assert volume_bars["y"] == pytest.approx(list(np.round(vol, 4)))
    summary = figures["summary"]
    assert summary["trades"] == len(trades["t"])
    assert summary["volume_kwh"] == pytest.approx(round(trades["qty"].sum() * us / 3600.0, 4))
    assert (summary["min_price"], summary["max_price"]) == (trades["price"].min(), trades["price"].max())


#: the costs by type and group joined with the whole ``agents`` view (its unregistered agents,
#: seen in orders only, included): what the overview computed before its one scan
COSTS_BY_GROUP = """
SELECT COALESCE(g.kind, agent_type(s.agent)) AS agent_type, COALESCE(g.group_name, '') AS "group",
       ROUND(SUM(-s.net_cash), 10) AS cost, ROUND(SUM(s.penalty), 10) AS penalties,
       COUNT(DISTINCT s.agent) AS agents
FROM settlements s LEFT JOIN agents g ON g.run_id = s.run_id AND g.agent = s.agent
WHERE s.run_id = $run AND s.agent <> 'system'
GROUP BY ALL ORDER BY ALL
"""


def test_settlement_figures_are_the_named_queries(explorers):
    ex = explorers[0]
    for name in ("demo", "p", "f"):
        run = ex.run(name)
        us = run_spec(run).unit_seconds
        ours = ov.settlement_figures(ex, run, us)
        balance = ("unit", "system_balance", "deficit", "surplus", "penalties")
        assert ours["balance"] == [{k: r[k] for k in balance} for r in ex.named("system_balance", run)]
        energies = ("agent_type", "agent", "reserved_kwh", "realized_kwh")
        assert ours["participants"] == [
            {k: r[k] for k in energies} for r in ex.named("reservation_vs_realization", run)
        ]
        grouped = ex.select(COSTS_BY_GROUP, [run.run_id], run=run.run_id)
        by_type = [
            {k: r[k] for k in ("agent_type", "cost", "penalties", "agents")}
            for r in ex.named("costs_by_type", run)
        ]
        if any(r["group"] for r in grouped):
            assert ours["by_group"] and ours["costs"] == grouped, name
        else:  # the demo ingest: agents without registrations
            assert not ours["by_group"] and ours["costs"] == by_type, name
            assert "no participant of this run has a group" in ours["group_note"]
        assert ours["balance"] and ours["participants"] and ours["costs"]
    assert ov.settlement_figures(ex, ex.run("p"), 900)["by_group"]


def test_fork_page_figures_are_the_named_queries(explorers):
    ex = explorers[0]
    fork = ex.run("f")
    parent = ex.run(fork.parent_run_id)
    runs = [fork.run_id, parent.run_id]
    for each in explorers:  # the mirror and the scanner
        diff = each.select(ov.FORK_DIFF, runs, run=fork.run_id, parent=parent.run_id)
        assert diff == each.named("fork_diff", fork)
    costs = ex.select(ov.FORK_COSTS, runs, run=fork.run_id, parent=parent.run_id)
    for run in (fork, parent):
        named = {r["agent_type"]: r["cost"] for r in ex.named("costs_by_type", run)}
        assert {r["agent_type"]: r["cost"] for r in costs if r["run_id"] == run.run_id} == named
    page = ov.fork_page(ex, fork)
    assert page["units_after"] == len(page["rows"]) > 0  # six units: no cap


def test_sessions_draw_no_progress_bar(explorers):
    """DuckDB draws a progress bar on stdout for queries that take seconds: not in the server's
    log (nor in the CLI's output). Sessions switch it off before their configuration is locked."""
    for ex in explorers:
        session = ex.duck.analytics().session(None)
        assert session.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
