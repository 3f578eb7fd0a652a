"""Experiment grids: which variants, on which tasks and sizes, over which seeds, with what settings.

A grid is a small declaration (a dict). Settings are resolved, most general first:
library defaults (`experiments.train`), the task's own `train` settings, the grid's `model` and
`train`, the grid's per-task `overrides`, and `--set` on the command line.

    quick = {
        "description": "...",
        "variants": ["vanilla", "lstm", "peephole", "cifg", "gru", "bi-lstm"],  # names or patterns
        "tasks": [{"task": "adding", "size": "default", "params": {"T": 50}}],
        "seeds": [0, 1],
        "model": {"units": 64},
        "train": {"epochs": 5},
        "overrides": {"adding": {"train": {"epochs": 8}}},
    }
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

import zoo
from experiments.tasks import CAUSAL_TOPOLOGIES, _coerce, get_task
from experiments.train import MODEL_DEFAULTS, TRAIN_DEFAULTS

CORE = ["vanilla", "lstm", "peephole", "cifg", "gru", "bi-lstm"]

GRIDS: dict[str, dict[str, Any]] = {
    "smoke": {
        "description": "seconds: two variants on two tiny tasks, one seed (used by the tests)",
        "variants": ["lstm", "cifg"],
        "tasks": [{"task": "adding", "size": "smoke"}, {"task": "copy_memory", "size": "smoke"}],
        "seeds": [0],
        "model": {"units": 16},
        "train": {"epochs": 2, "batch_size": 64},
    },
    "quick": {
        "description": "the default comparison: the six core variants on three tasks (memory, vision, language), 2 seeds, minutes on a CPU",
        "variants": CORE,
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 30, "n_train": 4000}},
            {"task": "seq_mnist", "size": "default", "params": {"n_train": 6000, "n_test": 5000, "n_val": 1000}},
            {"task": "pos_tagging", "size": "default", "params": {"n_train": 3000, "max_len": 40}},
        ],
        "seeds": [0, 1],
        "model": {"units": 48},
        "train": {"epochs": 6, "batch_size": 64, "patience": 2},
        "overrides": {
            "adding": {"train": {"learning_rate": 5e-3, "epochs": 10}},
        },
    },
    "standard": {
        "description": "every variant on every task at default size, 3 seeds: hours on a CPU",
        "variants": ["*"],
        "tasks": [{"task": name, "size": "default"} for name in (
            "adding", "copy_memory", "seq_mnist", "seq2seq_addition", "tang_poetry", "ptb_char", "ptb_word",
            "pos_tagging", "sentiment", "bach_chorales", "sunspots")],
        "seeds": [0, 1, 2],
        "model": {"units": 128},
        "train": {"epochs": 20, "patience": 4},
    },
    "paper": {
        "description": "settings of Bai et al. 2018 for the tasks that paper has, core variants, for a GPU",
        "variants": CORE,
        "tasks": [
            {"task": "adding", "size": "paper"},
            {"task": "copy_memory", "size": "paper"},
            {"task": "seq_mnist", "size": "paper", "params": {"order": "pixel"}},
            {"task": "seq_mnist", "size": "paper", "params": {"order": "permuted"}},
            {"task": "ptb_char", "size": "paper"},
            {"task": "ptb_word", "size": "paper"},
            {"task": "bach_chorales", "size": "paper"},
        ],
        "seeds": [0, 1, 2],
        "model": {"units": 130},
        "train": {"epochs": 50, "patience": 10, "batch_size": 32, "clipnorm": 1.0},
        "overrides": {
            # Bai et al. 2018, table of LSTM settings: adding 2e-3, copy memory 5e-4, MNIST 1e-3.
            "adding": {"train": {"learning_rate": 2e-3}, "model": {"units": 77, "num_layers": 2}},
            "copy_memory": {"train": {"learning_rate": 5e-4}, "model": {"units": 50}},
            "seq_mnist": {"train": {"learning_rate": 1e-3}},
            "ptb_char": {"train": {"learning_rate": 2e-3, "clipnorm": 0.15}, "model": {"units": 1000, "num_layers": 1}},
            "ptb_word": {"train": {"learning_rate": 1e-3, "clipnorm": 0.25, "batch_size": 20},
                         "model": {"units": 700, "num_layers": 3, "dropout": 0.4, "embedding_dim": 400}},
            "bach_chorales": {"train": {"learning_rate": 1e-3}, "model": {"units": 200}},
        },
    },
}


# Model settings added after results were first stored, with the default that matches them.
LATER_MODEL_SETTINGS = {"recurrent_dropout": 0.0}


@dataclass(frozen=True)
class RunSpec:
    """One run: a task at a size with parameters, a variant, a seed and the resolved settings."""

    grid: str
    task: str
    size: str
    params: dict
    label: str
    variant: str
    seed: int
    model: dict
    train: dict

    @property
    def key(self) -> str:
        """Identifies the run's configuration: the same key means the same experiment."""
        payload = {k: v for k, v in asdict(self).items() if k not in ("grid", "label")}
        # A setting added later is left out at its default, so results stored before it existed
        # keep their keys (and are not trained again).
        payload["model"] = {k: v for k, v in self.model.items() if LATER_MODEL_SETTINGS.get(k, object()) != v}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]

    def to_json(self) -> dict:
        return asdict(self)


def file_name(label: str) -> str:
    """A task label as a file or folder name: 'seq_mnist(order=pixel)' -> 'seq_mnist_order-pixel'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label.replace("=", "-")).strip("_")


def list_grids() -> list[str]:
    return sorted(GRIDS)


def get_grid(name: str) -> dict:
    if name in GRIDS:
        return GRIDS[name]
    close = difflib.get_close_matches(str(name), list(GRIDS), n=2, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown grid {name!r}.{hint} Valid grids: {', '.join(sorted(GRIDS))}.")


def expand_variants(patterns: list[str]) -> list[str]:
    """Registered names matching the patterns, in registry order; a pattern matching none is an error."""
    names = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            matched = zoo.list_variants(pattern)
            if not matched:
                raise ValueError(f"variant pattern {pattern!r} matches no variant; variants: {', '.join(zoo.list_variants())}.")
        else:
            matched = [zoo.get_variant(pattern).name]  # raises with the valid names
        names += [m for m in matched if m not in names]
    return names


def _apply_settings(target: dict, updates: dict, section: str, where: str):
    for key, value in updates.items():
        if key not in target:
            raise ValueError(f"unknown setting {section}.{key} in {where}; valid {section} settings: "
                             f"{', '.join(sorted(target))}.")
        target[key] = value if value is None else _coerce(f"{section}.{key}", value, target[key])


def parse_overrides(items: list[str]) -> dict:
    """`--set` items "section.key=value" -> {"model": {...}, "train": {...}, "seeds": [...], "params": {task: {...}}}."""
    parsed: dict[str, Any] = {"model": {}, "train": {}, "params": {}}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set takes section.key=value, got {item!r}.")
        key, value = item.split("=", 1)
        key, value = key.strip(), value.strip()
        if key == "seeds":
            try:
                parsed["seeds"] = [int(s) for s in value.split(",") if s.strip()]
            except ValueError:
                raise ValueError(f"seeds must be integers separated by commas, got {value!r}.") from None
        elif key == "size":
            parsed["size"] = value
        elif key.startswith(("model.", "train.")):
            section, name = key.split(".", 1)
            parsed[section][name] = value
        elif key.startswith("params."):
            parts = key.split(".")
            if len(parts) != 3:
                raise ValueError(f"task parameters are set as params.<task>.<name>=value, got {key!r}.")
            parsed["params"].setdefault(parts[1], {})[parts[2]] = value
        else:
            raise ValueError(f"unknown setting {key!r}; valid: model.<name>, train.<name>, "
                             "params.<task>.<name>, seeds, size.")
    return parsed


def parse_only(expression: str | None) -> dict[str, list[str]]:
    """`'task=adding,variant=gru|lstm'` -> {"task": ["adding"], "variant": ["gru", "lstm"]}."""
    if not expression:
        return {}
    filters: dict[str, list[str]] = {}
    for part in expression.split(","):
        if "=" not in part:
            raise ValueError(f"--only takes key=pattern[,key=pattern], got {part!r}.")
        key, value = (s.strip() for s in part.split("=", 1))
        if key not in ("task", "variant", "seed", "size"):
            raise ValueError(f"--only key {key!r} is unknown; valid keys: task, variant, seed, size.")
        filters[key] = value.split("|")
    return filters


def expand(grid_name: str, overrides: list[str] | None = None, only: str | None = None) -> list[RunSpec]:
    """Every run of a grid with its resolved settings; all checks happen here, before any training."""
    grid = get_grid(grid_name)
    cli = parse_overrides(overrides or [])
    filters = parse_only(only)
    variants = expand_variants(grid["variants"])
    seeds = cli.get("seeds", grid["seeds"])
    for task_name in cli["params"]:
        if task_name not in [entry["task"] for entry in grid["tasks"]]:
            raise ValueError(f"--set params.{task_name}: task {task_name!r} is not in grid {grid_name!r}; "
                             f"its tasks: {', '.join(e['task'] for e in grid['tasks'])}.")
    for key in grid.get("overrides", {}):
        get_task(key)
    runs = []
    repeated = {name for name in (e["task"] for e in grid["tasks"]) if [e["task"] for e in grid["tasks"]].count(name) > 1}
    for entry in grid["tasks"]:
        task = get_task(entry["task"])
        size = cli.get("size", entry.get("size", "default"))
        extra = {**entry.get("params", {}), **cli["params"].get(task.name, {})}
        params = task.resolve(size, extra)
        model, train = dict(MODEL_DEFAULTS), dict(TRAIN_DEFAULTS)
        _apply_settings(train, task.train, "train", f"task {task.name}")
        _apply_settings(model, grid.get("model", {}), "model", f"grid {grid_name}")
        _apply_settings(train, grid.get("train", {}), "train", f"grid {grid_name}")
        override = grid.get("overrides", {}).get(task.name, {})
        _apply_settings(model, override.get("model", {}), "model", f"grid {grid_name} overrides for {task.name}")
        _apply_settings(train, override.get("train", {}), "train", f"grid {grid_name} overrides for {task.name}")
        _apply_settings(model, cli["model"], "model", "--set")
        _apply_settings(train, cli["train"], "train", "--set")
        _check_settings(model, train)
        # A task that appears twice in a grid is told apart by its parameters.
        label = task.label(entry.get("params")) if task.name in repeated else task.name
        for variant in variants:
            if task.topology in CAUSAL_TOPOLOGIES and zoo.get_variant(variant).bidirectional:
                continue  # a model that predicts what comes next must not see it
            for seed in seeds:
                runs.append(RunSpec(grid_name, task.name, size, params, label, variant, seed, model, train))
    for key, patterns in filters.items():
        def value_of(run, key=key):
            return {"task": run.task, "variant": run.variant, "seed": str(run.seed), "size": run.size}[key]
        valid = sorted({value_of(r) for r in runs})
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(v, pattern) for v in valid):
                raise ValueError(f"--only {key}={pattern!r} matches nothing in grid {grid_name!r}; "
                                 f"valid {key} values: {', '.join(valid)}.")
        runs = [r for r in runs if any(fnmatch.fnmatchcase(value_of(r), p) for p in patterns)]
    return runs


def _check_settings(model: dict, train: dict):
    from experiments.train import OPTIMIZERS

    for key in ("units", "num_layers", "embedding_dim"):
        if model[key] <= 0:
            raise ValueError(f"model.{key} must be a positive integer, got {model[key]!r}.")
    for key in ("dropout", "recurrent_dropout"):
        if not 0 <= model[key] < 1:
            raise ValueError(f"model.{key} must be in [0, 1), got {model[key]!r}.")
    if model["implementation"] not in ("auto", "builtin", "zoo"):
        raise ValueError(f"model.implementation must be one of auto, builtin, zoo, got {model['implementation']!r}.")
    for key in ("batch_size", "epochs"):
        if train[key] <= 0:
            raise ValueError(f"train.{key} must be a positive integer, got {train[key]!r}.")
    if train["learning_rate"] <= 0:
        raise ValueError(f"train.learning_rate must be positive, got {train['learning_rate']!r}.")
    if train["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got {train['optimizer']!r}.")
