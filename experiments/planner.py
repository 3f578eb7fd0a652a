"""Run planning: from a declaration (a grid or a search space) to the runs it trains.

A grid (`experiments.grids`) and a search space (`experiments.spaces`) are declarations; this
module is the one place that turns either into `RunSpec`s: it checks the declaration's keys and
types, expands variant patterns, applies the causal rule (a model that predicts what comes next
gets no bidirectional variant), resolves each task's settings, reads `--set` and `--only`, and
names the files a run writes. Every check happens here, before anything trains.

    >>> from experiments.planner import expand
    >>> runs = expand("smoke")
    >>> runs[0].task, runs[0].variant, runs[0].model["units"]
    ('adding', 'lstm', 16)
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import zoo
from experiments.declarations import is_file, load_toml
from experiments.grids import GRIDS
from experiments.settings import SECTIONS, apply_settings, check_seeds, defaults, get_setting
from experiments.tasks import Task, get_task
from experiments.topologies import get_topology
from zoo.checks import unknown_name

__all__ = ["RunSpec", "Entry", "expand", "get_grid", "grid_name_of", "declaration_name", "check_declaration",
           "task_entries", "expand_variants", "parse_overrides", "parse_only", "select", "runs_on", "file_name",
           "GRID_KEYS", "TASK_KEYS", "ONLY_KEYS"]

GRID_KEYS = {"description": str, "variants": list, "tasks": list, "seeds": list, "model": dict, "train": dict,
             "overrides": dict, "variant_settings": dict}
# variants: this task's own, else the grid's; data: the declaration of a task of one's own data
TASK_KEYS = {"task": str, "size": str, "params": dict, "variants": list, "data": dict}
ONLY_KEYS = ("task", "variant", "seed", "size", "label")  # label: the task with its parameters, e.g. adding(T=400)


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
        for section in SECTIONS:
            payload[section] = {k: v for k, v in payload[section].items()
                                if not (get_setting(f"{section}.{k}").added_later
                                        and get_setting(f"{section}.{k}").default == v)}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "RunSpec":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @classmethod
    def resolve(cls, task, variant: str, seed: int = 0, *, size: str = "default", params: dict | None = None,
                label: str | None = None, grid: str = "", layers: list[tuple[str, dict, dict]] = ()) -> "RunSpec":
        """A run with its settings resolved, most general first: library defaults, the task's own
        `train` settings, then each `(where, model updates, train updates)` of `layers` (a grid,
        its per-task overrides, `--set`). Everything is checked; `where` names the source in errors.
        """
        task = get_task(task) if isinstance(task, str) else task
        model, train = defaults("model"), defaults("train")
        apply_settings(train, "train", task.train, f"task {task.name}")
        for where, model_updates, train_updates in layers:
            apply_settings(model, "model", model_updates, where)
            apply_settings(train, "train", train_updates, where)
        resolved_params = task.resolve(size, params)
        return cls(grid, task.name, size, resolved_params, label or task.name, variant, int(seed), model, train)


@dataclass(frozen=True)
class Entry:
    """One task of a declaration, resolved: its label, size, parameters, the layers of settings
    over the defaults, and the variants it runs (the causal rule applied)."""

    task: Task
    label: str
    size: str
    params: dict
    layers: tuple
    variants: tuple
    by_variant: dict = field(default_factory=dict)  # variant -> its own (where, model, train) layer

    def run(self, variant: str, seed: int, grid: str, extra_layers=()) -> RunSpec:
        """The run of `variant` with `seed`; `extra_layers` go after the declaration's own settings,
        the variant's own settings after those, `--set` last."""
        own = [self.by_variant[variant]] if variant in self.by_variant else []
        layers = [self.layers[0], *extra_layers, *self.layers[1:-1], *own, self.layers[-1]]
        return RunSpec.resolve(self.task, variant, seed, size=self.size, params=self.params, label=self.label,
                               grid=grid, layers=layers)


def file_name(label: str) -> str:
    """A task label as a file or folder name: 'seq_mnist(order=pixel)' -> 'seq_mnist_order-pixel'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label.replace("=", "-")).strip("_")


def runs_on(task: Task, variant: str) -> bool:
    """Whether `variant` may run `task`: a model that predicts what comes next must not see it."""
    return not (get_topology(task.topology).causal and zoo.get_variant(variant).bidirectional)


# --- declarations: names, files and their schema -------------------------------------------------

def declaration_name(name: str, builtin) -> str:
    """The name a declaration's runs are filed under: a built-in name, or a file's stem."""
    return Path(name).stem if name not in builtin and is_file(name) else name


def _type_name(kind) -> str:
    return {str: "a string", list: "a list", dict: "a table", int: "an integer"}[kind]


def check_keys(where: str, table: dict, schema: dict, required=()) -> None:
    """Every key of `table` known to `schema` (key -> type) and of that type; `required` present."""
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table, got {type(table).__name__} {table!r}.")
    unknown = set(table) - set(schema)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid keys: {', '.join(schema)}.")
    for key in required:
        if key not in table:
            raise ValueError(f"{where}: `{key}` is missing; it needs {', '.join(required)}.")
    for key, value in table.items():
        kinds = schema[key] if isinstance(schema[key], tuple) else (schema[key],)
        if value is not None and not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
            raise ValueError(f"{where}: `{key}` must be {' or '.join(_type_name(k) for k in kinds)}, "
                             f"got {type(value).__name__} {value!r}.")


def _check_names(where: str, key: str, values: list) -> None:
    if not values:
        raise ValueError(f"{where}: `{key}` is empty; give at least one variant name or pattern, e.g. "
                         f"{key} = [\"lstm\", \"gru\"].")
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{where}: `{key}` must hold names, got {bad[0]!r}.")


def check_declaration(kind: str, name: str, table: dict, schema: dict, required=("variants", "tasks"),
                      base_dir: Path | None = None) -> dict:
    """A grid's or a search space's keys and types checked, built-in and file alike (one checker
    for both); its task entries and `overrides` too. A task entry that names a task file
    (`task = "mine.toml"`, relative to `base_dir`, the declaring file's folder) or declares one
    inline (`data = {...}`) registers that task (`experiments.tasks.files`)."""
    where = f"{kind} {name}"
    check_keys(where, table, schema, required=required)
    _check_names(where, "variants", table["variants"])
    if not table["tasks"]:
        raise ValueError(f"{where}: `tasks` is empty; give at least one, e.g. tasks = [{{task = \"adding\"}}].")
    for i, entry in enumerate(table["tasks"]):
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: tasks[{i}] must be a table such as {{task = \"adding\"}}, got {entry!r}.")
        check_keys(f"{where} tasks[{i}]", entry, TASK_KEYS, required=("task",))
        _register_file_task(f"{where} tasks[{i}]", entry, base_dir)
        if "variants" in entry:
            _check_names(f"{where} tasks[{i}]", "variants", entry["variants"])
    if "seeds" in table:
        bad = [v for v in table["seeds"] if not isinstance(v, int) or isinstance(v, bool)]
        if bad:
            raise ValueError(f"{where}: `seeds` must hold integers, got {bad[0]!r}.")
    for key in ("overrides", "variant_settings"):
        for name, override in (table.get(key) or {}).items():
            if not isinstance(override, dict):
                raise ValueError(f"{where}: {key}.{name} must be a table with `model` and `train`, got {override!r}.")
            check_keys(f"{where} {key}.{name}", override, {"model": dict, "train": dict})
    return table


def _register_file_task(where: str, entry: dict, base_dir: Path | None) -> None:
    from experiments.tasks.files import declare_task, load_task_file

    if "data" in entry:
        entry["task"] = declare_task({"name": entry["task"], **entry.pop("data")}, where=where,
                                     base_dir=base_dir).name
    elif entry["task"].endswith(".toml"):
        entry["task"] = load_task_file(entry["task"], base_dir=base_dir).name


def get_grid(name: str) -> dict:
    """A built-in grid by name, or a grid file (`*.toml`), checked."""
    if name in GRIDS:
        return check_declaration("grid", name, GRIDS[name], GRID_KEYS, required=("variants", "tasks", "seeds"))
    if is_file(name):
        grid = load_toml(name)
        grid.setdefault("description", f"grid file {name}")
        return check_declaration("grid", Path(name).stem, grid, GRID_KEYS, required=("variants", "tasks", "seeds"),
                                 base_dir=Path(name).resolve().parent)
    raise unknown_name("grid", name, GRIDS)


def grid_name_of(name: str) -> str:
    """The name a grid's runs are filed under: a built-in name, or a grid file's stem."""
    return declaration_name(name, GRIDS)


# --- the command line's --set and --only --------------------------------------------------------

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
        if key not in ONLY_KEYS:
            raise ValueError(f"--only key {key!r} is unknown; valid keys: {', '.join(ONLY_KEYS)}.")
        if key in filters:
            raise ValueError(f"--only gives {key} twice ({key}={'|'.join(filters[key])} and {key}={value}); "
                             f"give one {key}=pattern with alternatives joined by |, e.g. {key}=a|b.")
        filters[key] = value.split("|")
    return filters


def _value_of(run, key: str) -> str:
    return str(getattr(run, key))  # task, variant, seed, size or label


def select(runs: list, filters: dict[str, list[str]], where: str, candidates: list | None = None) -> list:
    """The runs that every filter of `--only` admits. A pattern that matches none of `candidates`
    (the runs themselves by default) is an error naming the valid values."""
    for key, patterns in filters.items():
        valid = sorted({_value_of(r, key) for r in (runs if candidates is None else candidates)})
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(v, pattern) for v in valid):
                raise ValueError(f"--only {key}={pattern!r} matches nothing in {where}; "
                                 f"valid {key} values: {', '.join(valid)}.")
    return [r for r in runs
            if all(any(fnmatch.fnmatchcase(_value_of(r, k), p) for p in patterns) for k, patterns in filters.items())]


# --- expansion ------------------------------------------------------------------------------------

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


def _distinct(entries: list[dict], entry: dict) -> dict:
    """The parameters of `entry` that tell it apart from the declaration's other entries of its task."""
    same_task = [e.get("params", {}) for e in entries if e["task"] == entry["task"]]
    params = entry.get("params", {})
    return {k: v for k, v in params.items() if len({repr(p.get(k)) for p in same_task}) > 1}


def task_entries(declaration: dict, where: str, cli: dict) -> list[Entry]:
    """Each task of a declaration with its settings resolved and checked (`cli`: parsed `--set`)."""
    tasks = declaration["tasks"]
    names = [entry["task"] for entry in tasks]
    for task_name in cli["params"]:
        if task_name not in names:
            raise ValueError(f"--set params.{task_name}: task {task_name!r} is not in {where}; "
                             f"its tasks: {', '.join(names)}.")
    overrides = declaration.get("overrides") or {}
    for key in overrides:
        get_task(key)
    variants = expand_variants(declaration["variants"])
    by_variant = {}
    for name, own in (declaration.get("variant_settings") or {}).items():
        variant = zoo.get_variant(name).name  # an unknown name lists the valid ones
        by_variant[variant] = (f"{where} variant_settings for {variant}", own.get("model", {}), own.get("train", {}))
    entries = []
    for entry in tasks:
        task = get_task(entry["task"])
        override = overrides.get(task.name, {})
        layers = [(where, declaration.get("model") or {}, declaration.get("train") or {})]
        if override:
            layers.append((f"{where} overrides for {task.name}", override.get("model", {}), override.get("train", {})))
        layers.append(("--set", cli["model"], cli["train"]))
        # A task that appears twice is told apart by its parameters.
        label = task.label(_distinct(tasks, entry)) if names.count(task.name) > 1 else task.name
        own = expand_variants(entry["variants"]) if "variants" in entry else variants
        resolved = Entry(task, label, cli.get("size", entry.get("size", "default")),
                         {**entry.get("params", {}), **cli["params"].get(task.name, {})}, tuple(layers),
                         tuple(v for v in own if runs_on(task, v)), by_variant)
        for variant in [own[0], *[v for v in by_variant if v in own]]:
            resolved.run(variant, 0, "")  # checks every setting before anything trains
        entries.append(resolved)
    return entries


def expand(grid: str, overrides: list[str] | None = None, only: str | None = None) -> list[RunSpec]:
    """Every run of a grid (a name or a grid file) with its resolved settings; all checks happen
    here, before any training."""
    name, declaration = grid_name_of(grid), get_grid(grid)
    cli = parse_overrides(overrides or [])
    seeds = cli.get("seeds") or check_seeds(declaration["seeds"], f"grid {name}")
    runs = []
    for entry in task_entries(declaration, f"grid {name}", cli):
        if not entry.variants:
            continue
        for variant in entry.variants:
            first = entry.run(variant, seeds[0], name)
            runs += [replace(first, seed=seed) for seed in seeds]
    return select(runs, parse_only(only), f"grid {name!r}")
