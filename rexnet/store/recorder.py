"""The recorder protocol: what the rest of RexNet needs of a ledger, whatever holds it.

Two ``Protocol`` s, in the manner of eventsourcing's ``AggregateRecorder``: :class:`LedgerReader`
(runs and their events, cut to what users and folds need: stored rows for users, lean row lists
and column chunks for folds, and the chain check) and :class:`LedgerWriter` (new runs, status,
and the one append primitive :meth:`LedgerWriter.commit_rows` that :class:`~rexnet.store.RunWriter`
builds on). :class:`Recorder` is both. Implementations: :class:`~rexnet.store.EventStore` (SQLite
and PostgreSQL) and :class:`~rexnet.store.memory.MemoryStore` (in memory); the contract suite
(``tests/contract/``) runs every one of them.

Extending: a new kind of record (a journal, snapshots) adds its own small protocol here and its
methods to each implementation, with its tests in the contract suite's base class.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rexnet.store.records import CodedChunk, RunInfo, StoredEvent
from rexnet.store.snapshot_table import SnapshotKey

if TYPE_CHECKING:
    from rexnet.store.writer import RunWriter


@runtime_checkable
class LedgerReader(Protocol):
    """Reading runs and their events."""

    @property
    def url(self) -> str: ...

    def get_run(self, ref: str) -> RunInfo:
        """The run whose id or unique name is ``ref`` (``RunNotFound`` otherwise)."""
        ...

    def reopened(self) -> LedgerReader:
        """The same ledger through new connections (for another thread or process)."""
        ...

    def list_runs(self) -> list[RunInfo]:
        """Every run, in creation order."""
        ...

    def head(self, run_id: str) -> tuple[int, bytes]:
        """``(head_seq, head_hash)`` of a run as committed."""
        ...

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
        """A run's own stored events in seq order (for users: every column of each row)."""
        ...

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
        """Lean ``(seq, t_ms, type, version, payload bytes[, hash])`` rows in lists (for folds)."""
        ...

    def read_coded(
        self,
        run_id: str,
        *,
        from_seq: int,
        to_seq: int,
        codes: Sequence[tuple[str, int]],
        chunk: int | None = None,
    ) -> Iterator[CodedChunk]:
        """Events ``from_seq..to_seq`` as column chunks (for the replay's hottest fold)."""
        ...

    def verify_chain(self, run_id: str) -> int | None:
        """The first seq whose stored hash does not hold, or ``None`` when the chain is intact."""
        ...

    def orphan_events(self) -> list[tuple[str, int, int, int]]:
        """``(run_id, count, min seq, max seq)`` of stored events whose run is not recorded."""
        ...

    def hash_at(self, run: RunInfo, seq: int) -> bytes:
        """The chain hash at ``seq`` of ``run``'s full history (a fork's prefix from its parent)."""
        ...

    def journal_rows(self, run_id: str) -> Iterator[tuple[int, int, int, str, bytes]]:
        """An ingest run's input-journal chunks ``(chunk, first_line, commands, body, hash)``."""
        ...

    def snapshot_keys(self, run_id: str, lo: int, hi: int | None) -> list[SnapshotKey]:
        """Persisted snapshot rows (without state) of ``run_id`` with ``lo <= seq <= hi``."""
        ...

    def snapshot_state(self, run_id: str, seq: int) -> bytes | None:
        """The state bytes of one persisted snapshot (``None`` when it is gone)."""
        ...


@runtime_checkable
class LedgerWriter(Protocol):
    """Recording runs: the only ways a ledger changes (it is append-only)."""

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
        """Record a new, empty run (a fork starts at its parent's hash at ``fork_seq``)."""
        ...

    def set_status(self, run_id: str, status: str, *, reason: str | None = None) -> None:
        """Set a run's status (``running``, ``completed`` or ``failed``, with why)."""
        ...

    def writer(self, run_id: str, *, batch_size: int = 5000) -> RunWriter:
        """A :class:`~rexnet.store.RunWriter` appending to ``run_id`` from its head."""
        ...

    def commit_rows(
        self,
        run_id: str,
        after_seq: int,
        rows: list[tuple[Any, ...]],
        head: bytes,
        snapshots: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        """Store chained ``(seq, t_ms, type, version, payload, hash)`` rows continuing the run at
        ``after_seq`` and move its head, with the persisted ``snapshots`` rows of seqs up to there,
        all or nothing (``ConcurrencyError`` when the head moved); no rows: only the snapshots."""
        ...

    def append_journal(self, run_id: str, chunks: Iterable[Any]) -> int:
        """Append input-journal chunks (:class:`rexnet.ingest.chunks.Chunk`) to an ingest run."""
        ...

    def put_snapshots(self, rows: Sequence[tuple[Any, ...]], *, replace: bool = False) -> None:
        """Store persisted snapshot rows (``replace``: overwrite those of the same seq)."""
        ...


@runtime_checkable
class Recorder(LedgerReader, LedgerWriter, Protocol):
    """A ledger that can be read and written."""

    def reopened(self) -> Recorder:
        """The same ledger through new connections (for another thread or process)."""
        ...

    def close(self) -> None: ...
