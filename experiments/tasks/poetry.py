"""Tang poems: a character language model that writes poems from a first character."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from experiments.data import cached_text, load_with_fallbacks, npm_package, read_package_file
from experiments.tasks import Dataset, Task, register_task
from experiments.tasks.text import lm_sequences, score_language_model, split_indices, unigram_baseline
from experiments.vocabulary import BOS, EOS, Vocabulary

POETRY_NPM = ("chinese-poetry", "2.0.1", "25b549e46919c3a0569db6b68ddc96956b04a484ea4518ad2bbd4f137e307e86")
TANG300 = Path("/usr/share/games/fortunes/zh/tang300")


def _tang_from_npm() -> str:
    folder = npm_package(*POETRY_NPM) / "dist" / "quantangshi"
    files = sorted(folder.glob("poet.tang.*.json"), key=lambda p: int(p.name.split(".")[2]))
    if not files:
        raise FileNotFoundError(f"no poet.tang.*.json in {folder}")
    lines = []
    for path in files:
        for poem in json.loads(read_package_file(path).decode("utf-8")):
            body = "".join(poem.get("paragraphs", [])).strip()
            if body:
                lines.append(body.replace("\n", ""))
    return "\n".join(lines)


def _tang_from_fortunes() -> str:
    if not TANG300.exists():
        raise FileNotFoundError(f"{TANG300} (Debian package fortunes-zh) is not installed")
    poems = []
    for entry in TANG300.read_text(encoding="utf-8").split("\n%\n"):
        lines = [l.strip() for l in entry.splitlines() if l.strip()]
        body = "".join(l for l in lines if re.search(r"[，。]", l))
        if body:
            poems.append(body)
    return "\n".join(poems)


def load_tang_poems() -> list[str]:
    """Poem bodies, one string each, in the traditional script of the source."""
    text = load_with_fallbacks(
        "Tang poems",
        [("cache data/tang/poems.txt + npm chinese-poetry@2.0.1", lambda: cached_text("tang/poems.txt", _tang_from_npm)),
         (f"Debian fortunes-zh ({TANG300})", _tang_from_fortunes)],
        manual_hint="install npm (https://nodejs.org) so that `npm pack chinese-poetry@2.0.1` works, "
        "or `apt-get install fortunes-zh`",
    )
    return text.split("\n")


def make_tang_poetry(params, seed):
    poems = [p for p in load_tang_poems() if 0 < len(p) <= params["max_chars"]]
    train_idx, val_idx, test_idx = split_indices(len(poems), 0.05, 0.05)
    rng = np.random.default_rng(seed)
    train_idx = rng.permutation(train_idx)[: params["n_train"]]
    val_idx, test_idx = val_idx[: params["n_val"]], test_idx[: params["n_test"]]
    chars = lambda idx: [list(poems[i]) for i in idx]  # noqa: E731
    vocab = Vocabulary.build(chars(train_idx), min_count=params["min_count"])
    length = params["max_chars"] + 1

    def split(idx):
        return lm_sequences([vocab.encode(p) for p in chars(idx)], length, vocab.index[BOS], vocab.index[EOS])

    return Dataset(split(train_idx), split(val_idx), split(test_idx),
                   info={"vocab_size": len(vocab), "vocabulary": vocab, "join": "",
                         "script": "traditional Chinese (as in the source)"})


def poem_samples(model, data, count=6, temperature=0.8, seed=0):
    """Poems the model writes from the first character of test poems."""
    import zoo

    vocab = data.info["vocabulary"]
    starts = [row[1] for row in data.test.x[:count]]
    prompts = np.array([[vocab.index[BOS], s] for s in starts], "int32")
    out = zoo.generate(model, prompts, data.test.x.shape[1] - 1, temperature=temperature, seed=seed,
                       end_id=vocab.index[EOS], banned_ids=vocab.special_ids)
    return [{"input": vocab.tokens[s], "output": "".join(vocab.decode(row)),
             "target": "".join(vocab.decode(t))} for s, row, t in zip(starts, out, data.test.y[:count])]


register_task(Task(
    name="tang_poetry",
    description="character language model of Tang poems; writes poems from a first character",
    topology="language_model",
    metric="bits_per_token",
    higher_is_better=False,
    params={"max_chars": 48, "n_train": 40000, "n_val": 2000, "n_test": 2000, "min_count": 2},
    sizes={
        "smoke": {"max_chars": 24, "n_train": 400, "n_val": 64, "n_test": 64},
        "default": {"max_chars": 48, "n_train": 10000, "n_val": 1000, "n_test": 1000},
        "paper": {"max_chars": 64, "n_train": 100000, "n_val": 2500, "n_test": 2500},
    },
    make=make_tang_poetry,
    score=score_language_model,
    baseline=unigram_baseline,
    baseline_name="unigram character frequencies",
    train={"learning_rate": 2e-3},
    samples=poem_samples,
    citation="chinese-poetry (MIT licence): Quan Tang Shi",
    source="npm chinese-poetry@2.0.1 (57k Tang poems, traditional script); fallback Debian fortunes-zh tang300",
))
