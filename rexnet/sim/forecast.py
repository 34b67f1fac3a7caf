"""Forecasts that improve with lead time: the martingale model of forecast evolution.

Follows Heath & Jackson (1994), "Modeling the evolution of demand forecasts" (MMFE): the
forecast of a quantity made ``L`` steps ahead is the prior (climatology) plus every *forecast
update* revealed so far; updates are independent, zero-mean, and what is left unrevealed at lead
``L`` has variance ``V(L)``, shrinking as delivery nears. Hence the forecast is a martingale in
lead time (E[forecast at L-1 | forecast at L] = forecast at L) and the realization is the last
forecast plus a final, unforecastable error.

Here one delivery unit's standardized noise ``Z`` is built from ``K + 1`` independent standard
normals ``z[0..K]``:

    Z = sqrt((1 - f) / K) * sum_{j<K} z[j]  +  sqrt(f) * z[K]        (Var Z = 1)

and update ``z[j]`` becomes known once the lead falls to ``j`` units or less, so ``V(L) =
f + (1 - f) * min(L, K) / K`` (equal-variance updates, the MMFE's simplest stationary case;
``f`` is the share of variance nobody can forecast). The ``z`` of a unit are drawn from their
own stream (agent or driver, unit), so they never depend on when or how often anyone asked.

A shared driver (all wind farms see the same weather) is a second such process keyed by the
driver's name; a client mixes it with its own: ``Z = sqrt(rho) Zc + sqrt(1 - rho) Zi``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from rexnet.sim.rng import STREAM_PROCESS, stream

_STD_NORMAL = NormalDist()


class Forecast(NamedTuple):
    """A forecast of one unit's net injection (meter units; generation positive).

    The quantity is ``clip(N(mean, std^2), lo, hi)``: the Gaussian of the MMFE clipped to the
    client's physical range. ``mean`` and ``std`` are those of the Gaussian before clipping.
    """

    mean: float
    std: float
    lo: float
    hi: float

    def quantile(self, q: float) -> int:
        """The ``q``-quantile in whole meter units (exact: clipping is monotone)."""
        if self.std <= 0.0:
            value = self.mean
        else:
            q = min(max(q, 1e-9), 1.0 - 1e-9)
            value = self.mean + self.std * _STD_NORMAL.inv_cdf(q)
        return round(min(max(value, self.lo), self.hi))

    @property
    def expected(self) -> float:
        """The Gaussian mean clipped to the range (a cheap point forecast)."""
        return min(max(self.mean, self.lo), self.hi)


class MartingaleNoise:
    """The standardized MMFE noise ``Z`` of one source (an agent or a shared driver).

    Args:
        run_seed: the run seed.
        name: agent id or driver label; with the unit it keys the draws.
        lead_units: ``K``, the lead (in delivery units) beyond which nothing is known yet.
        final_share: ``f``, the share of the variance only revealed by the realization.
    """

    def __init__(self, run_seed: int, name: str, *, lead_units: int, final_share: float) -> None:
        if lead_units < 1 or not 0.0 <= final_share <= 1.0:
            raise ValueError("lead_units must be >= 1 and final_share within [0, 1]")
        self.run_seed = run_seed
        self.name = name
        self.lead_units = lead_units
        self.final_share = final_share
        self._step = math.sqrt((1.0 - final_share) / lead_units)
        self._final = math.sqrt(final_share)

    def _draws(self, unit: int) -> np.ndarray:
        return _unit_draws(self.run_seed, self.name, unit, self.lead_units)

    def revealed(self, unit: int, lead: int) -> float:
        """The part of ``Z`` known at lead ``lead`` (units): the sum of the updates seen so far."""
        lead = min(max(lead, 0), self.lead_units)
        z = self._draws(unit)
        return self._step * float(np.sum(z[lead : self.lead_units]))

    def remaining_var(self, lead: int) -> float:
        """``V(lead)``: the variance of ``Z`` still unknown at that lead."""
        lead = min(max(lead, 0), self.lead_units)
        return self.final_share + (1.0 - self.final_share) * lead / self.lead_units

    def value(self, unit: int) -> float:
        """The realized ``Z`` of ``unit``."""
        return self.revealed(unit, 0) + self._final * float(self._draws(unit)[self.lead_units])


@lru_cache(maxsize=65536)
def _unit_draws(run_seed: int, name: str, unit: int, k: int) -> np.ndarray:
    # Cached because every wake-up re-reads the same unit; the array is never mutated.
    draws = stream(run_seed, name, STREAM_PROCESS, unit).standard_normal(k + 1)
    draws.setflags(write=False)
    return draws


def lead_units(unit_start_ms: int, t_ms: int, unit_ms: int) -> int:
    """Whole delivery units between ``t_ms`` and the start of delivery (ceiling, >= 0)."""
    return max(0, -((t_ms - unit_start_ms) // unit_ms))


class Shock(NamedTuple):
    """An external driver change: ``driver`` output of units ``first..last`` times ``factor``.

    Realizations always reflect it; forecasts made at ``t >= at_ms`` know it (the agents learn
    it through their forecasts only).
    """

    name: str
    driver: str
    first_unit: int
    last_unit: int
    factor: float
    at_ms: int

    def applies(self, driver: str, unit: int) -> bool:
        return driver == self.driver and self.first_unit <= unit <= self.last_unit


def shock_factor(shocks: tuple[Shock, ...], driver: str, unit: int, t_ms: int | None) -> float:
    """Product of the factors of the shocks known at ``t_ms`` (all of them when ``None``)."""
    factor = 1.0
    for shock in shocks:
        if shock.applies(driver, unit) and (t_ms is None or t_ms >= shock.at_ms):
            factor *= shock.factor
    return factor
