"""DuckDB sessions over the ledger: offline extensions, a READ_ONLY attach and the catalogue views.

DuckDB is the analysis engine (DESIGN.md section 4). A session:

1. starts an in-memory DuckDB with extension auto-install and auto-load off;
2. loads the ``sqlite_scanner`` / ``postgres_scanner`` extension *by file path* from its PyPI
   package (``duckdb-extension-sqlite-scanner`` / ``-postgres-scanner``): never a download;
3. ATTACHes the ledger ``READ_ONLY`` as catalogue ``ledger`` (:func:`attach_ledger`). A
   PostgreSQL password never enters DuckDB: libpq reads it from a private passfile (mode 0600,
   removed when the session is closed), so the ATTACH string that DuckDB's catalog keeps (and
   ``duckdb_databases`` would show) holds none;
4. snapshots ``runs`` into its in-memory catalogue and creates the catalogue views
   (:mod:`rexnet.analytics.catalogue`, DuckDB rendering) over it and ``ledger.event_log``,
   optionally restricted to a set of runs (and the stored events of their ancestors), plus the
   view ``event_log`` (:data:`SESSION_TABLES`);
5. for user SQL (``locked=True``): ``SET enable_external_access = false``, Python replacement
   scans off and ``SET lock_configuration = true``, so no file, no extension, no new attach, no
   Python object, no setting change.

Statements are also checked before they run (:mod:`rexnet.analytics.guard`, an allow-list of what
a query may read): the read-only property holds by construction at three levels (parser, READ_ONLY
attach, locked configuration). DuckDB's messages are passed through :func:`scrub`, which takes the
ledger's file path and any password out of them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from rexnet.analytics.catalogue import Dialect, create_statements, quote
from rexnet.analytics.errors import AnalyticsError
from rexnet.store.database import mask_secrets, read_only_url, url_secrets

_EXTENSIONS = {
    "sqlite": ("sqlite_scanner", "duckdb_extension_sqlite_scanner", "duckdb-extension-sqlite-scanner"),
    "postgresql": (
        "postgres_scanner",
        "duckdb_extension_postgres_scanner",
        "duckdb-extension-postgres-scanner",
    ),
}


#: Ledger tables every session shows beside the catalogue views: ``runs`` (a snapshot taken when
#: the session opens) and ``event_log`` (a view over the attached table).
SESSION_TABLES = ("runs", "event_log")

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


def _libpq_url(url: sa.URL, passfile: str | None) -> str:
    """A libpq connection URI for DuckDB's postgres scanner: no driver suffix and no password.

    The password (the user's or a ``?password=`` of the query string) is left out; libpq reads
    it from ``passfile`` instead.
    """
    query = {k: v for k, v in url.query.items() if k.lower() != "password"}
    if passfile is not None:
        query["passfile"] = passfile
    return url.set(drivername="postgresql", password=None, query=query).render_as_string(hide_password=False)


def _passfile(url: sa.URL) -> str | None:
    """A private libpq passfile (mode 0600) holding the password of ``url``, or None if it has none.

    ``*`` matches any host, port, database and user: the file serves this one connection string.
    """
    password = url.password
    if not password:
        value = next((v for k, v in url.query.items() if k.lower() == "password"), None)
        password = value if isinstance(value, str) or value is None else value[-1]
    if not password:
        return None
    if "\n" in str(password) or "\r" in str(password):
        raise AnalyticsError("a PostgreSQL password with a line break cannot be passed to DuckDB")
    escaped = str(password).replace("\\", "\\\\").replace(":", "\\:")
    fd, path = tempfile.mkstemp(prefix="rexnet-pgpass-")  # created 0600, owner only
    with os.fdopen(fd, "w") as handle:
        handle.write(f"*:*:*:*:{escaped}\n")
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


#: Clean-ups of each session (its passfile, its private copy), by ``id`` of the connection.
_CLEANUPS: dict[int, list[weakref.finalize]] = {}


def _on_close(con: duckdb.DuckDBPyConnection, fn: Any, *args: Any) -> None:
    """Run ``fn(*args)`` when ``con`` is closed by :func:`close`, collected, or at exit."""
    _CLEANUPS.setdefault(id(con), []).append(weakref.finalize(con, fn, *args))


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a session and remove its passfile and private copy now."""
    con.close()
    for cleanup in _CLEANUPS.pop(id(con), []):
        cleanup()


def _readable_copy(con: duckdb.DuckDBPyConnection, url: sa.URL) -> str | None:
    """A private copy of a SQLite ledger this process cannot write, for DuckDB; else None.

    DuckDB's SQLite scanner opens files by plain path, so it cannot ask SQLite for ``immutable``
    and fails on a WAL ledger in a folder where it cannot create the ``-shm`` index. Such a ledger
    is copied (SQLite's backup API, from a read-only connection, so pending WAL pages are
    included) into a private temporary folder that lives as long as ``con``.
    """
    locked = read_only_url(url)
    if locked is None:
        return None
    folder = tempfile.mkdtemp(prefix="rexnet-ledger-")
    _on_close(con, shutil.rmtree, folder, True)
    options = "&".join(f"{k}={v}" for k, v in locked.query.items() if k != "uri")
    copy = os.path.join(folder, "ledger.db")
    source = sqlite3.connect(f"{locked.database}?{options}", uri=True)
    try:
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as error:
        raise AnalyticsError(f"cannot read the read-only ledger: {error}") from None
    finally:
        source.close()
    return copy


def attach_ledger(con: duckdb.DuckDBPyConnection, url: sa.URL) -> str:
    """ATTACH the ledger at ``url`` READ_ONLY as catalogue ``ledger``; the prefix of its tables.

    PostgreSQL: the password goes to libpq through a passfile that lives as long as ``con`` (the
    scanner opens further connections while queries run) and is removed by :func:`close` (or
    when ``con`` is collected, or at exit).

    Raises:
        AnalyticsError: an in-memory SQLite ledger.
        duckdb.Error: DuckDB cannot attach.
    """
    backend = url.get_backend_name()
    con.execute(f"LOAD {quote(str(extension_path(backend)))}")
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise AnalyticsError("an in-memory SQLite ledger cannot be analysed: use a file (sqlite:///PATH)")
        path = _readable_copy(con, url) or url.database
        con.execute(f"ATTACH {quote(path)} AS ledger (TYPE sqlite, READ_ONLY)")
        return "ledger"
    passfile = _passfile(url)
    if passfile is not None:
        _on_close(con, _remove, passfile)
    con.execute(f"ATTACH {quote(_libpq_url(url, passfile))} AS ledger (TYPE postgres, READ_ONLY)")
    schema = con.execute("SELECT * FROM postgres_query('ledger', 'SELECT current_schema()')").fetchone()
    return "ledger." + _ident(schema[0] if schema else "public")


def lock_session(con: duckdb.DuckDBPyConnection) -> None:
    """No file, no Python object, no extension, no attach, no setting change from here on."""
    con.execute("SET enable_external_access = false")
    con.execute("SET python_enable_replacements = false")
    con.execute("SET lock_configuration = true")


def scrub(message: str, url: sa.URL) -> str:
    """A DuckDB message about the ledger at ``url`` without its passwords or its file's path."""
    message = mask_secrets(message, url_secrets(url))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        for path in sorted({os.path.abspath(url.database), str(url.database)}, key=len, reverse=True):
            message = message.replace(path, "<ledger>")
    return message


def connect(
    url: sa.URL, *, runs: Sequence[str] | None = None, locked: bool = True, mirror: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB session over the ledger at ``url`` (already migrated) with the catalogue views.

    Args:
        url: parsed RexNet database URL (SQLite file or PostgreSQL).
        runs: restrict every view to these run ids (their ancestors' events are still inherited).
        locked: disable external access and lock the configuration (user SQL); ``False`` only for
            RexNet's own statements that write files (Parquet export).
        mirror: path of an up-to-date columnar mirror of this ledger
            (:mod:`rexnet.analytics.mirror`): attached READ_ONLY as ``ledger`` instead of the ledger.

    Raises:
        AnalyticsError: missing extension, in-memory SQLite ledger, or DuckDB cannot attach.
    """
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        # no progress bar: DuckDB draws it on stdout, where the CLI prints its tables and JSON and
        # `rexnet serve` its log (set before the configuration is locked)
        con.execute("SET enable_progress_bar = false")
        if mirror is not None:
            con.execute(f"ATTACH {quote(mirror)} AS ledger (READ_ONLY)")  # a DuckDB file
            prefix = "ledger"
        else:
            prefix = attach_ledger(con, url)
        dialect = _dialect(con, prefix, runs)
        if mirror is not None:
            from rexnet.analytics.mirror import view_statements

            statements = view_statements(dialect)
        else:
            statements = create_statements(dialect)
        for statement in statements:
            con.execute(statement)
        con.execute(f"CREATE VIEW event_log AS SELECT * FROM {dialect.log} WHERE {_only(dialect)}")
        con.execute(AGENT_TYPE_MACRO)
        if locked:
            lock_session(con)
    except duckdb.Error as error:
        close(con)
        message = scrub(first_line(error), url)
        if mirror is not None:
            message = message.replace(mirror, "<mirror>")
        raise AnalyticsError(f"cannot open the ledger in DuckDB: {message}") from None
    except BaseException:
        close(con)
        raise
    return con


def _only(dialect: Dialect) -> str:
    """The condition of the session's ``event_log`` view.

    Never empty: a scan of a SQLite ``WITHOUT ROWID`` table that reads no column (``count(*)``)
    makes DuckDB's scanner ask for the ROWID it does not have; the condition reads ``seq``.
    """
    if dialect.only_sources is None:
        return "seq IS NOT NULL"
    return "run_id IN (" + ", ".join(quote(r) for r in dialect.only_sources) + ")"


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
