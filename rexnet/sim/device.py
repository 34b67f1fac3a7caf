"""Controllable clients: dispatchable generation, storage, responsive demand, ZI endowments.

These clients choose their net injection, so the floor rule ``x >= e`` is met by *following the
reservation*: each realizes what it reserved, within its physical limits. Their ``forecast`` is
therefore certain (std 0) and equals the reservation once it is known.

* :class:`CostSeller` / :class:`Dispatchable`: a generator with capacity and marginal cost
  (and, for the dispatchable one, a ramp limit between consecutive units). It offers all its
  (ramp-feasible) capacity and never sells below marginal cost: the textbook competitive
  supplier.
* :class:`Storage`: a battery (energy capacity, power limit, round-trip efficiency split evenly
  into charge and discharge); a temporal arbitrager that sells in units expected dearer than the
  price level and buys in cheaper ones, with a price band wide enough to cover its losses, and
  only in amounts its projected state of charge can serve.
* :class:`FlexibleLoad`: responsive demand (Paper: "flexible energy need over a window"): needs
  ``need`` energy each day within ``[start_hour, end_hour)``, at most ``max_power``, and pays at
  most its willingness to pay. It spreads the unmet need over the window's remaining units, so
  it concentrates its buying as the window runs out.
* :class:`ValueBuyer`: the Gode & Sunder (1993) buyer endowment: wants up to ``max_power`` in
  every unit, valued at ``value``, or a stepped schedule of values (G&S's traders hold several
  units with different redemption values and trade them in order, dearest first); the cost
  seller likewise holds a schedule of costs, cheapest first.
"""

from __future__ import annotations

import math

from rexnet.domain.market import MarketSpec
from rexnet.sim.client import Client, Context, Plan, hour_of_day
from rexnet.sim.forecast import Forecast


class _Follower(Client):
    """A client that realizes its reservation clipped to ``[lo, hi]``."""

    lo = 0.0
    hi = 0.0

    def forecast(self, unit: int, t_ms: int) -> Forecast:
        planned = float(min(max(self._reserved.get(unit, 0), self.lo), self.hi))
        return Forecast(planned, 0.0, self.lo, self.hi)

    def realize(self, unit: int, *, reserved: int = 0) -> int:
        self._reserved[unit] = reserved
        return round(min(max(reserved, self.lo), self.hi))


Steps = tuple[tuple[int, int], ...]


def current_step(steps: Steps, traded: int) -> tuple[int, int]:
    """``(price, end)`` of the step of a schedule ``((price, qty), ...)`` that ``traded`` units
    have reached: its price and the cumulative quantity at its end (the last step once all is
    traded)."""
    end = 0
    for price, qty in steps:
        end += qty
        if traded < end:
            return price, end
    return steps[-1][0], end


class CostSeller(_Follower):
    """A generator with capacity ``capacity`` (meter units) and marginal cost ``cost`` (ticks),
    or a stepped schedule ``steps`` of ``(cost, qty)`` sold in order (its ``cost`` is the first
    step's)."""

    kind = "zi_seller"

    def __init__(
        self, agent: str, spec: MarketSpec, *, capacity: float, cost: int, steps: Steps | None = None
    ) -> None:
        super().__init__(agent, spec)
        self.hi = float(math.floor(capacity))
        self.cost = max(1, cost)
        #: the schedule ``((cost, qty), ...)``; ``None``: one step, all capacity at ``cost``
        self.steps: Steps | None = None
        if steps:
            self.steps = tuple((max(1, c), q) for c, q in steps)
            self.cost = self.steps[0][0]
            self.hi = float(sum(q for _, q in self.steps))

    def schedule(self) -> Steps:
        """``((cost, qty), ...)`` in selling order."""
        return self.steps or ((self.cost, int(self.hi)),)

    def plan(self, unit: int, ctx: Context) -> Plan:
        if self.steps is None:
            return Plan(int(self.hi), self.cost, self.cost)
        # one step at a time, at its own cost: the next step only once this one is sold
        cost, end = current_step(self.steps, max(0, ctx.position(unit)))
        return Plan(end, cost, cost)


class Dispatchable(CostSeller):
    """A dispatchable generator with ramp limit ``ramp`` (meter units per unit, up or down).

    It plans at most ``position(u - 1) + ramp`` for unit ``u`` (it starts offline), so what it
    sells is reachable; it realizes its reservation exactly when that is within capacity and
    within ``ramp`` of the previous unit's output, else the nearest feasible output.
    """

    kind = "dispatchable"

    def __init__(self, agent: str, spec: MarketSpec, *, capacity: float, cost: int, ramp: float) -> None:
        super().__init__(agent, spec, capacity=capacity, cost=cost)
        self.ramp = float(math.floor(ramp))
        self._output: dict[int, int] = {}

    def plan(self, unit: int, ctx: Context) -> Plan:
        reachable = min(self.hi, ctx.position(unit - 1) + self.ramp)
        return Plan(int(reachable), self.cost, self.cost)

    def realize(self, unit: int, *, reserved: int = 0) -> int:
        self._reserved[unit] = reserved
        prev = self._output.get(unit - 1, 0)
        x = min(max(reserved, 0.0, prev - self.ramp), self.hi, prev + self.ramp)
        self._output[unit] = round(x)
        return self._output[unit]


class ValueBuyer(_Follower):
    """A consumer of up to ``max_power`` (meter units) in any unit, valued at ``value`` (ticks),
    or a stepped schedule ``steps`` of ``(value, qty)`` bought in order (its ``value`` is the
    first step's)."""

    kind = "zi_buyer"

    def __init__(
        self, agent: str, spec: MarketSpec, *, max_power: float, value: int, steps: Steps | None = None
    ) -> None:
        super().__init__(agent, spec)
        self.lo = -float(math.floor(max_power))
        self.value = max(1, value)
        #: the schedule ``((value, qty), ...)``; ``None``: one step, all of ``max_power``
        self.steps: Steps | None = None
        if steps:
            self.steps = tuple((max(1, v), q) for v, q in steps)
            self.value = self.steps[0][0]
            self.lo = -float(sum(q for _, q in self.steps))

    def schedule(self) -> Steps:
        """``((value, qty), ...)`` in buying order."""
        return self.steps or ((self.value, -int(self.lo)),)

    def plan(self, unit: int, ctx: Context) -> Plan:
        if self.steps is None:
            return Plan(int(self.lo), self.value, self.value)
        value, end = current_step(self.steps, max(0, -ctx.position(unit)))
        return Plan(-end, value, value)


class FlexibleLoad(ValueBuyer):
    """Responsive demand: ``need`` (meter units x units of energy) per day within a window."""

    kind = "flexible"

    def __init__(
        self,
        agent: str,
        spec: MarketSpec,
        *,
        need: float,
        start_hour: float,
        end_hour: float,
        max_power: float,
        value: int,
    ) -> None:
        super().__init__(agent, spec, max_power=max_power, value=value)
        self.need = need
        self.start_hour = start_hour
        self.end_hour = end_hour
        # (first unit of a day, start_hour, end_hour) -> that day's window; keyed by the hours too
        # since a fork may change them mid-run (rexnet.sim.change)
        self._windows: dict[tuple[int, float, float], tuple[int, ...]] = {}

    def trades(self, unit: int) -> bool:
        return self.start_hour <= hour_of_day(self.spec, unit) < self.end_hour

    def window(self, unit: int) -> list[int]:
        """The units of ``unit``'s day inside the window."""
        return list(self._window(unit))

    def _window(self, unit: int) -> tuple[int, ...]:
        per_day = 86400 // self.spec.unit_seconds
        first = (unit * self.spec.unit_seconds // 86400) * per_day
        key = (first, self.start_hour, self.end_hour)
        units = self._windows.get(key)
        if units is None:
            if len(self._windows) >= 2:  # a run moves on day by day
                self._windows.clear()
            units = self._windows[key] = tuple(v for v in range(first, first + per_day) if self.trades(v))
        return units

    def plan(self, unit: int, ctx: Context) -> Plan:
        units = self._window(unit)
        t_ms, opens_at = ctx.t_ms, self.spec.opens_at_ms
        # units not open yet hold no position: only the window's past and open units count
        bought = -sum(ctx.position(v) for v in units if opens_at(v) <= t_ms)
        remaining = max(0.0, self.need - bought)
        left = [v for v in units if self.spec.gate_ms(v) > t_ms]
        share = remaining / len(left) if left else 0.0
        consume = min(-self.lo, -ctx.position(unit) + math.ceil(share))
        return Plan(-int(consume), self.value, self.value)


class Storage(Client):
    """A battery: ``energy`` capacity (meter units x units), ``power`` limit, round-trip ``efficiency``.

    State of charge is in meter units x units (the energy of one meter unit over one delivery
    unit). Charging ``c`` stores ``c * sqrt(efficiency)``; discharging ``d`` takes
    ``d / sqrt(efficiency)``. Realizations must come in unit order.
    """

    kind = "storage"

    def __init__(
        self,
        agent: str,
        spec: MarketSpec,
        *,
        energy: float,
        power: float,
        efficiency: float,
        soc: float,
        band: float,
    ) -> None:
        super().__init__(agent, spec)
        self.energy = energy
        self.power = float(math.floor(power))
        self.eta = math.sqrt(efficiency)
        self.soc = soc * energy
        # Buying at ref*(1-b) and selling at ref*(1+b) pays for the losses iff (1+b)*eff >= 1-b.
        self.band = max(band, (1.0 - efficiency) / (1.0 + efficiency))
        self._next_unit: int | None = None

    def forecast(self, unit: int, t_ms: int) -> Forecast:
        return Forecast(float(self._reserved.get(unit, 0)), 0.0, -self.power, self.power)

    def _step(self, soc: float, x: float) -> float:
        return soc - x / self.eta if x > 0 else soc - x * self.eta

    def realize(self, unit: int, *, reserved: int = 0) -> int:
        self._reserved[unit] = reserved
        if reserved > 0:
            x = math.floor(min(reserved, self.power, self.soc * self.eta))
        else:
            x = -math.floor(min(-reserved, self.power, (self.energy - self.soc) / self.eta))
        self.soc = min(max(self._step(self.soc, x), 0.0), self.energy)  # clamp float dust only
        self._next_unit = unit + 1
        return x

    def headroom(self, unit: int, ctx: Context) -> tuple[float, float]:
        """Extra (discharge, charge) power that ``unit`` can take without breaking any later unit.

        Projects the state of charge through every unit not yet realized, twice: for discharging
        as if every other resting sell filled and no resting buy did (the lowest states), for
        charging the reverse. An extra discharge in ``unit`` lowers every later state by the
        same energy, so it is bounded by the lowest of them (symmetrically for charging). The
        unit's own resting orders are left out: the broker replaces them.
        """
        start = self._next_unit if self._next_unit is not None else self.spec.unit_of(ctx.t_ms)
        last = max(self.spec.unit_of(ctx.t_ms) + self.spec.horizon + 1, unit)
        low = high = self.soc
        lowest, highest = math.inf, -math.inf
        for v in range(start, last + 1):
            pos = ctx.position(v)
            sell, buy = (0, 0) if v == unit else ctx.resting(v)
            low = self._project(low, pos + sell)
            high = self._project(high, pos - buy)
            if v >= unit:
                lowest, highest = min(lowest, low), max(highest, high)
        pos = ctx.position(unit)
        discharge = min(self.power - pos, lowest * self.eta)
        charge = min(self.power + pos, (self.energy - highest) / self.eta)
        return max(0.0, discharge), max(0.0, charge)

    def _project(self, soc: float, reserved: int) -> float:
        """State after a unit with reservation ``reserved``, as :meth:`realize` would leave it."""
        if reserved > 0:
            return soc - min(reserved, self.power, soc * self.eta) / self.eta
        return soc + min(-reserved, self.power, (self.energy - soc) / self.eta) * self.eta

    def plan(self, unit: int, ctx: Context) -> Plan:
        floor = max(1, math.ceil(ctx.ref_price * (1.0 + self.band)))
        ceiling = max(1, math.floor(ctx.ref_price * (1.0 - self.band)))
        discharge, charge = self.headroom(unit, ctx)
        pos = ctx.position(unit)
        if ctx.price >= ctx.ref_price:
            return Plan(pos + math.floor(discharge), floor, ceiling)
        return Plan(pos - math.floor(charge), floor, ceiling)
