"""The SQL views of the event catalogue, written once and rendered for SQLite, PostgreSQL and DuckDB.

The ledger stores one row per event in ``event_log`` with the fields as canonical JSON in integer
units (ticks, meter units, money units, ms). These views expose the catalogue of DESIGN.md section 8
as columns in display units (kW, currency/MWh, currency), converted with the scale columns of
``runs`` and following :mod:`rexnet.domain.display` (which field is a price, a quantity or money).

One definition serves three engines:

* ``sqlite``: created in the ledger by migration ``0003`` for ``sqlite3`` users. The same text is
  valid DuckDB SQL (``->>``, ``CAST(... AS DOUBLE)``, window functions, recursive CTEs), which
  matters because DuckDB's SQLite scanner re-binds SQLite views in DuckDB.
* ``postgresql``: created in the ledger by migration ``0003`` for ``psql`` users (``jsonb``,
  exact ``numeric`` scaling, then ``double precision``).
* ``duckdb``: the same views over the attached ledger's tables (``ledger.event_log``...),
  created in DuckDB's in-memory catalogue by :mod:`rexnet.analytics.duckdb_session`, optionally restricted
  to a set of runs (``rexnet sql --run``). DuckDB parses the JSON payloads itself, once per row
  (``from_json`` into a struct, the one spelling that differs from ``sqlite``), in parallel,
  instead of asking SQLite or PostgreSQL to do it row by row. A test checks that the SQLite
  views and the DuckDB views return the same rows.

Forks store only their own events (``seq > fork_seq``); ``event_history`` follows
``parent_run_id`` recursively so every view shows a run's *full* history, each inherited event
converted with the scales of the run that stored it.

Display values are doubles: SQLite and DuckDB round ``integer * scale`` to 10 decimals (the exact
value of a default market has at most 10), PostgreSQL multiplies exact ``numeric`` values. Sums of
them are for analysis; the exact money lives in the integers of ``event_log``.

Changing a view here changes what a *new* database gets from migration ``0003``; an existing
ledger keeps its views until a later migration re-creates them (see ``0003_views.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Message of the triggers that refuse UPDATE/DELETE through the ``events`` view.
APPEND_ONLY_MESSAGE = "events are append-only: history cannot be changed"

PRICE, QTY, MONEY, INT, TEXT, JSON = "price", "qty", "money", "int", "text", "json"


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells the few things that differ."""

    name: str
    log: str = "event_log"
    runs: str = "runs"
    #: restrict the lineage to these runs (DuckDB sessions with ``--run``); None: every run
    only_runs: tuple[str, ...] | None = None
    #: restrict the scan of ``event_log`` to these stored runs (the lineage of ``only_runs``)
    only_sources: tuple[str, ...] | None = None

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    @property
    def double(self) -> str:
        return "double precision" if self.pg else "DOUBLE"

    def source(self, fields: Sequence[tuple[str, str]], alias: str = "h") -> str:
        """The FROM item for reading ``fields`` of ``event_history`` rows through :meth:`field`.

        DuckDB parses each payload once into a struct (``from_json``): extracting fields one by
        one with ``->>`` re-parses the JSON text per field, much slower on wide views.
        """
        if self.name != "duckdb":
            return f"event_history {alias}"
        types = {TEXT: "VARCHAR", JSON: "JSON"}
        schema = ", ".join(f'"{name}": "{types.get(kind, "BIGINT")}"' for name, kind in fields)
        return f"(SELECT e.*, from_json(e.payload, '{{{schema}}}') AS doc FROM event_history e) {alias}"

    def field(self, name: str, alias: str = "h") -> str:
        """The JSON field ``name`` of ``alias.payload`` (NULL for JSON null); see :meth:`source`."""
        if self.pg:
            return f"(CAST({alias}.payload AS jsonb) ->> '{name}')"
        if self.name == "duckdb":
            return f'{alias}.doc."{name}"'
        return f"({alias}.payload ->> '{name}')"

    def integer(self, name: str, alias: str = "h") -> str:
        return f"CAST({self.field(name, alias)} AS BIGINT)"

    def scaled(self, expr: str, scale: str) -> str:
        """``expr * scale`` in display units (``scale`` a column of ``run_markets``)."""
        if self.pg:
            return f"CAST(CAST({expr} AS numeric) * {scale} AS double precision)"
        return f"ROUND(CAST({expr} AS DOUBLE) * {scale}, 10)"

    def display(self, name: str, kind: str, alias: str = "h", markets: str = "m") -> str:
        if kind == TEXT:
            return self.field(name, alias)
        if kind == JSON:  # an object's JSON text (key order and spacing as the engine prints it)
            return f"CAST({self.field(name, alias)} AS TEXT)"
        if kind == INT:
            return self.integer(name, alias)
        return self.scaled(self.integer(name, alias), f"{markets}.{kind}_scale")

    def rounded(self, expr: str) -> str:
        """A double aggregate with the float noise of its sum rounded away (10 decimals)."""
        if self.pg:
            return f"CAST(ROUND(CAST({expr} AS numeric), 10) AS double precision)"
        return f"ROUND({expr}, 10)"

    def seconds(self, t_ms: str) -> str:
        return f"CAST({t_ms} AS {self.double}) / 1000.0"

    def scale(self, column: str) -> str:
        """A TEXT decimal column of ``runs`` as the number type used for scaling."""
        return f"CAST({column} AS numeric)" if self.pg else f"CAST({column} AS DOUBLE)"

    def market_int(self, key: str) -> str:
        doc = "CAST(r.market AS jsonb)" if self.pg else "r.market"
        return f"CAST(({doc} ->> '{key}') AS BIGINT)"

    def where_runs(self, column: str, runs: Sequence[str] | None) -> str:
        if runs is None:
            return ""
        return f" WHERE {column} IN ({', '.join(quote(r) for r in runs) or 'NULL'})"


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


# -- the views ------------------------------------------------------------------------------------
def _run_markets(d: Dialect) -> str:
    return (
        "SELECT r.run_id, r.parent_run_id, r.fork_seq, "
        f"{d.market_int('unit_seconds')} AS unit_seconds, {d.market_int('horizon')} AS horizon, "
        f"{d.market_int('gate_lead_seconds')} AS gate_lead_seconds, "
        f"{d.scale('r.price_scale')} AS price_scale, {d.scale('r.qty_scale')} AS qty_scale, "
        f"{d.scale('r.money_scale')} AS money_scale "
        # a session restricted to some runs keeps their ancestors' rows too: the typed views join
        # each inherited event to the market of the run that stored it (source_run_id)
        f"FROM {d.runs} r{d.where_runs('r.run_id', d.only_sources)}"
    )


def _event_history(d: Dialect) -> str:
    # lineage(run_id, source_run_id, upto): run_id's history holds source_run_id's stored events
    # with seq <= upto (NULL: all). Each stored run only holds seqs above its own fork_seq, so no
    # lower bound is needed.
    source_filter = ""
    if d.only_sources is not None:
        source_filter = " AND e.run_id IN (" + ", ".join(quote(r) for r in d.only_sources) + ")"
    return (
        "WITH RECURSIVE lineage(run_id, source_run_id, upto) AS ("
        f" SELECT r.run_id, r.run_id, CAST(NULL AS BIGINT) FROM {d.runs} r"
        f"{d.where_runs('r.run_id', d.only_runs)}"
        " UNION ALL"
        " SELECT l.run_id, r.parent_run_id,"
        " CASE WHEN l.upto IS NULL OR r.fork_seq < l.upto THEN r.fork_seq ELSE l.upto END"
        f" FROM lineage l JOIN {d.runs} r ON r.run_id = l.source_run_id"
        " WHERE r.parent_run_id IS NOT NULL)"
        " SELECT l.run_id, e.seq, e.t_ms, e.type, e.version, e.payload, e.run_id AS source_run_id"
        f" FROM lineage l JOIN {d.log} e ON e.run_id = l.source_run_id"
        f" AND (l.upto IS NULL OR e.seq <= l.upto){source_filter}"
    )


def _events(d: Dialect) -> str:
    return (
        f"SELECT h.run_id, h.seq, {d.seconds('h.t_ms')} AS t, h.type, h.version, h.payload "
        "FROM event_history h"
    )


def _typed(
    event_type: str,
    fields: Sequence[tuple[str, str]],
    *,
    extra: str = "",
    extra_fields: Sequence[tuple[str, str]] = (),
) -> Callable[[Dialect], str]:
    """A view of one event type: run_id, seq, t, then the fields in display units."""

    def render(d: Dialect) -> str:
        cols = ", ".join(f"{d.display(name, kind)} AS {name}" for name, kind in fields)
        more = f", {extra.format(**_fmt(d))}" if extra else ""
        return (
            f"SELECT h.run_id, h.seq, {d.seconds('h.t_ms')} AS t, {cols}{more} "
            f"FROM {d.source([*fields, *extra_fields])} JOIN run_markets m ON m.run_id = h.source_run_id "
            f"WHERE h.type = '{event_type}'"
        )

    return render


def _fmt(d: Dialect) -> dict[str, str]:
    return {"t": d.seconds("h.t_ms"), "unit": d.integer("unit"), "double": d.double}


ORDER_FIELDS = [
    ("order_id", INT),
    ("ref", TEXT),
    ("agent", TEXT),
    ("side", TEXT),
    ("unit", INT),
    ("price", PRICE),
    ("qty", QTY),
    ("tif", TEXT),
    ("set_ref", TEXT),
]
TRADE_FIELDS = [
    ("trade_id", INT),
    ("unit", INT),
    ("price", PRICE),
    ("qty", QTY),
    ("buy_order_id", INT),
    ("sell_order_id", INT),
    ("buyer", TEXT),
    ("seller", TEXT),
    ("aggressor", TEXT),
]
UPDATE_FIELDS = [("order_id", INT), ("agent", TEXT), ("unit", INT), ("remaining", QTY)]
SETTLED_FIELDS = [
    ("agent", TEXT),
    ("unit", INT),
    ("reserved", QTY),
    ("realized", QTY),
    ("trade_cash", MONEY),
    ("shortfall", QTY),
    ("penalty", MONEY),
    ("surplus", QTY),
    ("surplus_credit", MONEY),
    ("net_cash", MONEY),
]

# seconds from the trade to its unit's gate closure (the lead time of a forward trade)
_LEAD = "CAST({unit} * m.unit_seconds - m.gate_lead_seconds AS {double}) - {t} AS lead"


_ORDER_SOURCE_FIELDS = [
    *((name, INT) for name in ("order_id", "buy_order_id", "sell_order_id", "qty", "remaining")),
    ("unit", INT),
    ("price", INT),
    ("reason", TEXT),
    *((name, kind) for name, kind in ORDER_FIELDS if kind == TEXT),
]


def _orders(d: Dialect) -> str:
    """``order_accepted`` rows plus their fate at the end of the history.

    ``filled`` sums the order's trades; ``remaining`` is what still rests (or what was cancelled
    or expired): the last ``order_shrunk``/``order_cancelled``/``order_expired`` remaining minus the
    fills after it, else ``qty - filled``. ``status``: cancelled, expired, filled or open.
    """
    i, f = d.integer, d.field
    texts = ", ".join(f"{f(name)} AS {name}" for name, kind in ORDER_FIELDS if kind == TEXT)
    return (
        # one scan of the history, fields parsed once (order_id, trade sides, quantities)
        "WITH ev AS MATERIALIZED ("
        f" SELECT h.run_id, h.seq, h.t_ms, h.type, h.source_run_id, {i('order_id')} AS order_id,"
        f" {i('buy_order_id')} AS buy_id, {i('sell_order_id')} AS sell_id, {i('qty')} AS qty,"
        f" {i('remaining')} AS remaining, {i('unit')} AS unit, {i('price')} AS price_ticks,"
        f" {f('reason')} AS reason, {texts}"
        f" FROM {d.source(_ORDER_SOURCE_FIELDS)} WHERE h.type IN"
        " ('order_accepted', 'trade', 'order_cancelled', 'order_shrunk', 'order_expired')),"
        " fills AS ("
        " SELECT run_id, seq, buy_id AS order_id, qty FROM ev WHERE type = 'trade'"
        " UNION ALL SELECT run_id, seq, sell_id AS order_id, qty FROM ev WHERE type = 'trade'),"
        " marks AS ("
        " SELECT run_id, seq, type, order_id, remaining, reason,"
        " ROW_NUMBER() OVER (PARTITION BY run_id, order_id ORDER BY seq DESC) AS rn"
        " FROM ev WHERE type IN ('order_cancelled', 'order_shrunk', 'order_expired')),"
        " last_mark AS (SELECT run_id, seq, type, order_id, remaining, reason FROM marks WHERE rn = 1),"
        " filled AS ("
        " SELECT f.run_id, f.order_id, SUM(f.qty) AS filled,"
        " SUM(CASE WHEN lm.seq IS NOT NULL AND f.seq > lm.seq THEN f.qty ELSE 0 END) AS after_mark"
        " FROM fills f LEFT JOIN last_mark lm ON lm.run_id = f.run_id AND lm.order_id = f.order_id"
        " GROUP BY f.run_id, f.order_id),"
        " accepted AS ("
        " SELECT run_id, seq, t_ms, source_run_id, order_id, unit, price_ticks, qty AS qty_units,"
        f" {', '.join(name for name, kind in ORDER_FIELDS if kind == TEXT)}"
        " FROM ev WHERE type = 'order_accepted'),"
        " fate AS ("
        " SELECT a.*, lm.type AS mark_type, lm.reason AS mark_reason,"
        " CASE WHEN lm.seq IS NULL THEN a.qty_units - COALESCE(f.filled, 0)"
        " ELSE lm.remaining - COALESCE(f.after_mark, 0) END AS remaining_units,"
        " COALESCE(f.filled, 0) AS filled_units"
        " FROM accepted a"
        " LEFT JOIN last_mark lm ON lm.run_id = a.run_id AND lm.order_id = a.order_id"
        " LEFT JOIN filled f ON f.run_id = a.run_id AND f.order_id = a.order_id)"
        f" SELECT x.run_id, x.seq, {d.seconds('x.t_ms')} AS t, x.order_id, x.ref, x.agent, x.side, x.unit,"
        f" {d.scaled('x.price_ticks', 'm.price_scale')} AS price,"
        f" {d.scaled('x.qty_units', 'm.qty_scale')} AS qty,"
        " x.tif, x.set_ref,"
        " CASE WHEN x.mark_type = 'order_cancelled' THEN 'cancelled'"
        " WHEN x.mark_type = 'order_expired' THEN 'expired'"
        " WHEN x.remaining_units = 0 THEN 'filled' ELSE 'open' END AS status,"
        f" {d.scaled('x.filled_units', 'm.qty_scale')} AS filled,"
        f" {d.scaled('x.remaining_units', 'm.qty_scale')} AS remaining,"
        " CASE WHEN x.mark_type = 'order_cancelled' THEN x.mark_reason END AS cancel_reason"
        " FROM fate x JOIN run_markets m ON m.run_id = x.source_run_id"
    )


def _unit_prices(d: Dialect) -> str:
    r = d.rounded
    return (
        f"SELECT run_id, unit, {r('SUM(qty)')} AS volume, {r('SUM(price * qty) / SUM(qty)')} AS vwap,"
        " MIN(first_price) AS first_price, MIN(last_price) AS last_price,"
        " MIN(price) AS min_price, MAX(price) AS max_price, COUNT(*) AS n_trades,"
        " MIN(t) AS first_t, MAX(t) AS last_t"
        " FROM (SELECT run_id, unit, t, price, qty,"
        " FIRST_VALUE(price) OVER (PARTITION BY run_id, unit ORDER BY seq) AS first_price,"
        " FIRST_VALUE(price) OVER (PARTITION BY run_id, unit ORDER BY seq DESC) AS last_price"
        " FROM trades) AS tr GROUP BY run_id, unit"
    )


def _imbalance(d: Dialect) -> str:
    # the system account's own settled row is excluded: it mirrors the participants' penalties
    r = d.rounded
    return (
        f"SELECT run_id, unit, COUNT(*) AS participants, {r('SUM(reserved)')} AS reserved,"
        f" {r('SUM(realized)')} AS system_balance, {r('SUM(shortfall)')} AS deficit,"
        f" {r('SUM(surplus)')} AS surplus, {r('SUM(penalty)')} AS penalties,"
        f" {r('SUM(surplus_credit)')} AS surplus_credits"
        " FROM settlements WHERE agent <> 'system' GROUP BY run_id, unit"
    )


AGENT_FIELDS = [
    ("agent", TEXT),
    ("kind", TEXT),
    ("group", TEXT),
    ("attributes", JSON),
    ("strategy", TEXT),
    ("capacity", QTY),
    ("demand", QTY),
    ("mean_load", QTY),
    ("cost", PRICE),
    ("value", PRICE),
    ("storage", QTY),
    ("need", QTY),
]
#: view column of each ``agent_registered`` field (``group`` is an SQL keyword; energies in kWh)
AGENT_COLUMNS = {
    "group": "group_name",
    "capacity": "capacity_kw",
    "demand": "demand_kw",
    "mean_load": "mean_load_kw",
    "storage": "storage_kwh",
    "need": "need_kwh",
}
_SEEN_FIELDS = [("agent", TEXT)]


def _agents(d: Dialect) -> str:
    """One row per agent of each run: its latest ``agent_registered`` record, and every other
    agent that ordered or realized (an ingested run's) with NULL kind, group and parameters."""
    cols = ", ".join(
        f"{d.display(name, kind, 'r')} AS {AGENT_COLUMNS.get(name, name)}" for name, kind in AGENT_FIELDS
    )
    nulls = ", ".join(
        f"CAST(NULL AS {'TEXT' if kind in (TEXT, JSON) else d.double}) AS {AGENT_COLUMNS.get(name, name)}"
        for name, kind in AGENT_FIELDS[1:]
    )
    return (
        "WITH reg AS ("
        f" SELECT h.*, {d.field('agent')} AS agent_id,"
        f" ROW_NUMBER() OVER (PARTITION BY h.run_id, {d.field('agent')} ORDER BY h.seq DESC) AS rn"
        f" FROM {d.source(AGENT_FIELDS)} WHERE h.type = 'agent_registered'),"
        " seen AS ("
        f" SELECT h.run_id, {d.field('agent')} AS agent_id, MIN(h.seq) AS seq, MIN(h.t_ms) AS t_ms"
        f" FROM {d.source(_SEEN_FIELDS)}"
        " WHERE h.type IN ('order_accepted', 'order_rejected', 'realized')"
        f" GROUP BY h.run_id, {d.field('agent')})"
        f" SELECT r.run_id, r.seq, {d.seconds('r.t_ms')} AS t, {cols}"
        " FROM reg r JOIN run_markets m ON m.run_id = r.source_run_id WHERE r.rn = 1"
        f" UNION ALL SELECT s.run_id, s.seq, {d.seconds('s.t_ms')} AS t, s.agent_id AS agent, {nulls}"
        " FROM seen s WHERE s.agent_id <> 'system' AND NOT EXISTS"
        " (SELECT 1 FROM reg r WHERE r.run_id = s.run_id AND r.agent_id = s.agent_id)"
    )


#: view name -> renderer, in creation order (a view only uses views above it).
VIEWS: dict[str, Callable[[Dialect], str]] = {
    "run_markets": _run_markets,
    "event_history": _event_history,
    "events": _events,
    "orders": _orders,
    "trades": _typed("trade", TRADE_FIELDS, extra=_LEAD),
    "order_updates": lambda d: " UNION ALL ".join(
        _typed(
            kind,
            UPDATE_FIELDS,
            extra=f"'{kind}' AS type, "
            + (d.field("reason") if kind == "order_cancelled" else "CAST(NULL AS TEXT)")
            + " AS reason",
            extra_fields=[("reason", TEXT)],
        )(d)
        for kind in ("order_cancelled", "order_shrunk", "order_expired")
    ),
    "rejections": _typed(
        "order_rejected", [("ref", TEXT), ("agent", TEXT), ("reason", TEXT), ("message", TEXT)]
    ),
    "gate_closures": _typed("gate_closed", [("unit", INT), ("volume", QTY), ("vwap", PRICE)]),
    "reservations": _typed("reservation_fixed", [("agent", TEXT), ("unit", INT), ("qty", QTY)]),
    "realizations": _typed("realized", [("agent", TEXT), ("unit", INT), ("qty", QTY)]),
    "settlements": _typed("settled", SETTLED_FIELDS),
    "unit_prices": _unit_prices,
    "imbalance": _imbalance,
    "agents": _agents,
}

#: Views that hold one row per run_id-tagged fact (exported per run by ``rexnet export``).
RUN_VIEWS = tuple(name for name in VIEWS if name not in ("event_history",))


def render(dialect: Dialect) -> list[tuple[str, str]]:
    """``[(view name, SELECT text), ...]`` in creation order."""
    return [(name, build(dialect)) for name, build in VIEWS.items()]


def create_statements(dialect: Dialect, *, temporary: bool = False) -> list[str]:
    """``CREATE VIEW`` statements for every view (``CREATE OR REPLACE`` where supported)."""
    verb = "CREATE VIEW" if dialect.name == "sqlite" else "CREATE OR REPLACE VIEW"
    if temporary:
        verb = verb.replace("VIEW", "TEMP VIEW")
    return [f"{verb} {name} AS {sql}" for name, sql in render(dialect)]


def drop_statements() -> list[str]:
    return [f"DROP VIEW IF EXISTS {name}" for name in reversed(list(VIEWS))]
