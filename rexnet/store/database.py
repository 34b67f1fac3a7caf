"""Database URLs and engines: parse, redact, connect, and translate driver errors.

Only two backends are supported: an embedded SQLite file (the default) and PostgreSQL through
psycopg 3. ``postgresql://`` and ``postgres://`` URLs are mapped to ``postgresql+psycopg://`` so a
plain libpq-style URL just works.

Every driver exception that crosses this package's boundary is translated into the RexNet error
tree (as pyeventsourcing does): callers never see a DB-API or SQLAlchemy class.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.pool import StaticPool

from rexnet.errors import DatabaseUnavailable, IntegrityError, LedgerDamaged, StoreError, shown

#: How long a writer waits for another writer's lock before giving up (SQLite busy_timeout).
BUSY_TIMEOUT_MS = 30_000
#: How long to wait for a PostgreSQL server to answer a connection attempt.
CONNECT_TIMEOUT_S = 10

#: ``scheme://user:PASSWORD@`` in a URL (also malformed ones: up to the token's last ``@``)
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)\S*@")
#: ``password=...`` / ``sslpassword=...``: a URL's query string or a libpq keyword string
#: (``password='a b'``), case-insensitive
_KEYWORD_PASSWORD = re.compile(r"""(?i)(\b[a-z_]*password\s*=\s*)('(?:[^'\\]|\\.)*'|"[^"]*"|[^\s&;,'")]+)""")
_MASK = "***"


def mask_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every password in it replaced by ``***``.

    Masks the password of any ``scheme://user:password@`` URL, any ``password=`` (query strings,
    libpq keyword strings) and every literal of ``secrets`` (the passwords of the URLs in play,
    also percent-encoded), so a driver message that quotes a password in its own way is masked too.
    """
    # longest first, so a password that contains another is masked whole
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret, safe="")}:
            text = text.replace(form, _MASK)
    text = _URL_PASSWORD.sub(rf"\1{_MASK}@", text)
    return _KEYWORD_PASSWORD.sub(rf"\1{_MASK}", text)


def url_secrets(url: str | sa.URL | None) -> list[str]:
    """The passwords in ``url``: its user's password and any ``password=`` of its query string."""
    if url is None:
        return []
    if not isinstance(url, sa.URL):
        try:
            url = sa.make_url(url)
        except (exc.ArgumentError, ValueError, TypeError):
            return []
    found = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if "password" in key.lower():
            found.extend([value] if isinstance(value, str) else list(value))
    return found


def redact(url: str | sa.URL) -> str:
    """The URL with every password (user's and query string's) replaced by ``***``.

    SQLAlchemy's ``render_as_string(hide_password=True)`` hides only the user's password, not a
    libpq ``?password=`` in the query string.
    """
    text = url.render_as_string(hide_password=True) if isinstance(url, sa.URL) else url
    return mask_secrets(text, url_secrets(url))


def shown_url(url: str | sa.URL) -> str:
    """The URL as a message quotes it: redacted (:func:`redact`), then cut to a short line."""
    return shown(redact(url), 200)


def parse_url(url: str) -> sa.URL:
    """Parse and normalise a RexNet database URL.

    Raises:
        DatabaseUnavailable: malformed URL or an unsupported backend or driver.
    """
    try:
        parsed = sa.make_url(url)
    except (exc.ArgumentError, ValueError, TypeError) as error:
        raise DatabaseUnavailable(f"cannot open database {shown_url(url)}: malformed URL ({error})") from None
    # Read the names from the string: asking SQLAlchemy for a default driver imports the dialect.
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "postgresql":
        raise DatabaseUnavailable(
            f"cannot open database {shown_url(parsed)}: driver {driver!r} is not supported (use postgresql+psycopg://)"
        )
    elif backend == "sqlite" and driver not in ("", "pysqlite"):
        raise DatabaseUnavailable(
            f"cannot open database {shown_url(parsed)}: driver {driver!r} is not supported (use sqlite:///PATH)"
        )
    elif backend == "sqlite" and parsed.database == "":
        # SQLAlchemy would open a private in-memory database and lose everything silently
        raise DatabaseUnavailable(
            "cannot open database 'sqlite:///': the file path is empty (use sqlite:///PATH)"
        )
    elif backend not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"cannot open database {shown_url(parsed)}: unsupported backend {backend!r} "
            "(use sqlite:///PATH or postgresql://...)"
        )
    return parsed


def is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine_for(url: str | sa.URL, *, query_only: bool = False) -> sa.Engine:
    """An engine for ``url`` with RexNet's connection settings (no connection is made yet).

    SQLite connections get a busy timeout, foreign keys, WAL journaling and
    ``synchronous=NORMAL`` (durable at every checkpoint, crash-safe, no fsync per commit), and
    every transaction is begun explicitly so a writer can ask for ``BEGIN IMMEDIATE``. With
    ``query_only`` (reading commands) SQLite refuses every write on the connection and the
    journal mode is left as it is (setting it is a write).

    Raises:
        DatabaseUnavailable: malformed URL, unknown backend or driver.
    """
    parsed = url if isinstance(url, sa.URL) else parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, query_only=query_only)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    except (exc.NoSuchModuleError, exc.ArgumentError, ImportError) as error:
        raise DatabaseUnavailable(f"cannot open database {shown_url(parsed)}: {_one_line(error)}") from None


def _sqlite_engine(url: sa.URL, *, query_only: bool) -> sa.Engine:
    kwargs: dict[str, Any] = {}
    if is_memory(url):
        # One shared connection, or every checkout would see its own empty database.
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # The driver's implicit transactions are switched off; "begin" below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if query_only:
            cursor.execute("PRAGMA query_only = ON")
        elif not is_memory(url):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front (waiting up to busy_timeout) instead of failing
        # with SQLITE_BUSY when a read transaction later tries to become a write transaction.
        immediate = conn.get_execution_options().get("rexnet_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def read_only_url(url: sa.URL) -> sa.URL | None:
    """A URL that opens the SQLite ledger file of ``url`` read-only if this process cannot write it.

    ``None`` when it can (a reader then opens it normally with ``query_only``, which lets SQLite
    clean its ``-wal``/``-shm`` files up on close) or when ``url`` is not an existing SQLite file.

    A file that cannot be written (its folder neither: SQLite could not even create the
    ``-shm`` index beside it) is opened with ``mode=ro``; and with ``immutable=1`` when no WAL holds
    pending pages, since nobody can change it then, and SQLite needs no lock or index file.
    """
    if url.get_backend_name() != "sqlite" or is_memory(url) or "uri" in url.query:
        return None
    path = os.path.abspath(str(url.database))
    if not os.path.isfile(path):
        return None
    folder = os.path.dirname(path)
    if os.access(path, os.W_OK) and os.access(folder, os.W_OK):
        return None
    query = {"mode": "ro", "uri": "true"}
    wal = path + "-wal"
    if not (os.path.exists(wal) and os.path.getsize(wal) > 0):
        query["immutable"] = "1"
    return url.set(database="file:" + quote(path), query=query)


def _one_line(error: BaseException) -> str:
    """The first line of an exception's message, without SQLAlchemy's background links."""
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        error = error.orig
    text = str(error).strip().splitlines()
    return text[0].strip() if text else type(error).__name__


@contextmanager
def translated(url: sa.URL | str, what: str = "database error") -> Iterator[None]:
    """Translate driver errors raised inside the block into RexNet errors.

    Integrity violations (unique keys, triggers, foreign keys) become
    :class:`~rexnet.errors.IntegrityError`; lost connections and unreachable servers
    :class:`~rexnet.errors.DatabaseUnavailable`; anything else from the driver
    :class:`~rexnet.errors.StoreError`. Other exceptions pass through unchanged.
    """
    try:
        yield
    except Exception as error:
        kind = _driver_error_kind(error)
        if kind is None:
            raise
        if kind == "integrity":
            raise IntegrityError(f"{what}: {_one_line(error)}") from error
        if kind == "unavailable":
            raise DatabaseUnavailable(f"cannot use database {shown_url(url)}: {_one_line(error)}") from None
        if kind == "damaged":
            raise LedgerDamaged(f"{what}: {_one_line(error)} (the ledger is damaged)") from None
        raise StoreError(f"{what}: {_one_line(error)}") from error


def _driver_error_kind(error: BaseException) -> str | None:
    """``"integrity"``, ``"unavailable"``, ``"damaged"`` or ``"other"`` for a driver error, ``None``
    otherwise.

    SQLAlchemy wraps errors of its own cursors; the append path's raw DB-API cursors raise the
    driver's classes, recognised here by the PEP 249 class names so that psycopg need not be
    imported by SQLite users.
    """
    if is_damage(error):
        return "damaged"
    if isinstance(error, exc.DBAPIError):
        if isinstance(error, exc.IntegrityError):
            return "integrity"
        if error.connection_invalidated or (
            isinstance(error, exc.OperationalError) and _is_unavailable(error)
        ):
            return "unavailable"
        return "other"
    module = type(error).__module__.partition(".")[0]
    if module not in ("sqlite3", "psycopg"):
        return None
    names = {cls.__name__ for cls in type(error).__mro__}
    if "IntegrityError" in names:
        return "integrity"
    if "OperationalError" in names and _is_unavailable(error):
        return "unavailable"
    return "other" if "Error" in names else None


#: SQLSTATEs of a damaged PostgreSQL ledger: undefined_table, data_corrupted, index_corrupted
_DAMAGE_SQLSTATES = ("42P01", "XX001", "XX002")
#: SQLite's messages for a missing table, a corrupt page (SQLITE_CORRUPT) or a garbled file
_DAMAGE_MESSAGES = ("no such table", "database disk image is malformed", "file is not a database")


def is_damage(error: BaseException) -> bool:
    """Whether a driver error says the ledger is damaged (a table gone, a page corrupt), which is
    a failed check (exit 1), not a bad input or an unreachable server."""
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        error = error.orig
    if getattr(error, "sqlstate", None) in _DAMAGE_SQLSTATES:
        return True
    module = type(error).__module__.partition(".")[0]
    return module == "sqlite3" and any(marker in str(error) for marker in _DAMAGE_MESSAGES)


def _is_unavailable(error: BaseException) -> bool:
    text = str(error).lower()
    return any(
        marker in text
        for marker in (
            "unable to open",
            "readonly database",
            "read-only",
            "connection",
            "could not connect",
            "timeout expired",
            "disk i/o",
            "permission denied",
            "no such host",
            "name or service",
        )
    )
