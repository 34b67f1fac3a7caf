"""``rexnet audit``: check a run from its log alone.

Two passes over the run's full history (a fork's shared prefix included, read from its
ancestors): the hash chain from ``GENESIS`` (any changed byte of any stored event shows up as the
first seq whose hash no longer matches), then the settlement recomputation of
:func:`rexnet.settlement.audit.audit_events` (reservations from trades, settlements from
reservations, realizations and the recorded rules, and both conservation laws per unit).
"""

from __future__ import annotations

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
        return AuditResult(False, f"run {run.run_id}: hash chain broken at seq {bad}",
                           [f"seq {bad}: stored hash does not match the event's bytes"])
    spec = run_spec(run)
    report = audit_events(((s.seq, event_of(s)) for s in read_history(store, run)), spec)
    if report.ok:
        return AuditResult(True, f"run {run.run_id}: ok (hash chain intact; "
                                 f"{report.summary().removeprefix('audit ok: ')})")
    problems = [
        f"{'seq ' + str(d.seq) if d.seq is not None else 'missing row'}: {d.agent} unit {d.unit} "
        f"{d.field}: expected {d.expected}, found {d.found}"
        for d in report.discrepancies[:limit]
    ]
    more = len(report.discrepancies) - len(problems)
    if more > 0:
        problems.append(f"... and {more} more")
    return AuditResult(False, f"run {run.run_id}: {len(report.discrepancies)} discrepancies; "
                              f"{report.summary()}", problems)
