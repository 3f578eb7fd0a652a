"""The runner: train every run of a grid, one worker or several, resumably.

    python -m experiments run --grid quick
    python -m experiments run --grid quick --set train.epochs=3 --only 'task=adding,variant=gru'
    python -m experiments run --grid standard --workers 2

Everything the command line names is checked before anything trains. Each run's record goes
to the results store (`experiments.store`), its artifacts (best model as `.keras`, history
CSV, log, record JSON) to `results/<grid>/<task>/<variant>/seed<k>-<key>/`.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from experiments.grids import expand, file_name
from experiments.settings import RunSpec
from experiments.store import Store, default_results_dir, default_storage_url, mask_url
from experiments.tasks import get_task


def _fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def setup_device(mixed_precision: bool = False) -> str:
    """Use the GPU when the backend sees one (memory growth on TensorFlow); describe the device."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # each run builds new models; their first traces are expected
        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:
                pass  # already initialised
        device = f"GPU x{len(gpus)} ({tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU')})" if gpus else "CPU"
    elif backend == "jax":
        import jax

        devices = jax.devices()
        device = f"{devices[0].platform.upper()} x{len(devices)} ({devices[0].device_kind})"
    else:
        device = "CPU"
    if mixed_precision:
        device += ", mixed precision"
    return device


def environment(device: str) -> dict:
    import keras

    env = {"backend": keras.backend.backend(), "keras": keras.__version__, "device": device,
           "python": platform.python_version(), "host": platform.node()}
    for module in ("tensorflow", "jax"):
        try:
            env[module] = __import__(module).__version__
        except ImportError:
            pass
    try:
        env["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        env["git_commit"] = None
    return env


def run_dir_for(results_dir: Path, run: RunSpec) -> Path:
    return results_dir / run.grid / file_name(run.label) / run.variant / f"seed{run.seed}-{run.key}"


def _summary(task, record: dict) -> str:
    if record["status"] != "finished":
        return record["status"] + (f": {record.get('error', '')[:200]}" if record.get("error") else "")
    score = record["test"][task.metric]
    base = record["baseline"].get(task.metric)
    base_text = f" (baseline {base:.4g})" if base is not None else ""
    return f"test {task.metric} {score:.4g}{base_text}, {record['epochs_run']} epochs, {_fmt_seconds(record['train_seconds'])}"


class Progress:
    """Runs done / total over all workers (read from the store), with an estimate of time left."""

    def __init__(self, store: Store, keys: set[str], workers: int):
        self.store, self.keys, self.workers = store, keys, workers
        self.start = time.time()
        self.durations: list[float] = []

    def line(self) -> str:
        counts = self.store.progress(self.keys)
        done, total = counts["done"], counts["total"]
        width = 30
        filled = int(width * done / total) if total else width
        eta = ""
        if self.durations and done < total:
            eta = f" | ETA {_fmt_seconds(sum(self.durations) / len(self.durations) * (total - done) / self.workers)}"
        failed_text = f" | {counts['failed']} failed" if counts["failed"] else ""
        return (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs{failed_text} | "
                f"elapsed {_fmt_seconds(time.time() - self.start)}{eta}")


def worker_loop(store: Store, runs: list[RunSpec], results_dir: Path, env: dict, worker: str,
                progress: Progress) -> dict:
    """Claim and train runs until none is left. Returns counts by status."""
    by_key = {run.key: run for run in runs}
    counts: dict[str, int] = {}
    prefix = f"[{worker}] " if worker else ""
    while True:
        claim = store.claim(set(by_key))
        if claim is None:
            return counts
        run = by_key[claim.run_key]
        task = get_task(run.task)
        run_dir = run_dir_for(results_dir, run)
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"{prefix}start  {run.label} | {run.variant} | seed {run.seed}", flush=True)
        started = time.time()
        record: dict = {}
        try:
            with store.heartbeat(claim), open(run_dir / "run.log", "w") as log:
                print(f"run {run.key}: {json.dumps(run.to_json())}\nenvironment: {json.dumps(env)}", file=log, flush=True)
                try:
                    from experiments.train import train_run

                    record = train_run(run, run_dir=run_dir, log=log)
                except KeyboardInterrupt:
                    record = {"status": "interrupted", "error": "interrupted by the user (Ctrl-C)"}
                    raise
                except Exception as error:  # noqa: BLE001 - recorded, and the grid goes on
                    record = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
                    traceback.print_exc(file=log)
        finally:
            record.update(environment=env, run_dir=str(run_dir), wall_seconds=time.time() - started)
            (run_dir / "record.json").write_text(json.dumps(record, indent=1, default=str))
            value = record.get("test", {}).get(task.metric) if record.get("status") == "finished" else None
            store.finish(claim, record, value)
        counts[record["status"]] = counts.get(record["status"], 0) + 1
        progress.durations.append(time.time() - started)
        print(f"{prefix}done   {run.label} | {run.variant} | seed {run.seed}: {_summary(task, record)}", flush=True)
        print(f"{prefix}{progress.line()}", flush=True)


def run(grid: str, overrides=None, only=None, storage=None, results_dir=None, workers: int = 1,
        worker_id: str | None = None) -> int:
    """The `run` command. Returns the process exit code."""
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {workers!r}.")
    runs = expand(grid, overrides, only)  # every check, before anything trains
    if not runs:
        raise ValueError(f"grid {grid!r} with these filters has no runs.")
    results_dir = Path(results_dir) if results_dir else default_results_dir()
    storage = storage or default_storage_url(results_dir)
    store = Store(storage)
    store.open_grid(grid, {r.label: get_task(r.task).higher_is_better for r in runs})

    mixed = any(r.train["mixed_precision"] for r in runs)
    device = setup_device(mixed)
    env = environment(device)
    is_main = worker_id is None
    if is_main:
        counts = store.sync(runs)
        print(f"grid {grid}: {len(runs)} runs ({counts['done']} done, {counts['running']} running elsewhere, "
              f"{counts['enqueued'] + counts['queued']} to train) | backend {env['backend']} | device {device} "
              f"| store {mask_url(storage)}", flush=True)
        if counts["enqueued"] + counts["queued"] == 0:
            print("nothing to train: every run of this grid is done or running in another worker.", flush=True)
            return 0

    children = []
    if is_main and workers > 1:
        for i in range(1, workers):
            cmd = [sys.executable, "-m", "experiments", "run", "--grid", grid, "--storage", storage,
                   "--results", str(results_dir), "--worker-id", f"w{i + 1}"]
            for item in overrides or []:
                cmd += ["--set", item]
            if only:
                cmd += ["--only", only]
            env_vars = dict(os.environ)
            gpus = _visible_gpus()
            if gpus:  # one worker per GPU
                env_vars["CUDA_VISIBLE_DEVICES"] = gpus[i % len(gpus)]
            children.append(subprocess.Popen(cmd, env=env_vars))
        print(f"started {workers} workers", flush=True)

    progress = Progress(store, {r.key for r in runs}, workers)
    name = worker_id or ("w1" if workers > 1 else "")
    try:
        counts = worker_loop(store, runs, results_dir, env, name, progress)
    except KeyboardInterrupt:
        print("\ninterrupted: the current run is marked interrupted; run the same command again to resume.",
              file=sys.stderr, flush=True)
        for child in children:
            child.send_signal(signal.SIGINT)
        for child in children:
            child.wait()
        return 130
    status = 0
    for child in children:
        status = max(status, child.wait())
    if is_main and children:
        print(progress.line(), flush=True)
    if counts.get("failed"):
        print(f"{counts['failed']} run(s) failed; their errors are in the report and in each run's run.log. "
              "Run the same command again to retry them.", file=sys.stderr)
    return status


def _visible_gpus() -> list[str]:
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed:
        return [g for g in listed.split(",") if g.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU")]
