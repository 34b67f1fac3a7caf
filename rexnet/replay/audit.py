"""``rexnet audit``: check a run from its log alone.

Two passes over the run's full history (a fork's shared prefix included, read from its
ancestors): the hash chain from ``GENESIS`` (any changed byte of any stored event shows up as the
first seq whose hash no longer matches), then the settlement recomputation of
:func:`rexnet.settlement.audit.audit_events` (reservations from trades, settlements from
reservations, realizations and the recorded rules, and both conservation laws per unit). A
``run_completed`` event must also state the head hash and event count the chain really has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rexnet.replay.decode import event_of
from rexnet.replay.history import check_chain, read_history
from rexnet.replay.projection import run_spec
from rexnet.settlement.audit import audit_events


@dataclass
class AuditResult:
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)


def audit_run(store: Any, run: Any, *, limit: int = 10) -> AuditResult:
    """Audit one run; ``problems`` lists at most ``limit`` discrepancies, first ones first."""
    bad = check_chain(store, run)
    if bad is not None:
        return AuditResult(
            False,
            f"run {run.run_id}: hash chain broken at seq {bad}",
            [f"seq {bad}: stored hash does not match the event's bytes"],
        )
    spec = run_spec(run)
    closing: list[str] = []
    report = audit_events(_checked_events(store, run, closing), spec)
    if report.ok and not closing:
        return AuditResult(
            True, f"run {run.run_id}: ok (hash chain intact; {report.summary().removeprefix('audit ok: ')})"
        )
    problems = closing + [
        f"{'seq ' + str(d.seq) if d.seq is not None else 'missing row'}: {d.agent} unit {d.unit} "
        f"{d.field}: expected {d.expected}, found {d.found}"
        for d in report.discrepancies[:limit]
    ]
    more = len(report.discrepancies) + len(closing) - len(problems)
    if more > 0:
        problems.append(f"... and {more} more")
    return AuditResult(
        False,
        f"run {run.run_id}: {len(report.discrepancies) + len(closing)} discrepancies; {report.summary()}",
        problems,
    )


def _checked_events(store: Any, run: Any, closing: list[str]) -> Iterator[tuple[int, Any]]:
    """``(seq, event)`` of the full history; also checks each ``run_completed`` against the chain.

    A ``run_completed`` event states the head hash and the event count before it; both must be
    what the chain itself says, or the run's closing statement is false (reported in ``closing``).
    """
    prev: bytes | None = None
    for stored in read_history(store, run):
        event = event_of(stored)
        if event.TYPE == "run_completed":
            chained = prev.hex() if prev is not None else ""
            if event.head_hash != chained or event.events != stored.seq:
                closing.append(
                    f"seq {stored.seq}: run_completed states head {event.head_hash[:16]} after "
                    f"{event.events} events, the chain has {chained[:16]} after {stored.seq}"
                )
        prev = stored.hash
        yield stored.seq, event
