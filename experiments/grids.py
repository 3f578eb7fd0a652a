"""Experiment grids: which variants, on which tasks and sizes, over which seeds, with what settings.

A grid is a small declaration (a dict). Settings (`experiments.settings`) are resolved, most
general first: library defaults, the task's own `train` settings, the grid's `model` and
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

import fnmatch
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import zoo
from zoo._names import unknown_name
from experiments.settings import RunSpec, check_seeds
from experiments.tasks import get_task
from experiments.topologies import get_topology

__all__ = ["GRIDS", "RunSpec", "expand", "get_grid", "grid_name_of", "list_grids", "file_name", "parse_overrides",
           "parse_only"]

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
        "description": "the default comparison: the six core variants on memory (adding), vision (row-by-row "
                       "MNIST) and language (Penn Treebank characters), 3 seeds, minutes on a CPU",
        "variants": CORE,
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 30, "n_train": 3000, "n_val": 500}},
            {"task": "seq_mnist", "size": "default", "params": {"n_train": 4000, "n_test": 2000, "n_val": 500}},
            {"task": "ptb_char", "size": "default", "params": {"n_train_tokens": 100000, "n_eval_tokens": 20000}},
        ],
        "seeds": [0, 1, 2],
        "model": {"units": 48},
        "train": {"epochs": 6, "batch_size": 64, "patience": 2},
        "overrides": {
            "adding": {"train": {"learning_rate": 5e-3, "epochs": 10}},
            "ptb_char": {"train": {"learning_rate": 5e-3}},
        },
    },
    "standard": {
        "description": "every variant on every task at default size, 3 seeds: hours on a CPU",
        "variants": ["*"],
        "tasks": [{"task": name, "size": "default"} for name in (
            "adding", "copy_memory", "seq_mnist", "mnist_generation", "seq2seq_addition", "tang_poetry", "ptb_char",
            "ptb_word", "pos_tagging", "ner", "sentiment", "bach_chorales", "sunspots")],
        "seeds": [0, 1, 2],
        "model": {"units": 128},
        "train": {"epochs": 20, "patience": 4},
    },
    "repro-cpu": {
        "description": "the literature's orderings on a 2-core CPU in under half an hour with 2 workers, 3 seeds: adding at T=200 (Bai et "
                       "al. 2018: GRU far better than LSTM and Elman), row-by-row MNIST on all 60k images (an LSTM "
                       "close to 1 and better than Elman), Greff et al.'s ablations on Bach chorales (NFG and NOAF "
                       "worse than the peephole LSTM, CIFG and NP not), sunspots against persistence",
        "variants": ["vanilla", "lstm", "gru"],
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 200, "n_train": 10000, "n_val": 1000, "n_test": 1000}},
            {"task": "seq_mnist", "size": "default",
             "params": {"order": "row", "n_train": 55000, "n_val": 5000, "n_test": 10000}},
            {"task": "bach_chorales", "size": "default", "variants": ["peephole", "lstm", "cifg", "nfg", "noaf"]},
            {"task": "sunspots", "size": "default"},
        ],
        "seeds": [0, 1, 2],
        "model": {"units": 128},
        "train": {"patience": 5},
        "overrides": {
            # 10k sequences in batches of 64 for 20 epochs: 3,140 updates, no early stop (an LSTM can sit
            # at the baseline for several epochs before it finds the markers).
            "adding": {"train": {"epochs": 20, "patience": 20, "learning_rate": 5e-3}},
            "seq_mnist": {"train": {"epochs": 5}},
            "bach_chorales": {"model": {"units": 64}, "train": {"epochs": 150, "patience": 10}},
            "sunspots": {"model": {"units": 32}},
        },
    },
    "memory": {
        "description": "the memory horizon: adding and copy memory at T = 50, 100, 200, 400, 1000 (10,000 sequences, "
                       "12 epochs: 1,884 updates); which cells still learn the task as T grows. Hours on a CPU; "
                       "`--only 'task=adding*,seed=0'` for a first look",
        "variants": ["vanilla", "irnn", "lstm", "gru", "mingru", "indrnn"],
        "tasks": [{"task": task, "size": "default", "params": {"T": T, "n_train": 10000, "n_val": 500, "n_test": 500}}
                  for task in ("adding", "copy_memory") for T in (50, 100, 200, 400, 1000)],
        "seeds": [0, 1],
        "model": {"units": 64},
        # No early stop: a cell can sit at the baseline for epochs before it finds the dependency.
        "train": {"epochs": 12, "patience": 12, "learning_rate": 5e-3, "clipnorm": 1.0},
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


def file_name(label: str) -> str:
    """A task label as a file or folder name: 'seq_mnist(order=pixel)' -> 'seq_mnist_order-pixel'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label.replace("=", "-")).strip("_")


def list_grids() -> list[str]:
    return sorted(GRIDS)


def get_grid(name: str) -> dict:
    """A built-in grid by name, or a grid file (`*.toml`, see `experiments.declarations`)."""
    from experiments.declarations import check_grid, is_file, load_grid

    if name in GRIDS:
        return check_grid(name, GRIDS[name])
    if is_file(name):
        return load_grid(name)[1]
    raise unknown_name("grid", name, GRIDS)


def grid_name_of(name: str) -> str:
    """The name a grid's runs are filed under: a built-in name, or a grid file's stem."""
    from experiments.declarations import is_file

    return Path(name).stem if name not in GRIDS and is_file(name) else name


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


def parse_overrides(items: list[str]) -> dict:
    """`--set` items "section.key=value" -> {"model": {...}, "train": {...}, "seeds": [...], "params": {task: {...}}}."""
    parsed: dict[str, Any] = {"model": {}, "train": {}, "params": {}}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set takes section.key=value, got {item!r}.")
        key, value = item.split("=", 1)
        key, value = key.strip(), value.strip()
        if key == "seeds":
            parsed["seeds"] = check_seeds([s.strip() for s in value.split(",") if s.strip()], "--set seeds")
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


def _distinct(entries: list[dict], entry: dict) -> dict:
    """The parameters of `entry` that tell it apart from the grid's other entries of its task."""
    same_task = [e.get("params", {}) for e in entries if e["task"] == entry["task"]]
    params = entry.get("params", {})
    return {k: v for k, v in params.items() if len({repr(p.get(k)) for p in same_task}) > 1}


def expand(grid: str, overrides: list[str] | None = None, only: str | None = None) -> list[RunSpec]:
    """Every run of a grid (a name or a grid file) with its resolved settings; all checks happen
    here, before any training."""
    grid_name, grid = grid_name_of(grid), get_grid(grid)
    cli = parse_overrides(overrides or [])
    filters = parse_only(only)
    variants = expand_variants(grid["variants"])
    seeds = cli.get("seeds") or check_seeds(grid["seeds"], f"grid {grid_name}")
    for task_name in cli["params"]:
        if task_name not in [entry["task"] for entry in grid["tasks"]]:
            raise ValueError(f"--set params.{task_name}: task {task_name!r} is not in grid {grid_name!r}; "
                             f"its tasks: {', '.join(e['task'] for e in grid['tasks'])}.")
    for key in grid.get("overrides", {}):
        get_task(key)
    runs = []
    names = [entry["task"] for entry in grid["tasks"]]
    for entry in grid["tasks"]:
        task = get_task(entry["task"])
        override = grid.get("overrides", {}).get(task.name, {})
        layers = [(f"grid {grid_name}", grid.get("model", {}), grid.get("train", {})),
                  (f"grid {grid_name} overrides for {task.name}", override.get("model", {}), override.get("train", {})),
                  ("--set", cli["model"], cli["train"])]
        # A task that appears twice in a grid is told apart by its parameters.
        label = task.label(_distinct(grid["tasks"], entry)) if names.count(task.name) > 1 else task.name
        task_variants = expand_variants(entry["variants"]) if "variants" in entry else variants
        first = RunSpec.resolve(task, task_variants[0], seeds[0], size=cli.get("size", entry.get("size", "default")),
                                params={**entry.get("params", {}), **cli["params"].get(task.name, {})},
                                label=label, grid=grid_name, layers=layers)
        for variant in task_variants:
            if get_topology(task.topology).causal and zoo.get_variant(variant).bidirectional:
                continue  # a model that predicts what comes next must not see it
            runs += [replace(first, variant=variant, seed=seed) for seed in seeds]
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
