"""Snapshots for fast as-of reads of one run: the fold's state kept every N events, in memory.

An as-of read folds the history from seq 0 (:func:`rexnet.replay.projection.engine_as_of`).
When one process reads many points of a long run (a notebook stepping through a day, a report
drawing depth profiles), :class:`Snapshots` keeps a copy of the engine every ``every`` events as
it folds, so a read folds at most ``every`` events from the nearest snapshot at or before it.
Snapshots are built lazily, in one forward pass, and live only in memory (no pickles on disk: a
snapshot is a cache, the log stays the only truth). Memory per snapshot is the engine's state:
open books and unsettled units, not history.
"""

from __future__ import annotations

import copy
from typing import Any

from rexnet.engine import MarketEngine
from rexnet.replay.decode import event_of, fold_coded
from rexnet.replay.history import read_history, read_history_coded
from rexnet.replay.projection import read_bounds, run_spec


class Snapshots:
    """As-of market engines of ``run`` from in-memory snapshots every ``every`` events.

    Args:
        store: the event store.
        run: the run (a ``RunInfo``); its full history (forks included) is read.
        every: events between snapshots.
    """

    def __init__(self, store: Any, run: Any, *, every: int = 10_000) -> None:
        if every < 1:
            raise ValueError("every must be positive")
        self.store = store
        self.run = run
        self.every = every
        self.spec = run_spec(run)
        #: (seq, t_ms) of the last event folded into each snapshot, ascending; seq -1 = empty state
        self._keys: list[tuple[int, int]] = [(-1, -1)]
        self._engines: list[MarketEngine] = [MarketEngine(self.spec)]
        self._complete = False  # every snapshot up to the head is taken

    def engine_as_of(self, *, at_seq: int | None = None, at_time: float | None = None) -> MarketEngine:
        """A fresh engine with the state after ``at_seq`` / ``at_time`` (or the head): the fold's."""
        bounds = read_bounds(self.run, at_seq=at_seq, at_time=at_time)
        to_seq, to_t = bounds["to_seq"], bounds["to_t_ms"]
        if to_seq is None and to_t is None:
            to_seq = self.run.head_seq
        self._extend(to_seq, to_t)
        if to_t is not None:
            i = max(k for k, (_, t) in enumerate(self._keys) if t <= to_t)
        else:
            assert to_seq is not None
            i = max(k for k, (seq, _) in enumerate(self._keys) if seq <= to_seq)
        engine = copy.deepcopy(self._engines[i])
        start = self._keys[i][0] + 1
        if to_t is None:  # up to a seq: the column read
            for chunk in read_history_coded(self.store, self.run, from_seq=start, to_seq=to_seq):
                fold_coded(chunk, (engine.apply,))
        else:
            apply = engine.apply
            for row in read_history(self.store, self.run, from_seq=start, to_seq=to_seq, to_t_ms=to_t):
                apply(event_of(row))
        return engine

    def _extend(self, to_seq: int | None, to_t: int | None) -> None:
        """Take snapshots forward until the next one would lie beyond the bound (or at the head)."""

        def beyond(seq: int, t: int) -> bool:
            return (to_seq is not None and seq + self.every > to_seq) or (to_t is not None and t > to_t)

        if self._complete or beyond(*self._keys[-1]):
            return
        engine = copy.deepcopy(self._engines[-1])
        applies = (engine.apply,)
        while True:  # one snapshot interval after the other, each folded as one read
            first = self._keys[-1][0] + 1
            last = first + self.every - 1
            if last > self.run.head_seq:
                break
            t_ms = self._keys[-1][1]
            for chunk in read_history_coded(self.store, self.run, from_seq=first, to_seq=last):
                fold_coded(chunk, applies)
                t_ms = chunk.t_ms[-1] if chunk.t_ms else t_ms
            self._keys.append((last, t_ms))
            self._engines.append(copy.deepcopy(engine))
            if beyond(last, t_ms):
                return
        self._complete = True
