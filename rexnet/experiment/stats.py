"""Interval arithmetic of experiments: means with Student-t 95% confidence intervals, paired.

A reported figure is never a single run: each condition is run over several seeds, and its
mean comes with the standard deviation, ``n`` and the two-sided 95% interval
``mean +- t(0.975, n - 1) * sd / sqrt(n)``. Paired designs run every condition on the same seeds,
so a condition is compared with the baseline by the per-seed differences (their mean and interval),
which removes the variance the seeds share. The t quantile comes from SciPy rather than a
hand-written approximation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: two-sided confidence level of every reported interval
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """Mean, sample standard deviation, n and the two-sided confidence interval of a sample.

    ``sd``, ``low`` and ``high`` are None when ``n < 2`` (one value has no interval); ``mean`` is
    None for an empty sample.
    """

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None

    @property
    def half_width(self) -> float | None:
        return None if self.high is None or self.mean is None else self.high - self.mean


def t_quantile(n: int, level: float = LEVEL) -> float:
    """The Student-t quantile of a two-sided ``level`` interval with ``n - 1`` degrees of freedom."""
    from scipy.stats import t

    if n < 2:
        raise ValueError("an interval needs at least two values")
    return float(t.ppf(0.5 + level / 2, n - 1))


def interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The :class:`Interval` of ``values`` (NaN and None values are left out)."""
    sample = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(sample)
    if n == 0:
        return Interval(0, None, None, None, None)
    mean = math.fsum(sample) / n
    if n == 1:
        return Interval(1, mean, None, None, None)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in sample) / (n - 1))
    half = t_quantile(n, level) * sd / math.sqrt(n)
    return Interval(n, mean, sd, mean - half, mean + half)


def paired(treated: dict[int, float], baseline: dict[int, float], level: float = LEVEL) -> Interval:
    """The interval of the per-seed differences ``treated[seed] - baseline[seed]``.

    Only seeds present (and not NaN) in both count: a pair is a pair.
    """
    diffs = [
        treated[s] - baseline[s]
        for s in sorted(set(treated) & set(baseline))
        if treated[s] is not None
        and baseline[s] is not None
        and not math.isnan(treated[s])
        and not math.isnan(baseline[s])
    ]
    return interval(diffs, level)
