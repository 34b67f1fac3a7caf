"""``replay``, ``verify``, ``fork`` and ``resume``: what the CLI commands of the same names do.

* :func:`replay_run` folds the stored history into the projections (market engine, accounts,
  run statistics) while recomputing the hash chain from the stored bytes.
* :func:`verify_run` re-executes the run from its record (:class:`~rexnet.replay.rerun.Rerun`)
  and compares the regenerated hash with the stored one at every seq, streaming both sides.
* :func:`fork_run` re-executes the parent up to the fork time ``T``, checking every event, and
  only then creates the fork (``parent_run_id``, ``fork_seq``) and continues it with the change
  applied from ``T`` on; the fork stores its own events only.
* :func:`resume_run` re-executes a run cut short (status ``running`` or ``failed``), checking the
  committed events, and appends the rest, so the result equals an uninterrupted run.

The fork point: an instant cannot be split (everything at one time happens together), so
``--at SEQ`` means ``T`` = the time of event ``SEQ`` and ``fork_seq`` = the last seq with
``t <= T``, which may be later than ``SEQ``; ``--time T`` means the same with ``T`` given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rexnet import __version__
from rexnet.app.results import ForkResult, ReplaySummary, RunSummary, VerifyResult
from rexnet.domain.codec import GENESIS, check_rows
from rexnet.errors import CheckFailed, InputError
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.background import ChainCheck
from rexnet.replay.decode import NotApplicable
from rexnet.replay.fork import load_shocks, normalize_sets, with_change
from rexnet.replay.history import read_history
from rexnet.replay.persisted import SnapshotTaker
from rexnet.replay.projection import fold_history, not_applicable, run_spec
from rexnet.replay.recording import check_new_name, marked_failed
from rexnet.replay.rerun import Divergence, Rerun, Sink, is_ingest
from rexnet.replay.stats import RunStats
from rexnet.store.recorder import LedgerReader, Recorder
from rexnet.store.records import RunInfo, StoredEvent


def batch_size() -> int:
    """Writer batch size: ``REXNET_BATCH_SIZE`` (tests use small batches to have commits to kill)."""
    raw = os.environ.get("REXNET_BATCH_SIZE", "5000")
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"REXNET_BATCH_SIZE={raw!r}: expected a positive integer") from None
    if value < 1:
        raise InputError(f"REXNET_BATCH_SIZE={raw!r}: expected a positive integer")
    return value


def replay_run(store: LedgerReader, run: RunInfo) -> ReplaySummary:
    """Rebuild the projections from the log; a summary (raises CheckFailed on a broken chain)."""
    spec = run_spec(run)
    engine, accounts, stats = MarketEngine(spec), Accounts(), RunStats(spec)
    check = ChainCheck(store, run)  # on the other core, when it has one
    applies = (engine.apply, accounts.apply, stats.apply)
    failed: NotApplicable | None = None
    try:
        fold_history(store, run, applies)
    except NotApplicable as error:
        failed = error
    except BaseException:
        check.cancel()
        raise
    bad = check.result()  # a broken chain explains any failure to apply: it is reported first
    if bad is not None:
        raise CheckFailed(f"run {run.run_id}: hash chain broken at seq {bad}")
    if failed is not None:
        raise not_applicable(run, failed)
    open_orders = sum(
        n for u in engine.open_units() for side in ("bids", "asks") for _, _, n in engine.depth(u)[side]
    )
    cash = sum(a.cash for a in accounts.accounts.values())
    summary = stats.summary()
    return ReplaySummary(
        run_id=run.run_id,
        name=run.name,
        status=run.status,
        parent=run.parent_run_id,
        fork_seq=run.fork_seq,
        events=run.head_seq + 1,  # (the chain check held the log to the recorded head)
        head_hash=run.head_hash.hex(),
        figures={
            "open_units": len(engine.open_units()),
            "open_orders": open_orders,
            "participants": len([a for a in accounts.accounts if a != "system"]),
            "accounts_total_cash": spec.money_display(cash),
            **{k: v for k, v in summary.items() if k != "events"},
        },
    )


def verify_run(store: LedgerReader, run: RunInfo) -> VerifyResult:
    """Re-execute ``run`` and compare hash chains; raises :class:`Divergence` (exit 1) on a mismatch."""
    rerun = Rerun.for_run(store, run)
    sink = Sink(_rechecked(read_history(store, run)), run.head_seq)
    rerun.run(sink)
    return VerifyResult(run.run_id, sink.checked, run.head_hash.hex(), rerun.completed)


def _rechecked(rows: Iterable[StoredEvent]) -> Iterator[StoredEvent]:
    """The stored rows, each checked against its own bytes (a tampered payload is a divergence)."""
    prev, expected = GENESIS, 0
    for row in rows:
        stored = (row.seq, row.t_ms, row.type, row.version, row.payload.encode(), row.hash)
        prev, expected, bad = check_rows([stored], prev, expected)
        if bad >= 0:
            raise Divergence(bad, f"{row.type} (stored bytes do not match the stored hash)", None)
        yield row


def fork_point(
    store: LedgerReader, run: RunInfo, *, at_seq: int | None, at_time: float | None
) -> tuple[int, int]:
    """``(T in ms, fork_seq)`` for ``--at SEQ`` / ``--time T`` (one of them), validated."""
    if (at_seq is None) == (at_time is None):
        raise InputError("give exactly one of --at SEQ or --time T")
    if run.head_seq < 0:
        raise InputError(f"run {run.run_id} has no events to fork from")
    last = next(read_history(store, run, from_seq=run.head_seq, to_seq=run.head_seq))
    if at_seq is not None:
        if not 0 <= at_seq <= run.head_seq:
            raise InputError(f"--at {at_seq}: run {run.run_id} has seqs 0..{run.head_seq}")
        t_ms = next(read_history(store, run, from_seq=at_seq, to_seq=at_seq)).t_ms
    else:
        assert at_time is not None
        t_ms = round(at_time * 1000)
        if not 0 <= t_ms <= last.t_ms:
            raise InputError(f"--time {at_time:g}: run {run.run_id} spans t = 0 .. {last.t_ms / 1000:g} s")
    fork_seq = -1
    for row in read_history(store, run, from_seq=max(at_seq or 0, 0), to_t_ms=t_ms):
        fork_seq = row.seq
    if fork_seq < 0:
        raise InputError(f"run {run.run_id} has no event at or before t = {t_ms / 1000:g} s")
    return t_ms, fork_seq


def fork_run(
    store: Recorder,
    parent: RunInfo,
    *,
    at_seq: int | None = None,
    at_time: float | None = None,
    sets: Sequence[str] = (),
    shock_file: str | None = None,
    name: str | None = None,
) -> ForkResult:
    """Fork ``parent`` at a seq or time with changes; the new run's summary.

    Raises:
        InputError: bad fork point, key, value or shock file, a taken name, an ingest parent
            (nothing is created).
        Divergence: re-executing the parent does not reproduce its stored prefix (nothing is
            created).
    """
    if is_ingest(parent.scenario):
        raise InputError(f"run {parent.run_id} is an ingest run: only simulated runs can be forked")
    check_new_name(store, name)
    t_ms, fork_seq = fork_point(store, parent, at_seq=at_seq, at_time=at_time)
    change = {
        "at_ms": t_ms,
        "set": normalize_sets(parent.scenario, list(sets), at_ms=t_ms),
        "shocks": load_shocks(shock_file, at_ms=t_ms) if shock_file else [],
    }
    record = with_change(parent.scenario, change)
    rerun = Rerun.for_run(store, parent, record=record)
    sink = Sink(read_history(store, parent, to_seq=fork_seq), fork_seq)
    taker = _taker(sink, rerun)  # (its accounts fold the shared prefix too)
    taker.start_after(fork_seq)  # snapshots of the shared prefix are the parent's
    rerun.run(sink, until_ms=t_ms)
    if rerun.sim is not None and rerun.sim.done():
        raise InputError(
            f"run {parent.run_id}: nothing is simulated after t = {t_ms / 1000:g} s; fork at an earlier point"
        )
    if rerun.seq < fork_seq:
        sink.finish(rerun.seq + 1)  # the stored prefix has events the re-execution did not give
    if rerun.seq != fork_seq:
        raise Divergence(fork_seq + 1, None, "an event at or before the fork time")
    run = store.create_run(
        name=name,
        scenario=record,
        seed=parent.seed,
        code_version=__version__,
        market=parent.market,
        parent_run_id=parent.run_id,
        fork_seq=fork_seq,
    )
    with marked_failed(store, run.run_id):  # what was written is a valid prefix: resume can finish it
        summary = _continue(store, run, rerun, sink)
    return ForkResult(
        summary.run_id,
        summary.name,
        summary.events,
        summary.head_hash,
        summary.stats,
        parent=parent.run_id,
        fork_seq=fork_seq,
        fork_t=t_ms / 1000,
    )


def resume_run(store: Recorder, run: RunInfo) -> RunSummary:
    """Continue a run cut short to its end; ``stats["resumed"]`` is False for a run already completed."""
    if run.status == "completed":
        # (no name: what `rexnet resume` has always printed for a run with nothing to do)
        return RunSummary(
            run.run_id, None, run.events, run.head_hash.hex(), {"resumed": False, "appended": 0}
        )
    with marked_failed(store, run.run_id):
        rerun = Rerun.for_run(store, run)
        sink = Sink(_rechecked(read_history(store, run)), run.head_seq)
        _taker(sink, rerun)  # (snapshots of the checked prefix too, where the crash left none)
        return _continue(store, run, rerun, sink)


def _taker(sink: Sink, rerun: Rerun) -> SnapshotTaker:
    """Persisted snapshots of the re-executing engine, written by the sink's writer once it has one."""
    taker = SnapshotTaker(None, rerun.engine)

    def on_batch(events: list[Any], last_seq: int, last_hash: bytes) -> None:
        if taker.writer is None:
            taker.accounts_only(events)
        else:
            taker.feed(events, last_seq, last_hash)

    sink.on_batch = on_batch
    sink.taker = taker
    return taker


def _continue(store: Recorder, run: RunInfo, rerun: Rerun, sink: Sink) -> RunSummary:
    """Run ``rerun`` to its end, writing what lies past ``sink.check_through`` into ``run``."""
    writer = store.writer(run.run_id, batch_size=batch_size())
    if writer.seq != sink.check_through:
        raise CheckFailed(f"run {run.run_id}: its head moved to seq {writer.seq} (another writer?)")
    sink.writer = writer
    if sink.taker is not None:
        sink.taker.writer = writer
    # statistics of the whole history (the checked prefix and the appended rest), like `rexnet run`
    stats = RunStats(run_spec(run))
    sink.on_check = stats.feed
    sink.on_write = stats.feed
    rerun.run(sink)
    writer.flush()
    if writer.head_hash != rerun.hash:  # the writer's inlined chain must equal the codec's
        raise CheckFailed(f"run {run.run_id}: writer head {writer.head_hash.hex()} != {rerun.hash.hex()}")
    store.set_status(run.run_id, "completed")
    summary = stats.summary()
    return RunSummary(
        run.run_id,
        run.name,
        rerun.seq + 1,
        rerun.hash.hex(),
        {
            "resumed": True,
            "appended": sink.written,
            **{k: v for k, v in summary.items() if k not in ("events", "by_kind")},
        },
    )
