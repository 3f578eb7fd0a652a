"""One prepared command for a GPU machine with no internet: `make gpu-check`.

    make wheelhouse      # here, with internet: the wheels a JAX + Python 3.12 machine lacks, and MNIST
    make gpu-check       # there: install from the wheelhouse, bench and train on JAX, write reports/gpu/

`python -m experiments.gpu_check wheelhouse` downloads, for Python 3.12 on x86-64 Linux, the
wheels of Keras, Optuna and their dependencies that a machine with JAX, NumPy, pandas, SciPy,
Matplotlib, seaborn and statsmodels lacks, the project's own wheel, and MNIST (compressed), into
`.wheelhouse/` (git ignores it; under 64 MiB).

`python -m experiments.gpu_check run` then, on the JAX backend:

(a) runs the benchmark at the reference shape and at T = 1000 and 4000 steps: every custom and
    modern cell against Keras' fused LSTM and GRU paths on the device, with the FLOP/s achieved
    against the device's matmul throughput (`zoo.bench`);
(b) trains a slice of the `paper` grid: adding at T = 600 for `lstm`, `gru` and `vanilla` (Bai
    et al.'s ordering: GRU solves it, LSTM and Elman stay at the baseline in a short budget),
    and one epoch of pixel-by-pixel MNIST with its time per epoch;
(c) writes everything to `reports/gpu/`: the bench's CSV, Markdown and plot, `training.csv`,
    and `gpu-check.md`, a summary with the device and date.

`--allow-cpu --tiny` runs the same steps on a CPU at tiny sizes (the test suite does), so the
command cannot rot between GPU loans.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WHEELHOUSE = ROOT / ".wheelhouse"
DEFAULT_OUT = ROOT / "reports" / "gpu"
# What a machine with JAX and the scientific Python stack lacks to run the project (module: wheel).
NEEDED = {"keras": "keras", "namex": "namex", "optree": "optree", "optuna": "optuna", "sqlalchemy": "SQLAlchemy",
          "alembic": "alembic", "mako": "Mako", "colorlog": "colorlog", "filelock": "filelock"}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]
# Every custom LSTM-family cell at the reference shape (their 2x target); the core and modern cells
# also at 512 units (the 3x target) and at 1000 and 4000 steps.
BENCH_VARIANTS = "lstm,gru,vanilla,peephole,cifg,nig,nfg,nog,niaf,noaf,fgr,mingru,minlstm,indrnn,lru,rglru,slstm,mlstm"
LONG_VARIANTS = "lstm,gru,vanilla,peephole,cifg,noaf,mingru,minlstm,indrnn,lru,rglru,slstm,mlstm"
# Tiny sizes test the command, not the device: one cell of each kind of loop is enough there.
TINY = {"shapes": ["8x20x4x8"], "adding": {"T": 20, "n_train": 256, "n_val": 64, "n_test": 64},
        "mnist": {"n_train": 128, "n_val": 64, "n_test": 64}, "epochs": 2, "rounds": "1",
        "variants": "lstm,gru,vanilla,peephole,mingru,indrnn,lru,mlstm"}
FULL = {"shapes": ["64x100x32x128", "64x100x32x512", "64x1000x32x128", "64x4000x32x128"],
        "adding": {"n_train": 20000, "n_val": 1000, "n_test": 1000}, "mnist": {}, "epochs": 10, "rounds": "5",
        "variants": BENCH_VARIANTS}


# --- here: the wheelhouse -----------------------------------------------------------------------

def wheelhouse(out: Path) -> int:
    """Download the wheels (for CPython 3.12, x86-64 Linux) and MNIST into `out`."""
    from importlib.metadata import version

    out.mkdir(parents=True, exist_ok=True)
    pins = [f"{wheel}=={version(wheel)}" for wheel in NEEDED.values()]
    platform_args = [a for p in PLATFORMS for a in ("--platform", p)]
    for pin in pins:  # one at a time: a pure-Python wheel and a compiled one need the same flags
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.12", "--implementation", "cp", *platform_args, "-d", str(out), pin]
        if subprocess.run(cmd).returncode != 0:
            print(f"error: could not download {pin} for Python 3.12 on x86-64 Linux", file=sys.stderr)
            return 1
    if subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)]).returncode:
        print("error: could not build the project's wheel", file=sys.stderr)
        return 1
    import numpy as np

    from experiments.tasks.mnist import load_mnist

    np.savez_compressed(out / "mnist.npz", **load_mnist())
    size = sum(p.stat().st_size for p in out.iterdir()) / 2 ** 20
    print(f"wheelhouse {out}: {len(list(out.glob('*.whl')))} wheels and MNIST, {size:.1f} MiB")
    return 0


# --- there: install, then check --------------------------------------------------------------

def install(wheels: Path, site: Path) -> None:
    """Make every module of `NEEDED` importable: what is missing is installed from `wheels`."""
    missing = [module for module in NEEDED if importlib.util.find_spec(module) is None]
    if not missing:
        return
    if not wheels.is_dir():
        raise SystemExit(f"error: {', '.join(missing)} not installed and no wheelhouse at {wheels}; "
                         "run `make wheelhouse` on a machine with internet and bring .wheelhouse/ along")
    have = {w.name.split("-")[0].lower().replace("_", "-") for w in wheels.glob("*.whl")}
    absent = [NEEDED[m] for m in missing if NEEDED[m].lower().replace("_", "-") not in have]
    if absent:
        raise SystemExit(f"error: the wheelhouse {wheels} is incomplete: no wheel of {', '.join(absent)}; "
                         "run `make wheelhouse` again")
    wanted = [str(w) for w in wheels.glob("*.whl") if not w.name.startswith("rnn_zoo")]
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                             "--no-compile", "--target", str(site), *wanted])
    if result.returncode != 0:
        raise SystemExit(f"error: installing from {wheels} failed")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()


def train_slice(sizes: dict, out: Path, log=print) -> list[dict]:
    """Adding at T = 600 (or tiny) for lstm, gru, vanilla; one epoch of pixel MNIST for lstm."""
    import pandas as pd

    from experiments.planner import expand
    from experiments.train import train_run

    adding = ["params.adding." + f"{k}={v}" for k, v in sizes["adding"].items()]
    mnist = ["params.seq_mnist." + f"{k}={v}" for k, v in sizes["mnist"].items()]
    runs = expand("paper", ["seeds=0", f"train.epochs={sizes['epochs']}", f"train.patience={sizes['epochs']}",
                            *adding, *mnist], "task=adding,variant=lstm|gru|vanilla")
    runs += [r for r in expand("paper", ["seeds=0", "train.epochs=1", *mnist], "task=seq_mnist,variant=lstm")
             if r.params["order"] == "pixel"]
    rows = []
    for run in runs:
        started = time.perf_counter()
        record = train_run(run)
        row = {"task": run.label, "variant": run.variant, "steps": run.params.get("T", 784),
               "train_examples": record["train_examples"], "epochs": record["epochs_run"],
               "seconds_per_epoch": record["seconds_per_epoch"], "first_epoch_seconds": record["first_epoch_seconds"],
               "metric": next(iter(record.get("test", {"-": None}))), "status": record["status"],
               "wall_seconds": time.perf_counter() - started, "runs_as": record["runs_as"].get("recurrent", "")}
        row["test"] = record.get("test", {}).get(row["metric"]) if record["status"] == "finished" else None
        row["baseline"] = record["baseline"].get(row["metric"])
        rows.append(row)
        pd.DataFrame(rows).to_csv(out / "training.csv", index=False)  # after every run: a cut-short check keeps them
        log(f"  {row['task']} | {row['variant']}: {row['metric']} {row['test']} (baseline {row['baseline']}), "
            f"{row['seconds_per_epoch']:.2f} s/epoch, {row['runs_as']}", flush=True)
    return rows


def summary(device: str, bench_rows, training, seconds: float, tiny: bool) -> str:
    import pandas as pd

    from zoo.bench import target_lines
    from zoo.device import on_gpu

    bench = pd.DataFrame(bench_rows)
    lines = [f"# GPU check: {device}", "", f"{datetime.date.today().isoformat()}; JAX backend; "
             f"{'tiny sizes (a test of the command, not a measurement)' if tiny else 'full sizes'}; "
             f"{seconds / 60:.1f} minutes in all.", "",
             "## Training step against the fused built-in layers (paired ratios, median over rounds)", "",
             "| variant | runs as | steps | units | train ms | vs lstm | vs gru | of matmul limit |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for _, r in bench.iterrows():
        lines.append(f"| {r['variant']} | {r['runs_as']} | {r['steps']} | {r['units']} | {r['train_ms']:.2f} | "
                     f"{r['train_vs_lstm']:.2f}x | {r['train_vs_gru']:.2f}x | {100 * r['train_efficiency']:.0f}% |")
    lines += ["", *target_lines(bench_rows, gpu=on_gpu())]
    lines += ["## A slice of the paper grid", "",
              "| task | variant | test | baseline | epochs | s/epoch | runs as |", "|---|---|---:|---:|---:|---:|---|"]
    for r in training:
        test = "–" if r["test"] is None else f"{r['test']:.4g}"
        lines.append(f"| {r['task']} | {r['variant']} | {test} {r['metric']} | {r['baseline']:.4g} | {r['epochs']} | "
                     f"{r['seconds_per_epoch']:.2f} | {r['runs_as']} |")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    started = time.perf_counter()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    install(Path(args.wheelhouse), Path(args.site))
    import keras

    if keras.backend.backend() != "jax":
        raise SystemExit(f"error: the GPU check runs on the JAX backend; KERAS_BACKEND is {keras.backend.backend()!r}")
    from zoo.device import require_gpu

    try:
        device = require_gpu(args.allow_cpu)
    except RuntimeError as error:
        raise SystemExit(f"error: {error}") from None
    sizes = TINY if args.tiny else FULL
    if args.shapes:
        sizes = {**sizes, "shapes": args.shapes}
    mnist = Path(args.wheelhouse) / "mnist.npz"
    if mnist.exists() and not os.environ.get("RNNZOO_DATA"):  # no internet there: MNIST from the wheelhouse
        _seed_mnist_cache(mnist)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"GPU check on {device}: bench at {', '.join(sizes['shapes'])}, then the paper slice", flush=True)
    from zoo import bench

    code = bench.main(["--variants", sizes["variants"], "--long-variants", LONG_VARIANTS, "--shapes", *sizes["shapes"],
                       "--rounds", sizes["rounds"], "--out", str(out)])
    if code:
        return code
    import pandas as pd

    bench_rows = pd.read_csv(out / "bench-jax.csv").to_dict("records")
    training = train_slice(sizes, out)
    text = summary(device, bench_rows, training, time.perf_counter() - started, args.tiny)
    (out / "gpu-check.md").write_text(text)
    print(text)
    print(f"wrote {out}/gpu-check.md, training.csv and the bench's files in {(time.perf_counter() - started) / 60:.1f} min")
    return 0


def _seed_mnist_cache(npz: Path) -> None:
    import numpy as np

    from experiments.data import data_dir, sha256_of

    cache = data_dir() / "mnist" / "mnist.npz"
    if cache.exists():
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    with np.load(npz) as arrays:
        np.savez(cache, **{k: arrays[k] for k in arrays.files})
    cache.with_suffix(".sha256").write_text(sha256_of(cache))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.gpu_check", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("wheelhouse", help="download, here, what a GPU machine without internet needs")
    p.add_argument("--out", default=str(DEFAULT_WHEELHOUSE))
    p = sub.add_parser("run", help="install from the wheelhouse, bench and train on JAX, write reports/gpu/")
    p.add_argument("--wheelhouse", default=str(DEFAULT_WHEELHOUSE))
    p.add_argument("--site", default="/tmp/rnnzoo-site", help="where missing packages are installed")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--tiny", action="store_true", help="tiny sizes: a test of the command")
    p.add_argument("--allow-cpu", action="store_true", help="run even where JAX sees no GPU")
    p.add_argument("--shapes", nargs="+", default=None, help="bench shapes BATCHxSTEPSxFEATURESxUNITS")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "wheelhouse":
        return wheelhouse(Path(args.out))
    if args.shapes:
        from zoo.bench import parse_shape

        for shape in args.shapes:
            try:
                parse_shape(shape)
            except argparse.ArgumentTypeError as error:
                print(f"error: --shapes: {error}", file=sys.stderr)
                return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
