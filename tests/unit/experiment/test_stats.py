"""Interval arithmetic against values worked out by hand and from t tables."""

from __future__ import annotations

import math

import pytest

from rexnet.experiment.stats import interval, paired, t_quantile


def test_t_quantiles_match_the_tables():
    # two-sided 95%: t(0.975, df) from any statistics table
    assert t_quantile(2) == pytest.approx(12.7062047, rel=1e-7)
    assert t_quantile(5) == pytest.approx(2.7764451, rel=1e-7)
    assert t_quantile(10) == pytest.approx(2.2621572, rel=1e-7)
    assert t_quantile(31) == pytest.approx(2.0422725, rel=1e-7)


def test_interval_of_one_to_five():
    got = interval([1, 2, 3, 4, 5])
    sd = math.sqrt(2.5)
    half = 2.7764451052 * sd / math.sqrt(5)
    assert got.n == 5
    assert got.mean == pytest.approx(3.0)
    assert got.sd == pytest.approx(sd)
    assert got.low == pytest.approx(3 - half)
    assert got.high == pytest.approx(3 + half)
    assert got.low == pytest.approx(1.0367568, abs=1e-6)
    assert got.low < got.mean < got.high


def test_degenerate_samples_have_no_interval():
    assert interval([]).mean is None
    one = interval([4.0])
    assert (one.n, one.mean, one.sd, one.low, one.high) == (1, 4.0, None, None, None)
    same = interval([2.0, 2.0, 2.0])
    assert (same.low, same.high) == (2.0, 2.0)


def test_missing_values_are_left_out():
    assert interval([1.0, None, float("nan"), 3.0]).n == 2


def test_paired_differences_use_only_shared_seeds():
    treated = {1: 10.0, 2: 12.0, 3: 11.0, 4: 99.0}
    base = {1: 9.0, 2: 10.0, 3: 10.0, 5: 0.0}
    got = paired(treated, base)
    # differences 1, 2, 1: mean 4/3, sd sqrt(1/3)
    assert got.n == 3
    assert got.mean == pytest.approx(4 / 3)
    assert got.sd == pytest.approx(math.sqrt(1 / 3))
    half = 4.3026527 * math.sqrt(1 / 3) / math.sqrt(3)
    assert got.high == pytest.approx(4 / 3 + half, rel=1e-6)


def test_pairing_removes_shared_variance():
    # seeds differ a lot, the treatment adds exactly 1: the paired interval is a point
    base = {s: float(s * 100) for s in range(1, 6)}
    treated = {s: v + 1.0 for s, v in base.items()}
    unpaired = interval(list(treated.values()))
    got = paired(treated, base)
    assert got.mean == pytest.approx(1.0)
    assert got.high - got.low == pytest.approx(0.0)
    assert unpaired.high - unpaired.low > 100
