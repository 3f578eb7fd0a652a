"""Reading a grid's results out of the store into tables (pandas), one row per run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from experiments.planner import RunSpec
from experiments.store import Store
from experiments.tasks import get_task


def load_runs(store: Store, grid: str):
    """Every attempt at a run of the grid as a DataFrame (one row per trial), newest last."""
    import pandas as pd

    rows = store.records(grid)
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    # A trial ended outside the runner (e.g. failed by Optuna's own stale-heartbeat check) has no status.
    frame["status"] = frame.get("status", pd.Series(dtype=object)).fillna(frame["state"].map(
        {"WAITING": "queued", "RUNNING": "running", "FAIL": "interrupted", "COMPLETE": "finished", "PRUNED": "diverged"}))
    return frame


def latest_per_run(frame):
    """One row per (task label, variant, seed): the newest finished one, else the newest of any status."""
    if frame.empty:
        return frame
    frame = frame.assign(_finished=(frame["status"] == "finished").astype(int))
    frame = frame.sort_values(["_finished", "datetime_complete", "trial_number"], na_position="first")
    return frame.groupby(["label", "variant", "seed"], as_index=False).tail(1).drop(columns="_finished")


def main_metric(row) -> float:
    """The task's main metric on the test split, or nan."""
    task = get_task(row["task"])
    test = row.get("test")
    if isinstance(test, dict) and task.metric in test:
        return float(test[task.metric])
    return math.nan


@dataclass
class Results:
    """What the report sections read: the runs of one configuration of a grid."""

    grid: str
    description: str
    store_url: str
    runs: list[RunSpec]
    frame: object  # DataFrame: one row per run of this configuration (latest attempt)
    finished: object  # DataFrame: the finished ones, with `score` (the main test metric)
    problems: object  # DataFrame: runs whose latest attempt is not finished
    missing: list[tuple] = field(default_factory=list)  # (label, variant, seed) never attempted
    other_configurations: int = 0  # stored runs of the grid under other settings, not reported
    env: dict = field(default_factory=dict)
    configuration: str = ""  # the --set and --only that make this configuration, in words
    other_settings: list = field(default_factory=list)  # "key=value" of one stored run under other settings


def load_results(grid: str, description: str, store: Store, runs: list[RunSpec], configuration: str = "") -> Results:
    """The grid's runs as configured now (`runs`, from `expand`); stored runs of the same grid
    under other settings (another `--set`) are counted, never mixed in."""
    import pandas as pd

    everything = load_runs(store, grid)
    keys = {run.key for run in runs}
    other_settings = []
    if everything.empty:
        current = everything
        others = 0
    else:
        mine = everything["run_key"].isin(keys)
        current = everything[mine]
        others = int(everything.loc[~mine, "run_key"].nunique())
        other_settings = settings_apart(everything.loc[~mine].iloc[0].to_dict(), runs) if others else []
    frame = latest_per_run(current)
    if frame.empty:
        frame = pd.DataFrame(columns=["label", "variant", "seed", "status", "task"])
    frame = frame.copy()
    frame["score"] = [main_metric(row) for _, row in frame.iterrows()] if len(frame) else []
    finished = frame[(frame["status"] == "finished") & frame["score"].notna()].copy()
    attempted = {(r["label"], r["variant"], int(r["seed"])) for _, r in frame.iterrows()}
    missing = sorted({(r.label, r.variant, r.seed) for r in runs} - attempted)
    problems = frame[frame["status"] != "finished"]
    env = next((r["environment"] for _, r in frame.iloc[::-1].iterrows()
                if isinstance(r.get("environment"), dict)), {})
    return Results(grid, description, store.url, runs, frame, finished, problems, missing, others, env, configuration,
                   other_settings)


def settings_apart(spec: dict, runs: list[RunSpec]) -> list[str]:
    """The `--set` items that take `runs` (the configuration reported) to a stored run (`spec`,
    its record): its settings, task parameters, size and seed where they differ."""
    if not isinstance(spec, dict) or not runs:
        return []
    mine = next((r for r in runs if r.label == spec.get("label")), runs[0])
    items = [f"{section}.{key}={value}" for section in ("model", "train")
             for key, value in sorted((spec.get(section) or {}).items()) if getattr(mine, section).get(key) != value]
    items += [f"params.{spec.get('task')}.{key}={value}" for key, value in sorted((spec.get("params") or {}).items())
              if mine.params.get(key) != value and spec.get("task") == mine.task]
    if spec.get("size") not in (None, mine.size):
        items.append(f"size={spec['size']}")
    if spec.get("seed") is not None and spec["seed"] not in {r.seed for r in runs}:
        items.append(f"seeds={spec['seed']}")
    return items
