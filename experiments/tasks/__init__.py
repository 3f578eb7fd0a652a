"""Tasks: what a variant is trained and scored on.

A task is one small declaration (see `Task`): how its data is made or loaded, its topology,
its metrics and which way is better, a trivial baseline, its parameters and named sizes
(`smoke` for tests, `default` for minutes on a CPU, `paper` for the published setting).

    >>> from experiments.tasks import get_task, list_tasks
    >>> task = get_task("adding")
    >>> data = task.load(size="smoke", seed=0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from experiments.settings import coerce
from experiments.topologies import get_topology
from zoo.checks import unknown_name

__all__ = ["Task", "Split", "Dataset", "register_task", "get_task", "list_tasks", "SIZES", "METRIC_RANGES", "SCORE_KEYS"]

SIZES = ("smoke", "default", "paper")
# The range of every main metric (low, high; None: unbounded): intervals over seeds stay in it.
METRIC_RANGES = {
    "mse": (0.0, None), "mae": (0.0, None), "rmse": (0.0, None), "cross_entropy": (0.0, None), "bits_per_token": (0.0, None),
    "perplexity": (1.0, None), "nll_per_frame": (0.0, None), "accuracy": (0.0, 1.0), "token_accuracy": (0.0, 1.0),
    "recall_accuracy": (0.0, 1.0), "exact_match": (0.0, 1.0), "macro_f1": (0.0, 1.0), "char_accuracy": (0.0, 1.0),
    "entity_f1": (0.0, 1.0), "nll_per_pixel": (0.0, None),
}


@dataclass
class Split:
    """One split: inputs, targets and (optional) per-target weights, 0 on padding. Given
    `lengths`, training and evaluation read it in batches of similar length
    (`experiments.batching`)."""

    x: Any
    y: np.ndarray
    sample_weight: np.ndarray | None = None
    lengths: np.ndarray | None = None  # real steps of each sequence padded at the end: batched by length


    def __len__(self):
        first = self.x[0] if isinstance(self.x, (list, tuple)) else self.x
        return len(first)


# Where a run's record keeps each split's scores ("train" there is the training settings).
SCORE_KEYS = {"train": "train_scores", "val": "val", "test": "test"}


@dataclass
class Dataset:
    """train / val / test splits plus what the model builder needs (`info`)."""

    train: Split
    val: Split
    test: Split
    info: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> Split:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


@dataclass(frozen=True)
class Task:
    """A declaration of one task.

    Attributes:
        name: registry name.
        description: one line.
        topology: the name of an `experiments.topologies.Topology`: how the model is built,
            its loss and what `predict` hands to `score`.
        metric: the main metric (a key of what `score` returns).
        higher_is_better: direction of `metric`.
        params: the task's parameters and their default values (e.g. sequence length `T`).
        sizes: `smoke`, `default` and `paper`, each a dict of parameter values.
        make: `make(params, seed) -> Dataset`; deterministic in the seed.
        score: `score(split, predictions, info) -> dict` of metrics.
        baseline: `baseline(dataset, params) -> dict` of the trivial baseline's test metrics.
        baseline_name: what the trivial baseline predicts.
        train: training settings this task needs by default (overridable per grid).
        choices: the valid values of parameters that take one of a few.
        bounds: (low, high) of numeric parameters whose valid range is narrower than "positive"
            (None: open), each with the reason in `bound_reasons`.
        check: `check(params)` raises a ValueError for parameter values the data cannot give
            (e.g. more training images than exist); run before anything is fetched or trained.
        metric_bounds: (low, high) of the main metric (None: unbounded) when its name is not in
            `METRIC_RANGES`; confidence intervals stay within it.
        samples: `samples(model, dataset) -> [{"input", "output", "target"}]`, what a generative
            task's trained model writes, for the report.
        evaluate_train: also score the trained model on the training split (without dropout or
            weight noise), for papers that report training numbers.
        citation, source: where the task and its data come from.
    """

    name: str
    description: str
    topology: str
    metric: str
    higher_is_better: bool
    params: dict[str, Any]
    sizes: dict[str, dict[str, Any]]
    make: Callable[[dict, int], Dataset]
    score: Callable[[Split, Any, dict], dict]
    baseline: Callable[[Dataset, dict], dict]
    baseline_name: str
    train: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, tuple] = field(default_factory=dict)
    bounds: dict[str, tuple] = field(default_factory=dict)
    bound_reasons: dict[str, str] = field(default_factory=dict)
    samples: Callable[[Any, Dataset], list[dict]] | None = None
    check: Callable[[dict], None] | None = None
    metric_bounds: tuple | None = None
    evaluate_train: bool = False  # also score the training split (where papers report training numbers)
    citation: str = ""
    source: str = "generated from the seed"

    def resolve(self, size: str = "default", params: dict | None = None) -> dict[str, Any]:
        """The parameter values of `size` with `params` on top, checked by name and type."""
        if size not in self.sizes:
            raise ValueError(f"unknown size {size!r} for task {self.name!r}; valid sizes: {', '.join(self.sizes)}.")
        resolved = {**self.params, **self.sizes[size]}
        for key, value in (params or {}).items():
            if key not in self.params:
                raise ValueError(
                    f"unknown parameter {key!r} for task {self.name!r}; valid parameters: "
                    f"{', '.join(sorted(self.params)) or '(none)'}."
                )
            resolved[key] = coerce(f"{self.name}.{key}", value, self.params[key])
        for key, valid in self.choices.items():
            if resolved[key] not in valid:
                raise ValueError(
                    f"{self.name}.{key} must be one of {', '.join(map(str, valid))}, got {resolved[key]!r}."
                )
        for key, value in resolved.items():
            # Integer parameters are counts and lengths; those whose default is 0 use 0 for "all".
            if isinstance(value, int) and not isinstance(value, bool) and (value < 0 or value == 0 != self.params[key]):
                raise ValueError(f"{self.name}.{key} must be positive, got {value!r}.")
        for key, (low, high) in self.bounds.items():
            if (low is not None and resolved[key] < low) or (high is not None and resolved[key] > high):
                valid = f">= {low}" if high is None else f"<= {high}" if low is None else f"in [{low}, {high}]"
                reason = f" ({self.bound_reasons[key]})" if key in self.bound_reasons else ""
                raise ValueError(f"{self.name}.{key} must be {valid}{reason}, got {resolved[key]!r}.")
        if self.check is not None:
            self.check(resolved)
        return resolved

    @property
    def metric_range(self) -> tuple:
        """(low, high) of the main metric, None where it is unbounded: `metric_bounds` if given,
        else the range of a known metric name (`METRIC_RANGES`)."""
        return self.metric_bounds if self.metric_bounds is not None else METRIC_RANGES[self.metric]

    def load(self, size: str = "default", seed: int = 0, **params) -> Dataset:
        """The task's data at `size` (parameters checked before anything is fetched)."""
        resolved = self.resolve(size, params)
        return self.make(resolved, seed)

    def label(self, params: dict | None = None) -> str:
        """Display name: the task name plus parameters that differ from the size's values."""
        if not params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})"


_TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    get_topology(task.topology)  # an unknown one lists the valid topologies
    if task.metric_bounds is None and task.metric not in METRIC_RANGES:
        raise ValueError(f"task {task.name!r}: metric {task.metric!r} has no known range; give metric_bounds="
                         f"(low, high) (None for unbounded); known metrics: {', '.join(sorted(METRIC_RANGES))}.")
    missing = [s for s in SIZES if s not in task.sizes]
    if missing:
        raise ValueError(f"task {task.name!r} lacks sizes {missing}")
    for size, values in task.sizes.items():
        unknown = (set(values) | set(task.bounds)) - set(task.params)
        if unknown:
            raise ValueError(f"task {task.name!r} size {size!r} sets unknown parameters {sorted(unknown)}")
    _TASKS[task.name] = task
    return task


def list_tasks() -> list[str]:
    _load_all()
    return sorted(_TASKS)


def get_task(name: str) -> Task:
    """The task called `name`; an unknown name lists the valid ones and the closest."""
    _load_all()
    if name in _TASKS:
        return _TASKS[name]
    raise unknown_name("task", name, _TASKS)


ENTRY_POINT_GROUP = "rnn_zoo.tasks"  # an installed package's tasks: a module that calls register_task
TASK_MODULES_VARIABLE = "RNNZOO_TASKS"  # modules of one's own (comma-separated), as --tasks-from sets it
_LOADED: set[str] = set()


def _load_all():
    # Importing the modules registers their tasks; done lazily so `import experiments` is cheap.
    from experiments.tasks import mnist, music, ner, poetry, polyphonic, pos, ptb, sentiment, series, synthetic  # noqa: F401

    load_task_modules([m for m in os.environ.get(TASK_MODULES_VARIABLE, "").split(",") if m.strip()])
    if "entry points" not in _LOADED:
        _LOADED.add("entry points")
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                point.load()
            except Exception as error:  # noqa: BLE001 - a broken plug-in is named, not fatal to the others
                raise ValueError(f"entry point {point.name!r} of group {ENTRY_POINT_GROUP} ({point.value}) failed to "
                                 f"load: {type(error).__name__}: {error}") from None


def load_task_modules(modules: list[str]) -> None:
    """Import the user's modules that register tasks (`--tasks-from mymodule` or a path to a .py
    file); each once. An unknown module is named with where it was looked for."""
    import importlib
    import importlib.util
    import sys

    for module in (m.strip() for m in modules):
        if not module or module in _LOADED:
            continue
        _LOADED.add(module)
        try:
            if module.endswith(".py"):
                path = os.path.abspath(module)
                if not os.path.isfile(path):
                    raise FileNotFoundError(path)
                spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
                loaded = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = loaded
                spec.loader.exec_module(loaded)
            else:
                if os.getcwd() not in sys.path and "" not in sys.path:
                    sys.path.insert(0, os.getcwd())
                importlib.import_module(module)
        except (ImportError, FileNotFoundError) as error:
            _LOADED.discard(module)
            raise ValueError(f"--tasks-from {module!r}: cannot import it ({type(error).__name__}: {error}); give a "
                             "module importable from the working folder (mytasks for mytasks.py) or a .py file's "
                             "path") from None
