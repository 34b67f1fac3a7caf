"""The event store: runs, append (through :class:`RunWriter`), streaming reads and chain checks.

One :class:`EventStore` wraps one database (SQLite file or PostgreSQL) given by URL; open it with
:func:`open_store`, which also migrates the schema to head on first use. Reads stream in seq order
in windows of ``chunk`` seqs, so memory is bounded by ``chunk`` rows, never by the size of a run.

Forks store only their own events (``seq > fork_seq``); :meth:`EventStore.read` of a fork returns
those own events only. The shared prefix is read from the parent (``parent_run_id`` up to
``fork_seq``), which the replay layer stitches together.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import exc

from rexnet.domain.codec import GENESIS, first_bad_seq
from rexnet.errors import DatabaseUnavailable, IntegrityError, LedgerDamaged, RunNotFound, StoreError, shown
from rexnet.store import journal, snapshot_table
from rexnet.store.database import (
    create_engine_for,
    is_damage,
    is_memory,
    parse_url,
    read_only_url,
    redact,
    shown_url,
    translated,
)
from rexnet.store.migrate import check_revision, current_revision, head_revision, upgrade_connection
from rexnet.store.records import CodedChunk, RunInfo, StoredEvent, check_fork_seq, check_new_run, scales
from rexnet.store.schema import RUN_STATUSES, runs
from rexnet.store.snapshot_table import SnapshotKey
from rexnet.store.writer import RunWriter, commit_rows

_FULL_COLUMNS = "run_id, seq, t_ms, type, version, payload, hash"
#: an SQL text expression as bytes (``{}``): the driver then skips building a str that the JSON
#: parser would re-encode (measurably faster reads on SQLite)
_AS_BYTES = {"sqlite": "CAST({} AS BLOB)", "postgresql": "convert_to({}, 'UTF8')"}
_LEAN_COLUMNS = {
    name: f"seq, t_ms, type, version, {expr.format('payload')}"  # lean rows: no run id, no hash
    for name, expr in _AS_BYTES.items()
}

#: Default seqs per query of the row reads. Short chunks stay in the CPU's caches (the chain check
#: on SQLite is faster in chunks of 2,000 than of 20,000). A query costs a round trip on
#: PostgreSQL, so chunks there are longer.
_ROW_CHUNK = {"sqlite": 2_000, "postgresql": 10_000}
#: Default events per chunk of :meth:`EventStore.read_coded`, where every event of a chunk is alive
#: at once as parsed objects: on SQLite folds are faster in chunks of 1,000 than of 4,000
#: (above all beside the forked chain check of ``rexnet replay``, whose parent pays a copy-on-write
#: fault for every page it touches).
_CODED_CHUNK = {"sqlite": 1_000, "postgresql": 4_000}
#: one column of a chunk, concatenated in seq order (``{}``: the column)
_AGGREGATE = {
    "sqlite": "group_concat({})",
    "postgresql": "string_agg(({})::text, ',' ORDER BY seq)",
}


def _array(items: str) -> str:
    """SQL of a JSON array text around comma-separated ``items``."""
    return f"'[' || {items} || ']'"


class EventStore:
    """The append-only ledger of runs and their events in one database.

    Args:
        engine: a SQLAlchemy engine made by :func:`rexnet.store.database.create_engine_for`.

    Prefer :func:`open_store`, which checks connectivity and migrates first.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._ph = "?" if self.dialect == "sqlite" else "%s"

    @property
    def url(self) -> str:
        """The database URL with its password hidden."""
        return redact(self.engine.url)

    def reopened(self) -> EventStore:
        """A store on the same database with a pool of its own (no connection is made yet).

        For a forked child process, which must not touch the connections it inherited: they are
        the parent's (see :mod:`rexnet.replay.background`).
        """
        return EventStore(create_engine_for(self.engine.url))

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EventStore({self.url!r})"

    # -- runs --------------------------------------------------------------------------------------
    def create_run(
        self,
        *,
        name: str | None,
        scenario: dict[str, Any],
        seed: int,
        code_version: str,
        market: dict[str, Any],
        parent_run_id: str | None = None,
        fork_seq: int | None = None,
    ) -> RunInfo:
        """Record a new, empty run (status ``running``).

        A fork names its parent and ``fork_seq``, the last seq of the parent's history it shares
        (``-1`` shares nothing); its head starts at that seq and hash.

        Raises:
            RunNotFound: the parent does not exist.
            IntegrityError: the name is taken.
            ValueError: inconsistent fork arguments or a seed outside 64-bit range.
        """
        check_new_run(parent_run_id, fork_seq, seed)
        head_seq, head_hash = -1, GENESIS
        if parent_run_id is not None and fork_seq is not None:
            parent = self._run_by_id(parent_run_id)
            check_fork_seq(parent, fork_seq)
            head_seq, head_hash = fork_seq, self._hash_at(parent, fork_seq)
        run_id = uuid.uuid4().hex[:12]
        values = {
            "run_id": run_id,
            "name": name,
            "parent_run_id": parent_run_id,
            "fork_seq": fork_seq,
            "scenario": orjson.dumps(scenario, option=orjson.OPT_SORT_KEYS).decode(),
            "seed": seed,
            "code_version": code_version,
            "market": orjson.dumps(market, option=orjson.OPT_SORT_KEYS).decode(),
            **scales(market),
            "status": "running",
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "head_seq": head_seq,
            "head_hash": head_hash,
            "events": head_seq + 1,
        }
        try:
            with translated(self.engine.url, "cannot create run"), self._write() as conn:
                conn.execute(sa.insert(runs).values(**values))
        except IntegrityError:
            if name is not None and self._find(name, by_name=True):
                raise IntegrityError(f"a run named {shown(name)} already exists") from None
            raise
        return self._run_by_id(run_id)

    def get_run(self, ref: str) -> RunInfo:
        """The run whose id or unique name is ``ref``.

        Raises:
            RunNotFound: no such run, or ``ref`` is one run's id and another's name.
        """
        with translated(self.engine.url, "cannot read runs"), self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs).where(sa.or_(runs.c.run_id == ref, runs.c.name == ref))).all()
        if not rows:
            raise RunNotFound(f"no run {shown(ref)}")
        if len(rows) > 1:
            raise RunNotFound(f"run name {shown(ref)} is ambiguous")
        return RunInfo.from_row(rows[0])

    def list_runs(self) -> list[RunInfo]:
        """Every run, in creation order."""
        with translated(self.engine.url, "cannot read runs"), self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs).order_by(runs.c.created_at, runs.c.run_id)).all()
        return [RunInfo.from_row(row) for row in rows]

    def set_status(self, run_id: str, status: str, *, reason: str | None = None) -> None:
        """Set a run's status (``running``, ``completed`` or ``failed``), and for ``failed`` why.

        The reason is kept in ``runs.failure`` (one line, at most 500 characters); any other
        status clears it.

        Raises:
            ValueError: unknown status.
            RunNotFound: no run ``run_id``.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
        with translated(self.engine.url, f"run {run_id}: cannot set status"), self._write() as conn:
            count = conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id)
                .values(status=status, failure=failure_line(reason) if status == "failed" else None)
            ).rowcount
        if count != 1:
            raise RunNotFound(f"no run {shown(run_id)}")

    def head(self, run_id: str) -> tuple[int, bytes]:
        """``(head_seq, head_hash)`` of a run as committed.

        Raises:
            RunNotFound: no run ``run_id``.
        """
        with translated(self.engine.url, "cannot read runs"), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(runs.c.head_seq, runs.c.head_hash).where(runs.c.run_id == run_id)
            ).first()
        if row is None:
            raise RunNotFound(f"no run {shown(run_id)}")
        return row[0], bytes(row[1])

    # -- events ------------------------------------------------------------------------------------
    def writer(self, run_id: str, *, batch_size: int = 5000) -> RunWriter:
        """A writer appending to ``run_id`` from its current head (see :class:`RunWriter`).

        Raises:
            RunNotFound: no run ``run_id``.
        """
        return RunWriter(self, run_id, batch_size=batch_size)

    def commit_rows(
        self,
        run_id: str,
        after_seq: int,
        rows: list[tuple[Any, ...]],
        head: bytes,
        snapshots: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        """Write chained rows continuing ``run_id`` at ``after_seq``, with persisted snapshots, in one
        transaction (see :func:`writer.commit_rows`)."""
        commit_rows(self, run_id, after_seq, rows, head, snapshots)

    def read(
        self,
        run_id: str,
        *,
        from_seq: int = 0,
        to_seq: int | None = None,
        types: Collection[str] | None = None,
        to_t_ms: int | None = None,
        chunk: int | None = None,
    ) -> Iterator[StoredEvent]:
        """Stream a run's stored events in seq order (own events only for a fork).

        Args:
            run_id: the run id (not a name; resolve names with :meth:`get_run`).
            from_seq: first seq to return.
            to_seq: last seq to return (inclusive).
            types: only events of these type names.
            to_t_ms: only events with ``t_ms <= to_t_ms``.
            chunk: seqs read per query (the memory bound; default: the backend's, see
                :data:`_ROW_CHUNK`).
        """
        for rows in self._chunks(_FULL_COLUMNS, run_id, from_seq, to_seq, types, to_t_ms, chunk):
            if rows and not isinstance(rows[0][6], bytes):  # a driver handing out memoryview
                rows = [(*row[:6], bytes(row[6])) for row in rows]
            yield from map(StoredEvent._make, rows)

    def read_chunks(
        self,
        run_id: str,
        *,
        from_seq: int = 0,
        to_seq: int | None = None,
        types: Collection[str] | None = None,
        to_t_ms: int | None = None,
        chunk: int | None = None,
        hashes: bool = False,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Lean ``(seq, t_ms, type, version, payload)`` rows (payload as bytes) in lists of up to
        ``chunk``, for folds that loop over them directly (bounds as for :meth:`read`).

        Projections and replays need neither the run id nor the hash of each row: fetching and
        wrapping those costs as much as folding the events themselves on SQLite.

        With ``hashes`` each row also carries the stored hash (bytes) as a sixth field, for folds
        that recompute the chain as they go (``rexnet replay``). A generator level per row costs
        about as much as reading the row, hence lists (of up to :data:`_ROW_CHUNK` rows).
        """
        columns = _LEAN_COLUMNS[self.dialect] + (", hash" if hashes else "")
        for rows in self._chunks(columns, run_id, from_seq, to_seq, types, to_t_ms, chunk):
            if rows and not (isinstance(rows[0][4], bytes) and (not hashes or isinstance(rows[0][5], bytes))):
                rows = [(*row[:4], *map(bytes, row[4:])) for row in rows]  # a driver handing out memoryview
            yield rows if isinstance(rows, list) else list(rows)

    def read_coded(
        self,
        run_id: str,
        *,
        from_seq: int,
        to_seq: int,
        codes: Sequence[tuple[str, int]],
        chunk: int | None = None,
    ) -> Iterator[CodedChunk]:
        """The run's events ``from_seq..to_seq`` as :class:`CodedChunk` columns, for the replay's
        hottest fold: seqs, times, type codes (the index of ``(type, version)`` in ``codes``) and
        parsed payloads.

        Why columns: fetching a row costs more than folding it (on SQLite the driver releases the
        GIL and SQLite takes its mutex for every row, and every column becomes a Python object).
        Here the database concatenates each column of a chunk into one JSON array, which is
        fetched and parsed in one call each, far cheaper than the row-by-row read.

        The payload array is the stored payload texts joined by commas, so it parses to exactly
        one element per row as long as every payload is a JSON value (an empty or broken payload
        makes it invalid). The seqs come back too and must be exactly ``lo..hi`` (dense, in seq
        order: SQLite concatenates in scan order, which the primary key keeps). A chunk that
        fails any of these checks, or has a ``(type, version)`` not in ``codes``, is read row by
        row instead, with payloads left as bytes for the decoder to report.

        ``chunk`` defaults to :data:`_CODED_CHUNK`.
        """
        ph, as_bytes, agg = self._ph, _AS_BYTES[self.dialect], _AGGREGATE[self.dialect]
        case = " ".join(f"WHEN {ph} THEN CASE version WHEN {ph} THEN {i} END" for i in range(len(codes)))
        code = f"CASE type {case} END" if codes else "NULL"
        where = f"FROM event_log WHERE run_id = {ph} AND seq >= {ph} AND seq <= {ph}"
        columns = ("seq", "t_ms", f"COALESCE({code}, -1)", "payload")
        arrays = (as_bytes.format(_array(agg.format(column))) for column in columns)
        columns_sql = f"SELECT {', '.join(arrays)} {where}"
        rows_sql = (
            f"SELECT seq, t_ms, {code}, type, version, {as_bytes.format('payload')} {where} ORDER BY seq"
        )
        pairs = [value for pair in codes for value in pair]
        loads = orjson.loads
        chunk = chunk or _CODED_CHUNK[self.dialect]
        for lo in range(from_seq, to_seq + 1, chunk):
            hi = min(lo + chunk - 1, to_seq)
            params = (*pairs, run_id, lo, hi)
            arrays_row = self._fetch(run_id, columns_sql, params)[0]
            if all(value is not None for value in arrays_row):
                try:
                    seqs, times, kinds, payloads = (loads(bytes(value)) for value in arrays_row)
                except orjson.JSONDecodeError:
                    pass
                else:
                    span = range(lo, hi + 1)
                    if len(payloads) == len(span) and seqs == list(span) and -1 not in kinds:
                        yield CodedChunk(span, times, kinds, payloads)
                        continue
            rows = self._fetch(run_id, rows_sql, params)
            yield CodedChunk(
                [row[0] for row in rows],
                [row[1] for row in rows],
                [f"{row[3]}@{row[4]}" if row[2] is None else row[2] for row in rows],
                [bytes(row[5]) for row in rows],
            )

    def _fetch(self, run_id: str, sql: str, params: Sequence[Any]) -> Sequence[Any]:
        """All rows of one read query, through the raw DB-API cursor, driver errors translated."""
        with translated(self.engine.url, f"run {run_id}: cannot read events"):
            with self.engine.connect() as conn:
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(sql, params)
                    return cursor.fetchall()
                finally:
                    cursor.close()

    def _chunks(
        self,
        columns: str,
        run_id: str,
        from_seq: int,
        to_seq: int | None,
        types: Collection[str] | None,
        to_t_ms: int | None,
        chunk: int | None,
    ) -> Iterator[Sequence[Any]]:
        """Row lists of one run, read by windows of ``chunk`` seqs (default: :data:`_ROW_CHUNK`).

        Each query is bounded on both sides (``seq BETWEEN lo AND hi``), so it reads at most
        ``chunk`` rows whatever plan the database picks. (Keyset pagination with ``LIMIT`` was
        quadratic on PostgreSQL whenever the table's statistics were stale, as they are right
        after a run is written: the planner bitmap-scanned every remaining row of the run and
        sorted them for each chunk.) Without ``to_seq`` the windows end at the run's last seq
        when the read starts.
        """
        if types is not None and not types:
            return
        ph = self._ph
        where = [f"run_id = {ph}", f"seq >= {ph}", f"seq <= {ph}"]
        tail: list[Any] = []
        if to_t_ms is not None:
            where.append(f"t_ms <= {ph}")
            tail.append(to_t_ms)
        if types is not None:
            types = sorted(set(types))
            where.append(f"type IN ({', '.join([ph] * len(types))})")
            tail.extend(types)
        if to_seq is None:
            to_seq = self._last_seq(run_id)
            if to_seq is None:
                return
        sql = f"SELECT {columns} FROM event_log WHERE {' AND '.join(where)} ORDER BY seq"
        chunk = chunk or _ROW_CHUNK[self.dialect]
        for lo in range(from_seq, to_seq + 1, chunk):
            rows = self._fetch(run_id, sql, (run_id, lo, min(lo + chunk - 1, to_seq), *tail))
            if rows:
                yield rows  # the fetched list itself: no copy per chunk

    def _last_seq(self, run_id: str) -> int | None:
        """The highest seq stored for the run (``None`` when it has no events)."""
        rows = self._fetch(run_id, f"SELECT max(seq) FROM event_log WHERE run_id = {self._ph}", (run_id,))
        return None if rows[0][0] is None else int(rows[0][0])

    # -- the input journal of ingest runs (rexnet.store.journal) -----------------------------------
    def append_journal(self, run_id: str, chunks: Iterable[Any]) -> int:
        """Append input-journal chunks to a run (see :mod:`rexnet.store.journal`)."""
        return journal.append_journal(self, run_id, chunks)

    def journal_rows(self, run_id: str) -> Iterator[tuple[int, int, int, str, bytes]]:
        """The run's stored input-journal chunks in index order, streamed."""
        return journal.journal_rows(self, run_id)

    # -- persisted snapshots (rexnet.store.snapshot_table; their meaning: rexnet.replay.persisted) --
    def snapshot_keys(self, run_id: str, lo: int, hi: int | None) -> list[SnapshotKey]:
        """The snapshot rows (without state) of ``run_id`` with ``lo <= seq <= hi``, by seq."""
        return snapshot_table.snapshot_keys(self, run_id, lo, hi)

    def snapshot_state(self, run_id: str, seq: int) -> bytes | None:
        """The stored state of one snapshot (``None`` when the row is gone)."""
        return snapshot_table.snapshot_state(self, run_id, seq)

    def put_snapshots(self, rows: Sequence[tuple[Any, ...]], *, replace: bool = False) -> None:
        """Insert (with ``replace``: overwrite) full snapshot rows in one transaction."""
        snapshot_table.put_snapshots(self, rows, replace=replace)

    def orphan_events(self) -> list[tuple[str, int, int, int]]:
        """Rows of ``event_log`` whose run does not exist: ``(run_id, rows, first seq, last seq)``
        per missing run. The schema refuses such rows (migration 0005); finding any means someone
        wrote around it (a dropped trigger, a replica-mode session)."""
        sql = (
            "SELECT run_id, count(*), min(seq), max(seq) FROM event_log "
            "WHERE run_id NOT IN (SELECT run_id FROM runs) GROUP BY run_id ORDER BY run_id"
        )
        with translated(self.engine.url, "cannot read events"), self.engine.connect() as conn:
            rows = conn.exec_driver_sql(sql).all()
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    def verify_chain(self, run_id: str) -> int | None:
        """Recompute the run's hash chain from the stored payload text.

        Starts from ``GENESIS`` (or, for a fork, the parent's hash at ``fork_seq``) and also checks
        that seqs are dense and that the run's recorded head matches the last event.

        Returns:
            The first seq whose stored hash does not match (or that is missing or unexpected),
            or ``None`` when the whole chain is intact.

        Raises:
            RunNotFound: no run ``run_id``.
        """
        info = self._run_by_id(run_id)
        if info.parent_run_id is not None and info.fork_seq is not None:
            prev, expected = (
                self._hash_at(self._run_by_id(info.parent_run_id), info.fork_seq),
                info.fork_seq + 1,
            )
        else:
            prev, expected = GENESIS, 0
        rows = (
            (r.seq, r.t_ms, r.type, r.version, r.payload.encode(), r.hash)
            for r in self.read(run_id, from_seq=min(expected, 0))
        )
        bad = first_bad_seq([rows], info.head_seq, info.head_hash, prev=prev, expected=expected)
        if bad is None and info.events != info.head_seq + 1:
            return info.head_seq
        return bad

    def hash_at(self, run: RunInfo, seq: int) -> bytes:
        """The chain hash at ``seq`` of ``run``'s full history (a fork's prefix read from its parent).

        Raises:
            StoreError: the history has no event ``seq``.
        """
        return self._hash_at(run, seq)

    # -- helpers -----------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on exit."""
        with self.engine.connect() as conn:
            conn.execution_options(rexnet_write=True)
            with conn.begin():
                yield conn

    def _find(self, ref: str, *, by_name: bool = False) -> RunInfo | None:
        column = runs.c.name if by_name else runs.c.run_id
        with translated(self.engine.url, "cannot read runs"), self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(column == ref)).first()
        return None if row is None else RunInfo.from_row(row)

    def _run_by_id(self, run_id: str) -> RunInfo:
        info = self._find(run_id)
        if info is None:
            raise RunNotFound(f"no run {shown(run_id)}")
        return info

    def _hash_at(self, info: RunInfo, seq: int) -> bytes:
        """The chain hash of ``info``'s history at ``seq`` (following fork parents)."""
        while info.fork_seq is not None and info.parent_run_id is not None and seq <= info.fork_seq:
            info = self._run_by_id(info.parent_run_id)
        if seq < 0:
            return GENESIS
        with translated(self.engine.url, "cannot read events"), self.engine.connect() as conn:
            value = conn.execute(
                sa.text("SELECT hash FROM event_log WHERE run_id = :r AND seq = :s"),
                {"r": info.run_id, "s": seq},
            ).scalar()
        if value is None:
            raise StoreError(f"run {info.run_id}: no event {seq}")
        return bytes(value)


def open_store(url: str, *, read_only: bool = False) -> EventStore:
    """Open the event store at ``url``, migrating its schema to head on first use.

    Args:
        url: the database URL.
        read_only: the caller only reads. An existing SQLite ledger whose schema is current is
            then opened so that nothing is written (see :func:`_open_reader`), which also works
            on a file or folder this process cannot write.

    Raises:
        DatabaseUnavailable: malformed URL, unknown driver, unreachable server, unwritable file,
            or a read-only ledger whose schema is older than this RexNet's.
        SchemaTooNew: the database was migrated by a newer RexNet.
    """
    parsed = parse_url(url)
    if read_only:
        reader = _open_reader(parsed)
        if reader is not None:
            return reader
    engine = create_engine_for(parsed)
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
        check_revision(revision)
        if revision != head_revision():
            with engine.connect().execution_options(rexnet_write=True) as conn, conn.begin():
                upgrade_connection(conn)
    except exc.SQLAlchemyError as error:
        engine.dispose()
        if is_damage(error) and "file is not a database" not in str(error):
            # a ledger that was one and is now corrupt: a failed check, not a bad --db
            raise LedgerDamaged(f"cannot open database {shown_url(parsed)}: {_cause(error)}") from None
        raise DatabaseUnavailable(f"cannot open database {shown_url(parsed)}: {_cause(error)}") from None
    except BaseException:
        engine.dispose()
        raise
    return EventStore(engine)


def _open_reader(parsed: sa.URL) -> EventStore | None:
    """A store on an existing SQLite ledger that writes nothing; ``None``: open it as a writer.

    A writable file is opened with ``query_only`` (SQLite refuses writes; the journal mode is left
    alone), one this process cannot write with :func:`~rexnet.store.database.read_only_url`. Either
    way an out-of-date schema is not migrated here: a writable ledger is then opened as a writer
    (which migrates), a read-only one is refused with what to do.
    """
    locked = read_only_url(parsed)
    if locked is None and (parsed.get_backend_name() != "sqlite" or is_memory(parsed)):
        return None
    if locked is None and not os.path.isfile(str(parsed.database)):
        return None  # a new ledger: created and migrated by the writer path
    engine = create_engine_for(locked or parsed, query_only=True)
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
        check_revision(revision)
    except exc.SQLAlchemyError as error:
        engine.dispose()
        if is_damage(error) and "file is not a database" not in str(error):
            raise LedgerDamaged(f"cannot open database {shown_url(parsed)}: {_cause(error)}") from None
        raise DatabaseUnavailable(f"cannot open database {shown_url(parsed)}: {_cause(error)}") from None
    except BaseException:
        engine.dispose()
        raise
    if revision == head_revision():
        return EventStore(engine)
    engine.dispose()
    if locked is None:
        return None
    raise DatabaseUnavailable(
        f"the ledger is read-only and its schema (revision {revision or 'none'}) is older than this "
        f"RexNet's ({head_revision()}): run `rexnet db upgrade` on it where it can be written"
    )


def upgrade(url: str) -> tuple[str | None, str]:
    """Migrate the database at ``url`` to head (``rexnet db upgrade``).

    Returns:
        ``(from_revision, to_revision)``; equal when it was already at head.

    Raises:
        DatabaseUnavailable: as :func:`open_store`.
        SchemaTooNew: the database was migrated by a newer RexNet.
    """
    parsed = parse_url(url)
    engine = create_engine_for(parsed)
    try:
        with engine.connect().execution_options(rexnet_write=True) as conn, conn.begin():
            return upgrade_connection(conn)
    except exc.SQLAlchemyError as error:
        raise DatabaseUnavailable(f"cannot open database {shown_url(parsed)}: {_cause(error)}") from None
    finally:
        engine.dispose()


def _cause(error: BaseException) -> str:
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        error = error.orig
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def failure_line(reason: str | None) -> str | None:
    """The first line of a failure reason, at most 500 characters, passwords masked."""
    if not reason:
        return None
    from rexnet.store.database import mask_secrets

    line = (reason.strip().splitlines() or [""])[0]
    return mask_secrets(line)[:500] or None
