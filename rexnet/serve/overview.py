"""The run overview and the fork comparison: DuckDB queries over the columnar mirror.

Everything the overview shows is aggregated by DuckDB, so a run of a million events costs a few
scans of the mirror and returns a few thousand rows, never its history: the trades' summary figures
and the grid of the heat map (:data:`TRADE_STATS`), the heat map's cells and the lead-time buckets
(:data:`~rexnet.serve.plots.HEAT_SQL`, :data:`~rexnet.serve.plots.LEAD_SQL`), and every
settlement figure in one scan (:data:`SETTLEMENT_FIGURES`): the units' balance as the ``imbalance``
view has it, and the figures of the named queries ``reservation_vs_realization`` and
``costs_by_type`` that ``rexnet report`` draws (the tests hold them equal). Costs are by prosumer
type (the agent id without its number); when the run's agents have groups (the ``agents`` view,
``group_name``), by type and group. Results are cached per run and head hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rexnet.analytics.errors import AnalyticsError
from rexnet.analytics.queries import QUERIES
from rexnet.domain.display import event_display
from rexnet.replay.history import read_history
from rexnet.replay.projection import run_spec
from rexnet.serve import plots
from rexnet.serve.fmt import plain

if TYPE_CHECKING:
    from rexnet.store.records import RunInfo

#: every settlement figure of the overview in one scan of the run's settlements, by grouping set:
#: per unit (the ``imbalance`` view's balance, deficit, surplus, penalties), per participant
#: (``reservation_vs_realization``'s energies), per type and group, per type (``costs_by_type``'s
#: cost, penalties and agents). Kind and group come from the agents that registered (``kind IS NOT
#: NULL`` lets DuckDB skip the view's scan of the orders for those that did not); the others, and
#: every agent of a ledger without groups ({groups} is then empty), are costed by their type.
SETTLEMENT_FIGURES = """
WITH s AS (
    SELECT s.unit, s.agent, agent_type(s.agent) AS agent_type,
           COALESCE(g.kind, agent_type(s.agent)) AS kind, COALESCE(g.group_name, '') AS grp,
           s.reserved, s.realized, s.shortfall, s.surplus, s.penalty, s.net_cash
    FROM settlements s
    LEFT JOIN ({groups}) g ON g.agent = s.agent
    WHERE s.run_id = $run AND s.agent <> 'system'
)
SELECT GROUPING(unit) = 0 AS by_unit, GROUPING(agent) = 0 AS by_agent, GROUPING(grp) = 0 AS by_group,
       unit, agent_type, agent, kind, grp AS "group", COUNT(DISTINCT agent) AS agents,
       ROUND(SUM(realized), 10) AS system_balance, ROUND(SUM(shortfall), 10) AS deficit,
       ROUND(SUM(surplus), 10) AS surplus, ROUND(SUM(penalty), 10) AS penalties,
       ROUND(SUM(reserved * $us / 3600.0), 10) AS reserved_kwh,
       ROUND(SUM(realized * $us / 3600.0), 10) AS realized_kwh, ROUND(-SUM(net_cash), 10) AS cost
FROM s GROUP BY GROUPING SETS ((unit), (agent_type, agent), (kind, grp), (agent_type))
"""
_GROUPS = "SELECT agent, kind, group_name FROM agents WHERE run_id = $run AND kind IS NOT NULL"
_NO_GROUPS = "SELECT NULL::VARCHAR AS agent, NULL::VARCHAR AS kind, NULL::VARCHAR AS group_name WHERE false"
#: the overview's trade figures, and the extent of the heat map's grid
TRADE_STATS = """
SELECT COUNT(*) AS trades, SUM(qty) AS qty, MIN(price) AS min_price, MAX(price) AS max_price,
       MIN(t) AS t_min, MAX(t) AS t_max, MIN(unit) AS u_min, MAX(unit) AS u_max
FROM trades WHERE run_id = $run
"""


def _cached(explorer: Any, kind: str, run: RunInfo, build: Any) -> Any:
    key = (kind, run.run_id, run.head_hash)
    if key not in explorer.cache:
        explorer.cache[key] = build()
    return explorer.cache[key]


def trade_figures(explorer: Any, run: RunInfo, unit_seconds: int) -> dict[str, Any]:
    """Summary figures of the run's trades and the two trade plots (heat map, VWAP by lead)."""
    (stats,) = explorer.select(TRADE_STATS, [run.run_id], run=run.run_id)
    n = stats["trades"]
    summary = {
        "trades": n,
        "volume_kwh": round(float(stats["qty"]) * unit_seconds / 3600.0, 4) if n else 0,
        "min_price": stats["min_price"],
        "max_price": stats["max_price"],
    }
    if not n:
        return {
            "summary": summary,
            "heatmap": plots.heat_map(None, []),
            "vwap_lead": plots.vwap_by_lead([], unit_seconds),
        }
    grid = plots.HeatGrid.of(stats["t_min"], stats["t_max"], stats["u_min"], stats["u_max"], unit_seconds)
    _, cells = explorer.table(plots.HEAT_SQL, [run.run_id], run=run.run_id, **grid.params())
    _, leads = explorer.table(
        plots.LEAD_SQL, [run.run_id], run=run.run_id, width=plots.lead_width(unit_seconds)
    )
    return {
        "summary": summary,
        "heatmap": plots.heat_map(grid, cells),
        "vwap_lead": plots.vwap_by_lead(leads, unit_seconds),
    }


def settlement_figures(explorer: Any, run: RunInfo, unit_seconds: int) -> dict[str, Any]:
    """The units' balance, the participants' energies and the costs (by type and group when the
    run's agents have groups, else by type, with a note saying why) of :data:`SETTLEMENT_FIGURES`."""
    note = ""
    groups = _NO_GROUPS
    if explorer.has_column("agents", "group_name", [run.run_id]):
        groups = _GROUPS
    else:
        note = "this ledger records no agent groups: costs are by type only"
    params = {"run": run.run_id, "us": unit_seconds}
    try:
        rows = explorer.select(SETTLEMENT_FIGURES.format(groups=groups), [run.run_id], **params)
    except AnalyticsError as error:
        if groups == _NO_GROUPS:
            raise
        note = explorer.redact(f"groups could not be read ({error}); costs are by type only")
        rows = explorer.select(SETTLEMENT_FIGURES.format(groups=_NO_GROUPS), [run.run_id], **params)
    by_unit = sorted((r for r in rows if r["by_unit"]), key=lambda r: r["unit"])
    by_agent = sorted((r for r in rows if r["by_agent"]), key=lambda r: (r["agent_type"], r["agent"]))
    grouped = sorted((r for r in rows if r["by_group"]), key=lambda r: (r["kind"], r["group"]))
    by_type = sorted(
        (r for r in rows if not (r["by_unit"] or r["by_agent"] or r["by_group"])),
        key=lambda r: r["agent_type"],
    )
    cost_keys = ("cost", "penalties", "agents")
    if any(r["group"] for r in grouped):
        costs = [
            {"agent_type": r["kind"], "group": r["group"], **{k: r[k] for k in cost_keys}} for r in grouped
        ]
    else:
        costs = [{"agent_type": r["agent_type"], **{k: r[k] for k in cost_keys}} for r in by_type]
        note = note or "no participant of this run has a group: costs are by type only"
    return {
        "balance": [
            {k: r[k] for k in ("unit", "system_balance", "deficit", "surplus", "penalties")} for r in by_unit
        ],
        "participants": [
            {k: r[k] for k in ("agent_type", "agent", "reserved_kwh", "realized_kwh")} for r in by_agent
        ],
        "costs": costs,
        "by_group": not note,
        "group_note": note,
    }


def overview(explorer: Any, run: RunInfo) -> dict[str, Any]:
    """Summary, tables and Plotly figures of the overview page (cached per head hash)."""
    return _cached(explorer, "overview", run, lambda: _overview(explorer, run))


def _overview(explorer: Any, run: RunInfo) -> dict[str, Any]:
    us = run_spec(run).unit_seconds
    trades = trade_figures(explorer, run, us)
    settled = settlement_figures(explorer, run, us)
    balance = settled["balance"]
    summary = {
        **trades["summary"],
        "units_settled": len(balance),
        "penalties": round(sum(r["penalties"] or 0 for r in balance), 6),
        "deficit_kwh": round(sum(r["deficit"] or 0 for r in balance) * us / 3600.0, 4),
        "surplus_kwh": round(sum(r["surplus"] or 0 for r in balance) * us / 3600.0, 4),
    }
    return {
        "summary": summary,
        "costs": settled["costs"],
        "by_group": settled["by_group"],
        "group_note": settled["group_note"],
        "figures": {
            "heatmap": trades["heatmap"],
            "vwap_lead": trades["vwap_lead"],
            "reservation": plots.reservation_vs_realization(settled["participants"]),
            "balance": plots.system_balance(balance),
            "costs": plots.costs(settled["costs"], by_group=settled["by_group"]),
        },
    }


# -- fork vs parent ----------------------------------------------------------------------------------
def divergence(explorer: Any, fork: RunInfo, parent: RunInfo) -> dict[str, Any] | None:
    """The first seq after the fork point where fork and parent differ (their chain hashes part:
    a hash covers the one before it, so they differ from there on), with both events shown."""
    store = explorer.store
    start = (fork.fork_seq or 0) + 1
    ours = read_history(store, fork, from_seq=start)
    theirs = read_history(store, parent, from_seq=start)
    for mine in ours:
        other = next(theirs, None)
        if other is None or other.hash != mine.hash:
            return {
                "seq": mine.seq,
                "t": mine.t_ms / 1000.0,
                "fork": _shown(mine, run_spec(fork)),
                "parent": None if other is None else _shown(other, run_spec(parent)),
            }
    other = next(theirs, None)
    if other is not None:
        return {
            "seq": other.seq,
            "t": other.t_ms / 1000.0,
            "fork": None,
            "parent": _shown(other, run_spec(parent)),
        }
    return None


def _shown(row: Any, spec: Any) -> dict[str, Any]:
    shown = event_display(row.event(), spec)
    return {
        "seq": row.seq,
        "type": row.type,
        "fields": " ".join(f"{k}={plain(v)}" for k, v in shown.items() if k not in ("t", "type")),
    }


#: the named query ``fork_diff`` of :mod:`rexnet.analytics.queries` with CTEs that shadow its views:
#: a lighter ``unit_prices`` (the units' VWAP and volume as the view computes them, but not its
#: first and last prices, windows over every trade of both runs that this page never shows), and
#: both views computed once (``MATERIALIZED``) for the three places the query reads each
FORK_DIFF = (
    "WITH unit_prices AS MATERIALIZED (SELECT run_id, unit, ROUND(SUM(qty), 10) AS volume,"
    " ROUND(SUM(price * qty) / SUM(qty), 10) AS vwap FROM trades"
    " WHERE run_id IN ($run, $parent) GROUP BY run_id, unit),"
    " imbalance AS MATERIALIZED (SELECT * FROM main.imbalance WHERE run_id IN ($run, $parent)),"
    + str(QUERIES["fork_diff"].sql).strip().removeprefix("WITH")
)
#: the ``cost`` column of ``costs_by_type`` for both runs in one scan
FORK_COSTS = """
SELECT run_id, agent_type(agent) AS agent_type, ROUND(-SUM(net_cash), 10) AS cost
FROM settlements WHERE run_id IN ($run, $parent) AND agent <> 'system'
GROUP BY ALL ORDER BY ALL
"""
#: units listed in the fork page's table (the plot shows them all)
FORK_ROWS = 500


def fork_page(explorer: Any, fork: RunInfo) -> dict[str, Any]:
    """Where a fork leaves its parent and how prices, volumes and costs differ (cached)."""
    return _cached(explorer, "fork", fork, lambda: _fork(explorer, fork))


def _fork(explorer: Any, fork: RunInfo) -> dict[str, Any]:
    parent = explorer.run(fork.parent_run_id)
    split = divergence(explorer, fork, parent)
    runs = [fork.run_id, parent.run_id]
    diff = explorer.select(FORK_DIFF, runs, run=fork.run_id, parent=parent.run_id)
    unit_seconds = run_spec(fork).unit_seconds
    diverge_unit = None if split is None else int(split["t"] // unit_seconds)
    after = [r for r in diff if diverge_unit is None or r["unit"] >= diverge_unit]
    costs: dict[str, dict[str, float]] = {fork.run_id: {}, parent.run_id: {}}
    for r in explorer.select(FORK_COSTS, runs, run=fork.run_id, parent=parent.run_id):
        costs[r["run_id"]][r["agent_type"]] = r["cost"]
    fork_costs, parent_costs = costs[fork.run_id], costs[parent.run_id]
    cost_rows = []
    for kind in sorted(set(fork_costs) | set(parent_costs)):
        p = parent_costs.get(kind) or 0.0
        f = fork_costs.get(kind) or 0.0
        cost_rows.append({"agent_type": kind, "parent_cost": p, "fork_cost": f, "delta": round(f - p, 6)})
    return {
        "parent": parent,
        "split": split,
        "diverge_unit": diverge_unit,
        "rows": after[:FORK_ROWS],
        "units_after": len(after),
        "costs": cost_rows,
        "totals": {
            "volume_delta": round(sum(r["volume_delta"] or 0 for r in after), 6),
            "penalty_delta": round(sum(r["penalty_delta"] or 0 for r in after), 6),
            "units_changed": sum(
                1 for r in after if (r["vwap_delta"] or 0) != 0 or (r["volume_delta"] or 0) != 0
            ),
        },
        "figure": plots.fork_vs_parent(diff, diverge_unit),
    }
