"""The metrics of experiments: one number per run (or per run and prosumer type), read with SQL.

Every metric is a read-only query over the ledger's views (:mod:`rexnet.analytics.catalogue`)
for one run, so each reported number can be recomputed with ``rexnet sql --run RUN``. A metric
returns a mapping ``name -> value``: a plain metric one entry, a metric "by type" one entry per
prosumer type (``cost_per_kwh:household``) and "by group" one per group label of the ``agents``
view (``cost_per_kwh:group=low``).

Pair metrics compare a treated run with its baseline (the unshocked run it was forked from): the
time until prices come back, for example, is a property of the pair, not of either run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: prosumer types that count as "small" (households and small producers and storage)
SMALL_TYPES = ("household", "flexible", "solar", "wind", "storage")
#: prosumer types of dispatchable (conventional) generation
DISPATCHABLE_TYPES = ("dispatchable",)

Context = dict[str, Any]
MetricFn = Callable[[Any, str, Context], dict[str, float | None]]


@dataclass(frozen=True)
class Metric:
    """A named metric: what it measures, its unit, and the function that reads it."""

    name: str
    description: str
    unit: str
    read: MetricFn


def _scalar(ax: Any, run_id: str, sql: str, params: dict[str, Any] | None = None) -> float | None:
    _, rows = ax.rows(sql, {"run": run_id, **(params or {})}, run=run_id)
    if not rows or rows[0][0] is None:
        return None
    return float(rows[0][0])


def _one(name: str, sql: str) -> MetricFn:
    def read(ax: Any, run_id: str, ctx: Context) -> dict[str, float | None]:
        return {name: _scalar(ax, run_id, sql)}

    return read


def _in(types: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{t}'" for t in types) + ")"


_HOURS = "(SELECT unit_seconds / 3600.0 FROM run_markets WHERE run_id = $run)"

_VOLUME = f"SELECT COALESCE(SUM(qty), 0) * {_HOURS} FROM trades WHERE run_id = $run"
_TRADES = "SELECT COUNT(*) FROM trades WHERE run_id = $run"
_SMALL_SHARE = f"""
SELECT SUM(qty) FILTER (WHERE agent_type(buyer) IN {_in(SMALL_TYPES)}
                          OR agent_type(seller) IN {_in(SMALL_TYPES)}) / NULLIF(SUM(qty), 0)
FROM trades WHERE run_id = $run
"""
_NO_DISPATCHABLE_SHARE = f"""
SELECT SUM(qty) FILTER (WHERE agent_type(buyer) NOT IN {_in(DISPATCHABLE_TYPES)}
                          AND agent_type(seller) NOT IN {_in(DISPATCHABLE_TYPES)}) / NULLIF(SUM(qty), 0)
FROM trades WHERE run_id = $run
"""
_PENALTIES = "SELECT COALESCE(SUM(penalty), 0) FROM settlements WHERE run_id = $run AND agent <> 'system'"
_DEFICIT = (
    f"SELECT COALESCE(SUM(shortfall), 0) * {_HOURS} FROM settlements "
    "WHERE run_id = $run AND agent <> 'system'"
)
_SURPLUS = (
    f"SELECT COALESCE(SUM(surplus), 0) * {_HOURS} FROM settlements WHERE run_id = $run AND agent <> 'system'"
)
_VOLATILITY = "SELECT stddev_samp(vwap) FROM unit_prices WHERE run_id = $run"
_RETURN_VOLATILITY = """
SELECT stddev_samp(ln(price / prev)) FROM (
    SELECT price, LAG(price) OVER (PARTITION BY unit ORDER BY seq) AS prev FROM trades WHERE run_id = $run
) WHERE prev IS NOT NULL AND prev > 0 AND price > 0
"""
_VWAP = "SELECT SUM(price * qty) / NULLIF(SUM(qty), 0) FROM trades WHERE run_id = $run"
_LATE_SHARE = """
SELECT SUM(qty) FILTER (WHERE lead <= 1800) / NULLIF(SUM(qty), 0) FROM trades WHERE run_id = $run
"""
_NO_LIQUIDITY = """
SELECT COUNT(*) FILTER (WHERE reason = 'no_liquidity') FROM rejections WHERE run_id = $run
"""
_RESERVED_SHARE = f"""
WITH s AS (SELECT agent_type(agent) AS kind, * FROM settlements WHERE run_id = $run AND agent <> 'system')
SELECT SUM(GREATEST(reserved - realized, 0)) FILTER (WHERE realized < 0) * {_HOURS}
FROM s
"""

#: per-type costs: consumers pay -net_cash for what they consumed (kWh), producers earn it
_BY_TYPE = f"""
WITH s AS (
    SELECT agent_type(agent) AS kind, * FROM settlements WHERE run_id = $run AND agent <> 'system'
)
SELECT kind,
       -SUM(net_cash) / NULLIF(SUM(CASE WHEN realized < 0 THEN -realized ELSE 0 END) * {_HOURS}, 0)
           AS cost_per_kwh,
       SUM(penalty) AS penalties,
       SUM(GREATEST(-reserved - GREATEST(-realized, 0), 0)) FILTER (WHERE reserved < 0)
           / NULLIF(SUM(CASE WHEN realized < 0 THEN -realized ELSE 0 END), 0) AS over_reservation
FROM s GROUP BY kind ORDER BY kind
"""


#: over-reservation per group label of the agents view
_OVER_BY_GROUP = """
WITH s AS (
    SELECT a.group_name, st.* FROM settlements st
    JOIN agents a ON a.run_id = st.run_id AND a.agent = st.agent
    WHERE st.run_id = $run AND st.agent <> 'system'
)
SELECT group_name,
       SUM(GREATEST(-reserved - GREATEST(-realized, 0), 0)) FILTER (WHERE reserved < 0)
           / NULLIF(SUM(CASE WHEN realized < 0 THEN -realized ELSE 0 END), 0) AS over_reservation
FROM s GROUP BY group_name ORDER BY group_name
"""

#: cost per kWh consumed of agents with attribute income = "low" minus that of the other consumers
_INCOME_GAP = """
WITH s AS (
    SELECT COALESCE(json_extract_string(a.attributes, '$.income') = 'low', false) AS low, st.*
    FROM settlements st JOIN agents a ON a.run_id = st.run_id AND a.agent = st.agent
    WHERE st.run_id = $run AND st.agent <> 'system' AND a.kind = 'household'
), c AS (
    SELECT low, -SUM(net_cash) / NULLIF(SUM(GREATEST(-realized, 0)), 0) AS per_unit FROM s GROUP BY low
)
SELECT (SELECT per_unit FROM c WHERE low) - (SELECT per_unit FROM c WHERE NOT low)
"""


def _by(sql: str, prefix: str = "") -> MetricFn:
    def read(ax: Any, run_id: str, ctx: Context) -> dict[str, float | None]:
        columns, rows = ax.rows(sql, {"run": run_id}, run=run_id)
        out: dict[str, float | None] = {}
        for row in rows:
            key = row[0]
            for name, value in zip(columns[1:], row[1:], strict=True):
                out[f"{prefix}{name}:{key}"] = None if value is None else float(value)
        return out

    return read


def _income_gap(ax: Any, run_id: str, ctx: Context) -> dict[str, float | None]:
    # cash per meter-unit x unit of consumption -> per kWh: divide by the unit's hours
    value = _scalar(ax, run_id, _INCOME_GAP)
    hours = _scalar(ax, run_id, f"SELECT {_HOURS}")
    return {"income_gap": None if value is None or not hours else value / hours}


def _affected_vwap(ax: Any, run_id: str, ctx: Context) -> dict[str, float | None]:
    """VWAP of the units a shock hits (``ctx['units'] = [first, last]``)."""
    first, last = ctx["units"]
    sql = (
        "SELECT SUM(price * qty) / NULLIF(SUM(qty), 0) FROM trades "
        "WHERE run_id = $run AND unit BETWEEN $first AND $last"
    )
    return {"affected_vwap": _scalar(ax, run_id, sql, {"first": first, "last": last})}


def _affected_deficit(ax: Any, run_id: str, ctx: Context) -> dict[str, float | None]:
    first, last = ctx["units"]
    sql = (
        f"SELECT COALESCE(SUM(shortfall), 0) * {_HOURS} FROM settlements "
        "WHERE run_id = $run AND agent <> 'system' AND unit BETWEEN $first AND $last"
    )
    return {"affected_deficit_kwh": _scalar(ax, run_id, sql, {"first": first, "last": last})}


def _named(query: str, keys: tuple[str, ...] = (), prefix: str = "") -> MetricFn:
    """A named query of :mod:`rexnet.analytics.metrics` as metrics: every numeric column of every
    row, named ``column`` (one-row queries) or ``column:KEY`` with the row's key columns."""

    def read(ax: Any, run_id: str, ctx: Context) -> dict[str, float | None]:
        columns, rows = ax.named_rows(query, run_id)
        out: dict[str, float | None] = {}
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            label = "/".join(str(record[k]) for k in keys)
            for column, value in record.items():
                if column in keys or isinstance(value, str):
                    continue
                name = f"{prefix}{column}" + (f":{label}" if keys else "")
                out[name] = None if value is None else float(value)
        return out

    return read


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("volume_kwh", "energy traded", "kWh", _one("volume_kwh", _VOLUME)),
        Metric("trades", "number of trades", "trades", _one("trades", _TRADES)),
        Metric(
            "small_share",
            "share of traded volume with a small prosumer (household, flexible, solar, wind, storage) "
            "on at least one side",
            "share",
            _one("small_share", _SMALL_SHARE),
        ),
        Metric(
            "no_dispatchable_share",
            "share of traded volume with no dispatchable generator on either side",
            "share",
            _one("no_dispatchable_share", _NO_DISPATCHABLE_SHARE),
        ),
        Metric(
            "penalties",
            "penalties paid for shortfalls (floor rule)",
            "currency",
            _one("penalties", _PENALTIES),
        ),
        Metric(
            "deficit_kwh", "energy short of reservations (shortfall)", "kWh", _one("deficit_kwh", _DEFICIT)
        ),
        Metric(
            "surplus_kwh",
            "energy beyond reservations (dumped or credited)",
            "kWh",
            _one("surplus_kwh", _SURPLUS),
        ),
        Metric("vwap", "volume-weighted price of all trades", "currency/MWh", _one("vwap", _VWAP)),
        Metric(
            "price_volatility",
            "standard deviation of the units' volume-weighted prices",
            "currency/MWh",
            _one("price_volatility", _VOLATILITY),
        ),
        Metric(
            "return_volatility",
            "standard deviation of log price changes between consecutive trades of a unit",
            "log return",
            _one("return_volatility", _RETURN_VOLATILITY),
        ),
        Metric(
            "late_share",
            "share of volume traded in the last 30 minutes before a unit's gate",
            "share",
            _one("late_share", _LATE_SHARE),
        ),
        Metric(
            "no_liquidity",
            "market orders rejected because the other side of the book was empty",
            "orders",
            _one("no_liquidity", _NO_LIQUIDITY),
        ),
        Metric(
            "by_type",
            "per prosumer type: cost per kWh consumed (net cash paid / energy consumed), penalties, "
            "over-reservation (reserved consumption beyond realized, per kWh consumed)",
            "currency/kWh, currency, share",
            _by(_BY_TYPE),
        ),
        Metric(
            "by_group",
            "per group label of the agents view (group_name): consumers' cost per kWh, what the "
            "flat and time-of-use tariffs would have charged per kWh, penalties (costs_by_group)",
            "currency/kWh, currency",
            _named("costs_by_group", ("group_name",), "group."),
        ),
        Metric(
            "over_reservation_by_group",
            "reserved consumption beyond realized consumption, per kWh consumed, per group label",
            "share",
            _by(_OVER_BY_GROUP, "group."),
        ),
        Metric(
            "income_gap",
            'households\' cost per kWh consumed: those with attribute income = "low" minus the others '
            "(per kW-unit of consumption, so a ratio of the two groups' average prices)",
            "currency/kWh",
            _income_gap,
        ),
        Metric(
            "efficiency",
            "allocative efficiency of the agents with values and costs (allocative_efficiency)",
            "share",
            _named("allocative_efficiency"),
        ),
        Metric(
            "gate_liquidity",
            "no_liquidity rate, volume share near the gate and depth at the gate (gate_liquidity)",
            "share, kW",
            _named("gate_liquidity"),
        ),
        Metric(
            "uncertainty_premium",
            "consumers' VWAP minus the perfect-foresight clearing price (uncertainty_premium)",
            "currency/MWh",
            _named("uncertainty_premium"),
        ),
        Metric(
            "avoidable_dispatch",
            "dispatchable output while renewables were dumped, and its cost (avoidable_dispatch)",
            "kWh, currency",
            _named("avoidable_dispatch"),
        ),
        Metric(
            "fill_rate",
            "share of realized consumption and production covered by reservations (fill_rate)",
            "share",
            _named("fill_rate", ("group_name",), "fill."),
        ),
        Metric(
            "affected_vwap",
            "volume-weighted price of the units a shock hits",
            "currency/MWh",
            _affected_vwap,
        ),
        Metric(
            "affected_deficit_kwh",
            "energy short of reservations in the units a shock hits",
            "kWh",
            _affected_deficit,
        ),
    ]
}


def read_metrics(ax: Any, run_id: str, names: list[str], ctx: Context) -> dict[str, float | None]:
    """Every metric of ``names`` for one run, flattened into ``name -> value``."""
    out: dict[str, float | None] = {}
    for name in names:
        out.update(METRICS[name].read(ax, run_id, ctx))
    return out


def recovery_units(
    ax_treated: Any, treated: str, ax_base: Any, base: str, ctx: Context
) -> dict[str, float | None]:
    """Units after the shock's last unit until the unit VWAP is back within the band of the baseline.

    ``ctx['units']`` are the shocked units, ``ctx['band']`` the relative band (e.g. 0.1 = 10%).
    0 means the first unit after the shock is already back; None that prices never came back
    within the run.
    """
    _, last = ctx["units"]
    band = float(ctx.get("band", 0.1))
    sql = "SELECT unit, vwap FROM unit_prices WHERE run_id = $run AND unit > $last ORDER BY unit"
    _, rows_t = ax_treated.rows(sql, {"run": treated, "last": last}, run=treated)
    _, rows_b = ax_base.rows(sql, {"run": base, "last": last}, run=base)
    base_vwap = {int(u): float(v) for u, v in rows_b if v is not None}
    for unit, vwap in rows_t:
        ref = base_vwap.get(int(unit))
        if ref is None or vwap is None:
            continue
        if abs(float(vwap) - ref) <= band * abs(ref):
            return {"recovery_units": float(int(unit) - last - 1)}
    return {"recovery_units": None}
