"""As-of reads: the market state after a given seq or sim time, rebuilt by folding the log.

The fold uses the live engine's own ``apply`` (:class:`~rexnet.market_engine.MarketEngine`), so what
``rexnet book --at N`` shows is exactly what the live run held after event N. It reads the run's
full history (:func:`~rexnet.replay.history.read_history_coded`, in column chunks; a bound by
time reads rows): a fork's state includes the prefix it shares with its parent.

:func:`engine_as_of` and :func:`state_as_of` start from the nearest persisted snapshot
(:mod:`rexnet.replay.persisted`) and fold the rest; :func:`fold` folds from seq 0. A process that
reads many points of one long run can also keep snapshots in memory (:mod:`rexnet.replay.snapshot`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from rexnet.domain.market import MarketSpec
from rexnet.errors import CheckFailed, InputError
from rexnet.gc_tuning import relaxed_gc
from rexnet.market_engine import MarketEngine
from rexnet.replay.decode import FOLD_CODED, FOLD_ROWS, NotApplicable
from rexnet.replay.history import read_history_chunks, read_history_coded, seq_at
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import RunInfo


def run_spec(run: RunInfo) -> MarketSpec:
    """The market rules recorded with a run."""
    market = run.market
    return MarketSpec.from_record(json.loads(market) if isinstance(market, str) else market)


def read_bounds(run: RunInfo, *, at_seq: int | None, at_time: float | None) -> dict[str, int | None]:
    """``store.read`` keyword bounds for ``--at SEQ`` / ``--time T`` (seconds), validated."""
    if at_seq is not None and at_time is not None:
        raise InputError("give --at or --time, not both")
    if at_seq is not None:
        if at_seq < 0 or at_seq > run.head_seq:
            raise InputError(f"run {run.run_id} has no seq {at_seq} (its events are 0..{run.head_seq})")
        return {"to_seq": at_seq, "to_t_ms": None}
    if at_time is not None:
        if at_time < 0:
            raise InputError(f"--time {at_time} is negative")
        return {"to_seq": None, "to_t_ms": int(at_time * 1000)}
    return {"to_seq": None, "to_t_ms": None}


def fold(
    store: LedgerReader, run: RunInfo, into: Any, *, at_seq: int | None = None, at_time: float | None = None
) -> Any:
    """Apply the run's events (up to the bound) to ``into`` (anything with ``apply``); returns it."""
    bounds: dict[str, Any] = read_bounds(run, at_seq=at_seq, at_time=at_time)
    try:
        fold_history(store, run, (into.apply,), **bounds)
    except NotApplicable as failed:
        raise not_applicable(run, failed) from None
    return into


def fold_history(
    store: LedgerReader,
    run: RunInfo,
    applies: Sequence[Callable[[Any], Any]],
    *,
    to_seq: int | None = None,
    to_t_ms: int | None = None,
) -> None:
    """Give every event of the run's full history (up to the bound) to each of ``applies``.

    Everything up to a seq is read in column chunks (the leanest read); a time bound reads rows.

    Raises:
        NotApplicable: an event could not be decoded or applied.
    """
    # A fold allocates mostly acyclic, short-lived objects next to a growing long-lived state, as a
    # simulation does, so it runs with the simulator's collector setting (rexnet.gc_tuning).
    with relaxed_gc():
        if to_t_ms is None:
            for chunk in read_history_coded(store, run, to_seq=to_seq):
                FOLD_CODED(chunk, applies)
        else:
            for rows in read_history_chunks(store, run, to_seq=to_seq, to_t_ms=to_t_ms):
                FOLD_ROWS(rows, applies)


def not_applicable(run: RunInfo, failed: NotApplicable) -> CheckFailed:
    """The one-line failure for a log row that cannot be decoded or folded (forged, or a bug)."""
    exc = failed.__cause__
    return CheckFailed(
        f"run {run.run_id}: seq {failed.seq} ({failed.event_type}) cannot be applied to the state "
        f"before it: {type(exc).__name__}: {exc}"
    )


def engine_as_of(
    store: LedgerReader, run: RunInfo, *, at_seq: int | None = None, at_time: float | None = None
) -> MarketEngine:
    """The market engine as it was after ``at_seq`` / ``at_time`` (or at the head), from the
    nearest persisted snapshot (:mod:`rexnet.replay.persisted`)."""
    return state_as_of(store, run, at_seq=at_seq, at_time=at_time)[0]


def state_as_of(
    store: LedgerReader, run: RunInfo, *, at_seq: int | None = None, at_time: float | None = None
) -> tuple[MarketEngine, Any]:
    """``(engine, accounts)`` after ``at_seq`` / ``at_time`` (or at the head): the fold's state,
    started at the nearest usable persisted snapshot at or before the point. A time becomes the
    last seq at or before it first (:func:`~rexnet.replay.history.seq_at`)."""
    from rexnet.replay.persisted import state_as_of as from_snapshot  # (it builds on this module)

    bounds = read_bounds(run, at_seq=at_seq, at_time=at_time)
    if bounds["to_seq"] is not None:
        to_seq = bounds["to_seq"]
    elif bounds["to_t_ms"] is not None:
        to_seq = seq_at(store, run, bounds["to_t_ms"])
    else:
        to_seq = run.head_seq
    try:
        return from_snapshot(store, run, to_seq)
    except NotApplicable as failed:
        raise not_applicable(run, failed) from None


def book_view(engine: MarketEngine, unit: int) -> dict[str, Any]:
    """Depth of one unit's book in display units, best level first."""
    spec = engine.spec
    depth = engine.depth(unit)

    def levels(side: list[Any]) -> list[dict[str, Any]]:
        return [{"price": spec.price_display(p), "qty": spec.kw_display(q), "orders": n} for p, q, n in side]

    return {"unit": unit, "bids": levels(depth["bids"]), "asks": levels(depth["asks"])}
