"""The report's tables, computed from the finished runs (pandas DataFrames)."""

from __future__ import annotations

import math

import numpy as np

from experiments.stats import ALPHA, MIN_SEEDS, confidence_interval, holm, welch_p
from experiments.tasks import get_task

REFERENCE_VARIANT = "lstm"  # every table compares the variants with it (Welch, time ratio)


def leaderboard(finished, label: str):
    """The leaderboard of one task: one row per variant, best first."""
    import pandas as pd

    rows = finished[finished["label"] == label]
    task = get_task(rows["task"].iloc[0])
    reference = rows[rows["variant"] == REFERENCE_VARIANT]
    ref_scores = reference["score"].to_numpy()
    ref_epoch = reference["seconds_per_epoch"].mean() if len(reference) else math.nan
    out = []
    for variant, group in rows.groupby("variant"):
        scores = group["score"].to_numpy(dtype=float)
        low, high = confidence_interval(scores, bounds=task.metric_range)
        best = group.loc[group["score"].idxmax() if task.higher_is_better else group["score"].idxmin()]
        baseline = best["baseline"].get(task.metric) if isinstance(best["baseline"], dict) else math.nan
        mean = scores.mean()
        p = welch_p(scores, ref_scores) if variant != REFERENCE_VARIANT else math.nan
        out.append({
            "variant": variant,
            "parameters": int(group["parameters"].iloc[0]),
            "seeds": len(scores),
            "mean": mean,
            "std": scores.std(ddof=1) if len(scores) > 1 else math.nan,
            "ci95_low": low,
            "ci95_high": high,
            "best": best["score"],
            "best_seed": int(best["seed"]),
            "baseline": baseline,
            "epochs": group["epochs_run"].mean(),
            "seconds_per_epoch": group["seconds_per_epoch"].mean(),
            "time_vs_lstm": group["seconds_per_epoch"].mean() / ref_epoch if ref_epoch and not math.isnan(ref_epoch) else math.nan,
            "welch_p_vs_lstm": p,
            "beats_baseline": better(mean, baseline, task.higher_is_better),
        })
    table = pd.DataFrame(out).sort_values("mean", ascending=not task.higher_is_better).reset_index(drop=True)
    # Every variant is compared with lstm: Holm's correction for that many comparisons.
    table["holm_p_vs_lstm"] = holm(table["welch_p_vs_lstm"].to_numpy(float))
    table["significant"] = table["holm_p_vs_lstm"] < ALPHA
    return table, task


def better(score: float, baseline: float, higher_is_better: bool) -> bool:
    """Whether `score` beats the trivial baseline (a missing baseline is beaten by any score)."""
    if baseline is None or math.isnan(baseline):
        return True
    return score > baseline if higher_is_better else score < baseline


def task_baseline(rows, metric: str) -> float:
    """The trivial baseline's test score on a task: the mean over its runs (they share the data)."""
    values = [b.get(metric, math.nan) for b in rows["baseline"] if isinstance(b, dict)]
    return float(np.nanmean(values)) if values and not all(math.isnan(v) for v in values) else math.nan


def normalised_scores(finished):
    """variants x tasks: 1 = best mean on the task, 0 = its trivial baseline (clipped at 0)."""
    import pandas as pd

    columns = {}
    for label, rows in finished.groupby("label"):
        task = get_task(rows["task"].iloc[0])
        means = rows.groupby("variant")["score"].mean()
        baseline = task_baseline(rows, task.metric)
        best = means.max() if task.higher_is_better else means.min()
        span = best - baseline
        columns[label] = ((means - baseline) / span).clip(lower=0) if span and not math.isnan(span) else means * np.nan
    return pd.DataFrame(columns)


def ranks(finished):
    """variants x tasks: rank of the mean score on each task (1 = best), and the mean rank."""
    import pandas as pd

    columns = {}
    for label, rows in finished.groupby("label"):
        task = get_task(rows["task"].iloc[0])
        columns[label] = rows.groupby("variant")["score"].mean().rank(ascending=not task.higher_is_better)
    table = pd.DataFrame(columns)
    table["mean rank"] = table.mean(axis=1)
    return table.sort_values("mean rank")


def recommendations(finished):
    """Per task: the best variant by mean test score among those that beat the task's trivial
    baseline (`best` None when none does); if every variant has `MIN_SEEDS` seeds or more, those
    the seeds cannot tell from it (Holm-corrected Welch p >= ALPHA against the best), else None
    (too few seeds to tell); and the fastest and the smallest of the tied set (of every variant
    that beats the baseline when the seeds cannot tell)."""
    import pandas as pd

    out = []
    for label, rows in finished.groupby("label"):
        task = get_task(rows["task"].iloc[0])
        means = rows.groupby("variant")["score"].mean().sort_values(ascending=not task.higher_is_better)
        baseline = task_baseline(rows, task.metric)
        beating = [v for v in means.index if better(means[v], baseline, task.higher_is_better)]
        if not beating:  # a variant worse than doing nothing is no recommendation
            seeds = int(rows.groupby("variant")["seed"].nunique().min())
            out.append({"task": label, "metric": task.metric, "best": None, "best_mean": means.iloc[0],
                        "closest": means.index[0], "baseline": baseline, "seeds": seeds, "as_good": None,
                        "fastest": None, "fastest_seconds_per_epoch": math.nan, "smallest": None,
                        "smallest_parameters": 0})
            continue
        rows = rows[rows["variant"].isin(beating)]
        means = means[beating]
        best = means.index[0]
        seeds = rows.groupby("variant")["seed"].nunique()
        if seeds.min() >= MIN_SEEDS:
            best_scores = rows.loc[rows["variant"] == best, "score"].to_numpy(float)
            others = list(means.index[1:])
            adjusted = holm([welch_p(rows.loc[rows["variant"] == v, "score"].to_numpy(float), best_scores)
                             for v in others])
            tied = [best] + [v for v, p in zip(others, adjusted) if p >= ALPHA]
        else:
            tied = None
        pool = tied or list(means.index)
        costs = rows[rows["variant"].isin(pool)].groupby("variant").agg(
            seconds_per_epoch=("seconds_per_epoch", "mean"), parameters=("parameters", "first"))
        fastest, smallest = costs["seconds_per_epoch"].idxmin(), costs["parameters"].idxmin()
        out.append({
            "task": label, "metric": task.metric, "best": best, "best_mean": means[best], "closest": best,
            "baseline": baseline,
            "seeds": int(seeds.min()), "as_good": tied,
            "fastest": fastest, "fastest_seconds_per_epoch": costs.loc[fastest, "seconds_per_epoch"],
            "smallest": smallest, "smallest_parameters": int(costs.loc[smallest, "parameters"]),
        })
    return pd.DataFrame(out)
