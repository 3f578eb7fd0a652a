"""`python -m zoo list [PATTERN]` and `python -m zoo show NAME`."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from zoo.bench.timing import REFERENCE_SHAPE as _SHAPE
from zoo.checks import non_negative_float_arg, non_negative_int_arg, positive_float_arg, positive_int_arg


def _parameter_count(name: str) -> int:
    import keras

    from zoo.layers import Recurrent

    layer = Recurrent(name, _SHAPE.units)
    layer.build((None, _SHAPE.steps, _SHAPE.input_dim))
    return sum(int(keras.ops.size(w)) for w in layer.weights)


def cmd_list(args) -> int:
    from zoo.registry import get_variant, list_variants

    if args.markdown:
        from zoo.registry import variants_markdown

        print(variants_markdown())
        return 0
    names = list_variants(args.pattern, tag=args.tag)
    if not names:
        print(f"no variant matches pattern {args.pattern!r}" + (f" with tag {args.tag!r}" if args.tag else ""),
              file=sys.stderr)
        print(f"variants: {', '.join(list_variants())}", file=sys.stderr)
        return 2
    print(f"{len(names)} variants; parameters for input_dim={_SHAPE.input_dim}, units={_SHAPE.units}")
    print(f"{'name':<18} {'params':>8}  {'runs as':<22} description")
    for name in names:
        v = get_variant(name)
        print(f"{name:<18} {_parameter_count(name):>8,}  {v.runs_as:<22} {v.description}")
        if args.verbose:
            print(f"{'':<18} cite: {v.citation}\n{'':<18} eq:   {v.equations}")
    return 0


def measured_cost(name: str, bench_dir=None) -> str:
    """The variant's training and inference time against `lstm` from the last `make bench` on this
    backend (its first shape), or how to measure it. `bench_dir` defaults to bench's output folder."""
    import keras

    from zoo.bench import DEFAULT_OUT

    path = Path(bench_dir or DEFAULT_OUT) / f"bench-{keras.backend.backend()}.csv"
    rows = []
    if path.exists():
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["variant"] == name]
    if not rows:
        return f"not measured yet; `make bench` times every variant (looked in {path})"
    r = rows[0]  # the first shape, where every variant runs
    return (f"training step {float(r['train_vs_lstm']):.2f}x lstm, inference {float(r['infer_vs_lstm']):.2f}x "
            f"(batch {r['batch']}, {r['steps']} steps, {r['units']} units, {r['backend']} on {r['device']}; {path})")


def cmd_show(args) -> int:
    from zoo.registry import get_variant

    v = get_variant(args.name)
    print(f"{v.name}: {v.description}")
    print(f"  citation:   {v.citation}")
    print(f"  family:     {v.family}" + (f" (bidirectional {v.base})" if v.bidirectional else ""))
    print(f"  runs as:    {v.runs_as}")
    print(f"  options:    {v.cell_options or '{}'}")
    print(f"  tags:       {', '.join(v.tags) or '-'}")
    print(f"  parameters: {_parameter_count(v.name):,} (input_dim={_SHAPE.input_dim}, units={_SHAPE.units})")
    print(f"  cost:       {measured_cost(v.name, args.bench_dir)}")
    print("  equations:")
    for part in v.equations.split("; "):
        print(f"    {part}")
    return 0


def cmd_gradients(args) -> int:
    """Gradient flow of each variant on the adding problem, at initialisation and after training."""
    from zoo.gradients import flow, plot_flow
    from zoo.registry import get_variant

    names = [get_variant(name).name for name in args.variants]  # unknown names fail before any work
    if args.T < 2:
        raise ValueError(f"--T must be at least 2 (the adding problem marks two steps), got {args.T}.")
    if args.out:
        folder = Path(args.out).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise ValueError(f"cannot write the plot to --out {args.out}: {folder} is not a folder you can write to.")
    T = args.T
    print(f"||dL/dx_t|| on the adding problem, T={T}, {args.units} units; {args.steps} Adam updates "
          f"(lr {args.learning_rate}, clipnorm {args.clipnorm or 'none'}); distance = steps from input to loss")
    print(f"{'variant':<12} {'stage':<8} {'at 1':>10} {'at T/2':>10} {'at T':>10}  {'T vs 1':>8}  final mse")
    curves = {}
    for name in names:
        result = flow(name, T=T, units=args.units, train_steps=args.steps, learning_rate=args.learning_rate,
                      clipnorm=args.clipnorm or None, seed=args.seed)
        curves[name] = result
        for stage in ("initial", "trained") if args.steps else ("initial",):
            norms = result[stage]
            decay = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
            loss = f"{float(result['final_loss']):.4g}" if stage == "trained" else ""
            print(f"{name:<12} {stage:<8} {norms[-1]:>10.3g} {norms[T // 2]:>10.3g} {norms[0]:>10.3g}  "
                  f"{decay:>8.2g}  {loss}", flush=True)
    if args.out:
        plot_flow(curves, args.out, f"Gradient flow, adding problem T={T}")
        print(f"plot -> {args.out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zoo", description="The recurrent variants of RNN Zoo.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list variants with parameter counts")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style pattern, e.g. '*lstm*'")
    p.add_argument("--tag", help="only variants with this tag (core, greff, bidirectional)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print citation and equations")
    p.add_argument("--markdown", action="store_true", help="print the README's variant table (from the registry)")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("gradients", help="how far back the loss gradient reaches: ||dL/dx_t|| against the "
                       "distance from the loss, at initialisation and after training on the adding problem")
    p.add_argument("variants", nargs="+", metavar="VARIANT")
    p.add_argument("--T", type=positive_int_arg, default=200, help="sequence length (default 200)")
    p.add_argument("--units", type=positive_int_arg, default=64)
    p.add_argument("--steps", type=non_negative_int_arg, default=200,
                   help="training updates before the second measure (0: none)")
    p.add_argument("--learning-rate", type=positive_float_arg, default=1e-3)
    p.add_argument("--clipnorm", type=non_negative_float_arg, default=1.0, help="gradient clipping in training (0: none)")
    p.add_argument("--seed", type=non_negative_int_arg, default=0)
    p.add_argument("--out", help="write the plot here (PNG; needs matplotlib)")
    p.set_defaults(func=cmd_gradients)

    p = sub.add_parser("show", help="one variant's description, citation, equations and measured cost")
    p.add_argument("name")
    p.add_argument("--bench-dir", default=None, help="where `make bench` wrote its CSV (default reports/bench)")
    p.set_defaults(func=cmd_show)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
