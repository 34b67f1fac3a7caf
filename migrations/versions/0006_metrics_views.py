"""The ``agents`` view (``agent_registered`` events) joins the catalogue; views re-created, frozen.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Simulated runs now record an ``agent_registered`` event per agent (kind, group label,
attributes, strategy, values, costs and capacities); the new view ``agents`` shows them, and the
agents of ingested runs (from their orders and realizations) with NULL kind and group. The
metrics of docs/metrics.md are named queries over it.

Like 0003, the view text is frozen here (:data:`VIEWS`, generated once from
:mod:`rexnet.analytics.catalogue`; never import the live catalogue in a migration).
``tests/integration/test_frozen_migrations.py`` holds the newest frozen views equal to what the
catalogue renders, so a change of the catalogue without a new migration fails the build.

Upgrade drops every view of the previous revision and creates these (PostgreSQL cannot
``CREATE OR REPLACE`` a view whose columns change), then the ``events`` view's triggers again.
Downgrade restores 0003's views from that file's own frozen text.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Message of the triggers that refuse UPDATE/DELETE through the ``events`` view.
APPEND_ONLY_MESSAGE = "events are append-only: history cannot be changed"
#: the views of the revision before this one, dropped before these are created
PREVIOUS_VIEWS = (
    "run_markets",
    "event_history",
    "events",
    "orders",
    "trades",
    "order_updates",
    "rejections",
    "gate_closures",
    "reservations",
    "realizations",
    "settlements",
    "unit_prices",
    "imbalance",
)

# fmt: off
# (generated once from rexnet.analytics.catalogue.render(Dialect(name)); never edit by hand)
VIEWS: dict[str, list[tuple[str, str]]] = {
    'sqlite': [
        (
            'run_markets',
            (
                "SELECT r.run_id, r.parent_run_id, r.fork_seq, CAST((r.market ->> 'unit_seconds') AS BIGINT)"
                " AS unit_seconds, CAST((r.market ->> 'horizon') AS BIGINT) AS horizon, CAST((r.market ->>"
                " 'gate_lead_seconds') AS BIGINT) AS gate_lead_seconds, CAST(r.price_scale AS DOUBLE) AS"
                ' price_scale, CAST(r.qty_scale AS DOUBLE) AS qty_scale, CAST(r.money_scale AS DOUBLE) AS'
                ' money_scale FROM runs r'
            ),
        ),
        (
            'event_history',
            (
                'WITH RECURSIVE lineage(run_id, source_run_id, upto) AS ( SELECT r.run_id, r.run_id,'
                ' CAST(NULL AS BIGINT) FROM runs r UNION ALL SELECT l.run_id, r.parent_run_id, CASE WHEN'
                ' l.upto IS NULL OR r.fork_seq < l.upto THEN r.fork_seq ELSE l.upto END FROM lineage l JOIN'
                ' runs r ON r.run_id = l.source_run_id WHERE r.parent_run_id IS NOT NULL) SELECT l.run_id,'
                ' e.seq, e.t_ms, e.type, e.version, e.payload, e.run_id AS source_run_id FROM lineage l JOIN'
                ' event_log e ON e.run_id = l.source_run_id AND (l.upto IS NULL OR e.seq <= l.upto)'
            ),
        ),
        (
            'events',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, h.type, h.version, h.payload'
                ' FROM event_history h'
            ),
        ),
        (
            'orders',
            (
                'WITH ev AS MATERIALIZED ( SELECT h.run_id, h.seq, h.t_ms, h.type, h.source_run_id,'
                " CAST((h.payload ->> 'order_id') AS BIGINT) AS order_id, CAST((h.payload ->> 'buy_order_id')"
                " AS BIGINT) AS buy_id, CAST((h.payload ->> 'sell_order_id') AS BIGINT) AS sell_id,"
                " CAST((h.payload ->> 'qty') AS BIGINT) AS qty, CAST((h.payload ->> 'remaining') AS BIGINT)"
                " AS remaining, CAST((h.payload ->> 'unit') AS BIGINT) AS unit, CAST((h.payload ->> 'price')"
                " AS BIGINT) AS price_ticks, (h.payload ->> 'reason') AS reason, (h.payload ->> 'ref') AS"
                " ref, (h.payload ->> 'agent') AS agent, (h.payload ->> 'side') AS side, (h.payload ->>"
                " 'tif') AS tif, (h.payload ->> 'set_ref') AS set_ref FROM event_history h WHERE h.type IN"
                " ('order_accepted', 'trade', 'order_cancelled', 'order_shrunk', 'order_expired')), fills AS"
                " ( SELECT run_id, seq, buy_id AS order_id, qty FROM ev WHERE type = 'trade' UNION ALL SELECT"
                " run_id, seq, sell_id AS order_id, qty FROM ev WHERE type = 'trade'), marks AS ( SELECT"
                ' run_id, seq, type, order_id, remaining, reason, ROW_NUMBER() OVER (PARTITION BY run_id,'
                " order_id ORDER BY seq DESC) AS rn FROM ev WHERE type IN ('order_cancelled', 'order_shrunk',"
                " 'order_expired')), last_mark AS (SELECT run_id, seq, type, order_id, remaining, reason FROM"
                ' marks WHERE rn = 1), filled AS ( SELECT f.run_id, f.order_id, SUM(f.qty) AS filled,'
                ' SUM(CASE WHEN lm.seq IS NOT NULL AND f.seq > lm.seq THEN f.qty ELSE 0 END) AS after_mark'
                ' FROM fills f LEFT JOIN last_mark lm ON lm.run_id = f.run_id AND lm.order_id = f.order_id'
                ' GROUP BY f.run_id, f.order_id), accepted AS ( SELECT run_id, seq, t_ms, source_run_id,'
                ' order_id, unit, price_ticks, qty AS qty_units, ref, agent, side, tif, set_ref FROM ev WHERE'
                " type = 'order_accepted'), fate AS ( SELECT a.*, lm.type AS mark_type, lm.reason AS"
                ' mark_reason, CASE WHEN lm.seq IS NULL THEN a.qty_units - COALESCE(f.filled, 0) ELSE'
                ' lm.remaining - COALESCE(f.after_mark, 0) END AS remaining_units, COALESCE(f.filled, 0) AS'
                ' filled_units FROM accepted a LEFT JOIN last_mark lm ON lm.run_id = a.run_id AND lm.order_id'
                ' = a.order_id LEFT JOIN filled f ON f.run_id = a.run_id AND f.order_id = a.order_id) SELECT'
                ' x.run_id, x.seq, CAST(x.t_ms AS DOUBLE) / 1000.0 AS t, x.order_id, x.ref, x.agent, x.side,'
                ' x.unit, ROUND(CAST(x.price_ticks AS DOUBLE) * m.price_scale, 10) AS price,'
                ' ROUND(CAST(x.qty_units AS DOUBLE) * m.qty_scale, 10) AS qty, x.tif, x.set_ref, CASE WHEN'
                " x.mark_type = 'order_cancelled' THEN 'cancelled' WHEN x.mark_type = 'order_expired' THEN"
                " 'expired' WHEN x.remaining_units = 0 THEN 'filled' ELSE 'open' END AS status,"
                ' ROUND(CAST(x.filled_units AS DOUBLE) * m.qty_scale, 10) AS filled,'
                ' ROUND(CAST(x.remaining_units AS DOUBLE) * m.qty_scale, 10) AS remaining, CASE WHEN'
                " x.mark_type = 'order_cancelled' THEN x.mark_reason END AS cancel_reason FROM fate x JOIN"
                ' run_markets m ON m.run_id = x.source_run_id'
            ),
        ),
        (
            'trades',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, CAST((h.payload ->>'
                " 'trade_id') AS BIGINT) AS trade_id, CAST((h.payload ->> 'unit') AS BIGINT) AS unit,"
                " ROUND(CAST(CAST((h.payload ->> 'price') AS BIGINT) AS DOUBLE) * m.price_scale, 10) AS"
                " price, ROUND(CAST(CAST((h.payload ->> 'qty') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS"
                " qty, CAST((h.payload ->> 'buy_order_id') AS BIGINT) AS buy_order_id, CAST((h.payload ->>"
                " 'sell_order_id') AS BIGINT) AS sell_order_id, (h.payload ->> 'buyer') AS buyer, (h.payload"
                " ->> 'seller') AS seller, (h.payload ->> 'aggressor') AS aggressor, CAST(CAST((h.payload ->>"
                " 'unit') AS BIGINT) * m.unit_seconds - m.gate_lead_seconds AS DOUBLE) - CAST(h.t_ms AS"
                ' DOUBLE) / 1000.0 AS lead FROM event_history h JOIN run_markets m ON m.run_id ='
                " h.source_run_id WHERE h.type = 'trade'"
            ),
        ),
        (
            'order_updates',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, CAST((h.payload ->>'
                " 'order_id') AS BIGINT) AS order_id, (h.payload ->> 'agent') AS agent, CAST((h.payload ->>"
                " 'unit') AS BIGINT) AS unit, ROUND(CAST(CAST((h.payload ->> 'remaining') AS BIGINT) AS"
                " DOUBLE) * m.qty_scale, 10) AS remaining, 'order_cancelled' AS type, (h.payload ->>"
                " 'reason') AS reason FROM event_history h JOIN run_markets m ON m.run_id = h.source_run_id"
                " WHERE h.type = 'order_cancelled' UNION ALL SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) /"
                " 1000.0 AS t, CAST((h.payload ->> 'order_id') AS BIGINT) AS order_id, (h.payload ->>"
                " 'agent') AS agent, CAST((h.payload ->> 'unit') AS BIGINT) AS unit,"
                " ROUND(CAST(CAST((h.payload ->> 'remaining') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS"
                " remaining, 'order_shrunk' AS type, CAST(NULL AS TEXT) AS reason FROM event_history h JOIN"
                " run_markets m ON m.run_id = h.source_run_id WHERE h.type = 'order_shrunk' UNION ALL SELECT"
                " h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, CAST((h.payload ->> 'order_id') AS"
                " BIGINT) AS order_id, (h.payload ->> 'agent') AS agent, CAST((h.payload ->> 'unit') AS"
                " BIGINT) AS unit, ROUND(CAST(CAST((h.payload ->> 'remaining') AS BIGINT) AS DOUBLE) *"
                " m.qty_scale, 10) AS remaining, 'order_expired' AS type, CAST(NULL AS TEXT) AS reason FROM"
                ' event_history h JOIN run_markets m ON m.run_id = h.source_run_id WHERE h.type ='
                " 'order_expired'"
            ),
        ),
        (
            'rejections',
            (
                "SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, (h.payload ->> 'ref') AS ref,"
                " (h.payload ->> 'agent') AS agent, (h.payload ->> 'reason') AS reason, (h.payload ->>"
                " 'message') AS message FROM event_history h JOIN run_markets m ON m.run_id = h.source_run_id"
                " WHERE h.type = 'order_rejected'"
            ),
        ),
        (
            'gate_closures',
            (
                "SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, CAST((h.payload ->> 'unit') AS"
                " BIGINT) AS unit, ROUND(CAST(CAST((h.payload ->> 'volume') AS BIGINT) AS DOUBLE) *"
                " m.qty_scale, 10) AS volume, ROUND(CAST(CAST((h.payload ->> 'vwap') AS BIGINT) AS DOUBLE) *"
                ' m.price_scale, 10) AS vwap FROM event_history h JOIN run_markets m ON m.run_id ='
                " h.source_run_id WHERE h.type = 'gate_closed'"
            ),
        ),
        (
            'reservations',
            (
                "SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, (h.payload ->> 'agent') AS"
                " agent, CAST((h.payload ->> 'unit') AS BIGINT) AS unit, ROUND(CAST(CAST((h.payload ->>"
                " 'qty') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS qty FROM event_history h JOIN"
                " run_markets m ON m.run_id = h.source_run_id WHERE h.type = 'reservation_fixed'"
            ),
        ),
        (
            'realizations',
            (
                "SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, (h.payload ->> 'agent') AS"
                " agent, CAST((h.payload ->> 'unit') AS BIGINT) AS unit, ROUND(CAST(CAST((h.payload ->>"
                " 'qty') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS qty FROM event_history h JOIN"
                " run_markets m ON m.run_id = h.source_run_id WHERE h.type = 'realized'"
            ),
        ),
        (
            'settlements',
            (
                "SELECT h.run_id, h.seq, CAST(h.t_ms AS DOUBLE) / 1000.0 AS t, (h.payload ->> 'agent') AS"
                " agent, CAST((h.payload ->> 'unit') AS BIGINT) AS unit, ROUND(CAST(CAST((h.payload ->>"
                " 'reserved') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS reserved,"
                " ROUND(CAST(CAST((h.payload ->> 'realized') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS"
                " realized, ROUND(CAST(CAST((h.payload ->> 'trade_cash') AS BIGINT) AS DOUBLE) *"
                " m.money_scale, 10) AS trade_cash, ROUND(CAST(CAST((h.payload ->> 'shortfall') AS BIGINT) AS"
                " DOUBLE) * m.qty_scale, 10) AS shortfall, ROUND(CAST(CAST((h.payload ->> 'penalty') AS"
                ' BIGINT) AS DOUBLE) * m.money_scale, 10) AS penalty, ROUND(CAST(CAST((h.payload ->>'
                " 'surplus') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS surplus, ROUND(CAST(CAST((h.payload"
                " ->> 'surplus_credit') AS BIGINT) AS DOUBLE) * m.money_scale, 10) AS surplus_credit,"
                " ROUND(CAST(CAST((h.payload ->> 'net_cash') AS BIGINT) AS DOUBLE) * m.money_scale, 10) AS"
                ' net_cash FROM event_history h JOIN run_markets m ON m.run_id = h.source_run_id WHERE h.type'
                " = 'settled'"
            ),
        ),
        (
            'unit_prices',
            (
                'SELECT run_id, unit, ROUND(SUM(qty), 10) AS volume, ROUND(SUM(price * qty) / SUM(qty), 10)'
                ' AS vwap, MIN(first_price) AS first_price, MIN(last_price) AS last_price, MIN(price) AS'
                ' min_price, MAX(price) AS max_price, COUNT(*) AS n_trades, MIN(t) AS first_t, MAX(t) AS'
                ' last_t FROM (SELECT run_id, unit, t, price, qty, FIRST_VALUE(price) OVER (PARTITION BY'
                ' run_id, unit ORDER BY seq) AS first_price, FIRST_VALUE(price) OVER (PARTITION BY run_id,'
                ' unit ORDER BY seq DESC) AS last_price FROM trades) AS tr GROUP BY run_id, unit'
            ),
        ),
        (
            'imbalance',
            (
                'SELECT run_id, unit, COUNT(*) AS participants, ROUND(SUM(reserved), 10) AS reserved,'
                ' ROUND(SUM(realized), 10) AS system_balance, ROUND(SUM(shortfall), 10) AS deficit,'
                ' ROUND(SUM(surplus), 10) AS surplus, ROUND(SUM(penalty), 10) AS penalties,'
                " ROUND(SUM(surplus_credit), 10) AS surplus_credits FROM settlements WHERE agent <> 'system'"
                ' GROUP BY run_id, unit'
            ),
        ),
        (
            'agents',
            (
                "WITH reg AS ( SELECT h.*, (h.payload ->> 'agent') AS agent_id, ROW_NUMBER() OVER (PARTITION"
                " BY h.run_id, (h.payload ->> 'agent') ORDER BY h.seq DESC) AS rn FROM event_history h WHERE"
                " h.type = 'agent_registered'), seen AS ( SELECT h.run_id, (h.payload ->> 'agent') AS"
                ' agent_id, MIN(h.seq) AS seq, MIN(h.t_ms) AS t_ms FROM event_history h WHERE h.type IN'
                " ('order_accepted', 'order_rejected', 'realized') GROUP BY h.run_id, (h.payload ->>"
                " 'agent')) SELECT r.run_id, r.seq, CAST(r.t_ms AS DOUBLE) / 1000.0 AS t, (r.payload ->>"
                " 'agent') AS agent, (r.payload ->> 'kind') AS kind, (r.payload ->> 'group') AS group_name,"
                " CAST((r.payload ->> 'attributes') AS TEXT) AS attributes, (r.payload ->> 'strategy') AS"
                " strategy, ROUND(CAST(CAST((r.payload ->> 'capacity') AS BIGINT) AS DOUBLE) * m.qty_scale,"
                " 10) AS capacity_kw, ROUND(CAST(CAST((r.payload ->> 'demand') AS BIGINT) AS DOUBLE) *"
                " m.qty_scale, 10) AS demand_kw, ROUND(CAST(CAST((r.payload ->> 'mean_load') AS BIGINT) AS"
                " DOUBLE) * m.qty_scale, 10) AS mean_load_kw, ROUND(CAST(CAST((r.payload ->> 'cost') AS"
                " BIGINT) AS DOUBLE) * m.price_scale, 10) AS cost, ROUND(CAST(CAST((r.payload ->> 'value') AS"
                " BIGINT) AS DOUBLE) * m.price_scale, 10) AS value, ROUND(CAST(CAST((r.payload ->> 'storage')"
                ' AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS storage_kwh, ROUND(CAST(CAST((r.payload ->>'
                " 'need') AS BIGINT) AS DOUBLE) * m.qty_scale, 10) AS need_kwh FROM reg r JOIN run_markets m"
                ' ON m.run_id = r.source_run_id WHERE r.rn = 1 UNION ALL SELECT s.run_id, s.seq, CAST(s.t_ms'
                ' AS DOUBLE) / 1000.0 AS t, s.agent_id AS agent, CAST(NULL AS TEXT) AS kind, CAST(NULL AS'
                ' TEXT) AS group_name, CAST(NULL AS TEXT) AS attributes, CAST(NULL AS TEXT) AS strategy,'
                ' CAST(NULL AS DOUBLE) AS capacity_kw, CAST(NULL AS DOUBLE) AS demand_kw, CAST(NULL AS'
                ' DOUBLE) AS mean_load_kw, CAST(NULL AS DOUBLE) AS cost, CAST(NULL AS DOUBLE) AS value,'
                ' CAST(NULL AS DOUBLE) AS storage_kwh, CAST(NULL AS DOUBLE) AS need_kwh FROM seen s WHERE'
                " s.agent_id <> 'system' AND NOT EXISTS (SELECT 1 FROM reg r WHERE r.run_id = s.run_id AND"
                ' r.agent_id = s.agent_id)'
            ),
        ),
    ],
    'postgresql': [
        (
            'run_markets',
            (
                'SELECT r.run_id, r.parent_run_id, r.fork_seq, CAST((CAST(r.market AS jsonb) ->>'
                " 'unit_seconds') AS BIGINT) AS unit_seconds, CAST((CAST(r.market AS jsonb) ->> 'horizon') AS"
                " BIGINT) AS horizon, CAST((CAST(r.market AS jsonb) ->> 'gate_lead_seconds') AS BIGINT) AS"
                ' gate_lead_seconds, CAST(r.price_scale AS numeric) AS price_scale, CAST(r.qty_scale AS'
                ' numeric) AS qty_scale, CAST(r.money_scale AS numeric) AS money_scale FROM runs r'
            ),
        ),
        (
            'event_history',
            (
                'WITH RECURSIVE lineage(run_id, source_run_id, upto) AS ( SELECT r.run_id, r.run_id,'
                ' CAST(NULL AS BIGINT) FROM runs r UNION ALL SELECT l.run_id, r.parent_run_id, CASE WHEN'
                ' l.upto IS NULL OR r.fork_seq < l.upto THEN r.fork_seq ELSE l.upto END FROM lineage l JOIN'
                ' runs r ON r.run_id = l.source_run_id WHERE r.parent_run_id IS NOT NULL) SELECT l.run_id,'
                ' e.seq, e.t_ms, e.type, e.version, e.payload, e.run_id AS source_run_id FROM lineage l JOIN'
                ' event_log e ON e.run_id = l.source_run_id AND (l.upto IS NULL OR e.seq <= l.upto)'
            ),
        ),
        (
            'events',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, h.type, h.version,'
                ' h.payload FROM event_history h'
            ),
        ),
        (
            'orders',
            (
                'WITH ev AS MATERIALIZED ( SELECT h.run_id, h.seq, h.t_ms, h.type, h.source_run_id,'
                " CAST((CAST(h.payload AS jsonb) ->> 'order_id') AS BIGINT) AS order_id, CAST((CAST(h.payload"
                " AS jsonb) ->> 'buy_order_id') AS BIGINT) AS buy_id, CAST((CAST(h.payload AS jsonb) ->>"
                " 'sell_order_id') AS BIGINT) AS sell_id, CAST((CAST(h.payload AS jsonb) ->> 'qty') AS"
                " BIGINT) AS qty, CAST((CAST(h.payload AS jsonb) ->> 'remaining') AS BIGINT) AS remaining,"
                " CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) AS unit, CAST((CAST(h.payload AS"
                " jsonb) ->> 'price') AS BIGINT) AS price_ticks, (CAST(h.payload AS jsonb) ->> 'reason') AS"
                " reason, (CAST(h.payload AS jsonb) ->> 'ref') AS ref, (CAST(h.payload AS jsonb) ->> 'agent')"
                " AS agent, (CAST(h.payload AS jsonb) ->> 'side') AS side, (CAST(h.payload AS jsonb) ->>"
                " 'tif') AS tif, (CAST(h.payload AS jsonb) ->> 'set_ref') AS set_ref FROM event_history h"
                " WHERE h.type IN ('order_accepted', 'trade', 'order_cancelled', 'order_shrunk',"
                " 'order_expired')), fills AS ( SELECT run_id, seq, buy_id AS order_id, qty FROM ev WHERE"
                " type = 'trade' UNION ALL SELECT run_id, seq, sell_id AS order_id, qty FROM ev WHERE type ="
                " 'trade'), marks AS ( SELECT run_id, seq, type, order_id, remaining, reason, ROW_NUMBER()"
                ' OVER (PARTITION BY run_id, order_id ORDER BY seq DESC) AS rn FROM ev WHERE type IN'
                " ('order_cancelled', 'order_shrunk', 'order_expired')), last_mark AS (SELECT run_id, seq,"
                ' type, order_id, remaining, reason FROM marks WHERE rn = 1), filled AS ( SELECT f.run_id,'
                ' f.order_id, SUM(f.qty) AS filled, SUM(CASE WHEN lm.seq IS NOT NULL AND f.seq > lm.seq THEN'
                ' f.qty ELSE 0 END) AS after_mark FROM fills f LEFT JOIN last_mark lm ON lm.run_id = f.run_id'
                ' AND lm.order_id = f.order_id GROUP BY f.run_id, f.order_id), accepted AS ( SELECT run_id,'
                ' seq, t_ms, source_run_id, order_id, unit, price_ticks, qty AS qty_units, ref, agent, side,'
                " tif, set_ref FROM ev WHERE type = 'order_accepted'), fate AS ( SELECT a.*, lm.type AS"
                ' mark_type, lm.reason AS mark_reason, CASE WHEN lm.seq IS NULL THEN a.qty_units -'
                ' COALESCE(f.filled, 0) ELSE lm.remaining - COALESCE(f.after_mark, 0) END AS remaining_units,'
                ' COALESCE(f.filled, 0) AS filled_units FROM accepted a LEFT JOIN last_mark lm ON lm.run_id ='
                ' a.run_id AND lm.order_id = a.order_id LEFT JOIN filled f ON f.run_id = a.run_id AND'
                ' f.order_id = a.order_id) SELECT x.run_id, x.seq, CAST(x.t_ms AS double precision) / 1000.0'
                ' AS t, x.order_id, x.ref, x.agent, x.side, x.unit, CAST(CAST(x.price_ticks AS numeric) *'
                ' m.price_scale AS double precision) AS price, CAST(CAST(x.qty_units AS numeric) *'
                ' m.qty_scale AS double precision) AS qty, x.tif, x.set_ref, CASE WHEN x.mark_type ='
                " 'order_cancelled' THEN 'cancelled' WHEN x.mark_type = 'order_expired' THEN 'expired' WHEN"
                " x.remaining_units = 0 THEN 'filled' ELSE 'open' END AS status, CAST(CAST(x.filled_units AS"
                ' numeric) * m.qty_scale AS double precision) AS filled, CAST(CAST(x.remaining_units AS'
                ' numeric) * m.qty_scale AS double precision) AS remaining, CASE WHEN x.mark_type ='
                " 'order_cancelled' THEN x.mark_reason END AS cancel_reason FROM fate x JOIN run_markets m ON"
                ' m.run_id = x.source_run_id'
            ),
        ),
        (
            'trades',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, CAST((CAST(h.payload'
                " AS jsonb) ->> 'trade_id') AS BIGINT) AS trade_id, CAST((CAST(h.payload AS jsonb) ->>"
                " 'unit') AS BIGINT) AS unit, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'price') AS"
                ' BIGINT) AS numeric) * m.price_scale AS double precision) AS price,'
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'qty') AS BIGINT) AS numeric) * m.qty_scale AS"
                " double precision) AS qty, CAST((CAST(h.payload AS jsonb) ->> 'buy_order_id') AS BIGINT) AS"
                " buy_order_id, CAST((CAST(h.payload AS jsonb) ->> 'sell_order_id') AS BIGINT) AS"
                " sell_order_id, (CAST(h.payload AS jsonb) ->> 'buyer') AS buyer, (CAST(h.payload AS jsonb)"
                " ->> 'seller') AS seller, (CAST(h.payload AS jsonb) ->> 'aggressor') AS aggressor,"
                " CAST(CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) * m.unit_seconds -"
                ' m.gate_lead_seconds AS double precision) - CAST(h.t_ms AS double precision) / 1000.0 AS'
                ' lead FROM event_history h JOIN run_markets m ON m.run_id = h.source_run_id WHERE h.type ='
                " 'trade'"
            ),
        ),
        (
            'order_updates',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, CAST((CAST(h.payload'
                " AS jsonb) ->> 'order_id') AS BIGINT) AS order_id, (CAST(h.payload AS jsonb) ->> 'agent') AS"
                " agent, CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) AS unit,"
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'remaining') AS BIGINT) AS numeric) *"
                " m.qty_scale AS double precision) AS remaining, 'order_cancelled' AS type, (CAST(h.payload"
                " AS jsonb) ->> 'reason') AS reason FROM event_history h JOIN run_markets m ON m.run_id ="
                " h.source_run_id WHERE h.type = 'order_cancelled' UNION ALL SELECT h.run_id, h.seq,"
                ' CAST(h.t_ms AS double precision) / 1000.0 AS t, CAST((CAST(h.payload AS jsonb) ->>'
                " 'order_id') AS BIGINT) AS order_id, (CAST(h.payload AS jsonb) ->> 'agent') AS agent,"
                " CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) AS unit,"
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'remaining') AS BIGINT) AS numeric) *"
                " m.qty_scale AS double precision) AS remaining, 'order_shrunk' AS type, CAST(NULL AS TEXT)"
                ' AS reason FROM event_history h JOIN run_markets m ON m.run_id = h.source_run_id WHERE'
                " h.type = 'order_shrunk' UNION ALL SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision)"
                " / 1000.0 AS t, CAST((CAST(h.payload AS jsonb) ->> 'order_id') AS BIGINT) AS order_id,"
                " (CAST(h.payload AS jsonb) ->> 'agent') AS agent, CAST((CAST(h.payload AS jsonb) ->> 'unit')"
                " AS BIGINT) AS unit, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'remaining') AS BIGINT) AS"
                " numeric) * m.qty_scale AS double precision) AS remaining, 'order_expired' AS type,"
                ' CAST(NULL AS TEXT) AS reason FROM event_history h JOIN run_markets m ON m.run_id ='
                " h.source_run_id WHERE h.type = 'order_expired'"
            ),
        ),
        (
            'rejections',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, (CAST(h.payload AS'
                " jsonb) ->> 'ref') AS ref, (CAST(h.payload AS jsonb) ->> 'agent') AS agent, (CAST(h.payload"
                " AS jsonb) ->> 'reason') AS reason, (CAST(h.payload AS jsonb) ->> 'message') AS message FROM"
                ' event_history h JOIN run_markets m ON m.run_id = h.source_run_id WHERE h.type ='
                " 'order_rejected'"
            ),
        ),
        (
            'gate_closures',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, CAST((CAST(h.payload'
                " AS jsonb) ->> 'unit') AS BIGINT) AS unit, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->>"
                " 'volume') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS volume,"
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'vwap') AS BIGINT) AS numeric) * m.price_scale"
                ' AS double precision) AS vwap FROM event_history h JOIN run_markets m ON m.run_id ='
                " h.source_run_id WHERE h.type = 'gate_closed'"
            ),
        ),
        (
            'reservations',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, (CAST(h.payload AS'
                " jsonb) ->> 'agent') AS agent, CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) AS"
                " unit, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'qty') AS BIGINT) AS numeric) *"
                ' m.qty_scale AS double precision) AS qty FROM event_history h JOIN run_markets m ON m.run_id'
                " = h.source_run_id WHERE h.type = 'reservation_fixed'"
            ),
        ),
        (
            'realizations',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, (CAST(h.payload AS'
                " jsonb) ->> 'agent') AS agent, CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) AS"
                " unit, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'qty') AS BIGINT) AS numeric) *"
                ' m.qty_scale AS double precision) AS qty FROM event_history h JOIN run_markets m ON m.run_id'
                " = h.source_run_id WHERE h.type = 'realized'"
            ),
        ),
        (
            'settlements',
            (
                'SELECT h.run_id, h.seq, CAST(h.t_ms AS double precision) / 1000.0 AS t, (CAST(h.payload AS'
                " jsonb) ->> 'agent') AS agent, CAST((CAST(h.payload AS jsonb) ->> 'unit') AS BIGINT) AS"
                " unit, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'reserved') AS BIGINT) AS numeric) *"
                ' m.qty_scale AS double precision) AS reserved, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->>'
                " 'realized') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS realized,"
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'trade_cash') AS BIGINT) AS numeric) *"
                ' m.money_scale AS double precision) AS trade_cash, CAST(CAST(CAST((CAST(h.payload AS jsonb)'
                " ->> 'shortfall') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS shortfall,"
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'penalty') AS BIGINT) AS numeric) *"
                ' m.money_scale AS double precision) AS penalty, CAST(CAST(CAST((CAST(h.payload AS jsonb) ->>'
                " 'surplus') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS surplus,"
                " CAST(CAST(CAST((CAST(h.payload AS jsonb) ->> 'surplus_credit') AS BIGINT) AS numeric) *"
                ' m.money_scale AS double precision) AS surplus_credit, CAST(CAST(CAST((CAST(h.payload AS'
                " jsonb) ->> 'net_cash') AS BIGINT) AS numeric) * m.money_scale AS double precision) AS"
                ' net_cash FROM event_history h JOIN run_markets m ON m.run_id = h.source_run_id WHERE h.type'
                " = 'settled'"
            ),
        ),
        (
            'unit_prices',
            (
                'SELECT run_id, unit, CAST(ROUND(CAST(SUM(qty) AS numeric), 10) AS double precision) AS'
                ' volume, CAST(ROUND(CAST(SUM(price * qty) / SUM(qty) AS numeric), 10) AS double precision)'
                ' AS vwap, MIN(first_price) AS first_price, MIN(last_price) AS last_price, MIN(price) AS'
                ' min_price, MAX(price) AS max_price, COUNT(*) AS n_trades, MIN(t) AS first_t, MAX(t) AS'
                ' last_t FROM (SELECT run_id, unit, t, price, qty, FIRST_VALUE(price) OVER (PARTITION BY'
                ' run_id, unit ORDER BY seq) AS first_price, FIRST_VALUE(price) OVER (PARTITION BY run_id,'
                ' unit ORDER BY seq DESC) AS last_price FROM trades) AS tr GROUP BY run_id, unit'
            ),
        ),
        (
            'imbalance',
            (
                'SELECT run_id, unit, COUNT(*) AS participants, CAST(ROUND(CAST(SUM(reserved) AS numeric),'
                ' 10) AS double precision) AS reserved, CAST(ROUND(CAST(SUM(realized) AS numeric), 10) AS'
                ' double precision) AS system_balance, CAST(ROUND(CAST(SUM(shortfall) AS numeric), 10) AS'
                ' double precision) AS deficit, CAST(ROUND(CAST(SUM(surplus) AS numeric), 10) AS double'
                ' precision) AS surplus, CAST(ROUND(CAST(SUM(penalty) AS numeric), 10) AS double precision)'
                ' AS penalties, CAST(ROUND(CAST(SUM(surplus_credit) AS numeric), 10) AS double precision) AS'
                " surplus_credits FROM settlements WHERE agent <> 'system' GROUP BY run_id, unit"
            ),
        ),
        (
            'agents',
            (
                "WITH reg AS ( SELECT h.*, (CAST(h.payload AS jsonb) ->> 'agent') AS agent_id, ROW_NUMBER()"
                " OVER (PARTITION BY h.run_id, (CAST(h.payload AS jsonb) ->> 'agent') ORDER BY h.seq DESC) AS"
                " rn FROM event_history h WHERE h.type = 'agent_registered'), seen AS ( SELECT h.run_id,"
                " (CAST(h.payload AS jsonb) ->> 'agent') AS agent_id, MIN(h.seq) AS seq, MIN(h.t_ms) AS t_ms"
                " FROM event_history h WHERE h.type IN ('order_accepted', 'order_rejected', 'realized') GROUP"
                " BY h.run_id, (CAST(h.payload AS jsonb) ->> 'agent')) SELECT r.run_id, r.seq, CAST(r.t_ms AS"
                " double precision) / 1000.0 AS t, (CAST(r.payload AS jsonb) ->> 'agent') AS agent,"
                " (CAST(r.payload AS jsonb) ->> 'kind') AS kind, (CAST(r.payload AS jsonb) ->> 'group') AS"
                " group_name, CAST((CAST(r.payload AS jsonb) ->> 'attributes') AS TEXT) AS attributes,"
                " (CAST(r.payload AS jsonb) ->> 'strategy') AS strategy, CAST(CAST(CAST((CAST(r.payload AS"
                " jsonb) ->> 'capacity') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS"
                " capacity_kw, CAST(CAST(CAST((CAST(r.payload AS jsonb) ->> 'demand') AS BIGINT) AS numeric)"
                ' * m.qty_scale AS double precision) AS demand_kw, CAST(CAST(CAST((CAST(r.payload AS jsonb)'
                " ->> 'mean_load') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS mean_load_kw,"
                " CAST(CAST(CAST((CAST(r.payload AS jsonb) ->> 'cost') AS BIGINT) AS numeric) * m.price_scale"
                " AS double precision) AS cost, CAST(CAST(CAST((CAST(r.payload AS jsonb) ->> 'value') AS"
                ' BIGINT) AS numeric) * m.price_scale AS double precision) AS value,'
                " CAST(CAST(CAST((CAST(r.payload AS jsonb) ->> 'storage') AS BIGINT) AS numeric) *"
                ' m.qty_scale AS double precision) AS storage_kwh, CAST(CAST(CAST((CAST(r.payload AS jsonb)'
                " ->> 'need') AS BIGINT) AS numeric) * m.qty_scale AS double precision) AS need_kwh FROM reg"
                ' r JOIN run_markets m ON m.run_id = r.source_run_id WHERE r.rn = 1 UNION ALL SELECT'
                ' s.run_id, s.seq, CAST(s.t_ms AS double precision) / 1000.0 AS t, s.agent_id AS agent,'
                ' CAST(NULL AS TEXT) AS kind, CAST(NULL AS TEXT) AS group_name, CAST(NULL AS TEXT) AS'
                ' attributes, CAST(NULL AS TEXT) AS strategy, CAST(NULL AS double precision) AS capacity_kw,'
                ' CAST(NULL AS double precision) AS demand_kw, CAST(NULL AS double precision) AS'
                ' mean_load_kw, CAST(NULL AS double precision) AS cost, CAST(NULL AS double precision) AS'
                ' value, CAST(NULL AS double precision) AS storage_kwh, CAST(NULL AS double precision) AS'
                " need_kwh FROM seen s WHERE s.agent_id <> 'system' AND NOT EXISTS (SELECT 1 FROM reg r WHERE"
                ' r.run_id = s.run_id AND r.agent_id = s.agent_id)'
            ),
        ),
    ],
}

# fmt: on


def _drop(names: Any) -> None:
    for name in reversed(list(names)):
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop(PREVIOUS_VIEWS)
    for name, sql in VIEWS["postgresql" if dialect == "postgresql" else "sqlite"]:
        op.execute(f"CREATE VIEW {name} AS {sql}")
    if dialect == "postgresql":  # (the trigger function of 0003 is still there)
        op.execute(
            "CREATE TRIGGER events_view_append_only INSTEAD OF UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION rexnet_events_view_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_view_no_{action.lower()} INSTEAD OF {action} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    _drop(name for name, _ in VIEWS["sqlite"])
    # 0003's own frozen text (a migration file, not live code)
    path = Path(__file__).with_name("0003_views.py")
    spec = importlib.util.spec_from_file_location("rexnet_migration_0003", path)
    assert spec is not None and spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    previous.create_views(op.get_bind().dialect.name)
