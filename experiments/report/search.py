"""The report of a search (`reports/search-<space>/`): which cell when each is tuned, and how
sensitive each is to its settings (the questions and figures of Greff et al. 2015).

Sections, in order (`SEARCH_SECTIONS`): the answer first (the best tuned variant per task, those
the seeds cannot tell from it, and how forgiving each is); per task the tuned leaderboard (each
variant's best setting over its retraining seeds, Welch against `lstm` with Holm's correction);
the tuned runs against the literature (published numbers and claims, as in a grid's report);
the score of every trial and of each variant's best 10% (Greff fig. 3); fANOVA importance of
each setting per variant (fig. 5); score against learning rate (fig. 4) and the learning rate x
units interaction; robustness (the share of trials within 5% of the best); what was pruned,
diverged or failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from experiments.locations import default_results_dir, default_storage_url, mask_url, shown_url
from experiments.planner import file_name
from experiments.report.folder import check_report_folder, configuration_name, configuration_text, report_folder
from experiments.report.importance import fanova_importance
from experiments.report.literature import literature
from experiments.report.load import Results
from experiments.report.render import fmt, write_pages
from experiments.report.tables import REFERENCE_VARIANT
from experiments.spaces import Search
from experiments.stats import ALPHA, CI_METHOD, MIN_SEEDS, confidence_interval, holm, welch_p
from experiments.store import Store
from experiments.tasks import get_task
from experiments.transfer import write_report_runs

TOLERANCE = 0.05  # "within 5% of the best"
NOT_RETRAINED = ("No variant's best setting has finished its retraining yet: the search's own trials, below, are "
                 "all there is so far.")


@dataclass
class SearchResults:
    plan: Search
    store_url: str
    trials: object  # DataFrame: the search phase's attempts (one row each)
    tuned: object  # DataFrame: the retraining of each variant's best setting (finished, with score)
    waiting: list = field(default_factory=list)
    retrain_keys: set = field(default_factory=set)  # the retraining's runs, finished or not
    other_trials: int = 0  # search attempts of the same tasks and variants under other settings, not shown
    configuration: str = ""  # the --set and --only that make this configuration, in words


def load_search(plan: Search, store: Store) -> SearchResults:
    import pandas as pd

    records = store.records(plan.grid)
    retrain, waiting = plan.retrain_runs(records)
    searched, other_trials = plan.search_trials(records)
    keys = {r.key for r in retrain}
    shown = {id(r) for r in searched}
    frame = pd.DataFrame([r for r in records if id(r) in shown or r.get("run_key") in keys])
    if frame.empty:
        return SearchResults(plan, store.url, frame, frame, waiting, other_trials=other_trials)
    frame["status"] = frame.get("status", pd.Series(dtype=object)).fillna(
        frame["state"].map({"WAITING": "queued", "RUNNING": "running", "FAIL": "interrupted"}))
    frame["score"] = [_metric(r, "test") for _, r in frame.iterrows()]
    frame["val_score"] = [_metric(r, "val") for _, r in frame.iterrows()]
    search_rows = frame[~frame["study"].str.endswith("/best")]
    tuned = frame[frame["run_key"].isin(keys) & (frame["status"] == "finished")]
    tuned = tuned.drop_duplicates(["label", "variant", "seed"], keep="last")
    return SearchResults(plan, store.url, search_rows, tuned, waiting, keys, other_trials)


def _metric(row, split):
    task = get_task(row["task"])
    values = row.get(split)
    return float(values[task.metric]) if isinstance(values, dict) and task.metric in values else math.nan


def _finished(results: SearchResults, label=None):
    trials = results.trials
    rows = trials[(trials["status"] == "finished") & trials["score"].notna()]
    return rows if label is None else rows[rows["label"] == label]


def tuned_leaderboard(results: SearchResults, label: str):
    """Per variant: its best setting, mean and CI of the test score over the retraining seeds,
    Welch against lstm with Holm's correction."""
    import pandas as pd

    rows = results.tuned[results.tuned["label"] == label]
    if rows.empty:
        return pd.DataFrame(), None
    task = get_task(rows["task"].iloc[0])
    reference = rows.loc[rows["variant"] == REFERENCE_VARIANT, "score"].to_numpy(float)
    out = []
    for variant, group in rows.groupby("variant"):
        scores = group["score"].to_numpy(float)
        low, high = confidence_interval(scores, bounds=task.metric_range)
        setting = group["sampled"].iloc[0] if isinstance(group["sampled"].iloc[0], dict) else {}
        out.append({"variant": variant, "seeds": len(scores), "mean": scores.mean(),
                    "std": scores.std(ddof=1) if len(scores) > 1 else math.nan, "ci95_low": low, "ci95_high": high,
                    "best_setting": ", ".join(f"{k.split('.', 1)[1]}={_short(v)}" for k, v in sorted(setting.items())),
                    "parameters": int(group["parameters"].iloc[0]),
                    "welch_p_vs_lstm": welch_p(scores, reference) if variant != REFERENCE_VARIANT else math.nan})
    table = pd.DataFrame(out).sort_values("mean", ascending=not task.higher_is_better).reset_index(drop=True)
    table["holm_p_vs_lstm"] = holm(table["welch_p_vs_lstm"].to_numpy(float))
    table["significant"] = table["holm_p_vs_lstm"] < ALPHA
    return table, task


def _short(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def robustness(results: SearchResults, label: str) -> dict[str, float]:
    """Per variant, the share of its finished search trials within `TOLERANCE` of the best
    trial of the task (relative to the best score): which cell forgives a poor setting."""
    rows = _finished(results, label)
    if rows.empty:
        return {}
    task = get_task(rows["task"].iloc[0])
    best = rows["score"].max() if task.higher_is_better else rows["score"].min()
    limit = best * (1 - TOLERANCE) if task.higher_is_better else best * (1 + TOLERANCE)
    good = rows["score"] >= limit if task.higher_is_better else rows["score"] <= limit
    return rows.assign(good=good).groupby("variant")["good"].mean().to_dict()


def importances(results: SearchResults, label: str) -> dict[str, dict[str, float]]:
    """fANOVA importance of each searched setting, per variant, on the validation score."""
    rows = _finished(results, label)
    out = {}
    for variant, group in rows.groupby("variant"):
        task = get_task(group["task"].iloc[0])
        trials = [(r["sampled"], r["distributions"], r["val_score"]) for _, r in group.iterrows()
                  if isinstance(r.get("sampled"), dict)]
        out[variant] = fanova_importance(trials, task.higher_is_better)
    return out


# --- sections -------------------------------------------------------------------------------------

def header(results: SearchResults, out: Path) -> list[str]:
    plan, trials = results.plan, results.trials
    counts = trials["status"].value_counts().to_dict() if len(trials) else {}
    store = shown_url(results.store_url)
    return [f"# RNN Zoo search: space `{plan.name}`", "", plan.space["description"] + ".", "",
            f"- configuration: {results.configuration or 'as declared'}",
            f"- search trials: {counts.get('finished', 0)} finished"
            + "".join(f", {n} {status}" for status, n in counts.items() if status != "finished")
            + f" ({plan.trials} sampled settings per variant and task, sampler {plan.sampler}"
            + (", paired across variants" if plan.sampler == "random" else "") + f", pruner {plan.pruner})"
            + (f"; {results.other_trials} stored trial(s) of these tasks and variants under other settings are "
               "not mixed in" if results.other_trials else ""),
            f"- each variant's best setting (by validation score) retrained over seeds "
            f"{', '.join(map(str, plan.retrain_seeds))}: {len(results.tuned)} runs finished",
            "- searched: " + ", ".join(f"`{k}` {kind} {args}" for k, (kind, args) in plan.distributions.items()),
            f"- results store: `{store}`; `optuna-dashboard {store}` shows each (task, variant) study with its "
            "importance, slice and parallel-coordinate views", ""]


def answer(results: SearchResults, out: Path) -> list[str]:
    lines = ["## Which cell, when each is tuned?", "",
             f"Per task: the best variant at its own best setting (mean over the retraining seeds), those the "
             f"seeds cannot tell from it (Welch, Holm-corrected, p >= {ALPHA}; decided with {MIN_SEEDS} seeds or "
             f"more), and the most forgiving variant: the largest share of its sampled settings within "
             f"{TOLERANCE:.0%} of the best trial.", "",
             "| task | best tuned (mean) | as good as the best | most forgiving (share of trials near the best) |",
             "|---|---|---|---|"]
    rows = []
    for label in sorted(results.trials["label"].unique()) if len(results.trials) else []:
        table, task = tuned_leaderboard(results, label)
        robust = robustness(results, label)
        if table.empty:
            continue
        best = table.iloc[0]
        seeds = table["seeds"].min()
        if seeds >= MIN_SEEDS:
            best_scores = results.tuned[(results.tuned["label"] == label) & (results.tuned["variant"] == best["variant"])]["score"]
            others = table.iloc[1:]
            adjusted = holm([welch_p(results.tuned[(results.tuned["label"] == label) & (results.tuned["variant"] == v)]["score"],
                                     best_scores) for v in others["variant"]])
            tied = ", ".join([best["variant"]] + [v for v, p in zip(others["variant"], adjusted) if p >= ALPHA])
        else:
            tied = f"not decided: {seeds} seed(s)"
        forgiving = max(robust, key=robust.get) if robust else "–"
        rows.append(f"| {label} | {best['variant']} ({fmt(best['mean'])} {task.metric}) | {tied} | "
                    f"{forgiving} ({robust.get(forgiving, math.nan):.0%}) |")
    if not rows:
        return lines[:-2] + [NOT_RETRAINED, ""]
    return lines + rows + [""]


def leaderboards(results: SearchResults, out: Path) -> list[str]:
    lines = ["## Tuned leaderboards", ""] + ([NOT_RETRAINED, ""] if results.tuned.empty else [])
    for label in sorted(results.tuned["label"].unique()) if len(results.tuned) else []:
        table, task = tuned_leaderboard(results, label)
        table.to_csv(out / f"tuned-{file_name(label)}.csv", index=False)
        direction = "higher" if task.higher_is_better else "lower"
        lines += [f"### {label}: test {task.metric} ({direction} is better), each variant at its best setting", "",
                  "| variant | best setting | params | seeds | mean | std | 95% CI |", "|---|---|---:|---:|---:|---:|---|"]
        for _, row in table.iterrows():
            mark = " †" if row["significant"] else ""
            ci = f"[{fmt(row['ci95_low'])}, {fmt(row['ci95_high'])}]" if not math.isnan(row["ci95_low"]) else "–"
            lines.append(f"| {row['variant']}{mark} | {row['best_setting']} | {row['parameters']:,} | {row['seeds']} | "
                         f"{fmt(row['mean'])} | {fmt(row['std'], 2)} | {ci} |")
        against = (f"† differs from `lstm` at p < {ALPHA} (Welch, Holm-corrected for {max(len(table) - 1, 0)} "
                   f"comparisons, {MIN_SEEDS} seeds or more). " if REFERENCE_VARIANT in set(table["variant"]) else "")
        lines += ["", f"{against}{CI_METHOD}.", ""]
    return lines


def importance_section(results: SearchResults, out: Path) -> list[str]:
    lines = ["## What matters: fANOVA importance of each setting (validation score)", ""]
    frames = []
    for label in sorted(results.trials["label"].unique()) if len(results.trials) else []:
        per_variant = importances(results, label)
        names = sorted({k for v in per_variant.values() for k in v})
        if not names:
            continue
        lines += [f"### {label}", "", "| variant | " + " | ".join(f"`{n}`" for n in names) + " |",
                  "|---|" + "---:|" * len(names)]
        for variant, values in per_variant.items():
            lines.append(f"| {variant} | " + " | ".join(f"{values.get(n, math.nan):.2f}" for n in names) + " |")
            frames.append({"task": label, "variant": variant, **values})
        lines.append("")
    if frames:
        import pandas as pd

        pd.DataFrame(frames).to_csv(out / "importance.csv", index=False)
        lines += ["Shares of the variance of the validation score that each setting explains alone (fANOVA, "
                  "Hutter et al. 2014, as Greff et al. 2015 fig. 5); [importance.csv](importance.csv).", ""]
    return lines


def robustness_section(results: SearchResults, out: Path) -> list[str]:
    lines = ["## Robustness: which cell forgives a poor setting", "",
             f"Share of each variant's sampled settings whose test score is within {TOLERANCE:.0%} of the best trial "
             "of the task.", ""]
    labels = sorted(results.trials["label"].unique()) if len(results.trials) else []
    shares = {label: robustness(results, label) for label in labels}
    variants = sorted({v for s in shares.values() for v in s})
    lines += ["| variant | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for variant in variants:
        lines.append(f"| {variant} | " + " | ".join(f"{shares[label].get(variant, math.nan):.0%}" for label in labels) + " |")
    return lines + [""]


def figures(results: SearchResults, out: Path) -> list[str]:
    finished = _finished(results)
    if finished.empty:
        return []
    import pandas as pd

    from zoo.plotting import pyplot, seaborn

    plt, sns = pyplot(), seaborn()
    labels = sorted(finished["label"].unique())
    lines = []

    fig, axes = plt.subplots(2, len(labels), figsize=(5 * len(labels), 7.5), squeeze=False)
    for col, label in enumerate(labels):
        rows = finished[finished["label"] == label]
        task = get_task(rows["task"].iloc[0])
        keep = (lambda g: g.nlargest(max(1, math.ceil(len(g) / 10)), "score")) if task.higher_is_better else (
            lambda g: g.nsmallest(max(1, math.ceil(len(g) / 10)), "score"))
        top = pd.concat([keep(group) for _, group in rows.groupby("variant")])
        for row, (subset, name) in enumerate(((rows, "all trials"), (top, "best 10% of each variant"))):
            sns.boxplot(subset, x="variant", y="score", ax=axes[row][col], color="0.85", showfliers=False)
            sns.stripplot(subset, x="variant", y="score", ax=axes[row][col], size=4, color="0.3")
            axes[row][col].set_title(f"{label}: {name}")
            axes[row][col].set_ylabel(f"test {task.metric}")
            axes[row][col].tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(out / "scores_all_and_best.png", dpi=100)
    plt.close(fig)
    lines += ["## Scores of every trial and of each variant's best 10% (Greff et al. fig. 3)", "",
              "![scores](scores_all_and_best.png)", ""]

    if "train.learning_rate" in results.plan.distributions:
        fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 4.2), squeeze=False)
        for ax, label in zip(axes[0], labels):
            rows = finished[finished["label"] == label]
            task = get_task(rows["task"].iloc[0])
            lr = rows["sampled"].map(lambda s: s.get("train.learning_rate") if isinstance(s, dict) else np.nan)
            sns.scatterplot(x=lr, y=rows["score"], hue=rows["variant"], ax=ax)
            ax.set_xscale("log")
            ax.set_xlabel("learning rate")
            ax.set_ylabel(f"test {task.metric}")
            ax.set_title(label)
        fig.tight_layout()
        fig.savefig(out / "score_vs_learning_rate.png", dpi=100)
        plt.close(fig)
        lines += ["## Score against learning rate (Greff et al. fig. 4)", "", "![lr](score_vs_learning_rate.png)", ""]
        if "model.units" in results.plan.distributions:
            fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 4.2), squeeze=False)
            for ax, label in zip(axes[0], labels):
                rows = finished[finished["label"] == label]
                task = get_task(rows["task"].iloc[0])
                lr = rows["sampled"].map(lambda s: s.get("train.learning_rate") if isinstance(s, dict) else np.nan)
                units = rows["sampled"].map(lambda s: s.get("model.units") if isinstance(s, dict) else np.nan)
                points = ax.scatter(lr, units, c=rows["score"], cmap="viridis" if task.higher_is_better else "viridis_r")
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlabel("learning rate")
                ax.set_ylabel("units")
                ax.set_title(f"{label}: test {task.metric}")
                fig.colorbar(points, ax=ax)
            fig.tight_layout()
            fig.savefig(out / "learning_rate_x_units.png", dpi=100)
            plt.close(fig)
            lines += ["## Learning rate x units", "", "![interaction](learning_rate_x_units.png)", ""]
    return lines


def not_finished(results: SearchResults, out: Path) -> list[str]:
    rows = results.trials[results.trials["status"] != "finished"] if len(results.trials) else results.trials
    if not len(rows) and not results.waiting:
        return []
    lines = ["## Pruned, diverged, failed or waiting", "",
             "Pruned trials were stopped early by the pruner; diverged ones reached a NaN loss; they are not "
             "scores of the setting and are left out above.", ""]
    for (label, variant, status), group in rows.groupby(["label", "variant", "status"]):
        lines.append(f"- {label} | {variant}: {len(group)} {status}")
    for label, variant in results.waiting:
        lines.append(f"- {label} | {variant}: no finished trial yet")
    return lines + [""]


def literature_section(results: SearchResults, out: Path) -> list[str]:
    """Each variant's best setting over its retraining seeds against the published numbers and
    claims (the grid report's section, on the tuned runs): where a paper tuned its learning rate,
    the comparison it calls for."""
    if results.tuned.empty:
        return []
    tuned = results.tuned
    as_grid = Results(results.plan.grid, "", results.store_url, [], tuned, tuned, tuned.iloc[0:0])
    return literature(as_grid, out)


SEARCH_SECTIONS = [header, answer, leaderboards, literature_section, importance_section, robustness_section, figures,
                   not_finished]


def write_search_report(space: str, storage: str | None = None, results_dir=None, out_dir=None,
                        overrides=None, only=None) -> int:
    """Write `reports/search-<space>/`; 0, or 1 when the store holds no trial of the space."""
    from experiments.report import default_reports_dir

    plan = Search(space, overrides, only)
    results_dir = Path(results_dir) if results_dir else default_results_dir()
    out = check_report_folder(Path(out_dir) if out_dir else default_reports_dir(results_dir)
                              / configuration_name(plan.grid, overrides, only))
    store = Store(storage or default_storage_url(results_dir), create=False)
    results = replace(load_search(plan, store), configuration=configuration_text(overrides, only))
    if results.trials.empty:
        text = f"no trials of search space {space!r} in {mask_url(store.url)} for this configuration"
        if results.other_trials:
            print(f"{text}; it holds {results.other_trials} trial(s) of these tasks and variants under other settings: "
                  "report them with the --set they were searched with.")
        else:
            print(f"{text}; run `make search SPACE={space}` first.")
        return 1
    with report_folder(out, {"space": plan.name, "set": list(overrides or []), "only": only}) as folder:
        write_pages(folder, f"RNN Zoo search: {space}",
                    "\n".join(line for section in SEARCH_SECTIONS for line in section(results, folder)))
        answer_lines = answer(results, folder)
        searched = {row.run_key for row in results.trials.itertuples() if (row.label, row.variant) in plan.admitted}
        write_report_runs(folder, store, plan.grid, searched | results.retrain_keys,
                          {"space": plan.name, "set": list(overrides or []), "only": only})
    print("\n".join(answer_lines))
    print(f"report of search space {space!r}: {len(_finished(results))} finished trials -> {out / 'index.html'}")
    return 0
