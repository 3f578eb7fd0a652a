"""`python -m experiments search --space NAME`: Greff et al.'s search, resumable, with workers.

Two phases, both through the runner's queue (resumable, `--workers N`, kill-safe, one store):

1. the search: every sampled setting of every (task, variant), one run each. With the random
   sampler (default) all are known in advance and paired across variants; with an adaptive
   one (TPE) each variant's study proposes a round of settings from its finished trials, the
   round is trained, and so on until each has `trials`.
2. the best setting of each (task, variant), by validation score, trained again over the
   space's `retrain_seeds`.

Each (task, variant) is an Optuna study "search-<space>/<task>/<variant>" whose trials carry the
sampled settings as parameters with their distributions, so optuna-dashboard's importance,
slice and parallel-coordinate views work on it; the retraining is filed under ".../best".
"""

from __future__ import annotations

from pathlib import Path

from experiments.planner import RunSpec
from experiments.runner import Queue, Session, check_workers
from experiments.spaces import Search

PHASES = ("search", "retrain")


def search(space: str, overrides=None, only=None, storage=None, results_dir=None, workers: int | str = 1,
           worker_id: str | None = None, phase: str | None = None, devices: str | None = None) -> int:
    """The `search` command; returns the exit status (0 all done, 1 a run failed or a worker
    died, 130 interrupted). A worker (`worker_id`) does one `phase`; the main process both."""
    workers, devices = check_workers(workers, devices)
    if phase is not None and phase not in PHASES:
        raise ValueError(f"--phase must be one of {', '.join(PHASES)}, got {phase!r}.")
    plan = Search(space, overrides, only)  # every check, before anything trains
    session = Session(storage, results_dir, worker_id, devices=devices, workers=workers)
    session.store.open_studies(plan.directions())
    space_arg = str(Path(space).resolve()) if plan.name != space else space  # a space file, for the workers
    args = ["search", "--space", space_arg, *[a for item in overrides or [] for a in ("--set", item)],
            *(["--only", only] if only else [])]
    status = 0
    if phase in (None, "search"):
        if plan.sampler == "random":
            status = session.train(Queue(f"search {space}: {plan.trials} sampled settings per variant and task",
                                         plan.runs, args + ["--phase", "search"], plan.study_of, plan.params_of,
                                         plan.pruner), workers)
        elif session.is_main:
            status = _adaptive(plan, session, workers, args)
        else:  # a worker of an adaptive search trains what the main process proposed
            status = session.train(Queue(f"search {space}", _queued(plan, session.store.records(plan.grid)), args,
                                         plan.study_of, plan.params_of, plan.pruner), 1)
        if status == 130 or phase == "search":
            return status
    records = session.store.records(plan.grid)
    retrain, waiting = plan.retrain_runs(records)
    for label, variant in waiting:
        print(f"  {label} | {variant}: no finished search trial yet; its best setting is retrained once it has one",
              flush=True)
    if retrain:
        retrained = session.train(Queue(f"search {space}: each variant's best setting over seeds "
                                        f"{','.join(map(str, plan.retrain_seeds))}", retrain,
                                        args + ["--phase", "retrain"], plan.study_of, plan.params_of), workers)
        status = retrained if retrained == 130 else max(status, retrained)
    if session.is_main and status != 130:
        print(f"report: python -m experiments report-search --space {space}  (or make report-search SPACE={space})",
              flush=True)
    return status


def _adaptive(plan: Search, session: Session, workers: int, args: list[str]) -> int:
    """Rounds of proposals from an adaptive sampler: each (task, variant) study proposes up to
    `workers` settings from its finished trials, the round is trained, until each has `trials`."""
    store, status = session.store, 0
    distributions = plan.optuna_distributions()
    while True:
        records = store.records(plan.grid)
        counted = {}
        for r in records:
            if not str(r.get("study", "")).endswith("/best") and r.get("status") != "skipped":
                counted.setdefault((r["label"], r["variant"]), set()).add(r.get("run_key"))
        keys = {r.get("run_key") for r in records}
        runs = []
        for index, entry in enumerate(plan.entries):
            for variant in entry.variants:
                have = len(counted.get((entry.label, variant), ()))
                for _ in range(min(workers, plan.trials - have)):
                    study = f"{plan.grid}/{entry.label}/{variant}"
                    values = store.propose(study, distributions, plan.sampler, seed=plan.seed + have)
                    run = plan.run_of(index, variant, values, plan.seed)
                    if run.key in keys:
                        store.discard("these settings were already tried")
                        continue
                    store.attach(run)
                    keys.add(run.key)
                    runs.append(run)
        waiting = _queued(plan, records)
        if not runs and not waiting:
            return status
        round_status = session.train(Queue(f"search {plan.name}: a round of {plan.sampler} proposals", runs + waiting,
                                           args + ["--phase", "search"], plan.study_of, plan.params_of, plan.pruner),
                                     workers)
        if round_status == 130:
            return 130
        status = max(status, round_status)
        if not runs:
            return status


def _queued(plan: Search, records: list[dict]) -> list[RunSpec]:
    """The search runs in the store still to train (queued, or failed or interrupted)."""
    return [RunSpec.from_json({k: r[k] for k in RunSpec.__dataclass_fields__}) for r in records
            if r.get("state") in ("WAITING", "FAIL") and r.get("status") != "skipped"
            and not str(r.get("study", "")).endswith("/best")]
