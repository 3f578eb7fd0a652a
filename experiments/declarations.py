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
reads it; its name is the file's stem. This module reads the file (a syntax error names its line);
`experiments.planner` checks every key and type, as for the built-in declarations, before
anything trains. Secrets (a store's password) never go in such a file:
`--storage` or `$RNNZOO_STORAGE` carries the store's URL.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["is_file", "load_toml"]


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
