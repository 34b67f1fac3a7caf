"""Gode & Sunder (1993): ZI-C traders reach high allocative efficiency, ZI-U traders do not.

Market: 6 buyers valued 120..70 and 6 sellers costing 30..80 (step 10), 1 kW each per unit,
16 units, 10 seeds (docs/validation.md). A second market adds two extra-marginal traders on
each side: ZI-U's loss comes from extra-marginal units trading, and in the first market only one
such pair exists, so there ZI-U cannot lose more than 4% (every trader trades).
"""

from __future__ import annotations

import pytest

from rexnet.sim.measure import efficiency, simulate
from rexnet.sim.validation import gode_sunder, gs_market, mean_ci

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result():
    return gode_sunder(10)


def test_zi_c_mean_efficiency_is_at_least_95_percent(result):
    mean, low, high = mean_ci(result["symmetric/zi"]["efficiency"])
    assert mean >= 0.95
    assert high <= 1.0 + 1e-9  # never more than the competitive surplus


def test_zi_u_is_clearly_less_efficient_where_extra_marginal_units_can_trade(result):
    zi_c = mean_ci(result["extra_marginal/zi"]["efficiency"])
    zi_u = mean_ci(result["extra_marginal/zi_u"]["efficiency"])
    assert zi_u[2] < zi_c[1] - 0.15  # the intervals are far apart
    # in the symmetric market ZI-U trades every unit: value sum minus cost sum = 240 of 250
    assert mean_ci(result["symmetric/zi_u"]["efficiency"])[0] == pytest.approx(0.96, abs=0.005)


def test_zi_c_prices_are_in_the_competitive_range_more_often_than_zi_u(result):
    for market in ("symmetric", "extra_marginal"):
        c = mean_ci(result[f"{market}/zi"]["in_ce_range"])
        u = mean_ci(result[f"{market}/zi_u"]["in_ce_range"])
        assert c[1] > u[2], market  # the lower end of ZI-C's interval above ZI-U's upper end


def test_zi_c_efficiency_does_not_hang_on_the_wake_rate():
    # shouts per unit, not wakes per hour, set the chances to trade: more of them only help a
    # little once there are a few dozen
    effs = {}
    for shouts in (40, 160):
        runs = [simulate(gs_market("zi", shouts=shouts, units=8), seed) for seed in range(4)]
        effs[shouts] = mean_ci([efficiency(sim, events) for sim, events in runs])[0]
    assert effs[40] >= 0.93 and effs[160] - effs[40] < 0.04
