"""Peak memory of converting a large CSV of one's own data into the cached array form, beside
reading the same file whole with pandas (the file in Python objects).

    python -m experiments.bench_files --megabytes 1000

Generates a long-format CSV of about that size (sequence id, step, four numeric features, a
label per sequence) in a temporary folder, converts it as a file task does
(`experiments.tasks.readers`), and reads it whole with `pandas.read_csv`; each in a process of
its own, whose peak resident memory above what its libraries (pandas, Keras) take is read from
the operating system. Prints both, their ratio and the conversion's time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STEPS_PER_SEQUENCE = 50


def write_csv(path: Path, megabytes: float, seed: int = 0, shuffled: bool = False) -> int:
    """A long-format CSV of about `megabytes`; returns its rows. Its rows come grouped by
    sequence and in order, or `shuffled` within each million (so the conversion must sort)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows, chunk, sequence = 0, 1_000_000, 0
    with open(path, "w") as handle:
        handle.write("unit,step,a,b,c,d,label\n")
        while handle.tell() < megabytes * 1e6:
            units = sequence + np.arange(chunk) // STEPS_PER_SEQUENCE
            frame = pd.DataFrame({"unit": [f"unit{u}" for u in units], "step": np.arange(chunk) % STEPS_PER_SEQUENCE,
                                  **{c: rng.normal(size=chunk).round(5) for c in "abcd"},
                                  "label": np.where(units % 3 == 0, "yes", "no")})
            if shuffled:
                frame = frame.sample(frac=1.0, random_state=int(rng.integers(1 << 31)))
            frame.to_csv(handle, header=False, index=False)
            rows += chunk
            sequence = int(units[-1]) + 1
    return rows


def _resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def _child(mode: str, path: str) -> None:
    import pandas as pd

    from experiments.tasks.readers import read_table

    before = _resident_bytes()  # the libraries loaded: what converting adds is measured on top
    started = time.time()
    if mode == "convert":
        request = {"numeric": ["a", "b", "c", "d"], "categorical": [], "target": "label", "sequence": "unit",
                   "order": "step", "group": None, "split_column": None, "target_kind": "class",
                   "topology": "classification"}
        table = read_table(Path(path), "csv", request, "bench", progress=lambda message: None)
        shape = [len(table), int(table.offsets[-1])]
    else:
        frame = pd.read_csv(path)
        shape = [int(frame.unit.nunique()), len(frame)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kilobytes
    print(json.dumps({"peak_bytes": peak - before, "libraries_bytes": before, "seconds": time.time() - started,
                      "sequences_rows": shape}))


def measure(mode: str, path: Path, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "experiments.bench_files", "--child", mode, str(path)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m experiments.bench_files", description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=1000.0, help="size of the generated CSV (default 1000)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    for shuffled in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "big.csv"
            started = time.time()
            rows = write_csv(path, args.megabytes, shuffled=shuffled)
            size = path.stat().st_size
            layout = "rows shuffled (the conversion sorts)" if shuffled else "rows grouped by sequence, in order"
            print(f"generated {path.name}: {size / 1e6:.0f} MB, {rows:,} rows, {layout}, in "
                  f"{time.time() - started:.0f} s", flush=True)
            env = {**os.environ, "RNNZOO_DATA": str(Path(folder) / "cache")}
            convert = measure("convert", path, env)
            print(f"  converted: peak memory {convert['peak_bytes'] / 1e6:.0f} MB above the "
                  f"{convert['libraries_bytes'] / 1e6:.0f} MB of the libraries loaded "
                  f"({convert['peak_bytes'] / size:.2f}x the file) in {convert['seconds']:.0f} s; "
                  f"{convert['sequences_rows'][0]:,} sequences", flush=True)
            whole = measure("pandas", path, env)
            print(f"  pandas.read_csv of the whole file: peak memory {whole['peak_bytes'] / 1e6:.0f} MB "
                  f"({whole['peak_bytes'] / size:.2f}x the file) in {whole['seconds']:.0f} s", flush=True)
            print(f"  ratio conversion / whole file in pandas: {convert['peak_bytes'] / whole['peak_bytes']:.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
