"""Deterministic re-execution of a run from its record: the engine of verify, fork and resume.

A run's record (``runs.scenario``, ``seed``, ``market``) determines its whole history. A
:class:`Rerun` regenerates that history event by event, chaining each event's hash exactly as the
writer does, and hands every batch to a :class:`Sink`, which either *checks* it against the stored
history (the hash at each seq must match; the first mismatch raises :class:`Divergence`) or, past
the stored head, *writes* it through a :class:`~rexnet.store.RunWriter`. Nothing is held in
memory beyond one batch: the stored side is a stream too.

Records:

* a simulated run's record is a :class:`~rexnet.sim.scenario.Scenario` record, optionally with a
  ``fork`` list of change sets ``{"at_ms", "set", "shocks"}`` applied in order when the clock
  reaches ``at_ms`` (see :mod:`rexnet.replay.fork`); ``run_started`` carries the record without
  ``fork`` (it is the root run's event, shared by every fork);
* an ingest run's record is ``{"kind": "ingest", "source", "sha256", "lines", "journal": {...}}``
  (:mod:`rexnet.domain.command_record`): its commands are the run's input journal
  (:mod:`rexnet.ingest.chunks`), replayed through a fresh engine. Runs recorded before the journal
  embed the commands in the record (``"commands": [[op, field, ...], ...]``); they are read as
  they are.

``run_started`` is rebuilt with the root run's ``code_version`` (verify asks "does this code give
the same history", not "is this the same version").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from rexnet.domain.codec import CHAIN_ROWS, GENESIS
from rexnet.domain.command_record import decode_commands
from rexnet.domain.events import RunCompleted, RunStarted
from rexnet.domain.market import MarketSpec
from rexnet.errors import CheckFailed, InputError
from rexnet.ingest.chunks import read_journal
from rexnet.market_engine import MarketEngine
from rexnet.replay.history import lineage
from rexnet.sim.scenario import Scenario
from rexnet.sim.simulation import Simulation
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import RunInfo


class Divergence(CheckFailed):
    """The re-executed history differs from the stored one, first at ``seq``."""

    def __init__(self, seq: int, stored: str | None, regenerated: str | None) -> None:
        super().__init__(
            f"history diverges at seq {seq}: stored {stored or '(no event)'}, "
            f"re-simulated {regenerated or '(no event)'}"
        )
        self.seq = seq
        self.stored = stored
        self.regenerated = regenerated


class _Stop(Exception):
    """Raised by a checking-only sink once the stored head has been passed."""


class Sink:
    """Where regenerated events go: checked against ``stored`` through ``check_through``, then written.

    Args:
        stored: the stored history (``StoredEvent`` rows in seq order), read lazily.
        check_through: last seq to check; later events go to ``writer``.
        writer: a run writer positioned at ``check_through`` (``None``: stop after checking).
    """

    def __init__(self, stored: Iterator[Any], check_through: int, writer: Any = None) -> None:
        self.stored = stored
        self.check_through = check_through
        self.writer = writer
        self.checked = 0
        self.written = 0
        #: called with each written batch (e.g. to fold statistics of the appended events)
        self.on_write: Any = None
        #: called with each batch of checked (already stored) events
        self.on_check: Any = None
        #: called after each whole batch, checked or written: ``(events, last_seq, last_hash)``
        #: (the re-executing engine then holds the state after ``last_seq``)
        self.on_batch: Any = None
        #: the :class:`~rexnet.replay.persisted.SnapshotTaker` fed by ``on_batch``, if any
        self.taker: Any = None

    def feed(self, first_seq: int, events: list[Any], hashes: list[bytes]) -> None:
        self._feed(first_seq, events, hashes)
        if self.on_batch is not None:
            self.on_batch(events, first_seq + len(events) - 1, hashes[-1])

    def _feed(self, first_seq: int, events: list[Any], hashes: list[bytes]) -> None:
        split = max(0, min(len(events), self.check_through - first_seq + 1))
        for i in range(split):
            seq = first_seq + i
            row = next(self.stored, None)
            if row is None or row.seq != seq:
                raise Divergence(seq, None if row is None else row.type, events[i].TYPE)
            if row.hash != hashes[i]:
                raise Divergence(seq, row.type, events[i].TYPE)
            self.checked += 1
        if split and self.on_check is not None:
            self.on_check(events[:split])
        if split < len(events):
            if self.writer is None:
                raise _Stop
            tail = events[split:]
            self.writer.append(tail)
            self.written += len(tail)
            if self.on_write is not None:
                self.on_write(tail)

    def finish(self, next_seq: int) -> None:
        """The regeneration ended before ``next_seq``: any stored event left there diverges."""
        if next_seq <= self.check_through:
            row = next(self.stored, None)
            if row is not None:
                raise Divergence(row.seq, row.type, None)


def split_record(record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(base record, fork change sets)`` of a run's scenario record."""
    base = {k: v for k, v in record.items() if k != "fork"}
    return base, list(record.get("fork") or [])


def is_ingest(record: dict[str, Any]) -> bool:
    return record.get("kind") == "ingest"


def has_inputs(record: dict[str, Any]) -> bool:
    """Whether an ingest record keeps its inputs (a journal, or the older embedded list)."""
    return isinstance(record.get("journal"), dict) or "commands" in record


class JournalReader(Protocol):
    """Where an ingest's input journal is read: the ledger, or a journal held in memory."""

    def journal_rows(self, run_id: str) -> Iterable[Any]: ...


def ingest_commands(store: JournalReader | None, run_id: str | None, record: dict[str, Any]) -> Iterator[Any]:
    """The input commands of an ingest run, in order: the one place where verify, resume and audit
    read an ingest's stored inputs.

    They are the run's input journal, read as a stream from ``store`` (anything with a
    ``journal_rows(run_id)`` method: the event store, or a :class:`~rexnet.ingest.chunks.MemoryJournal`),
    checked whole against the summary in the record before the first command is returned. A run
    recorded before the journal existed has its commands in the record itself (``commands``):
    they are decoded from there, so old ledgers still verify, resume and audit.

    Raises:
        InputError: the run was recorded without its command stream (it cannot be re-executed).
        JournalBroken: the journal does not match its chain or the record's summary.
    """
    summary = record.get("journal")
    if isinstance(summary, dict):
        if store is None or run_id is None:
            raise InputError("an ingest run's input journal is read from its ledger: no ledger given")
        ledger, rid = store, run_id
        return read_journal(lambda: ledger.journal_rows(rid), summary, run=rid)
    if "commands" not in record:
        raise InputError(
            "this ingest run was recorded without its command stream "
            "(before verify support): it cannot be re-executed"
        )
    return decode_commands(record["commands"])


class Rerun:
    """Regenerates a run's history from its record; :meth:`run` may pause at a time and continue.

    Args:
        record: the run's scenario record (``runs.scenario``).
        seed: the run seed.
        code_version: the root run's code version (for ``run_started``).
        market: the run's market record (``runs.market``).
    """

    def __init__(self, record: dict[str, Any], seed: int, code_version: str, market: dict[str, Any]) -> None:
        self.base, changes = split_record(record)
        # in time order (stable): a fork of a fork may fork before its parent's own change
        self.changes = sorted(changes, key=lambda c: c["at_ms"])
        self.seed = seed
        self.code_version = code_version
        self.seq = -1
        self.hash = GENESIS
        self.sink: Sink | None = None
        self.completed = False
        self._started = False
        #: where :func:`ingest_commands` reads an ingest's inputs (set by :meth:`for_run`)
        self.store: JournalReader | None = None
        self.run_id: str | None = None
        if is_ingest(self.base):
            if not has_inputs(self.base):
                ingest_commands(None, None, self.base)  # raises: say so before anything runs
            self.spec = MarketSpec.from_record(market)
            self.engine = MarketEngine(self.spec)
            self.sim: Simulation | None = None
        else:
            scenario = Scenario.from_record(self.base)
            self.spec = scenario.to_spec()
            self.engine = MarketEngine(self.spec)
            self.sim = Simulation(scenario, seed, self.engine, emit_shocks=True)
        self.market = self.spec.to_record()

    @classmethod
    def for_run(cls, store: LedgerReader, run: RunInfo, *, record: dict[str, Any] | None = None) -> Rerun:
        """The rerun of ``run`` (or of ``record`` in ``run``'s lineage, for a fork to be)."""
        root = lineage(store, run)[0][0]
        rerun = cls(run.scenario if record is None else record, run.seed, root.code_version, run.market)
        rerun.store, rerun.run_id = store, run.run_id
        return rerun

    # -- emitting ------------------------------------------------------------------------------
    def emit(self, events: list[Any]) -> None:
        if not events:
            return
        first = self.seq + 1
        rows: list[tuple[Any, ...]] = []
        CHAIN_ROWS(rows, iter(events), self.seq, self.hash, first + len(events))
        hashes = [bytes(row[5]) for row in rows]
        self.seq, self.hash = rows[-1][0], hashes[-1]
        assert self.sink is not None
        self.sink.feed(first, events, hashes)

    # -- driving -------------------------------------------------------------------------------
    def run(self, sink: Sink, *, until_ms: int | None = None) -> bool:
        """Regenerate into ``sink`` (everything with time <= ``until_ms`` when given).

        Returns ``True`` once ``run_completed`` has been emitted, ``False`` when paused. Raises
        :class:`Divergence` at the first mismatch with the stored history.
        """
        self.sink = sink
        try:
            return self._run(until_ms)
        except _Stop:
            return False

    def _run(self, until_ms: int | None) -> bool:
        if not self._started:
            self._started = True
            self.emit([RunStarted(0, self.base, self.seed, self.code_version, self.market)])
            if self.sim is None:
                self.emit(self.engine.advance(0))
        if self.sim is None:
            return self._run_commands()
        while self.changes and (until_ms is None or self.changes[0]["at_ms"] < until_ms):
            change = self.changes[0]
            if self.sim.run(self.emit, until_ms=change["at_ms"]):
                break
            from rexnet.replay.fork import apply_change  # (fork builds on this module)

            apply_change(self.sim, self.changes.pop(0))
        if not self.sim.run(self.emit, until_ms=until_ms):
            return False
        self.emit(self.engine.finish())
        self._complete()
        return True

    def _run_commands(self) -> bool:
        for command in ingest_commands(self.store, self.run_id, self.base):
            self.emit(self.engine.submit(command))
        self.emit(self.engine.finish())
        self._complete()
        return True

    def _complete(self) -> None:
        self.emit([RunCompleted(self.engine.now_ms, self.hash.hex(), self.seq + 1)])
        self.completed = True
        assert self.sink is not None
        self.sink.finish(self.seq + 1)
