"""Smith (1962): in a symmetric market repeated over periods, prices converge toward the
competitive equilibrium. RexNet repeats the Gode-Sunder market over 24 delivery units; adaptive
(ZIP-style) traders carry their margins from unit to unit and the dispersion of prices around
the CE price (75) falls from the first 4 units to the last 4. ZI traders have no memory: their
dispersion does not fall, which is why the adaptive trader is needed here."""

from __future__ import annotations

import pytest

from rexnet.sim.validation import mean_ci, smith

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result():
    return smith(5)


def test_adaptive_prices_converge_to_the_competitive_equilibrium(result):
    early, late = result["adaptive"]["early"], result["adaptive"]["late"]
    assert all(b < a for a, b in zip(early, late, strict=True))  # in every seed
    assert mean_ci(late)[0] < 0.6 * mean_ci(early)[0]
    assert mean_ci(late)[2] < 8.0  # late prices within a few currency/MWh of 75


def test_zero_intelligence_prices_do_not_learn(result):
    adaptive_late = mean_ci(result["adaptive"]["late"])
    zi_late = mean_ci(result["zi"]["late"])
    assert zi_late[1] > adaptive_late[2]  # ZI's late dispersion stays well above
