"""The book replay behind the scrubber: a run's books, accounts and trades tape as of any seq or time.

The state as of a point is the fold of the log up to it (:mod:`rexnet.replay.projection`): the
live engine's own ``apply`` for the books, :class:`~rexnet.replay.accounts.Accounts` for the
accounts. A scrubber asks for many points of one run, so :class:`Timeline` starts each read from
the nearest snapshot of both projections at or before its point: a persisted one
(:mod:`rexnet.replay.persisted`: stored with the run, checked against the chain before use, so the
first open of a long run's page is as fast as the next) or one kept in memory every ``every``
events, and folds the rest (the column read of
:func:`~rexnet.replay.history.read_history_coded`). In-memory snapshots hold the persisted
snapshots' bytes (:func:`rexnet.replay.state_codec.freeze`: compact, and each read decodes fresh
objects from them; a cache, the log stays the only truth) and are taken lazily, forward from the
nearest snapshot; for a run without persisted snapshots a background thread takes them up to the
head.

A time is turned into a seq first (the last event with ``t <= T``) by a binary search over the
primary key, since events are stored in time order: the as-of read then takes the column read,
which a bound by time cannot (it reads rows up to the run's end).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rexnet.errors import InputError, RexnetError
from rexnet.gc_tuning import relaxed_gc
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.decode import EVENT_OF, FOLD_CODED, NotApplicable
from rexnet.replay.history import read_history, read_history_coded, seq_at, t_ms_of
from rexnet.replay.persisted import SnapshotKey, candidates, load_best
from rexnet.replay.projection import not_applicable, run_spec
from rexnet.replay.state_codec import FrozenState, freeze, thaw
from rexnet.serve.fmt import plain

if TYPE_CHECKING:
    from rexnet.store.recorder import LedgerReader
    from rexnet.store.records import RunInfo

#: events between snapshots: a scrub folds at most this many (a few tens of ms)
EVERY = 5_000
#: levels shown per side of a book
LEVELS = 10
#: trades shown before and after the point on the tape, and how far (events) to look for them
TAPE_BEFORE, TAPE_AFTER, TAPE_WINDOW = 12, 6, 1_500


@dataclass
class _State:
    engine: MarketEngine
    accounts: Accounts

    def fold(self, chunk: Any) -> None:
        FOLD_CODED(chunk, (self.engine.apply, self.accounts.apply))


class Timeline:
    """As-of books, accounts and tape of one run (thread-safe: one read at a time).

    Args:
        store: the event store.
        run: the run (a ``RunInfo``); its full history (a fork's prefix included) is read.
        every: events between snapshots.
    """

    def __init__(self, store: LedgerReader, run: RunInfo, *, every: int = EVERY) -> None:
        self.store = store
        self.run = run
        self.every = every
        self.spec = run_spec(run)
        self._lock = threading.Lock()
        #: seq of the last event folded into each snapshot, ascending; -1 = the empty state
        self._seqs: list[int] = [-1]
        #: each snapshot's state as the codec's bytes (a read decodes fresh objects from them)
        empty = freeze(MarketEngine(self.spec), Accounts())
        assert empty is not None
        self._states: list[FrozenState] = [empty]
        #: persisted snapshots of the history (read once), and those found unusable
        self._stored: list[SnapshotKey] | None = None
        self._rejected: set[tuple[str, int]] = set()
        self._warming: threading.Thread | None = None
        self._stop = threading.Event()

    # -- points ------------------------------------------------------------------------------------
    def t_ms_of(self, seq: int) -> int:
        """Sim time (ms) of event ``seq`` of the run's history."""
        return t_ms_of(self.store, self.run, seq)

    def end_ms(self) -> int:
        return self.t_ms_of(self.run.head_seq) if self.run.head_seq >= 0 else 0

    def seq_at(self, t_ms: int) -> int:
        """The last seq with ``t <= t_ms`` (-1 when the first event is later)."""
        return seq_at(self.store, self.run, t_ms)

    def check_seq(self, seq: int) -> int:
        if not -1 <= seq <= self.run.head_seq:
            raise InputError(
                f"run {self.run.run_id} has no seq {seq} (its events are 0..{self.run.head_seq})"
            )
        return seq

    # -- states ------------------------------------------------------------------------------------
    def state_at(self, seq: int) -> tuple[MarketEngine, Accounts]:
        """Fresh copies of the engine and accounts after event ``seq`` (-1: before any event)."""
        self.check_seq(seq)
        with self._lock:
            try:
                with relaxed_gc():
                    i = self._nearest(seq)
                    state = self._thaw(i)
                    if seq > self._seqs[i]:
                        for chunk in read_history_coded(
                            self.store, self.run, from_seq=self._seqs[i] + 1, to_seq=seq
                        ):
                            state.fold(chunk)
            except NotApplicable as failed:
                raise not_applicable(self.run, failed) from None
        return state.engine, state.accounts

    def _stored_keys(self) -> list[SnapshotKey]:
        if self._stored is None:
            self._stored = candidates(self.store, self.run, self.run.head_seq)
        return self._stored

    def _thaw(self, i: int) -> _State:
        """Fresh engine and accounts with the state of snapshot ``i``."""
        return _State(*thaw(self._states[i], self.spec))

    def _insert(self, seq: int, state: _State) -> int | None:
        """Keep ``state`` (after ``seq``); its index, or ``None`` if it cannot be kept."""
        frozen = freeze(state.engine, state.accounts)
        if frozen is None:
            return None
        i = bisect_right(self._seqs, seq)
        self._seqs.insert(i, seq)
        self._states.insert(i, frozen)
        return i

    def _nearest(self, seq: int, *, steps: int | None = None) -> int:
        """Index of the snapshot a read of ``seq`` starts from: the nearest in memory, or a closer
        persisted one (loaded, checked, then kept in memory), then in-memory ones taken every
        ``every`` events up to ``seq`` (at most ``steps`` of them)."""
        i = bisect_right(self._seqs, seq) - 1
        best = load_best(
            self.store,
            self.run,
            seq,
            after=self._seqs[i],
            keys=self._stored_keys(),
            rejected=self._rejected,
        )
        state = None
        if best is not None:
            loaded = _State(best[1], best[2])
            kept = self._insert(best[0], loaded)
            if kept is not None:
                i, state = kept, loaded  # (fresh from the load: folded on without a thaw)
        taken = 0
        if self._seqs[i] + self.every > seq:
            return i
        if state is None:
            state = self._thaw(i)
        while self._seqs[i] + self.every <= seq and (steps is None or taken < steps):
            first = self._seqs[i] + 1
            last = first + self.every - 1
            for chunk in read_history_coded(self.store, self.run, from_seq=first, to_seq=last):
                state.fold(chunk)
            kept = self._insert(last, state)
            if kept is None:
                break  # (a figure beyond 64 bits: reads fold on from the last snapshot kept)
            i = kept
            taken += 1
        return i

    def warm(self) -> None:
        """Take every snapshot up to the head, one interval per turn of the lock, so that reads
        asked for meanwhile are answered between intervals (run in a background thread). A run
        with persisted snapshots needs none: a read loads the nearest one."""
        while not self._stop.is_set():
            with self._lock:
                try:
                    if self._stored_keys():
                        return
                    last = self._seqs[-1]
                    if last + self.every > self.run.head_seq:
                        return
                    with relaxed_gc():
                        self._nearest(self.run.head_seq, steps=1)
                    if self._seqs[-1] == last:
                        return  # no snapshot could be kept: reads fold from the last one
                except (NotApplicable, RexnetError):
                    return  # the reads report it, with the seq, when they reach it

    def start_warming(self) -> None:
        """:meth:`warm` in a daemon thread, once."""
        with self._lock:
            if self._warming is not None or self._stop.is_set():
                return
            self._warming = threading.Thread(
                target=self.warm, name=f"timeline-{self.run.run_id}", daemon=True
            )
        self._warming.start()

    def stop(self) -> None:
        """Stop taking snapshots in the background and wait for the thread to end."""
        self._stop.set()
        if self._warming is not None:
            self._warming.join()

    # -- the view ----------------------------------------------------------------------------------
    def view(self, seq: int) -> dict[str, Any]:
        """Everything the book page shows after event ``seq``, in display units (JSON-ready)."""
        engine, accounts = self.state_at(seq)
        spec = self.spec
        books = []
        for unit in sorted(engine.open_units()):
            depth = engine.depth(unit)
            books.append(
                {
                    "unit": unit,
                    "bids": [_level(spec, lvl) for lvl in depth["bids"][:LEVELS]],
                    "asks": [_level(spec, lvl) for lvl in depth["asks"][:LEVELS]],
                    "bid_levels": len(depth["bids"]),
                    "ask_levels": len(depth["asks"]),
                }
            )
        return {
            "seq": seq,
            "t": 0.0 if seq < 0 else self.t_ms_of(seq) / 1000.0,
            "head_seq": self.run.head_seq,
            "books": books,
            "tape": self.tape(seq),
            "accounts": [{k: plain(v) for k, v in row.items()} for row in accounts.rows(spec)],
        }

    def tape(self, seq: int) -> list[dict[str, Any]]:
        """The trades just before and after ``seq`` (within :data:`TAPE_WINDOW` events each way)."""
        lo = max(0, seq - TAPE_WINDOW)
        hi = min(self.run.head_seq, seq + TAPE_WINDOW)
        if hi < lo:
            return []
        rows = list(read_history(self.store, self.run, from_seq=lo, to_seq=hi, types={"trade"}))
        before = [r for r in rows if r.seq <= seq][-TAPE_BEFORE:]
        after = [r for r in rows if r.seq > seq][:TAPE_AFTER]
        spec = self.spec
        out = []
        for row in before + after:
            e = EVENT_OF(row)
            out.append(
                {
                    "seq": row.seq,
                    "t": row.t_ms / 1000.0,
                    "unit": e.unit,
                    "price": plain(spec.price_display(e.price)),
                    "qty": plain(spec.kw_display(e.qty)),
                    "buyer": e.buyer,
                    "seller": e.seller,
                    "after": row.seq > seq,
                }
            )
        return out


def _level(spec: Any, level: tuple[int, int, int]) -> dict[str, Any]:
    price, qty, orders = level
    return {"price": plain(spec.price_display(price)), "qty": plain(spec.kw_display(qty)), "orders": orders}
