"""The benchmark's targets: each custom cell's training step against the layer it must approach."""

from __future__ import annotations

from zoo.bench.timing import MODERN_TARGETS

__all__ = ["CPU_TARGETS", "CPU_TARGET", "GPU_TARGETS", "TORCH_TARGETS", "target_for", "target_sections",
           "target_lines", "modern_target_lines", "torch_target_lines"]


# Custom LSTM-family cells' training step against the built-in lstm (median paired ratio). On a
# CPU the built-in layer runs the same generic loop, so the cells whose matmul work equals the
# LSTM's must be within 1.15x (the peephole family: element-wise work only) or 1.25x (the rest);
# on a GPU the built-in layer is the fused cuDNN kernel: 2x at 128 units, 3x from 512 units.
CPU_TARGETS = {"peephole": 1.15, "niaf": 1.15, "noaf": 1.15}
CPU_TARGET = 1.25
GPU_TARGETS = ((512, 3.0), (0, 2.0))  # (from this many units, target)
# On torch, against PyTorch's own layers trained directly: the variants that are one of them
# within 1.3x, the other LSTM-family cells within 2x of torch.nn.LSTM; every zoo layer faster than
# Keras' own LSTM on torch.
TORCH_TARGETS = {"same_math": 1.3, "lstm_family": 2.0, "keras_lstm": 1.0}


def target_for(variant: str, units: int, gpu: bool) -> float | None:
    """The training-step target of a zoo-only LSTM-family variant against lstm (None: none)."""
    from zoo.registry import get_variant

    v = get_variant(variant)
    if v.family != "lstm" or v.builtin or v.bidirectional:
        return None
    if gpu:
        return next(limit for least, limit in GPU_TARGETS if units >= least)
    return CPU_TARGETS.get(variant, CPU_TARGET)


def target_sections(rows, backend: str, gpu: bool = False) -> list[str]:
    """The target sections that apply to a run: the LSTM family against the built-in `lstm` where
    that layer is Keras' generic loop (TensorFlow, JAX on a CPU) or the fused cuDNN kernel (a GPU),
    the modern cells against the layers they replace, and on torch every variant against PyTorch's
    own layers. On torch on a CPU the built-in `lstm` is PyTorch's LSTM kernel itself, so the LSTM
    family's target is the torch section's (2x `torch.nn.LSTM`), not the generic loop's."""
    lines = [] if backend == "torch" and not gpu else target_lines(rows, gpu=gpu)
    lines += modern_target_lines(rows)
    return lines + (torch_target_lines(rows) if backend == "torch" else [])


def target_lines(rows, gpu: bool = False) -> list[str]:
    """Each custom LSTM-family cell's training step against `lstm` at every shape timed, with its
    target and the verdict (a cell doing more matmul work than the LSTM is said to)."""
    kind = "GPU: the fused cuDNN LSTM" if gpu else "CPU: the built-in lstm's generic loop"
    lines = [f"## Target: custom LSTM-family cells against the built-in lstm ({kind})", "",
             "| variant | shape (batch x steps x features x units) | vs lstm | rounds' range | matmul work vs lstm "
             "| target | verdict |", "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        target = (None if "[" in r["variant"] or r["variant"].startswith("torch.nn")
                  else target_for(r["variant"], r["units"], gpu))
        if target is None or r["train_vs_lstm"] != r["train_vs_lstm"]:
            continue
        ok = r["train_vs_lstm"] <= target
        verdict = "met" if ok else (
            f"missed; {r['work_vs_lstm']:.1f}x the work explains it" if r["work_vs_lstm"] > r["train_vs_lstm"] / target
            else "missed")
        shape = f"{r['batch']}x{r['steps']}x{r['input_dim']}x{r['units']}"
        lines.append(f"| {r['variant']} | {shape} | {r['train_vs_lstm']:.2f}x | {r['train_vs_lstm_low']:.2f}-"
                     f"{r['train_vs_lstm_high']:.2f}x | {r['work_vs_lstm']:.2f}x | {target:.2f}x | {verdict} |")
    return lines + [""]


def modern_target_lines(rows) -> list[str]:
    """The modern cells' training step against their references (the GRU, the Elman RNN), per shape."""
    timed = [(r, reference, limit) for r in rows for variant, reference, limit in MODERN_TARGETS
             if r["variant"] == variant and r.get(f"train_vs_{reference}") == r.get(f"train_vs_{reference}")]
    if not timed:
        return []
    lines = ["## Target: the modern cells against the built-in layers they replace (training step)", "",
             "| variant | shape (batch x steps x features x units) | runs as | vs | ratio | target | verdict |",
             "|---|---|---|---|---:|---:|---|"]
    for r, reference, limit in timed:
        ratio = r[f"train_vs_{reference}"]
        shape = f"{r['batch']}x{r['steps']}x{r['input_dim']}x{r['units']}"
        verdict = "met" if ratio < limit else "missed"
        lines.append(f"| {r['variant']} | {shape} | {r['runs_as']} | {reference} | {ratio:.2f}x | < {limit:.2f}x | {verdict} |")
    return lines + ["", "A ratio below 0.5x is at least 2x faster.", ""]


def torch_target_lines(rows) -> list[str]:
    """On torch: each variant against the torch.nn layer of its math (or torch.nn.LSTM) and
    against Keras' own LSTM on torch (in both directions for a bidirectional twin)."""
    lines = ["## Targets on torch: against PyTorch's layers trained directly, and Keras' own LSTM", "",
             "| variant | shape (batch x steps x features x units) | runs as | vs torch.nn | target | vs Keras' LSTM "
             "| verdict |", "|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        if "[" in r["variant"] or r["variant"].startswith("torch.nn"):
            continue
        same_math = r["runs_as"].startswith("keras.layers.")
        limit = TORCH_TARGETS["same_math" if same_math else "lstm_family"]
        vs_nn, vs_keras = r.get("train_vs_torch_nn", float("nan")), r.get("train_vs_keras_lstm", float("nan"))
        checks = []
        if vs_nn == vs_nn:
            checks.append(vs_nn <= limit)
        if vs_keras == vs_keras:
            checks.append(vs_keras < TORCH_TARGETS["keras_lstm"])
        if not checks:
            continue
        shape = f"{r['batch']}x{r['steps']}x{r['input_dim']}x{r['units']}"
        nn_text = f"{vs_nn:.2f}x" if vs_nn == vs_nn else "–"
        keras_text = f"{vs_keras:.2f}x" if vs_keras == vs_keras else "–"
        target = f"{limit:.1f}x" if vs_nn == vs_nn else "–"
        lines.append(f"| {r['variant']} | {shape} | {r['runs_as']} | {nn_text} | {target} | {keras_text} | "
                     f"{'met' if all(checks) else 'missed'} |")
    lines += ["", ("A bidirectional twin is measured against `Bidirectional(keras.layers.LSTM)`. Whether the time "
                   "per step stays flat up to 1000 steps: the growth table below."), ""]
    return lines
