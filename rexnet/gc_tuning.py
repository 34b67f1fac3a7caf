"""The garbage collector's setting for long folds and runs: :func:`relaxed_gc`.

A run or a replay allocates mostly acyclic, short-lived objects (commands, events) next to a
large population of long-lived ones (agents, resting orders, accounts). At CPython's default
young-generation threshold (700) the collector's frequent passes over that population cost a
visible share of a long run (a few per cent of a large simulated day); a higher threshold keeps the cycle
collector for the rare cycles without the constant rescans. ``gc.freeze()`` after building the
population measured no gain: most collections are young ones.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Young-generation threshold of the garbage collector inside :func:`relaxed_gc`.
GC_YOUNG_THRESHOLD = 50_000


@contextmanager
def relaxed_gc(young: int = GC_YOUNG_THRESHOLD) -> Iterator[None]:
    """Raise the collector's young-generation threshold for the duration (restored after)."""
    old = gc.get_threshold()
    gc.set_threshold(max(young, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
