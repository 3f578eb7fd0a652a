"""The results store: Optuna's storage, one study per (grid, task), one trial per run.

An SQLite file by default (no server); any SQLAlchemy URL Optuna accepts (PostgreSQL when
several machines share a grid). `optuna-dashboard sqlite:///results/store.db` shows the same
runs. Each run is a trial whose user attributes hold its record (metrics, timings, history,
status, environment); its value is the task's main metric on the test split.

Work queue: the grid's runs are enqueued as WAITING trials; a worker claims one by moving it to
RUNNING, which Optuna's storage does atomically, so two workers never train the same run.
Finished (COMPLETE) and diverged (PRUNED) runs are skipped on the next pass; failed and
interrupted ones (FAIL) are enqueued again. A worker records a heartbeat while it trains; the
runs of a worker that died (its process is gone, or its heartbeat is stale) count as
interrupted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import socket
import threading
import warnings
from pathlib import Path
from typing import Any, Iterator

import optuna
from optuna.trial import TrialState

HEARTBEAT_SECONDS = 20
GRACE_SECONDS = 120
HOST = socket.gethostname()
TERMINAL = (TrialState.COMPLETE, TrialState.PRUNED)
STATUS_STATE = {"finished": TrialState.COMPLETE, "diverged": TrialState.PRUNED,
                "failed": TrialState.FAIL, "interrupted": TrialState.FAIL}

optuna.logging.set_verbosity(optuna.logging.WARNING)
# Heartbeats are marked experimental in Optuna; they are what makes dead workers' runs resumable.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


class StoreError(RuntimeError):
    """The results store cannot be opened or used."""


def default_results_dir() -> Path:
    root = os.environ.get("RNNZOO_RESULTS")
    return Path(root) if root else Path(__file__).resolve().parents[1] / "results"


def default_storage_url(results_dir: Path | None = None) -> str:
    return f"sqlite:///{(results_dir or default_results_dir()) / 'store.db'}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    def __init__(self, url: str):
        self.url = url
        self._sqlite_path = None
        engine_kwargs: dict[str, Any] = {}
        if url.startswith("sqlite:///"):
            self._sqlite_path = Path(url[len("sqlite:///"):])
            try:
                self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot open the results store {url!r}: {error}") from None
            engine_kwargs = {"connect_args": {"timeout": 120}}
        try:
            self.storage = optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS
            )
        except Exception as error:  # noqa: BLE001 - any driver error means: cannot open
            raise StoreError(f"cannot open the results store {url!r}: {type(error).__name__}: {error}") from None

    # --- studies ------------------------------------------------------------------------------

    def study(self, grid: str, label: str, higher_is_better: bool) -> optuna.Study:
        return optuna.create_study(
            storage=self.storage, study_name=f"{grid}/{label}", load_if_exists=True,
            direction="maximize" if higher_is_better else "minimize",
        )

    def grid_studies(self, grid: str) -> dict[str, optuna.Study]:
        """The studies of a grid, by task label."""
        out = {}
        for summary in optuna.get_all_study_summaries(self.storage, include_best_trial=False):
            if summary.study_name.startswith(f"{grid}/"):
                out[summary.study_name[len(grid) + 1:]] = optuna.load_study(study_name=summary.study_name,
                                                                            storage=self.storage)
        return out

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialises enqueueing across processes of this machine (SQLite); a no-op elsewhere."""
        if self._sqlite_path is None:
            yield
            return
        with open(self._sqlite_path.with_suffix(".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- the queue ----------------------------------------------------------------------------

    def _release_dead(self, study: optuna.Study):
        """Runs whose worker died count as interrupted (FAIL), so they are enqueued again."""
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            worker = trial.user_attrs.get("worker", {})
            pid = worker.get("pid")
            if worker.get("host") == HOST and isinstance(pid, int) and pid > 0 and pid != os.getpid() and not _pid_alive(pid):
                self.storage.set_trial_user_attr(trial._trial_id, "status", "interrupted")
                self.storage.set_trial_user_attr(trial._trial_id, "error", f"worker {worker} ended without finishing the run")
                self.storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        before = {t._trial_id for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        optuna.storages.fail_stale_trials(study)  # workers on other machines whose heartbeat stopped
        for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
            if trial._trial_id in before and "status" not in trial.user_attrs:
                self.storage.set_trial_user_attr(trial._trial_id, "status", "interrupted")

    def sync(self, runs, studies: dict[str, optuna.Study]) -> dict[str, int]:
        """Enqueue every run that is neither done, running nor queued. Returns counts."""
        counts = {"done": 0, "running": 0, "queued": 0, "enqueued": 0}
        with self.lock():
            by_key: dict[str, list] = {}
            for study in studies.values():
                self._release_dead(study)
                for trial in study.get_trials(deepcopy=False):
                    by_key.setdefault(trial.user_attrs.get("run_key"), []).append(trial)
            for run in runs:
                states = {t.state for t in by_key.get(run.key, [])}
                if states & set(TERMINAL):
                    counts["done"] += 1
                elif TrialState.RUNNING in states:
                    counts["running"] += 1
                elif TrialState.WAITING in states:
                    counts["queued"] += 1
                else:
                    studies[run.label].enqueue_trial({}, user_attrs={"run_key": run.key, "spec": run.to_json()})
                    counts["enqueued"] += 1
        return counts

    def claim(self, studies: dict[str, optuna.Study], keys: set[str]) -> tuple[optuna.Study, Any] | None:
        """Atomically take one queued run of `keys`; None when there is none left."""
        for study in studies.values():
            for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
                if trial.user_attrs.get("run_key") not in keys:
                    continue
                if self.storage.set_trial_state_values(trial._trial_id, TrialState.RUNNING):
                    self.storage.set_trial_user_attr(trial._trial_id, "worker", {"host": HOST, "pid": os.getpid()})
                    return study, self.storage.get_trial(trial._trial_id)
        return None

    @contextlib.contextmanager
    def heartbeat(self, trial_id: int) -> Iterator[None]:
        """Record a heartbeat every few seconds while the body runs."""
        stop = threading.Event()

        def beat():
            while not stop.wait(HEARTBEAT_SECONDS):
                with contextlib.suppress(Exception):
                    self.storage.record_heartbeat(trial_id)

        self.storage.record_heartbeat(trial_id)
        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def finish(self, trial_id: int, record: dict, value: float | None = None):
        """Store the run's record as user attributes and end the trial by its status."""
        for key, item in record.items():
            self.storage.set_trial_user_attr(trial_id, key, _jsonable(item))
        state = STATUS_STATE[record["status"]]
        values = [value] if state == TrialState.COMPLETE and value is not None and math.isfinite(value) else None
        if state == TrialState.COMPLETE and values is None:
            state = TrialState.FAIL  # a finished run without its metric is not a result
            self.storage.set_trial_user_attr(trial_id, "status", "failed")
            self.storage.set_trial_user_attr(trial_id, "error", "no finite value of the main metric")
        self.storage.set_trial_state_values(trial_id, state, values=values)

    # --- reading ------------------------------------------------------------------------------

    def records(self, grid: str) -> list[dict]:
        """Every trial of a grid as a flat dict: spec, state, user attributes; newest last."""
        rows = []
        for label, study in self.grid_studies(grid).items():
            for trial in study.get_trials(deepcopy=False):
                attrs = dict(trial.user_attrs)
                spec = attrs.pop("spec", {})
                rows.append({**spec, **attrs, "label": spec.get("label", label), "state": trial.state.name,
                             "trial_number": trial.number, "datetime_complete":
                             trial.datetime_complete.isoformat() if trial.datetime_complete else None})
        return rows


def _jsonable(item):
    """Round-trip through JSON so NaN and numpy scalars are stored in a form Optuna accepts."""
    return json.loads(json.dumps(item, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
