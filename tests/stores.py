"""Results stores with known records, for the report's tests: a grid's runs claimed and finished
with a record the test makes up, without training."""

from experiments.planner import expand
from experiments.store import Store
from experiments.tasks import get_task


def finished_record(score: float, metric: str, parameters: int = 1000, **extra) -> dict:
    """A finished run's record with test (and validation) `metric` = `score`."""
    return {
        "status": "finished", "parameters": parameters, "epochs_run": 3, "train_seconds": 3.0,
        "seconds_per_epoch": 1.0, "first_epoch_seconds": 1.5, "build_seconds": 0.1, "eval_seconds": 0.1,
        "history": {"loss": [1, 0.5, 0.2], "val_loss": [1, 0.6, 0.3]}, "val": {metric: score},
        "test": {metric: score}, "train_examples": 512, **extra,
    }


def fill_store(url: str, grid: str, record_of) -> Store:
    """Every run of `grid` (a name or a grid file) finished with `record_of(spec) -> (record, score)`."""
    store = Store(url)
    runs = expand(grid)
    store.open_grid(runs[0].grid, {r.label: get_task(r.task).higher_is_better for r in runs})
    store.sync(runs)
    while (claim := store.claim({r.key for r in runs})) is not None:
        record, score = record_of(claim.spec)
        store.finish(claim, record, score)
    return store
