"""Snapshots for fast as-of reads of one run: persisted ones first, and in-memory copies.

An as-of read folds the history from the nearest snapshot at or before its point. A run recorded
by this RexNet has persisted snapshots every few thousand events (:mod:`rexnet.replay.persisted`,
checked against the chain before use); when one process reads many points of a long run (a
notebook stepping through a day, a report drawing depth profiles), :class:`Snapshots` also keeps the
engine's state every ``every`` events as it folds, so a read folds at most ``every`` events from
the nearest snapshot of either kind. In-memory snapshots hold the persisted snapshots' bytes
(:func:`rexnet.replay.state_codec.freeze`; each read gets a fresh engine decoded from them), are
taken lazily, forward from the nearest one at or before the point asked for, and are never
written anywhere (a snapshot is a cache, the log stays the only truth). Memory per snapshot is the
engine's state: open books and unsettled units, not history.
"""

from __future__ import annotations

from bisect import bisect_right

from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.decode import FOLD_CODED
from rexnet.replay.history import read_history_coded, seq_at
from rexnet.replay.persisted import SnapshotKey, candidates, load_best
from rexnet.replay.projection import read_bounds, run_spec
from rexnet.replay.state_codec import FrozenState, freeze, thaw
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import RunInfo


class Snapshots:
    """As-of market engines of ``run`` from persisted snapshots and in-memory ones every ``every`` events.

    Args:
        store: the event store.
        run: the run (a ``RunInfo``); its full history (forks included) is read.
        every: events between in-memory snapshots.
    """

    def __init__(self, store: LedgerReader, run: RunInfo, *, every: int = 10_000) -> None:
        if every < 1:
            raise ValueError("every must be positive")
        self.store = store
        self.run = run
        self.every = every
        self.spec = run_spec(run)
        #: seq of the last event folded into each in-memory snapshot, ascending; -1 = empty state
        self._seqs: list[int] = [-1]
        empty = _freeze(MarketEngine(self.spec))
        assert empty is not None
        self._states: list[FrozenState] = [empty]
        self._stored: list[SnapshotKey] | None = None  # persisted snapshots of the history
        self._rejected: set[tuple[str, int]] = set()

    def engine_as_of(self, *, at_seq: int | None = None, at_time: float | None = None) -> MarketEngine:
        """A fresh engine with the state after ``at_seq`` / ``at_time`` (or the head): the fold's."""
        bounds = read_bounds(self.run, at_seq=at_seq, at_time=at_time)
        if bounds["to_seq"] is not None:
            to_seq = bounds["to_seq"]
        elif bounds["to_t_ms"] is not None:
            to_seq = seq_at(self.store, self.run, bounds["to_t_ms"])
        else:
            to_seq = self.run.head_seq
        i = self._nearest(to_seq)
        engine = self._thaw(i)
        applies = (engine.apply,)
        for chunk in read_history_coded(self.store, self.run, from_seq=self._seqs[i] + 1, to_seq=to_seq):
            FOLD_CODED(chunk, applies)
        return engine

    def _thaw(self, i: int) -> MarketEngine:
        """A fresh engine with the state of in-memory snapshot ``i``."""
        return thaw(self._states[i], self.spec)[0]

    def _insert(self, seq: int, engine: MarketEngine) -> int | None:
        """Keep the state of ``engine`` after ``seq``; its index, or ``None`` if it cannot be kept."""
        frozen = _freeze(engine)
        if frozen is None:
            return None
        i = bisect_right(self._seqs, seq)
        self._seqs.insert(i, seq)
        self._states.insert(i, frozen)
        return i

    def _nearest(self, to_seq: int) -> int:
        """Index of the in-memory snapshot a read of ``to_seq`` starts from, after loading a closer
        persisted one and taking in-memory ones every ``every`` events up to ``to_seq``."""
        i = bisect_right(self._seqs, to_seq) - 1
        if self._stored is None:
            self._stored = candidates(self.store, self.run, self.run.head_seq)
        best = load_best(
            self.store, self.run, to_seq, after=self._seqs[i], keys=self._stored, rejected=self._rejected
        )
        engine = None
        if best is not None:
            kept = self._insert(best[0], best[1])
            if kept is not None:
                i, engine = kept, best[1]  # (fresh from the load: folded on without a thaw)
        if self._seqs[i] + self.every > to_seq:
            return i
        if engine is None:
            engine = self._thaw(i)
        while self._seqs[i] + self.every <= to_seq:  # one interval after the other, each one read
            first = self._seqs[i] + 1
            for chunk in read_history_coded(
                self.store, self.run, from_seq=first, to_seq=first + self.every - 1
            ):
                FOLD_CODED(chunk, (engine.apply,))
            kept = self._insert(first + self.every - 1, engine)
            if kept is None:
                break  # (a figure beyond 64 bits: reads fold on from the last snapshot kept)
            i = kept
        return i


def _freeze(engine: MarketEngine) -> FrozenState | None:
    # (the accounts are not this cache's concern: an empty projection stands in for them)
    return freeze(engine, Accounts())
