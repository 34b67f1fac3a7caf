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
``f`` is the share of variance nobody can forecast). The ``z`` of a unit are drawn from the
stream of its *block* of :data:`BLOCK_UNITS` consecutive units (agent or driver, block; row
``unit mod BLOCK_UNITS`` of one ``BLOCK_UNITS x (K + 1)`` draw), so they never depend on when or
how often anyone asked, and one generator serves a block instead of one per unit (building a
generator costs far more than drawing from it). A block's forecast table (``revealed`` at every
lead, and the realized ``Z``) is computed once, vectorized, and read by index afterwards.

A shared driver (all wind farms see the same weather) is a second such process keyed by the
driver's name; a client mixes it with its own: ``Z = sqrt(rho) Zc + sqrt(1 - rho) Zi``.
"""

from __future__ import annotations

import math
from array import array
from functools import lru_cache
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from rexnet.sim.rng import STREAM_PROCESS, stream

_STD_NORMAL = NormalDist()
# Brokers ask the same fractiles again and again (prices move on a tick grid): cache the inverse.
_inv_cdf = lru_cache(maxsize=8192)(_STD_NORMAL.inv_cdf)

#: consecutive delivery units whose MMFE draws come from one generator
BLOCK_UNITS = 16


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
            value = self.mean + self.std * _inv_cdf(q)
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
        self._std = tuple(math.sqrt(self.remaining_var(lead)) for lead in range(lead_units + 1))
        # block -> its table (see _block_table); blocks wholly before the last realized unit are
        # dropped (realizations come in unit order), so at most a few blocks are held.
        self._tables: dict[int, array] = {}
        self._realized_block = 0

    def _table(self, block: int) -> array:
        table = self._tables.get(block)
        if table is None:
            table = self._tables[block] = _block_table(
                self.run_seed, self.name, block, self.lead_units, self._step, self._final
            )
        return table

    def revealed(self, unit: int, lead: int) -> float:
        """The part of ``Z`` known at lead ``lead`` (units): the sum of the updates seen so far."""
        k = self.lead_units
        if lead >= k:
            return 0.0  # nothing revealed yet
        block, row = divmod(unit, BLOCK_UNITS)
        table = self._tables.get(block) or self._table(block)
        return table[row * (k + 1) + max(lead, 0)]

    def remaining_var(self, lead: int) -> float:
        """``V(lead)``: the variance of ``Z`` still unknown at that lead."""
        lead = min(max(lead, 0), self.lead_units)
        return self.final_share + (1.0 - self.final_share) * lead / self.lead_units

    def remaining_std(self, lead: int) -> float:
        """``sqrt(V(lead))``."""
        return self._std[min(max(lead, 0), self.lead_units)]

    def value(self, unit: int) -> float:
        """The realized ``Z`` of ``unit``."""
        block, row = divmod(unit, BLOCK_UNITS)
        if block > self._realized_block:
            self._realized_block = block
            for old in [b for b in self._tables if b < block]:
                del self._tables[old]
        k = self.lead_units
        return self._table(block)[row * (k + 1) + k]


def _block_table(run_seed: int, name: str, block: int, k: int, step: float, final: float) -> array:
    """Row ``r`` (unit ``block * BLOCK_UNITS + r``), flattened: ``revealed`` at leads ``0..K-1``
    then the realized ``Z``; built from one ``BLOCK_UNITS x (K + 1)`` standard normal draw."""
    z = stream(run_seed, name, STREAM_PROCESS, block).standard_normal((BLOCK_UNITS, k + 1))
    table = np.empty_like(z)
    # revealed(L) = step * (z[L] + ... + z[K-1]): suffix sums, as a cumsum of the reversed updates
    table[:, :k] = step * np.cumsum(z[:, k - 1 :: -1], axis=1)[:, ::-1]
    table[:, k] = table[:, 0] + final * z[:, k]
    return array("d", table.tobytes())


@lru_cache(maxsize=256)
def shared_noise(run_seed: int, name: str, *, lead_units: int, final_share: float) -> MartingaleNoise:
    """One :class:`MartingaleNoise` per shared driver and parameters, so that the clients that
    follow a driver share its tables instead of each holding a copy (values are the same)."""
    return MartingaleNoise(run_seed, name, lead_units=lead_units, final_share=final_share)


def lead_units(unit_start_ms: int, t_ms: int, unit_ms: int) -> int:
    """Whole delivery units between ``t_ms`` and the start of delivery (ceiling, >= 0)."""
    return max(0, -((t_ms - unit_start_ms) // unit_ms))


class Shock(NamedTuple):
    """An external driver change: ``driver`` output of units ``first..last`` times ``factor``.

    Realizations always reflect it; forecasts learn it through :meth:`known_ms` (the agents learn
    it through their forecasts only). Two ways to say when it becomes known:

    * ``notice_ms`` (not ``None``): each affected unit's change is known ``notice_ms`` before
      that unit's delivery starts; ``0`` is a sudden shock, discovered only at realization (the
      gate of a unit is at or before its delivery start, so nobody trades on it). ``at_ms`` is
      then the first instant anything is known (``known_ms(first_unit)``).
    * ``notice_ms = None``: announced at ``at_ms`` for every affected unit at once.
    """

    name: str
    driver: str
    first_unit: int
    last_unit: int
    factor: float
    at_ms: int
    notice_ms: int | None = None
    unit_ms: int = 0

    @classmethod
    def with_notice(
        cls,
        name: str,
        driver: str,
        first_unit: int,
        last_unit: int,
        factor: float,
        *,
        notice_ms: int,
        unit_ms: int,
    ) -> Shock:
        """A shock known ``notice_ms`` before each affected unit's delivery (0: sudden)."""
        at_ms = max(0, first_unit * unit_ms - notice_ms)
        return cls(name, driver, first_unit, last_unit, factor, at_ms, notice_ms, unit_ms)

    def applies(self, driver: str, unit: int) -> bool:
        return driver == self.driver and self.first_unit <= unit <= self.last_unit

    def known_ms(self, unit: int) -> int:
        """From when forecasts of ``unit`` know the shock."""
        if self.notice_ms is None:
            return self.at_ms
        return unit * self.unit_ms - self.notice_ms


def shock_factor(shocks: tuple[Shock, ...], driver: str, unit: int, t_ms: int | None) -> float:
    """Product of the factors of the shocks known at ``t_ms`` (all of them when ``None``)."""
    factor = 1.0
    for shock in shocks:
        if shock.applies(driver, unit) and (t_ms is None or t_ms >= shock.known_ms(unit)):
            factor *= shock.factor
    return factor
