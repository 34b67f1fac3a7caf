"""The read-only guard of ``rexnet sql``: refuse any statement that could change or reach anything.

Checked *before* execution, by DuckDB's own parser:

* every statement must be a query (``SELECT``, ``WITH``, ``VALUES``, ``SHOW``/``DESCRIBE``/
  ``SUMMARIZE``, read-only ``PRAGMA``s that DuckDB expands to a SELECT); INSERT/UPDATE/DELETE, DDL,
  ATTACH/DETACH, COPY/EXPORT, INSTALL/LOAD, SET/RESET/USE, CALL, VACUUM, ... are refused;
* the query's syntax tree (``json_serialize_sql``) may call only allow-listed table functions
  (``range``, ``unnest``, catalogue introspection...): ``read_csv``, ``read_parquet``, ``glob``,
  ``sqlite_scan``, ``postgres_query``, ``query``... are refused, and so is a quoted file name used
  as a table (``FROM 'x.csv'``, a replacement scan).

The session itself is a second line of defence (READ_ONLY attach, external access disabled,
configuration locked): see :mod:`rexnet.analytics.engine`.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from rexnet.analytics.engine import first_line
from rexnet.analytics.errors import QueryError, ReadOnlyViolation

#: Table functions a read-only query may call. (``duckdb_databases``/``pragma_database_list`` are left
#: out: they would show the ATTACH string, i.e. a PostgreSQL password.)
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "json_each",
        "json_tree",
        "duckdb_tables",
        "duckdb_views",
        "duckdb_columns",
        "duckdb_schemas",
        "duckdb_functions",
        "duckdb_types",
        "duckdb_constraints",
        "duckdb_indexes",
        "duckdb_keywords",
        "pragma_table_info",
        "pragma_show",
        "pragma_version",
        "pragma_storage_info",
        "summary",
        "show",
        "show_tables",
        "show_tables_expanded",
        "describe",
    }
)

_HINT = "rexnet sql is read-only"


def check_read_only(sql: str) -> list[str]:
    """The statements of ``sql`` if every one is a read-only query.

    Raises:
        QueryError: the SQL does not parse (DuckDB's message) or is empty.
        ReadOnlyViolation: a statement could write, change the session or reach a file.
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
            raise ReadOnlyViolation(f"{kind} statements are refused: {_HINT} (queries only)")
    # a private, empty in-memory DuckDB only parses (never the module's shared default connection)
    with duckdb.connect() as parser:
        for statement in statements:
            _check_tree(parser, statement.query)
    return [statement.query for statement in statements]


def _check_tree(parser: duckdb.DuckDBPyConnection, query: str) -> None:
    row = parser.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True, "error_message": "no syntax tree"}
    if tree.get("error"):
        # only SELECT nodes serialise; a SELECT-typed statement that does not is refused rather
        # than trusted
        raise ReadOnlyViolation(f"cannot verify the statement is read-only: {tree.get('error_message')}")
    for node in _walk(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise ReadOnlyViolation(
                    f"table function {name}() is refused: {_HINT} (no file or database access)"
                )
        elif kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            if any(ch in name for ch in "./\\:") or node.get("catalog_name", "") not in (
                "",
                "ledger",
                "memory",
            ):
                raise ReadOnlyViolation(f"reading {name!r} is refused: {_HINT} (no file access)")


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
