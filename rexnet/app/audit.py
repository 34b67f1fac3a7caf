"""``rexnet audit``: check a run against its chain, its re-execution, its closing and its digest.

The checks, in order (the first that fails is the one named):

1. **The hash chain** of the run's full history (a fork's shared prefix included) from
   ``GENESIS``, and the runs row's head seq/hash against the last event: any changed byte that
   was not re-chained shows up as the first seq whose hash no longer matches.
2. **A keyed digest** (``--digest``, :mod:`rexnet.app.digest`), when given: the log must still
   reach the digested seq with the digested hash there. This is the only check that sees a log
   cut back to a consistent earlier state, or a whole run rewritten and re-chained.
3. **Re-execution**: the exchange is run again over the run's stored inputs (scenario + seed, or
   an ingest's command stream), with :class:`~rexnet.replay.rerun.Rerun`, the machinery of
   ``replay --verify``; every regenerated event's hash is compared with the stored one as the log
   is read in chunks, so memory is bounded by the open state of the market, never by the length
   of the history. A forged trade, a re-chained edit of an order, a swap of two events or an
   appended tail is named at the first seq where the stored history and its re-execution part
   (the events after it are derived from it and are not listed). Only then does the settlement
   recomputation of :class:`~rexnet.settlement.recompute.SettlementAuditor` read the log, to detail
   what it finds wrong with that same row (a forged settlement's field, expected and found).
   A run that cannot be re-executed (an ingest recorded without its inputs) gets that
   recomputation instead, with the check of every ``run_completed`` statement.
4. **The closing**: a run whose status is ``completed`` must end with ``run_completed`` (whose
   statement of head and count re-execution has checked with the rest).
5. **Persisted snapshots** (:mod:`rexnet.replay.persisted`): every stored snapshot of the run is
   re-derived from the history (the re-executing engine's state where a batch ends at its seq, a
   fold otherwise) and must be byte-identical; a forged or corrupt one is named by its seq. Reads
   already refuse a snapshot whose digest or chain hash is wrong; this check also finds one whose
   digest was recomputed by whoever edited it.

The verdicts (:attr:`AuditResult.verdict`): ``ok``; ``incomplete`` (an honest prefix: every
stored event is what re-execution gives, but the run stops short, as after a crash; ``rexnet
resume`` finishes it), which is not a failure; ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rexnet import __version__
from rexnet.errors import CheckFailed, InputError
from rexnet.replay.decode import EVENT_OF
from rexnet.replay.history import check_chain, lineage, read_history
from rexnet.replay.persisted import SnapshotAudit
from rexnet.replay.projection import run_spec
from rexnet.replay.rerun import Divergence, Rerun, Sink, has_inputs, is_ingest
from rexnet.settlement.recompute import Discrepancy, SettlementAuditor
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import RunInfo

OK, INCOMPLETE, FAILED = "ok", "incomplete", "failed"


@dataclass
class AuditResult:
    """The outcome of :func:`audit_run`.

    ``ok`` is true for the verdicts ``ok`` and ``incomplete`` (nothing is forged); ``seq`` is the
    first bad seq when one is known.
    """

    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)
    verdict: str = OK
    run_id: str = ""
    seq: int | None = None


@dataclass
class _Pass:
    """What a pass over the stored history learns beside the re-execution's answer."""

    auditor: SettlementAuditor | None = None
    closing: list[tuple[int | None, str]] = field(default_factory=list)
    undecodable: list[tuple[int, str]] = field(default_factory=list)
    last: tuple[int, str] | None = None  # (seq, type) of the last stored event read
    prev_hash: bytes | None = None


def audit_run(store: LedgerReader, run: RunInfo, *, digest: Any = None, limit: int = 10) -> AuditResult:
    """Audit one run (see the module docstring); ``problems`` lists at most ``limit`` lines.

    Args:
        store: the event store.
        run: the run (:class:`~rexnet.store.RunInfo`).
        digest: a :class:`~rexnet.app.digest.Digest` of this run whose key was checked, or
            ``None``.
        limit: the most problem lines listed.

    Raises:
        LedgerDamaged: a table is missing or a page is corrupt (a failed check, exit 1).
    """
    bad = check_chain(store, run)
    if bad is not None:
        kind = _type_at(store, run, bad)
        if bad > run.head_seq:
            why = f"stored {kind} past the run's recorded head (seq {run.head_seq})"
        elif kind is None:
            why = "missing"
        else:
            why = f"stored {kind}: its hash does not match its bytes, the chain or the run's head"
        return _failed(
            run, bad, f"hash chain broken at seq {bad}{f' ({kind})' if kind else ''}", [f"seq {bad}: {why}"]
        )
    checks = ["hash chain intact"]
    if digest is not None:
        from rexnet.app.digest import check_against

        problem = check_against(store, run, digest)
        if problem is not None:
            return _failed(run, digest.seq, f"does not extend its digest: {problem}", [problem])
        checks.append(f"extends its digest at seq {digest.seq}")
    return _reexecute(store, run, checks, limit)


def audit_all(store: LedgerReader) -> tuple[list[AuditResult], list[tuple[str, int, int, int]]]:
    """``rexnet audit --all``: every run's audit, and the event rows of runs that do not exist
    (:meth:`~rexnet.store.EventStore.orphan_events`). A run whose reading fails (a damaged
    ledger) is a failed result; the others are still audited."""
    results = []
    for run in store.list_runs():
        try:
            results.append(audit_run(store, run))
        except CheckFailed as error:
            results.append(_failed(run, None, str(error), [str(error)]))
    return results, store.orphan_events()


def _reexecute(store: LedgerReader, run: RunInfo, checks: list[str], limit: int) -> AuditResult:
    """Checks 3 and 4 of the module docstring, in one pass over the stored history.

    When the re-execution reproduces every stored event, the settlement recomputation could only
    repeat it (the stored bytes are exactly what the exchange and the settlement give for the
    stored inputs), so it runs only to detail a divergence, or in place of a re-execution that
    is not possible (an ingest recorded without its inputs).
    """
    try:
        rerun = Rerun.for_run(store, run)
    except InputError as error:
        if not (is_ingest(run.scenario) and not has_inputs(run.scenario)):
            return _failed(run, 0, f"its record cannot be re-executed: {error}", [f"seq 0: {error}"])
        checks.append("not re-executed: recorded without its inputs")
        return _recomputed(store, run, checks, limit)
    state = _Pass()
    snapshots = SnapshotAudit(store, run)
    sink = Sink(_tapped(read_history(store, run), state), run.head_seq)
    if snapshots.pending:
        sink.on_batch = lambda events, last, _hash: snapshots.feed(events, last, rerun.engine)
    try:
        rerun.run(sink)
    except Divergence as error:
        return _diverged(store, run, error, limit)
    ends = state.last[1] if state.last is not None else None
    if run.status == "completed" and ends != "run_completed":
        where = f"at seq {state.last[0]} with {ends}" if state.last is not None else "with no event"
        line = f"status completed, but the log ends {where}, not with run_completed"
        return _failed(run, None, line, [line])
    checks.append(f"re-executed, {run.head_seq + 1} events identical")
    failed = _snapshots_checked(run, snapshots, checks, limit)
    if failed is not None:
        return failed
    if rerun.completed and run.status == "completed":
        return AuditResult(True, f"run {run.run_id}: ok ({'; '.join(checks)})", [], OK, run.run_id)
    return _incomplete(run, checks, complete=rerun.completed)


def _recomputed(store: LedgerReader, run: RunInfo, checks: list[str], limit: int) -> AuditResult:
    """The audit of a run that cannot be re-executed: settlement recomputation and closing."""
    state = _Pass(SettlementAuditor(run_spec(run)))
    for _ in _tapped(read_history(store, run), state):
        pass
    assert state.auditor is not None
    ends = state.last[1] if state.last is not None else None
    # a log that stops short (and says so: not completed) may stop inside a settlement batch
    report = state.auditor.close(partial=ends != "run_completed" and run.status != "completed")
    problems: list[tuple[int | None, str]] = [
        (seq, f"seq {seq}: stored {kind} cannot be decoded") for seq, kind in state.undecodable
    ]
    problems += state.closing + [(d.seq, _line(d)) for d in report.discrepancies]
    if run.status == "completed" and ends != "run_completed":
        where = f"at seq {state.last[0]} with {ends}" if state.last is not None else "with no event"
        problems.insert(0, (None, f"status completed, but the log ends {where}, not with run_completed"))
    if problems:
        lines = [text for _, text in problems]
        more = [f"... and {len(lines) - limit} more"] if len(lines) > limit else []
        return _failed(run, problems[0][0], f"{len(lines)} problems; {lines[0]}", lines[:limit] + more)
    checks.append(
        f"{report.trades} trades, {report.units_settled} units settled, "
        f"{report.participants} participant rows recomputed"
    )
    failed = _snapshots_checked(run, SnapshotAudit(store, run), checks, limit)
    if failed is not None:
        return failed
    if ends == "run_completed" and run.status == "completed":
        return AuditResult(True, f"run {run.run_id}: ok ({'; '.join(checks)})", [], OK, run.run_id)
    return _incomplete(run, checks, complete=ends == "run_completed")


def _snapshots_checked(
    run: RunInfo, snapshots: SnapshotAudit, checks: list[str], limit: int
) -> AuditResult | None:
    """Check 5: every stored snapshot of the run re-derived from its history; a failed result
    naming the first forged one, or ``None`` (and a line in ``checks``)."""
    snapshots.finish()
    lines = snapshots.lines()
    if lines:
        seq = min(seq for seq, _ in snapshots.problems)
        more = [f"... and {len(lines) - limit} more"] if len(lines) > limit else []
        return _failed(run, seq, lines[0], lines[:limit] + more)
    if snapshots.keys:
        checks.append(f"{len(snapshots.keys)} stored snapshots re-derived")
    return None


def _incomplete(run: RunInfo, checks: list[str], *, complete: bool) -> AuditResult:
    what = (
        f"its log is complete but its status is {run.status}"
        if complete
        else f"{run.head_seq + 1} events, stopped before run_completed"
    )
    return AuditResult(
        True,
        f"run {run.run_id}: incomplete, resumable ({what}; {'; '.join(checks)}): "
        f"`rexnet resume {run.run_id}` finishes it",
        [],
        INCOMPLETE,
        run.run_id,
    )


def _tapped(rows: Iterator[Any], state: _Pass) -> Iterator[Any]:
    """The stored rows, unchanged; notes the last one read and, with an auditor, decodes each
    into the settlement check and checks each ``run_completed`` statement against the chain."""
    if state.auditor is None:  # only where the log ends
        for stored in rows:
            state.last = (stored.seq, stored.type)
            yield stored
        return
    feeding = True
    for stored in rows:
        state.last = (stored.seq, stored.type)
        try:
            event = EVENT_OF(stored)
        except Exception:  # noqa: BLE001 - a payload the engine never wrote
            state.undecodable.append((stored.seq, stored.type))
            feeding = False
        else:
            if event.TYPE == "run_completed":
                chained = state.prev_hash.hex() if state.prev_hash is not None else ""
                if event.head_hash != chained or event.events != stored.seq:
                    state.closing.append(
                        (
                            stored.seq,
                            f"seq {stored.seq}: run_completed states head {event.head_hash[:16]} after "
                            f"{event.events} events, the chain has {chained[:16]} after {stored.seq}",
                        )
                    )
            if feeding:
                try:
                    state.auditor.feed(stored.seq, event)
                except Exception:  # noqa: BLE001 - a forged row the recomputation cannot take
                    state.undecodable.append((stored.seq, stored.type))
                    feeding = False
        state.prev_hash = stored.hash
        yield stored


def _diverged(store: LedgerReader, run: RunInfo, error: Divergence, limit: int) -> AuditResult:
    """A failed audit naming the first seq where the log and its re-execution part.

    The settlement recomputation then reads the history again, only to say what it finds wrong
    with that same row (a forged settlement's field, expected and found).
    """
    state = _Pass(SettlementAuditor(run_spec(run)))
    for _ in _tapped(read_history(store, run), state):
        pass
    assert state.auditor is not None
    discrepancies = state.auditor.close().discrepancies
    stored = error.stored or "(no event)"
    again = error.regenerated or "(no event)"
    if error.regenerated is None:
        what = f"seq {error.seq}: stored {stored}, but re-execution ends before it (an appended event)"
    elif error.stored is None:
        what = f"seq {error.seq}: no stored event, re-execution gives {again}"
    elif error.stored == error.regenerated:
        what = f"seq {error.seq}: the stored {stored} differs from the re-executed one"
    else:
        what = f"seq {error.seq}: stored {stored}, re-execution gives {again}"
    recorded = lineage(store, run)[0][0].code_version
    if recorded != __version__:  # a code change that alters history looks like a forgery: say so
        what += f" (recorded by rexnet {recorded}, re-executed by {__version__})"
    # only what the settlement check says of the same row: later rows are derived from it
    detail = [_line(d) for d in discrepancies if d.seq == error.seq]
    detail += [text for seq, text in state.closing if seq == error.seq]
    detail = detail[: max(0, limit - 1)]
    return _failed(
        run,
        error.seq,
        f"history differs from its re-execution first at seq {error.seq} ({stored})",
        [what, *detail],
    )


def _failed(run: RunInfo, seq: int | None, what: str, problems: list[str]) -> AuditResult:
    return AuditResult(False, f"run {run.run_id}: FAILED: {what}", problems, FAILED, run.run_id, seq)


def _line(d: Discrepancy) -> str:
    where = f"seq {d.seq}" if d.seq is not None else "missing row"
    return f"{where}: {d.agent} unit {d.unit} {d.field}: expected {d.expected}, found {d.found}"


def _type_at(store: LedgerReader, run: RunInfo, seq: int) -> str | None:
    """The stored type of the event at ``seq`` (``None`` when there is none)."""
    row = next(read_history(store, run, from_seq=seq, to_seq=seq), None)
    return None if row is None else row.type
