"""MMFE noise tables and the broker's helpers: the fast paths keep the documented definitions."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from rexnet.sim.broker import sample_indices
from rexnet.sim.forecast import BLOCK_UNITS, MartingaleNoise, shared_noise
from rexnet.sim.rng import STREAM_PROCESS, stream


def test_noise_is_the_documented_sum_of_a_block_draw():
    k, f = 6, 0.2
    noise = MartingaleNoise(3, "wind-001", lead_units=k, final_share=f)
    step, final = math.sqrt((1 - f) / k), math.sqrt(f)
    for unit in (0, 5, BLOCK_UNITS - 1, BLOCK_UNITS, 3 * BLOCK_UNITS + 7):
        block, row = divmod(unit, BLOCK_UNITS)
        z = stream(3, "wind-001", STREAM_PROCESS, block).standard_normal((BLOCK_UNITS, k + 1))[row]
        for lead in range(-1, k + 3):
            expected = step * sum(z[min(max(lead, 0), k) : k])
            assert noise.revealed(unit, lead) == pytest.approx(expected, abs=1e-12)
        assert noise.value(unit) == pytest.approx(step * sum(z[:k]) + final * z[k], abs=1e-12)


def test_noise_does_not_depend_on_the_order_of_the_questions():
    a = MartingaleNoise(1, "solar-002", lead_units=8, final_share=0.1)
    b = MartingaleNoise(1, "solar-002", lead_units=8, final_share=0.1)
    units = list(range(10, 60))
    forward = [(a.revealed(u, 3), a.value(u)) for u in units]
    backward = [(b.revealed(u, 3), b.value(u)) for u in reversed(units)][::-1]
    assert forward == backward
    # realizing drops old blocks; asking again gives the same numbers
    assert [a.revealed(u, 3) for u in units] == [r for r, _ in forward]


def test_noise_is_standardized_and_revealed_is_a_martingale():
    k, f = 4, 0.25
    noise = MartingaleNoise(9, "household-001", lead_units=k, final_share=f)
    units = range(4000)
    values = np.array([noise.value(u) for u in units])
    assert abs(values.mean()) < 0.06 and abs(values.var() - 1.0) < 0.08
    # the update from lead 2 to lead 1 is uncorrelated with what was known at lead 2
    r2 = np.array([noise.revealed(u, 2) for u in units])
    r1 = np.array([noise.revealed(u, 1) for u in units])
    assert abs(np.corrcoef(r2, r1 - r2)[0, 1]) < 0.06
    assert noise.remaining_std(2) == pytest.approx(math.sqrt(noise.remaining_var(2)))


def test_shared_driver_noise_is_one_object():
    a = shared_noise(0, "driver:wind", lead_units=16, final_share=0.1)
    assert a is shared_noise(0, "driver:wind", lead_units=16, final_share=0.1)
    assert a is not shared_noise(1, "driver:wind", lead_units=16, final_share=0.1)


def test_sample_indices_are_distinct_and_uniform():
    rng = np.random.default_rng(0)
    counts: Counter[int] = Counter()
    for _ in range(6000):
        picks = sample_indices(rng, 5, 2)
        assert len(set(picks)) == 2 and all(0 <= p < 5 for p in picks)
        counts.update(picks)
    assert all(abs(counts[i] / 12000 - 0.2) < 0.02 for i in range(5))
    assert sorted(sample_indices(rng, 3, 3)) == [0, 1, 2]
