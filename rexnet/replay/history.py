"""A run's full history: its ancestors' shared prefixes stitched to its own events.

The store keeps a fork's own events only (``seq > fork_seq``); the events it shares with its
parent (``seq <= fork_seq``) are read from the parent, recursively, so the shared prefix is stored
once (DESIGN.md section 3). :func:`read_history` streams the stitched history in seq order with
the same bounds as :meth:`EventStore.read`; every projection, the audit, ``events`` and
``replay`` read through it, so a fork looks exactly like a run that was never interrupted.

:func:`check_chain` recomputes the hash chain of that full history from ``GENESIS``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from rexnet.domain.codec import first_bad_seq
from rexnet.replay.codes import CODES
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import CodedChunk, RunInfo, StoredEvent


def lineage(store: LedgerReader, run: RunInfo) -> list[tuple[RunInfo, int, int | None]]:
    """``(run, first_seq, last_seq)`` segments of the history, root first.

    ``last_seq`` is ``None`` for the run itself (up to its head).
    """
    segments: list[tuple[RunInfo, int, int | None]] = []
    current, last = run, None
    while True:
        if current.parent_run_id is None or current.fork_seq is None:
            segments.append((current, 0, last))
            break
        segments.append((current, current.fork_seq + 1, last))
        bound = current.fork_seq if last is None else min(last, current.fork_seq)
        current, last = store.get_run(current.parent_run_id), bound
    segments.reverse()
    return segments


def read_history(
    store: LedgerReader,
    run: RunInfo,
    *,
    from_seq: int = 0,
    to_seq: int | None = None,
    types: Collection[str] | None = None,
    to_t_ms: int | None = None,
) -> Iterator[StoredEvent]:
    """Stream the full history of ``run`` (stored events, seq order), ancestors' prefixes first.

    Args:
        store: the event store.
        run: a :class:`~rexnet.store.RunInfo`.
        from_seq, to_seq, types, to_t_ms: as :meth:`EventStore.read` (inclusive bounds).

    Folds that need no hashes read :func:`read_history_chunks` instead.
    """
    for run_id, lo, hi in _segments(store, run, from_seq, to_seq):
        yield from store.read(run_id, from_seq=lo, to_seq=hi, types=types, to_t_ms=to_t_ms)


def read_history_chunks(
    store: LedgerReader,
    run: RunInfo,
    *,
    from_seq: int = 0,
    to_seq: int | None = None,
    types: Collection[str] | None = None,
    to_t_ms: int | None = None,
    hashes: bool = False,
) -> Iterator[list[tuple[Any, ...]]]:
    """The lean rows of :func:`read_history` as lists (:meth:`EventStore.read_chunks`), for hot folds."""
    for run_id, lo, hi in _segments(store, run, from_seq, to_seq):
        yield from store.read_chunks(
            run_id, from_seq=lo, to_seq=hi, types=types, to_t_ms=to_t_ms, hashes=hashes
        )


def read_history_coded(
    store: LedgerReader, run: RunInfo, *, from_seq: int = 0, to_seq: int | None = None
) -> Iterator[CodedChunk]:
    """The full history from ``from_seq`` up to ``to_seq`` (default: the run's recorded head) as
    the column chunks of :meth:`EventStore.read_coded`: the leanest read, for folds."""
    last = run.head_seq if to_seq is None else min(to_seq, run.head_seq)
    for run_id, lo, hi in _segments(store, run, from_seq, last):
        if hi is not None and lo <= hi:
            yield from store.read_coded(run_id, from_seq=lo, to_seq=hi, codes=CODES)


def _segments(
    store: LedgerReader, run: RunInfo, from_seq: int, to_seq: int | None
) -> Iterator[tuple[str, int, int | None]]:
    """``(run_id, first, last)`` reads that make up the history within the bounds (``last`` None: head)."""
    for segment, first, last in lineage(store, run):
        lo = max(first, from_seq)
        hi = last if to_seq is None else (to_seq if last is None else min(last, to_seq))
        if hi is not None and hi < lo:
            continue
        yield segment.run_id, lo, hi


def t_ms_of(store: LedgerReader, run: RunInfo, seq: int) -> int:
    """Sim time (ms) of event ``seq`` of ``run``'s history (one primary-key read).

    Raises:
        InputError: the history has no event ``seq``.
    """
    for row in read_history(store, run, from_seq=seq, to_seq=seq):
        return int(row.t_ms)
    from rexnet.errors import InputError

    raise InputError(f"run {run.run_id} has no seq {seq}")


def seq_at(store: LedgerReader, run: RunInfo, t_ms: int) -> int:
    """The last seq of ``run``'s history with ``t <= t_ms`` (-1 when none): a binary search over
    the primary key, events being stored in time order (a few dozen one-row reads, where a read
    bounded by time scans every row to the run's end)."""
    lo, hi = 0, run.head_seq
    if hi < 0 or t_ms_of(store, run, 0) > t_ms:
        return -1
    while lo < hi:  # invariant: t(lo) <= t_ms
        mid = (lo + hi + 1) // 2
        if t_ms_of(store, run, mid) <= t_ms:
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_chain(store: LedgerReader, run: RunInfo) -> int | None:
    """Recompute the chain of ``run``'s full history; the first bad seq, or ``None`` when intact.

    A seq is bad when it is missing or out of place, when its stored hash does not match the hash
    over the previous one and its stored bytes, when it lies past the run's recorded head (the
    first such seq), or (at the head) when the run's recorded head hash disagrees with the last
    event.
    """
    chunks = read_history_chunks(store, run, hashes=True)
    return first_bad_seq(chunks, run.head_seq, run.head_hash)
