"""The results store: the queue of runs and their records, on Optuna's storage.

The runner and the report see only `Store` and plain records (`ClaimedRun`, dicts); Optuna stays in
this file and `experiments.store_search` (a search's proposals and pruning), so another backend
would touch these two files alone.

Layout: one Optuna study per (grid, task label), named "<grid>/<label>"; one trial per attempt
at a run, whose user attributes hold the run's key, spec and record (metrics, timings, history,
status, environment) and whose value is the task's main metric on the test split. An SQLite
file by default (no server); any SQLAlchemy URL Optuna accepts (PostgreSQL when several machines
share a grid). `optuna-dashboard sqlite:///results/store.db` shows the same runs.

The queue: `sync` enqueues every run that is neither done, running nor queued, as a WAITING
trial. `claim` moves one WAITING trial to RUNNING with one conditional UPDATE (`... WHERE
state = 'WAITING'`), which the database applies atomically on every backend, so a run is
claimed by one worker only. Finished (COMPLETE) and diverged (PRUNED) runs are done; failed and
interrupted ones (FAIL) are enqueued again. A worker records a heartbeat while it trains; a
run whose worker died (its process is gone, or its heartbeat is stale) is marked interrupted.
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
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import optuna
import sqlalchemy
from optuna.storages._rdb import models as _models
from optuna.trial import TrialState

from experiments.locations import mask_url
from experiments.store_search import SearchProposals, _distributions
from experiments.supervision import seconds_from_environment

__all__ = ["Store", "StoreError", "ClaimedRun"]

# A worker records a heartbeat this often; a run whose heartbeat is older than the grace is taken
# over by another machine. `RNNZOO_HOST` names this machine (default: its host name).
HEARTBEAT_SECONDS = seconds_from_environment("RNNZOO_HEARTBEAT_SECONDS", 20)
GRACE_SECONDS = seconds_from_environment("RNNZOO_HEARTBEAT_GRACE", 120)
HOST = os.environ.get("RNNZOO_HOST") or socket.gethostname()
DONE = (TrialState.COMPLETE, TrialState.PRUNED)
STATUS_STATE = {"finished": TrialState.COMPLETE, "diverged": TrialState.PRUNED, "pruned": TrialState.PRUNED,
                "failed": TrialState.FAIL, "interrupted": TrialState.FAIL}
ADVISORY_LOCK = 730_211_951  # the PostgreSQL advisory lock that serialises enqueueing

optuna.logging.set_verbosity(optuna.logging.WARNING)
# Heartbeats are marked experimental in Optuna; they are what makes dead workers' runs resumable.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


class StoreError(RuntimeError):
    """The results store cannot be opened or used."""


@dataclass(frozen=True)
class ClaimedRun:
    """A run a worker has claimed: train it, then `Store.finish` it."""

    trial_id: int
    label: str
    run_key: str
    spec: dict
    study: str = ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # Optuna stores naive UTC


class Store(SearchProposals):
    """The results store at `url` (an SQLAlchemy URL).

    `create=False` opens only a store that exists (a report must not create an empty store at a
    mistyped path); on other URLs it has no effect.
    """

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self._sqlite_path: Path | None = None
        self._studies: dict[str, int] = {}  # "grid/label" -> study id
        engine_kwargs: dict[str, Any] = {}
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":  # a file: locks and checks apply
            self._sqlite_path = Path(url[len("sqlite:///"):])
            if not create and not self._sqlite_path.is_file():
                raise StoreError(f"no results store at {self._sqlite_path}; check the path, or run a grid first")
            try:
                self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot open the results store {mask_url(url)!r}: {error}") from None
            engine_kwargs = {"connect_args": {"timeout": 120}}
        with self.lock():  # two first starts would race on creating the tables
            for attempt in range(3):
                try:
                    self.storage = optuna.storages.RDBStorage(
                        url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_SECONDS,
                        grace_period=GRACE_SECONDS)
                    break
                except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
                    time.sleep(0.5 * (attempt + 1))  # another process was creating the schema at the same time
                except Exception as error:  # noqa: BLE001 - any driver error means: cannot open
                    raise StoreError(self._describe(error)) from None
            else:
                raise StoreError(f"cannot open the results store {mask_url(url)!r}: its schema could not be created")

    def _describe(self, error: Exception) -> str:
        if isinstance(error, optuna.exceptions.StorageInternalError) and error.__cause__ is not None:
            error = error.__cause__  # Optuna's wrapper guesses "exceeding max length"; the cause says what happened
        text = f"{type(error).__name__}: {error}".replace(self.url, mask_url(self.url))
        text = mask_url(text)
        if self._sqlite_path is not None and isinstance(error, (sqlalchemy.exc.DatabaseError, json.JSONDecodeError)):
            return (f"the results store {self._sqlite_path} is damaged or not an SQLite file "
                    f"({text.splitlines()[0][:200]}); move it away (or restore a copy) and run again")
        return f"cannot open the results store {mask_url(self.url)!r}: {text.splitlines()[0][:300]}"

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Database errors (and records that do not parse) become a `StoreError` naming the store."""
        try:
            yield
        except (sqlalchemy.exc.DatabaseError, optuna.exceptions.StorageInternalError, json.JSONDecodeError) as error:
            raise StoreError(self._describe(error)) from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialises enqueueing and schema creation across processes: a file lock beside an
        SQLite store (one machine), an advisory lock on PostgreSQL (any number of machines)."""
        if self._sqlite_path is not None:
            with open(self._sqlite_path.with_name(self._sqlite_path.name + ".lock"), "w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        if not self.url.startswith(("postgresql", "postgres")):
            yield  # other servers: the conditional claim still keeps a run from being trained twice
            return
        engine = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK})
                try:
                    yield
                finally:
                    connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})
        except sqlalchemy.exc.OperationalError as error:
            raise StoreError(self._describe(error)) from None
        finally:
            engine.dispose()

    # --- studies ------------------------------------------------------------------------------

    def open_studies(self, directions: dict[str, bool]) -> None:
        """Make sure every study exists; `directions`: study name ("<grid>/<label>[/...]") ->
        whether higher values are better."""
        for name, higher in directions.items():
            if name in self._studies:
                continue
            with self._guard():
                study = optuna.create_study(storage=self.storage, study_name=name, load_if_exists=True,
                                            direction="maximize" if higher else "minimize")
            self._studies[name] = study._study_id

    def open_grid(self, grid: str, directions: dict[str, bool]) -> None:
        """The studies of a grid, one per task label; `directions`: label -> higher is better."""
        self.open_studies({f"{grid}/{label}": higher for label, higher in directions.items()})

    def _grid_study_ids(self, grid: str) -> dict[str, int]:
        """label -> study id of every study of the grid in the store."""
        with self._guard():
            summaries = self.storage.get_all_studies()
        return {s.study_name[len(grid) + 1:]: s._study_id for s in summaries if s.study_name.startswith(f"{grid}/")}

    def _trials(self, study_ids: Iterable[int], states=None):
        with self._guard():
            for study_id in study_ids:
                yield from self.storage.get_all_trials(study_id, deepcopy=False, states=states)

    # --- the queue ----------------------------------------------------------------------------

    def _transition(self, trial_id: int, before: TrialState, after: TrialState) -> bool:
        """Move a trial from `before` to `after` in one conditional UPDATE; False if it was not in `before`."""
        values: dict[str, Any] = {"state": after}
        if after == TrialState.RUNNING:
            values["_datetime_start_utc"] = _now_utc()
        elif after == TrialState.WAITING:  # a proposal handed to the queue
            values["_datetime_start_utc"] = None
        else:
            values["_datetime_complete_utc"] = _now_utc()
        statement = (sqlalchemy.update(_models.TrialModel)
                     .where(_models.TrialModel.trial_id == trial_id, _models.TrialModel.state == before)
                     .values(values))
        with self._guard(), self.storage.engine.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def _set_attrs(self, trial_id: int, attrs: dict) -> bool:
        """Write user attributes; False if the trial has meanwhile finished."""
        try:
            with self._guard():
                for key, value in attrs.items():
                    self.storage.set_trial_user_attr(trial_id, key, _jsonable(value))
        except optuna.exceptions.UpdateFinishedTrialError:
            return False
        return True

    def _release_dead(self, study_ids: Iterable[int]) -> list[dict]:
        """Runs whose worker died count as interrupted (FAIL), so they are enqueued again.
        Returns the released runs' specs."""
        released = []
        study_ids = list(study_ids)
        for trial in list(self._trials(study_ids, states=(TrialState.RUNNING,))):
            worker = trial.user_attrs.get("worker", {})
            pid = worker.get("pid")
            if (worker.get("host") == HOST and isinstance(pid, int) and pid > 0 and pid != os.getpid()
                    and not _pid_alive(pid)):
                reason = f"worker {worker} ended without finishing the run"
                if self._interrupt(trial._trial_id, reason):
                    released.append(trial.user_attrs.get("spec", {}))
        for study_id in study_ids:  # workers on other machines whose heartbeat stopped
            with self._guard():
                stale = self.storage._get_stale_trial_ids(study_id)
            for trial_id in stale:
                if self._interrupt(trial_id, f"no heartbeat for over {GRACE_SECONDS} s: the worker died or was cut off"):
                    released.append(self.storage.get_trial(trial_id).user_attrs.get("spec", {}))
        return released

    def _interrupt(self, trial_id: int, reason: str) -> bool:
        """Mark a RUNNING trial interrupted; False when another worker got there first."""
        return self._set_attrs(trial_id, {"status": "interrupted", "error": reason}) and self._transition(
            trial_id, TrialState.RUNNING, TrialState.FAIL)

    def sync(self, runs, study_of=None, params_of=None, enqueue: bool = True) -> dict[str, int]:
        """Enqueue every run that is neither done, running nor queued, in its study
        (`study_of(run)`, by default "<grid>/<label>"), with Optuna parameters if `params_of(run)`
        gives (values, distributions) (e.g. the settings a search sampled, so that Optuna's
        importance views work on them). A run whose key is done in any study of its grid is done.
        With `enqueue=False` nothing is enqueued (a failed run stays failed until the next command).
        Returns counts, and in "released" the specs of dead workers' runs marked interrupted."""
        study_of = study_of or (lambda run: f"{run.grid}/{run.label}")
        counts: dict[str, Any] = {"done": 0, "running": 0, "queued": 0, "enqueued": 0, "failed": 0}
        grids = {run.grid for run in runs}
        with self.lock():
            ids = {name: sid for name, sid in self._studies.items() if name.split("/", 1)[0] in grids}
            counts["released"] = self._release_dead(ids.values())
            by_key: dict[str, set] = {}
            for trial in self._trials(ids.values()):
                by_key.setdefault(trial.user_attrs.get("run_key"), set()).add(trial.state)
            for run in runs:
                states = by_key.get(run.key, set())
                if states & set(DONE):
                    counts["done"] += 1
                elif TrialState.RUNNING in states:
                    counts["running"] += 1
                elif TrialState.WAITING in states:
                    counts["queued"] += 1
                elif not enqueue:
                    counts["failed"] += 1
                else:
                    values, distributions = params_of(run) if params_of else ({}, {})
                    template = optuna.trial.create_trial(
                        state=TrialState.WAITING, params=values, distributions=_distributions(distributions),
                        user_attrs={"run_key": run.key, "spec": run.to_json()})
                    with self._guard():
                        self.storage.create_new_trial(self._studies[study_of(run)], template_trial=template)
                    by_key[run.key] = {TrialState.WAITING}  # a run given twice is enqueued once
                    counts["enqueued"] += 1
        return counts

    def _done_in_grid(self, key: str, grid: str) -> bool:
        """Whether the run `key` is done in a study of `grid`: one query, not every record read."""
        attribute, trial = _models.TrialUserAttributeModel, _models.TrialModel
        study_ids = [sid for name, sid in self._studies.items() if name.split("/", 1)[0] == grid]
        statement = (sqlalchemy.select(sqlalchemy.func.count()).select_from(trial)
                     .join(attribute, attribute.trial_id == trial.trial_id)
                     .where(trial.study_id.in_(study_ids), trial.state.in_(DONE), attribute.key == "run_key",
                            attribute.value_json == json.dumps(key)))
        with self._guard(), self.storage.engine.connect() as connection:
            return connection.execute(statement).scalar() > 0

    def claim(self, keys: set[str]) -> ClaimedRun | None:
        """Take one queued run whose key is in `keys`; None when none is left. Safe with any
        number of workers: a run another worker took first is skipped, and so is a queued run that
        is done meanwhile (imported from another store, say)."""
        for study, study_id in self._studies.items():
            for trial in self._trials([study_id], states=(TrialState.WAITING,)):
                key = trial.user_attrs.get("run_key")
                if (key not in keys or self._done_in_grid(key, study.split("/", 1)[0])
                        or not self._transition(trial._trial_id, TrialState.WAITING, TrialState.RUNNING)):
                    continue
                self._set_attrs(trial._trial_id, {"worker": {"host": HOST, "pid": os.getpid()}})
                spec = trial.user_attrs["spec"]
                return ClaimedRun(trial._trial_id, spec.get("label", ""), key, spec, study)
        return None

    @contextlib.contextmanager
    def heartbeat(self, claim: ClaimedRun) -> Iterator[None]:
        """Record a heartbeat every few seconds while the body runs."""
        stop = threading.Event()

        def beat():
            while not stop.wait(HEARTBEAT_SECONDS):
                with contextlib.suppress(Exception):
                    self.storage.record_heartbeat(claim.trial_id)

        with self._guard():
            self.storage.record_heartbeat(claim.trial_id)
        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def finish(self, claim: ClaimedRun, record: dict, value: float | None = None) -> bool:
        """Store the run's record and end the trial by its status. False when the trial was
        meanwhile taken from this worker (its heartbeat went stale); the record is then not stored."""
        state = STATUS_STATE[record["status"]]
        values = [value] if state == TrialState.COMPLETE and value is not None and math.isfinite(value) else None
        if state == TrialState.COMPLETE and values is None:
            # A finished run without its metric is not a result.
            state, record = TrialState.FAIL, {**record, "status": "failed", "error": "no finite value of the main metric"}
        if not self._set_attrs(claim.trial_id, record):
            return False
        try:
            with self._guard():
                self.storage.set_trial_state_values(claim.trial_id, state, values=values)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False
        return True

    # --- reading ------------------------------------------------------------------------------

    def progress(self, keys: set[str]) -> dict[str, int]:
        """Counts over the runs with these keys: done (finished or diverged), failed (the last
        attempt failed or was interrupted and none is done), running, queued."""
        latest: dict[str, Any] = {}
        done: set[str] = set()
        for trial in self._trials(self._studies.values()):
            key = trial.user_attrs.get("run_key")
            if key not in keys:
                continue
            if trial.state in DONE:
                done.add(key)
            if key not in latest or trial.number > latest[key].number:
                latest[key] = trial
        counts = {"done": len(done), "failed": 0, "running": 0, "queued": 0, "total": len(keys)}
        for key, trial in latest.items():
            if key in done:
                continue
            state = {TrialState.FAIL: "failed", TrialState.RUNNING: "running", TrialState.WAITING: "queued"}.get(trial.state)
            if state:
                counts[state] += 1
        return counts

    def records(self, grid: str) -> list[dict]:
        """Every attempt at a run of the grid as a flat dict: spec, user attributes, `state`,
        `study`, `trial_number`, `sampled` (the Optuna parameters) and their `distributions`,
        `intermediate` values and `datetime_complete`; oldest first within each study."""
        rows = []
        for label, study_id in self._grid_study_ids(grid).items():
            for trial in self._trials([study_id]):
                attrs = dict(trial.user_attrs)
                spec = attrs.pop("spec", {})
                rows.append({**spec, **attrs, "label": spec.get("label", label), "state": trial.state.name,
                             "study": f"{grid}/{label}", "trial_number": trial.number, "sampled": dict(trial.params),
                             "distributions": {k: optuna.distributions.distribution_to_json(d)
                                               for k, d in trial.distributions.items()},
                             "intermediate": dict(trial.intermediate_values),
                             "datetime_complete": trial.datetime_complete.isoformat() if trial.datetime_complete
                             else None})
        return rows

    # --- moving runs between stores ------------------------------------------------------------

    def export_trials(self, grid: str) -> list[dict]:
        """Every done attempt (finished or diverged) at a run of `grid`, as plain dicts that
        `import_trials` takes back: the study, its direction, the state, value, Optuna parameters,
        user attributes (spec and record) and intermediate values. Failed and interrupted attempts
        are left out: they are not results, and the runner trains them again."""
        rows = []
        for label, study_id in self._grid_study_ids(grid).items():
            with self._guard():
                direction = self.storage.get_study_directions(study_id)[0].name.lower()
            for trial in self._trials([study_id], states=DONE):
                rows.append({
                    "study": f"{grid}/{label}", "direction": direction, "state": trial.state.name,
                    "value": trial.value, "params": dict(trial.params),
                    "distributions": {k: optuna.distributions.distribution_to_json(d)
                                      for k, d in trial.distributions.items()},
                    "user_attrs": dict(trial.user_attrs),
                    "intermediate": {str(step): v for step, v in trial.intermediate_values.items()},
                    "datetime_start": trial.datetime_start.isoformat() if trial.datetime_start else None,
                    "datetime_complete": trial.datetime_complete.isoformat() if trial.datetime_complete else None,
                })
        return rows

    def import_trials(self, rows: list[dict]) -> dict[str, int]:
        """Add the attempts `export_trials` gave (from this store or another one) as done trials,
        except a run whose key is already done in a study of its grid, so importing twice adds
        nothing. Studies are made where missing. Returns counts: imported, already (skipped)."""
        counts = {"imported": 0, "already": 0}
        with self.lock():
            self.open_studies({row["study"]: row["direction"] == "maximize" for row in rows})
            done: dict[str, set] = {}  # grid -> keys done in any of its studies
            for row in rows:
                grid = row["study"].split("/", 1)[0]
                if grid not in done:
                    done[grid] = {t.user_attrs.get("run_key")
                                  for t in self._trials(self._grid_study_ids(grid).values(), states=DONE)}
                key = row["user_attrs"].get("run_key")
                if key in done[grid]:
                    counts["already"] += 1
                    continue
                template = optuna.trial.create_trial(
                    state=TrialState[row["state"]], value=row["value"], params=row["params"],
                    distributions={k: optuna.distributions.json_to_distribution(d)
                                   for k, d in row["distributions"].items()},
                    user_attrs=row["user_attrs"],
                    intermediate_values={int(step): v for step, v in row["intermediate"].items()})
                for field in ("datetime_start", "datetime_complete"):  # when it ran, not when it was imported
                    if row.get(field):
                        setattr(template, field, datetime.fromisoformat(row[field]))
                with self._guard():
                    self.storage.create_new_trial(self._studies[row["study"]], template_trial=template)
                done[grid].add(key)
                counts["imported"] += 1
        return counts


def _jsonable(item):
    """Round-trip through JSON so NaN and numpy scalars are stored in a form Optuna accepts."""
    return json.loads(json.dumps(item, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
