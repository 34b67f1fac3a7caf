"""The guard of ``rexnet sql``: an allow-list of what a user's query may read and call.

A query may read the ledger (the catalogue views, the ``runs`` snapshot and the store's
``event_log``) and call plain functions; nothing else. It may not read DuckDB's catalog views and
table functions (``duckdb_databases``, ``duckdb_settings``, ``pragma_*``, ``information_schema``,
``pg_catalog``...), which show the ATTACH string (a PostgreSQL password, the SQLite file's
absolute path) and host details, nor files, nor the session's settings.

The check runs *before* execution, on DuckDB's own syntax tree (``json_serialize_sql``) rather than
on the text: comments, quoting, case, nesting and DuckDB's rewrites (``PRAGMA x`` becomes
``SELECT * FROM pragma_x``, ``SHOW``/``DESCRIBE``/``SUMMARIZE`` become ``SHOW_REF`` nodes) are
then exactly what DuckDB itself will bind, and no regular expression has to guess at SQL. The
walk fails closed: a node kind it does not know refuses the query.

* Statements: only ``SELECT`` (DuckDB also files ``WITH``, ``VALUES``, ``FROM x``, ``SHOW``,
  ``DESCRIBE``, ``SUMMARIZE`` and table-valued ``PRAGMA``\\ s under it). ``EXPLAIN``, ``CALL``,
  ``PRAGMA`` settings, ``SET``/``RESET``, ``ATTACH``, ``COPY``, ``INSTALL``/``LOAD``, DDL, DML
  and ``PIVOT`` statements (which create a type) are refused.
* Relations: :func:`allowed_relations` (unqualified, or ``main.``/``memory.``-qualified), the
  store's tables as ``ledger.NAME``, and the query's own CTEs. A CTE may not take the name of any
  relation or table function DuckDB knows (so a reference outside the CTE's scope can never reach a
  catalog view), and every relation name must be a plain ASCII identifier (no file names, no
  replacement scans, no Unicode look-alikes).
* Table functions: :data:`ALLOWED_TABLE_FUNCTIONS` (``range``, ``unnest``...), never ``read_*``,
  ``glob``, ``query``, ``sqlite_scan``, ``postgres_query``, ``duckdb_*`` or ``pragma_*``.
* Functions: DuckDB's built-in scalar, aggregate and window functions and macros
  (:func:`allowed_functions`), less those that read the session or the host
  (:data:`REFUSED_FUNCTIONS`) and macros that read a relation; unqualified, or ``main.``.
* ``SHOW TABLES`` and ``DESCRIBE``/``SUMMARIZE`` of an allowed query; no other ``SHOW``.

The session is the second line of defence (READ_ONLY attach, external access disabled,
replacement scans off, configuration locked; a PostgreSQL password never enters DuckDB): see
:mod:`rexnet.analytics.duckdb_session`.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import duckdb

from rexnet.analytics.catalogue import VIEWS
from rexnet.analytics.duckdb_session import SESSION_TABLES, first_line
from rexnet.analytics.errors import QueryError, ReadOnlyViolation

#: Table functions a query may call: generators over values, never over files or catalogs.
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "json_each", "json_tree"})

#: Built-in functions that are not plain: they read the session's settings or variables
#: (``current_setting('home_directory')`` is a host path), the environment, the running query,
#: bind SQL given as a string, write the log, sleep, or change session state.
REFUSED_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getenv",
        "getvariable",
        "current_query",
        "json_serialize_plan",
        "json_execute_serialized_sql",
        "query",
        "query_table",
        "write_log",
        "parse_duckdb_log_message",
        "sleep_ms",
        "pg_sleep",
        "nextval",
        "currval",
        "setseed",
        "version",
        "get_block_size",
    }
)

#: Macros RexNet creates in every session (:data:`rexnet.analytics.duckdb_session.AGENT_TYPE_MACRO`).
SESSION_MACROS = frozenset({"agent_type"})

#: Store tables a query may read as ``ledger.NAME``: the ones the catalogue views are built on.
#: The sweep tables are left out: ``sweep_runs.db_url`` holds absolute file paths.
LEDGER_TABLES = frozenset({"runs", "event_log"})

_SESSION_QUALIFIERS = {(), ("main",), ("memory",), ("memory", "main")}
_LEDGER_QUALIFIERS = {("ledger",), ("ledger", "main")}
_FUNCTION_SCHEMAS = {"", "main"}
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*\Z")

#: Kinds of the syntax tree the walk knows (anything else refuses the query).
_QUERY_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}
_TABLE_REFS = {
    "BASE_TABLE",
    "TABLE_FUNCTION",
    "JOIN",
    "SUBQUERY",
    "EXPRESSION_LIST",
    "EMPTY",
    "SHOW_REF",
    "PIVOT",
}
_EXPRESSIONS = {
    "BETWEEN",
    "CASE",
    "CAST",
    "COLLATE",
    "COLUMN_REF",
    "COMPARISON",
    "CONJUNCTION",
    "CONSTANT",
    "DEFAULT",
    "FUNCTION",
    "LAMBDA",
    "LAMBDA_REF",
    "OPERATOR",
    "PARAMETER",
    "POSITIONAL_REFERENCE",
    "STAR",
    "SUBQUERY",
    "WINDOW",
}

_HINT = "rexnet sql is read-only and reads only the ledger's views (see rexnet sql --list)"


def allowed_relations() -> frozenset[str]:
    """Names a query may read unqualified: the catalogue views and the session's ledger tables.

    Derived from :data:`rexnet.analytics.catalogue.VIEWS`, so a view added there is allowed with
    no change here.
    """
    return frozenset(VIEWS) | frozenset(SESSION_TABLES)


@functools.cache
def _catalog() -> tuple[frozenset[str], frozenset[str]]:
    """``(plain function names, every relation and table-function name)`` of a bare DuckDB."""
    with duckdb.connect() as con:
        functions = {
            name
            for name, kind, definition in con.execute(
                "SELECT function_name, function_type, macro_definition FROM duckdb_functions() "
                "WHERE database_name = 'system' AND schema_name = 'main'"
            ).fetchall()
            # a macro with FROM in its body reads a relation: not a plain function
            if kind in ("scalar", "aggregate", "window")
            or (kind == "macro" and not re.search(r"\bfrom\b", definition or "", re.IGNORECASE))
        }
        relations = {
            str(name).lower()
            for (name,) in con.execute(
                "SELECT view_name FROM duckdb_views() UNION SELECT table_name FROM duckdb_tables() "
                "UNION SELECT function_name FROM duckdb_functions() "
                "WHERE function_type IN ('table', 'table_macro', 'pragma')"
            ).fetchall()
        }
    # unnest is a table function that DuckDB also accepts in a select list
    plain = frozenset(name.lower() for name in functions) - REFUSED_FUNCTIONS | {"unnest"} | SESSION_MACROS
    return plain, frozenset(relations) | {"pragma_" + r for r in relations}


def allowed_functions() -> frozenset[str]:
    """Names of the plain functions a query may call (see the module docstring)."""
    return _catalog()[0]


def check_read_only(sql: str) -> list[str]:
    """The statements of ``sql`` if every one only reads the ledger and calls plain functions.

    Raises:
        QueryError: the SQL does not parse (DuckDB's message) or is empty.
        ReadOnlyViolation: a statement could write, change the session, or read anything but the
            ledger's views and tables (files, catalog views, settings).
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(first_line(error)) from None
    if not statements:
        raise QueryError("no SQL statement given")
    for statement in statements:
        kind = statement.type.name
        if kind != "SELECT":
            raise ReadOnlyViolation(f"{kind} statements are refused: {_HINT}")
    # a private, empty in-memory DuckDB only parses (never the module's shared default connection)
    with duckdb.connect() as parser:
        for statement in statements:
            _check_tree(parser, statement.query)
    return [statement.query for statement in statements]


def _check_tree(parser: duckdb.DuckDBPyConnection, query: str) -> None:
    try:
        row = parser.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    except duckdb.Error as error:
        raise QueryError(first_line(error)) from None
    tree = json.loads(row[0]) if row else {"error": True, "error_message": "no syntax tree"}
    if tree.get("error") or not tree.get("statements"):
        # only SELECT nodes serialise; a SELECT-typed statement that does not is refused rather
        # than trusted
        message = tree.get("error_message") or "DuckDB gives no syntax tree for it"
        raise ReadOnlyViolation(f"cannot verify the statement is read-only ({message}): {_HINT}")
    _Walk().node(tree["statements"], frozenset())


class _Walk:
    """One walk over a syntax tree, carrying the CTE names in scope."""

    def __init__(self) -> None:
        self.functions, self.reserved = _catalog()
        self.relations = allowed_relations()

    def node(self, node: Any, ctes: frozenset[str]) -> None:
        if isinstance(node, list):
            for item in node:
                self.node(item, ctes)
            return
        if not isinstance(node, dict):
            return
        if "cte_map" in node:
            ctes = self._query_node(node, ctes)
        elif "class" in node:
            self._expression(node)
        elif "alias" in node and "sample" in node and "query_location" in node:
            self._table_ref(node, ctes)
        for value in node.values():
            self.node(value, ctes)

    def _query_node(self, node: dict[str, Any], ctes: frozenset[str]) -> frozenset[str]:
        if node.get("type") not in _QUERY_NODES:
            _refuse(f"a {node.get('type')} query node")
        names = {str(entry.get("key", "")) for entry in (node.get("cte_map") or {}).get("map", [])}
        for name in names:
            lowered = _plain_name(name, "CTE")
            if lowered in self.reserved:
                _refuse(f"a CTE named {name!r} (the name of a DuckDB catalog relation)")
        return ctes | {name.lower() for name in names}

    def _expression(self, node: dict[str, Any]) -> None:
        kind = node.get("class")
        if kind not in _EXPRESSIONS:
            _refuse(f"a {kind} expression")
        if kind in ("FUNCTION", "WINDOW"):
            name = str(node.get("function_name", ""))
            if node.get("catalog") or node.get("schema", "") not in _FUNCTION_SCHEMAS:
                _refuse(
                    f"the qualified function {_qualified(node.get('catalog'), node.get('schema'), name)}()"
                )
            if not name.isascii() or name.lower() not in self.functions:
                _refuse(f"the function {name}()")

    def _table_ref(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        kind = node.get("type")
        if kind not in _TABLE_REFS:
            _refuse(f"a {kind} table reference")
        if kind == "BASE_TABLE":
            self._base_table(node, ctes)
        elif kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", ""))
            if (
                function.get("catalog")
                or function.get("schema")
                or name.lower() not in ALLOWED_TABLE_FUNCTIONS
            ):
                _refuse(f"the table function {name}()")
        elif kind == "SHOW_REF" and node.get("query") is None and node.get("table_name") != '"tables"':
            # SHOW TABLES is the one SHOW without a query (DESCRIBE/SUMMARIZE carry theirs)
            _refuse(f"SHOW {str(node.get('table_name', '')).strip(chr(34))}")

    def _base_table(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        name = str(node.get("table_name", ""))
        qualifiers = tuple(
            _plain_name(str(part), "qualifier")
            for part in (node.get("catalog_name"), node.get("schema_name"))
            if part
        )
        lowered = _plain_name(name, "relation")
        if node.get("at_clause"):
            _refuse(f"reading {name!r} AT a version")
        if not qualifiers and lowered in ctes:
            return
        if qualifiers in _SESSION_QUALIFIERS and lowered in self.relations:
            return
        if qualifiers in _LEDGER_QUALIFIERS and lowered in LEDGER_TABLES:
            return
        _refuse(f"reading {_qualified(*qualifiers, name)} (not a view or table of the ledger)")


def _plain_name(name: str, what: str) -> str:
    """``name`` lower-cased if it is a plain ASCII identifier (no file name, no look-alike)."""
    lowered = name.lower()
    if not name.isascii() or not _IDENTIFIER.match(lowered):
        _refuse(f"the {what} name {name!r} (not a plain identifier)")
    return lowered


def _qualified(*parts: Any) -> str:
    return ".".join(str(p) for p in parts if p)


def _refuse(what: str) -> None:
    raise ReadOnlyViolation(f"{what} is refused: {_HINT}")
