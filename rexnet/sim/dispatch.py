"""The dispatchable generator's broker: a flexible seller that follows the market.

A dispatchable unit (a :class:`~rexnet.sim.device.Dispatchable` client) can produce anything
between its ramp limits, and produces exactly its net reservation. Its broker therefore keeps
two resting orders in every open unit it can serve, both at its marginal cost ``c``:

* an **offer** of its ramp-feasible spare capacity at ``c`` (the competitive supplier of the
  textbook: it sells whenever the price covers its cost, and never below);
* a **buy-back bid** of what it has sold so far at ``c - buyback`` ticks: any energy offered
  below its own cost before the gate replaces its output (buying back at ``p < c`` saves
  ``c - p`` of fuel), so cheaper renewable energy displaces it in the order of merit, and the
  bid side of the book is never empty while a dispatchable unit is scheduled.

Its output is then its *net* reserved position, not its capacity. This is the behaviour of a
price-taking thermal unit on an intraday market (e.g. Kiesel & Paraschiv 2017, "Econometric
analysis of 15-minute intraday electricity prices", Energy Economics 64, on thermal units
trading forecast errors of renewables; the merit-order effect of Sensfuß, Ragwitz & Genoese
2008, Energy Policy 36). Orders are only replaced when their price or quantity changes, so a
quiet book costs no commands.
"""

from __future__ import annotations

from typing import Any

from rexnet.domain.commands import PlaceLimit, Shrink
from rexnet.sim.broker import Broker


class DispatchBroker(Broker):
    """Offer spare capacity at marginal cost, bid to buy back sold output below it.

    Args (besides :class:`Broker`'s):
        buyback: ticks below the marginal cost of the buy-back bid (>= 1: the two own orders
            never cross).
    """

    def __init__(self, *args: Any, buyback: int = 1, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.buyback = max(1, buyback)

    def act(self, t_ms: int, next_ms: int) -> None:
        client: Any = self.client
        cost, ramp, cap, lot = client.cost, client.ramp, client.hi, self.spec.lot_units
        for unit in self.eligible_units():
            pos = self._position(unit)
            prev = self._position(unit - 1)
            after = self._position(unit + 1)
            self.last_target[unit] = pos
            # the output this unit may have, within ramp of both neighbours' reservations
            reach = min(cap, prev + ramp)
            floor = max(0.0, prev - ramp, after - ramp)
            sell = int(max(0.0, reach - pos)) // lot * lot
            buy = int(max(0.0, pos - floor)) // lot * lot
            self._keep(unit, t_ms, "sell", min(cost, self.spec.max_price_ticks), sell)
            self._keep(unit, t_ms, "buy", max(cost - self.buyback, self.spec.min_price_ticks), buy)

    def _keep(self, unit: int, t_ms: int, side: str, price: int, qty: int) -> None:
        """Make this side's resting order in ``unit`` exactly ``qty`` at ``price``."""
        mine = [o for o in self.live_in(unit) if o.side == side]
        if len(mine) == 1 and mine[0].price == price:
            if mine[0].remaining == qty:
                return
            if 0 < qty < mine[0].remaining:  # shrinking keeps the queue position
                self.submit(Shrink(t_ms, self.agent, mine[0].ref, qty))
                return
        self.cancel_all(t_ms, mine)
        if qty > 0:
            self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))
