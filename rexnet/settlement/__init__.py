"""Settlement: realizations, the floor rule (``x >= e``) and the audit's recomputation. No I/O.

* :mod:`~rexnet.settlement.floor_rule`: the pure arithmetic of one unit's settlement;
* :mod:`~rexnet.settlement.settlement`: :class:`Settlement`, the event-sourced realization and
  settlement of delivery units (decide -> events -> apply);
* :mod:`~rexnet.settlement.recompute`: :func:`audit_events`, recomputing reservations and settlements
  from a log alone.
"""

from rexnet.settlement.floor_rule import (
    ParticipantTerms,
    penalty_rate,
    round_half_up,
    settle_participant,
    settle_unit,
    system_row,
)
from rexnet.settlement.recompute import AuditReport, Discrepancy, audit_events
from rexnet.settlement.settlement import DUPLICATE_REALIZATION, Settlement

__all__ = [
    "DUPLICATE_REALIZATION",
    "AuditReport",
    "Discrepancy",
    "ParticipantTerms",
    "Settlement",
    "audit_events",
    "penalty_rate",
    "round_half_up",
    "settle_participant",
    "settle_unit",
    "system_row",
]
