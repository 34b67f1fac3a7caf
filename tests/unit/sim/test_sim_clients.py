"""Each client behaves as its docstring says, in small deterministic cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rexnet.domain.market import MarketSpec
from rexnet.sim.client import Context, Household, Solar, Wind, hour_of_day
from rexnet.sim.device import Dispatchable, FlexibleLoad, Storage
from rexnet.sim.forecast import Forecast, Shock

SPEC = MarketSpec()
U = SPEC.unit_ms
MMFE = dict(sigma=0.1, rho=0.5, lead=8, final_share=0.1)


def wind(**kw) -> Wind:
    args = dict(MMFE, **kw)
    return Wind("wind-001", SPEC, 11, capacity=10_000.0, mean_cf=0.5, **args)


def test_forecast_variance_shrinks_with_lead_time():
    w = wind()
    unit = 50
    stds = [w.forecast(unit, SPEC.delivery_start_ms(unit) - lead * U).std for lead in range(12, -1, -1)]
    assert all(a >= b for a, b in zip(stds, stds[1:], strict=False))
    assert stds[0] == pytest.approx(10_000 * 0.1)  # beyond K: the whole (climatological) variance
    assert stds[-1] == pytest.approx(10_000 * 0.1 * math.sqrt(0.1))  # only the final share is left
    # within one lead step nothing new is learned
    t0 = SPEC.delivery_start_ms(unit) - 3 * U
    assert w.forecast(unit, t0 + 1) == w.forecast(unit, t0 + U - 1)


def test_forecast_mean_is_a_martingale_on_average():
    """E[F(L-1) - F(L)] = 0 and Var[F(L-1) - F(L)] = Var(L) - Var(L-1); errors match the stds."""
    w = wind()
    units = range(1000, 3000)
    steps, errors, z = [], [], []
    for u in units:
        start = SPEC.delivery_start_ms(u)
        f5, f4 = w.forecast(u, start - 5 * U), w.forecast(u, start - 4 * U)
        steps.append(f4.mean - f5.mean)
        err = w.realize(u) - f5.mean
        errors.append(err)
        z.append(err / f5.std)
    steps_a = np.array(steps)
    sd_step = 10_000 * 0.1 * math.sqrt(0.9 / 8)
    assert abs(steps_a.mean()) < 4 * sd_step / math.sqrt(len(steps))
    assert steps_a.std() == pytest.approx(sd_step, rel=0.1)
    assert abs(np.mean(z)) < 0.1 and np.std(z) == pytest.approx(1.0, rel=0.1)


def test_realization_is_drawn_once_and_deterministic():
    a, b = wind(), wind()
    assert [a.realize(u) for u in range(100)] == [b.realize(u) for u in range(100)]
    assert a.realize(5) == a.realize(5)
    assert all(0 <= a.realize(u) <= 10_000 for u in range(100))


def test_quantile_of_clipped_forecast():
    f = Forecast(mean=100.0, std=50.0, lo=0.0, hi=120.0)
    assert f.quantile(0.5) == 100
    assert f.quantile(0.999) == 120
    assert f.quantile(0.001) == 0
    assert Forecast(7.0, 0.0, 0.0, 10.0).quantile(0.1) == 7


def test_solar_is_zero_at_night():
    s = Solar("solar-001", SPEC, 3, capacity=4000.0, clearness=0.7, **MMFE)
    for unit in range(96 * 2):
        h = hour_of_day(SPEC, unit)
        if h < 6 or h > 18:
            assert s.realize(unit) == 0
            assert s.forecast(unit, 0) == Forecast(0.0, 0.0, 0.0, 0.0)
            assert not s.trades(unit)
    assert max(s.realize(u) for u in range(96)) > 1000  # noon produces


def test_household_consumes():
    h = Household("household-001", SPEC, 3, mean=500.0, **MMFE)
    xs = [h.realize(u) for u in range(96 * 5)]
    assert all(x <= 0 for x in xs)
    assert np.mean(xs) == pytest.approx(-500, rel=0.15)


def test_shock_is_known_only_from_its_time_and_is_realized():
    shock = Shock("drop", "wind", 40, 50, 0.4, at_ms=30 * U)
    plain, shocked = wind(), wind(shocks=(shock,))
    before, after = 29 * U, 31 * U
    assert shocked.forecast(45, before) == plain.forecast(45, before)
    assert shocked.forecast(45, after).mean == pytest.approx(0.4 * plain.forecast(45, after).mean)
    assert shocked.forecast(51, after) == plain.forecast(51, after)
    for u in range(40, 51):
        assert abs(shocked.realize(u) - 0.4 * plain.realize(u)) <= 1
    assert shocked.realize(39) == plain.realize(39)


def ctx(positions: dict[int, int], t_ms: int = 0, price: float = 5000.0, ref: float = 5000.0) -> Context:
    return Context(t_ms, price, ref, 0.02, 300_000.0, 0, lambda u: positions.get(u, 0))


def test_dispatchable_realizes_its_reservation_within_capacity():
    d = Dispatchable("dispatchable-001", SPEC, capacity=10_000, cost=6000, ramp=5000)
    assert [d.realize(u, reserved=e) for u, e in enumerate([0, 3000, 8000, 10_000, 6000, 2000])] == [
        0,
        3000,
        8000,
        10_000,
        6000,
        2000,
    ]
    assert d.realize(6, reserved=7000) == 7000
    assert d.realize(7, reserved=12_000) == 10_000  # capacity
    # ramp: from 10 kW it cannot reach 0 in one unit
    assert d.realize(8, reserved=0) == 5000
    # it plans only what it can reach from the previous unit's reservation, never below cost
    plan = d.plan(20, ctx({19: 2000}))
    assert plan.target == 7000 and plan.floor == 6000


def test_storage_stays_within_its_state_of_charge():
    s = Storage("storage-001", SPEC, energy=40_000.0, power=5000.0, efficiency=0.81, soc=0.5, band=0.0)
    rng = np.random.default_rng(1)
    for unit in range(500):
        e = int(rng.integers(-8000, 8001))
        before = s.soc
        x = s.realize(unit, reserved=e)
        assert 0.0 <= s.soc <= 40_000.0
        assert abs(x) <= 5000
        assert (x <= e) if e > 0 else (x >= e)  # never more than reserved (discharge or charge)
        if e > 0:  # discharge takes x / 0.9 from the battery
            assert s.soc == pytest.approx(before - x / 0.9)
    # a feasible reservation is met exactly
    s.soc = 20_000.0
    assert s.realize(1000, reserved=4000) == 4000
    assert s.realize(1001, reserved=-4000) == -4000


def test_storage_plans_only_what_its_charge_can_serve():
    s = Storage("storage-001", SPEC, energy=10_000.0, power=5000.0, efficiency=1.0, soc=0.3, band=0.1)
    now = 10 * U
    dear = s.plan(12, ctx({}, now, price=6000.0))
    assert dear.target == 3000  # everything it holds, no more
    assert dear.floor == 5500 and dear.ceiling == 4500  # the band around the price level
    # having sold 3 kW in unit 11 already, there is nothing left for unit 12
    assert s.plan(12, ctx({11: 3000}, now, price=6000.0)).target == 0
    cheap = s.plan(12, ctx({}, now, price=4000.0))
    assert cheap.target == -5000  # power-limited charge (7 kWh of room)


def test_flexible_load_spreads_its_need_over_the_window():
    f = FlexibleLoad(
        "flexible-001", SPEC, need=8000.0, start_hour=8.0, end_hour=10.0, max_power=3000.0, value=12_000
    )
    window = f.window(33)
    assert window == list(range(32, 40))
    early = f.plan(32, ctx({}, t_ms=0))
    assert early.target == -1000 and early.ceiling == 12_000
    # half the window passed with nothing bought: the rest must carry the whole need
    late = f.plan(36, ctx({}, t_ms=SPEC.gate_ms(36) - 1))
    assert late.target == -2000
    assert f.realize(36, reserved=-2000) == -2000
    assert f.realize(37, reserved=-5000) == -3000  # never more than it can draw
    assert f.realize(38, reserved=0) == 0
