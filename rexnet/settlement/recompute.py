"""The recomputation half of the audit: check a run's settlement from its event log alone.

:func:`audit_events` streams ``(seq, event)`` pairs once, keeping state only for units that are
not yet settled, and recomputes from the most primitive facts:

* **gate_closed** ``volume``, ``notional`` and ``vwap`` from the unit's trades before it;
* **reservation_fixed** ``qty`` of every agent from its trades (``e = sold - bought``); an agent
  with ``e == 0`` may have a zero row or none;
* **settled** rows with :func:`~rexnet.settlement.floor_rule.settle_unit`, the function the live
  settlement uses, fed with the trade-derived reservations, trade cash and VWAP terms and the
  logged realizations (the first one per agent and unit);
* the two **conservation laws** per unit on the rows as found: reservations sum to 0, and net cash
  over all settled rows including the system row sums to 0.

Because every figure is recomputed from trades and realizations, a forged row is reported once,
at its own ``seq``, rather than as a cascade through everything derived from it.

A :class:`Discrepancy` names ``field``:

* a field of the event at ``seq`` (``qty``, ``volume``, ``notional``, ``vwap``, ``reserved``,
  ``realized``, ``trade_cash``, ``shortfall``, ``penalty``, ``surplus``, ``surplus_credit``,
  ``net_cash``) when its value is wrong;
* an event type (``reservation_fixed``, ``settled``, ``gate_closed``) for a missing row
  (``seq`` and ``found`` are ``None``, ``expected`` is the row's qty / net_cash / volume) or an
  extra settled row (``expected`` is ``None``, ``found`` its net_cash);
* ``duplicate_<type>`` for a second row of one (agent, unit), ``found`` its value;
* ``reservation_sum`` / ``net_cash_sum`` for a broken conservation law (``agent`` is ``None``,
  ``seq`` the unit's last such row);
* ``realized_outside_delivery`` (``found`` = t), ``trade_after_gate`` (``found`` = qty),
  ``settled_before_delivery_end`` (``found`` = t) and ``<type>_after_settlement`` for events out
  of their place in time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from rexnet.domain.events import (
    SYSTEM_AGENT,
    GateClosed,
    Realized,
    ReservationFixed,
    Settled,
    TradeExecuted,
)
from rexnet.domain.market import MarketSpec
from rexnet.settlement.floor_rule import round_half_up, settle_unit

#: settled fields compared one by one (all but t, agent, unit)
_SETTLED_FIELDS = Settled._fields[3:]


class Discrepancy(NamedTuple):
    """One disagreement between the log and its recomputation (see the module docstring)."""

    seq: int | None
    agent: str | None
    unit: int | None
    field: str
    expected: int | None
    found: int | None


@dataclass
class AuditReport:
    """Outcome of :func:`audit_events`."""

    discrepancies: list[Discrepancy] = field(default_factory=list)
    events: int = 0
    units_settled: int = 0
    participants: int = 0  # participant settled rows (the system rows not counted)
    trades: int = 0

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def summary(self) -> str:
        counts = (
            f"{self.events} events, {self.trades} trades, {self.units_settled} units settled, "
            f"{self.participants} participant rows"
        )
        if self.ok:
            return f"audit ok: {counts}"
        d = self.discrepancies[0]
        where = " ".join(
            p for p in (f"seq {d.seq}" if d.seq is not None else "", f"unit {d.unit}", d.agent or "") if p
        )
        return (
            f"audit FAILED: {len(self.discrepancies)} discrepancies in {counts}; first: {where} "
            f"{d.field} expected {d.expected} found {d.found}"
        )


@dataclass
class _Unit:
    """Audit state of one unit until its system row is seen."""

    position: dict[str, int] = field(default_factory=dict)  # sold - bought
    cash: dict[str, int] = field(default_factory=dict)
    volume: int = 0
    notional: int = 0
    gate_seq: int | None = None
    reservations: dict[str, tuple[int, int]] = field(default_factory=dict)  # agent -> (seq, qty)
    realizations: dict[str, int] = field(default_factory=dict)
    settled: dict[str, tuple[int, Settled]] = field(default_factory=dict)


def _empty(u: _Unit) -> bool:
    return not (u.position or u.cash or u.volume or u.reservations or u.realizations or u.settled)


class SettlementAuditor:
    """The incremental form of :func:`audit_events`: :meth:`feed` events in log order, then
    :meth:`close`. For a caller that pushes events as another check pulls them (``rexnet audit``
    feeds it from the stream its re-execution compares)."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.report = AuditReport()
        self.units: dict[int, _Unit] = {}
        self.finished: set[int] = set()
        #: units put away empty after their delivery ended (no trade, row or realization: they
        #: never settle), by their gate seq; a stray later event brings the state back as it was.
        #: A ``_Unit`` of empty dicts per unit of history would grow with the length of the run.
        self.idle: dict[int, int | None] = {}

    def flag(self, seq: int | None, agent: str | None, unit: int, name: str, exp: Any, found: Any) -> None:
        self.report.discrepancies.append(Discrepancy(seq, agent, unit, name, exp, found))

    def unit(self, seq: int, event: Any) -> _Unit | None:
        """State of the event's unit; ``None`` (and a flag) when the unit is already settled."""
        if event.unit in self.finished:
            self.flag(
                seq, getattr(event, "agent", None), event.unit, f"{event.TYPE}_after_settlement", None, None
            )
            return None
        state = self.units.get(event.unit)
        if state is None:
            state = self.units[event.unit] = _Unit(gate_seq=self.idle.pop(event.unit, None))
        return state

    def put_away(self, t_ms: int) -> None:
        """Put away the empty units whose delivery ended by ``t_ms`` (see :attr:`idle`)."""
        end = self.spec.delivery_end_ms
        for unit in [u for u, s in self.units.items() if end(u) <= t_ms and _empty(s)]:
            self.idle[unit] = self.units.pop(unit).gate_seq

    # -- one event -------------------------------------------------------------------------------
    def feed(self, seq: int, event: Any) -> None:
        self.report.events += 1
        if isinstance(event, TradeExecuted):
            self.report.trades += 1
            self.trade(seq, event)
        elif isinstance(event, GateClosed):
            self.gate(seq, event)
            self.put_away(event.t)
        elif isinstance(event, ReservationFixed):
            self.reservation(seq, event)
        elif isinstance(event, Realized):
            self.realized(seq, event)
        elif isinstance(event, Settled):
            self.settled(seq, event)

    def trade(self, seq: int, ev: TradeExecuted) -> None:
        u = self.unit(seq, ev)
        if u is None:
            return
        if u.gate_seq is not None:
            self.flag(seq, None, ev.unit, "trade_after_gate", None, ev.qty)
        cash = ev.price * ev.qty
        u.position[ev.seller] = u.position.get(ev.seller, 0) + ev.qty
        u.position[ev.buyer] = u.position.get(ev.buyer, 0) - ev.qty
        u.cash[ev.seller] = u.cash.get(ev.seller, 0) + cash
        u.cash[ev.buyer] = u.cash.get(ev.buyer, 0) - cash
        u.volume += ev.qty
        u.notional += cash

    def gate(self, seq: int, ev: GateClosed) -> None:
        u = self.unit(seq, ev)
        if u is None:
            return
        if u.gate_seq is not None:
            self.flag(seq, None, ev.unit, "duplicate_gate_closed", None, ev.volume)
            return
        u.gate_seq = seq
        vwap = round_half_up(Fraction(u.notional, u.volume)) if u.volume else None
        for name, exp, found in (("volume", u.volume, ev.volume), ("notional", u.notional, ev.notional)):
            if exp != found:
                self.flag(seq, None, ev.unit, name, exp, found)
        if vwap != ev.vwap:
            self.flag(seq, None, ev.unit, "vwap", vwap, ev.vwap)

    def reservation(self, seq: int, ev: ReservationFixed) -> None:
        u = self.unit(seq, ev)
        if u is None:
            return
        if ev.agent in u.reservations:
            self.flag(seq, ev.agent, ev.unit, "duplicate_reservation_fixed", None, ev.qty)
            return
        u.reservations[ev.agent] = (seq, ev.qty)

    def realized(self, seq: int, ev: Realized) -> None:
        u = self.unit(seq, ev)
        if u is None:
            return
        if not self.spec.delivery_start_ms(ev.unit) <= ev.t < self.spec.delivery_end_ms(ev.unit):
            self.flag(seq, ev.agent, ev.unit, "realized_outside_delivery", None, ev.t)
        if ev.agent in u.realizations:
            self.flag(seq, ev.agent, ev.unit, "duplicate_realized", None, ev.qty)
            return
        u.realizations[ev.agent] = ev.qty

    def settled(self, seq: int, ev: Settled) -> None:
        u = self.unit(seq, ev)
        if u is None:
            return
        if ev.t < self.spec.delivery_end_ms(ev.unit):
            self.flag(seq, ev.agent, ev.unit, "settled_before_delivery_end", None, ev.t)
        if ev.agent in u.settled:
            self.flag(seq, ev.agent, ev.unit, "duplicate_settled", None, ev.net_cash)
            return
        u.settled[ev.agent] = (seq, ev)
        if ev.agent == SYSTEM_AGENT:  # the system row closes the unit's settlement
            self.finish(ev.unit)

    # -- closing a unit --------------------------------------------------------------------------
    def finish(self, unit: int) -> None:
        u = self.units.pop(unit)
        self.check_reservations(unit, u)
        if u.settled:
            self.check_settlement(unit, u)
            self.finished.add(unit)

    def check_reservations(self, unit: int, u: _Unit) -> None:
        if u.volume and u.gate_seq is None:
            self.flag(None, None, unit, "gate_closed", u.volume, None)
        for agent in sorted(set(u.position) | set(u.reservations)):
            expected = u.position.get(agent, 0)
            row = u.reservations.get(agent)
            if row is None:
                if expected != 0:
                    self.flag(None, agent, unit, "reservation_fixed", expected, None)
            elif row[1] != expected:
                self.flag(row[0], agent, unit, "qty", expected, row[1])
        total = sum(qty for _, qty in u.reservations.values())
        if total != 0:
            last = max(seq for seq, _ in u.reservations.values())
            self.flag(last, None, unit, "reservation_sum", 0, total)

    def check_settlement(self, unit: int, u: _Unit) -> None:
        t = max(row.t for _, row in u.settled.values())
        expected = settle_unit(
            self.spec,
            unit,
            t,
            reserved={**{a: 0 for a in u.reservations}, **u.position},
            realized=u.realizations,
            trade_cash=u.cash,
            volume=u.volume,
            notional=u.notional,
        )
        for exp in expected:
            found = u.settled.get(exp.agent)
            if found is None:
                self.flag(None, exp.agent, unit, "settled", exp.net_cash, None)
                continue
            seq, row = found
            for name in _SETTLED_FIELDS:
                if getattr(row, name) != getattr(exp, name):
                    self.flag(seq, exp.agent, unit, name, getattr(exp, name), getattr(row, name))
        known = {row.agent for row in expected}
        for agent, (seq, row) in sorted(u.settled.items()):
            if agent not in known:
                self.flag(seq, agent, unit, "settled", None, row.net_cash)
        total = sum(row.net_cash for _, row in u.settled.values())
        if total != 0:
            last = max(seq for seq, _ in u.settled.values())
            self.flag(last, None, unit, "net_cash_sum", 0, total)
        self.report.units_settled += 1
        self.report.participants += sum(1 for a in u.settled if a != SYSTEM_AGENT)

    def close(self, *, partial: bool = False) -> AuditReport:
        """End of the log: units with settled rows but no system row are closed as they are;
        units past gate closure get their reservation check; units still trading are left alone.

        With ``partial`` the log is known to be an honest prefix (a run cut short, every stored
        event checked against its re-execution): a unit whose settlement was not finished when
        the log stops is left alone too, since its missing rows are simply not written yet.
        """
        if partial:
            self.units.clear()
            return self.report
        for unit in sorted(self.units):
            u = self.units[unit]
            if u.settled:
                self.finish(unit)
            elif u.gate_seq is not None or u.reservations:
                self.check_reservations(unit, u)
        self.units.clear()
        return self.report


def audit_events(events: Iterable[tuple[int, Any]], spec: MarketSpec) -> AuditReport:
    """Recompute reservations and settlements of a log and check conservation, unit by unit.

    Args:
        events: ``(seq, event)`` pairs in log order (any iterable; read once).
        spec: the market rules the run used (its ``run_started`` record).

    Returns:
        The report; ``report.ok`` is true when nothing disagrees.
    """
    auditor = SettlementAuditor(spec)
    for seq, event in events:
        auditor.feed(seq, event)
    return auditor.close()
