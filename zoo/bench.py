"""`python -m zoo.bench`: every variant's training step and inference pass, timed side by side.

For each shape (batch, steps, input features, units), every variant gets a tiny model
(recurrent layer -> Dense(1), MSE, Adam). After warm-up the variants are timed in turns, one
step each per round in a shuffled order, so that machine noise hits all alike. Times are medians
over rounds; a ratio to the built-in `lstm` is the median over rounds of the variant's time over
lstm's time in the same round, with its lowest and highest round. Also reported:

- achieved FLOP/s of the recurrence (input and recurrent matmuls of every step; 3x forward for
  a training step) against one plain matrix multiply doing the LSTM's matmul work of all steps
  at once, timed in the same run: the practical limit of the device for this work;
- the slowest timed step over the median: a step that retraced or recompiled after warm-up
  takes many times the median (flagged above 3x);
- peak device memory where the backend reports it (JAX on a GPU).

Results: `reports/bench/bench-<backend>.csv`, `bench-<backend>.md`, `step_time_vs_length-<backend>.png`,
and the table on stdout. `KERAS_BACKEND=jax python -m zoo.bench` benchmarks the JAX backend.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "reports" / "bench"
REFERENCE_SHAPE = (64, 100, 32, 128)
DEFAULT_SHAPES = [REFERENCE_SHAPE, (64, 400, 32, 128), (64, 1000, 32, 128), (64, 100, 32, 512)]
# Variants whose math equals a built-in layer also run through the zoo's own cell, to show its cost.
OWN_CELL_TWINS = ("vanilla", "lstm", "gru")
# Zoo cells also timed in the loop form that `scan="auto"` does not take on this device (the
# input projection hoisted out of the loop, or kept in it), to show what the choice is worth.
OTHER_LOOP_TWINS = ("lstm", "peephole", "gru")
# Also timed with the training options a user can switch: XLA where it is not the default
# (TensorFlow; JAX always compiles) and mixed precision (float16 compute, float32 weights).
OPTION_TWINS = ("lstm", "peephole")
# References besides lstm: the modern cells are measured against the built-in GRU and Elman RNN.
OTHER_REFERENCES = ("gru", "vanilla")
# Targets of the modern cells: (variant, reference, the ratio it must beat).
MODERN_TARGETS = (("mingru", "gru", 0.5), ("minlstm", "gru", 0.5), ("indrnn", "vanilla", 1.0))


class Entry(NamedTuple):
    """One model to time: its label in the tables and how it is built."""

    label: str
    variant: str
    implementation: str = "auto"
    cell_options: dict | None = None
    jit_compile: str | bool = "auto"
    mixed_precision: bool = False


def _recurrent_flops(variant: str, steps: int, batch: int, input_dim: int, units: int) -> float:
    """Matmul FLOPs of a forward pass over the sequence, from the variant's family entry."""
    from zoo.registry import get_variant

    v = get_variant(variant)
    per_step = v.family_entry.step_flops(units, input_dim, v.cell_options)
    return batch * per_step * steps * (2 if v.bidirectional else 1)


@contextlib.contextmanager
def _policy(name: str):
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def _model(entry: Entry, steps: int, input_dim: int, units: int):
    import keras

    from zoo.layers import Recurrent

    with _policy("mixed_float16" if entry.mixed_precision else "float32"):  # as the runner's mixed_precision
        inputs = keras.Input((steps, input_dim))
        x = Recurrent(entry.variant, units, implementation=entry.implementation, cell_options=entry.cell_options)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, dtype="float32")(x))
        model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=entry.jit_compile)
    return model


def _matmul_limit(batch: int, steps: int, input_dim: int, units: int) -> float:
    """FLOP/s of one (batch*steps, input+units) @ (input+units, 4 units) matrix multiply: the
    LSTM's matmul work of all steps at once, what this device reaches when nothing is sequential."""
    import keras
    from keras import ops

    a = keras.random.normal((batch * steps, input_dim + units))
    b = keras.random.normal((input_dim + units, 4 * units))

    def run():
        float(ops.convert_to_numpy(ops.sum(ops.matmul(a, b))))

    run()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 2 * batch * steps * (input_dim + units) * 4 * units / statistics.median(times)


def _peak_memory() -> float | None:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        if "peak_bytes_in_use" in stats:
            return stats["peak_bytes_in_use"] / 2 ** 20
    return None


def _device() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        d = jax.devices()[0]
        return f"{d.platform.upper()} ({d.device_kind})"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return f"GPU ({tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU')})"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def paired_ratio(times, reference_times) -> tuple[float, float, float]:
    """Median, lowest and highest over rounds of `times[k] / reference_times[k]` (same round k)."""
    ratios = [t / r for t, r in zip(times, reference_times, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def bench_shape(entries, shape, rounds: int, warmup: int, log=print):  # noqa: C901
    """Time every (label, variant, implementation) at one shape; returns result rows."""
    import keras

    batch, steps, input_dim, units = shape
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, input_dim)).astype("float32")
    y = rng.normal(size=(batch, 1)).astype("float32")
    models, build_seconds = {}, {}
    for entry in entries:
        label = entry.label
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        model = _model(entry, steps, input_dim, units)
        for _ in range(warmup):
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
        build_seconds[label] = time.perf_counter() - start
        models[label] = model
        log(f"  warmed up {label:<18} in {build_seconds[label]:.1f}s", flush=True)
    # Building later models can invalidate earlier models' traced steps (global seed state), so
    # every model steps once more before the timed rounds start.
    for model in models.values():
        model.train_on_batch(x, y)
        model.predict_on_batch(x)
    train_times = {label: [] for label in models}
    infer_times = {label: [] for label in models}
    order = list(models)
    shuffler = np.random.default_rng(0)
    for _ in range(rounds):  # interleaved: each round times every variant once, in a new order
        shuffler.shuffle(order)
        for label in order:
            model = models[label]
            start = time.perf_counter()
            model.train_on_batch(x, y)
            train_times[label].append(time.perf_counter() - start)
            start = time.perf_counter()
            np.asarray(model.predict_on_batch(x))
            infer_times[label].append(time.perf_counter() - start)
    limit = _matmul_limit(batch, steps, input_dim, units)
    rows, flops_of = [], {}
    for label, variant, *_ in entries:
        train = statistics.median(train_times[label])
        infer = statistics.median(infer_times[label])
        flops = flops_of[label] = _recurrent_flops(variant, steps, batch, input_dim, units)
        rows.append({
            "variant": label, "batch": batch, "steps": steps, "input_dim": input_dim, "units": units,
            "parameters": int(models[label].count_params()),
            "train_ms": 1000 * train, "infer_ms": 1000 * infer,
            "train_gflops": 3 * flops / train / 1e9, "infer_gflops": flops / infer / 1e9,
            "matmul_gflops": limit / 1e9, "train_efficiency": 3 * flops / train / limit,
            "slowest_over_median": max(max(train_times[label]) / train, max(infer_times[label]) / infer),
            "warmup_seconds": build_seconds[label],
        })
    for row in rows:
        label = row["variant"]
        row["runs_as"] = models[label].layers[1].runs_as
        row["jit_compile"] = bool(models[label].jit_compile)
        row["dtype_policy"] = models[label].layers[1].dtype_policy.name
        for reference in OTHER_REFERENCES:  # the modern cells' targets are against these
            row[f"train_vs_{reference}"] = (paired_ratio(train_times[label], train_times[reference])[0]
                                           if reference in train_times else float("nan"))
        if "lstm" not in train_times:  # no reference timed at this shape
            row.update(dict.fromkeys(("train_vs_lstm", "train_vs_lstm_low", "train_vs_lstm_high", "infer_vs_lstm",
                                      "work_vs_lstm"), float("nan")))
            continue
        # Each round's time over lstm's time in the same round, then the median over rounds:
        # a slow spell of the machine hits both sides of a ratio, not one.
        row["train_vs_lstm"], row["train_vs_lstm_low"], row["train_vs_lstm_high"] = paired_ratio(
            train_times[label], train_times["lstm"])
        row["infer_vs_lstm"] = paired_ratio(infer_times[label], infer_times["lstm"])[0]
        # Matmul work (FLOPs) relative to lstm: a variant that does more work may take longer.
        row["work_vs_lstm"] = flops_of[label] / flops_of["lstm"]
    del models
    return rows


def entries_for(variants, options: bool = True) -> list[Entry]:
    """Every model to time: the variants, the twins that show what a choice is worth and, with
    `options`, the training options (XLA, mixed precision) on a few of them."""
    import keras

    from zoo.layers import make_cell
    from zoo.registry import get_variant

    entries = []
    for variant, reference, _ in MODERN_TARGETS:  # a modern cell is timed beside its reference
        if variant in variants and reference not in variants:
            variants = [*variants, reference]
    for name in variants:
        get_variant(name)
        entries.append(Entry(name, name))
        if name in OWN_CELL_TWINS:
            entries.append(Entry(f"{name}[zoo cell]", name, "zoo"))
        if name in OTHER_LOOP_TWINS:
            other = "stepwise" if make_cell(name, 1).loop() == "sequential" else "sequential"
            entries.append(Entry(f"{name}[{other}]", name, "zoo", {"scan": other}))
        if options and name in OPTION_TWINS:
            if keras.backend.backend() == "tensorflow":
                from zoo.cells import on_gpu

                jit = not on_gpu()  # Keras' "auto": XLA on a GPU only
                entries.append(Entry(f"{name}[{'xla' if jit else 'no xla'}]", name, jit_compile=jit))
            entries.append(Entry(f"{name}[mixed_float16]", name, mixed_precision=True))
    if "lstm" not in [e.variant for e in entries if e.label == e.variant]:
        entries.insert(0, Entry("lstm", "lstm"))  # the reference of every ratio
    return entries


# Custom LSTM-family cells' training step against the built-in lstm (median paired ratio). On a
# CPU the built-in layer runs the same generic loop, so the cells whose matmul work equals the
# LSTM's must be within 1.15x (the peephole family: element-wise work only) or 1.25x (the rest);
# on a GPU the built-in layer is the fused cuDNN kernel: 2x at 128 units, 3x from 512 units.
CPU_TARGETS = {"peephole": 1.15, "niaf": 1.15, "noaf": 1.15}
CPU_TARGET = 1.25
GPU_TARGETS = ((512, 3.0), (0, 2.0))  # (from this many units, target)


def target_for(variant: str, units: int, gpu: bool) -> float | None:
    """The training-step target of a zoo-only LSTM-family variant against lstm (None: none)."""
    from zoo.registry import get_variant

    v = get_variant(variant)
    if v.family != "lstm" or v.builtin or v.bidirectional:
        return None
    if gpu:
        return next(limit for least, limit in GPU_TARGETS if units >= least)
    return CPU_TARGETS.get(variant, CPU_TARGET)


def target_lines(rows, gpu: bool = False) -> list[str]:
    """Each custom LSTM-family cell's training step against `lstm` at every shape timed, with its
    target and the verdict (a cell doing more matmul work than the LSTM is said to)."""
    kind = "GPU: the fused cuDNN LSTM" if gpu else "CPU: the built-in lstm's generic loop"
    lines = [f"## Target: custom LSTM-family cells against the built-in lstm ({kind})", "",
             "| variant | shape (batch x steps x features x units) | vs lstm | rounds' range | matmul work vs lstm "
             "| target | verdict |", "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        target = None if "[" in r["variant"] else target_for(r["variant"], r["units"], gpu)
        if target is None or r["train_vs_lstm"] != r["train_vs_lstm"]:
            continue
        ok = r["train_vs_lstm"] <= target
        verdict = "met" if ok else (
            f"missed; {r['work_vs_lstm']:.1f}x the work explains it" if r["work_vs_lstm"] > r["train_vs_lstm"] / target
            else "missed")
        shape = f"{r['batch']}x{r['steps']}x{r['input_dim']}x{r['units']}"
        lines.append(f"| {r['variant']} | {shape} | {r['train_vs_lstm']:.2f}x | {r['train_vs_lstm_low']:.2f}-"
                     f"{r['train_vs_lstm_high']:.2f}x | {r['work_vs_lstm']:.2f}x | {target:.2f}x | {verdict} |")
    lines += ["", "`vanilla`, `lstm`, `gru` and `gru-original` are the Keras built-in layers; `[zoo cell]` is the "
              "same math through the zoo's cell, `[stepwise]`/`[sequential]` the loop form `scan=\"auto\"` did not "
              "take here, `[xla]`/`[no xla]` the training step compiled otherwise than Keras' default here, "
              "`[mixed_float16]` float16 compute with float32 weights.", ""]
    return lines + modern_target_lines(rows)


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
    lines += target_lines(rows, gpu=env.get("gpu", False))
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def _write(rows, env, out: Path, name: str) -> str:
    """`out/<name>.csv` and `out/<name>.md`; returns the Markdown."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame.insert(0, "device", env["device"])
    frame.insert(0, "backend", env["backend"])
    frame.to_csv(out / f"{name}.csv", index=False)
    text = markdown(rows, env)
    (out / f"{name}.md").write_text(text)
    return text


def rounds_at(first_shape: bool, rounds: int) -> int:
    """Timed rounds at a shape: all of them at the first shape, a third (at least 3) elsewhere."""
    return rounds if first_shape else min(rounds, max(3, rounds // 3))


def parse_shape(text: str):
    try:
        parts = tuple(int(p) for p in text.split("x"))
    except ValueError:
        parts = ()
    if len(parts) != 4 or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"a shape is BATCHxSTEPSxFEATURESxUNITS of positive integers, got {text!r}")
    return parts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="*", help="shell pattern or comma-separated names (default: all)")
    parser.add_argument("--shapes", type=parse_shape, nargs="+", default=None,
                        help="shapes BATCHxSTEPSxFEATURESxUNITS; every variant runs at the first, the "
                             "--long-variants at the others (default: 64x100x32x128 64x400x32x128 "
                             "64x1000x32x128 64x100x32x512)")
    parser.add_argument("--long-variants", default="vanilla,lstm,peephole,niaf,noaf,cifg,gru,mingru,minlstm,indrnn,lru",
                        help="variants also timed at the shapes other than the reference (default: the "
                             "one-directional core variants and the fast modern cells; '*' for all, which "
                             "takes much longer)")
    parser.add_argument("--rounds", type=int, default=15,
                        help="timed rounds at the first shape, where the targets are read (median "
                             "reported); the other shapes take a third as many, at least 3")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps per model")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)

    import keras

    from zoo.registry import list_variants

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # one tf.function per model is expected here, not a retracing bug

    def select(spec):
        names = []
        for part in spec.split(","):
            matched = list_variants(part.strip()) if any(c in part for c in "*?[") else [part.strip()]
            if not matched:
                raise ValueError(f"--variants pattern {part!r} matches no variant; variants: {', '.join(list_variants())}")
            names += [m for m in matched if m not in names]
        return names

    try:
        variants = select(args.variants)
        long_variants = set(select(args.long_variants))
        entries = entries_for(variants)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.rounds < 1 or args.warmup < 1:
        print(f"error: --rounds and --warmup must be >= 1, got {args.rounds}, {args.warmup}", file=sys.stderr)
        return 2
    shapes = args.shapes or DEFAULT_SHAPES
    from zoo.cells import on_gpu

    env = {"backend": keras.backend.backend(), "keras": keras.__version__, "device": _device(), "gpu": on_gpu(),
           "rounds": args.rounds, "warmup": args.warmup}
    backend_module = {"tensorflow": "tensorflow", "jax": "jax"}.get(env["backend"])
    if backend_module:
        env["backend_version"] = f"{backend_module} {__import__(backend_module).__version__}"
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"error: cannot write the benchmark to --out {out}: {error}", file=sys.stderr)
        return 2
    print(f"benchmark: {len(entries)} models x {len(shapes)} shapes on {env['backend']}, {env['device']}", flush=True)
    started = time.perf_counter()
    rows = []
    name = f"bench-{env['backend']}"
    for shape in shapes:
        chosen = entries if shape == shapes[0] else [
            e for e in entries if (e.variant in long_variants or e.label == "lstm")
            and e.jit_compile == "auto" and not e.mixed_precision]  # the training options: first shape only
        print(f"shape batch={shape[0]} steps={shape[1]} features={shape[2]} units={shape[3]}: {len(chosen)} models", flush=True)
        shape_rows = bench_shape(chosen, shape, rounds_at(shape == shapes[0], args.rounds), args.warmup)
        peak = _peak_memory()
        for row in shape_rows:
            row["peak_memory_mib"] = peak
            print(f"  {row['variant']:<18} train {row['train_ms']:8.1f} ms ({row['train_vs_lstm']:.2f}x lstm)  "
                  f"infer {row['infer_ms']:8.1f} ms ({row['infer_vs_lstm']:.2f}x)", flush=True)
        rows += shape_rows
        # The shapes done so far, beside (not over) the last complete benchmark: a bench cut short
        # (a time limit, Ctrl-C) keeps what it measured and loses nothing that was there.
        _write(rows, env, out, f"{name}.partial")
    text = _write(rows, env, out, name)
    for suffix in (".csv", ".md"):
        (out / f"{name}.partial{suffix}").unlink(missing_ok=True)
    plot(rows, out / f"step_time_vs_length-{env['backend']}.png")
    print(text)
    print(f"wrote {out}/bench-{env['backend']}.{{csv,md}} and step_time_vs_length-{env['backend']}.png "
          f"in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
