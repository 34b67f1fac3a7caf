"""Realization and settlement of delivery units: the event-sourced settlement side of the market.

:class:`Settlement` is a projection plus two deciders. :meth:`Settlement.apply` folds the events
that matter to settlement (trades, gate closures, reservations, realizations, settled rows); the
deciders (:meth:`~Settlement.decide_realize`, :meth:`~Settlement.settle`) read that state and
return new events without changing anything, so replaying a log through ``apply`` rebuilds the
live state exactly. The arithmetic is :mod:`rexnet.settlement.floor_rule`, shared with the audit.

Decisions documented here (an auditor's expectations):

* **One realization per participant and unit.** ``Realize.qty`` is the *average* net injection
  over the whole unit, so two readings neither add up (averages of one period do not sum) nor
  should the later silently replace the earlier (the first may already have been acted on). A
  second ``realize`` of the same (agent, unit) is rejected with reason ``duplicate_realization``.
* **Order of the realization checks**: outside the delivery period, then already settled, then
  duplicate. The time check comes first so a realization at exactly ``delivery_end`` gets the same
  answer whether or not the clock has settled the unit yet.
* **Due units** are units with any trade, reservation or realization (a unit whose traders all
  netted to zero still settles their trade cash).
* **After a unit is settled** its state is dropped (memory stays bounded by the open units), and
  later trade/reservation/realization events for it are ignored: a valid log has none, and the
  audit reports them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from rexnet.domain.commands import Realize, Reason
from rexnet.domain.events import (
    GateClosed,
    OrderRejected,
    Realized,
    ReservationFixed,
    Settled,
    TradeExecuted,
)
from rexnet.domain.market import MarketSpec
from rexnet.settlement.floor_rule import settle_unit

#: Reason code of a second realization of the same (agent, unit) (a plain str, as recorded).
DUPLICATE_REALIZATION: str = Reason.DUPLICATE_REALIZATION.value


@dataclass
class _UnitState:
    """What settlement knows of one not-yet-settled unit."""

    trade_cash: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)
    realized: dict[str, int] = field(default_factory=dict)
    traded_volume: int = 0
    traded_notional: int = 0
    gate: tuple[int, int] | None = None  # (volume, notional) of gate_closed

    def active(self) -> bool:
        return bool(self.trade_cash or self.reserved or self.realized)


def _seconds(ms: int) -> str:
    whole, frac = divmod(ms, 1000)
    return f"{whole}s" if frac == 0 else f"{whole}.{frac:03d}".rstrip("0") + "s"


class Settlement:
    """Realizations and settlement of every delivery unit under the floor rule."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self._units: dict[int, _UnitState] = {}
        self._settled: set[int] = set()
        # Active units (any trade, reservation or realization), unsettled: a set plus a min-heap
        # with lazy deletion, so the clock's next_due_ms (asked before every command) is O(1)
        # amortized instead of a scan of every pending unit. A unit's state only gains entries
        # until it is settled, so a unit enters these once and leaves them once.
        self._active: set[int] = set()
        self._active_heap: list[int] = []

    # -- state changes -------------------------------------------------------------------------
    def apply(self, event: Any) -> None:
        """Fold one event (the only state mutator); event types settlement does not use are ignored."""
        handler = _APPLY.get(type(event))
        if handler is not None:
            handler(self, event)

    def _unit(self, unit: int) -> _UnitState | None:
        """State of ``unit``, created on demand; ``None`` once the unit is settled."""
        if unit in self._settled:
            return None
        state = self._units.get(unit)
        if state is None:
            state = self._units[unit] = _UnitState()
        return state

    def _apply_trade(self, ev: TradeExecuted) -> None:
        state = self._unit(ev.unit)
        if state is None:
            return
        self._activate(ev.unit)
        cash = ev.price * ev.qty
        state.trade_cash[ev.seller] = state.trade_cash.get(ev.seller, 0) + cash
        state.trade_cash[ev.buyer] = state.trade_cash.get(ev.buyer, 0) - cash
        state.traded_volume += ev.qty
        state.traded_notional += cash

    def _apply_gate(self, ev: GateClosed) -> None:
        # A gate without trades adds nothing (the fixed penalty price applies by default); keeping
        # it would leave state behind for units that never settle.
        if ev.volume == 0 and ev.unit not in self._units:
            return
        state = self._unit(ev.unit)
        if state is not None:
            state.gate = (ev.volume, ev.notional)

    def _apply_reservation(self, ev: ReservationFixed) -> None:
        state = self._unit(ev.unit)
        if state is not None:
            self._activate(ev.unit)
            state.reserved[ev.agent] = ev.qty

    def _apply_realized(self, ev: Realized) -> None:
        state = self._unit(ev.unit)
        if state is not None:
            # First one wins, as in decide_realize (a valid log has only one).
            self._activate(ev.unit)
            state.realized.setdefault(ev.agent, ev.qty)

    def _activate(self, unit: int) -> None:
        if unit not in self._active:
            self._active.add(unit)
            heapq.heappush(self._active_heap, unit)

    def _apply_settled(self, ev: Settled) -> None:
        self._settled.add(ev.unit)
        self._units.pop(ev.unit, None)
        self._active.discard(ev.unit)

    # -- realizations --------------------------------------------------------------------------
    def decide_realize(self, cmd: Realize) -> list[Any]:
        """``[Realized]``, or ``[OrderRejected]`` with ref ``realize:<unit>`` and a reason code."""
        start, end = self.spec.delivery_start_ms(cmd.unit), self.spec.delivery_end_ms(cmd.unit)
        if not start <= cmd.t < end:
            return [
                self._reject(
                    cmd,
                    Reason.OUTSIDE_DELIVERY.value,
                    f"realization at t={_seconds(cmd.t)} is outside the delivery period "
                    f"[{_seconds(start)}, {_seconds(end)}) of unit {cmd.unit}",
                )
            ]
        if cmd.unit in self._settled:
            return [self._reject(cmd, Reason.ALREADY_SETTLED.value, f"unit {cmd.unit} is already settled")]
        state = self._units.get(cmd.unit)
        if state is not None and cmd.agent in state.realized:
            return [
                self._reject(
                    cmd,
                    DUPLICATE_REALIZATION,
                    f"{cmd.agent} already realized unit {cmd.unit}: one realization per unit",
                )
            ]
        return [Realized(cmd.t, cmd.agent, cmd.unit, cmd.qty)]

    @staticmethod
    def _reject(cmd: Realize, reason: str, message: str) -> OrderRejected:
        return OrderRejected(cmd.t, f"realize:{cmd.unit}", cmd.agent, reason, message)

    def handle(self, cmd: Realize) -> list[Any]:
        """Decide and apply a realization; returns the events (already applied)."""
        events = self.decide_realize(cmd)
        for event in events:
            self.apply(event)
        return events

    # -- the clock -----------------------------------------------------------------------------
    def due_units(self, t_ms: int) -> list[int]:
        """Active, unsettled units whose delivery has ended by ``t_ms``, ascending."""
        end = self.spec.delivery_end_ms
        return sorted(u for u in self._active if end(u) <= t_ms)

    def next_due_ms(self) -> int | None:
        """When the next unit becomes due for settlement, or ``None`` when nothing is pending."""
        heap = self._active_heap
        while heap and heap[0] not in self._active:
            heapq.heappop(heap)  # settled since it was pushed
        return self.spec.delivery_end_ms(heap[0]) if heap else None

    def settle(self, unit: int, t_ms: int) -> list[Settled]:
        """The ``settled`` rows of ``unit`` at ``t_ms`` (pure: the caller applies them).

        Raises:
            ValueError: the unit is already settled or its delivery has not ended by ``t_ms``.
        """
        if unit in self._settled:
            raise ValueError(f"unit {unit} is already settled")
        if t_ms < self.spec.delivery_end_ms(unit):
            raise ValueError(f"unit {unit} cannot be settled at {t_ms} ms: delivery not ended")
        state = self._units.get(unit) or _UnitState()
        volume, notional = (
            state.gate if state.gate is not None else (state.traded_volume, state.traded_notional)
        )
        return settle_unit(
            self.spec,
            unit,
            t_ms,
            reserved=state.reserved,
            realized=state.realized,
            trade_cash=state.trade_cash,
            volume=volume,
            notional=notional,
        )

    def advance(self, t_ms: int) -> list[Any]:
        """Settle every due unit at ``t_ms`` (decide and apply), in unit order."""
        out: list[Any] = []
        for unit in self.due_units(t_ms):
            rows = self.settle(unit, t_ms)
            for row in rows:
                self.apply(row)
            out.extend(rows)
        return out

    # -- read-only views -----------------------------------------------------------------------
    def is_settled(self, unit: int) -> bool:
        return unit in self._settled

    def reservation(self, agent: str, unit: int) -> int:
        """Fixed reservation ``e`` of ``agent`` in an unsettled ``unit`` (0 if none)."""
        state = self._units.get(unit)
        return state.reserved.get(agent, 0) if state is not None else 0

    def realization(self, agent: str, unit: int) -> int | None:
        """Realization ``x`` of ``agent`` in an unsettled ``unit``, ``None`` if none yet."""
        state = self._units.get(unit)
        return state.realized.get(agent) if state is not None else None


_APPLY: dict[type, Any] = {
    TradeExecuted: Settlement._apply_trade,
    GateClosed: Settlement._apply_gate,
    ReservationFixed: Settlement._apply_reservation,
    Realized: Settlement._apply_realized,
    Settled: Settlement._apply_settled,
}
