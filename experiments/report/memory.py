"""The report's long-term-memory lens: gradient flow through time, and the memory horizon.

- `gradient_flow`: for tasks with one output per sequence, each run records ||dL/dx_t|| at every
  step on a fixed test batch at initialisation and after training (`experiments.train`); the
  section plots it against the distance from the loss, per variant (geometric mean over seeds).
- `memory_horizon`: for a task run at several sequence lengths T (the `memory` grid), the share
  of seeds that solve it (test loss below 10% of the trivial baseline's) against T, per variant.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments.planner import file_name
from experiments.report.load import Results

# The loss that says whether a memory task is solved, and the share of the baseline's loss that counts.
SOLVED_METRIC = {"adding": "mse", "copy_memory": "cross_entropy"}
SOLVED_SHARE = 0.10


def _geometric_ratio(curves) -> str:
    """Mean over seeds of log10(norm at the farthest step / norm at the nearest), as text; a norm
    that underflowed to 0 (below float32's range, about 1e-45) makes it '< -38 (underflow)'."""
    ratios = [math.log10(c[0] / c[-1]) if c[0] > 0 and c[-1] > 0 else -math.inf for c in curves if len(c)]
    if not ratios:
        return "–"
    mean = float(np.mean(ratios))
    return "< -38 (underflow)" if mean == -math.inf else f"{mean:.1f}"


def gradient_flow(results: Results, out: Path) -> list[str]:
    finished = results.finished
    if finished.empty or "gradient_norms" not in finished:
        return []
    from zoo.gradients import plot_flow

    lines = []
    for label, rows in finished.groupby("label"):
        rows = rows[rows["gradient_norms"].map(lambda g: isinstance(g, dict))]
        if rows.empty:
            continue
        curves = {}
        for variant, group in rows.groupby("variant", sort=False):
            curves[variant] = {stage: [g[stage] for g in group["gradient_norms"]] for stage in ("initial", "trained")}
        steps = len(next(iter(curves.values()))["initial"][0])
        image = f"gradient_flow-{file_name(label)}.png"
        plot_flow(curves, out / image, f"{label}: gradient flow over {steps} steps")
        lines += [f"### {label}", "", f"![gradient flow, {label}]({image})", "",
                  "| variant | log10 of farthest / nearest step, at initialisation | after training |", "|---|---:|---:|"]
        for variant, curve in curves.items():
            lines.append(f"| {variant} | {_geometric_ratio(curve['initial'])} | {_geometric_ratio(curve['trained'])} |")
        lines.append("")
    if not lines:
        return []
    return ["## Gradient flow", "",
            "How much the loss still feels each input: the norm of its gradient with respect to the input at step "
            "t, against the distance from the loss, on a fixed batch of 64 test sequences, at initialisation and "
            "after training (geometric mean over seeds). A line that falls by many orders of magnitude is a "
            "vanishing gradient: what lies that far back cannot be learned from. Memory is a property of the "
            "weights, not of the cell's name: at initialisation a GRU's update gate sits near 0.5 and an LSTM's "
            "forget gate near sigmoid(1) = 0.73, so their gradients can shrink faster than an orthogonally "
            "initialised tanh RNN's; a gated cell that learns a long dependency learns gates near 1 on the path "
            "that carries it, and its line flattens after training. The IRNN (ReLU, identity recurrence) starts "
            "flat by construction. Gradient clipping (`train.clipnorm`) is the remedy for the opposite problem, "
            "exploding norms. `python -m zoo gradients VARIANT...` draws the same plot for any variant in "
            "seconds.", ""] + lines


def memory_horizon(results: Results, out: Path) -> list[str]:
    finished = results.finished
    if finished.empty:
        return []
    rows = finished[finished["task"].isin(list(SOLVED_METRIC))].copy()
    if rows.empty:
        return []
    rows["T"] = rows["params"].map(lambda p: (p or {}).get("T"))
    tasks = [t for t, g in rows.groupby("task") if g["T"].nunique() > 1]
    if not tasks:
        return []
    from zoo.plotting import pyplot

    plt = pyplot()

    def solved(row) -> bool:
        metric = SOLVED_METRIC[row["task"]]
        test, base = row.get("test") or {}, row.get("baseline") or {}
        return metric in test and metric in base and test[metric] < SOLVED_SHARE * base[metric]

    rows["solved"] = [solved(r) for _, r in rows.iterrows()]
    lines = ["## Memory horizon", "",
             f"How far back each cell reaches in this grid's budget: the share of seeds whose test loss is below "
             f"{SOLVED_SHARE:.0%} of the trivial baseline's, against the sequence length T "
             "(adding: MSE against always predicting 1; copy memory: cross-entropy against a uniform guess).", ""]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        table = rows[rows["task"] == task].groupby(["variant", "T"])["solved"].agg(["mean", "size"]).reset_index()
        lengths = sorted(table["T"].unique())
        lines += [f"### {task}", "", "| variant | " + " | ".join(f"T={t}" for t in lengths) + " | longest solved |",
                  "|---|" + "---:|" * (len(lengths) + 1)]
        for variant, group in table.groupby("variant", sort=False):
            share = dict(zip(group["T"], group["mean"]))
            seeds = dict(zip(group["T"], group["size"]))
            reached = [t for t in lengths if share.get(t, 0) >= 0.5]
            lines.append(f"| {variant} | " + " | ".join(
                f"{share[t]:.0%} of {seeds[t]}" if t in share else "–" for t in lengths)
                + f" | {max(reached) if reached else 'none'} |")
            ax.plot(group["T"], group["mean"], marker="o", label=variant)
        lines.append("")
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("share of seeds solved")
        ax.set_title(task)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "memory_horizon.png", dpi=110)
    plt.close(fig)
    return lines + ["![memory horizon](memory_horizon.png)", ""]
