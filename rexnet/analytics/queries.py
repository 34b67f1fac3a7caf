"""The library of named queries (``rexnet sql --list``, ``rexnet query NAME RUN``, ``Analytics.named``).

Most are SQL over the catalogue views with ``$run`` (the run id) and typed parameters; two
(``spread_over_time``, ``depth_at``) replay the run's full history through the live engine's own
``apply`` (:mod:`rexnet.analytics.book_history`), which reconstructs the order books exactly.

Conventions: quantities are kW (a reservation or realization is an average power over a unit),
``*_kwh`` columns are energies (kW x unit hours), money is currency, prices currency/MWh. The
agent type is the agent id without a trailing number (``wind-003`` -> ``wind``: the SQL macro
``agent_type`` of every session). The system account is left out of per-participant figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rexnet.analytics.errors import AnalyticsError, QueryError
from rexnet.analytics.metrics import METRICS

if TYPE_CHECKING:
    from rexnet.store.records import RunInfo

Rows = tuple[list[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class NamedQuery:
    """One named query: SQL over the views, or a Python function over a replay."""

    name: str
    description: str
    sql: str | None = None
    run_fn: Callable[..., Rows] | None = None
    #: parameter -> (type, default); ``run`` is always given
    params: dict[str, tuple[type, Any]] = field(default_factory=dict)
    #: needs the run's parent in the session too (fork comparisons)
    with_parent: bool = False


_VWAP_BY_UNIT_LEAD = """
SELECT unit,
       CAST(FLOOR(lead / $bucket) AS BIGINT) * $bucket AS lead_from,
       (CAST(FLOOR(lead / $bucket) AS BIGINT) + 1) * $bucket AS lead_to,
       COUNT(*) AS trades,
       ROUND(SUM(qty), 10) AS volume,
       ROUND(SUM(price * qty) / SUM(qty), 10) AS vwap
FROM trades WHERE run_id = $run
GROUP BY ALL ORDER BY unit, lead_from
"""

_RESERVATION_VS_REALIZATION = """
SELECT agent_type(s.agent) AS agent_type, s.agent,
       COUNT(*) AS units,
       ROUND(SUM(s.reserved * m.unit_seconds / 3600.0), 10) AS reserved_kwh,
       ROUND(SUM(s.realized * m.unit_seconds / 3600.0), 10) AS realized_kwh,
       ROUND(SUM((s.realized - s.reserved) * m.unit_seconds / 3600.0), 10) AS gap_kwh,
       ROUND(SUM(s.shortfall * m.unit_seconds / 3600.0), 10) AS shortfall_kwh,
       ROUND(SUM(s.surplus * m.unit_seconds / 3600.0), 10) AS surplus_kwh,
       COUNT(*) FILTER (WHERE s.shortfall > 0) AS short_units
FROM settlements s JOIN run_markets m ON m.run_id = s.run_id
WHERE s.run_id = $run AND s.agent <> 'system'
GROUP BY ALL ORDER BY agent_type, s.agent
"""

_COSTS_BY_TYPE = """
WITH s AS (
    SELECT agent_type(s.agent) AS agent_type, s.*, m.unit_seconds / 3600.0 AS h
    FROM settlements s JOIN run_markets m ON m.run_id = s.run_id
    WHERE s.run_id = $run AND s.agent <> 'system'
), t AS (
    SELECT agent_type, COUNT(DISTINCT agent) AS agents,
           SUM(CASE WHEN realized < 0 THEN -realized * h ELSE 0 END) AS consumed_kwh,
           SUM(CASE WHEN realized > 0 THEN realized * h ELSE 0 END) AS produced_kwh,
           SUM(shortfall * h) AS shortfall_kwh, SUM(penalty) AS penalties,
           SUM(surplus_credit) AS surplus_credits, SUM(trade_cash) AS trade_cash, SUM(net_cash) AS net_cash
    FROM s GROUP BY agent_type
)
SELECT agent_type, agents, ROUND(consumed_kwh, 10) AS consumed_kwh, ROUND(produced_kwh, 10) AS produced_kwh,
       ROUND(shortfall_kwh, 10) AS shortfall_kwh, ROUND(penalties, 10) AS penalties,
       ROUND(surplus_credits, 10) AS surplus_credits, ROUND(trade_cash, 10) AS trade_cash,
       ROUND(net_cash, 10) AS net_cash, ROUND(-net_cash, 10) AS cost,
       ROUND(consumed_kwh + produced_kwh, 10) AS energy_kwh,
       ROUND(-net_cash / NULLIF(consumed_kwh + produced_kwh, 0), 10) AS cost_per_kwh,
       ROUND(penalties / NULLIF(consumed_kwh + produced_kwh, 0), 10) AS penalty_per_kwh
FROM t ORDER BY agent_type
"""

_SYSTEM_BALANCE = """
SELECT i.unit, i.participants, i.system_balance, i.deficit, i.surplus, i.penalties,
       COALESCE(p.volume, 0) AS volume, p.vwap
FROM imbalance i LEFT JOIN unit_prices p ON p.run_id = i.run_id AND p.unit = i.unit
WHERE i.run_id = $run ORDER BY i.unit
"""

_ORDER_TO_TRADE = """
WITH o AS (SELECT agent, COUNT(*) AS n, SUM(qty) AS q FROM orders WHERE run_id = $run GROUP BY agent),
rj AS (SELECT agent, COUNT(*) AS n FROM rejections WHERE run_id = $run GROUP BY agent),
u AS (SELECT agent,
             COUNT(*) FILTER (WHERE type = 'order_cancelled' AND reason = 'requested') AS cancels,
             COUNT(*) FILTER (WHERE type = 'order_shrunk') AS shrinks
      FROM order_updates WHERE run_id = $run GROUP BY agent),
tr AS (SELECT agent, COUNT(*) AS n, SUM(qty) AS q FROM (
           SELECT buyer AS agent, qty FROM trades WHERE run_id = $run
           UNION ALL SELECT seller AS agent, qty FROM trades WHERE run_id = $run) AS sides
       GROUP BY agent),
agents AS (SELECT agent FROM o UNION SELECT agent FROM rj UNION SELECT agent FROM tr)
SELECT a.agent, agent_type(a.agent) AS agent_type,
       COALESCE(o.n, 0) AS orders, COALESCE(rj.n, 0) AS rejected,
       COALESCE(u.cancels, 0) AS cancels, COALESCE(u.shrinks, 0) AS shrinks,
       COALESCE(tr.n, 0) AS trades,
       COALESCE(o.n, 0) / NULLIF(tr.n, 0) AS order_to_trade,
       (COALESCE(o.n, 0) + COALESCE(rj.n, 0) + COALESCE(u.cancels, 0) + COALESCE(u.shrinks, 0))
           / NULLIF(tr.n, 0) AS messages_per_trade,
       ROUND(COALESCE(o.q, 0), 10) AS ordered_kw, ROUND(COALESCE(tr.q, 0), 10) AS traded_kw,
       ROUND(o.q / NULLIF(tr.q, 0), 10) AS volume_ratio
FROM agents a LEFT JOIN o USING (agent) LEFT JOIN rj USING (agent) LEFT JOIN u USING (agent)
LEFT JOIN tr USING (agent)
ORDER BY a.agent
"""

_FORK_DIFF = """
WITH units AS (
    SELECT unit FROM unit_prices WHERE run_id IN ($run, $parent)
    UNION SELECT unit FROM imbalance WHERE run_id IN ($run, $parent)
),
pf AS (SELECT * FROM unit_prices WHERE run_id = $run),
pp AS (SELECT * FROM unit_prices WHERE run_id = $parent),
bf AS (SELECT * FROM imbalance WHERE run_id = $run), bp AS (SELECT * FROM imbalance WHERE run_id = $parent)
SELECT u.unit,
       pp.vwap AS parent_vwap, pf.vwap AS fork_vwap, ROUND(pf.vwap - pp.vwap, 10) AS vwap_delta,
       COALESCE(pp.volume, 0) AS parent_volume, COALESCE(pf.volume, 0) AS fork_volume,
       ROUND(COALESCE(pf.volume, 0) - COALESCE(pp.volume, 0), 10) AS volume_delta,
       COALESCE(bp.penalties, 0) AS parent_penalties, COALESCE(bf.penalties, 0) AS fork_penalties,
       ROUND(COALESCE(bf.penalties, 0) - COALESCE(bp.penalties, 0), 10) AS penalty_delta,
       bp.system_balance AS parent_balance, bf.system_balance AS fork_balance
FROM units u
LEFT JOIN pf ON pf.unit = u.unit LEFT JOIN pp ON pp.unit = u.unit
LEFT JOIN bf ON bf.unit = u.unit LEFT JOIN bp ON bp.unit = u.unit
ORDER BY u.unit
"""


def _spread(ax: Any, run: RunInfo, params: dict[str, Any]) -> Rows:
    from rexnet.analytics.book_history import spread_over_time

    return spread_over_time(ax, run, unit=params.get("unit"))


def _depth(ax: Any, run: RunInfo, params: dict[str, Any]) -> Rows:
    from rexnet.analytics.book_history import depth_at

    return depth_at(ax, run, time=params.get("time"), unit=params.get("unit"))


QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        NamedQuery(
            "vwap_by_unit_lead",
            "VWAP and volume by target unit and lead-time bucket "
            "(lead = gate closure - trade time, seconds; bucket width $bucket)",
            sql=_VWAP_BY_UNIT_LEAD,
            params={"bucket": (float, 900.0)},
        ),
        NamedQuery(
            "spread_over_time",
            "Best bid, best ask and spread per unit after every change "
            "(exact: replays the book with the engine)",
            run_fn=_spread,
            params={"unit": (int, None)},
        ),
        NamedQuery(
            "depth_at",
            "Book depth per unit and price level at time $time (seconds; default: "
            "the middle of the run), with cumulative quantity",
            run_fn=_depth,
            params={"time": (float, None), "unit": (int, None)},
        ),
        NamedQuery(
            "reservation_vs_realization",
            "Reserved vs realized energy by participant and agent type (kWh), shortfall and surplus",
            sql=_RESERVATION_VS_REALIZATION,
        ),
        NamedQuery(
            "costs_by_type",
            "Penalties, cash and cost per kWh (net cost / energy consumed + "
            "produced, as in the run summary; negative: revenue) by prosumer type",
            sql=_COSTS_BY_TYPE,
        ),
        NamedQuery(
            "system_balance",
            "Per unit: system balance (sum of realized x), deficit, surplus, "
            "penalties, traded volume and VWAP",
            sql=_SYSTEM_BALANCE,
        ),
        NamedQuery(
            "order_to_trade",
            "Orders, rejections, cancels, shrinks and trades per participant; "
            "order-to-trade and volume ratios",
            sql=_ORDER_TO_TRADE,
        ),
        NamedQuery(
            "fork_diff",
            "A fork vs its parent per unit: VWAP, volume and penalty deltas",
            sql=_FORK_DIFF,
            with_parent=True,
        ),
        # the market-design metrics of docs/metrics.md
        *(NamedQuery(name, text, sql=sql, params=params) for name, text, sql, params in METRICS),
    )
}


def coerce_params(query: NamedQuery, raw: dict[str, Any]) -> dict[str, Any]:
    """Typed parameters with defaults; strings (from the CLI) are converted.

    Raises:
        AnalyticsError: unknown parameter or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in query.params:
            known = ", ".join(query.params) or "none"
            raise AnalyticsError(f"query {query.name} has no parameter {key!r} (parameters: {known})")
        kind = query.params[key][0]
        try:
            out[key] = None if value is None else kind(value)
        except (TypeError, ValueError):
            raise AnalyticsError(
                f"parameter {key}={value!r} of {query.name} is not a {kind.__name__}"
            ) from None
    for key, (_, default) in query.params.items():
        out.setdefault(key, default)
    return out


def get(name: str) -> NamedQuery:
    try:
        return QUERIES[name]
    except KeyError:
        raise AnalyticsError(f"no named query {name!r} (see rexnet sql --list)") from None


def run_named(ax: Any, name: str, run: RunInfo, raw: dict[str, Any]) -> Rows:
    """Run named query ``name`` for ``run`` (a RunInfo) through the :class:`Analytics` ``ax``."""
    import duckdb

    from rexnet.analytics.duckdb_session import fetch, first_line

    query = get(name)
    params = coerce_params(query, raw)
    if query.run_fn is not None:
        return query.run_fn(ax, run, params)
    runs = [run.run_id]
    if query.with_parent:
        if run.parent_run_id is None:
            raise AnalyticsError(f"run {run.run_id} is not a fork: {name} compares a fork with its parent")
        runs.append(run.parent_run_id)
        params["parent"] = run.parent_run_id
    params["run"] = run.run_id
    assert query.sql is not None
    used = {k: v for k, v in params.items() if f"${k}" in query.sql}
    try:
        return fetch(ax.session(runs), query.sql, used)
    except duckdb.Error as error:
        raise QueryError(f"{name}: {first_line(error)}") from None
