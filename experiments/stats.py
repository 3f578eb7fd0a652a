"""The statistics of the reports: intervals and tests over seeds that claim no more than the seeds show.

- A confidence interval never leaves its metric's range: a Student-t interval of the mean on
  the log scale for a metric bounded below (MSE, bits, perplexity), on the logit scale for one
  bounded on both sides (accuracy, F1), back-transformed.
- Tests need at least `MIN_SEEDS` seeds on each side; with fewer the report says the seeds
  cannot separate the variants instead of reading "no difference" into a test with no power.
- Many comparisons are corrected by Holm's step-down method.
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.05
MIN_SEEDS = 3
CI_METHOD = ("95% CI: Student-t interval of the mean over seeds, computed on the log scale for metrics "
             "bounded below (on the logit scale for rates in [0, 1]) and transformed back, so it stays "
             "in the metric's range")


def _transform(bounds):
    """(forward, inverse) maps of a metric range onto the real line."""
    low, high = bounds
    if low is not None and high is not None:
        span = high - low

        def forward(x):
            p = np.clip((x - low) / span, 1e-9, 1 - 1e-9)
            return np.log(p / (1 - p))

        return forward, lambda y: low + span / (1 + np.exp(-y))
    if low is not None:
        return (lambda x: np.log(np.maximum(x - low, 1e-12))), (lambda y: low + np.exp(y))
    if high is not None:
        return (lambda x: np.log(np.maximum(high - x, 1e-12))), (lambda y: high - np.exp(y))
    return (lambda x: x), (lambda y: y)


def confidence_interval(values, level: float = 0.95, bounds=(None, None)) -> tuple[float, float]:
    """Student-t interval of the mean on the scale where the metric's range `bounds` (low,
    high; None for unbounded) is the whole real line, transformed back; (nan, nan) with fewer
    than two values."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return math.nan, math.nan
    forward, inverse = _transform(bounds)
    z = forward(values)
    half = stats.t.ppf(0.5 + level / 2, len(z) - 1) * z.std(ddof=1) / math.sqrt(len(z))
    return float(inverse(z.mean() - half)), float(inverse(z.mean() + half))


def welch_p(a, b) -> float:
    """Two-sided p-value of Welch's t-test; nan when either side has fewer than `MIN_SEEDS`
    values (too few to test)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < MIN_SEEDS or len(b) < MIN_SEEDS:
        return math.nan
    if np.allclose(a.std(ddof=1), 0) and np.allclose(b.std(ddof=1), 0):
        return 0.0 if not np.isclose(a.mean(), b.mean()) else 1.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (nan stays nan and does not count as a comparison)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    running = 0.0
    for rank, index in enumerate(tested[np.argsort(p[tested], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return out
