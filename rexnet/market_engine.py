"""The market engine: the exchange and the settlement under one clock.

:class:`MarketEngine` is what drives a run, live or replayed. It routes order commands to the
:class:`~rexnet.exchange.Exchange` and realizations to the
:class:`~rexnet.settlement.Settlement`, merges their clock happenings (unit openings, gate
closures, settlements) in time order, and feeds every event it emits to *both* parts' ``apply``,
so each sees the whole history. Replaying a stored log through :meth:`apply` rebuilds exactly
the state the live engine had.

At equal times, exchange happenings (gate closures, then openings) come before settlements.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from rexnet.domain.commands import Realize, Reason, RefuseAtEdge
from rexnet.domain.events import SYSTEM_AGENT, OrderAccepted, OrderRejected, Realized
from rexnet.domain.market import MarketSpec
from rexnet.exchange import Exchange, new_exchange
from rexnet.settlement import Settlement

# (Final: compiled, C statics instead of a lookup in the module's dict at every event)
_ORDER_ACCEPTED: Final = OrderAccepted
_REALIZED: Final = Realized


class MarketEngine:
    """Exchange + settlement, decide/apply, with a merged clock."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.exchange: Exchange = new_exchange(spec)
        self.settlement = Settlement(spec)
        self.now_ms = 0
        #: highest unit that saw an order or a realization: the run must go on until it is settled
        self.last_active_unit: int | None = None

    # -- state changes -------------------------------------------------------------------------
    def apply(self, event: Any) -> None:
        """Fold one event into every part (the only way state changes, live or in replay)."""
        self.exchange.apply(event)
        self.settlement.apply(event)
        self._track(event)

    def _track(self, event: Any) -> None:
        t: int = event[0]  # (``t``, the first field of every record: indexing is cheaper than getattr)
        if t > self.now_ms:
            self.now_ms = t
        kind = type(event)
        if kind is _ORDER_ACCEPTED or kind is _REALIZED:
            if self.last_active_unit is None or event.unit > self.last_active_unit:
                self.last_active_unit = event.unit

    def _feed(self, events: list[Any], *, into: Any) -> list[Any]:
        """Events already applied by the part that decided them go to the other part."""
        for event in events:
            into.apply(event)
            self._track(event)
        return events

    # -- the clock -----------------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        """Time of the next clock happening of either part."""
        due = [d for d in (self.exchange.next_due_ms(), self.settlement.next_due_ms()) if d is not None]
        return min(due) if due else None

    def advance(self, t_ms: int) -> list[Any]:
        """Run every clock happening with time <= ``t_ms``, in time order."""
        if t_ms < self.now_ms:
            raise ValueError(f"time goes backwards: {t_ms} ms < {self.now_ms} ms")
        out: list[Any] = []
        while True:
            te = self.exchange.next_due_ms()
            ts = self.settlement.next_due_ms()
            if te is not None and te <= t_ms and (ts is None or te <= ts):
                out += self._feed(self.exchange.advance(te), into=self.settlement)
            elif ts is not None and ts <= t_ms:
                out += self._feed(self.settlement.advance(ts), into=self.exchange)
            else:
                break
        self.now_ms = max(self.now_ms, t_ms)
        return out

    def submit(self, command: Any) -> list[Any]:
        """Advance the clock to ``command.t``, then decide and apply the command."""
        out = self.advance(command.t)
        if command.agent == SYSTEM_AGENT:
            # the settlement's system account must never trade or realize
            ref = getattr(command, "ref", f"realize:{getattr(command, 'unit', '')}")
            command = RefuseAtEdge(
                command.t,
                command.agent,
                ref,
                Reason.RESERVED_AGENT.value,
                f"agent name {SYSTEM_AGENT!r} is reserved for the system account",
            )
        if isinstance(command, RefuseAtEdge):
            rejected = OrderRejected(
                command.t, command.ref, command.agent, str(command.reason), command.message
            )
            self.apply(rejected)
            out.append(rejected)
        elif isinstance(command, Realize):
            out += self._feed(self.settlement.handle(command), into=self.exchange)
        else:
            out += self._feed(self.exchange.handle(command), into=self.settlement)
        return out

    def drain_ms(self) -> int:
        """When the clock must reach for every active unit to be gate-closed and settled."""
        if self.last_active_unit is None:
            return self.now_ms
        return max(self.now_ms, self.spec.delivery_end_ms(self.last_active_unit))

    def finish(self) -> list[Any]:
        """Run the clock on until every unit with activity is settled (end of an order stream)."""
        return self.advance(self.drain_ms())

    def replay(self, events: Iterable[Any]) -> MarketEngine:
        """Fold a stored history into this engine; returns self."""
        for event in events:
            self.apply(event)
        return self

    # -- read-only views (for agents, the CLI and projections) ----------------------------------
    def best_bid(self, unit: int) -> int | None:
        return self.exchange.best_bid(unit)

    def best_ask(self, unit: int) -> int | None:
        return self.exchange.best_ask(unit)

    def open_units(self) -> list[int]:
        return self.exchange.open_units()

    def position(self, agent: str, unit: int) -> int:
        return self.exchange.position(agent, unit)

    def live_orders(self, agent: str) -> list[Any]:
        return self.exchange.live_orders(agent)

    def depth(self, unit: int) -> dict[str, Any]:
        return self.exchange.depth(unit)
