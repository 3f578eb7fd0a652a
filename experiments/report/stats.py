"""The statistics of the report: intervals and tests over seeds."""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.05


def confidence_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean; (nan, nan) with fewer than two values."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def welch_p(a, b) -> float:
    """Two-sided p-value of Welch's t-test; nan when either side has fewer than two values."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if np.allclose(a.std(ddof=1), 0) and np.allclose(b.std(ddof=1), 0):
        return 0.0 if not np.isclose(a.mean(), b.mean()) else 1.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)
