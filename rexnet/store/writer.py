"""The append path: :class:`RunWriter` chains, buffers and writes a run's events in batches.

Appending is the ledger's hot loop (a simulated day is hundreds of thousands of events), so the
writer keeps per-event Python work to the minimum: one orjson call for the payload, one sha256
for the chain, a tuple per row. A batch goes to the database through the raw DB-API cursor inside
the SQLAlchemy connection's transaction: on SQLite as multi-row ``INSERT ... VALUES`` statements
of 128 rows (measured faster than ``executemany``, see ``benchmarks/bench_append.py``), on
PostgreSQL through ``COPY``.

Each flush is one transaction that first moves the run's head forward *conditionally* (``WHERE
head_seq = <the head this writer last saw>``) and then inserts the rows. The conditional update
serialises writers of one run (it takes the row lock, or SQLite's write lock), and a writer that
lost the race updates nothing and raises :class:`~rexnet.errors.ConcurrencyError` before
inserting anything: two writers never interleave and nothing is half-written.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rexnet.domain.codec import CHAIN_ROWS
from rexnet.errors import ConcurrencyError, IntegrityError, StoreError
from rexnet.store.database import translated
from rexnet.store.schema import runs
from rexnet.store.snapshot_table import insert_rows

if TYPE_CHECKING:
    from rexnet.store.event_store import EventStore
    from rexnet.store.recorder import Recorder

_COLUMNS = "run_id, seq, t_ms, type, version, payload, hash"
_INSERT_ONE = f"INSERT INTO event_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
#: Rows per multi-row INSERT on SQLite: one statement step inserts them all, which roughly
#: halves the per-row cost of executemany (7 x 128 = 896 bound variables, far below the limit).
_ROWS_PER_INSERT = 128
#: ``?1`` (the run id) is bound once per statement and reused by every row.
_INSERT_MANY = f"INSERT INTO event_log ({_COLUMNS}) VALUES " + ", ".join(
    ["(?1, ?, ?, ?, ?, ?, ?)"] * _ROWS_PER_INSERT
)
_COPY = f"COPY event_log ({_COLUMNS}) FROM STDIN"


class RunWriter:
    """Appends events to one run: assigns seqs, computes payloads and the hash chain, batches writes.

    Obtain one from :meth:`EventStore.writer`. Used as a context manager it flushes on exit and
    sets the run's status: ``completed`` after a clean exit, ``failed`` after an exception (the
    events appended before the exception are still flushed: they are a valid prefix that
    ``resume`` can continue from).

    The bytes are exactly those of :func:`rexnet.domain.codec.encode_payload` and
    :func:`rexnet.domain.codec.chain_hash`, produced by the build's append loop
    (:data:`rexnet.domain.codec.CHAIN_ROWS`; the contract suite checks the head against an
    independent chain computed with the codec's per-event functions).
    """

    def __init__(self, store: Recorder, run_id: str, *, batch_size: int = 5000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self._store = store
        self.run_id = run_id
        self.batch_size = batch_size
        seq, head_hash = store.head(run_id)
        self._committed_seq = seq
        self._seq = seq
        self._hash = head_hash
        self._rows: list[tuple[Any, ...]] = []
        #: snapshot rows waiting for the flush that commits their seq (same transaction)
        self._snapshots: list[tuple[Any, ...]] = []
        self._broken: StoreError | None = None
        self._closed = False

    # -- state -------------------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """Seq of the last appended event (flushed or not); the run's head seq before any append."""
        return self._seq

    @property
    def head_hash(self) -> bytes:
        """Chain hash at :attr:`seq`."""
        return self._hash

    @property
    def committed_seq(self) -> int:
        """Seq of the last event written to the database by this writer (or the head it started at)."""
        return self._committed_seq

    @property
    def pending(self) -> int:
        """Number of appended events not yet flushed."""
        return len(self._rows)

    # -- appending ---------------------------------------------------------------------------------
    def add_snapshot(
        self, seq: int, t_ms: int, chain_hash: bytes, fmt: int, state: bytes, digest: bytes
    ) -> None:
        """Queue a persisted snapshot after event ``seq`` (appended already, flushed or not); it is
        written by the flush that commits ``seq``, in the same transaction as the events (or by
        the next flush when ``seq`` is committed already). See :mod:`rexnet.replay.persisted`."""
        if seq > self._seq:
            raise StoreError(f"run {self.run_id}: snapshot at seq {seq} beyond the head {self._seq}")
        self._snapshots.append((self.run_id, seq, t_ms, chain_hash, fmt, state, digest))

    def append(self, events: Iterable[Any]) -> None:
        """Chain and buffer ``events`` (domain event records), flushing every ``batch_size`` rows.

        Raises:
            ConcurrencyError: another writer appended to the run first (on an automatic flush).
        """
        if self._closed:
            raise StoreError(f"run {self.run_id}: writer is closed")
        rows = self._rows
        batch = self.batch_size
        it = iter(events)
        limit = self._committed_seq + batch  # flush when this seq has been assigned
        while True:
            mark = len(rows)
            try:
                CHAIN_ROWS(rows, it, self._seq, self._hash, limit)
            finally:
                # The rows appended are chained even if an event failed part-way: keep them.
                if len(rows) > mark:
                    last = rows[-1]
                    self._seq, self._hash = last[0], bytes(last[5])
            if self._seq < limit:  # events exhausted
                return
            self.flush()
            limit = self._seq + batch

    def flush(self) -> None:
        """Write the buffered rows and move the run's head, in one transaction.

        Raises:
            ConcurrencyError: another writer already wrote the next seq; nothing of this batch is
                written and the writer refuses further flushes.
        """
        if self._broken is not None:
            raise self._broken
        rows = self._rows
        if not rows:
            if self._snapshots:
                self._flush_snapshots()
            return
        last = self._seq
        try:
            self._store.commit_rows(self.run_id, self._committed_seq, rows, self._hash, self._snapshots)
        except ConcurrencyError as error:
            self._broken = error  # nothing of the batch was written; no further flush
            raise
        self._committed_seq = last
        rows.clear()
        self._snapshots.clear()

    def _flush_snapshots(self) -> None:
        """Snapshots of committed seqs, with no events to flush: a transaction of their own."""
        self._store.commit_rows(self.run_id, self._committed_seq, [], self._hash, self._snapshots)
        self._snapshots.clear()

    # -- closing -----------------------------------------------------------------------------------
    def close(self, status: str | None = None) -> None:
        """Flush, then set the run's status if ``status`` is given; the writer cannot append after."""
        try:
            self.flush()
        finally:
            self._closed = True
        if status is not None:
            self._store.set_status(self.run_id, status)

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close("completed")
            return
        # Keep the original exception: a failing flush here must not mask it.
        try:
            if self._broken is None:
                self.close("failed")
            else:
                self._closed = True
        except StoreError:
            pass


def _is_duplicate(error: BaseException | None) -> bool:
    """Whether a driver error is a primary-key clash on ``event_log`` (another writer's seq)."""
    if isinstance(error, sa.exc.DBAPIError):
        error = error.orig
    if getattr(error, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE constraint failed: event_log" in str(error)


def commit_rows(
    store: EventStore,
    run_id: str,
    after_seq: int,
    rows: list[tuple[Any, ...]],
    head: bytes,
    snapshots: Sequence[tuple[Any, ...]] = (),
) -> None:
    """Write chained ``(seq, t_ms, type, version, payload, hash)`` rows that continue ``run_id`` at
    ``after_seq`` and move its head to the last of them, with the persisted ``snapshots`` rows
    (:mod:`rexnet.store.snapshot_table`) of seqs up to there, in one transaction. With no rows
    only the snapshots are written (their seqs are committed already).

    Raises:
        ConcurrencyError: the run's head is no longer ``after_seq`` (another writer appended
            first); nothing is written.
    """
    if not rows:
        with translated(store.url, f"run {run_id}: cannot write snapshots"):
            with store.engine.connect() as conn:
                conn = conn.execution_options(rexnet_write=True)
                with conn.begin():
                    _insert_snapshots(conn, snapshots)
        return
    first, last = after_seq + 1, rows[-1][0]
    lost = ConcurrencyError(f"run {run_id}: seq {first} already written by another writer")
    try:
        with translated(store.url, f"run {run_id}: append failed"):
            with store.engine.connect() as conn:
                conn = conn.execution_options(rexnet_write=True)
                with conn.begin():
                    moved = conn.execute(
                        sa.update(runs)
                        .where(runs.c.run_id == run_id, runs.c.head_seq == after_seq)
                        .values(head_seq=last, head_hash=head, events=last + 1)
                    ).rowcount
                    if moved != 1:
                        raise lost
                    _insert(conn, run_id, rows)
                    _insert_snapshots(conn, snapshots)
    except IntegrityError as error:
        if _is_duplicate(error.__cause__):
            raise lost from None
        raise


def _insert_snapshots(conn: sa.Connection, snapshots: Sequence[tuple[Any, ...]]) -> None:
    if snapshots:
        cursor = conn.connection.cursor()
        try:
            insert_rows(cursor, conn.dialect.name, snapshots)
        finally:
            cursor.close()


def _insert(conn: sa.Connection, run_id: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert buffered ``(seq, t_ms, type, version, payload, hash)`` rows of ``run_id``."""
    key = (run_id,)
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(_COPY) as copy:  # type: ignore[attr-defined]
                write = copy.write_row
                for row in rows:
                    write(key + row)
        else:
            full = len(rows) - len(rows) % _ROWS_PER_INSERT
            execute, flat = cursor.execute, itertools.chain.from_iterable
            for start in range(0, full, _ROWS_PER_INSERT):
                params = list(key)
                params.extend(flat(rows[start : start + _ROWS_PER_INSERT]))
                execute(_INSERT_MANY, params)
            if full < len(rows):
                cursor.executemany(_INSERT_ONE, [key + row for row in rows[full:]])
    finally:
        cursor.close()
