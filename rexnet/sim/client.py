"""Clients: what a prosumer has and needs (endowment, forecasts, realizations).

A prosumer is a client (this module and :mod:`rexnet.sim.device`) plus a broker
(:mod:`rexnet.sim.broker`). The client knows its physics and its economics; the broker knows
the market. They meet in :meth:`Client.plan`: given what the broker sees of the market
(:class:`Context`), the client says which reservation it would like for a unit (``target``) and
the prices beyond which trading would hurt it (``floor`` to sell, ``ceiling`` to buy).

This module holds the *uncontrollable* clients (wind, solar, household load): their net
injection is a stochastic process around an expected profile, forecast by the martingale model of
forecast evolution (:mod:`rexnet.sim.forecast`). The expected profile is a shared
:class:`~rexnet.sim.profiles.UnitShape` computed by the field's libraries (BDEW load profiles,
pvlib, windpowerlib; see :mod:`rexnet.sim.profiles`), or, without one, the stylized daily shapes
below. Their target is the newsvendor quantile of
the forecast (see :func:`rexnet.sim.broker.critical_fractile`).

Quantities are meter units (floats inside the models, whole meter units at the edges), prices
ticks, times ms: the integer units of :mod:`rexnet.domain.market`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache, lru_cache
from typing import NamedTuple

from rexnet.domain.market import MarketSpec
from rexnet.sim.forecast import Forecast, MartingaleNoise, Shock, lead_units, shared_noise, shock_factor
from rexnet.sim.profiles import UnitShape


class Context(NamedTuple):
    """What a broker passes to :meth:`Client.plan` about one unit at one time.

    Attributes:
        t_ms: now.
        price: the broker's expected price of the unit (ticks).
        ref_price: the broker's estimate of the general price level (ticks).
        q: the critical fractile for the unit (see ``broker.critical_fractile``).
        penalty: expected shortfall price (ticks).
        surplus: surplus price (ticks).
        position: this agent's current position (sold - bought, meter units) in any unit.
        resting: this agent's resting (sell, buy) quantity in any unit (meter units).
    """

    t_ms: int
    price: float
    ref_price: float
    q: float
    penalty: float
    surplus: int
    position: Callable[[int], int]
    resting: Callable[[int], tuple[int, int]] = lambda unit: (0, 0)


class Plan(NamedTuple):
    """A client's wish for one unit: reach ``target``; sell at >= ``floor``, buy at <= ``ceiling``."""

    target: int
    floor: int
    ceiling: int


class Client:
    """Base of every client.

    Attributes:
        agent: the agent id.
        kind: the population kind (``"wind"``, ``"storage"``, ...).
        driver: the external driver the client's output follows (shocks target it), or ``None``.
    """

    kind = "client"
    driver: str | None = None
    #: whether a broker rounds a purchase up to whole lots (safe for uncontrollable consumption:
    #: reserving more consumption never breaks the floor) or down (controllable clients)
    round_buys_up = False

    def __init__(self, agent: str, spec: MarketSpec) -> None:
        self.agent = agent
        self.spec = spec
        self._reserved: dict[int, int] = {}

    def forecast(self, unit: int, t_ms: int) -> Forecast:
        """The distribution of the unit's net injection as known at ``t_ms``."""
        raise NotImplementedError

    def realize(self, unit: int, *, reserved: int = 0) -> int:
        """The unit's measured net injection (meter units); called once per unit, in unit order."""
        raise NotImplementedError

    def plan(self, unit: int, ctx: Context) -> Plan:
        """The reservation this client wants for ``unit`` and its price limits."""
        raise NotImplementedError

    def trades(self, unit: int) -> bool:
        """Whether the client has any interest in ``unit`` (a solar panel at night has none)."""
        return True


def hour_of_day(spec: MarketSpec, unit: int) -> float:
    """Hour of day (0..24) at the middle of ``unit``'s delivery period; unit 0 starts at midnight."""
    return _hour(spec.unit_seconds, unit)


def _hour(unit_seconds: int, unit: int) -> float:
    mid_s = unit * unit_seconds + unit_seconds / 2
    return (mid_s % 86400) / 3600.0


def clear_sky(hour: float, *, sunrise: float = 6.0, sunset: float = 18.0) -> float:
    """Clear-sky solar output share: a half sine between sunrise and sunset, exactly 0 at night."""
    if hour <= sunrise or hour >= sunset:
        return 0.0
    return math.sin(math.pi * (hour - sunrise) / (sunset - sunrise))


def _raw_load(hour: float) -> float:
    # A standard residential shape: base load, a morning and a (larger) evening peak.
    return 0.6 + 0.5 * math.exp(-(((hour - 7.5) / 1.5) ** 2)) + 0.9 * math.exp(-(((hour - 19.0) / 2.0) ** 2))


_LOAD_MEAN = sum(_raw_load((i + 0.5) / 4) for i in range(96)) / 96


def load_shape(hour: float) -> float:
    """Household load shape, normalized to a daily mean of 1."""
    return _raw_load(hour) / _LOAD_MEAN


# The daily shapes per unit, cached: every wake-up of every client asks them for the open units.
@lru_cache(maxsize=4096)
def _clear_sky_at(unit_seconds: int, unit: int) -> float:
    return clear_sky(_hour(unit_seconds, unit))


@lru_cache(maxsize=4096)
def _load_shape_at(unit_seconds: int, unit: int) -> float:
    return load_shape(_hour(unit_seconds, unit))


class StochasticClient(Client):
    """Uncontrollable net injection ``x = scale(u) * factor * clip(level(u) + sigma * Z, lo, hi)``.

    ``Z`` mixes the shared driver's MMFE noise and the client's own (correlation ``rho``), so a
    forecast ``L`` units ahead is Gaussian with mean ``scale * factor * (level + sigma *
    revealed(L))`` and std ``|scale| * factor * sigma * sqrt(V(L))``, clipped to the range.
    ``factor`` is the product of the shocks on the driver known at the forecast's time.
    Subclasses give ``scale`` (meter units, negative for consumption) and ``level``.
    """

    lo_frac = 0.0
    hi_frac = 1.0
    round_buys_up = True

    def __init__(
        self,
        agent: str,
        spec: MarketSpec,
        run_seed: int,
        *,
        sigma: float,
        rho: float,
        lead: int,
        final_share: float,
        shocks: tuple[Shock, ...] = (),
    ) -> None:
        super().__init__(agent, spec)
        assert self.driver is not None
        self.sigma = sigma
        self.shocks = shocks
        self._w_common = math.sqrt(rho)
        self._w_own = math.sqrt(1.0 - rho)
        self._own = MartingaleNoise(run_seed, agent, lead_units=lead, final_share=final_share)
        self._common = shared_noise(
            run_seed, "driver:" + self.driver, lead_units=lead, final_share=final_share
        )
        self._realized: dict[int, int] = {}

    def scale(self, unit: int) -> float:
        raise NotImplementedError

    def level(self, unit: int) -> float:
        raise NotImplementedError

    def trades(self, unit: int) -> bool:
        return self.scale(unit) != 0.0

    def forecast(self, unit: int, t_ms: int) -> Forecast:
        lead = lead_units(self.spec.delivery_start_ms(unit), t_ms, self.spec.unit_ms)
        k = self.scale(unit)
        if self.shocks:
            k *= shock_factor(self.shocks, self.driver or "", unit, t_ms)
        revealed = self._w_common * self._common.revealed(unit, lead) + self._w_own * self._own.revealed(
            unit, lead
        )
        # Both components share V(L), so the mix keeps variance V(L).
        std = abs(k) * self.sigma * self._own.remaining_std(lead)
        a, b = (k * self.lo_frac, k * self.hi_frac) if k >= 0.0 else (k * self.hi_frac, k * self.lo_frac)
        return Forecast(k * (self.level(unit) + self.sigma * revealed), std, a, b)

    def realize(self, unit: int, *, reserved: int = 0) -> int:
        if unit not in self._realized:
            z = self._w_common * self._common.value(unit) + self._w_own * self._own.value(unit)
            frac = min(max(self.level(unit) + self.sigma * z, self.lo_frac), self.hi_frac)
            k = self.scale(unit) * shock_factor(self.shocks, self.driver or "", unit, None)
            self._realized[unit] = round(k * frac)
        return self._realized[unit]

    def plan(self, unit: int, ctx: Context) -> Plan:
        # Newsvendor: reserve the q-quantile of x; sell at anything better than dumping the
        # surplus, buy at anything cheaper than the expected shortfall penalty.
        target = self.forecast(unit, ctx.t_ms).quantile(ctx.q)
        return Plan(target, max(1, ctx.surplus), max(1, math.floor(ctx.penalty)))


class Wind(StochasticClient):
    """Wind generation: capacity x capacity factor, from a turbine's power curve (``shape``) or
    stylized: ``mean_cf`` with a mild night-time maximum."""

    kind = "wind"
    driver = "wind"

    def __init__(
        self,
        agent: str,
        spec: MarketSpec,
        run_seed: int,
        *,
        capacity: float,
        mean_cf: float = 0.35,
        shape: UnitShape | None = None,
        **kw,
    ) -> None:
        self.capacity = capacity
        self.mean_cf = mean_cf
        self.shape = shape
        super().__init__(agent, spec, run_seed, **kw)

    def scale(self, unit: int) -> float:
        return self.capacity

    def level(self, unit: int) -> float:
        if self.shape is not None:
            return self.shape.at(unit)
        return _wind_level(self.mean_cf, hour_of_day(self.spec, unit))


@cache
def _wind_level(mean_cf: float, hour: float) -> float:
    return mean_cf * (1.0 + 0.15 * math.cos(2.0 * math.pi * (hour - 3.0) / 24.0))


class Solar(StochasticClient):
    """Solar generation: capacity x clear-sky output per kWp (pvlib ``shape``, or stylized) x
    clearness (cloud noise); 0 at night."""

    kind = "solar"
    driver = "solar"

    def __init__(
        self,
        agent: str,
        spec: MarketSpec,
        run_seed: int,
        *,
        capacity: float,
        clearness: float,
        shape: UnitShape | None = None,
        **kw,
    ) -> None:
        self.capacity = capacity
        self.clearness = clearness
        self.shape = shape
        super().__init__(agent, spec, run_seed, **kw)

    def scale(self, unit: int) -> float:
        if self.shape is not None:
            return self.capacity * self.shape.at(unit)
        return self.capacity * _clear_sky_at(self.spec.unit_seconds, unit)

    def level(self, unit: int) -> float:
        return self.clearness


class Household(StochasticClient):
    """Household base load: ``mean`` x load shape x (1 + noise), as negative net injection.

    The shape has a mean of 1 over a year (BDEW ``shape``) or a day (stylized).
    """

    kind = "household"
    driver = "load"
    hi_frac = 3.0

    def __init__(
        self,
        agent: str,
        spec: MarketSpec,
        run_seed: int,
        *,
        mean: float,
        shape: UnitShape | None = None,
        **kw,
    ) -> None:
        self.mean = mean
        self.shape = shape
        super().__init__(agent, spec, run_seed, **kw)

    def scale(self, unit: int) -> float:
        if self.shape is not None:
            return -self.mean * self.shape.at(unit)
        return -self.mean * _load_shape_at(self.spec.unit_seconds, unit)

    def level(self, unit: int) -> float:
        return 1.0
