"""What a task file's data becomes: the splits, inputs and targets of each topology, its scores
and its baseline (`experiments.tasks.files` reads the declaration; this module prepares the data
it points at, from the converted table of `experiments.tasks.readers`).

Nothing here depends on the order of the file's rows: sequences, classes, categories and groups
are taken in sorted order of their values. Splits are drawn from the declaration's `split_seed`,
never from a run's seed, so every variant and seed sees the same ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.tasks import Dataset, Split
from experiments.tasks.readers import SPLIT_NAMES, Table, read_table

__all__ = ["TOPOLOGIES", "Declaration", "prepare"]

# A user's topology -> the registered topology that builds it, what its target is, its metrics
# (the first is the default) and its baseline.
TOPOLOGIES = {
    "classification": ("classification", "class", ("macro_f1", "accuracy"), "most frequent training class"),
    "regression": ("regression", "value", ("rmse", "mse", "mae"), "training mean"),
    "tagging": ("tagging", "class", ("token_accuracy", "macro_f1"), "most frequent training tag"),
    "forecasting": ("regression", "value", ("rmse", "mse", "mae"), "persistence (the last observed value)"),
    "language_model": ("language_model", None, ("bits_per_token", "cross_entropy", "perplexity"),
                       "unigram (training frequencies)"),
}


@dataclass(frozen=True)
class Declaration:
    """A checked task declaration: every path absolute, every default filled."""

    name: str
    where: str
    path: Path
    format: str
    topology: str
    table: dict


def _request(declaration: Declaration) -> dict:
    """What the reader needs from the declaration (also the cache key, with the file's checksum)."""
    t = declaration.table
    embedded = [t["embed"]] if "embed" in t else []
    return {"numeric": list(t.get("features", [])), "categorical": list(t.get("categorical", [])) + embedded,
            "target": t.get("target"), "sequence": t.get("sequence"), "order": t.get("order"),
            "group": t.get("group"), "split_column": t.get("split_column"),
            "target_kind": TOPOLOGIES[declaration.topology][1], "topology": declaration.topology,
            "x_key": t.get("x_key", "x"), "y_key": t.get("y_key", "y"), "y_path": t.get("y_path")}


def prepare(declaration: Declaration) -> _Prepared:
    """The data of a checked declaration, its splits fixed; every bad value in the file raises here."""
    if declaration.format == "text":
        return _Corpus(declaration)
    if "text" in declaration.table:
        return _Texts(declaration)
    table = read_table(declaration.path, declaration.format, _request(declaration), declaration.where)
    if declaration.topology == "forecasting":
        return _Forecast(declaration, table)
    return _Sequences(declaration, table)


def _per_sequence(table: Table, values: np.ndarray) -> np.ndarray:
    """The first row's value of each sequence."""
    return np.asarray(values)[table.offsets[:-1]]


def _disagreeing(table: Table, values: np.ndarray) -> int | None:
    """The first sequence whose rows do not all hold the same value, or None."""
    values = np.asarray(values)
    starts = table.offsets[:-1]
    low, high = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
    bad = np.flatnonzero(low != high)
    return int(bad[0]) if len(bad) else None


def _value_order(values: list) -> np.ndarray:
    """Indices that sort `values` (ids, classes, categories, groups): what the data becomes does
    not depend on the order of the file's rows."""
    return np.array(sorted(range(len(values)), key=lambda i: (type(values[i]).__name__, values[i])), dtype=np.int64)


def _ranks(values: list) -> np.ndarray:
    """The place of each value in sorted order."""
    ranks = np.empty(len(values), np.int64)
    ranks[_value_order(values)] = np.arange(len(values))
    return ranks


def _draw_split(units: int, ratios, seed: int) -> np.ndarray:
    """0 / 1 / 2 (train / val / test) for each of `units`, drawn from `seed`."""
    order = np.random.default_rng(seed).permutation(units)
    n_val, n_test = int(round(ratios[1] * units)), int(round(ratios[2] * units))
    assign = np.zeros(units, np.int8)
    assign[order[:n_test]] = 2
    assign[order[n_test:n_test + n_val]] = 1
    return assign


def _check_test_classes(where: str, train_labels, test_labels, classes: list) -> None:
    """A class the test split has and training never sees is an error, named."""
    missing = sorted(set(np.unique(test_labels).tolist()) - set(np.unique(train_labels).tolist()))
    if missing:
        raise ValueError(f"{where}: class(es) {', '.join(repr(classes[c]) for c in missing)} are in the test split "
                         "but not in the training split; give more data of them or other split fractions")


def _class_scores(predictions, labels) -> dict:
    """Macro-F1 and accuracy of class probabilities (or class ids) against `labels`."""
    predictions = np.asarray(predictions)
    predicted = predictions.argmax(-1) if predictions.ndim == 2 else predictions
    return {"macro_f1": _macro_f1(predicted, labels), "accuracy": float((predicted == labels).mean())}


def _majority(train_labels, test_labels) -> np.ndarray:
    """The most frequent training label, for every test example (ties: the smallest id)."""
    return np.full(np.shape(test_labels), np.bincount(np.ravel(train_labels)).argmax())


class _Prepared:
    """Converted data with its splits fixed: the dataset, the score and the baseline of a task."""

    declaration: Declaration

    @property
    def where(self) -> str:
        return self.declaration.where

    def _check_splits(self, sizes: dict) -> None:
        empty = [name for name, size in sizes.items() if size == 0]
        if empty:
            raise ValueError(f"{self.where}: the {' and '.join(empty)} split(s) hold no examples "
                             f"({', '.join(f'{k} {v}' for k, v in sizes.items())}); give more data or other split "
                             "fractions")


def _scale(values, mean, std):
    return ((np.asarray(values, np.float64) - mean) / std).astype(np.float32)


def _moments(values: np.ndarray):
    values = np.asarray(values, np.float64)
    mean, std = values.mean(0), values.std(0)
    return mean, np.where(std > 0, std, 1.0)


class _Sequences(_Prepared):
    """Classification, regression and tagging of sequences of feature vectors."""

    def __init__(self, declaration: Declaration, table: Table):
        self.declaration, self.table = declaration, table
        t, where = declaration.table, declaration.where
        self.topology, self.kind = declaration.topology, TOPOLOGIES[declaration.topology][1]
        lengths = table.lengths
        if "length" in t:
            bad = np.flatnonzero(lengths != t["length"])
            if len(bad):
                raise ValueError(f"{where}: `length` = {t['length']} is declared, but sequence "
                                 f"{table.sequence_ids[bad[0]]!r} has {lengths[bad[0]]} steps ({len(bad)} of "
                                 f"{len(lengths)} sequences differ)")
        if table.numeric.shape[1] + table.categorical.shape[1] == 0:
            raise ValueError(f"{where}: no input features: list the input columns in `features` (numbers), "
                             "`categorical` (categories, one-hot) or `embed` (a column of tokens, embedded)")
        per_sequence_target = self.topology != "tagging"
        self.classes = None if table.classes is None else [table.classes[i] for i in _value_order(table.classes)]
        if per_sequence_target and not table.per_sequence_target:
            bad = _disagreeing(table, table.target)
            if bad is not None:
                rows = np.asarray(table.target[table.offsets[bad]:table.offsets[bad + 1]])
                shown = sorted({str(table.classes[v] if table.classes else v) for v in rows.tolist()})[:4]
                raise ValueError(f"{where}: sequence {table.sequence_ids[bad]!r} has rows with different targets "
                                 f"({', '.join(shown)}); {self.topology} takes one {t['target']!r} per sequence "
                                 "(use topology = \"tagging\" for one per step)")
            self.target = _per_sequence(table, table.target)
        else:
            self.target = np.asarray(table.target)
        if table.classes is not None:  # class ids in sorted order of the class values
            self.target = _ranks(table.classes)[self.target].astype(np.int32)
        self.by_id = _value_order(table.sequence_ids)  # sequences in order of their ids
        if self.kind == "class":
            present = np.unique(self.target)
            if len(present) < 2:
                raise ValueError(f"{where}: target {t.get('target', 'y')!r} has one class only "
                                 f"({self.classes[int(present[0])]!r}); there is nothing to learn")
        self.assign = self._assign_splits()
        sizes = {name: int((self.assign == i).sum()) for i, name in enumerate(SPLIT_NAMES)}
        self._check_splits(sizes)
        self.sizes = sizes
        if self.kind == "class":
            labels_of = (lambda code: self.target[self._rows_of(code)]) if not per_sequence_target else \
                (lambda code: self.target[self.assign == code])
            _check_test_classes(where, labels_of(0), labels_of(2), self.classes)

    def _assign_splits(self) -> np.ndarray:
        table, t, where = self.table, self.declaration.table, self.declaration.where
        if table.split is not None:
            bad = _disagreeing(table, table.split)
            if bad is not None:
                raise ValueError(f"{where}: sequence {table.sequence_ids[bad]!r} has rows in more than one split "
                                 f"(column {t['split_column']!r}); a sequence belongs to one split")
            return _per_sequence(table, table.split).astype(np.int8)
        ratios, seed = t.get("split", [0.8, 0.1, 0.1]), t.get("split_seed", 0)
        if table.group is not None:
            bad = _disagreeing(table, table.group)
            if bad is not None:
                raise ValueError(f"{where}: sequence {table.sequence_ids[bad]!r} has rows of more than one "
                                 f"{t['group']!r}; a sequence belongs to one group")
            groups = _ranks(table.extra["groups"])[_per_sequence(table, table.group)]
            return _draw_split(len(table.extra["groups"]), ratios, seed)[groups]
        return _draw_split(len(table), ratios, seed)[_ranks(table.sequence_ids)]

    def _rows_of(self, split: int) -> np.ndarray:
        return np.repeat(self.assign == split, self.table.lengths)

    def dataset(self, n_train: int = 0) -> Dataset:
        if "embed" in self.declaration.table:
            return self._token_dataset(n_train)
        table = self.table
        train_rows = self._rows_of(0)
        mean, std = _moments(table.numeric[train_rows]) if table.numeric.shape[1] else (0.0, 1.0)
        # One-hot columns: the categories seen in training, in sorted order; any other is all zeros.
        seen = []
        for j, name in enumerate(table.categorical_names):
            codes = np.unique(np.asarray(table.categorical[train_rows, j]))
            values = table.categories[name]
            position = np.full(len(values), -1, np.int64)
            position[codes[np.argsort(_ranks(values)[codes])]] = np.arange(len(codes))
            seen.append(position)
        widths = [int((p >= 0).sum()) for p in seen]
        lengths = table.lengths
        variable = len(np.unique(lengths)) > 1
        width = table.numeric.shape[1] + sum(widths) + (1 if variable else 0)
        info = {"input_dim": width, "feature_mean": mean, "feature_std": std}
        if variable:
            info["mask_value"] = 0.0  # a constant-1 feature marks real steps: padding is all zeros, never data
        info.update(self._target_info())
        splits = [self._split(index, mean, std, seen, width, variable, info) for index in self._indices(n_train)]
        return Dataset(*splits, info=info)

    def _indices(self, n_train: int) -> list[np.ndarray]:
        """Each split's sequences, in order of their ids; the first `n_train` of a fixed draw."""
        out = []
        for code in range(3):
            index = self.by_id[self.assign[self.by_id] == code]
            if code == 0 and n_train:
                index = index[np.sort(np.random.default_rng(0).permutation(len(index))[:n_train])]
            out.append(index)
        return out

    def _token_dataset(self, n_train: int) -> Dataset:
        """The `embed` column as token ids: 0 padding, 1 a category training never saw, then the
        training categories in sorted order."""
        table, name = self.table, self.declaration.table["embed"]
        column = np.asarray(table.categorical[:, -1])
        codes = np.unique(column[self._rows_of(0)])
        values = table.categories[name]
        ids = np.ones(len(values), np.int32)
        ids[codes[np.argsort(_ranks(values)[codes])]] = np.arange(2, 2 + len(codes))
        lengths = table.lengths
        variable = len(np.unique(lengths)) > 1
        info = {"vocab_size": 2 + len(codes), "tokens": ["<pad>", "<unk>"] + sorted(values[c] for c in codes),
                **self._target_info()}
        splits = []
        for index in self._indices(n_train):
            x = np.zeros((len(index), int(lengths[index].max())), np.int32)
            for i, s in enumerate(index):
                x[i, :lengths[s]] = ids[column[table.offsets[s]:table.offsets[s + 1]]]
            splits.append(self._targets(index, x, lengths[index] if variable else None, info))
        return Dataset(*splits, info=info)

    def _target_info(self) -> dict:
        """What the model and the scores need of the target: its training moments, or its classes
        (tagging adds class 0, padding)."""
        if self.topology == "regression":
            mean, std = self._target_moments()
            return {"num_outputs": 1, "target_mean": mean, "target_std": std}
        return {"num_outputs": len(self.classes) + (1 if self.topology == "tagging" else 0), "classes": self.classes}

    def _targets(self, index, x, lengths, info) -> Split:
        """The split of sequences `index` with inputs `x`: targets by topology."""
        table = self.table
        if self.topology == "tagging":
            tags = np.zeros(x.shape[:2], np.int32)
            for i, s in enumerate(index):
                tags[i, :table.lengths[s]] = np.asarray(self.target[table.offsets[s]:table.offsets[s + 1]]) + 1
            return Split(x, tags, (tags > 0).astype(np.float32), lengths=lengths)  # 0 is padding
        if self.topology == "regression":
            y = _scale(self.target[index], info["target_mean"], info["target_std"])[:, None]
            return Split(x, y, lengths=lengths)
        return Split(x, np.asarray(self.target[index], np.int32), lengths=lengths)

    def _split(self, index, mean, std, seen, width, variable, info) -> Split:
        table = self.table
        lengths = table.lengths[index]
        steps = int(lengths.max())
        x = np.zeros((len(index), steps, width), np.float32)
        for i, s in enumerate(index):
            start, stop = table.offsets[s], table.offsets[s + 1]
            n, column = stop - start, 0
            if table.numeric.shape[1]:
                x[i, :n, :table.numeric.shape[1]] = _scale(table.numeric[start:stop], mean, std)
                column = table.numeric.shape[1]
            for j, position in enumerate(seen):
                place = position[np.asarray(table.categorical[start:stop, j])]
                known = place >= 0
                x[i, np.flatnonzero(known), column + place[known]] = 1.0
                column += int((position >= 0).sum())
            if variable:
                x[i, :n, column] = 1.0
        return self._targets(index, x, lengths if variable else None, info)

    def score(self, split: Split, predictions) -> dict:
        predictions = np.asarray(predictions)
        if self.topology == "regression":
            info_mean, info_std = self._target_moments()
            predicted = predictions.reshape(len(split.y)) * info_std + info_mean
            return _regression_scores(predicted, split.y[:, 0] * info_std + info_mean)
        if self.topology == "tagging":
            predicted = predictions.argmax(-1) if predictions.ndim == 3 else predictions
            real = split.y > 0
            return {"token_accuracy": float((predicted == split.y)[real].mean()),
                    "macro_f1": _macro_f1(predicted[real], split.y[real])}
        return _class_scores(predictions, split.y)

    def _target_moments(self):
        mean, std = _moments(self.target[self.assign == 0])
        return float(mean), float(std)

    def baseline(self, dataset: Dataset) -> dict:
        test = dataset.test
        if self.topology == "regression":
            mean, std = self._target_moments()
            return _regression_scores(np.full(len(test.y), mean), test.y[:, 0] * std + mean)
        if self.topology == "tagging":
            return self.score(test, _majority(dataset.train.y[dataset.train.y > 0], test.y))
        return self.score(test, _majority(dataset.train.y, test.y))


def _macro_f1(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Macro-F1 over the classes present in `actual` or `predicted`."""
    predicted, actual = np.asarray(predicted).ravel(), np.asarray(actual).ravel()
    f1s = []
    for c in np.union1d(np.unique(actual), np.unique(predicted)):
        tp = np.sum((predicted == c) & (actual == c))
        fp, fn = np.sum((predicted == c) & (actual != c)), np.sum((predicted != c) & (actual == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


def _regression_scores(predicted, actual) -> dict:
    error = np.asarray(predicted, np.float64) - np.asarray(actual, np.float64)
    mse = float(np.mean(error ** 2))
    return {"rmse": math.sqrt(mse), "mse": mse, "mae": float(np.mean(np.abs(error)))}


class _Forecast(_Prepared):
    """Windows of `lookback` steps of each series -> the target `horizon` steps after the window.
    The split is by time: in each series the first fractions of the targets train, the next
    validate, the last test (or a split column says which target is where)."""

    def __init__(self, declaration: Declaration, table: Table):
        self.declaration, self.table = declaration, table
        t, where = declaration.table, declaration.where
        self.lookback, self.horizon, self.season = t["lookback"], t.get("horizon", 1), t.get("season")
        if t.get("categorical"):
            raise ValueError(f"{where}: forecasting takes numeric `features` only; one-hot the categorical column(s) "
                             f"{', '.join(t['categorical'])} into numbers first, or drop them")
        lengths = table.lengths
        short = np.flatnonzero(lengths < self.lookback + self.horizon)
        if len(short):
            raise ValueError(f"{where}: series {table.sequence_ids[short[0]]!r} has {lengths[short[0]]} steps, "
                             f"fewer than lookback {self.lookback} + horizon {self.horizon}; "
                             f"{len(short)} of {len(lengths)} series are too short for one window")
        windows, splits = [], []
        ratios = t.get("split", [0.8, 0.1, 0.1])
        for s in _value_order(table.sequence_ids):  # series in order of their ids
            start = table.offsets[s]
            # The target of window w (rows w .. w+lookback-1) is row w + lookback + horizon - 1.
            count = lengths[s] - self.lookback - self.horizon + 1
            targets = start + np.arange(count) + self.lookback + self.horizon - 1
            if table.split is not None:
                assign = np.asarray(table.split[targets]).astype(np.int8)
            else:
                n_test, n_val = int(round(ratios[2] * count)), int(round(ratios[1] * count))
                assign = np.zeros(count, np.int8)
                assign[count - n_test - n_val:count - n_test] = 1
                assign[count - n_test:] = 2
            windows.append(targets)
            splits.append(assign)
        self.targets, self.assign = np.concatenate(windows), np.concatenate(splits)
        self.sizes = {name: int((self.assign == i).sum()) for i, name in enumerate(SPLIT_NAMES)}
        self._check_splits(self.sizes)
        if self.season is not None and not self.horizon <= self.season <= self.lookback + self.horizon - 1:
            raise ValueError(f"{where}: season {self.season} must be in [horizon, lookback + horizon - 1] = "
                             f"[{self.horizon}, {self.lookback + self.horizon - 1}]: the seasonal-naive baseline "
                             "predicts the value one season earlier, which must be seen and inside the window")
        # Standardised with the statistics of the rows the training windows read, and nothing later.
        target = np.asarray(table.target, np.float64)
        rows = self.targets[self.assign == 0]
        covered = np.zeros(len(target) + 1, np.int64)
        np.add.at(covered, rows - self.lookback - self.horizon + 1, 1)
        np.add.at(covered, rows + 1, -1)
        train_rows = np.cumsum(covered[:-1]) > 0
        t_mean, t_std = _moments(target[train_rows])
        f_mean, f_std = _moments(table.numeric[train_rows]) if table.numeric.shape[1] else (0.0, 1.0)
        self.moments = (float(t_mean), float(t_std), f_mean, f_std)

    def dataset(self, n_train: int = 0) -> Dataset:
        table, target = self.table, np.asarray(self.table.target, np.float64)
        t_mean, t_std, f_mean, f_std = self.moments
        info = {"input_dim": 1 + table.numeric.shape[1], "num_outputs": 1, "target_mean": t_mean, "target_std": t_std}
        splits = []
        for code in range(3):
            rows = self.targets[self.assign == code]
            if code == 0 and n_train:
                rows = np.sort(np.random.default_rng(0).permutation(rows)[:n_train])
            span = (rows - self.lookback - self.horizon + 1)[:, None] + np.arange(self.lookback)
            x = _scale(target[span], t_mean, t_std)[..., None]
            if table.numeric.shape[1]:
                x = np.concatenate([x, _scale(np.asarray(table.numeric)[span], f_mean, f_std)], -1)
            split = Split(x, _scale(target[rows], t_mean, t_std)[:, None])
            split.target_rows = rows  # where each target sits in the series: the baselines read the past there
            splits.append(split)
        return Dataset(*splits, info=info)

    def score(self, split: Split, predictions) -> dict:
        mean, std = self.moments[:2]
        predicted = np.asarray(predictions).reshape(len(split.y)) * std + mean
        return _regression_scores(predicted, split.y[:, 0] * std + mean)

    def baseline(self, dataset: Dataset) -> dict:
        test, target = dataset.test, np.asarray(self.table.target, np.float64)
        back = self.season if self.season is not None else self.horizon  # persistence: the last value seen
        predicted = target[test.target_rows - back]
        return _regression_scores(predicted, target[test.target_rows])


class _TokenTask(_Prepared):
    """What the text forms share: tokens at character or word level."""

    def tokens(self, text: str) -> list[str]:
        if self.declaration.table.get("level", "char") == "char":
            return list(text)
        return re.findall(r"\w+|[^\w\s]", text.lower())


class _Texts(_TokenTask):
    """Text classification: a text column and a label column, one sequence per row."""

    def __init__(self, declaration: Declaration):
        import pandas as pd

        self.declaration = declaration
        t, where = declaration.table, declaration.where
        read = pd.read_csv if declaration.format == "csv" else pd.read_parquet
        frame = read(declaration.path)
        for role, column in (("text", t["text"]), ("target", t["target"]), ("split", t.get("split_column")),
                             ("group", t.get("group"))):
            if column is not None and column not in frame.columns:
                raise ValueError(f"{where}: {role} column {column!r} is not in {declaration.path}; its columns: "
                                 f"{', '.join(map(str, frame.columns))}")
        missing = frame[t["target"]].isna() | frame[t["text"]].isna()
        if missing.any():
            rows = np.flatnonzero(missing.to_numpy())
            raise ValueError(f"{where}: {len(rows)} row(s) have no text or no label (data rows "
                             f"{', '.join(map(str, rows[:5]))}); drop or fill them")
        self.texts = frame[t["text"]].astype(str).tolist()
        codes, uniques = pd.factorize(frame[t["target"]], sort=True)
        self.labels, self.classes = codes.astype(np.int32), [u.item() if hasattr(u, "item") else u for u in uniques]
        if len(self.classes) < 2:
            raise ValueError(f"{where}: target {t['target']!r} has one class only ({self.classes[0]!r}); there is "
                             "nothing to learn")
        if t.get("split_column"):
            from experiments.tasks.readers import _split_codes

            self.assign = _split_codes(where, t["split_column"], frame[t["split_column"]], 0)
        elif t.get("group"):
            groups, _ = pd.factorize(frame[t["group"]].astype(str))
            self.assign = _draw_split(int(groups.max()) + 1, t.get("split", [0.8, 0.1, 0.1]),
                                      t.get("split_seed", 0))[groups]
        else:
            self.assign = _draw_split(len(frame), t.get("split", [0.8, 0.1, 0.1]), t.get("split_seed", 0))
        self.sizes = {name: int((self.assign == i).sum()) for i, name in enumerate(SPLIT_NAMES)}
        self._check_splits(self.sizes)
        _check_test_classes(where, self.labels[self.assign == 0], self.labels[self.assign == 2], self.classes)

    def dataset(self, n_train: int = 0) -> Dataset:
        from experiments.tasks.text import pad
        from experiments.vocabulary import UNK, Vocabulary

        t = self.declaration.table
        index = [np.flatnonzero(self.assign == code) for code in range(3)]
        if n_train:
            index[0] = np.sort(np.random.default_rng(0).permutation(index[0])[:n_train])
        tokens = [self.tokens(text) for text in self.texts]
        vocab = Vocabulary.build([tokens[i] for i in index[0]], min_count=t.get("min_count", 1))
        max_length = t.get("max_length", 200)
        splits = [Split(pad([vocab.encode(tokens[i]) or [vocab.index[UNK]] for i in idx], max_length),
                        self.labels[idx]) for idx in index]
        return Dataset(*splits, info={"vocab_size": len(vocab), "num_outputs": len(self.classes),
                                      "vocabulary": vocab, "classes": self.classes})

    def score(self, split: Split, predictions) -> dict:
        return _class_scores(predictions, split.y)

    def baseline(self, dataset: Dataset) -> dict:
        return self.score(dataset.test, _majority(dataset.train.y, dataset.test.y))


class _Corpus(_TokenTask):
    """A language model on a plain-text corpus: the first fraction trains, the next validates,
    the last tests (contiguous, so no text is in two splits); windows of `length` tokens."""

    def __init__(self, declaration: Declaration):
        self.declaration = declaration
        t, where = declaration.table, declaration.where
        for key in ("target", "features", "categorical", "sequence", "order", "group", "split_column"):
            if key in t:
                raise ValueError(f"{where}: `{key}` does not apply to a plain-text corpus; a language model predicts "
                                 "each next token")
        text = declaration.path.read_text(encoding="utf-8", errors="replace")
        self.stream = self.tokens(text)
        self.length = t.get("length", 100 if t.get("level", "char") == "char" else 35)
        ratios = t.get("split", [0.8, 0.1, 0.1])
        n = len(self.stream)
        cut1, cut2 = int(n * ratios[0]), int(n * (ratios[0] + ratios[1]))
        self.parts = [self.stream[:cut1], self.stream[cut1:cut2], self.stream[cut2:]]
        self.sizes = {name: max(0, (len(part) - 1) // self.length) for name, part in zip(SPLIT_NAMES, self.parts)}
        if any(size == 0 for size in self.sizes.values()):
            raise ValueError(f"{where}: {declaration.path} has {n} tokens; a split of it is shorter than one window "
                             f"of length {self.length} ({', '.join(f'{k} {v}' for k, v in self.sizes.items())} "
                             "windows); give a longer corpus or a smaller `length`")

    def dataset(self, n_train: int = 0) -> Dataset:
        from experiments.tasks.text import lm_windows
        from experiments.vocabulary import Vocabulary

        t = self.declaration.table
        vocab = Vocabulary.build([self.parts[0]], min_count=t.get("min_count", 1))
        splits = [lm_windows(vocab.encode(part), self.length) for part in self.parts]
        if n_train:
            splits[0] = Split(splits[0].x[:n_train], splits[0].y[:n_train])
        join = "" if t.get("level", "char") == "char" else " "
        return Dataset(*splits, info={"vocab_size": len(vocab), "vocabulary": vocab, "join": join})

    def score(self, split: Split, predictions) -> dict:
        from experiments.tasks.text import score_language_model

        return score_language_model(split, predictions, {})

    def baseline(self, dataset: Dataset) -> dict:
        from experiments.tasks.text import unigram_baseline

        return unigram_baseline(dataset, {})
