"""Grids and search spaces declared in files of one's own: TOML with the schema of the built-in ones.

    # my-grid.toml
    description = "GRU against LSTM on adding at two lengths"
    variants = ["lstm", "gru"]
    seeds = [0, 1, 2]
    tasks = [{task = "adding", size = "default", params = {T = 100}}]
    [model]
    units = 64
    [train]
    epochs = 8
    [overrides.adding.train]
    learning_rate = 0.005

`python -m experiments run --grid my-grid.toml` (and `report`, `search --space my-space.toml`)
reads it; its name is the file's stem. Every key and type is checked, with the line of a TOML
syntax error, before anything trains. Secrets (a store's password) never go in such a file:
`--storage` or `$RNNZOO_STORAGE` carries the store's URL.
"""

from __future__ import annotations

from pathlib import Path

GRID_KEYS = {"description": str, "variants": list, "tasks": list, "seeds": list, "model": dict, "train": dict,
             "overrides": dict}
TASK_KEYS = {"task": str, "size": str, "params": dict, "variants": list}  # variants: this task's own, else the grid's


def is_file(name: str) -> bool:
    return str(name).endswith(".toml") or ("/" in str(name) and Path(name).is_file())


def load_toml(path) -> dict:
    """The TOML file as a dict; a ValueError naming the file (and the line of a syntax error)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file {path}; a grid or search space is a built-in name or a .toml file")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: TOML syntax error: {error}") from None


def _type_name(kind) -> str:
    return {str: "a string", list: "a list", dict: "a table", int: "an integer"}[kind]


def check_keys(where: str, table: dict, schema: dict, required=()) -> None:
    """Every key of `table` known to `schema` (key -> type) and of that type; `required` present."""
    unknown = set(table) - set(schema)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid keys: {', '.join(schema)}.")
    for key in required:
        if key not in table:
            raise ValueError(f"{where}: `{key}` is missing; a grid needs {', '.join(required)}.")
    for key, value in table.items():
        if not isinstance(value, schema[key]):
            raise ValueError(f"{where}: `{key}` must be {_type_name(schema[key])}, got {type(value).__name__} {value!r}.")


def check_grid(name: str, grid: dict) -> dict:
    """The grid, its keys and types checked (built-in and file grids alike)."""
    where = f"grid {name}"
    check_keys(where, grid, GRID_KEYS, required=("variants", "tasks", "seeds"))
    for i, entry in enumerate(grid["tasks"]):
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: tasks[{i}] must be a table such as {{task = \"adding\"}}, got {entry!r}.")
        check_keys(f"{where} tasks[{i}]", entry, TASK_KEYS, required=("task",))
        bad = [v for v in entry.get("variants", []) if not isinstance(v, str)]
        if bad:
            raise ValueError(f"{where} tasks[{i}]: `variants` must hold names, got {bad[0]!r}.")
    for key in ("variants", "seeds"):
        bad = [v for v in grid[key] if not isinstance(v, str if key == "variants" else int) or isinstance(v, bool)]
        if bad:
            raise ValueError(f"{where}: `{key}` must hold {'names' if key == 'variants' else 'integers'}, got {bad[0]!r}.")
    for task, override in grid.get("overrides", {}).items():
        if not isinstance(override, dict):
            raise ValueError(f"{where}: overrides.{task} must be a table with `model` and `train`, got {override!r}.")
        check_keys(f"{where} overrides.{task}", override, {"model": dict, "train": dict})
    return grid


def load_grid(path) -> tuple[str, dict]:
    """(name, grid) of a grid file; the name is the file's stem."""
    grid = load_toml(path)
    name = Path(path).stem
    grid.setdefault("description", f"grid file {path}")
    return name, check_grid(name, grid)


def load_space(path) -> tuple[str, dict]:
    """(name, space) of a search-space file; distributions are arrays, e.g. ["log_uniform", 1e-4, 1e-1]."""
    space = load_toml(path)
    space.setdefault("description", f"search space file {path}")
    space["search"] = {key: tuple(value) if isinstance(value, list) else value
                       for key, value in space.get("search", {}).items()}
    return Path(path).stem, space
