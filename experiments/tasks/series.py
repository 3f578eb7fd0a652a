"""Forecasting: yearly sunspot numbers (statsmodels datasets, 1700-2008)."""

from __future__ import annotations

import numpy as np

from experiments.data import load_with_fallbacks
from experiments.tasks import Dataset, Split, Task, register_task

YEARS = 309  # 1700-2008


def load_sunspots() -> np.ndarray:
    """Yearly mean sunspot numbers 1700-2008 (309 values), shipped with statsmodels."""

    def from_statsmodels():
        from statsmodels.datasets import sunspots

        values = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype="float64")
        if values.shape != (YEARS,):
            raise ValueError(f"expected 309 yearly values (1700-2008), got {values.shape}")
        return values

    return load_with_fallbacks("sunspots", [("statsmodels.datasets.sunspots", from_statsmodels)],
                               manual_hint="pip install statsmodels")


def check_sunspots(params):
    window, n_val, n_test = params["window"], params["n_val"], params["n_test"]
    if window + n_val + n_test + 10 > YEARS:
        raise ValueError(f"sunspots has {YEARS} years; window {window} + n_val {n_val} + n_test {n_test} "
                         "leaves fewer than 10 training targets.")


def make_sunspots(params, seed):
    """Windows of `window` years -> the next year. The last `n_test` targets are the test split,
    the `n_val` before them validation (a held-out tail, no shuffling across time). Values are
    scaled by the training mean and deviation; metrics are in sunspot numbers."""
    check_sunspots(params)
    series = load_sunspots()
    window, n_val, n_test = params["window"], params["n_val"], params["n_test"]
    first_val = len(series) - n_val - n_test
    mean, std = series[:first_val].mean(), series[:first_val].std()
    scaled = ((series - mean) / std).astype("float32")

    def split(start, stop):  # targets with index in [start, stop)
        idx = np.arange(max(start, window), stop)
        x = np.stack([scaled[i - window:i] for i in idx])[..., None]
        return Split(x, scaled[idx][:, None])

    train, val = split(0, first_val), split(first_val, first_val + n_val)
    test = split(first_val + n_val, len(series))
    return Dataset(train, val, test, info={"input_dim": 1, "num_outputs": 1, "mean": mean, "std": std})


def score_rmse(split, predictions, info):
    """RMSE in sunspot numbers (predictions and targets scaled back)."""
    predicted = np.asarray(predictions).reshape(split.y.shape) * info["std"] + info["mean"]
    actual = split.y * info["std"] + info["mean"]
    return {"rmse": float(np.sqrt(np.mean((predicted - actual) ** 2)))}


def persistence_baseline(dataset, params):
    """Next year = this year: the last value of each window."""
    return score_rmse(dataset.test, dataset.test.x[:, -1, 0][:, None], dataset.info)


register_task(Task(
    name="sunspots",
    description="forecast next year's sunspot number from the previous years (time series)",
    topology="regression",
    metric="rmse",
    higher_is_better=False,
    params={"window": 24, "n_val": 30, "n_test": 40},
    sizes={
        "smoke": {"window": 12, "n_val": 20, "n_test": 20},
        "default": {"window": 24, "n_val": 30, "n_test": 40},
        "paper": {"window": 24, "n_val": 30, "n_test": 40},
    },
    make=make_sunspots,
    check=check_sunspots,
    score=score_rmse,
    baseline=persistence_baseline,
    baseline_name="persistence (next year = this year)",
    train={"learning_rate": 3e-3, "batch_size": 16, "epochs": 60, "patience": 10},
    citation="SILSO, Royal Observatory of Belgium (yearly sunspot numbers; CC BY-NC 4.0)",
    source="statsmodels.datasets.sunspots (1700-2008); test = last 40 years, validation = 30 before",
))
