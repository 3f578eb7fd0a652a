"""Moving runs between results stores through a file: `python -m experiments export` writes the
done runs of a grid or search space (their settings, records and Optuna parameters) to a JSON
Lines file, gzip-compressed when its name ends in `.gz`; `python -m experiments import` adds
them to another store. Runs already done there are skipped, so importing is safe to repeat, and
a `run` or `search` afterwards trains only what is missing: a long search can go on on another
machine, or results made apart can be reported together, without a shared database.

The file's first line is a header (`format`, `version`, the grid, when and from which store);
each further line is one run. The runs' files (models, logs) are not in it: copy the artifact
folder (`results/artifacts/`) as well where they are needed (e.g. for `generate`).
"""

from __future__ import annotations

import gzip
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from experiments.locations import (
    check_writable,
    default_results_dir,
    default_storage_url,
    mask_url,
    shown_path,
    shown_url,
)
from experiments.planner import ONLY_KEYS, grid_name_of, parse_only, select
from experiments.store import Store

__all__ = [
    "FORMAT",
    "REPORT_RUNS",
    "VERSION",
    "export_runs",
    "import_runs",
    "read_runs",
    "write_report_runs",
    "write_runs",
]

FORMAT = "rnn-zoo-runs"
VERSION = 1
ROW_KEYS = {"study": str, "direction": str, "state": str, "params": dict, "distributions": dict,
            "user_attrs": dict, "intermediate": dict}
STATES = ("COMPLETE", "PRUNED")
DIRECTIONS = ("minimize", "maximize")
REPORT_RUNS = "runs.jsonl.gz"  # in every report's folder: the runs it was made from


def _open(path: Path, mode: str, compressed: bool):
    return gzip.open(path, mode + "t", encoding="utf-8") if compressed else open(path, mode, encoding="utf-8")


def _as_shown(row: dict) -> dict:
    """The row with its run folder as a report shows paths: relative to the working folder when
    inside it, so that a file written in a checkout names no folder of the machine it ran on."""
    attrs = row["user_attrs"]
    return {**row, "user_attrs": {**attrs, "run_dir": shown_path(attrs["run_dir"])}} if attrs.get("run_dir") else row


def write_runs(path, rows: list[dict], header: dict, store: Store) -> Path:
    """Write `rows` (from `store.export_trials`) under `header`, with when and from which store, to
    `path`, in full or not at all."""
    header = {**header, "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "store": shown_url(store.url)}
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _open(partial, "w", compressed=path.suffix == ".gz") as handle:
            handle.write(json.dumps({"format": FORMAT, "version": VERSION, **header}) + "\n")
            for row in rows:
                handle.write(json.dumps(_as_shown(row), allow_nan=True) + "\n")
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ValueError(f"cannot write the runs to {path}: {error.strerror or error}") from None
    return path


def write_report_runs(folder: Path, store: Store, grid: str, keys: set[str], configuration: dict) -> Path:
    """The done runs of `grid` whose keys are in `keys` (a report's runs), into the report's
    folder: `import` them anywhere and the same report can be written again there."""
    rows = [row for row in store.export_trials(grid) if row["user_attrs"].get("run_key") in keys]
    return write_runs(Path(folder) / REPORT_RUNS, rows, {"grid": grid, **configuration}, store)


def _check_row(row, where: str) -> None:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: a run must be a JSON object, got {type(row).__name__}")
    for key, kind in ROW_KEYS.items():
        if not isinstance(row.get(key), kind):
            raise ValueError(f"{where}: `{key}` must be {'a string' if kind is str else 'an object'}, "
                             f"got {row.get(key)!r:.60}")
    if row["state"] not in STATES:
        raise ValueError(f"{where}: state {row['state']!r} is not a done run's; valid states: {', '.join(STATES)}")
    if row["direction"] not in DIRECTIONS:
        raise ValueError(f"{where}: direction {row['direction']!r} is unknown; valid directions: {', '.join(DIRECTIONS)}")
    if "/" not in row["study"]:
        raise ValueError(f"{where}: study {row['study']!r} is not '<grid>/<task label>[/...]'")
    if not isinstance(row["user_attrs"].get("run_key"), str) or not isinstance(row["user_attrs"].get("spec"), dict):
        raise ValueError(f"{where}: the run has no `run_key` or `spec` among its attributes")
    value = row.get("value")
    if row["state"] == "COMPLETE" and not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise ValueError(f"{where}: a finished run needs a finite numeric `value`, got {value!r}")


def read_runs(path) -> tuple[dict, list[dict]]:
    """The header and runs of an export file, every line checked before any is used: a missing,
    truncated or foreign file is a ValueError naming it (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no export file at {path}; write one with `python -m experiments export`")
    rows, header = [], None
    try:
        with _open(path, "r", compressed=path.suffix == ".gz") as handle:
            for number, line in enumerate(handle, 1):
                where = f"{path}, line {number}"
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{where} is not JSON ({error.msg}): the file is damaged or not an export")
                if header is None:
                    if not isinstance(item, dict) or item.get("format") != FORMAT:
                        raise ValueError(f"{path} is not an RNN Zoo export (its first line has no "
                                         f"\"format\": \"{FORMAT}\"); write one with `python -m experiments export`")
                    if item.get("version") != VERSION:
                        raise ValueError(f"{path} is an export of version {item.get('version')!r}; this RNN Zoo reads "
                                         f"version {VERSION}")
                    header = item
                    continue
                _check_row(item, where)
                rows.append(item)
    except (OSError, EOFError, UnicodeDecodeError) as error:  # a truncated or non-gzip .gz file, say
        raise ValueError(f"cannot read {path}: {error}") from None
    if header is None:
        raise ValueError(f"{path} is empty: not an RNN Zoo export")
    return header, rows


def _store(storage, results, create: bool) -> Store:
    results_dir = Path(results) if results else default_results_dir()
    return Store(storage or default_storage_url(results_dir), create=create)


def export_runs(grid: str | None = None, space: str | None = None, only: str | None = None, storage=None,
                results=None, to=None) -> int:
    """`python -m experiments export`: the done runs of `grid` (or of search space `space`), those
    `only` admits, into the file `to` (default `results/exports/<grid>.jsonl.gz`)."""
    if (grid is None) == (space is None):
        raise ValueError("name what to export: --grid NAME (a grid's runs) or --space NAME (a search's runs)")
    if space is not None:
        from experiments.planner import declaration_name
        from experiments.spaces import SPACES, get_space

        get_space(space)  # an unknown space suggests the close names
        name = f"search-{declaration_name(space, SPACES)}"
    else:
        from experiments.planner import get_grid

        get_grid(grid)  # an unknown grid suggests the close names
        name = grid_name_of(grid)
    filters = parse_only(only)  # every argument checked before the store is read
    out = Path(to) if to else (Path(results) if results else default_results_dir()) / "exports" / f"{name}.jsonl.gz"
    check_writable(out.parent, "the runs")
    store = _store(storage, results, create=False)
    rows = store.export_trials(name)
    if not rows:
        raise ValueError(f"the results store {mask_url(store.url)} holds no finished run of {name!r}; nothing to export")
    if filters:
        specs = [SimpleNamespace(**{key: row["user_attrs"]["spec"].get(key) for key in ONLY_KEYS}) for row in rows]
        kept = {id(spec) for spec in select(specs, filters, f"the finished runs of {name!r}")}
        rows = [row for row, spec in zip(rows, specs) if id(spec) in kept]
    write_runs(out, rows, {"grid": name, "only": only}, store)
    print(f"exported {len(rows)} finished runs of {name!r} from {mask_url(store.url)} to {out}")
    return 0


def import_runs(files: list[str], storage=None, results=None) -> int:
    """`python -m experiments import`: every run of `files` into the store; each file is read and
    checked in full before anything is written."""
    loaded = [(path, *read_runs(path)) for path in files]
    store = _store(storage, results, create=True)
    for path, header, rows in loaded:
        counts = store.import_trials(rows)
        print(f"{path}: {counts['imported']} runs of {header.get('grid')!r} imported into {mask_url(store.url)}, "
              f"{counts['already']} already there")
    return 0
