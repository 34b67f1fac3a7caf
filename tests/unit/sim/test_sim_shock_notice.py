"""Shocks with a notice time: known ``notice_s`` before each affected delivery, or sudden."""

from __future__ import annotations

import pytest

from rexnet.errors import InputError
from rexnet.sim.forecast import Shock, shock_factor
from rexnet.sim.scenario import load_scenario, parse_scenario

UNIT_MS = 900_000


def test_a_sudden_shock_is_unknown_until_delivery_starts():
    s = Shock.with_notice("d", "wind", 40, 50, 0.4, notice_ms=0, unit_ms=UNIT_MS)
    gate = 40 * UNIT_MS  # gate lead 0: the gate is the delivery start
    assert shock_factor((s,), "wind", 40, gate - 1) == 1.0
    assert shock_factor((s,), "wind", 40, gate) == 0.4
    assert shock_factor((s,), "wind", 40, None) == 0.4  # realizations always see it
    assert s.at_ms == gate


def test_a_notice_shock_is_known_per_unit_that_long_before_its_delivery():
    s = Shock.with_notice("d", "wind", 40, 50, 0.4, notice_ms=3_600_000, unit_ms=UNIT_MS)
    assert s.at_ms == 36 * UNIT_MS  # the first instant anything is known
    assert shock_factor((s,), "wind", 41, 37 * UNIT_MS - 1) == 1.0
    assert shock_factor((s,), "wind", 41, 37 * UNIT_MS) == 0.4
    assert shock_factor((s,), "solar", 41, None) == 1.0


def test_builtin_wind_drop_is_sudden_and_the_announced_one_keeps_its_time():
    sudden = load_scenario("wind_drop").shocks[0]
    announced = load_scenario("wind_drop_announced").shocks[0]
    assert sudden.notice_s == 0 and sudden.known_at_s(900) == 40 * 900
    assert announced.notice_s is None and announced.known_at_s(900) == 31500


def test_at_s_and_notice_s_together_are_refused():
    data = {
        "shocks": [
            {"driver": "wind", "first_unit": 1, "last_unit": 2, "factor": 0.5, "at_s": 10, "notice_s": 5}
        ]
    }
    with pytest.raises(InputError, match=r"shocks\[0\]: give at_s .* or notice_s"):
        parse_scenario(data, source="s.toml")
