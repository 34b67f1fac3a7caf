"""The settlement recomputation keeps no state for units that never trade once their delivery is
over (a long history of idle units would otherwise grow it), and a stray event later is judged
as before."""

from __future__ import annotations

from rexnet.domain.events import GateClosed, TradeExecuted
from rexnet.domain.market import MarketSpec
from rexnet.settlement.recompute import SettlementAuditor


def test_idle_units_are_put_away_and_come_back_as_they_were():
    spec = MarketSpec()
    auditor = SettlementAuditor(spec)
    for unit in range(1, 3000):
        auditor.feed(unit, GateClosed(spec.gate_ms(unit), unit, 0, None, 0))
    assert len(auditor.units) <= spec.horizon + 2  # the units whose delivery has not ended
    # a forged trade in a unit long gated: still "after its gate", as without putting away
    t = spec.gate_ms(3000)
    auditor.feed(5000, TradeExecuted(t, 1, 5, 4000, 10, 1, 2, "a", "b", "buy"))
    report = auditor.close()
    assert [(d.seq, d.unit, d.field) for d in report.discrepancies][:1] == [(5000, 5, "trade_after_gate")]
