"""The sections of a grid's report, in order. Each is a function `section(results, out)` that
returns its Markdown lines and may write files of its own into `out`; `SECTIONS` lists them, and
`write_report` joins them into `README.md` and `index.html`. A new section is one function and
one entry in `SECTIONS`.
"""

from __future__ import annotations

import math
from pathlib import Path

from experiments.locations import shown_url
from experiments.planner import file_name
from experiments.report.literature import literature
from experiments.report.load import Results
from experiments.report.memory import gradient_flow, memory_horizon
from experiments.report.plots import make_plots
from experiments.report.render import fmt, fmt_ratio, write_markdown_and_html
from experiments.report.speed import speed
from experiments.report.tables import leaderboard, ranks, recommendations
from experiments.stats import ALPHA, CI_METHOD, MIN_SEEDS


def header(results: Results, out: Path) -> list[str]:
    env, store = results.env, shown_url(results.store_url)
    lines = [f"# RNN Zoo report: grid `{results.grid}`", "", results.description + ".", ""]
    n_problems, n_missing = len(results.problems), len(results.missing)
    lines.append(f"- runs: {len(results.finished)} finished of {len(results.runs)} in the grid"
                 + (f", {n_problems} not finished" if n_problems else "")
                 + (f", {n_missing} missing" if n_missing else ""))
    lines.append(f"- configuration: {results.configuration or 'as declared'}")
    if results.other_configurations:
        example = " ".join(f"--set {item}" for item in results.other_settings)
        lines.append(f"- not reported: {results.other_configurations} stored run(s) of this grid under other "
                     "settings (another `--set`); report them with the same `--set` they were run with"
                     + (f", e.g. `{example}`" if example else ""))
    lines.append(f"- backend: {env.get('backend', '?')}, device: {env.get('device', '?')}, keras {env.get('keras', '?')}"
                 + "".join(f", {m} {env[m]}" for m in ("tensorflow", "jax") if m in env)
                 + f", Python {env.get('python', '?')}, commit {env.get('git_commit') or '?'}")
    lines += [f"- results store: `{store}`; browse it with `optuna-dashboard {store}`", ""]
    return lines


def recommendation_lines(table, caption: bool = True) -> list[str]:
    """The "which cell?" table; `caption=False` for the terminal."""
    lines = ["## Which cell?", ""]
    if caption:
        lines += [f"Per task: the best mean test score; the variants whose scores the seeds cannot tell from the "
                  f"best (Welch's two-sided test, Holm-corrected for the number of variants, p >= {ALPHA}), "
                  f"decided only when every variant has {MIN_SEEDS} seeds or more; and the fastest and the "
                  "smallest of those: the cheapest choice that is not measurably worse.", ""]
    lines += ["| task | best (mean) | as good as the best | fastest of those | fewest parameters of those |",
              "|---|---|---|---|---|"]
    for _, row in table.iterrows():
        if row["best"] is None:
            lines.append(f"| {row['task']} | no variant beat the baseline ({fmt(row['baseline'])} {row['metric']}; the "
                         f"closest, {row['closest']}, {fmt(row['best_mean'])}) | – | – | – |")
            continue
        if row["as_good"] is None:
            tied, of = f"not decided: {row['seeds']} seed(s), the seeds cannot separate variants", "of all"
        else:
            tied, of = ", ".join(row["as_good"]), ""
        lines.append(f"| {row['task']} | {row['best']} ({fmt(row['best_mean'])} {row['metric']}) | {tied} | "
                     f"{row['fastest']} ({fmt(row['fastest_seconds_per_epoch'], 3)} s/epoch{', ' + of if of else ''}) | "
                     f"{row['smallest']} ({row['smallest_parameters']:,}{', ' + of if of else ''}) |")
    if table["best"].isna().any():
        lines += ["", "A variant whose mean does not beat the task's trivial baseline is never recommended; where "
                  "none does, the settings (learning rate, epochs, size) are the first suspects."]
    decided = table[table["as_good"].notna()]
    if len(decided):
        counts = decided["as_good"].explode().value_counts(sort=False)
        counts = counts.sort_values(ascending=False, kind="stable")  # ties keep the order of the best means
        lines += ["", "As good as the best on the most tasks: "
                  + ", ".join(f"{variant} ({n} of {len(decided)})" for variant, n in counts.items()) + "."]
    if (table["as_good"].isna() & table["best"].notna()).any():
        lines += ["", f"With fewer than {MIN_SEEDS} seeds a test has too little power to call two variants "
                  "alike; run more seeds (`--set seeds=0,1,2`) to decide."]
    return lines + [""]


def which_cell(results: Results, out: Path) -> list[str]:
    if results.finished.empty:
        return []
    advice = recommendations(results.finished)
    advice.assign(as_good=advice["as_good"].map(lambda v: " ".join(v) if v else "")).to_csv(
        out / "which_cell.csv", index=False)
    return recommendation_lines(advice)


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
        mean = fmt(row["mean"])
        if row["mean"] == best:
            mean = f"**{mean}**"
        mark = (" †" if row["significant"] else "") + ("" if row["beats_baseline"] else " ✗")
        ci = f"[{fmt(row['ci95_low'])}, {fmt(row['ci95_high'])}]" if not math.isnan(row["ci95_low"]) else "–"
        lines.append(
            f"| {row['variant']}{mark} | {row['parameters']:,} | {mean} | {fmt(row['std'], 2)} | {ci} | "
            f"{fmt(row['best'])} ({row['best_seed']}) | {fmt(row['baseline'])} | {row['epochs']:.1f} | "
            f"{fmt(row['seconds_per_epoch'], 3)} | {fmt_ratio(row['time_vs_lstm'])} |"
        )
    lines += ["", f"† differs from `lstm` at p < {ALPHA} by Welch's two-sided t-test over seeds (as in Greff et "
              f"al. 2015), Holm-corrected for the {max(len(table) - 1, 0)} comparisons; tested only with "
              f"{MIN_SEEDS} seeds or more on both sides. {CI_METHOD}. Baseline: {task.baseline_name}"
              + ("; ✗ marks a mean that does not beat it (never recommended)." if not table["beats_baseline"].all()
                 else "."), ""]
    return "\n".join(lines)


def leaderboards(results: Results, out: Path) -> list[str]:
    if results.finished.empty:
        return []
    lines = ["## Leaderboards", ""]
    for label in sorted(results.finished["label"].unique()):
        table, task = leaderboard(results.finished, label)
        safe = file_name(label)
        table.to_csv(out / f"leaderboard-{safe}.csv", index=False)
        section = leaderboard_markdown(table, task, label)
        write_markdown_and_html(out, f"leaderboard-{safe}", f"{results.grid}: {label}", section)
        lines += [section, f"Files: [CSV](leaderboard-{safe}.csv), [Markdown](leaderboard-{safe}.md), "
                  f"[HTML](leaderboard-{safe}.html)", ""]
    return lines


def cost_of_a_run(results: Results, out: Path) -> list[str]:
    """Runner overhead per task: model build + compile + first-epoch tracing against training time."""
    if results.finished.empty:
        return []
    lines = ["## Cost of a run", "",
             "Overhead = building and compiling the model plus the extra time of the first epoch (tracing); "
             "medians over the task's runs.", "",
             "| task | overhead (s) | training (s) | overhead share | evaluation (s) |", "|---|---:|---:|---:|---:|"]
    for label, rows in results.finished.groupby("label"):
        first = rows["first_epoch_seconds"] if "first_epoch_seconds" in rows else rows["seconds_per_epoch"]
        overhead = (rows["build_seconds"] + (first - rows["seconds_per_epoch"]).clip(lower=0)).median()
        train = rows["train_seconds"].median()
        evaluation = rows["eval_seconds"].median() if "eval_seconds" in rows else math.nan
        lines.append(f"| {label} | {overhead:.2f} | {train:.1f} | {100 * overhead / train:.0f}% | {fmt(evaluation, 3)} |")
    return lines + [""]


def across_tasks(results: Results, out: Path) -> list[str]:
    if results.finished.empty:
        return []
    rank_table = ranks(results.finished)
    rank_table.to_csv(out / "ranks.csv")
    lines = ["## Across tasks", "", "Rank of each variant's mean test score per task (1 = best):", "",
             "| variant | " + " | ".join(rank_table.columns) + " |", "|---|" + "---:|" * len(rank_table.columns)]
    for variant, row in rank_table.iterrows():
        lines.append(f"| {variant} | " + " | ".join(f"{v:.1f}" if not math.isnan(v) else "–" for v in row) + " |")
    return lines + [""]


def figures(results: Results, out: Path) -> list[str]:
    if results.finished.empty:
        return []
    lines = []
    for name, title in make_plots(results.finished, out):
        lines += [f"### {title}", "", f"![{title}]({name})", ""]
    return lines


def samples(results: Results, out: Path) -> list[str]:
    """What generative tasks' models wrote, in `samples.md`, with the first table in the report."""
    found = [(r["label"], r["variant"], r["seed"], r["samples"]) for _, r in results.finished.iterrows()
             if isinstance(r.get("samples"), list) and r["samples"]]
    if not found:
        return []
    lines = ["# Samples", ""]
    for label, variant, seed, items in sorted(found, key=lambda s: (s[0], s[1], s[2])):
        lines += [f"## {label} | {variant} | seed {seed}", "", "| input | output | target |", "|---|---|---|"]
        lines += [f"| `{s['input']}` | `{s['output']}` | `{s['target']}` |" for s in items]
        lines.append("")
    (out / "samples.md").write_text("\n".join(lines), encoding="utf-8")
    return ["## Samples", "", "What generative tasks' models wrote: [samples.md](samples.md)", "",
            *lines[2:2 + 4 + len(found[0][3])]]


def generated_digits(results: Results, out: Path) -> list[str]:
    """A grid of the digits that class-conditional generation runs drew (one per class, first seed
    of each variant), from the samples in their records ('#' on, '.' off, rows joined by '/')."""
    rows = results.finished[results.finished["task"] == "mnist_generation"] if not results.finished.empty else []
    if not len(rows) or "samples" not in rows:
        return []
    from zoo.plotting import pyplot

    plt = pyplot()
    import numpy as np

    lines = ["## Generated digits", "",
             "One digit of each class (0-9) drawn row by row by each variant (first seed), each row's pixels "
             "sampled from the model and fed back: what a one-to-many model has learned of each class.", ""]
    for label, group in rows.groupby("label"):
        firsts = group.sort_values("seed").groupby("variant", sort=False).head(1)
        firsts = firsts[firsts["samples"].map(lambda s: isinstance(s, list) and len(s) == 10)]
        if firsts.empty:
            continue
        fig, axes = plt.subplots(len(firsts), 10, figsize=(10, 1.1 * len(firsts) + 0.3), squeeze=False)
        for r, (_, run) in enumerate(firsts.iterrows()):
            for c, sample in enumerate(run["samples"]):
                image = np.array([[ch == "#" for ch in row] for row in sample["output"].split("/")], dtype=float)
                axes[r][c].imshow(image, cmap="gray_r", vmin=0, vmax=1)
                axes[r][c].set_xticks([])
                axes[r][c].set_yticks([])
                if c == 0:
                    axes[r][c].set_ylabel(run["variant"], fontsize=8)
        fig.tight_layout()
        image_name = f"digits-{file_name(label)}.png"
        fig.savefig(out / image_name, dpi=90)
        plt.close(fig)
        lines += [f"![digits drawn by each variant, {label}]({image_name})", ""]
    return lines if len(lines) > 4 else []


def attention_maps(results: Results, out: Path) -> list[str]:
    """Heat maps of where a seq2seq model with attention looked: the first seed of each variant,
    three test questions (from the samples in their records)."""
    if results.finished.empty or "samples" not in results.finished:
        return []
    found = [(r["label"], r["variant"], [s for s in r["samples"] if "attention" in s][:3])
             for _, r in results.finished.sort_values("seed").iterrows()
             if isinstance(r.get("samples"), list) and any("attention" in s for s in r["samples"])]
    seen, runs = set(), []
    for label, variant, samples in found:
        if (label, variant) not in seen:
            seen.add((label, variant))
            runs.append((label, variant, samples))
    if not runs:
        return []
    from zoo.plotting import pyplot

    plt = pyplot()
    import numpy as np

    lines = ["## Attention", "", "Where each answer character looked in the question (rows: the characters the "
             "model wrote, then its end token; columns: the question's characters; darker = more weight).", ""]
    for label, variant, samples in runs:
        fig, axes = plt.subplots(1, len(samples), figsize=(3.2 * len(samples), 2.6), squeeze=False)
        for ax, sample in zip(axes[0], samples):
            weights = np.asarray(sample["attention"])
            ax.imshow(weights, cmap="Greys", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(weights.shape[1]), list(sample["input"])[:weights.shape[1]], fontsize=7)
            ax.set_yticks(range(weights.shape[0]), (list(sample["output"]) + ["end"])[:weights.shape[0]], fontsize=7)
            ax.set_title(f"{sample['input']} = {sample['output']}", fontsize=8)
        fig.suptitle(f"{label}, {variant}", fontsize=9)
        fig.tight_layout()
        name = f"attention-{file_name(label)}-{variant}.png"
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        lines += [f"![attention of {variant} on {label}]({name})", ""]
    return lines


def missing_or_not_finished(results: Results, out: Path) -> list[str]:
    if not len(results.problems) and not results.missing:
        return []
    lines = ["## Missing or not finished", ""]
    for _, row in results.problems.iterrows():
        lines.append(f"- {row['label']} | {row['variant']} | seed {row['seed']}: **{row['status']}**"
                     + (f": {str(row.get('error'))[:300]}" if isinstance(row.get("error"), str) else ""))
    for label, variant, seed in results.missing:
        lines.append(f"- {label} | {variant} | seed {seed}: not run yet")
    return lines + [""]


SECTIONS = [header, which_cell, leaderboards, literature, memory_horizon, gradient_flow, cost_of_a_run, speed,
            across_tasks, figures, generated_digits, attention_maps, samples, missing_or_not_finished]
