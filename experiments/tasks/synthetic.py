"""Long-term-dependency problems and seq2seq addition: data generated from the seed."""

from __future__ import annotations

import math

import numpy as np

from experiments.tasks import Dataset, Split, Task, register_task
from zoo.gradients import adding_problem

# --- adding problem -------------------------------------------------------------------------


def make_adding(params, seed):
    """Two channels: values uniform in [0, 1) and markers at two distinct random positions.

    The target is the sum of the two marked values (Hochreiter & Schmidhuber 1997; the
    generator of Bai et al. 2018 picks both positions anywhere in the sequence).
    """
    rng = np.random.default_rng(seed)

    def split(n):
        return Split(*adding_problem(n, params["T"], rng))

    return Dataset(split(params["n_train"]), split(params["n_val"]), split(params["n_test"]),
                   info={"input_dim": 2, "num_outputs": 1})


def score_mse(split, predictions, info):
    return {"mse": float(np.mean((np.asarray(predictions).reshape(split.y.shape) - split.y) ** 2))}


def adding_baseline(dataset, params):
    # Always predicting 1 (the mean of the target): MSE = Var(U1 + U2) = 2/12 = 1/6 in expectation.
    return {"mse": float(np.mean((dataset.test.y - 1.0) ** 2)), "mse_closed_form": 1.0 / 6.0}


register_task(Task(
    name="adding",
    description="sum the two marked values of a long sequence (long-term memory, regression)",
    topology="regression",
    metric="mse",
    higher_is_better=False,
    params={"T": 50, "n_train": 10000, "n_val": 1000, "n_test": 1000},
    bounds={"T": (2, None)},
    bound_reasons={"T": "two marked values need two distinct steps"},
    sizes={
        "smoke": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128},
        "default": {"T": 50, "n_train": 10000, "n_val": 1000, "n_test": 1000},
        "paper": {"T": 600, "n_train": 50000, "n_val": 1000, "n_test": 1000},
    },
    make=make_adding,
    score=score_mse,
    baseline=adding_baseline,
    baseline_name="always predict 1 (MSE 1/6)",
    train={"learning_rate": 2e-3},
    citation="Hochreiter & Schmidhuber 1997; settings of Bai et al. 2018",
))


# --- copy memory ----------------------------------------------------------------------------

MEMORY = 10  # symbols to remember
SYMBOLS = 8  # symbols 1..8; 0 is blank, 9 the delimiter


def make_copy_memory(params, seed):
    """Bai et al. 2018: 10 symbols from 1..8, T-1 blanks, then 11 delimiters (9); the target is
    blank for T+10 steps and then the 10 symbols. Inputs are one-hot (10 classes)."""
    rng = np.random.default_rng(seed)
    steps = params["T"]

    def split(n):
        seq = rng.integers(1, SYMBOLS + 1, size=(n, MEMORY))
        x_ids = np.concatenate([seq, np.zeros((n, steps - 1), int), np.full((n, MEMORY + 1), 9)], axis=1)
        y = np.concatenate([np.zeros((n, MEMORY + steps), int), seq], axis=1).astype("int32")
        x = np.eye(10, dtype="float32")[x_ids]
        return Split(x, y)

    return Dataset(split(params["n_train"]), split(params["n_val"]), split(params["n_test"]),
                   info={"input_dim": 10, "num_outputs": 10})


def score_copy_memory(split, predictions, info):
    probs = np.asarray(predictions)
    recalled = probs[:, -MEMORY:].argmax(-1) == split.y[:, -MEMORY:]
    picked = np.take_along_axis(probs, split.y[..., None], axis=-1)[..., 0]
    return {
        "recall_accuracy": float(recalled.mean()),
        "cross_entropy": float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0)))),
    }


def copy_memory_baseline(dataset, params):
    # Bai et al.: predict blank for the first T+10 steps and a uniform guess over the 8 symbols
    # for the last 10: cross-entropy 10 ln 8 / (T + 20), recall accuracy 1/8.
    return {"recall_accuracy": 1.0 / SYMBOLS, "cross_entropy": MEMORY * math.log(SYMBOLS) / (params["T"] + 2 * MEMORY)}


register_task(Task(
    name="copy_memory",
    description="recall 10 symbols after a blank span of T steps (long-term memory, per-step labels)",
    topology="tagging",
    metric="recall_accuracy",
    higher_is_better=True,
    params={"T": 100, "n_train": 10000, "n_val": 1000, "n_test": 1000},
    sizes={
        "smoke": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128},
        "default": {"T": 50, "n_train": 10000, "n_val": 1000, "n_test": 1000},
        "paper": {"T": 1000, "n_train": 30000, "n_val": 3000, "n_test": 6000},
    },
    make=make_copy_memory,
    score=score_copy_memory,
    baseline=copy_memory_baseline,
    baseline_name="blank, then a uniform guess (accuracy 1/8)",
    train={"learning_rate": 5e-4},
    citation="Hochreiter & Schmidhuber 1997; settings of Bai et al. 2018",
))


# --- seq2seq addition -----------------------------------------------------------------------

PAD, START, END = 0, 1, 2
CHARS = "0123456789+"
CHAR_ID = {c: i + 3 for i, c in enumerate(CHARS)}
VOCAB = len(CHARS) + 3


def encode(text: str, length: int, end: bool = False) -> list[int]:
    ids = [CHAR_ID[c] for c in text] + ([END] if end else [])
    return ids + [PAD] * (length - len(ids))


def decode(ids) -> str:
    """Token ids -> text, up to the end token."""
    out = []
    for i in ids:
        if i in (END, PAD):
            break
        if i >= 3:
            out.append(CHARS[i - 3])
    return "".join(out)


def make_seq2seq_addition(params, seed):
    """Questions "a+b" with a, b of 1 to `digits` digits; answers "a+b" evaluated, then END."""
    rng = np.random.default_rng(seed)
    digits = params["digits"]
    src_len, tgt_len = 2 * digits + 1, digits + 2

    def number(n):
        return rng.integers(0, 10 ** rng.integers(1, digits + 1, size=n))

    def split(n):
        a, b = number(n), number(n)
        src = np.array([encode(f"{x}+{y}", src_len) for x, y in zip(a, b)], "int32")
        tgt = np.array([encode(str(x + y), tgt_len, end=True) for x, y in zip(a, b)], "int32")
        dec_in = np.concatenate([np.full((n, 1), START, "int32"), tgt[:, :-1]], axis=1)
        return Split([src, dec_in], tgt, (tgt != PAD).astype("float32"))

    return Dataset(split(params["n_train"]), split(params["n_val"]), split(params["n_test"]),
                   info={"source_vocab_size": VOCAB, "target_vocab_size": VOCAB, "start_id": START,
                         "end_id": END, "target_length": tgt_len})


def addition_samples(model, data, count=8):
    """Questions of the test split with the model's greedy answer and the true one."""
    import zoo

    source = data.test.x[0][:count]
    answers = zoo.greedy_decode(model, source, start_id=START, max_length=data.info["target_length"], end_id=END)
    samples = [{"input": decode(s), "output": decode(a), "target": decode(t)}
               for s, a, t in zip(source, answers, data.test.y[:count])]
    if any(layer.name == "attention" for layer in model.layers):
        # Where each answer character looked in the question, for the report's heat maps: the
        # weights over the question's characters while writing the model's own answer.
        decoder_input = np.concatenate([np.full((len(answers), 1), START, "int32"), answers[:, :-1]], axis=1)
        weights = np.asarray(zoo.attention_model(model).predict([source, decoder_input], verbose=0))
        for sample, w, question, answer in zip(samples, weights, source, answers):
            sample["attention"] = np.round(w[:len(decode(answer)) + 1, :int((question != PAD).sum())], 3).tolist()
    return samples


def score_seq2seq(split, predictions, info):
    """Exact match of the whole answer and accuracy per answer character (padding excluded)."""
    predicted = np.asarray(predictions)
    real = split.y != PAD
    # Positions after the end token in a prediction are padding; compare on the target's positions.
    correct = (predicted == split.y) | ~real
    return {
        "exact_match": float(correct.all(axis=1).mean()),
        "char_accuracy": float(((predicted == split.y) & real).sum() / real.sum()),
    }


def seq2seq_majority_baseline(dataset, params):
    """Predict, at each answer position, the most frequent training token there."""
    y = dataset.train.y
    majority = np.array([np.bincount(y[:, t], minlength=VOCAB).argmax() for t in range(y.shape[1])])
    predictions = np.broadcast_to(majority, dataset.test.y.shape)
    return score_seq2seq(dataset.test, predictions, dataset.info)


register_task(Task(
    name="seq2seq_addition",
    description='read "123+4567" character by character, write the sum (encoder-decoder, N-to-M)',
    topology="seq2seq",
    metric="exact_match",
    higher_is_better=True,
    params={"digits": 3, "n_train": 20000, "n_val": 2000, "n_test": 2000},
    sizes={
        "smoke": {"digits": 2, "n_train": 512, "n_val": 128, "n_test": 128},
        "default": {"digits": 3, "n_train": 20000, "n_val": 2000, "n_test": 2000},
        "paper": {"digits": 3, "n_train": 50000, "n_val": 5000, "n_test": 5000},
    },
    make=make_seq2seq_addition,
    score=score_seq2seq,
    baseline=seq2seq_majority_baseline,
    baseline_name="most frequent token at each answer position",
    train={"learning_rate": 3e-3},
    samples=addition_samples,
    citation="Zaremba & Sutskever 2014; Keras addition_rnn example",
))
