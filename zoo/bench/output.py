"""The benchmark's results as files: CSV, Markdown tables with the targets, and the plot of step
time against sequence length."""

from __future__ import annotations

from pathlib import Path

from zoo.bench.targets import target_sections
from zoo.bench.timing import rounds_at
from zoo.plotting import pyplot

__all__ = ["markdown", "plot", "write"]


def markdown(rows, env) -> str:
    lines = [f"# Benchmark: {env['backend']} on {env['device']}", "",
             f"keras {env['keras']}, {env.get('backend_version', '')}; median of {env['rounds']} interleaved "
             f"steps at the first shape ({rounds_at(False, env['rounds'])} at the others) after {env['warmup']} "
             "warm-up steps; ratios against the built-in `lstm`, paired round by round at the same shape.", ""]
    for shape in sorted({(r["batch"], r["steps"], r["input_dim"], r["units"]) for r in rows}, key=lambda s: (s[3], s[1])):
        batch, steps, input_dim, units = shape
        lines += [f"## batch {batch}, {steps} steps, {input_dim} features, {units} units", "",
                  "| variant | runs as | params | train ms | vs lstm | infer ms | vs lstm | train GFLOP/s | of matmul limit | slowest/median |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in [r for r in rows if (r["batch"], r["steps"], r["input_dim"], r["units"]) == shape]:
            spread = f"{r['slowest_over_median']:.2f}" + (" (retraced?)" if r["slowest_over_median"] > 3 else "")
            lines.append(f"| {r['variant']} | {r['runs_as']} | {r['parameters']:,} | {r['train_ms']:.1f} | {r['train_vs_lstm']:.2f}x | "
                         f"{r['infer_ms']:.1f} | {r['infer_vs_lstm']:.2f}x | {r['train_gflops']:.1f} | "
                         f"{100 * r['train_efficiency']:.0f}% | {spread} |")
        lines.append("")
    lines += [("`vanilla`, `lstm`, `gru` and `gru-original` are the Keras built-in layers; `[zoo cell]` is the same math "
               "through the zoo's cell, `[stepwise]`/`[sequential]` the loop form `scan=\"auto\"` did not take here, "
               "`[xla]`/`[no xla]` the training step compiled otherwise than Keras' default here, `[mixed_float16]` "
               "float16 compute with float32 weights, `[padded]` the same layer behind `Masking` on sequences padded "
               "at the end (half to all of the steps real)."), ""]
    lines += target_sections(rows, env.get("backend", ""), gpu=env.get("gpu", False))
    units = rows[0]["units"]  # growth is read at the first shape's width
    lengths = sorted({r["steps"] for r in rows if r["units"] == units})
    if len(lengths) > 1:
        lines += ["## Growth with sequence length (train ms per step of the sequence, 1.00 = linear)", "",
                  "| variant | " + " | ".join(f"{n} steps" for n in lengths) + " |", "|---|" + "---:|" * len(lengths)]
        for variant in dict.fromkeys(r["variant"] for r in rows):
            per = {r["steps"]: r["train_ms"] / r["steps"] for r in rows
                   if r["variant"] == variant and r["units"] == units}
            if len(per) == len(lengths):
                base = per[lengths[0]]
                lines.append(f"| {variant} | " + " | ".join(f"{per[n] / base:.2f}" for n in lengths) + " |")
        lines.append("")
    if any(r.get("peak_memory_mib") for r in rows):
        lines += ["Peak device memory is in `bench.csv` (`peak_memory_mib`).", ""]
    return "\n".join(lines)


def plot(rows, path: Path):
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(8, 5))
    units = rows[0]["units"]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        points = sorted((r["steps"], r["train_ms"]) for r in rows if r["variant"] == variant and r["units"] == units)
        if len(points) > 1:
            ax.plot(*zip(*points), marker="o", label=variant, linestyle="--" if "[zoo" in variant else "-")
    ax.set_xlabel("sequence length (steps)")
    ax.set_ylabel("training step (ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Training step time against sequence length ({units} units)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(rows, env, out: Path, name: str) -> str:
    """`out/<name>.csv` and `out/<name>.md`; returns the Markdown."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame.insert(0, "device", env["device"])
    frame.insert(0, "backend", env["backend"])
    frame.to_csv(out / f"{name}.csv", index=False)
    text = markdown(rows, env)
    (out / f"{name}.md").write_text(text)
    return text
