"""The discrete-event kernel: next-event time advance over one priority queue.

Follows SimPy's event queue: entries are keyed ``(time_ms, priority, sequence)`` where the
sequence is a global insertion counter, so two happenings at the same time and priority run in
the order they were scheduled. That key is a total order, which is what makes a run
deterministic: nothing ever depends on dict/set iteration order or on the heap's tie-breaking.

The market keeps its own clock (unit openings, gate closures, settlements). Rather than copying
those happenings into this queue, the kernel holds *one* wake-up for the market at
``market.next_due_ms()`` and re-arms it after every step (:meth:`Kernel.attach_clock`), so the
two clocks merge into one totally ordered sequence.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from rexnet.gc_tuning import relaxed_gc

#: Priorities at equal times: the market's own clock first (gate closures must happen before
#: any agent acts at that instant), then realizations, then agents.
PRIORITY_MARKET = 0
PRIORITY_REALIZE = 1
PRIORITY_AGENT = 2

Action = Callable[[int], None]


class Kernel:
    """A next-event simulation clock.

    Attributes:
        now: the current simulated time in ms (time of the last event run).
    """

    def __init__(self, start_ms: int = 0) -> None:
        self.now = start_ms
        self._queue: list[tuple[int, int, int, Action]] = []
        self._counter = itertools.count()
        # Lazy deletion: cancelling marks the entry's sequence number; it is skipped when popped.
        self._cancelled: set[int] = set()
        self._clock: tuple[Callable[[], int | None], Action] | None = None
        self._clock_entry: tuple[int, int] | None = None  # (time, sequence) of the armed wake-up

    def schedule(self, t_ms: int, action: Action, *, priority: int = PRIORITY_AGENT) -> int:
        """Run ``action(t_ms)`` at ``t_ms``; returns a handle for :meth:`cancel`.

        Raises:
            ValueError: ``t_ms`` is in the past (a programming error: time never goes back).
        """
        if t_ms < self.now:
            raise ValueError(f"cannot schedule at {t_ms} ms: the clock is at {self.now} ms")
        seq = next(self._counter)
        heapq.heappush(self._queue, (t_ms, priority, seq, action))
        return seq

    def cancel(self, handle: int) -> None:
        """Forget a scheduled action (no effect if it already ran)."""
        self._cancelled.add(handle)

    def attach_clock(self, next_due: Callable[[], int | None], on_due: Action) -> None:
        """Merge an external clock: ``on_due(t)`` runs at each ``next_due()`` time.

        The wake-up is re-armed after every step, since any command may change the external
        clock's next happening (e.g. the first order of a unit makes its settlement due).
        """
        self._clock = (next_due, on_due)
        self._rearm()

    def _rearm(self) -> None:
        if self._clock is None:
            return
        due = self._clock[0]()
        if due is not None:
            due = max(due, self.now)
        armed = self._clock_entry
        if armed is not None and armed[0] == due and armed[1] not in self._cancelled:
            return
        if armed is not None:
            self._cancelled.add(armed[1])
            self._clock_entry = None
        if due is not None:
            seq = self.schedule(due, self._clock[1], priority=PRIORITY_MARKET)
            self._clock_entry = (due, seq)

    def peek(self) -> int | None:
        """Time of the next live entry, or ``None`` if the queue is empty."""
        while self._queue and self._queue[0][2] in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._queue)[2])
        return self._queue[0][0] if self._queue else None

    def step(self) -> bool:
        """Run the next live entry; ``False`` if there was none."""
        if self.peek() is None:
            return False
        t_ms, _, seq, action = heapq.heappop(self._queue)
        if self._clock_entry is not None and self._clock_entry[1] == seq:
            self._clock_entry = None
        self.now = t_ms
        action(t_ms)
        self._rearm()
        return True

    def run(self, until_ms: int | None = None, *, stop: Callable[[], bool] | None = None) -> None:
        """Run every entry with time <= ``until_ms`` (all, if ``None``) or until ``stop()`` holds.

        ``stop`` is checked after each step. The clock ends at ``until_ms`` when given, so the
        next run continues from there. The garbage collector runs less often meanwhile
        (:func:`relaxed_gc`).
        """
        with relaxed_gc():
            while True:
                if stop is not None and stop():
                    return
                nxt = self.peek()
                if nxt is None or (until_ms is not None and nxt > until_ms):
                    break
                self.step()
        if until_ms is not None and until_ms > self.now:
            self.now = until_ms
