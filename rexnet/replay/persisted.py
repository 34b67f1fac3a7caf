"""Persisted snapshots: the fold's state stored every so many events, found, checked and loaded.

An as-of read of a long run (``rexnet book --time T``, ``accounts``, the book replay of ``rexnet
serve``) would fold the log from seq 0. Runs are recorded with the fold's state (market engine +
accounts, :mod:`rexnet.replay.state_codec`) stored in the ``snapshots`` table every :data:`EVERY`
events or so, and reads start from the nearest snapshot at or before their point.

* **Taking** (:class:`SnapshotTaker`): the writers of runs (``run``, ``ingest``, ``fork``,
  ``resume``) hold the live engine, whose state after a batch of events is the fold's state at the
  batch's last seq (the live engine changes only by applying the events it emits); the taker keeps
  the accounts projection beside it and, at the first batch end at least :data:`EVERY` events after
  the previous snapshot, queues a row into the run writer, which writes it in the transaction that
  commits that seq. ``rexnet snapshot RUN`` adds them to runs recorded before (:func:`backfill`).
* **Checking on use** (:func:`load_best`): a snapshot is used only when its digest matches its row
  and the log still holds the snapshot's chain hash at its seq, and when its state decodes and
  validates; otherwise it is ignored with a warning (logger ``rexnet.snapshots``) and the read
  starts from an earlier one or from seq 0. A fork shares its ancestors' history up to its fork seq,
  and so their snapshots there (:func:`~rexnet.replay.history.lineage`).
* **Audit** (:class:`SnapshotAudit`): ``rexnet audit`` re-derives every stored snapshot of the run
  from the history and names the first that differs. The digest is no protection against someone
  who can write the database (they can recompute it); the audit is.

Why not pickles: the state is read back from a database that a hostile writer may have edited,
and unpickling runs code. The bytes are compressed JSON of plain values, loaded by a validating
decoder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import zlib
from collections.abc import Collection, Iterator
from typing import Any

import orjson

from rexnet.errors import InputError
from rexnet.gc_tuning import relaxed_gc
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.decode import FOLD_CODED
from rexnet.replay.history import lineage, read_history_coded
from rexnet.replay.projection import run_spec
from rexnet.replay.state_codec import FORMAT, SnapshotInvalid, decode_state, encode_state
from rexnet.store.recorder import LedgerReader, Recorder
from rexnet.store.records import RunInfo
from rexnet.store.snapshot_table import SnapshotKey

#: Events between persisted snapshots (at least; a snapshot is taken at the end of a batch). A read
#: folds at most about this many events from the snapshot it starts at.
EVERY = 5_000
#: A snapshot is also spaced so that its bytes stay small next to the events since the previous one
#: (at most one byte of state per this many bytes... per event: see ``SnapshotTaker``)
STATE_BYTES_PER_EVENT = 16
#: The most bytes a stored state may inflate to (a compressed bomb is refused, not expanded)
MAX_STATE_BYTES = 256 * 1024 * 1024

log = logging.getLogger("rexnet.snapshots")


def snapshot_every() -> int:
    """Events between snapshots: ``REXNET_SNAPSHOT_EVERY`` when set (tests take many on small
    runs), else :data:`EVERY`."""
    raw = os.environ.get("REXNET_SNAPSHOT_EVERY")
    if raw is None:
        return EVERY
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"REXNET_SNAPSHOT_EVERY={raw!r}: expected a positive integer")
    return value


_SEQ_T = struct.Struct(">qq")


def digest_of(seq: int, t_ms: int, chain_hash: bytes, fmt: int, state: bytes) -> bytes:
    """sha256 over a snapshot row's fields and its (compressed) state."""
    h = hashlib.sha256(b"rexnet-snapshot\x00")
    h.update(_SEQ_T.pack(seq, t_ms))
    h.update(chain_hash)
    h.update(fmt.to_bytes(4, "big"))
    h.update(state)
    return h.digest()


def pack(engine: MarketEngine, accounts: Accounts) -> bytes | None:
    """The stored bytes of a state (compressed), or ``None`` when it cannot be stored (a figure
    beyond 64 bits: the snapshot is skipped, the run goes on)."""
    try:
        return zlib.compress(encode_state(engine, accounts), 1)
    except (orjson.JSONEncodeError, OverflowError, TypeError):
        return None


def unpack(state: bytes, spec: Any, t_ms: int) -> tuple[MarketEngine, Accounts]:
    """Engine and accounts from stored bytes. Raises :class:`SnapshotInvalid`."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(state, MAX_STATE_BYTES)
    except zlib.error as error:
        raise SnapshotInvalid(f"not compressed state: {error}") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise SnapshotInvalid("compressed state too large or cut short")
    return decode_state(data, spec, now_ms=t_ms)


# == taking =======================================================================================
class SnapshotTaker:
    """Takes persisted snapshots of a run being written (see the module docstring).

    Args:
        writer: the run's :class:`~rexnet.store.RunWriter`.
        engine: the live engine (its state after each batch is the fold's).
        every: events between snapshots (at least; default :func:`snapshot_every`).
        accounts: the accounts projection of the history before the first batch fed (a fresh one
            for a run that starts at seq 0).
    """

    def __init__(
        self, writer: Any, engine: MarketEngine, *, every: int | None = None, accounts: Accounts | None = None
    ) -> None:
        self.writer = writer
        self.engine = engine
        self.every = every = snapshot_every() if every is None else every
        self.accounts = Accounts() if accounts is None else accounts
        self._apply = self.accounts.apply
        self._next = every - 1  # the first snapshot at or after this seq
        self.taken = 0

    def start_after(self, seq: int) -> None:
        """No snapshot at or before ``seq`` (a fork's shared prefix: its parent's)."""
        self._next = max(self._next, seq + self.every)

    def accounts_only(self, events: list[Any]) -> None:
        """Fold a batch into the accounts, taking no snapshot (no writer yet)."""
        apply = self._apply
        for event in events:
            apply(event)

    def feed(self, events: list[Any], last_seq: int, chain_hash: bytes) -> None:
        """The batch ``events`` (applied to the engine already) ends at ``last_seq`` with
        ``chain_hash``; the writer has appended it (or holds it, for a checked prefix)."""
        apply = self._apply
        for event in events:
            apply(event)
        if last_seq < self._next or not events:
            return
        state = pack(self.engine, self.accounts)
        if state is None:
            self._next = last_seq + self.every
            return
        t_ms = int(events[-1][0])
        self.writer.add_snapshot(
            last_seq, t_ms, chain_hash, FORMAT, state, digest_of(last_seq, t_ms, chain_hash, FORMAT, state)
        )
        self.taken += 1
        # a big state is taken less often, so that snapshots stay small next to the log
        self._next = last_seq + max(self.every, len(state) // STATE_BYTES_PER_EVENT)


# == finding and loading ==========================================================================
def candidates(store: LedgerReader, run: RunInfo, to_seq: int) -> list[SnapshotKey]:
    """Snapshots usable for ``run``'s history at or before ``to_seq``: its own and its ancestors'
    within the prefix it shares with them (same market rules), latest first."""
    found: list[SnapshotKey] = []
    for segment, first, last in lineage(store, run):
        hi = to_seq if last is None else min(last, to_seq)
        if hi < first or segment.market != run.market:
            continue
        found.extend(store.snapshot_keys(segment.run_id, first, hi))
    found.sort(key=lambda k: k.seq, reverse=True)
    return found


def problem_of(store: LedgerReader, run: RunInfo, key: SnapshotKey, state: bytes | None) -> str | None:
    """Why a stored snapshot cannot be used (digest, chain, format), or ``None``."""
    if state is None:
        return "its row is gone"
    if key.format != FORMAT:
        return f"format {key.format}, this RexNet reads {FORMAT}"
    if digest_of(key.seq, key.t_ms, key.hash, key.format, state) != key.digest:
        return "its digest does not match its row"
    try:
        stored = store.hash_at(run, key.seq)
    except Exception:  # noqa: BLE001 - no event there: the snapshot is not of this log
        stored = None
    if stored != key.hash:
        return "the log has another event at its seq (chain hash differs)"
    return None


def load_best(
    store: LedgerReader,
    run: RunInfo,
    to_seq: int,
    *,
    after: int = -1,
    keys: list[SnapshotKey] | None = None,
    rejected: set[tuple[str, int]] | None = None,
) -> tuple[int, MarketEngine, Accounts] | None:
    """The latest usable snapshot of ``run``'s history in ``(after, to_seq]``: ``(seq, engine,
    accounts)`` with the state after event ``seq``, or ``None``. Unusable ones are skipped with a
    warning (and added to ``rejected`` as ``(run_id, seq)``, which are skipped without one).
    ``keys``: :func:`candidates` already read (any order)."""
    spec = None
    pool = candidates(store, run, to_seq) if keys is None else sorted(keys, key=lambda k: -k.seq)
    for key in pool:
        if key.seq > to_seq or (rejected is not None and (key.run_id, key.seq) in rejected):
            continue
        if key.seq <= after:
            break
        state = store.snapshot_state(key.run_id, key.seq)
        problem = problem_of(store, run, key, state)
        if problem is None:
            spec = spec or run_spec(run)
            try:
                assert state is not None
                engine, accounts = unpack(state, spec, key.t_ms)
            except SnapshotInvalid as error:
                problem = f"its state is invalid: {error}"
            else:
                return key.seq, engine, accounts
        if rejected is not None:
            rejected.add((key.run_id, key.seq))
        log.warning(
            "warning: run %s: stored snapshot at seq %d (of run %s) ignored: %s; reading from an "
            "earlier point",
            run.run_id,
            key.seq,
            key.run_id,
            problem,
        )
    return None


def state_as_of(store: LedgerReader, run: RunInfo, to_seq: int) -> tuple[MarketEngine, Accounts]:
    """Engine and accounts after event ``to_seq`` of ``run``'s history (-1: before any), from the
    nearest usable snapshot at or before it, then the fold of the events after it.

    Raises:
        NotApplicable: an event could not be decoded or applied.
    """
    best = load_best(store, run, to_seq) if to_seq >= 0 else None
    if best is None:
        start, engine, accounts = -1, MarketEngine(run_spec(run)), Accounts()
    else:
        start, engine, accounts = best
    if to_seq > start:
        with relaxed_gc():
            for chunk in read_history_coded(store, run, from_seq=start + 1, to_seq=to_seq):
                FOLD_CODED(chunk, (engine.apply, accounts.apply))
    return engine, accounts


# == auditing =====================================================================================
class SnapshotAudit:
    """Re-derives a run's own stored snapshots while its history is re-executed or folded.

    Feed it the state after each batch (:meth:`feed`); snapshots at seqs that no batch ends at are
    re-derived by a fold afterwards (:meth:`finish`). :attr:`problems` lists ``(seq, line)``.
    """

    def __init__(self, store: LedgerReader, run: RunInfo) -> None:
        self.store = store
        self.run = run
        first = 0 if run.fork_seq is None else run.fork_seq + 1
        self.keys = store.snapshot_keys(run.run_id, 0, None)
        self.pending = {k.seq: k for k in self.keys}
        self.problems: list[tuple[int, str]] = []
        self.checked = 0
        for key in self.keys:
            if key.seq < first or key.seq > run.head_seq:
                self._flag(key.seq, "lies outside the run's own events")
        self.accounts = Accounts()
        self._apply = self.accounts.apply

    def _flag(self, seq: int, why: str) -> None:
        self.pending.pop(seq, None)
        self.problems.append((seq, f"stored snapshot at seq {seq} {why}"))

    def feed(self, events: list[Any], last_seq: int, engine: MarketEngine) -> None:
        apply = self._apply
        for event in events:
            apply(event)
        key = self.pending.get(last_seq)
        if key is not None:
            self.compare(key, engine, self.accounts)

    def compare(self, key: SnapshotKey, engine: MarketEngine, accounts: Accounts) -> None:
        self.pending.pop(key.seq, None)
        self.checked += 1
        state = self.store.snapshot_state(key.run_id, key.seq)
        problem = problem_of(self.store, self.run, key, state)
        if problem is not None:
            self._flag(key.seq, f"is unusable: {problem}")
            return
        assert state is not None
        try:
            mine = unpack(state, engine.spec, key.t_ms)
        except SnapshotInvalid as error:
            self._flag(key.seq, f"is unusable: its state is invalid: {error}")
            return
        if encode_state(*mine) != encode_state(engine, accounts):
            self._flag(key.seq, "differs from the state the history gives there (forged or corrupt)")

    def finish(self) -> None:
        """Re-derive by a fold the snapshots no batch ended at."""
        if not self.pending:
            return
        spec = run_spec(self.run)
        engine, accounts = MarketEngine(spec), Accounts()
        todo = sorted(self.pending)
        done = -1
        with relaxed_gc():
            for seq in todo:
                for chunk in read_history_coded(self.store, self.run, from_seq=done + 1, to_seq=seq):
                    FOLD_CODED(chunk, (engine.apply, accounts.apply))
                done = seq
                self.compare(self.pending[seq], engine, accounts)

    def lines(self) -> list[str]:
        return [line for _, line in sorted(self.problems)]


# == backfill =====================================================================================
def backfill(store: Recorder, run: RunInfo, *, every: int | None = None) -> dict[str, int]:
    """Store the snapshots of a run recorded without them (``rexnet snapshot``): fold the run's own
    history once, taking a snapshot every ``every`` events; a stored one that is unusable or differs
    is replaced. Returns counts (``written``, ``replaced``, ``kept``).

    Raises:
        NotApplicable: an event could not be decoded or applied.
    """
    every = snapshot_every() if every is None else every
    first = 0 if run.fork_seq is None else run.fork_seq + 1
    stored = {k.seq: k for k in store.snapshot_keys(run.run_id, first, run.head_seq)}
    spec = run_spec(run)
    engine, accounts = MarketEngine(spec), Accounts()
    counts = {"written": 0, "replaced": 0, "kept": 0}
    rows: list[tuple[Any, ...]] = []
    hashes = _hashes_at(store, run, every, first, stored)
    done = -1
    with relaxed_gc():
        for seq, chain_hash, t_ms in hashes:
            for chunk in read_history_coded(store, run, from_seq=done + 1, to_seq=seq):
                FOLD_CODED(chunk, (engine.apply, accounts.apply))
            done = seq
            engine.now_ms = t_ms
            state = pack(engine, accounts)
            if state is None:
                continue
            key = stored.get(seq)
            if key is not None:
                old = store.snapshot_state(run.run_id, seq)
                if problem_of(store, run, key, old) is None and old is not None:
                    try:
                        same = encode_state(*unpack(old, spec, t_ms)) == encode_state(engine, accounts)
                    except SnapshotInvalid:
                        same = False
                    if same:
                        counts["kept"] += 1
                        continue
                counts["replaced"] += 1
            else:
                counts["written"] += 1
            rows.append(
                (
                    run.run_id,
                    seq,
                    t_ms,
                    chain_hash,
                    FORMAT,
                    state,
                    digest_of(seq, t_ms, chain_hash, FORMAT, state),
                )
            )
            if len(rows) >= 8:
                store.put_snapshots(rows, replace=True)
                rows.clear()
    store.put_snapshots(rows, replace=True)
    return counts


def _hashes_at(
    store: LedgerReader, run: RunInfo, every: int, first: int, stored: Collection[int]
) -> Iterator[tuple[int, bytes, int]]:
    """``(seq, chain hash, t_ms)`` of the seqs to snapshot: every stored one (checked again) and
    one every ``every`` seqs of the run's own events (from ``first``) where none is stored."""
    targets = sorted(s for s in stored if first <= s <= run.head_seq)
    points = iter(targets)
    have = next(points, None)
    for p in range(first + every - 1, run.head_seq + 1, every):
        while have is not None and have < p - every + 1:
            have = next(points, None)
        if have is None or have > p:
            targets.append(p)
    for seq in sorted(targets):
        row = next(iter(store.read(run.run_id, from_seq=seq, to_seq=seq)), None)
        if row is not None:
            yield seq, bytes(row.hash), int(row.t_ms)
