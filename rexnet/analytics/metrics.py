"""Market-design metrics as named queries (DuckDB SQL over the catalogue views); docs/metrics.md.

Each metric is defined in docs/metrics.md with its formula; the SQL here is that formula over
the views ``agents`` (who each agent is: kind, group, values, costs, capacities), ``settlements``,
``reservations``, ``trades``, ``orders``, ``rejections``, ``order_updates``, ``unit_prices`` and
the run's ``run_started`` record (its scenario, with the optional ``[tariff]``, and its market).

Conventions as in :mod:`rexnet.analytics.queries`: quantities kW, ``*_kwh`` energies (kW x unit
hours), money currency, prices currency/MWh, the system account left out. An agent without an
``agent_registered`` record (an ingested run) has the kind of its id (``agent_type``) and no
values or costs, so the metrics that need them give NULL for it.
"""

from __future__ import annotations

from typing import Any

# unit hours of the run, and its scenario / market records
_RUN = """
m AS (SELECT unit_seconds, unit_seconds / 3600.0 AS h, horizon FROM run_markets WHERE run_id = $run),
rs AS (SELECT payload FROM events WHERE run_id = $run AND type = 'run_started'),
a AS (SELECT agent, COALESCE(kind, agent_type(agent)) AS kind,
             COALESCE(group_name, kind, agent_type(agent)) AS group_name,
             capacity_kw, demand_kw, cost, value, need_kwh
      FROM agents WHERE run_id = $run)"""

# -- allocative efficiency ------------------------------------------------------------------------
_EFFICIENCY_BASE = f"""
WITH {_RUN},
span AS (SELECT COALESCE(TRY_CAST(json_extract_string(rs.payload, '$.scenario.run.start_unit') AS BIGINT),
                         m.horizon) AS first_unit,
                COALESCE(TRY_CAST(json_extract_string(rs.payload, '$.scenario.run.units') AS BIGINT), 0) AS n
         FROM rs, m),
units AS (SELECT first_unit + unnest(range(n)) AS unit FROM span),
buyers AS (SELECT agent, value AS v, demand_kw AS q FROM a
           WHERE value IS NOT NULL AND demand_kw IS NOT NULL AND need_kwh IS NULL),
sellers AS (SELECT agent, cost AS c, capacity_kw AS q FROM a
            WHERE cost IS NOT NULL AND capacity_kw IS NOT NULL),
traders AS (SELECT agent FROM buyers UNION SELECT agent FROM sellers),
steps AS (SELECT p, LEAD(p) OVER (ORDER BY p) AS p_next
          FROM (SELECT v AS p FROM buyers UNION SELECT c FROM sellers) AS prices),
curve AS (SELECT s.p, s.p_next,
                 (SELECT COALESCE(SUM(q), 0) FROM buyers b WHERE b.v >= s.p_next) AS demand,
                 (SELECT COALESCE(SUM(q), 0) FROM sellers x WHERE x.c <= s.p) AS supply
          FROM steps s WHERE s.p_next IS NOT NULL),
best AS (SELECT COALESCE(SUM(LEAST(demand, supply) * (p_next - p)), 0) AS area FROM curve),
got AS (SELECT r.unit,
               SUM(COALESCE(b.v * GREATEST(-r.qty, 0), 0) - COALESCE(x.c * GREATEST(r.qty, 0), 0)) AS area
        FROM reservations r LEFT JOIN buyers b ON b.agent = r.agent LEFT JOIN sellers x ON x.agent = r.agent
        WHERE r.run_id = $run GROUP BY r.unit),
vol AS (SELECT unit, SUM(qty) AS volume,
               SUM(qty) FILTER (WHERE buyer NOT IN (SELECT agent FROM traders)
                                   OR seller NOT IN (SELECT agent FROM traders)) AS outside
        FROM trades WHERE run_id = $run GROUP BY unit),
per_unit AS (SELECT u.unit, COALESCE(g.area, 0) * m.h / 1000 AS realized, best.area * m.h / 1000 AS maximal,
                    COALESCE(v.volume, 0) * m.h AS volume_kwh, COALESCE(v.outside, 0) * m.h AS outside_kwh
             FROM units u CROSS JOIN m CROSS JOIN best
             LEFT JOIN got g ON g.unit = u.unit LEFT JOIN vol v ON v.unit = u.unit)
"""

_EFFICIENCY = (
    _EFFICIENCY_BASE
    + """
SELECT COUNT(*) AS units, (SELECT COUNT(*) FROM buyers) AS buyers, (SELECT COUNT(*) FROM sellers) AS sellers,
       ROUND(SUM(realized), 10) AS realized_surplus, ROUND(SUM(maximal), 10) AS max_surplus,
       ROUND(SUM(realized) / NULLIF(SUM(maximal), 0), 10) AS efficiency,
       ROUND(SUM(volume_kwh), 10) AS volume_kwh, ROUND(SUM(outside_kwh), 10) AS outside_volume_kwh
FROM per_unit
"""
)

_EFFICIENCY_BY_UNIT = (
    _EFFICIENCY_BASE
    + """
SELECT unit, ROUND(realized, 10) AS realized_surplus, ROUND(maximal, 10) AS max_surplus,
       ROUND(realized / NULLIF(maximal, 0), 10) AS efficiency, ROUND(volume_kwh, 10) AS volume_kwh,
       ROUND(outside_kwh, 10) AS outside_volume_kwh
FROM per_unit ORDER BY unit
"""
)

# -- gate liquidity -------------------------------------------------------------------------------
_GATE_LIQUIDITY = f"""
WITH {_RUN},
mk AS (SELECT COUNT(*) AS accepted FROM orders WHERE run_id = $run AND price IS NULL),
nl AS (SELECT COUNT(*) AS refused FROM rejections WHERE run_id = $run AND reason = 'no_liquidity'),
tr AS (SELECT SUM(qty) AS volume, COALESCE(SUM(qty) FILTER (WHERE lead <= $window), 0) AS late
       FROM trades WHERE run_id = $run),
traded AS (SELECT DISTINCT unit FROM orders WHERE run_id = $run),
resting AS (SELECT u.unit, o.side, SUM(u.remaining) AS qty
            FROM order_updates u JOIN orders o ON o.run_id = u.run_id AND o.order_id = u.order_id
            WHERE u.run_id = $run AND u.type = 'order_expired' GROUP BY u.unit, o.side),
gate AS (SELECT t.unit, COALESCE(b.qty, 0) AS bids, COALESCE(s.qty, 0) AS asks
         FROM traded t LEFT JOIN resting b ON b.unit = t.unit AND b.side = 'buy'
         LEFT JOIN resting s ON s.unit = t.unit AND s.side = 'sell')
SELECT mk.accepted + nl.refused AS market_orders, nl.refused AS no_liquidity,
       ROUND(nl.refused / NULLIF(mk.accepted + nl.refused, 0), 10) AS no_liquidity_rate,
       ROUND(COALESCE(tr.volume, 0) * m.h, 10) AS volume_kwh,
       ROUND(tr.late / NULLIF(tr.volume, 0), 10) AS late_share,
       (SELECT COUNT(*) FROM gate) AS units,
       ROUND((SELECT AVG(bids) FROM gate), 10) AS gate_bid_depth_kw,
       ROUND((SELECT AVG(asks) FROM gate), 10) AS gate_ask_depth_kw,
       ROUND((SELECT AVG(CASE WHEN bids = 0 THEN 1.0 ELSE 0.0 END) FROM gate), 10) AS units_without_bids,
       ROUND((SELECT AVG(CASE WHEN asks = 0 THEN 1.0 ELSE 0.0 END) FROM gate), 10) AS units_without_asks
FROM mk, nl, tr, m
"""

_FILL_RATE = f"""
WITH {_RUN},
s AS (SELECT s.agent, s.reserved AS e, s.realized AS x FROM settlements s
      WHERE s.run_id = $run AND s.agent <> 'system')
SELECT a.kind, a.group_name, COUNT(DISTINCT s.agent) AS agents,
       ROUND(SUM(GREATEST(-s.x, 0)) * m.h, 10) AS consumed_kwh,
       ROUND(SUM(LEAST(GREATEST(-s.e, 0), GREATEST(-s.x, 0))) / NULLIF(SUM(GREATEST(-s.x, 0)), 0), 10)
           AS consumption_fill,
       ROUND(SUM(GREATEST(s.x, 0)) * m.h, 10) AS produced_kwh,
       ROUND(SUM(LEAST(GREATEST(s.e, 0), GREATEST(s.x, 0))) / NULLIF(SUM(GREATEST(s.x, 0)), 0), 10)
           AS production_fill,
       ROUND(SUM(GREATEST(s.e, 0)) / NULLIF(SUM(GREATEST(s.x, 0)), 0), 10) AS sold_share
FROM s JOIN a ON a.agent = s.agent CROSS JOIN m
GROUP BY a.kind, a.group_name, m.h ORDER BY a.kind, a.group_name
"""

# -- uncertainty premium --------------------------------------------------------------------------
_PREMIUM_BASE = f"""
WITH {_RUN},
x AS (SELECT s.unit, s.agent, s.realized FROM settlements s WHERE s.run_id = $run AND s.agent <> 'system'),
dem AS (SELECT x.unit, SUM(GREATEST(-x.realized, 0)) AS demand,
               SUM(CASE WHEN a.cost IS NULL THEN GREATEST(x.realized, 0) ELSE 0 END) AS must_take
        FROM x LEFT JOIN a ON a.agent = x.agent GROUP BY x.unit),
stack AS (SELECT cost, SUM(capacity_kw) OVER (ORDER BY cost, agent ROWS UNBOUNDED PRECEDING) AS cum
          FROM a WHERE cost IS NOT NULL AND capacity_kw IS NOT NULL),
pf AS (SELECT d.unit, d.demand, d.must_take,
              CASE WHEN d.demand <= d.must_take THEN 0.0
                   ELSE (SELECT MIN(cost) FROM stack WHERE cum >= d.demand - d.must_take) END AS pf_price
       FROM dem d),
cv AS (SELECT t.unit, SUM(t.price * t.qty) AS notional, SUM(t.qty) AS qty
       FROM trades t JOIN x ON x.unit = t.unit AND x.agent = t.buyer AND x.realized < 0
       WHERE t.run_id = $run GROUP BY t.unit),
per_unit AS (SELECT pf.unit, pf.demand, pf.must_take, pf.pf_price, cv.qty, cv.notional,
                    cv.notional / cv.qty AS consumer_vwap
             FROM pf LEFT JOIN cv ON cv.unit = pf.unit)
"""

_PREMIUM = (
    _PREMIUM_BASE
    + """
SELECT COUNT(*) FILTER (WHERE consumer_vwap IS NOT NULL AND pf_price IS NOT NULL) AS units,
       COUNT(*) FILTER (WHERE pf_price IS NULL) AS scarce_units,
       ROUND(SUM(notional) FILTER (WHERE pf_price IS NOT NULL)
             / SUM(qty) FILTER (WHERE pf_price IS NOT NULL), 10) AS consumer_vwap,
       ROUND(SUM(qty * pf_price) / SUM(qty) FILTER (WHERE pf_price IS NOT NULL), 10) AS foresight_price,
       ROUND((SUM(notional) FILTER (WHERE pf_price IS NOT NULL) - SUM(qty * pf_price))
             / SUM(qty) FILTER (WHERE pf_price IS NOT NULL), 10) AS premium
FROM per_unit
"""
)

_PREMIUM_BY_UNIT = (
    _PREMIUM_BASE
    + """
SELECT unit, ROUND(demand, 10) AS demand_kw, ROUND(must_take, 10) AS must_take_kw,
       pf_price AS foresight_price,
       ROUND(consumer_vwap, 10) AS consumer_vwap, ROUND(qty, 10) AS consumer_volume_kw,
       ROUND(consumer_vwap - pf_price, 10) AS premium
FROM per_unit ORDER BY unit
"""
)

# -- avoidable dispatch ---------------------------------------------------------------------------
_AVOIDABLE = f"""
WITH {_RUN},
s AS (SELECT s.unit, s.agent, s.realized, s.surplus, a.kind, a.cost
      FROM settlements s LEFT JOIN a ON a.agent = s.agent WHERE s.run_id = $run AND s.agent <> 'system'),
dumped AS (SELECT unit, SUM(surplus) FILTER (WHERE kind IN ('wind', 'solar')) AS dumped,
                  GREATEST(SUM(realized), 0) AS spare
           FROM s GROUP BY unit),
gen AS (SELECT unit, agent, cost, GREATEST(realized, 0) AS output,
               COALESCE(SUM(GREATEST(realized, 0)) OVER (PARTITION BY unit ORDER BY cost DESC, agent
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS costlier
        FROM s WHERE kind = 'dispatchable'),
avoid AS (SELECT g.unit, g.cost, g.output,
                 LEAST(g.output, GREATEST(COALESCE(d.dumped, 0) - g.costlier, 0)) AS avoided,
                 LEAST(g.output, GREATEST(COALESCE(d.spare, 0) - g.costlier, 0)) AS unneeded
          FROM gen g LEFT JOIN dumped d ON d.unit = g.unit)
SELECT ROUND(COALESCE((SELECT SUM(dumped) FROM dumped), 0) * m.h, 10) AS dumped_renewable_kwh,
       ROUND(COALESCE((SELECT SUM(output) FROM avoid), 0) * m.h, 10) AS dispatch_kwh,
       ROUND(COALESCE((SELECT SUM(avoided) FROM avoid), 0) * m.h, 10) AS avoidable_kwh,
       ROUND(COALESCE((SELECT SUM(avoided * cost) FROM avoid), 0) * m.h / 1000, 10) AS avoidable_cost,
       (SELECT COUNT(DISTINCT unit) FROM avoid WHERE avoided > 0) AS units_with_avoidable,
       ROUND(COALESCE((SELECT SUM(unneeded) FROM avoid), 0) * m.h, 10) AS unneeded_kwh,
       ROUND(COALESCE((SELECT SUM(unneeded * cost) FROM avoid), 0) * m.h / 1000, 10) AS unneeded_cost
FROM m
"""

# -- newsvendor calibration -----------------------------------------------------------------------
_NEWSVENDOR = f"""
WITH {_RUN},
rule AS (SELECT CAST(json_extract_string(payload, '$.market.penalty_price') AS DOUBLE) AS penalty,
                CAST(json_extract_string(payload, '$.market.penalty_vwap_multiple') AS DOUBLE) AS multiple,
                CAST(json_extract_string(payload, '$.market.surplus_price') AS DOUBLE) AS surplus
         FROM rs),
q AS (SELECT p.unit, LEAST(GREATEST((p.vwap - r.surplus)
                 / NULLIF(GREATEST(r.penalty, r.multiple * p.vwap) - r.surplus, 0), 0), 1) AS q
      FROM unit_prices p CROSS JOIN rule r WHERE p.run_id = $run),
s AS (SELECT s.agent, s.unit, s.reserved, s.shortfall FROM settlements s
      WHERE s.run_id = $run AND s.agent <> 'system'),
cells AS (SELECT a.kind, a.group_name, COUNT(*) AS n, COUNT(*) FILTER (WHERE s.shortfall > 0) AS short,
                 COUNT(*) FILTER (WHERE s.reserved <> 0) AS n_reserved,
                 COUNT(*) FILTER (WHERE s.reserved <> 0 AND s.shortfall > 0) AS short_reserved,
                 AVG(q.q) AS target
          FROM s JOIN a ON a.agent = s.agent LEFT JOIN q ON q.unit = s.unit
          GROUP BY a.kind, a.group_name)
SELECT kind, group_name, n AS agent_units, short AS shortfall_units,
       ROUND(short / n, 10) AS shortfall_freq,
       n_reserved AS reserved_units,
       ROUND(short_reserved / NULLIF(n_reserved, 0), 10) AS reserved_shortfall_freq,
       ROUND(target, 10) AS target_q,
       ROUND(GREATEST(target - 1.96 * SQRT(target * (1 - target) / n), 0), 10) AS target_low,
       ROUND(LEAST(target + 1.96 * SQRT(target * (1 - target) / n), 1), 10) AS target_high,
       short / n BETWEEN target - 1.96 * SQRT(target * (1 - target) / n)
                     AND target + 1.96 * SQRT(target * (1 - target) / n) AS within_95
FROM cells ORDER BY kind, group_name
"""

# -- price volatility -----------------------------------------------------------------------------
_VOLATILITY = """
WITH tr AS (SELECT price - LAG(price) OVER (PARTITION BY unit ORDER BY seq) AS dp
            FROM trades WHERE run_id = $run),
up AS (SELECT vwap, vwap - LAG(vwap) OVER (ORDER BY unit) AS dv FROM unit_prices WHERE run_id = $run)
SELECT (SELECT COUNT(*) FROM tr) AS trades,
       (SELECT ROUND(STDDEV_SAMP(dp), 10) FROM tr) AS trade_change_std,
       (SELECT COUNT(*) FROM up) AS units,
       (SELECT ROUND(AVG(vwap), 10) FROM up) AS vwap_mean,
       (SELECT ROUND(STDDEV_SAMP(vwap), 10) FROM up) AS vwap_std,
       (SELECT ROUND(STDDEV_SAMP(dv), 10) FROM up) AS vwap_change_std
"""

# -- costs against tariffs ------------------------------------------------------------------------
_TARIFF_BASE = f"""
WITH {_RUN},
flat AS (SELECT TRY_CAST(json_extract_string(payload, '$.scenario.tariff.flat') AS DOUBLE) AS price FROM rs),
tou AS (SELECT unnest(from_json(json_extract(payload, '$.scenario.tariff.tou'),
                                '[{{"from_h": "DOUBLE", "to_h": "DOUBLE", "price": "DOUBLE"}}]'),
                      recursive := true)
        FROM rs),
s AS (SELECT s.agent, s.realized, s.net_cash, s.penalty,
             GREATEST(-s.realized, 0) * m.h AS consumed, GREATEST(s.realized, 0) * m.h AS produced,
             ((s.unit * m.unit_seconds) % 86400) / 3600.0 AS hour
      FROM settlements s CROSS JOIN m WHERE s.run_id = $run AND s.agent <> 'system'),
priced AS (SELECT s.*, (SELECT price FROM tou WHERE s.hour >= tou.from_h AND s.hour < tou.to_h) AS tou_price
           FROM s),
per_agent AS (SELECT p.agent, a.kind, a.group_name, SUM(p.consumed) AS consumed_kwh,
                     SUM(p.produced) AS produced_kwh, -SUM(p.net_cash) AS cost, SUM(p.penalty) AS penalties,
                     SUM(p.consumed * (SELECT price FROM flat)) / 1000 AS flat_bill,
                     SUM(p.consumed * p.tou_price) / 1000 AS tou_bill
              FROM priced p JOIN a ON a.agent = p.agent GROUP BY p.agent, a.kind, a.group_name)
"""

_TARIFF_COMPARISON = (
    _TARIFF_BASE
    + """
SELECT agent, kind, group_name, ROUND(consumed_kwh, 10) AS consumed_kwh,
       ROUND(produced_kwh, 10) AS produced_kwh,
       ROUND(cost, 10) AS cost, ROUND(cost / consumed_kwh, 10) AS cost_per_kwh,
       ROUND(flat_bill, 10) AS flat_bill, ROUND(tou_bill, 10) AS tou_bill,
       ROUND(flat_bill / consumed_kwh, 10) AS flat_per_kwh, ROUND(tou_bill / consumed_kwh, 10) AS tou_per_kwh,
       ROUND(cost - flat_bill, 10) AS vs_flat, ROUND(cost - tou_bill, 10) AS vs_tou
FROM per_agent WHERE consumed_kwh > 0 ORDER BY agent
"""
)

_COSTS_BY_GROUP = (
    _TARIFF_BASE
    + """
SELECT kind, group_name, COUNT(*) AS agents, ROUND(SUM(consumed_kwh), 10) AS consumed_kwh,
       ROUND(SUM(produced_kwh), 10) AS produced_kwh, ROUND(SUM(penalties), 10) AS penalties,
       ROUND(SUM(cost), 10) AS cost,
       ROUND(SUM(cost) / NULLIF(SUM(consumed_kwh + produced_kwh), 0), 10) AS cost_per_kwh,
       COUNT(*) FILTER (WHERE consumed_kwh > 0 AND produced_kwh = 0) AS consumers,
       ROUND(SUM(cost) FILTER (WHERE consumed_kwh > 0 AND produced_kwh = 0)
             / SUM(consumed_kwh) FILTER (WHERE produced_kwh = 0), 10) AS consumer_cost_per_kwh,
       ROUND(SUM(flat_bill) FILTER (WHERE produced_kwh = 0)
             / SUM(consumed_kwh) FILTER (WHERE produced_kwh = 0), 10) AS flat_per_kwh,
       ROUND(SUM(tou_bill) FILTER (WHERE produced_kwh = 0)
             / SUM(consumed_kwh) FILTER (WHERE produced_kwh = 0), 10) AS tou_per_kwh
FROM per_agent GROUP BY kind, group_name ORDER BY kind, group_name
"""
)

#: (name, description, SQL, parameters) of each metric, in the order ``rexnet sql --list`` shows them
METRICS: tuple[tuple[str, str, str, dict[str, tuple[type, Any]]], ...] = (
    (
        "allocative_efficiency",
        "Realized surplus of the agents with values and costs / the maximal (competitive) surplus "
        "of the run's units (docs/metrics.md)",
        _EFFICIENCY,
        {},
    ),
    (
        "efficiency_by_unit",
        "allocative_efficiency per delivery unit",
        _EFFICIENCY_BY_UNIT,
        {},
    ),
    (
        "gate_liquidity",
        "no_liquidity rate of market orders, share of volume traded within $window s of the gate, "
        "depth resting at each gate",
        _GATE_LIQUIDITY,
        {"window": (float, 1800.0)},
    ),
    (
        "fill_rate",
        "Share of realized consumption and production covered by reservations, by kind and group",
        _FILL_RATE,
        {},
    ),
    (
        "uncertainty_premium",
        "Consumers' VWAP minus the perfect-foresight clearing price of realized demand and supply",
        _PREMIUM,
        {},
    ),
    (
        "uncertainty_premium_by_unit",
        "uncertainty_premium per delivery unit",
        _PREMIUM_BY_UNIT,
        {},
    ),
    (
        "avoidable_dispatch",
        "Dispatchable output while wind and solar surplus was dumped in the same unit, and its cost",
        _AVOIDABLE,
        {},
    ),
    (
        "newsvendor_calibration",
        "Observed shortfall frequency vs the targeted fractile q = (p - s)/(P - s), by kind and group",
        _NEWSVENDOR,
        {},
    ),
    (
        "price_volatility",
        "Std of trade-to-trade price changes within units and of unit VWAPs",
        _VOLATILITY,
        {},
    ),
    (
        "tariff_comparison",
        "Each consumer's market cost vs what the scenario's flat and time-of-use tariffs would have "
        "charged for its realized consumption",
        _TARIFF_COMPARISON,
        {},
    ),
    (
        "costs_by_group",
        "Cost per kWh by kind and group, the consumers' against the tariffs",
        _COSTS_BY_GROUP,
        {},
    ),
)
