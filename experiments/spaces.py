"""Search spaces: Greff et al.'s random search of each variant's settings, beside the grids.

A space is checked and its tasks resolved by `experiments.planner`, as a grid is; this module
adds what only a search has: the distributions and their sampling, and the retraining of the best.

A space is a small declaration: variants, tasks and sizes, trials per (variant, task), the
fixed settings, and distributions over the searched ones:

    "quick": {
        "description": "...",
        "variants": ["vanilla", "lstm", "gru"],
        "tasks": [{"task": "adding", "size": "default", "params": {"T": 30}}],
        "trials": 8,                        # sampled settings per (variant, task)
        "seed": 0,                          # the seed of every search trial
        "retrain_seeds": [0, 1, 2, 3, 4],   # the best setting of each variant, over these seeds
        "retrain": {"train": {"epochs": 50}},  # optional: what the retraining changes (a larger budget)
        "model": {}, "train": {"epochs": 5},                     # fixed settings
        "search": {
            "train.learning_rate": ("log_uniform", 1e-4, 1e-1),
            "model.units": ("log_int", 16, 128),
            "model.input_dropout": ("uniform", 0.0, 0.5),
            "train.batch_size": ("choice", [32, 64, 128]),
            "train.optimizer": ("choice", ["adam", "sgd"]),
            "train.momentum": ("uniform", 0.0, 0.99),
        },
        "when": {"train.momentum": {"train.optimizer": "sgd"}},  # searched only under a condition
        "sampler": "random",                # or "tpe", "qmc"
        "pruner": None,                     # or "hyperband", "median"
    }

Random sampling (the default, as Greff) is paired: trial i of a task has the same sampled settings
for every variant, so differences between variants are not differences between draws. An
adaptive sampler (TPE) proposes each variant's settings from its own finished trials instead.
After the search, the best setting of each variant (by validation score) is trained again over
`retrain_seeds`, so the tuned comparison has a confidence interval; `retrain` changes fixed
settings for that retraining only, e.g. a search that compares settings on a budget of epochs and
a retraining that runs until the validation score stops improving.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from experiments.declarations import is_file, load_toml
from experiments.planner import (
    RunSpec,
    check_declaration,
    declaration_name,
    expand_variants,
    parse_only,
    parse_overrides,
    select,
    task_entries,
)
from experiments.planner import check_keys
from experiments.settings import apply_settings, check_seeds, defaults, get_setting
from experiments.store_search import PRUNERS, SAMPLERS, choice_distribution, float_distribution, int_distribution
from zoo.checks import unknown_name

__all__ = ["SPACES", "get_space", "list_spaces", "Search", "DISTRIBUTIONS", "SPACE_KEYS"]

DISTRIBUTIONS = ("uniform", "log_uniform", "int", "log_int", "choice")
SPACE_KEYS = {"description": str, "variants": list, "tasks": list, "trials": int, "seed": int, "retrain_seeds": list,
              "model": dict, "train": dict, "search": dict, "when": dict, "sampler": str, "pruner": str,
              "variant_settings": dict, "retrain": dict, "overrides": dict}
CORE = ["vanilla", "lstm", "cifg", "gru", "mingru"]

SPACES: dict[str, dict] = {
    "smoke": {
        "description": "seconds: two variants, one tiny task, three trials each (used by the tests)",
        "variants": ["lstm", "cifg"],
        "tasks": [{"task": "adding", "size": "smoke"}],
        "trials": 3,
        "seed": 0,
        "retrain_seeds": [0, 1, 2],
        "model": {}, "train": {"epochs": 2, "batch_size": 64},
        "search": {"train.learning_rate": ("log_uniform", 1e-3, 3e-2), "model.units": ("log_int", 4, 16)},
    },
    "quick": {
        "description": "Greff's random search on a CPU: five variants, adding and row-by-row MNIST, small sizes, "
                       "6 trials each, the best setting over 5 seeds",
        "variants": CORE,
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 30, "n_train": 2000, "n_val": 500, "n_test": 1000}},
            {"task": "seq_mnist", "size": "default", "params": {"n_train": 3000, "n_val": 500, "n_test": 2000}},
        ],
        "trials": 6,
        "seed": 0,
        "retrain_seeds": [0, 1, 2, 3, 4],
        "model": {}, "train": {"epochs": 5, "patience": 2},
        "search": {
            "train.learning_rate": ("log_uniform", 3e-4, 3e-2),
            "model.units": ("log_int", 16, 64),
            "model.input_dropout": ("uniform", 0.0, 0.3),
            "train.batch_size": ("choice", [32, 64]),
        },
    },
    "modern": {
        "description": "the cells after the LSTM and GRU (2015-2024) against them on a CPU: adding at T=100 and "
                       "row-by-row MNIST, small sizes, 6 trials each, the best setting over 3 seeds",
        "variants": ["lstm", "gru", "mingru", "minlstm", "indrnn", "lru", "rglru", "slstm", "mlstm"],
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 100, "n_train": 2000, "n_val": 500, "n_test": 1000}},
            {"task": "seq_mnist", "size": "default", "params": {"n_train": 3000, "n_val": 500, "n_test": 2000}},
        ],
        "trials": 6,
        "seed": 0,
        "retrain_seeds": [0, 1, 2],
        "model": {}, "train": {"epochs": 5, "patience": 2, "clipnorm": 1.0},
        "search": {
            "train.learning_rate": ("log_uniform", 3e-4, 3e-2),
            "model.units": ("log_int", 16, 64),
            "train.batch_size": ("choice", [32, 64]),
        },
    },
    "chung": {
        "description": "Chung et al. 2014 (Table 2) at their setting: tanh RNN 100, GRU 46, peephole LSTM 36 units "
                       "(about 20k parameters) on the four polyphonic benchmarks; RMSProp, clipping 1, weight noise "
                       "0.075; the learning rate the best of 10 log-uniform samples in [e^-12, e^-6] by validation "
                       "NLL, then 3 seeds of it",
        "variants": ["vanilla", "gru-original", "peephole"],
        "variant_settings": {"vanilla": {"model": {"units": 100}}, "gru-original": {"model": {"units": 46}},
                             "peephole": {"model": {"units": 36}}},
        "tasks": [{"task": task, "size": "default"} for task in ("jsb_chorales", "piano_midi", "nottingham", "musedata")],
        "trials": 10,
        "seed": 0,
        "retrain_seeds": [0, 1, 2],
        "model": {},
        "train": {"optimizer": "rmsprop", "clipnorm": 1.0, "weight_noise": 0.075, "batch_size": 8, "epochs": 100,
                  "patience": 10},
        # The learning rate is picked on a budget of 100 epochs; the chosen one is then trained until
        # the validation NLL stops improving, as the paper's models were (early stopping).
        # Piano-midi.de's 11 batches an epoch make 1,000 epochs 11k updates against JSB's 29k; its cap
        # gives it about as many.
        "retrain": {"train": {"epochs": 1000}, "overrides": {"piano_midi": {"train": {"epochs": 3000}}}},
        # Early stopping waits the same number of updates on every set (about 300): Piano-midi.de's
        # 87 sequences make 11 batches an epoch (JSB 29, MuseData 66, Nottingham 87), and its models
        # sit near the key-frequency baseline for dozens of epochs before they learn from the past.
        "overrides": {"piano_midi": {"train": {"patience": 30}}},
        "search": {"train.learning_rate": ("log_uniform", math.exp(-12), math.exp(-6))},  # Chung et al., section 4.2
        "sampler": "random",
    },
    "greff": {
        "description": "Greff et al. 2015 for many workers or a GPU: every LSTM-family variant on music, language "
                       "and tagging, 100 trials each",
        "variants": ["lstm", "peephole", "cifg", "nig", "nfg", "nog", "niaf", "noaf", "fgr"],
        "tasks": [{"task": "jsb_chorales", "size": "default"}, {"task": "ptb_char", "size": "default"},
                  {"task": "pos_tagging", "size": "default"}],
        "trials": 100,
        "seed": 0,
        "retrain_seeds": [0, 1, 2, 3, 4],
        "model": {}, "train": {"epochs": 30, "patience": 5},
        "search": {
            "train.learning_rate": ("log_uniform", 1e-6, 1e-2),  # Greff: 1e-6 to 1e-2, log-uniform
            "model.units": ("log_int", 20, 200),                  # Greff: 20 to 200
            "model.input_dropout": ("uniform", 0.0, 0.5),
            "model.recurrent_dropout": ("uniform", 0.0, 0.5),
            "train.clipnorm": ("choice", [0.0, 1.0, 5.0]),
            "train.batch_size": ("choice", [16, 32, 64]),
            "train.optimizer": ("choice", ["adam", "sgd"]),
            "train.momentum": ("uniform", 0.0, 0.99),             # Greff: momentum 0 to 0.99 with SGD
        },
        "when": {"train.momentum": {"train.optimizer": "sgd"}},
        "pruner": "hyperband",
    },
}


def list_spaces() -> list[str]:
    return sorted(SPACES)


def get_space(name: str) -> dict:
    """A built-in space by name, or a search-space file (`*.toml`), checked; a file's
    distributions are arrays, e.g. ["log_uniform", 1e-4, 1e-1]."""
    if name in SPACES:
        return check_declaration("search space", name, SPACES[name], SPACE_KEYS)
    if not is_file(name):
        raise unknown_name("search space", name, SPACES, plural="search spaces")
    space = load_toml(name)
    space.setdefault("description", f"search space file {name}")
    check_declaration("search space", Path(name).stem, space, SPACE_KEYS, base_dir=Path(name).resolve().parent)
    space["search"] = {key: tuple(value) if isinstance(value, list) else value
                       for key, value in space.get("search", {}).items()}
    return space


def _distribution(key: str, declaration, where: str):
    """(kind, arguments) of a declared distribution, checked against the setting's valid values."""
    setting = get_setting(key, where)
    if not isinstance(declaration, (tuple, list)) or not declaration or declaration[0] not in DISTRIBUTIONS:
        raise ValueError(f"{where}: {key} must be declared as (kind, ...) with kind one of "
                         f"{', '.join(DISTRIBUTIONS)}, got {declaration!r}.")
    kind, *args = declaration
    if kind == "choice":
        if len(args) != 1 or not isinstance(args[0], (list, tuple)) or not args[0]:
            raise ValueError(f"{where}: {key} = ('choice', [values]) needs a non-empty list, got {declaration!r}.")
        return kind, [setting.check(v) for v in args[0]]
    if len(args) != 2:
        raise ValueError(f"{where}: {key} = ({kind!r}, low, high) needs two numbers, got {declaration!r}.")
    low, high = (setting.check(v) for v in args)
    if low > high:
        raise ValueError(f"{where}: {key} has low {low!r} > high {high!r}.")
    if kind.startswith("log") and low <= 0:
        raise ValueError(f"{where}: {key} is log-scaled, so low must be > 0, got {low!r}.")
    if kind.endswith("int") and not (isinstance(low, int) and isinstance(high, int)):
        raise ValueError(f"{where}: {key} ({kind!r}) needs integer bounds, got {low!r}, {high!r}.")
    return kind, [low, high]


def _sample(kind, args, rng):
    if kind == "choice":
        return args[int(rng.integers(len(args)))]
    low, high = args
    if kind == "uniform":
        return float(rng.uniform(low, high))
    if kind == "log_uniform":
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    if kind == "int":
        return int(rng.integers(low, high + 1))
    # log_int: as Optuna's IntDistribution(log=True): log-uniform on [low - 0.5, high + 0.5], rounded
    value = int(round(math.exp(rng.uniform(math.log(low - 0.5 if low > 0.5 else low), math.log(high + 0.5)))))
    return min(max(value, low), high)


def _to_optuna(kind, args) -> str:
    if kind == "choice":
        return choice_distribution(args)
    if kind.endswith("int"):
        return int_distribution(args[0], args[1], log=kind.startswith("log"))
    return float_distribution(float(args[0]), float(args[1]), log=kind.startswith("log"))


class Search:
    """A space expanded: its search runs, each run's sampled parameters, and the retraining of
    each variant's best setting. Every check happens here, before anything trains."""

    def __init__(self, name: str, overrides: list[str] | None = None, only: str | None = None):
        space = get_space(name)
        where = f"search space {name}"
        trials = space.get("trials")
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise ValueError(f"{where}: trials must be a positive integer (trials per variant and task), got {trials!r}.")
        self.name, self.space, self.trials = declaration_name(name, SPACES), space, trials
        self.grid = f"search-{self.name}"
        self.sampler = space.get("sampler", "random")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"{where}: sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}.")
        self.pruner = space.get("pruner")
        if self.pruner is not None and self.pruner not in PRUNERS:
            raise ValueError(f"{where}: pruner must be None or one of {', '.join(PRUNERS)}, got {self.pruner!r}.")
        self.distributions = {key: _distribution(key, declaration, where)
                              for key, declaration in space.get("search", {}).items()}
        if not self.distributions:
            raise ValueError(f"{where}: `search` declares no distribution; give at least one, e.g. "
                             "'train.learning_rate': ('log_uniform', 1e-4, 1e-1).")
        self.when = space.get("when", {})
        for key, condition in self.when.items():
            if key not in self.distributions:
                raise ValueError(f"{where}: `when` names {key}, which is not searched.")
            if not isinstance(condition, dict):
                raise ValueError(f"{where}: when.{key} must be a table of setting = value, got {condition!r}.")
            for other in condition:
                get_setting(other, f"{where} when.{key}")  # an unknown setting is named
        self.seed = check_seeds([space.get("seed", 0)], where)[0]
        self.retrain_seeds = check_seeds(space.get("retrain_seeds", [0, 1, 2, 3, 4]), f"{where} retrain_seeds")
        self.retrain = space.get("retrain") or {}
        check_keys(f"{where} retrain", self.retrain, {"model": dict, "train": dict, "overrides": dict})
        task_names = [entry["task"] for entry in space["tasks"]]
        for task_name, override in (self.retrain.get("overrides") or {}).items():
            if task_name not in task_names:
                raise ValueError(f"{where} retrain overrides: task {task_name!r} is not in the space; "
                                 f"its tasks: {', '.join(task_names)}.")
            check_keys(f"{where} retrain overrides for {task_name}", override, {"model": dict, "train": dict})
        for section in ("model", "train"):  # checked now, before anything trains
            apply_settings(defaults(section), section, self.retrain.get(section, {}), f"{where} retrain")
            for task_name in self.retrain.get("overrides") or {}:
                apply_settings(defaults(section), section, self._retrain_settings(task_name, section),
                               f"{where} retrain overrides for {task_name}")
        cli = parse_overrides(overrides or [])
        searched = [f"{section}.{key}" for section in ("model", "train") for key in cli[section]
                    if f"{section}.{key}" in self.distributions]
        if searched or "seeds" in cli:
            raise ValueError(f"--set cannot fix what the search samples or the seeds it uses ({', '.join(searched) or 'seeds'}); "
                             f"set the space's fixed settings, size or task parameters instead.")
        self.variants = expand_variants(space["variants"])
        self.entries = task_entries(space, where, cli)
        self.filters = parse_only(only)
        # What --only may name: every (task, variant) of the space with the search's seed.
        self._candidates = [SimpleNamespace(task=e.task.name, variant=v, seed=self.seed, size=e.size, label=e.label)
                            for e in self.entries for v in e.variants]
        select([], self.filters, where, candidates=self._candidates)  # a pattern that names nothing
        # The (task label, variant) pairs --only admits.
        self.admitted = {(c.label, c.variant) for c in select(self._candidates, self.filters, where)}
        self._values: dict[str, tuple[dict, dict]] = {}  # run key -> (sampled values, distributions)
        self._best_keys: set[str] = set()  # runs of the retraining: filed in the "/best" studies
        self.runs = self._selected(self._search_runs()) if self.sampler == "random" else []
        if not self.runs and self.sampler == "random":
            raise ValueError(f"{where} with these filters has no runs.")

    def _selected(self, runs: list[RunSpec]) -> list[RunSpec]:
        return select(runs, self.filters, f"search space {self.name}", candidates=self._candidates)

    def study_of(self, run) -> str:
        """Each (task, variant) has its study, so Optuna's importance views work per variant."""
        return f"{self.grid}/{run.label}/{run.variant}" + ("/best" if run.key in self._best_keys else "")

    def params_of(self, run):
        return self._values.get(run.key, ({}, {}))

    def directions(self) -> dict[str, bool]:
        names = {}
        for entry in self.entries:
            for variant in entry.variants:
                names[f"{self.grid}/{entry.label}/{variant}"] = entry.task.higher_is_better
                names[f"{self.grid}/{entry.label}/{variant}/best"] = entry.task.higher_is_better
        return names

    def sample(self, entry_index: int, trial: int) -> dict:
        """The settings of trial `trial` of task `entry_index`: the same for every variant (paired)."""
        rng = np.random.default_rng([self.seed, entry_index, trial])
        values = {}
        for key, (kind, args) in self.distributions.items():
            condition = self.when.get(key, {})
            if all(values.get(other) == wanted for other, wanted in condition.items()):
                values[key] = _sample(kind, args, rng)
            else:
                _sample(kind, args, rng)  # keep the draws of the other settings the same
        return values

    def run_of(self, entry_index: int, variant: str, values: dict, seed: int) -> RunSpec:
        """The run of `variant` on task `entry_index` with sampled `values` and `seed`."""
        sampled_model = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("model.")}
        sampled_train = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("train.")}
        run = self.entries[entry_index].run(variant, seed, self.grid,
                                            extra_layers=[("sampled settings", sampled_model, sampled_train)])
        self._values[run.key] = (values, {k: _to_optuna(*self.distributions[k]) for k in values})
        return run

    def _search_runs(self) -> list[RunSpec]:
        runs = []
        for index, entry in enumerate(self.entries):
            for trial in range(self.trials):
                values = self.sample(index, trial)
                runs += [self.run_of(index, variant, values, self.seed) for variant in entry.variants]
        return runs

    def _of_this_space(self, index: int, variant: str, record: dict) -> bool:
        """Whether a stored trial is one of this space as declared now: its sampled values, run
        with the space's present fixed settings, give its configuration. A trial of an earlier
        declaration (another patience, say) stays in the store but is never the best to retrain."""
        try:
            stored = RunSpec.from_json({k: record[k] for k in RunSpec.__dataclass_fields__})
            return self.run_of(index, variant, dict(record.get("sampled") or {}), self.seed).key == stored.key
        except (KeyError, TypeError, ValueError):
            return False

    def _trials_by_pair(self, records: list[dict]) -> tuple[dict[tuple, list[dict]], list[dict]]:
        """The stored search attempts (not the retraining's) of this space as declared and configured
        now, by (label, variant); and the attempts of its tasks and variants under other settings."""
        index_of = {entry.label: index for index, entry in enumerate(self.entries)}
        mine, others = {}, []
        for record in records:
            label, variant = record.get("label"), record.get("variant")
            if str(record.get("study", "")).endswith("/best") or label not in index_of:
                continue
            if self._of_this_space(index_of[label], variant, record):
                mine.setdefault((label, variant), []).append(record)
            else:
                others.append(record)
        return mine, others

    def search_trials(self, records: list[dict]) -> tuple[list[dict], int]:
        """The stored attempts at the search trials of this space as declared and configured now
        (its fixed settings, `--set`, `--only`), and how many attempts of the same tasks and
        variants ran under other settings: those stay in the store, never mixed in."""
        mine, others = self._trials_by_pair(records)
        return ([r for pair, rows in mine.items() if pair in self.admitted for r in rows],
                sum((r.get("label"), r.get("variant")) in self.admitted for r in others))

    def _retrain_settings(self, task_name: str, section: str) -> dict:
        """The retraining's fixed settings of one section on one task: its own, then the task's override."""
        own = (self.retrain.get("overrides") or {}).get(task_name, {})
        return {**self.retrain.get(section, {}), **own.get(section, {})}

    def optuna_distributions(self) -> dict:
        return {k: _to_optuna(*spec) for k, spec in self.distributions.items()}

    def retrain_runs(self, records: list[dict]) -> tuple[list[RunSpec], list[tuple]]:
        """The best setting of each (task, variant), by validation score among its finished search
        trials, over `retrain_seeds`; and the (label, variant) pairs still without a finished trial.
        The retrained run with the search's seed is the search trial itself (same key)."""
        runs, waiting = [], []
        trials, _ = self._trials_by_pair(records)
        for entry in self.entries:
            task = entry.task
            for variant in entry.variants:
                mine = [r for r in trials.get((entry.label, variant), []) if r.get("status") == "finished"
                        and isinstance(r.get("val"), dict) and task.metric in r["val"]]
                if not mine:
                    waiting.append((entry.label, variant))
                    continue
                sign = 1 if task.higher_is_better else -1  # ties: the earliest trial
                best = max(mine, key=lambda r: (sign * r["val"][task.metric], -r["trial_number"]))
                spec = RunSpec.from_json({k: best[k] for k in RunSpec.__dataclass_fields__})
                if self.retrain:
                    model, train = dict(spec.model), dict(spec.train)
                    apply_settings(model, "model", self._retrain_settings(task.name, "model"), "retrain")
                    apply_settings(train, "train", self._retrain_settings(task.name, "train"), "retrain")
                    spec = replace(spec, model=model, train=train)
                values = dict(best.get("sampled") or {})
                for seed in self.retrain_seeds:
                    run = replace(spec, seed=seed)  # the best trial's settings, another seed
                    self._values[run.key] = (values, {k: _to_optuna(*self.distributions[k]) for k in values
                                                      if k in self.distributions})
                    runs.append(run)
        self._best_keys = {r.key for r in runs}
        return self._selected(runs), [pair for pair in waiting if pair in self.admitted]  # --only's, not the others
