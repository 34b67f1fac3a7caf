"""SQL views of the event catalogue in the ledger itself, including the full-history ``events`` view.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

After 0002 the stored rows live in ``event_log``. This revision creates, for ``sqlite3`` and
``psql`` users, the views of the catalogue (``run_markets``, ``event_history``, ``events``,
``orders``, ``trades``, ``order_updates``, ``rejections``, ``gate_closures``, ``reservations``,
``realizations``, ``settlements``, ``unit_prices``, ``imbalance``) in display units. ``events``
shows each run's *full* history: a fork inherits its ancestors' events up to its fork point.

INSTEAD OF triggers keep ``UPDATE events`` / ``DELETE FROM events`` refused with the message the
table's triggers used to give. (Like any row trigger they fire per affected row: a statement that
matches no row changes nothing and raises nothing.)

The view text is frozen here (:data:`VIEWS`): it is what :mod:`rexnet.analytics.catalogue`
rendered when this revision was written, so what this migration creates never changes with the
live code. A later change of the catalogue gets its own migration that drops the views and
creates the new text (``0006_metrics_views.py``); a test holds the newest one equal to the
catalogue. Later migrations load :func:`create_views` from this file to downgrade to it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Message of the triggers that refuse UPDATE/DELETE through the ``events`` view.
APPEND_ONLY_MESSAGE = "events are append-only: history cannot be changed"

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
    ],
}

# fmt: on


def create_views(dialect: str) -> None:
    """Create this revision's views and the ``events`` view's triggers (the PostgreSQL trigger
    function must exist: :func:`upgrade` creates it)."""
    verb = "CREATE VIEW" if dialect == "sqlite" else "CREATE OR REPLACE VIEW"
    for name, sql in VIEWS["postgresql" if dialect == "postgresql" else "sqlite"]:
        op.execute(f"{verb} {name} AS {sql}")
    if dialect == "postgresql":
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


def drop_views() -> None:
    """Drop this revision's views (the ``events`` triggers go with their view)."""
    for name, _ in reversed(VIEWS["sqlite"]):
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION rexnet_events_view_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END
            $body$
            """
        )
    create_views(dialect)


def downgrade() -> None:
    drop_views()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rexnet_events_view_append_only()")
