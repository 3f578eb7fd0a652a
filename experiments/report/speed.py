"""The report's speed lens: what a training step of each of the grid's variants costs against
the built-in LSTM, as `make bench` (CPU, per backend) and `make gpu-check` (a GPU, JAX) measured it.

The benchmarks are not runs of the grid: they are read from the folders those commands write
beside the report (`reports/bench/`, `reports/gpu/`), and the section says where each number
comes from. Without any, it says how to measure.
"""

from __future__ import annotations

from pathlib import Path

from zoo.bench import REFERENCE_SHAPE

SHAPE_COLUMNS = ["batch", "steps", "input_dim", "units"]


def bench_tables(reports: Path) -> list[tuple[str, Path, object]]:
    """(what was measured, file, rows at the reference shape) for every benchmark found under
    `reports` (the folder that holds `bench/` and `gpu/`)."""
    import pandas as pd

    found = []
    for path in [reports / "bench" / "bench-tensorflow.csv", reports / "bench" / "bench-jax.csv",
                 reports / "gpu" / "bench-jax.csv"]:
        if not path.exists():
            continue
        frame = pd.read_csv(path)
        if frame.empty or not set(SHAPE_COLUMNS) <= set(frame.columns):
            continue
        shapes = list(frame[SHAPE_COLUMNS].itertuples(index=False, name=None))
        shape = REFERENCE_SHAPE if REFERENCE_SHAPE in shapes else shapes[0]  # else the first one benchmarked
        at = frame[[s == shape for s in shapes]]
        found.append((f"{frame['backend'].iloc[0]}, {frame['device'].iloc[0]}", path, at.set_index("variant")))
    return found


def speed(results, out: Path) -> list[str]:
    """Training step of each variant of the grid against the built-in `lstm`, per benchmark found."""
    if results.finished.empty:
        return []
    reports = out.parent
    tables = bench_tables(reports)
    lines = ["## Speed of a training step", ""]
    if not tables:
        return lines + ["Not measured on this checkout: `make bench` times every variant on this machine's CPU "
                        "(`KERAS_BACKEND=jax make bench` on JAX) and `make gpu-check` on a GPU machine; this "
                        "section then shows them.", ""]
    variants = list(dict.fromkeys(results.finished["variant"]))
    shapes = {"x".join(str(int(v)) for v in rows[SHAPE_COLUMNS].iloc[0]) for _, _, rows in tables}
    lines += [f"Training step against the built-in `lstm` of the same benchmark (median of paired ratios; batch x "
              f"steps x features x units = {', '.join(sorted(shapes))}). On a GPU the built-in `lstm` and `gru` are "
              "the fused cuDNN kernels. What computes each variant is in the benchmark files: "
              + ", ".join(f"[{path.parent.name}/{path.stem}.md](../{path.parent.name}/{path.stem}.md)"
                          for _, path, _ in tables) + ".",
              "", "| variant | " + " | ".join(what for what, _, _ in tables) + " |",
              "|---|" + "---:|" * len(tables)]
    for variant in variants:
        cells = []
        for _, _, rows in tables:
            ratio = rows["train_vs_lstm"].get(variant) if variant in rows.index else None
            cells.append("–" if ratio is None or ratio != ratio else f"{ratio:.2f}x")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines + [""]

