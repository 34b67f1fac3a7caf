"""DuckDB sessions over the ledger: offline extensions, a READ_ONLY attach and the catalogue views.

DuckDB is the analysis engine (DESIGN.md section 4). A session:

1. starts an in-memory DuckDB with extension auto-install and auto-load off;
2. loads the ``sqlite_scanner`` / ``postgres_scanner`` extension *by file path* from its PyPI
   package (``duckdb-extension-sqlite-scanner`` / ``-postgres-scanner``): never a download;
3. ATTACHes the ledger ``READ_ONLY`` as catalogue ``ledger``;
4. snapshots ``runs`` into its in-memory catalogue and creates the catalogue views
   (:mod:`rexnet.analytics.catalogue`, DuckDB rendering) over it and ``ledger.event_log``,
   optionally restricted to a set of runs (and the stored events of their ancestors);
5. for user SQL (``locked=True``): ``SET enable_external_access = false`` and
   ``SET lock_configuration = true``, so no file, no extension, no new attach, no setting change.

Statements are also checked before they run (:mod:`rexnet.analytics.guard`): the read-only
property holds by construction at three levels (parser, READ_ONLY attach, locked configuration).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from rexnet.analytics.catalogue import Dialect, create_statements, quote
from rexnet.analytics.errors import AnalyticsError

_EXTENSIONS = {
    "sqlite": ("sqlite_scanner", "duckdb_extension_sqlite_scanner", "duckdb-extension-sqlite-scanner"),
    "postgresql": (
        "postgres_scanner",
        "duckdb_extension_postgres_scanner",
        "duckdb-extension-postgres-scanner",
    ),
}


#: ``agent_type('wind-003') = 'wind'``: the agent id without a trailing number (prosumer type).
AGENT_TYPE_MACRO = (
    "CREATE MACRO agent_type(agent) AS COALESCE(NULLIF(regexp_replace(agent, '[-_]?[0-9]+$', ''), ''), agent)"
)


def extension_path(backend: str) -> Path:
    """The ``.duckdb_extension`` file shipped in the PyPI package for ``backend``.

    Prefers the file built for the running DuckDB version.

    Raises:
        AnalyticsError: the package is not installed or holds no extension file.
    """
    ext, module, dist = _EXTENSIONS[backend]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise AnalyticsError(f"DuckDB extension {ext} is missing: pip install {dist}=={duckdb.__version__}")
    files = sorted(Path(spec.origin).parent.rglob(f"{ext}.duckdb_extension"))
    if not files:
        raise AnalyticsError(f"package {dist} holds no {ext}.duckdb_extension file")
    wanted = [f for f in files if f.parent.name == f"v{duckdb.__version__}"]
    return (wanted or files)[-1]


def _libpq_url(url: sa.URL) -> str:
    """A libpq connection URI for DuckDB's postgres scanner (driver suffix dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(
    url: sa.URL, *, runs: Sequence[str] | None = None, locked: bool = True
) -> duckdb.DuckDBPyConnection:
    """A DuckDB session over the ledger at ``url`` (already migrated) with the catalogue views.

    Args:
        url: parsed RexNet database URL (SQLite file or PostgreSQL).
        runs: restrict every view to these run ids (their ancestors' events are still inherited).
        locked: disable external access and lock the configuration (user SQL); ``False`` only for
            RexNet's own statements that write files (Parquet export).

    Raises:
        AnalyticsError: missing extension, in-memory SQLite ledger, or DuckDB cannot attach.
    """
    backend = url.get_backend_name()
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        con.execute(f"LOAD {quote(str(extension_path(backend)))}")
        if backend == "sqlite":
            if url.database in (None, "", ":memory:"):
                raise AnalyticsError(
                    "an in-memory SQLite ledger cannot be analysed: use a file (sqlite:///PATH)"
                )
            con.execute(f"ATTACH {quote(url.database)} AS ledger (TYPE sqlite, READ_ONLY)")
            prefix = "ledger"
        else:
            con.execute(f"ATTACH {quote(_libpq_url(url))} AS ledger (TYPE postgres, READ_ONLY)")
            schema = con.execute(
                "SELECT * FROM postgres_query('ledger', 'SELECT current_schema()')"
            ).fetchone()
            prefix = "ledger." + _ident(schema[0] if schema else "public")
        dialect = _dialect(con, prefix, runs)
        for statement in create_statements(dialect):
            con.execute(statement)
        con.execute(AGENT_TYPE_MACRO)
        if locked:
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
    except duckdb.Error as error:
        con.close()
        message = first_line(error)
        if url.password:
            message = message.replace(str(url.password), "***")
        raise AnalyticsError(f"cannot open the ledger in DuckDB: {message}") from None
    except BaseException:
        con.close()
        raise
    return con


def _dialect(con: duckdb.DuckDBPyConnection, prefix: str, runs: Sequence[str] | None) -> Dialect:
    """Snapshot ``runs`` into DuckDB's memory and the Dialect rendering the views over it.

    The snapshot (the table ``runs`` of the session) is tiny, gives the session one consistent
    view of the runs, and keeps the recursive lineage CTE local: recursing over a postgres_scanner
    table inside a multi-scan query was seen to spin forever in DuckDB 1.5.
    """
    source = f"{prefix}.runs"
    if runs is None:
        con.execute(f"CREATE TABLE runs AS SELECT * FROM {source}")
        return Dialect("duckdb", log=f"{prefix}.event_log", runs="runs")
    parents = dict(con.execute(f"SELECT run_id, parent_run_id FROM {source}").fetchall())
    sources = set(runs)
    for run in runs:
        while parents.get(run) is not None:
            run = parents[run]
            sources.add(run)
    wanted = ", ".join(quote(r) for r in sorted(sources))
    con.execute(f"CREATE TABLE runs AS SELECT * FROM {source} WHERE run_id IN ({wanted})")
    return Dialect(
        "duckdb",
        log=f"{prefix}.event_log",
        runs="runs",
        only_runs=tuple(runs),
        only_sources=tuple(sorted(sources)),
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def first_line(error: BaseException) -> str:
    """DuckDB's message without the ``LINE 1: ...`` caret lines."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: Any = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one (already checked) statement; ``(column names, rows)``."""
    cursor = con.execute(sql, params) if params else con.execute(sql)
    columns = [d[0] for d in cursor.description or []]
    return columns, cursor.fetchall()
