"""What the text tasks share: padding, splits, language-model windows, scores and baselines of
language models and taggers. Every vocabulary or tag set is built from the training split only;
tokens it does not know map to `<unk>`; id 0 is padding, masked in losses and metrics.

The tasks themselves, one data set each: `poetry` (Tang poems), `ptb` (Penn Treebank characters
and words), `pos` (POS tagging on the Brown corpus), `sentiment` (tweets), `ner` (CoNLL-2003).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from experiments.tasks import Split
from experiments.vocabulary import BOS, EOS, PAD, UNK, Vocabulary

__all__ = ["pad", "split_indices", "score_language_model", "unigram_baseline", "lm_windows", "lm_sequences",
           "score_tagging", "most_frequent_tags", "BOS", "EOS", "PAD", "UNK", "Vocabulary"]


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


def split_indices(n: int, val_fraction: float, test_fraction: float):
    """A fixed split (independent of the run seed): every poem's place by a seeded shuffle of 0."""
    order = np.random.default_rng(0).permutation(n)
    n_test, n_val = int(n * test_fraction), int(n * val_fraction)
    return order[n_test + n_val:], order[n_test: n_test + n_val], order[:n_test]


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
