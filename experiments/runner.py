"""The runner: train every run of a grid, one worker or several, resumably.

    python -m experiments run --grid quick
    python -m experiments run --grid quick --set train.epochs=3 --only 'task=adding,variant=gru'
    python -m experiments run --grid standard --workers 2

Everything the command line names is checked before anything trains. Each run's record goes
to the results store (`experiments.store`), its artifacts (best model as `.keras`, history
CSV, log, record JSON) to `results/<grid>/<task>/<variant>/seed<k>-<key>/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from experiments.artifacts import artifact_store, artifacts_location
from experiments.locations import check_writable, default_results_dir, default_storage_url, mask_url
from experiments.planner import RunSpec, expand, file_name
from experiments.store import HEARTBEAT_SECONDS, Store
from experiments.supervision import Stop, environment, exit_description, watch_parent
from experiments.tasks import get_task
from zoo.device import setup as setup_device
from zoo.device import visible_gpus


def _fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


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
                progress: Progress, stop=lambda: None, pruner: str | None = None, artifacts=None) -> dict:
    """Claim and train runs until none is left, or `stop()` names a reason to stop (then
    `Interrupted` is raised once the current run is recorded). With a `pruner` ("hyperband",
    "median"), each epoch's validation loss goes to it and a run it stops is recorded as pruned.
    A finished run's files go to the `artifacts` store (see `experiments.artifacts`).
    Returns counts by status."""
    from experiments.artifacts import upload_run
    from experiments.train import Interrupted, train_run

    by_key = {run.key: run for run in runs}
    counts: dict[str, int] = {}
    prefix = f"[{worker}] " if worker else ""
    while True:
        if stop():
            raise Interrupted(stop())
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
                    prune = None
                    if pruner is not None:
                        prune = lambda epoch, loss, claim=claim: store.should_prune(claim, epoch, loss, pruner)  # noqa: E731
                    record = train_run(run, run_dir=run_dir, log=log, stop=stop, prune=prune)
                except KeyboardInterrupt as interruption:
                    record = {"status": "interrupted", "error": str(interruption) or "interrupted by the user (Ctrl-C)"}
                    raise
                except Exception as error:  # noqa: BLE001 - recorded, and the grid goes on
                    record = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
                    traceback.print_exc(file=log)
        finally:
            record.update(environment=env, run_dir=str(run_dir), wall_seconds=time.time() - started)
            (run_dir / "record.json").write_text(json.dumps(record, indent=1, default=str))
            if artifacts is not None and record.get("status") == "finished":
                try:
                    record["artifacts"] = upload_run(store, claim, run_dir, artifacts)
                except Exception as error:  # noqa: BLE001 - the run's result is kept; its files stay local
                    record["artifacts_error"] = f"{type(error).__name__}: {error}"
                    print(f"{prefix}note: the run's files were not shared ({record['artifacts_error']}); "
                          f"they stay in {run_dir}", flush=True)
            value = record.get("test", {}).get(task.metric) if record.get("status") == "finished" else None
            if not store.finish(claim, record, value):
                print(f"{prefix}note: this run was taken over by another worker meanwhile (no heartbeat); "
                      f"its record stays in {run_dir / 'record.json'}", flush=True)
        counts[record["status"]] = counts.get(record["status"], 0) + 1
        progress.durations.append(time.time() - started)
        print(f"{prefix}done   {run.label} | {run.variant} | seed {run.seed}: {_summary(task, record)}", flush=True)
        print(f"{prefix}{progress.line()}", flush=True)


@dataclass
class Queue:
    """What a command trains: its runs, the study each is filed in (and its Optuna parameters),
    and the command line that starts one more worker on the same runs."""

    title: str  # "grid quick", "search quick": for messages
    runs: list[RunSpec]
    worker_args: list[str]
    study_of: Callable[[RunSpec], str] | None = None
    params_of: Callable[[RunSpec], tuple[dict, dict]] | None = None
    pruner: str | None = None


class Session:
    """One process of a command: its store, device, environment and signal handling."""

    def __init__(self, storage, results_dir, worker_id, mixed_precision=False, devices=None, workers=1):
        self.devices = devices  # GPU indices, one worker each (the main process takes the first)
        if worker_id is None and devices:
            os.environ["CUDA_VISIBLE_DEVICES"] = devices[0]  # before the backend starts its devices
        elif worker_id is None and workers > 1 and not visible_gpus():
            os.environ["RNNZOO_THREADS"] = str(threads_per_worker(workers))
        self.results_dir = check_writable(Path(results_dir) if results_dir else default_results_dir(),
                                          "run artifacts")
        self.storage = storage or default_storage_url(self.results_dir)
        self.artifacts = artifact_store(artifacts_location(self.results_dir))
        self.store = Store(self.storage)
        self.worker_id = worker_id
        self.stop = Stop()
        self.stop.install()
        if worker_id is not None:
            watch_parent(int(os.environ.get("RNNZOO_PARENT_PID", os.getppid())))
        self.device = setup_device(mixed_precision, threads=int(os.environ.get("RNNZOO_THREADS", "0")))
        self.env = environment(self.device)

    @property
    def is_main(self) -> bool:
        return self.worker_id is None

    def train(self, queue: Queue, workers: int) -> int:
        """Enqueue and train every run of the queue with `workers` processes; returns the exit
        status (0 every run done, 1 a run failed or a worker died, 130 interrupted)."""
        store, runs = self.store, queue.runs
        if self.is_main:
            counts = store.sync(runs, queue.study_of, queue.params_of)
            print(f"{queue.title}: {len(runs)} runs ({counts['done']} done, {counts['running']} running elsewhere, "
                  f"{counts['enqueued'] + counts['queued']} to train) | backend {self.env['backend']} | device "
                  f"{self.device} | store {mask_url(self.storage)}", flush=True)
            _taken_over(counts["released"])
            if counts["enqueued"] + counts["queued"] == 0:
                print("nothing to train: every run is done or running in another worker.", flush=True)
                return 0
        children = self._start_workers(queue, workers) if self.is_main and workers > 1 else {}
        progress = Progress(store, {r.key for r in runs}, workers)
        name = self.worker_id or ("w1" if workers > 1 else "")
        failed = status = 0
        try:
            while True:
                counts = worker_loop(store, runs, self.results_dir, self.env, name, progress, self.stop,
                                     pruner=queue.pruner, artifacts=self.artifacts)
                failed += counts.get("failed", 0)
                for child_name, child in children.items():
                    code = child.wait()
                    if code != 0:
                        status = 1
                        print(f"[{child_name}] worker {exit_description(code)}", file=sys.stderr, flush=True)
                children = {}
                if not self.is_main:
                    break
                # A dead worker's run is released and trained here, so that no run is lost; runs
                # still running on other machines are waited for (and taken over if they die).
                released = self._wait_for_others(queue, progress)
                if not released:
                    break
                _taken_over(released)
        except KeyboardInterrupt as interruption:
            print(f"{interruption or 'interrupted'}: the current run is marked interrupted; run the same command "
                  "again to resume.", file=sys.stderr, flush=True)
            if self.stop() is None:  # not yet forwarded by the signal handler
                for child in children.values():
                    with contextlib.suppress(ProcessLookupError):
                        child.send_signal(signal.SIGINT)
            for child in children.values():
                child.wait()
            return 130
        if self.is_main and workers > 1:
            print(progress.line(), flush=True)
        if failed:
            status = 1
            retry = " ".join(shlex.quote(a) for a in _without_phase(queue.worker_args))
            print(f"{failed} run(s) failed; the store records each with its error (also in the report and in each "
                  f"run's run.log). Retry them (runs that are done are not trained again):\n"
                  f"  python -m experiments {retry}", file=sys.stderr)
        return status

    def _wait_for_others(self, queue: Queue, progress: Progress) -> list:
        """Wait while runs of the queue are running elsewhere; returns the runs released because
        their worker died (or whose heartbeat stopped), to be trained here."""
        keys = {r.key for r in queue.runs}
        announced = False
        while True:
            # Only the runs of dead workers are enqueued again here: a run that failed in this
            # command stays failed in the store, with its reason, until the next command retries it.
            released = self.store.sync(queue.runs, queue.study_of, queue.params_of, enqueue=False)["released"]
            if released:
                again = {RunSpec.from_json(spec).key for spec in released if spec}
                self.store.sync([r for r in queue.runs if r.key in again], queue.study_of, queue.params_of)
                return released
            if self.store.progress(keys)["running"] == 0:
                return released
            if not announced:
                print(f"waiting for {self.store.progress(keys)['running']} run(s) running elsewhere; a run "
                      f"whose worker stops is taken over here (Ctrl-C stops waiting)", flush=True)
                announced = True
            if self.stop():
                raise KeyboardInterrupt(self.stop())
            time.sleep(min(5.0, HEARTBEAT_SECONDS))

    def _start_workers(self, queue: Queue, workers: int) -> dict[str, subprocess.Popen]:
        children = {}
        gpus = self.devices or visible_gpus()
        for i in range(1, workers):
            cmd = [sys.executable, "-m", "experiments", *queue.worker_args, "--storage", self.storage,
                   "--results", str(self.results_dir), "--worker-id", f"w{i + 1}"]
            env_vars = {**os.environ, "RNNZOO_PARENT_PID": str(os.getpid())}
            if gpus:  # one worker per GPU
                env_vars["CUDA_VISIBLE_DEVICES"] = gpus[i % len(gpus)]
            else:  # N workers share the cores instead of each taking them all
                env_vars["RNNZOO_THREADS"] = str(threads_per_worker(workers))
                env_vars["XLA_FLAGS"] = (env_vars.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                                         f"intra_op_parallelism_threads={threads_per_worker(workers)}").strip()
            # A session of its own: a terminal's Ctrl-C reaches the main process only, which
            # forwards one SIGINT, so no worker is cut short twice while it writes its record.
            children[f"w{i + 1}"] = subprocess.Popen(cmd, env=env_vars, start_new_session=True)
            self.stop.children.append(children[f"w{i + 1}"])
        print(f"started {workers} workers", flush=True)
        return children


def _without_phase(args: list[str]) -> list[str]:
    """A worker's arguments as a user types them: without the internal `--phase X`."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--phase":
            skip = True
        else:
            out.append(arg)
    return out


def _taken_over(specs):
    for spec in specs:
        print(f"  taken over: {spec.get('label')} | {spec.get('variant')} | seed {spec.get('seed')} (its worker died "
              "or its heartbeat stopped; marked interrupted, trained again here)", flush=True)


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def check_workers(workers, devices: str | None = None) -> tuple[int, list[str] | None]:
    """(number of workers, GPU indices to pin them to or None) from `--workers N|auto` and
    `--devices 0,1`; a ValueError naming a GPU that does not exist."""
    gpus = visible_gpus()
    if devices is not None:
        wanted = [d.strip() for d in str(devices).split(",") if d.strip()]
        if not wanted:
            raise ValueError(f"--devices takes GPU indices such as 0,1, got {devices!r}.")
        for device in wanted:
            if device not in gpus:
                have = f"this machine has GPU(s) {', '.join(gpus)}" if gpus else "this machine shows no GPU (nvidia-smi)"
                raise ValueError(f"--devices: GPU {device} does not exist; {have}.")
        return len(wanted), wanted
    if workers == "auto":
        return (len(gpus), gpus) if gpus else (1, None)
    if isinstance(workers, str) and workers.isdigit():
        workers = int(workers)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers must be a positive integer or auto, got {workers!r}.")
    return workers, None


def run(grid: str, overrides=None, only=None, storage=None, results_dir=None, workers: int | str = 1,
        worker_id: str | None = None, devices: str | None = None) -> int:
    """The `run` command. Returns the process exit code: 0 when every run of the grid is done,
    1 when a run failed or a worker died, 130 when interrupted."""
    workers, devices = check_workers(workers, devices)
    runs = expand(grid, overrides, only)  # every check, before anything trains
    if not runs:
        raise ValueError(f"grid {grid!r} with these filters has no runs.")
    session = Session(storage, results_dir, worker_id, any(r.train["mixed_precision"] for r in runs), devices,
                      workers)
    session.store.open_grid(runs[0].grid, {r.label: get_task(r.task).higher_is_better for r in runs})
    grid_arg = str(Path(grid).resolve()) if runs[0].grid != grid else grid  # a grid file, for the workers
    args = ["run", "--grid", grid_arg, *[a for item in overrides or [] for a in ("--set", item)],
            *(["--only", only] if only else [])]
    return session.train(Queue(f"grid {runs[0].grid}", runs, args), workers)
