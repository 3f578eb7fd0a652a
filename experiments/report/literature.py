"""The report's "Against the literature" section and its page `literature.{md,html}`: published
numbers beside this grid's, with verdicts, and the qualitative claims judged from the data
(`experiments.literature` holds the references and the verdict logic)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments.literature import (
    CLAIM_VERDICTS,
    CLAIMS,
    SOURCES,
    VERDICTS,
    TaskRuns,
    compare,
    counterpart,
    fit_reading,
    judge_claim,
    published_for,
)
from experiments.report.load import Results
from experiments.report.render import fmt, write_markdown_and_html
from experiments.stats import ALPHA, MIN_SEEDS, confidence_interval
from experiments.tasks import METRIC_RANGES, SCORE_KEYS, get_task


def _metric(row, metric: str, split: str = "test") -> float:
    scores = row.get(SCORE_KEYS[split])
    return float(scores[metric]) if isinstance(scores, dict) and metric in scores else math.nan


def _scores(runs, reference) -> list[float]:
    """The runs' scores (one per seed) in the published number's metric and split."""
    return [s for s in (_metric(r, reference.metric, reference.split) for _, r in runs.iterrows()) if not math.isnan(s)]


def _this_setting(rows) -> str:
    first = rows.iloc[0]
    params, model, train = first.get("params") or {}, first.get("model") or {}, first.get("train") or {}
    parts = [f"{k}={params[k]}" for k in ("T", "order", "seq_len") if k in params]
    parts.append(f"{int(rows['parameters'].median()):,} parameters ({model.get('units', '?')} units)")
    if "train_examples" in rows and not rows["train_examples"].isna().all():
        parts.append(f"{int(rows['train_examples'].median()):,} training sequences")
    parts.append(f"{rows['epochs_run'].mean():.1f} epochs of {train.get('epochs', '?')}")
    parts.append(f"{train.get('optimizer', '?')} lr {train.get('learning_rate', '?')}")
    parts.append(f"{len(rows)} seed(s)")
    return ", ".join(parts)


def paper_count(variant: str, model: dict, input_dim: int) -> int | None:
    """The run's recurrent layers' parameters on an input of `input_dim` features: the size as a
    paper that counts the recurrent layer alone gives it."""
    if not isinstance(model, dict) or "units" not in model:
        return None
    import zoo

    layer = zoo.Recurrent(variant, int(model["units"]), num_layers=int(model.get("num_layers", 1)))
    layer.build((None, None, input_dim))
    return int(sum(np.prod(w.shape) for w in layer.weights))


def _converged(runs) -> float:
    """The share of `runs` that early stopping ended before their epoch limit."""
    limit = runs["train"].map(lambda t: (t or {}).get("epochs", math.inf) if isinstance(t, dict) else math.inf)
    return float((runs["epochs_run"] < limit).mean())


def published_rows(results: Results) -> list[dict]:
    """One row per (task, variant, published number) of the finished runs."""
    rows = []
    finished = results.finished
    for (label, variant), runs in finished.groupby(["label", "variant"]):
        task = get_task(runs["task"].iloc[0])
        params = runs["params"].iloc[0] or {}
        for reference in published_for(task.name, variant):
            scores = _scores(runs, reference)
            bounds = METRIC_RANGES.get(reference.metric, (None, None))
            size = paper_count(variant, runs["model"].iloc[0], reference.counted_on) if reference.counted_on else None
            verdict = compare(reference, scores, params, task.higher_is_better, bounds, size, _converged(runs))
            other = counterpart(reference) if verdict.verdict in ("better", "worse") else None
            if other is not None:
                other_scores = _scores(runs, other)
                if other_scores:
                    paper = {reference.split: reference.value, other.split: other.value}
                    here = {reference.split: float(np.mean(scores)), other.split: float(np.mean(other_scores))}
                    verdict.reason += "; " + fit_reading(paper, here, lower_is_better=not task.higher_is_better)
            low, high = confidence_interval(np.asarray(scores), bounds=bounds) if len(scores) > 1 else (math.nan, math.nan)
            rows.append({
                "task": label, "variant": variant, "source": f"{SOURCES[reference.source].authors}, {reference.table}",
                "metric": reference.metric if reference.split == "test" else f"{reference.metric} ({reference.split})",
                "published": reference.value,
                "mean": float(np.mean(scores)) if scores else math.nan, "ci95_low": low, "ci95_high": high,
                "seeds": len(scores),
                "paper_setting": ", ".join(f"{k}: {v}" for k, v in reference.setting.items()),
                "this_setting": _this_setting(runs), "verdict": verdict.verdict, "reason": verdict.reason,
            })
    return rows


def claim_rows(results: Results) -> list[dict]:
    finished = results.finished
    runs, parameters = {}, {}
    for label, rows in finished.groupby("label"):
        task = get_task(rows["task"].iloc[0])
        training = {"epochs": float(rows["epochs_run"].median()), "converged": _converged(rows)}
        if "train_examples" in rows and not rows["train_examples"].isna().all():
            training["train_examples"] = float(rows["train_examples"].median())
        runs[label] = TaskRuns(task.name, rows["params"].iloc[0] or {}, task.higher_is_better,
                               {v: list(g["score"]) for v, g in rows.groupby("variant")}, training)
    for variant, rows in finished.groupby("variant"):
        parameters[variant] = int(rows["parameters"].median())
    out = []
    for claim in CLAIMS:
        names = {claim.variant, claim.other} - {None}
        if not names <= set(finished["variant"]) or not any(claim.applies_to(r.task, r.params) for r in runs.values()):
            continue  # the grid did not run the variants or tasks the claim is about
        verdict = judge_claim(claim, runs, parameters)
        out.append({"claim": claim.text, "source": f"{SOURCES[claim.source].authors}, {claim.where}",
                    "verdict": verdict.verdict, "evidence": verdict.reason})
    return out


def _counts(rows: list[dict], order) -> str:
    """'2 agrees, 1 worse' in the order of `order`."""
    verdicts = [r["verdict"] for r in rows]
    return ", ".join(f"{verdicts.count(v)} {v}" for v in order if v in verdicts)


def _markdown(published: list[dict], claims: list[dict], grid: str) -> list[str]:
    lines = ["## Against the literature", ""]
    if published:
        lines += ["Published numbers beside this grid's: " + _counts(published, VERDICTS) + ". "
                  "*agrees*: the published value lies within the seeds' range or the 95% interval of their mean; "
                  "*better* / *worse*: outside it; *not comparable*: the paper's task differs (the reason is "
                  "given). Where this harness disagrees, the settings are side by side: a paper's number is "
                  "usually one tuned run, trained longer, often on a larger model.", "",
                  "| task | variant | source | metric | published | this grid: mean [95% CI] (seeds) | verdict | "
                  "why | paper's setting | this grid's setting |",
                  "|---|---|---|---|---:|---|---|---|---|---|"]
        for r in published:
            ci = f" [{fmt(r['ci95_low'])}, {fmt(r['ci95_high'])}]" if not math.isnan(r["ci95_low"]) else ""
            lines.append(f"| {r['task']} | {r['variant']} | {r['source']} | {r['metric']} | {fmt(r['published'])} | "
                         f"{fmt(r['mean'])}{ci} ({r['seeds']}) | **{r['verdict']}** | {r['reason']} | "
                         f"{r['paper_setting']} | {r['this_setting']} |")
        lines.append("")
    if claims:
        lines += [f"Qualitative claims, judged on every task of the grid where both variants have {MIN_SEEDS} seeds "
                  f"or more (Welch's two-sided test, p < {ALPHA} per task). *consistent* means no task separated "
                  "the variants, which with few seeds is weak evidence of no difference, not proof of it. *not "
                  "applicable here*: the grid trains less, or on shorter sequences, than the claim assumes, so it "
                  "is not judged.", "",
                  "| claim | source | verdict | evidence |", "|---|---|---|---|"]
        lines += [f"| {r['claim']} | {r['source']} | **{r['verdict']}** | {r['evidence']} |" for r in claims]
        lines.append("")
    if not published and not claims:
        lines += [f"No variant and task of grid `{grid}` has a published counterpart in `experiments.literature`.", ""]
    return lines


def literature(results: Results, out: Path) -> list[str]:
    """Writes `literature.{md,html,csv}`; the main report gets the verdict counts and a link."""
    if results.finished.empty:
        return []
    import pandas as pd

    published, claims = published_rows(results), claim_rows(results)
    lines = _markdown(published, claims, results.grid)
    pd.DataFrame(published).to_csv(out / "literature.csv", index=False)
    pd.DataFrame(claims).to_csv(out / "literature-claims.csv", index=False)
    sources = ["### Sources", ""] + [f"- {key}: {source}" for key, source in SOURCES.items()] + [""]
    write_markdown_and_html(out, "literature", f"{results.grid}: against the literature", "\n".join(lines + sources))
    if published:
        summary = lines[:3] + [""]
    else:
        tasks = ", ".join(sorted(results.finished["task"].unique()))
        summary = [f"No published number concerns the tasks of this grid ({tasks}): there is nothing to compare "
                   "their results with.", ""]
    if claims:
        summary += ["Qualitative claims of the literature, judged from these runs: " + _counts(claims, CLAIM_VERDICTS)
                    + ".", ""]
    return summary + ["Every published number and claim beside this grid's, with the settings side by side: "
                      "[literature.html](literature.html) ([Markdown](literature.md), [CSV](literature.csv)).", ""]
