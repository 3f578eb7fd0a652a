"""`python -m zoo.bench`: the command line (see `zoo.bench`)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from zoo.bench import output, timing
from zoo.checks import positive_int_arg

__all__ = ["main", "parse_shape", "DEFAULT_OUT"]

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "reports" / "bench"


def parse_shape(text: str):
    try:
        parts = tuple(int(p) for p in text.split("x"))
    except ValueError:
        parts = ()
    if len(parts) != 4 or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"a shape is BATCHxSTEPSxFEATURESxUNITS of positive integers, got {text!r}")
    return parts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zoo.bench", description="every variant's training step and inference pass, timed side by side")
    parser.add_argument("--variants", default="*", help="shell pattern or comma-separated names (default: all)")
    parser.add_argument("--shapes", type=parse_shape, nargs="+", default=None,
                        help="shapes BATCHxSTEPSxFEATURESxUNITS; every variant runs at the first, the "
                             "--long-variants at the others (default: 64x100x32x128 64x400x32x128 "
                             "64x1000x32x128 64x100x32x512)")
    parser.add_argument("--long-variants", default="vanilla,lstm,peephole,niaf,noaf,cifg,gru,mingru,minlstm,indrnn,lru,rglru,slstm,mlstm",
                        help="variants also timed at the shapes other than the reference (default: the "
                             "one-directional core variants and the fast modern cells; '*' for all, which "
                             "takes much longer)")
    parser.add_argument("--rounds", type=positive_int_arg, default=15,
                        help="timed rounds at the first shape, where the targets are read (median "
                             "reported); the other shapes take a third as many, at least 3")
    parser.add_argument("--warmup", type=positive_int_arg, default=2, help="warm-up steps per model")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    return parser


def _select(spec: str) -> list[str]:
    """Variant names from --variants: names and shell patterns, comma-separated."""
    from zoo.registry import list_variants

    names = []
    for part in spec.split(","):
        matched = list_variants(part.strip()) if any(c in part for c in "*?[") else [part.strip()]
        if not matched:
            raise ValueError(f"--variants pattern {part!r} matches no variant; variants: {', '.join(list_variants())}")
        names += [m for m in matched if m not in names]
    return names


def main(argv=None) -> int:
    args = _parser().parse_args(argv)

    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # one tf.function per model is expected here, not a retracing bug

    try:
        variants = _select(args.variants)
        long_variants = set(_select(args.long_variants))
        entries = timing.entries_for(variants)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    shapes = args.shapes or timing.DEFAULT_SHAPES
    from zoo.device import describe, on_gpu, peak_memory_mib

    env = {"backend": keras.backend.backend(), "keras": keras.__version__, "device": describe(), "gpu": on_gpu(),
           "rounds": args.rounds, "warmup": args.warmup}
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(env["backend"])
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
            e for e in entries if (e.variant in long_variants or e.label == "lstm" or e.implementation == "torch.nn")
            and e.jit_compile == "auto" and not e.mixed_precision and not e.padded  # twins: first shape only
            and not (e.implementation == "keras" and shape[1] > 400)]  # quadratic in the length: minutes a step
        print(f"shape batch={shape[0]} steps={shape[1]} features={shape[2]} units={shape[3]}: {len(chosen)} models", flush=True)
        shape_rows = timing.bench_shape(chosen, shape, timing.rounds_at(shape == shapes[0], args.rounds), args.warmup)
        peak = peak_memory_mib()
        for row in shape_rows:
            row["peak_memory_mib"] = peak
            print(f"  {row['variant']:<18} train {row['train_ms']:8.1f} ms ({row['train_vs_lstm']:.2f}x lstm)  "
                  f"infer {row['infer_ms']:8.1f} ms ({row['infer_vs_lstm']:.2f}x)", flush=True)
        rows += shape_rows
        # The shapes done so far, beside (not over) the last complete benchmark: a bench cut short
        # (a time limit, Ctrl-C) keeps what it measured and loses nothing that was there.
        output.write(rows, env, out, f"{name}.partial")
    text = output.write(rows, env, out, name)
    for suffix in (".csv", ".md"):
        (out / f"{name}.partial{suffix}").unlink(missing_ok=True)
    output.plot(rows, out / f"step_time_vs_length-{env['backend']}.png")
    print(text)
    print(f"wrote {out}/bench-{env['backend']}.{{csv,md}} and step_time_vs_length-{env['backend']}.png "
          f"in {time.perf_counter() - started:.0f}s")
    return 0
