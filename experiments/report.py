"""Reports: comparison tables and plots of a grid, read from the results store (never trains).

`python -m experiments report --grid quick` writes `reports/quick/`:

- `index.html` (opens offline) and `README.md` (renders on a code host): what was run, where,
  with what, what is missing or failed, and every table and plot below.
- per task: `leaderboard-<task>.{md,html,csv}`: variant, parameters, the main test metric as
  mean, standard deviation and 95% confidence interval over seeds, best seed, the trivial
  baseline, epochs, time per epoch, time relative to `lstm`, and Welch's t-test against `lstm`.
- across tasks: `ranks.csv` and a heatmap of normalised scores, and the mean rank per variant.
- plots (`*.png`): learning curves, scores per seed, score against parameters and against
  training time.
- samples that generative tasks wrote (`samples.md`).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from experiments.grids import expand, file_name, get_grid
from experiments.store import Store, default_results_dir, default_storage_url
from experiments.tasks import get_task

REFERENCE = "lstm"
ALPHA = 0.05


def default_reports_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "reports"


def load_runs(store: Store, grid: str):
    """All runs of a grid as a DataFrame (one row per trial), newest last."""
    import pandas as pd

    rows = store.records(grid)
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    frame["status"] = frame.get("status", pd.Series(dtype=object)).fillna(
        frame["state"].map({"WAITING": "queued", "RUNNING": "running"}))
    return frame


def latest_per_run(frame):
    """One row per (task label, variant, seed): the newest finished one, else the newest of any status."""
    if frame.empty:
        return frame
    frame = frame.assign(_finished=(frame["status"] == "finished").astype(int))
    frame = frame.sort_values(["_finished", "datetime_complete"], na_position="first")
    return frame.groupby(["label", "variant", "seed"], as_index=False).tail(1).drop(columns="_finished")


def main_metric(row) -> float:
    task = get_task(row["task"])
    test = row.get("test")
    if isinstance(test, dict) and task.metric in test:
        return float(test[task.metric])
    return math.nan


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
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


def leaderboard(finished, label: str):
    """The leaderboard of one task: one row per variant, best first."""
    import pandas as pd

    rows = finished[finished["label"] == label]
    task = get_task(rows["task"].iloc[0])
    reference = rows[rows["variant"] == REFERENCE]
    ref_scores = reference["score"].to_numpy()
    ref_epoch = reference["seconds_per_epoch"].mean() if len(reference) else math.nan
    out = []
    for variant, group in rows.groupby("variant"):
        scores = group["score"].to_numpy(dtype=float)
        low, high = confidence_interval(scores)
        best = group.loc[group["score"].idxmax() if task.higher_is_better else group["score"].idxmin()]
        baseline = best["baseline"].get(task.metric) if isinstance(best["baseline"], dict) else math.nan
        p = welch_p(scores, ref_scores) if variant != REFERENCE else math.nan
        out.append({
            "variant": variant,
            "parameters": int(group["parameters"].iloc[0]),
            "seeds": len(scores),
            "mean": scores.mean(),
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
            "significant": bool(p < ALPHA) if not math.isnan(p) else False,
        })
    table = pd.DataFrame(out).sort_values("mean", ascending=not task.higher_is_better).reset_index(drop=True)
    return table, task


def _fmt(value, digits=4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def _fmt_ratio(value) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}x"


def leaderboard_markdown(table, task, label: str) -> str:
    best = table["mean"].iloc[0] if len(table) else None
    direction = "higher" if task.higher_is_better else "lower"
    lines = [
        f"### {label}: test {task.metric} ({direction} is better)",
        "",
        "| variant | params | mean | std | 95% CI | best (seed) | baseline | epochs | s/epoch | time vs lstm |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for _, row in table.iterrows():
        mean = _fmt(row["mean"])
        if row["mean"] == best:
            mean = f"**{mean}**"
        mark = " †" if row["significant"] else ""
        ci = f"[{_fmt(row['ci95_low'])}, {_fmt(row['ci95_high'])}]" if not math.isnan(row["ci95_low"]) else "–"
        lines.append(
            f"| {row['variant']}{mark} | {row['parameters']:,} | {mean} | {_fmt(row['std'], 2)} | {ci} | "
            f"{_fmt(row['best'])} ({row['best_seed']}) | {_fmt(row['baseline'])} | {row['epochs']:.1f} | "
            f"{_fmt(row['seconds_per_epoch'], 3)} | {_fmt_ratio(row['time_vs_lstm'])} |"
        )
    lines += ["", f"† differs from `lstm` at p < {ALPHA} by Welch's two-sided t-test over seeds "
              "(as in Greff et al. 2015); with few seeds the test has little power. "
              f"Baseline: {task.baseline_name}.", ""]
    return "\n".join(lines)


def _markdown_table_to_html(markdown: str) -> str:
    """The small subset of Markdown the report writes: headings, one table, paragraphs."""
    out, in_table = [], False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-:"):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            rendered = []
            for cell in cells:
                text = html.escape(cell)
                if text.startswith("**") and text.endswith("**"):
                    text = f"<b>{text[2:-2]}</b>"
                rendered.append(f"<{tag}>{text}</{tag}>")
            out.append("<tr>" + "".join(rendered) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("### "):
            out.append(f"<h3>{html.escape(line[4:])}</h3>")
        elif line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("- "):
            out.append(f"<li>{_inline(line[2:])}</li>")
        elif line.startswith("!["):
            alt, src = line[2:].split("](", 1)
            out.append(f'<p><img src="{html.escape(src.rstrip(")"))}" alt="{html.escape(alt)}"></p>')
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out)


def _inline(text: str) -> str:
    import re

    text = html.escape(text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


def normalised_scores(finished):
    """variants x tasks: 1 = best mean on the task, 0 = its trivial baseline (clipped at 0)."""
    import pandas as pd

    columns = {}
    for label, rows in finished.groupby("label"):
        task = get_task(rows["task"].iloc[0])
        means = rows.groupby("variant")["score"].mean()
        baseline = np.nanmean([b.get(task.metric, np.nan) for b in rows["baseline"] if isinstance(b, dict)])
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
    """Per task: the best variant by mean test score, the variants the seeds cannot tell from it
    (Welch's p >= ALPHA against the best), and the fastest and the smallest of those."""
    import pandas as pd

    out = []
    for label, rows in finished.groupby("label"):
        task = get_task(rows["task"].iloc[0])
        means = rows.groupby("variant")["score"].mean().sort_values(ascending=not task.higher_is_better)
        best = means.index[0]
        best_scores = rows.loc[rows["variant"] == best, "score"].to_numpy(float)
        tied = [best] + [v for v in means.index[1:]
                         if welch_p(rows.loc[rows["variant"] == v, "score"].to_numpy(float), best_scores) >= ALPHA]
        costs = rows[rows["variant"].isin(tied)].groupby("variant").agg(
            seconds_per_epoch=("seconds_per_epoch", "mean"), parameters=("parameters", "first"))
        fastest, smallest = costs["seconds_per_epoch"].idxmin(), costs["parameters"].idxmin()
        out.append({
            "task": label, "metric": task.metric, "best": best, "best_mean": means[best],
            "seeds": int(rows["seed"].nunique()), "as_good": tied,
            "fastest": fastest, "fastest_seconds_per_epoch": costs.loc[fastest, "seconds_per_epoch"],
            "smallest": smallest, "smallest_parameters": int(costs.loc[smallest, "parameters"]),
        })
    return pd.DataFrame(out)


def recommendation_lines(table, caption: bool = True) -> list[str]:
    lines = ["## Which cell?", ""]
    if caption:
        lines += ["Per task: the best mean test score, the variants whose scores the seeds cannot tell from the "
                  f"best (Welch's two-sided p >= {ALPHA}; it needs two seeds or more, and with few seeds the set "
                  "is wide), and the fastest and the smallest of those: the cheapest choice that is not "
                  "measurably worse.", ""]
    lines += ["| task | best (mean) | as good as the best | fastest of those | fewest parameters of those |",
              "|---|---|---|---|---|"]
    for _, row in table.iterrows():
        lines.append(f"| {row['task']} | {row['best']} ({_fmt(row['best_mean'])} {row['metric']}) | "
                     f"{', '.join(row['as_good'])} | {row['fastest']} ({_fmt(row['fastest_seconds_per_epoch'], 3)} s/epoch) | "
                     f"{row['smallest']} ({row['smallest_parameters']:,}) |")
    counts = table["as_good"].explode().value_counts(sort=False)
    counts = counts.sort_values(ascending=False, kind="stable")  # ties keep the order of the best means
    lines += ["", "As good as the best on the most tasks: "
              + ", ".join(f"{variant} ({n} of {len(table)})" for variant, n in counts.items()) + "."]
    return lines + [""]


def overhead_lines(finished) -> list[str]:
    """Runner overhead per task: model build + compile + first-epoch tracing against training time."""
    lines = ["## Cost of a run", "",
             "Overhead = building and compiling the model plus the extra time of the first epoch (tracing); "
             "medians over the task's runs.", "",
             "| task | overhead (s) | training (s) | overhead share | evaluation (s) |", "|---|---:|---:|---:|---:|"]
    for label, rows in finished.groupby("label"):
        first = rows["first_epoch_seconds"] if "first_epoch_seconds" in rows else rows["seconds_per_epoch"]
        overhead = (rows["build_seconds"] + (first - rows["seconds_per_epoch"]).clip(lower=0)).median()
        train = rows["train_seconds"].median()
        evaluation = rows["eval_seconds"].median() if "eval_seconds" in rows else math.nan
        lines.append(f"| {label} | {overhead:.2f} | {train:.1f} | {100 * overhead / train:.0f}% | {_fmt(evaluation, 3)} |")
    return lines + [""]


def _plots(finished, out: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    labels = sorted(finished["label"].unique())
    variants = sorted(finished["variant"].unique())
    palette = dict(zip(variants, sns.color_palette("tab10", len(variants))))
    made = []

    def figure(name, title, draw, width=5.0):
        fig, axes = plt.subplots(1, len(labels), figsize=(width * len(labels), 4.2), squeeze=False)
        for ax, label in zip(axes[0], labels):
            rows = finished[finished["label"] == label]
            draw(ax, rows, get_task(rows["task"].iloc[0]))
            ax.set_title(label)
        handles, names = axes[0][0].get_legend_handles_labels()
        for ax in axes[0]:
            if ax.get_legend():
                ax.get_legend().remove()
        if handles:
            fig.legend(handles, names, loc="center right", frameon=False)
            fig.subplots_adjust(right=0.85)
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0, 0.86 if handles else 1, 0.95))
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        made.append((name, title))

    def curves(ax, rows, task):
        long = []
        for _, row in rows.iterrows():
            history = row["history"] if isinstance(row["history"], dict) else {}
            for epoch, value in enumerate(history.get("val_loss", []), start=1):
                long.append({"epoch": epoch, "validation loss": value, "variant": row["variant"]})
        if long:
            sns.lineplot(pd.DataFrame(long), x="epoch", y="validation loss", hue="variant", palette=palette,
                         errorbar="sd", ax=ax)

    def scores(ax, rows, task):
        sns.boxplot(rows, x="variant", y="score", color="0.9", ax=ax, showfliers=False)
        sns.stripplot(rows, x="variant", y="score", hue="variant", palette=palette, size=7, ax=ax, legend=False)
        ax.set_ylabel(f"test {task.metric}")
        ax.tick_params(axis="x", rotation=45)

    def against(column, xlabel, log=False):
        def draw(ax, rows, task):
            means = rows.groupby("variant").agg(score=("score", "mean"), x=(column, "mean")).reset_index()
            sns.scatterplot(rows, x=column, y="score", hue="variant", palette=palette, alpha=0.4, ax=ax, legend=False)
            sns.scatterplot(means, x="x", y="score", hue="variant", palette=palette, s=120, marker="D", ax=ax)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"test {task.metric}")
            if log:
                ax.set_xscale("log")
        return draw

    figure("learning_curves.png", "Validation loss per epoch (mean over seeds, band: ±1 sd)", curves)
    figure("scores.png", "Test score per variant (points: seeds)", scores)
    figure("score_vs_parameters.png", "Test score against parameter count (diamonds: means)",
           against("parameters", "parameters", log=True))
    figure("score_vs_time.png", "Test score against training time (diamonds: means)",
           against("train_seconds", "training time (s)"))

    normalised = normalised_scores(finished)
    if not normalised.empty:
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * normalised.shape[1], 0.9 + 0.45 * normalised.shape[0]))
        order = normalised.mean(axis=1).sort_values(ascending=False).index
        sns.heatmap(normalised.loc[order], annot=True, fmt=".2f", cmap="viridis", vmin=0, vmax=1, ax=ax,
                    cbar_kws={"label": "0 = baseline, 1 = best"})
        ax.set_title("Normalised test score per task")
        fig.tight_layout()
        fig.savefig(out / "heatmap.png", dpi=110)
        plt.close(fig)
        made.append(("heatmap.png", "Normalised test score per task"))
    return made


def write_report(grid: str, storage: str | None = None, results_dir=None, out_dir=None) -> int:
    """Write the report of `grid`; returns 0, or 1 when the store holds no run of the grid."""

    get_grid(grid)  # unknown grid: error listing the valid ones
    results_dir = Path(results_dir) if results_dir else default_results_dir()
    store = Store(storage or default_storage_url(results_dir))
    frame = latest_per_run(load_runs(store, grid))
    out = Path(out_dir) if out_dir else default_reports_dir() / grid
    if frame.empty:
        print(f"no runs of grid {grid!r} in the results store {store.url}; run `make experiments GRID={grid}` first.")
        return 1
    out.mkdir(parents=True, exist_ok=True)

    frame["score"] = [main_metric(row) for _, row in frame.iterrows()]
    finished = frame[(frame["status"] == "finished") & frame["score"].notna()].copy()
    expected = {(r.label, r.variant, r.seed) for r in expand(grid)}
    present = {(r["label"], r["variant"], int(r["seed"])) for _, r in finished.iterrows()}
    missing = sorted(expected - present - {(r["label"], r["variant"], int(r["seed"]))
                                           for _, r in frame.iterrows() if r["status"] != "finished"})
    problems = frame[frame["status"] != "finished"]

    env = next((r["environment"] for _, r in frame.iloc[::-1].iterrows() if isinstance(r.get("environment"), dict)), {})
    grid_def = get_grid(grid)
    md = [f"# RNN Zoo report: grid `{grid}`", "", grid_def["description"] + ".", ""]
    md.append(f"- runs: {len(finished)} finished of {len(expected)} in the grid"
              + (f", {len(problems)} not finished" if len(problems) else "") + (f", {len(missing)} missing" if missing else ""))
    md.append(f"- backend: {env.get('backend', '?')}, device: {env.get('device', '?')}, keras {env.get('keras', '?')}"
              + "".join(f", {m} {env[m]}" for m in ("tensorflow", "jax") if m in env)
              + f", Python {env.get('python', '?')}, commit {env.get('git_commit') or '?'}")
    md.append(f"- results store: `{store.url}`; browse it with `optuna-dashboard {store.url}`")
    md.append("")

    tables, answer = [], []
    if not finished.empty:
        advice = recommendations(finished)
        advice.assign(as_good=advice["as_good"].str.join(" ")).to_csv(out / "which_cell.csv", index=False)
        answer = recommendation_lines(advice, caption=False)  # for the terminal
        md += recommendation_lines(advice)
        md += ["## Leaderboards", ""]
        for label in sorted(finished["label"].unique()):
            table, task = leaderboard(finished, label)
            safe = file_name(label)
            table.to_csv(out / f"leaderboard-{safe}.csv", index=False)
            section = leaderboard_markdown(table, task, label)
            (out / f"leaderboard-{safe}.md").write_text(section)
            (out / f"leaderboard-{safe}.html").write_text(_page(f"{grid}: {label}", _markdown_table_to_html(section)))
            md += [section, f"Files: [CSV](leaderboard-{safe}.csv), [Markdown](leaderboard-{safe}.md), "
                   f"[HTML](leaderboard-{safe}.html)", ""]
            tables.append(label)
        md += overhead_lines(finished)
        rank_table = ranks(finished)
        rank_table.to_csv(out / "ranks.csv")
        md += ["## Across tasks", "", "Rank of each variant's mean test score per task (1 = best):", "",
               "| variant | " + " | ".join(rank_table.columns) + " |",
               "|---|" + "---:|" * len(rank_table.columns)]
        for variant, row in rank_table.iterrows():
            md.append(f"| {variant} | " + " | ".join(f"{v:.1f}" if not math.isnan(v) else "–" for v in row) + " |")
        md.append("")
        for name, title in _plots(finished, out):
            md += [f"### {title}", "", f"![{title}]({name})", ""]

    samples = [(r["label"], r["variant"], r["seed"], r["samples"]) for _, r in finished.iterrows()
               if isinstance(r.get("samples"), list) and r["samples"]]
    if samples:
        lines = ["# Samples", ""]
        for label, variant, seed, items in sorted(samples, key=lambda s: (s[0], s[1], s[2])):
            lines += [f"## {label} | {variant} | seed {seed}", "", "| input | output | target |", "|---|---|---|"]
            lines += [f"| `{s['input']}` | `{s['output']}` | `{s['target']}` |" for s in items]
            lines.append("")
        (out / "samples.md").write_text("\n".join(lines))
        md += ["## Samples", "", "What generative tasks' models wrote: [samples.md](samples.md)", ""]
        md += lines[2:2 + 4 + len(samples[0][3])]

    if len(problems) or missing:
        md += ["## Missing or not finished", ""]
        for _, row in problems.iterrows():
            md.append(f"- {row['label']} | {row['variant']} | seed {row['seed']}: **{row['status']}**"
                      + (f": {str(row.get('error'))[:300]}" if isinstance(row.get("error"), str) else ""))
        for label, variant, seed in missing:
            md.append(f"- {label} | {variant} | seed {seed}: not run yet")
        md.append("")

    (out / "README.md").write_text("\n".join(md))
    (out / "index.html").write_text(_page(f"RNN Zoo: {grid}", _markdown_table_to_html("\n".join(md))))
    frame.drop(columns=["history"], errors="ignore").to_csv(out / "runs.csv", index=False)
    print("\n".join(answer))
    print(f"report of grid {grid!r}: {len(finished)} finished runs, {len(tables)} tasks -> {out / 'index.html'}")
    if len(problems) or missing:
        print(f"  {len(problems)} run(s) not finished and {len(missing)} missing; listed in the report.")
    return 0


def _page(title: str, body: str) -> str:
    style = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:14px}"
             "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
             "td:first-child,th:first-child{text-align:left}img{max-width:100%}code{background:#f5f5f5}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(write_report(sys.argv[1] if len(sys.argv) > 1 else "quick"))
