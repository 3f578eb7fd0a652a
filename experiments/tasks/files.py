"""Your own data as a task: a declaration in a TOML file (or inline in a grid or search space)
that points at a data file and says what to predict. It becomes a `Task` like the built-in ones,
so grids, searches, workers, stores and reports take it unchanged.

    # sensors.toml: one label per sequence, from a long-format CSV
    name = "sensors"
    path = "sensors.csv"          # relative to this file
    topology = "classification"   # classification | regression | tagging | forecasting | language_model
    sequence = "unit"             # the sequence-id column
    order = "time"                # the order of the steps (numbers or dates)
    features = ["temperature", "vibration"]
    categorical = ["mode"]        # one-hot, with the categories of the training split
                                  # (embed = "event": a column of tokens as the only input, embedded)
    target = "label"
    group = "site"                # optional: a site's sequences stay in one split
    split = [0.8, 0.1, 0.1]       # train / val / test, drawn with split_seed (default 0)

A grid then names it: `tasks = [{task = "sensors.toml"}]`, or declares it inline:
`tasks = [{task = "sensors", data = {path = "sensors.csv", topology = "classification", ...}}]`.
Every key is documented in `docs/your-data.md`; `python -m experiments check-task FILE` shows
what a declaration gives (split sizes, features, classes, the baseline) without training.

What the data becomes: variable lengths padded and masked; numeric features standardised with the
training split's statistics only; splits from a column or drawn from `split_seed` with the given
ratios (grouped by a column when asked), identical for every variant and run seed. The metric
follows the topology (or is named): macro-F1 and accuracy; RMSE, MSE, MAE; token accuracy; bits
per token. The baseline too: the majority class, the training mean, persistence or seasonal-naive,
the most frequent tag, a unigram model.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from experiments.tasks import Task, register_task
from experiments.tasks.file_data import TOPOLOGIES, Declaration, prepare
from experiments.tasks.readers import SPLIT_NAMES
from zoo.checks import unknown_name

__all__ = ["declare_task", "load_task_file", "TASK_FILE_KEYS", "TOPOLOGIES", "FORMATS"]

FORMATS = {"csv": (".csv", ".csv.gz", ".tsv"), "parquet": (".parquet", ".pq"), "npz": (".npz",), "npy": (".npy",),
           "text": (".txt",)}
LEVELS = ("char", "word")
TASK_FILE_KEYS = {
    "name": str, "description": str, "path": str, "format": str, "topology": str, "target": str, "features": list,
    "categorical": list, "sequence": str, "order": str, "split_column": str, "split": list, "group": str,
    "split_seed": int, "lookback": int, "horizon": int, "season": int, "length": int, "text": str, "level": str,
    "max_length": int, "min_count": int, "metric": str, "x_key": str, "y_key": str, "y_path": str, "train": dict,
    "separator": str, "embed": str,
}
_RESERVED_COLUMNS = ("sequence", "order", "group", "split_column")


def _type_name(kind) -> str:
    return {str: "a string", list: "a list", dict: "a table", int: "an integer"}[kind]


def _check(table: dict, where: str, base_dir: Path) -> Declaration:
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table of keys (path, topology, target, ...), got {table!r}")
    unknown = sorted(set(table) - set(TASK_FILE_KEYS))
    if unknown:
        import difflib

        close = {k: difflib.get_close_matches(k, TASK_FILE_KEYS, n=1) for k in unknown}
        hints = "".join(f" ({k}: did you mean {c[0]!r}?)" for k, c in close.items() if c)
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}{hints}; valid keys: "
                         f"{', '.join(TASK_FILE_KEYS)}")
    for key, value in table.items():
        kind = TASK_FILE_KEYS[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{where}: `{key}` must be {_type_name(kind)}, got {type(value).__name__} {value!r}")
    for key in ("path", "topology"):
        if key not in table:
            raise ValueError(f"{where}: `{key}` is missing; a task file needs path and topology (and a target, "
                             "except for a language model)")
    topology = table["topology"]
    if topology not in TOPOLOGIES:
        raise unknown_name("topology", topology, TOPOLOGIES, plural="topologies")
    path = Path(table["path"]).expanduser()
    path = path if path.is_absolute() else base_dir / path
    fmt = table.get("format") or next((f for f, ends in FORMATS.items() if str(path).lower().endswith(ends)), None)
    if fmt is None:
        raise ValueError(f"{where}: cannot tell the format of {path} from its name; give format = one of "
                         f"{', '.join(FORMATS)}")
    if fmt not in FORMATS:
        raise unknown_name("format", fmt, FORMATS)
    if not path.is_file():
        raise ValueError(f"{where}: data file {path} does not exist (`path` is relative to the file that declares "
                         "the task)")
    if "y_path" in table:
        y_path = Path(table["y_path"]).expanduser()
        table = {**table, "y_path": str(y_path if y_path.is_absolute() else base_dir / y_path)}
        if not Path(table["y_path"]).is_file():
            raise ValueError(f"{where}: targets file {table['y_path']} does not exist")
    metrics = TOPOLOGIES[topology][2]
    if "metric" in table and table["metric"] not in metrics:
        raise ValueError(f"{where}: metric {table['metric']!r} does not fit topology {topology!r}; valid metrics: "
                         f"{', '.join(metrics)}")
    if "level" in table and table["level"] not in LEVELS:
        raise ValueError(f"{where}: level must be one of {', '.join(LEVELS)}, got {table['level']!r}")
    allowed = {"classification": ("csv", "parquet", "npz", "npy"), "regression": ("csv", "parquet", "npz", "npy"),
               "tagging": ("csv", "parquet", "npz", "npy"), "forecasting": ("csv", "parquet"),
               "language_model": ("text",)}[topology]
    if fmt not in allowed:
        raise ValueError(f"{where}: topology {topology!r} reads {', '.join(allowed)} files, not {fmt} ({path})")
    if fmt == "text" or "text" in table:
        if topology not in ("language_model", "classification"):
            raise ValueError(f"{where}: text goes with topology language_model (a corpus) or classification (a text "
                             f"column and a label column), not {topology!r}")
    if topology != "language_model" and "target" not in table and fmt in ("csv", "parquet"):
        raise ValueError(f"{where}: `target` is missing: the column to predict")
    if topology == "forecasting":
        for key in ("lookback",):
            if key not in table:
                raise ValueError(f"{where}: forecasting needs `lookback`, the steps each prediction reads (and "
                                 "`horizon`, how far ahead, default 1)")
    for key in ("lookback", "horizon", "season", "length", "max_length", "min_count"):
        if key in table and table[key] < 1:
            raise ValueError(f"{where}: `{key}` must be at least 1, got {table[key]}")
    ratios = table.get("split", [0.8, 0.1, 0.1])
    if len(ratios) != 3 or not all(isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0 for r in ratios) \
            or not math.isclose(sum(ratios), 1.0, abs_tol=1e-6):
        raise ValueError(f"{where}: `split` must be three positive fractions for train, val and test that add up "
                         f"to 1, e.g. [0.8, 0.1, 0.1]; got {ratios!r}")
    if "split" in table and "split_column" in table:
        raise ValueError(f"{where}: give `split` (fractions) or `split_column` (a column saying train / val / test), "
                         "not both")
    features, categorical, target = table.get("features", []), table.get("categorical", []), table.get("target")
    for key, names in (("features", features), ("categorical", categorical)):
        bad = [n for n in names if not isinstance(n, str)]
        if bad:
            raise ValueError(f"{where}: `{key}` must hold column names, got {bad[0]!r}")
    if target is not None and (target in features or target in categorical):
        extra = " (a forecast reads the target's past values already)" if topology == "forecasting" else ""
        raise ValueError(f"{where}: target column {target!r} is also listed as a feature{extra}; the model would "
                         "see the answer: drop it from `features` / `categorical`")
    embed = table.get("embed")
    if embed is not None:
        if features or categorical:
            raise ValueError(f"{where}: `embed` = {embed!r} makes the sequence one of tokens (embedded ids), so it is "
                             "the only input; to mix categories with numbers, one-hot them in `categorical`")
        if embed == target:
            raise ValueError(f"{where}: target column {target!r} is also the embedded input; the model would see the "
                             "answer")
        if topology in ("forecasting", "language_model"):
            raise ValueError(f"{where}: `embed` goes with classification, regression or tagging, not {topology!r}")
    both = sorted(set(features) & set(categorical))
    if both:
        raise ValueError(f"{where}: column(s) {', '.join(both)} are in both `features` and `categorical`")
    for key in _RESERVED_COLUMNS:
        column = table.get(key)
        if column is not None and column in features + categorical + ([target] if target else []):
            raise ValueError(f"{where}: column {column!r} is the `{key}` column and also a feature or the target")
    name = table.get("name")
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"{where}: `name` must be letters, digits, '_', '.' or '-', got {name!r}")
    return Declaration(name, where, path, fmt, topology, dict(table))


_FILE_TASKS: set[str] = set()  # the names declared from files, which a later declaration may redefine


def load_task_file(path, base_dir: Path | None = None) -> Task:
    """The task declared in the TOML file `path` (relative to `base_dir`), registered."""
    from experiments.declarations import load_toml

    path = Path(path)
    path = path if path.is_absolute() or base_dir is None else base_dir / path
    table = load_toml(path)
    table.setdefault("name", path.stem)
    return declare_task(table, where=f"task file {path}", base_dir=path.parent)


def declare_task(table: dict, where: str = "task", base_dir: Path | None = None) -> Task:
    """A `Task` from a declaration (a TOML table), registered under its `name`."""
    from experiments.tasks import _TASKS, list_tasks

    declaration = _check(table, where, Path(base_dir or ".").resolve())
    builtin = set(list_tasks()) - _FILE_TASKS
    if declaration.name in builtin:
        raise ValueError(f"{where}: name {declaration.name!r} is a built-in task; give the file task another name")
    registered, metrics = TOPOLOGIES[declaration.topology][0], TOPOLOGIES[declaration.topology][2]
    cached: dict = {}

    def load_data():
        if "data" not in cached:
            cached["data"] = prepare(declaration)
        return cached["data"]

    def check(params):
        load_data()  # every bad input in the file is found here, before anything trains

    def make(params, seed):
        return load_data().dataset(params["n_train"])

    def baseline(dataset, params):
        return load_data().baseline(dataset)

    t = declaration.table
    metric = t.get("metric", metrics[0])
    task = Task(
        name=declaration.name,
        description=t.get("description", f"{declaration.topology} on {declaration.path.name}"),
        topology=registered, metric=metric, higher_is_better=metric in ("macro_f1", "accuracy", "token_accuracy"),
        params={"n_train": 0},
        sizes={"smoke": {"n_train": 64}, "default": {}, "paper": {}},
        make=make, check=check, score=lambda split, predictions, info: load_data().score(split, predictions),
        baseline=baseline, baseline_name=_baseline_name(declaration),
        train=t.get("train", {}),
        citation="", source=f"{declaration.format} file {declaration.path.name} ({where})",
    )
    _TASKS.pop(task.name, None)
    _FILE_TASKS.add(task.name)
    return register_task(task)


def _baseline_name(declaration: Declaration) -> str:
    if declaration.topology == "forecasting" and "season" in declaration.table:
        return f"seasonal naive (the value one season, {declaration.table['season']} steps, earlier)"
    return TOPOLOGIES[declaration.topology][3]


def describe(task: Task) -> str:
    """What a file task's declaration gives: split sizes, inputs, target, baseline (no training)."""
    from experiments.tasks import get_task

    task = get_task(task) if isinstance(task, str) else task
    task.resolve("default")
    data = task.make({"n_train": 0}, 0)
    lines = [f"task {task.name}: {task.description}", f"  source: {task.source}",
             f"  topology: {task.topology} | metric: {task.metric} "
             f"({'higher' if task.higher_is_better else 'lower'} is better)",
             "  splits: " + ", ".join(f"{name} {len(data.split(name))}" for name in SPLIT_NAMES)]
    shape = data.train.x.shape
    lines.append(f"  inputs: {shape[1:]} per example" + (" (padded and masked; batched by length)"
                                                         if data.train.lengths is not None else ""))
    if data.info.get("classes") is not None:
        classes = data.info["classes"]
        more = " ..." if len(classes) > 12 else ""
        lines.append(f"  classes ({len(classes)}): {', '.join(map(str, classes[:12]))}{more}")
    baseline = task.baseline(data, {})
    lines.append(f"  baseline ({task.baseline_name}): " + ", ".join(f"{k} {v:.4g}" for k, v in baseline.items()))
    return "\n".join(lines)
