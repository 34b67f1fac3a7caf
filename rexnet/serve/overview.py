"""The run overview and the fork comparison: DuckDB named queries and the explorer's own reads.

The overview reads the run's trades once (heat map, VWAP by lead time and the summary's trade
figures come from the same rows) and three named queries of :mod:`rexnet.analytics.queries`
(``costs_by_type``, ``system_balance``, ``reservation_vs_realization``), the ones ``rexnet
report`` draws. Costs are by prosumer type (the agent id without its number); when the run's
agents have groups (the ``agents`` view, ``group_name``), by type and group. Results are cached per run
and head hash.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rexnet.analytics.errors import AnalyticsError
from rexnet.domain.display import event_display
from rexnet.replay.history import read_history
from rexnet.replay.projection import run_spec
from rexnet.serve import plots
from rexnet.serve.fmt import plain

_COSTS_BY_GROUP = """
SELECT COALESCE(g.kind, agent_type(s.agent)) AS agent_type, COALESCE(g.group_name, '') AS "group",
       ROUND(SUM(-s.net_cash), 10) AS cost, ROUND(SUM(s.penalty), 10) AS penalties,
       COUNT(DISTINCT s.agent) AS agents
FROM settlements s LEFT JOIN agents g ON g.run_id = s.run_id AND g.agent = s.agent
WHERE s.run_id = $run AND s.agent <> 'system'
GROUP BY ALL ORDER BY ALL
"""


def _cached(explorer: Any, kind: str, run: Any, build: Any) -> Any:
    key = (kind, run.run_id, run.head_hash)
    if key not in explorer.cache:
        explorer.cache[key] = build()
    return explorer.cache[key]


def trades_columns(explorer: Any, run: Any) -> dict[str, np.ndarray]:
    columns, rows = explorer.table(
        "SELECT unit, t, price, qty, lead FROM trades WHERE run_id = $run ORDER BY seq",
        [run.run_id],
        run=run.run_id,
    )
    if not rows:
        return {c: np.zeros(0) for c in columns}
    arrays = np.array(rows, dtype=float).T
    return dict(zip(columns, arrays, strict=True))


def costs(explorer: Any, run: Any) -> tuple[list[dict[str, Any]], bool, str]:
    """Cost rows, whether they are by group too, and a note on the grouping."""
    by_type = [
        {"agent_type": r["agent_type"], "cost": r["cost"], "penalties": r["penalties"], "agents": r["agents"]}
        for r in explorer.named("costs_by_type", run)
    ]
    if explorer.has_column("agents", "group_name", [run.run_id]):
        try:
            grouped = explorer.select(_COSTS_BY_GROUP, [run.run_id], run=run.run_id)
        except AnalyticsError as error:
            return by_type, False, explorer.redact(f"groups could not be read ({error}); costs by type only")
        if any(r["group"] for r in grouped):
            return grouped, True, ""
        return by_type, False, "no participant of this run has a group: costs are by type only"
    return by_type, False, "this ledger records no agent groups: costs are by type only"


def overview(explorer: Any, run: Any) -> dict[str, Any]:
    """Summary, tables and Plotly figures of the overview page (cached per head hash)."""
    return _cached(explorer, "overview", run, lambda: _overview(explorer, run))


def _overview(explorer: Any, run: Any) -> dict[str, Any]:
    spec = run_spec(run)
    us = spec.unit_seconds
    trades = trades_columns(explorer, run)
    balance = explorer.named("system_balance", run)
    rvr = explorer.named("reservation_vs_realization", run)
    cost_rows, by_group, note = costs(explorer, run)
    n = len(trades["t"])
    summary = {
        "trades": n,
        "volume_kwh": round(float(trades["qty"].sum()) * us / 3600.0, 4) if n else 0,
        "min_price": float(trades["price"].min()) if n else None,
        "max_price": float(trades["price"].max()) if n else None,
        "units_settled": len(balance),
        "penalties": round(sum(r["penalties"] or 0 for r in balance), 6),
        "deficit_kwh": round(sum(r["deficit"] or 0 for r in balance) * us / 3600.0, 4),
        "surplus_kwh": round(sum(r["surplus"] or 0 for r in balance) * us / 3600.0, 4),
    }
    return {
        "summary": summary,
        "costs": cost_rows,
        "by_group": by_group,
        "group_note": note,
        "figures": {
            "heatmap": plots.heat_map(trades, us),
            "vwap_lead": plots.vwap_by_lead(trades, us),
            "reservation": plots.reservation_vs_realization(rvr),
            "balance": plots.system_balance(balance),
            "costs": plots.costs(cost_rows, by_group=by_group),
        },
    }


# -- fork vs parent ----------------------------------------------------------------------------------
def divergence(explorer: Any, fork: Any, parent: Any) -> dict[str, Any] | None:
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


def fork_page(explorer: Any, fork: Any) -> dict[str, Any]:
    """Where a fork leaves its parent and how prices, volumes and costs differ (cached)."""
    return _cached(explorer, "fork", fork, lambda: _fork(explorer, fork))


def _fork(explorer: Any, fork: Any) -> dict[str, Any]:
    parent = explorer.run(fork.parent_run_id)
    split = divergence(explorer, fork, parent)
    diff = explorer.named("fork_diff", fork)
    unit_seconds = run_spec(fork).unit_seconds
    diverge_unit = None if split is None else int(split["t"] // unit_seconds)
    after = [r for r in diff if diverge_unit is None or r["unit"] >= diverge_unit]
    fork_costs = {r["agent_type"]: r for r in explorer.named("costs_by_type", fork)}
    parent_costs = {r["agent_type"]: r for r in explorer.named("costs_by_type", parent)}
    cost_rows = []
    for kind in sorted(set(fork_costs) | set(parent_costs)):
        p = (parent_costs.get(kind) or {}).get("cost") or 0.0
        f = (fork_costs.get(kind) or {}).get("cost") or 0.0
        cost_rows.append({"agent_type": kind, "parent_cost": p, "fork_cost": f, "delta": round(f - p, 6)})
    return {
        "parent": parent,
        "split": split,
        "diverge_unit": diverge_unit,
        "rows": after,
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
