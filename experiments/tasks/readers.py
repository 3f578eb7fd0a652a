"""Reading a user's data file once into a cached array form (`Table`), for the file tasks.

A table is one row per step of every sequence, sorted by sequence and order: numeric features
(float32), categorical columns as integer codes, the target, and optional group and split
columns, with `offsets` marking where each sequence starts. Tabular files (CSV, Parquet) are read
in chunks and each column is spooled to disk as it is read, so converting a file takes memory for
a few columns of numbers, never the file as Python objects. NPZ / NPY arrays give the same form.

The converted table is cached under the data folder (`data/files/<key>/`), keyed by the file's
sha256 and by what the declaration asks of it: a changed file or a changed declaration is read
again, never silently reused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from experiments.data import data_dir, sha256_of

__all__ = ["Table", "read_table", "cache_key", "CHUNK_ROWS", "CONVERSION_VERSION"]

CHUNK_ROWS = 200_000  # rows read at a time from a tabular file
PROGRESS_ROWS = 5_000_000  # a line of progress every so many rows of a large file
CONVERSION_VERSION = 1  # bump when the cached form changes, so old caches are read again


@dataclass
class Table:
    """A converted data file. Row arrays are sorted by sequence, then order."""

    offsets: np.ndarray                  # (sequences + 1,) where each sequence's rows start
    sequence_ids: list                   # the id of each sequence, as the file writes it
    numeric: np.ndarray                  # (rows, numeric features) float32
    numeric_names: list
    categorical: np.ndarray              # (rows, categorical features) int32 codes
    categorical_names: list
    categories: dict                     # name -> the values its codes stand for
    target: np.ndarray                   # (rows,) float32, or int32 codes of `classes`
    classes: list | None = None          # the target's values when it is a class
    group: np.ndarray | None = None      # (rows,) int32 codes of the group column
    split: np.ndarray | None = None      # (rows,) int8: 0 train, 1 val, 2 test
    per_sequence_target: bool = False    # arrays with one target per sequence: `target` is (sequences,)
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self):
        return len(self.offsets) - 1


def cache_key(path: Path, request: dict) -> str:
    """The file's sha256 and the declaration's reading request, hashed together."""
    payload = json.dumps({"sha256": sha256_of(path), "request": request, "version": CONVERSION_VERSION},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def read_table(path: Path, fmt: str, request: dict, where: str, progress=print) -> Table:
    """The table of `path` (format `fmt`), from the cache when the file and `request` are unchanged."""
    folder = data_dir() / "files" / cache_key(path, request)
    if (folder / "table.json").exists():
        try:
            return _load_cached(folder)
        except (OSError, ValueError, KeyError):
            shutil.rmtree(folder, ignore_errors=True)  # a damaged cache is converted again
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        progress(f"{where}: converting {path} ({path.stat().st_size / 1e6:.1f} MB) once into {folder}")
        table = (_read_tabular(path, fmt, request, where, tmp, progress) if fmt in ("csv", "parquet")
                 else _read_arrays(path, fmt, request, where))
        _save(table, tmp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_cached(folder)


# --- the cached form --------------------------------------------------------------------------------

_ARRAYS = ("offsets", "numeric", "categorical", "target", "group", "split")


def _save(table: Table, folder: Path) -> None:
    for name in _ARRAYS:
        value = getattr(table, name)
        if value is not None and not (folder / f"{name}.npy").exists():
            np.save(folder / f"{name}.npy", value)
    meta = {k: getattr(table, k) for k in ("sequence_ids", "numeric_names", "categorical_names", "categories",
                                            "classes", "per_sequence_target", "source", "extra")}
    (folder / "table.json").write_text(json.dumps(meta, default=str))


def _load_cached(folder: Path) -> Table:
    meta = json.loads((folder / "table.json").read_text())
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") if (folder / f"{name}.npy").exists() else None
              for name in _ARRAYS}
    return Table(**arrays, **meta)


# --- tabular files: CSV and Parquet, in chunks ----------------------------------------------------

def _columns_of(path: Path, fmt: str) -> list[str]:
    if fmt == "csv":
        import pandas as pd

        return list(pd.read_csv(path, nrows=0).columns)
    import pyarrow.parquet as pq

    return list(pq.ParquetFile(path).schema_arrow.names)


def _chunks(path: Path, fmt: str, columns: list[str]):
    if fmt == "csv":
        import pandas as pd

        yield from pd.read_csv(path, usecols=columns, chunksize=CHUNK_ROWS, low_memory=False)
    else:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS, columns=columns):
            yield batch.to_pandas()


class _Spool:
    """A column written to a raw file chunk by chunk, read back as one memory-mapped array."""

    def __init__(self, folder: Path, name: str, dtype):
        self.path, self.dtype, self.rows = folder / f"spool-{name}.bin", np.dtype(dtype), 0
        self.handle = open(self.path, "wb")

    def add(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        self.handle.write(values.tobytes())
        self.rows += len(values)

    def to_npy(self, destination: Path, width: int | None = None) -> None:
        """The column as a .npy file, its bytes copied as they are (no memory for the column)."""
        self.handle.close()
        shape = (self.rows,) if width is None else (self.rows, width)
        with open(destination, "wb") as out, open(self.path, "rb") as raw:
            np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                       "fortran_order": False, "shape": shape})
            shutil.copyfileobj(raw, out, 1 << 24)

    def array(self, width: int | None = None) -> np.ndarray:
        self.handle.close()
        shape = (self.rows,) if width is None else (self.rows, width)
        if self.rows == 0:
            return np.zeros(shape, self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r", shape=shape)


class _InOrder:
    """Whether the rows come grouped by sequence and in order within each (the usual layout of a
    long file): then the converted columns are the spooled ones as they are, with no sort."""

    def __init__(self):
        self.sorted, self.last, self.counts = True, None, np.zeros(0, np.int64)

    def add(self, codes: np.ndarray, order: np.ndarray) -> None:
        counts = np.bincount(codes)
        if len(counts) > len(self.counts):
            self.counts = np.concatenate([self.counts, np.zeros(len(counts) - len(self.counts), np.int64)])
        self.counts[:len(counts)] += counts
        if not self.sorted or len(codes) == 0:
            return
        if self.last is not None:
            codes, order = np.concatenate([[self.last[0]], codes]), np.concatenate([[self.last[1]], order])
        step, later = np.diff(codes), np.diff(order)
        self.sorted = bool(np.all((step > 0) | ((step == 0) & (later >= 0))))
        self.last = (codes[-1], order[-1])


class _Codes:
    """Values -> integer codes in order of first appearance (ids, classes, categories)."""

    def __init__(self):
        self.index: dict = {}

    def encode(self, values) -> np.ndarray:
        import pandas as pd

        codes, uniques = pd.factorize(pd.Series(values), sort=False)
        if len(uniques) == 0:  # every value missing: reported as such after the whole file is read
            return np.zeros(len(codes), np.int32)
        codes = np.maximum(codes, 0)  # a missing value (-1) is reported after the whole file is read
        mapping = np.empty(len(uniques), np.int64)
        for i, value in enumerate(uniques.tolist()):
            mapping[i] = self.index.setdefault(_plain(value), len(self.index))
        return mapping[codes].astype(np.int32)

    @property
    def values(self) -> list:
        return list(self.index)


def _plain(value):
    """A value as JSON keeps it (NumPy scalars as Python ones)."""
    return value.item() if hasattr(value, "item") else value


class _Problems:
    """Bad values met while reading, by column and kind: counted over the whole file, the first
    rows kept, so that one error says how many rows and where."""

    SHOWN = 5

    def __init__(self, where: str):
        self.where, self.found = where, {}

    def add(self, column: str, what: str, mask: np.ndarray, first_row: int) -> None:
        rows = np.flatnonzero(mask)
        if len(rows):
            count, shown = self.found.get((column, what), (0, []))
            self.found[(column, what)] = (count + len(rows), shown + [first_row + int(r) for r in
                                                                      rows[:self.SHOWN - len(shown)]])

    def raise_any(self) -> None:
        if self.found:
            lines = [f"column {column!r} has {what} in {count:,} row(s) (data rows {', '.join(map(str, shown))}"
                     f"{', ...' if count > len(shown) else ''})"
                     for (column, what), (count, shown) in self.found.items()]
            raise ValueError(f"{self.where}: " + "; ".join(lines) + ", counting rows from 0 after the header; drop or "
                             "fill them before training")


def _numeric(where: str, frame, column: str, first_row: int, role: str, problems: _Problems) -> np.ndarray:
    import pandas as pd

    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna() & series.notna()
        if bad.any():
            example = series[bad].iloc[0]
            hint = ("declare it in `categorical` (one-hot) or drop it from `features`" if role == "feature"
                    else "a regression or forecasting target must be numbers")
            raise ValueError(f"{where}: {role} column {column!r} is not numeric (e.g. {example!r} in data row "
                             f"{first_row + int(np.flatnonzero(bad.to_numpy())[0])}); {hint}")
        series = values
    values = series.to_numpy(dtype=np.float64)
    problems.add(column, "missing values (NaN)", np.isnan(values), first_row)
    problems.add(column, "infinite values", np.isinf(values), first_row)
    return values


def _read_tabular(path: Path, fmt: str, request: dict, where: str, spool_dir: Path, progress=print) -> Table:
    available = _columns_of(path, fmt)
    sequence, order = request.get("sequence"), request.get("order")
    roles = {"sequence": [sequence] if sequence else [], "order": [order] if order else [],
             "feature": request["numeric"], "categorical": request["categorical"],
             "target": [request["target"]] if request.get("target") else [],
             "group": [request["group"]] if request.get("group") else [],
             "split": [request["split_column"]] if request.get("split_column") else []}
    for role, names in roles.items():
        for name in names:
            if name not in available:
                raise ValueError(f"{where}: {role} column {name!r} is not in {path}; its columns: "
                                 f"{', '.join(map(str, available))}")
    columns = list(dict.fromkeys(name for names in roles.values() for name in names))
    target_is_class = request["target_kind"] == "class"
    ids, classes, groups = _Codes(), _Codes(), _Codes()
    categories = {name: _Codes() for name in request["categorical"]}
    n_numeric, n_categorical = len(request["numeric"]), len(request["categorical"])
    spools = {"sequence": _Spool(spool_dir, "sequence", np.int32), "order": _Spool(spool_dir, "order", np.float64),
              "numeric": _Spool(spool_dir, "numeric", np.float32),
              "categorical": _Spool(spool_dir, "categorical", np.int32),
              "target": _Spool(spool_dir, "target", np.int32 if target_is_class else np.float32),
              "group": _Spool(spool_dir, "group", np.int32), "split": _Spool(spool_dir, "split", np.int8)}
    rows, in_order, problems = 0, _InOrder(), _Problems(where)
    for frame in _chunks(path, fmt, columns):
        n = len(frame)
        codes = np.zeros(n, np.int32)
        if sequence:
            problems.add(sequence, "missing sequence ids", frame[sequence].isna().to_numpy(), rows)
            codes = ids.encode(frame[sequence].to_numpy())
            spools["sequence"].add(codes)
        steps = np.arange(rows, rows + n, dtype=np.float64)
        if order:
            import pandas as pd

            if pd.api.types.is_numeric_dtype(frame[order]):
                steps = _numeric(where, frame, order, rows, "order", problems)
            else:
                stamps = pd.to_datetime(frame[order], errors="coerce")
                problems.add(order, "values that are neither numbers nor dates", stamps.isna().to_numpy(), rows)
                steps = stamps.to_numpy().astype("datetime64[ns]").astype(np.int64).astype(np.float64)
            spools["order"].add(steps)
        in_order.add(codes, steps)
        if n_numeric:
            spools["numeric"].add(np.stack([_numeric(where, frame, c, rows, "feature", problems)
                                            for c in request["numeric"]], 1))
        if n_categorical:
            for name in request["categorical"]:
                problems.add(name, "missing values", frame[name].isna().to_numpy(), rows)
            spools["categorical"].add(np.stack([categories[c].encode(frame[c].astype(str).to_numpy())
                                                for c in request["categorical"]], 1))
        if request.get("target"):
            target = request["target"]
            if target_is_class:
                problems.add(target, "missing labels", frame[target].isna().to_numpy(), rows)
                spools["target"].add(classes.encode(frame[target].to_numpy()))
            else:
                spools["target"].add(_numeric(where, frame, target, rows, "target", problems))
        if request.get("group"):
            spools["group"].add(groups.encode(frame[request["group"]].astype(str).to_numpy()))
        if request.get("split_column"):
            spools["split"].add(_split_codes(where, request["split_column"], frame[request["split_column"]], rows))
        rows += n
        if rows // PROGRESS_ROWS != (rows - n) // PROGRESS_ROWS:
            progress(f"  {rows:,} rows read")
    problems.raise_any()  # every bad value of the file in one error, before anything is kept
    if rows == 0:
        raise ValueError(f"{where}: {path} has no data rows")
    offsets = np.concatenate([[0], np.cumsum(in_order.counts)]).astype(np.int64)
    present = {"numeric": True, "categorical": True, "target": bool(request.get("target")),
               "group": bool(request.get("group")), "split": bool(request.get("split_column"))}
    widths = {"numeric": n_numeric, "categorical": n_categorical}
    for name, width in widths.items():
        if width == 0:  # no such inputs: an empty column per row
            present[name] = False
            np.save(spool_dir / f"{name}.npy", np.zeros((rows, 0), spools[name].dtype))
    if in_order.sorted:  # the columns as read are the converted ones
        for name in present:
            if present[name]:
                spools[name].to_npy(spool_dir / f"{name}.npy", widths.get(name))
    else:
        sequence_codes = spools["sequence"].array() if sequence else np.zeros(rows, np.int32)
        order_values = spools["order"].array() if order else np.arange(rows, dtype=np.float64)
        sort = np.lexsort((order_values, sequence_codes))
        del order_values, sequence_codes
        # Each column is put in order and written one at a time: memory for one column, not all.
        for name in present:
            if present[name]:
                data = spools[name].array(widths.get(name))
                np.save(spool_dir / f"{name}.npy", np.asarray(data[sort]))
                del data
    for spool in spools.values():
        spool.handle.close()
        spool.path.unlink(missing_ok=True)
    return Table(offsets=offsets, sequence_ids=ids.values if sequence else ["(whole file)"],
                 numeric=None, numeric_names=list(request["numeric"]), categorical=None,
                 categorical_names=list(request["categorical"]),
                 categories={name: codes.values for name, codes in categories.items()}, target=None,
                 classes=classes.values if target_is_class else None, source=str(path),
                 extra={"groups": groups.values} if request.get("group") else {})


SPLIT_NAMES = ("train", "val", "test")
_SPLIT_ALIASES = {"train": 0, "training": 0, "val": 1, "valid": 1, "validation": 1, "dev": 1, "test": 2}


def _split_codes(where: str, column: str, values, first_row: int) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    codes = text.map(_SPLIT_ALIASES)
    bad = codes.isna().to_numpy()
    if bad.any():
        raise ValueError(f"{where}: split column {column!r} holds {values[bad].iloc[0]!r} in data row "
                         f"{first_row + int(np.flatnonzero(bad)[0])}; valid values: train, val (or validation, "
                         "valid, dev), test")
    return codes.to_numpy().astype(np.int8)


# --- arrays: NPZ and NPY --------------------------------------------------------------------------

def _read_arrays(path: Path, fmt: str, request: dict, where: str) -> Table:
    if fmt == "npz":
        with np.load(path, allow_pickle=True) as archive:
            for key in (request["x_key"], request["y_key"]):
                if key not in archive.files:
                    raise ValueError(f"{where}: {path} has no array {key!r}; its arrays: {', '.join(archive.files)}")
            x, y = archive[request["x_key"]], archive[request["y_key"]]
    else:
        y_path = request.get("y_path")
        if not y_path:
            raise ValueError(f"{where}: an .npy file holds one array; give `y_path`, the .npy file of the targets")
        x, y = np.load(path, allow_pickle=True), np.load(y_path, allow_pickle=True)
    if x.dtype == object or x.ndim == 1:
        sequences = [np.asarray(s, dtype=np.float64) for s in x]
        sequences = [s[:, None] if s.ndim == 1 else s for s in sequences]
    elif x.ndim == 3:
        sequences = list(x.astype(np.float64))
    elif x.ndim == 2:
        sequences = list(x.astype(np.float64)[..., None])
    else:
        raise ValueError(f"{where}: x must have shape (sequences, steps, features) or hold one (steps, features) "
                         f"array per sequence, got shape {x.shape}")
    widths = {s.shape[1] for s in sequences}
    if len(widths) > 1:
        raise ValueError(f"{where}: the sequences of x have different numbers of features: {sorted(widths)}")
    for i, s in enumerate(sequences):
        if not np.isfinite(s).all():
            raise ValueError(f"{where}: x holds {int((~np.isfinite(s)).sum())} NaN or infinite value(s), the first "
                             f"in sequence {i}; drop or fill them before training")
    if len(y) != len(sequences):
        raise ValueError(f"{where}: x has {len(sequences)} sequences but y has {len(y)}")
    lengths = np.array([len(s) for s in sequences])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    numeric = np.concatenate(sequences).astype(np.float32)
    per_sequence = request["target_kind"] != "class" or request["topology"] != "tagging"
    if request["topology"] == "tagging":
        y = np.concatenate([np.asarray(t) for t in y])
        if len(y) != len(numeric):
            raise ValueError(f"{where}: tagging needs one tag per step: x has {len(numeric)} steps, y {len(y)} tags")
    else:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"{where}: y must hold one value per sequence, shape ({len(sequences)},), got {y.shape}")
    classes = None
    if request["target_kind"] == "class":
        codes = _Codes()
        y_codes = codes.encode(y)
        classes = codes.values
        target = y_codes
    else:
        target = y.astype(np.float64)
        if not np.isfinite(target).all():
            raise ValueError(f"{where}: y holds {int((~np.isfinite(target)).sum())} NaN or infinite value(s), the "
                             f"first in sequence {int(np.flatnonzero(~np.isfinite(target))[0])}")
        target = target.astype(np.float32)
    return Table(offsets=offsets, sequence_ids=[str(i) for i in range(len(sequences))], numeric=numeric,
                 numeric_names=[f"x{i}" for i in range(numeric.shape[1])],
                 categorical=np.zeros((len(numeric), 0), np.int32), categorical_names=[], categories={},
                 target=target, classes=classes, per_sequence_target=per_sequence and request["topology"] != "tagging",
                 source=str(path))
