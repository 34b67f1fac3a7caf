"""The columnar mirror: a DuckDB copy of the ledger's events, refreshed by seq, for fast analytics.

The log is immutable, so a copy of it is never stale for what it holds: a refresh only appends the
events with a seq above the one mirrored per run (and the runs new since the last refresh).
``rexnet sql``/``query``/``export``/``report`` (:class:`rexnet.analytics.api.Analytics`) refresh the
mirror and read it instead of scanning the ledger, and fall back to the scanner where it cannot
exist (read-only directory, full disk, a file locked by another process, ``--no-mirror``).

**Where.** One DuckDB file: ``<ledger>.mirror.duckdb`` beside a SQLite ledger; for PostgreSQL a
file in ``$REXNET_MIRROR_DIR`` (default ``~/.cache/rexnet/mirrors``) named by a digest of the URL
without its password (user, host, port, database and options: a ``search_path`` is a ledger too).
One file rather than Parquet files per run: DuckDB appends and commits a refresh atomically, and a
query over many runs reads one table.

**What.** ``mirror_log`` holds each stored row of ``event_log`` exactly (payload text and chain
hash included) plus ``doc``, the payload decoded once at refresh into a typed struct of every field
the catalogue's views read (collected from the catalogue itself, so a new view needs no edit
here; a new field changes the mirror's signature and rebuilds it). The views are the catalogue's
DuckDB rendering with one difference (:class:`MirrorDialect`): they read ``doc`` from the table
instead of parsing the JSON per query, so they give the same rows, a test compares every view.
``runs`` is copied whole at every refresh (statuses and heads move on).

**What is checked, and what that proves.**

* Against the ledger, at every refresh: for each run the mirror records ``(seq, hash)`` of the
  last row it copied; the ledger's stored hash at that seq must be the same. The chain hash at a
  seq commits to every event up to it, so an equal hash means the ledger's chain still ends in the
  history the mirror copied. A different or missing hash (history rewritten and re-chained, or
  truncated, or a run deleted) is a failed check (:class:`MirrorMismatch`, exit 1): the mirror
  never silently replaces the old history by the new one. ``rexnet audit`` judges the ledger;
  ``--no-mirror`` reads it as it is; ``rexnet mirror --rebuild`` accepts it. An event edited in
  place *without* re-chaining keeps the stored hashes: that is ``rexnet audit``'s finding (it
  recomputes the chain), not the mirror's.
* The mirror itself: per run, the row count, the last seq and its hash and a checksum (the sum of
  DuckDB's 64-bit ``hash()`` of every row, ``doc`` included) are recorded when rows are copied.
  They are re-computed over the whole mirror whenever the file is not byte-for-byte the one the
  last refresh left (its size and modification time are sealed in a ``.seal`` file beside it);
  a run that does not match is dropped and copied again, with a warning. This catches a mirror
  edited by hand or by a tool; it is not a cryptographic seal: someone who recomputes these
  checksums with DuckDB and restores the file's modification time can fool it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from rexnet.analytics import catalogue
from rexnet.analytics.catalogue import TEXT, Dialect, quote
from rexnet.errors import CheckFailed

#: bumped when the layout of the mirror changes (an older mirror is then rebuilt)
FORMAT = "rexnet-mirror/1"
#: the internal view of ``event_history`` rows with their decoded payload (not a catalogue name)
DECODED_HISTORY = "event_history_decoded"
_LOG = "mirror_log"
_COLUMNS = "run_id, seq, t_ms, type, version, payload, hash"
#: check at most this many ``(run, seq)`` anchors per ledger query
_BATCH = 200
#: copy (and commit) at most this many events of a run at a time
_CHUNK = 500_000

Notify = Callable[[str], None]


class MirrorMismatch(CheckFailed):
    """The ledger's history no longer ends in what the mirror copied (exit 1)."""


class MirrorUnavailable(Exception):
    """The mirror cannot be created, opened or refreshed here; the scanner path is used instead."""


# -- the decoded columns and the views ------------------------------------------------------------
class _FieldRecorder(Dialect):
    """A DuckDB dialect that records every payload field the views ask :meth:`source` for."""

    seen: list[tuple[str, str]]

    def source(self, fields: Any, alias: str = "h") -> str:
        self.seen.extend(fields)
        return super().source(fields, alias)


def decoded_fields() -> list[tuple[str, str]]:
    """``[(field, DuckDB type)]`` of every payload field the catalogue's views read, sorted.

    Raises:
        MirrorUnavailable: two views read one field as different types.
    """
    recorder = _FieldRecorder("duckdb")
    object.__setattr__(recorder, "seen", [])
    catalogue.render(recorder)
    types: dict[str, str] = {}
    for name, kind in recorder.seen:
        duck = {TEXT: "VARCHAR", "json": "JSON"}.get(kind, "BIGINT")  # as Dialect.source types them
        if types.setdefault(name, duck) != duck:
            raise MirrorUnavailable(f"the views read payload field {name} as two types")
    return sorted(types.items())


def _doc_type(fields: list[tuple[str, str]]) -> str:
    return "STRUCT(" + ", ".join(f'"{name}" {duck}' for name, duck in fields) + ")"


def _json_schema(fields: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{name}": "{duck}"' for name, duck in fields) + "}"


@dataclass(frozen=True)
class MirrorDialect(Dialect):
    """The catalogue's DuckDB rendering over the mirror: fields come decoded from ``doc``."""

    def source(self, fields: Any, alias: str = "h") -> str:
        return f"{DECODED_HISTORY} {alias}"


def view_statements(dialect: Dialect) -> list[str]:
    """``CREATE VIEW`` statements of the catalogue over a mirror attached as ``ledger``.

    ``dialect`` is the session's scanner dialect (run restriction included); its log becomes the
    mirror's table. Raises MirrorUnavailable when ``event_history`` cannot be widened by ``doc``.
    """
    mirror = MirrorDialect(**{**asdict(dialect), "log": f"ledger.{_LOG}"})
    statements = []
    for name, sql in catalogue.render(mirror):
        statements.append(f"CREATE OR REPLACE VIEW {name} AS {sql}")
        if name == "event_history":
            anchor = " e.run_id AS source_run_id"
            if sql.count(anchor) != 1:
                raise MirrorUnavailable("event_history has no single source_run_id column to widen")
            widened = sql.replace(anchor, anchor + ", e.doc")
            statements.append(f"CREATE OR REPLACE VIEW {DECODED_HISTORY} AS {widened}")
    return statements


# -- where the mirror lives -----------------------------------------------------------------------
def mirror_path(url: sa.URL) -> Path:
    """The mirror file of the ledger at ``url`` (it need not exist)."""
    if url.get_backend_name() == "sqlite":
        return Path(f"{url.database}.mirror.duckdb")
    key = json.dumps(
        [url.username, url.host, url.port, url.database, sorted((k, str(v)) for k, v in url.query.items())]
    )
    folder = os.environ.get("REXNET_MIRROR_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "rexnet", "mirrors"
    )
    return Path(folder, f"pg-{hashlib.sha256(key.encode()).hexdigest()[:24]}.mirror.duckdb")


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + ".seal")


def _file_state(path: Path) -> list[Any]:
    """What changes whenever anything writes the mirror file (its WAL included)."""
    wal = path.with_name(path.name + ".wal")
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino, wal.exists()]


def _sealed(path: Path) -> bool:
    try:
        return json.loads(_seal_path(path).read_text()) == _file_state(path)
    except (OSError, ValueError):
        return False


# -- refresh ----------------------------------------------------------------------------------------
@dataclass
class RefreshSummary:
    """What a refresh did: rows copied per run, runs rebuilt, seconds taken."""

    copied: dict[str, int] = field(default_factory=dict)
    rebuilt: list[str] = field(default_factory=list)
    verified: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.copied.values())


@dataclass
class _RunState:
    seq: int
    hash: bytes | None
    rows: int
    checksum: int


def refresh(
    url: sa.URL, *, path: Path | None = None, rebuild: bool = False, notify: Notify | None = None
) -> RefreshSummary:
    """Bring the mirror of the ledger at ``url`` up to date (creating it if needed).

    Raises:
        MirrorMismatch: the ledger's hash at a mirrored seq is not the mirrored one (exit 1).
        MirrorUnavailable: the file cannot be written (read-only folder, full disk, locked).
    """
    from rexnet.analytics import duckdb_session

    start = time.perf_counter()
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise MirrorUnavailable("an in-memory ledger has no mirror")
    path = path or mirror_path(url)
    warn = notify or (lambda _msg: None)
    if rebuild:
        _remove(path)
    con = _open(path)
    summary = RefreshSummary()
    try:
        con.execute("SET enable_progress_bar = false")  # not on stdout: the CLI's output
        con.execute(f"LOAD {quote(str(duckdb_session.extension_path(url.get_backend_name())))}")
        source = _Source(con, url)
        fields = decoded_fields()
        _ensure_schema(con, fields)
        con.execute("BEGIN TRANSACTION")
        state = _load_state(con)
        if state and not _sealed(path):
            summary.verified = True
            for run in _corrupt_runs(con, state):
                warn(f"the analytics mirror of run {run} did not match its checksums (edited?): copied again")
                _drop_run(con, run)
                del state[run]
                summary.rebuilt.append(run)
        heads = source.snapshot_runs()
        gone = sorted(set(state) - set(heads))
        if gone and len(gone) == len(state):  # a different ledger at the same place: start over
            for run in gone:
                _drop_run(con, run)
            state = {}
        elif gone:
            raise MirrorMismatch(
                f"run {gone[0]} is in the analytics mirror but no longer in the ledger: its history was "
                "deleted (see `rexnet audit`; --no-mirror reads the ledger as it is, "
                "`rexnet mirror --rebuild` accepts it)"
            )
        _check_anchors(source, state)
        con.execute("COMMIT")
        schema = _json_schema(fields)
        for run, (low, head) in sorted(heads.items()):
            current = state.get(run) or _RunState(low, None, 0, 0)
            while head > current.seq:  # in chunks, each committed: bounded memory, kept progress
                con.execute("BEGIN TRANSACTION")
                current = _copy(con, source, run, current, min(head, current.seq + _CHUNK), schema)
                con.execute("COMMIT")
                summary.copied[run] = current.rows - (state[run].rows if run in state else 0)
    except duckdb.Error as error:
        _rollback(con)
        message = duckdb_session.first_line(error).replace(str(path), "<mirror>")
        if url.password:
            message = message.replace(str(url.password), "***")
        raise MirrorUnavailable(message) from None
    except BaseException:
        _rollback(con)
        raise
    finally:
        duckdb_session.close(con)
    try:
        _seal_path(path).write_text(json.dumps(_file_state(path)))
    except OSError:
        pass  # without a seal the next refresh verifies the checksums again
    summary.seconds = time.perf_counter() - start
    return summary


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal"), _seal_path(path)):
        try:
            p.unlink(missing_ok=True)
        except OSError as error:
            raise MirrorUnavailable(f"cannot remove the mirror: {error.strerror}") from None


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    """The mirror opened for writing; a file DuckDB cannot read (not ours, damaged) is replaced."""
    config: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the folders still to create go in the nearest one that exists
    if not os.access(folder, os.W_OK):
        raise MirrorUnavailable("the mirror's folder is not writable")
    for attempt in range(2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(path), config=config)
        except OSError as error:
            raise MirrorUnavailable(f"cannot create the mirror: {error.strerror}") from None
        except duckdb.Error as error:
            text = str(error)
            if attempt or "lock" in text.lower() or "already" in text.lower():
                raise MirrorUnavailable("the mirror is in use or unreadable") from None
            _remove(path)
    raise MirrorUnavailable("the mirror cannot be opened")  # pragma: no cover - loop returns or raises


def _ensure_schema(con: duckdb.DuckDBPyConnection, fields: list[tuple[str, str]]) -> None:
    """Create the tables, or rebuild them when the format, DuckDB or the decoded fields changed."""
    signature = json.dumps([FORMAT, duckdb.__version__, fields])
    con.execute("CREATE TABLE IF NOT EXISTS mirror_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM mirror_meta WHERE key = 'signature'").fetchone()
    if row and row[0] == signature:
        return
    con.execute("BEGIN TRANSACTION")
    for name in ("event_log", DECODED_HISTORY):
        con.execute(f"DROP VIEW IF EXISTS {name}")
    for name in (_LOG, "mirror_runs", "runs"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"CREATE TABLE {_LOG} (run_id VARCHAR, seq BIGINT, t_ms BIGINT, type VARCHAR, version INTEGER,"
        f" payload VARCHAR, hash BLOB, doc {_doc_type(fields)})"
    )
    # the ledger's own columns, for `ledger.event_log` in user SQL as on the scanner path
    con.execute(f"CREATE VIEW event_log AS SELECT {_COLUMNS} FROM {_LOG}")
    con.execute(
        "CREATE TABLE mirror_runs (run_id VARCHAR PRIMARY KEY, seq BIGINT, hash BLOB, rows BIGINT,"
        " checksum HUGEINT)"
    )
    con.execute("INSERT OR REPLACE INTO mirror_meta VALUES ('signature', ?)", [signature])
    con.execute("COMMIT")


def _load_state(con: duckdb.DuckDBPyConnection) -> dict[str, _RunState]:
    rows = con.execute("SELECT run_id, seq, hash, rows, checksum FROM mirror_runs").fetchall()
    return {r[0]: _RunState(r[1], r[2], r[3], int(r[4])) for r in rows}


_CHECKSUM = f"SUM(hash({_COLUMNS}, doc))::HUGEINT"


def _corrupt_runs(con: duckdb.DuckDBPyConnection, state: dict[str, _RunState]) -> list[str]:
    """Runs whose mirrored rows no longer match the counts, head and checksum recorded for them."""
    actual = {
        r[0]: r[1:]
        for r in con.execute(
            f"SELECT run_id, COUNT(*), MAX(seq), arg_max(hash, seq), {_CHECKSUM} FROM {_LOG} GROUP BY run_id"
        ).fetchall()
    }
    bad = set(actual) - set(state)  # rows of a run the mirror has no record of
    for run, s in state.items():
        rows, last, head_hash, checksum = actual.get(run, (0, None, None, 0))
        if s.rows == 0:
            ok = rows == 0
        else:
            ok = (rows, last, head_hash, int(checksum)) == (s.rows, s.seq, s.hash, s.checksum)
        if not ok:
            bad.add(run)
    return sorted(bad)


def _drop_run(con: duckdb.DuckDBPyConnection, run: str) -> None:
    con.execute(f"DELETE FROM {_LOG} WHERE run_id = ?", [run])
    con.execute("DELETE FROM mirror_runs WHERE run_id = ?", [run])


def _check_anchors(source: _Source, state: dict[str, _RunState]) -> None:
    """The ledger's stored hash at each run's mirrored seq must be the mirrored hash."""
    anchored = [(run, s) for run, s in sorted(state.items()) if s.rows]
    for i in range(0, len(anchored), _BATCH):
        batch = anchored[i : i + _BATCH]
        found = source.hashes_at([(run, s.seq) for run, s in batch])
        for run, s in batch:
            if found.get((run, s.seq)) != s.hash:
                raise MirrorMismatch(
                    f"run {run}: the ledger's event at seq {s.seq} is not the one mirrored earlier: its "
                    "history was changed or cut (see `rexnet audit`; --no-mirror reads the ledger as it "
                    "is, `rexnet mirror --rebuild` accepts it)"
                )


def _copy(
    con: duckdb.DuckDBPyConnection, source: _Source, run: str, state: _RunState, upto: int, schema: str
) -> _RunState:
    """Append run's stored events ``state.seq < seq <= upto``, decoded; its new record."""
    # rows stay in seq order (the ledger's key order): grouping them by type would let DuckDB skip
    # row groups of other types, but queries without ORDER BY would then list events out of order
    con.execute(
        f"INSERT INTO {_LOG} SELECT {_COLUMNS}, from_json(payload, {quote(schema)}) AS doc"
        f" FROM {source.rows(run, state.seq, upto)}"
    )
    count, low, high, head_hash, checksum = con.execute(
        f"SELECT COUNT(*), MIN(seq), MAX(seq), arg_max(hash, seq), {_CHECKSUM} FROM {_LOG}"
        " WHERE run_id = ? AND seq > ?",
        [run, state.seq],
    ).fetchone()  # type: ignore[misc]
    if (count, low, high) != (upto - state.seq, state.seq + 1, upto):
        raise MirrorMismatch(
            f"run {run}: the ledger holds {count} events between seq {state.seq + 1} and {upto}, "
            f"not {upto - state.seq} (see `rexnet audit`)"
        )
    new = _RunState(upto, head_hash, state.rows + count, state.checksum + int(checksum))
    con.execute(
        "INSERT OR REPLACE INTO mirror_runs VALUES (?, ?, ?, ?, ?)",
        [run, new.seq, new.hash, new.rows, new.checksum],
    )
    return new


class _Source:
    """The ledger attached read-only in the refreshing DuckDB, with the queries a refresh needs.

    Ranges and anchors are read with ``sqlite_query``/``postgres_query``: the ledger's own engine
    then uses its ``(run_id, seq)`` key, where a scan of the attached table would read every row.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, url: sa.URL) -> None:
        from rexnet.analytics import duckdb_session

        self.con = con
        self.pg = url.get_backend_name() != "sqlite"
        if self.pg:
            # the password reaches libpq through the engine's private passfile, never the ATTACH
            passfile = duckdb_session._passfile(url)
            if passfile is not None:
                duckdb_session._on_close(con, duckdb_session._remove, passfile)
            con.execute(
                f"ATTACH {quote(duckdb_session._libpq_url(url, passfile))} AS src (TYPE postgres, READ_ONLY)"
            )
            row = con.execute("SELECT * FROM postgres_query('src', 'SELECT current_schema()')").fetchone()
            self.runs = "src." + duckdb_session._ident(row[0] if row else "public") + ".runs"
        else:
            con.execute(f"ATTACH {quote(str(url.database))} AS src (TYPE sqlite, READ_ONLY)")
            self.runs = "src.runs"

    def query(self, sql: str) -> str:
        """A DuckDB table expression running ``sql`` in the ledger's engine."""
        function = "postgres_query" if self.pg else "sqlite_query"
        return f"{function}('src', {quote(sql)})"

    def snapshot_runs(self) -> dict[str, tuple[int, int]]:
        """Copy ``runs`` into the mirror; ``{run: (last seq it inherits, head seq)}`` of that copy.

        The heads bound what is copied next, so rows appended meanwhile wait for the next refresh
        (a run's head moves in the transaction that appends its rows).
        """
        self.con.execute(f"CREATE OR REPLACE TABLE runs AS SELECT * FROM {self.runs}")
        rows = self.con.execute("SELECT run_id, fork_seq, head_seq FROM runs").fetchall()
        return {run: (-1 if fork is None else fork, head) for run, fork, head in rows}

    def rows(self, run: str, after: int, upto: int) -> str:
        hash_col = "hash" if self.pg else "hex(hash) AS hash"
        inner = self.query(
            f"SELECT run_id, seq, t_ms, type, version, payload, {hash_col} FROM event_log"
            f" WHERE run_id = {quote(run)} AND seq > {int(after)} AND seq <= {int(upto)}"
        )
        if self.pg:
            return inner
        # sqlite_query types every column VARCHAR
        return (
            "(SELECT run_id, CAST(seq AS BIGINT) AS seq, CAST(t_ms AS BIGINT) AS t_ms, type,"
            f" CAST(version AS INTEGER) AS version, payload, unhex(hash) AS hash FROM {inner})"
        )

    def hashes_at(self, anchors: Iterable[tuple[str, int]]) -> dict[tuple[str, int], bytes]:
        where = " OR ".join(f"(run_id = {quote(run)} AND seq = {int(seq)})" for run, seq in anchors)
        hash_col = "hash" if self.pg else "hex(hash) AS hash"
        sql = f"SELECT run_id, seq, {hash_col} FROM event_log WHERE {where}"
        found = self.con.execute(f"SELECT * FROM {self.query(sql)}").fetchall()
        return {(r, int(s)): (bytes(h) if self.pg else bytes.fromhex(h)) for r, s, h in found}
