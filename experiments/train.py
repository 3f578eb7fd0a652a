"""The one training path every (task, variant) pair goes through.

`build_model` picks the zoo builder for the task's topology, `train_run` seeds everything,
fits with early stopping, scores validation and test with the task's own metrics and returns
a JSON-serializable record. There is no per-task training loop.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

import zoo
from experiments.tasks import Dataset, Split, Task

# Library defaults: a grid or --set changes them; a task's own `train` settings come next.
# `dropout` is between stacked levels; `recurrent_dropout` is variational dropout of the state
# inside each level (one mask per sequence).
MODEL_DEFAULTS: dict[str, Any] = {"units": 128, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64,
                                  "implementation": "auto", "recurrent_dropout": 0.0}
TRAIN_DEFAULTS: dict[str, Any] = {
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "clipnorm": 1.0,
    "batch_size": 64,
    "epochs": 10,
    "patience": 3,
    "mixed_precision": False,
}
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd", "nadam")


def build_model(task: Task, variant: str, info: dict, model: dict):
    """The zoo model for the task's topology."""
    common = dict(units=model["units"], num_layers=model["num_layers"], dropout=model["dropout"],
                  implementation=model["implementation"])
    if model.get("recurrent_dropout"):
        common["cell_options"] = {"recurrent_dropout": model["recurrent_dropout"]}
    inputs = ({"input_dim": info["input_dim"]} if "input_dim" in info
              else {"vocab_size": info.get("vocab_size"), "embedding_dim": model["embedding_dim"]})
    if task.topology in ("regression", "forecasting"):
        return zoo.many_to_one(variant, info["num_outputs"], output_activation=None, **inputs, **common)
    if task.topology == "frame_prediction":
        return zoo.many_to_many(variant, info["num_outputs"], output_activation="sigmoid", **inputs, **common)
    if task.topology == "classification":
        return zoo.many_to_one(variant, info["num_outputs"], output_activation="softmax", **inputs, **common)
    if task.topology == "tagging":
        return zoo.many_to_many(variant, info["num_outputs"], output_activation="softmax", **inputs, **common)
    if task.topology == "seq2seq":
        return zoo.seq2seq(variant, info["source_vocab_size"], info["target_vocab_size"],
                           embedding_dim=model["embedding_dim"], **common)
    if task.topology == "language_model":
        return zoo.language_model(variant, info["vocab_size"], embedding_dim=model["embedding_dim"], **common)
    raise ValueError(f"no model builder for topology {task.topology!r}")


def loss_for(task: Task):
    import keras

    if task.topology in ("regression", "forecasting"):
        return keras.losses.MeanSquaredError()
    if task.topology == "frame_prediction":
        return keras.losses.BinaryCrossentropy()
    from_logits = task.topology in ("seq2seq", "language_model")
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


def predict(task: Task, model, split: Split, info: dict, batch_size: int):
    """What the task's `score` reads: outputs; greedy decodings for seq2seq; for a language model
    the log-probability of each true next token (the whole softmax of a test set may not fit)."""
    if task.topology == "language_model":
        from scipy.special import log_softmax

        out = []
        for i in range(0, len(split.y), batch_size):
            logits = np.asarray(model.predict_on_batch(split.x[i:i + batch_size]), dtype=np.float64)
            out.append(np.take_along_axis(log_softmax(logits, axis=-1), split.y[i:i + batch_size, :, None], axis=-1)[..., 0])
        return np.concatenate(out)
    if task.topology == "seq2seq":
        source = split.x[0]
        return np.concatenate([
            zoo.greedy_decode(model, source[i:i + 1024], start_id=info["start_id"],
                              max_length=info["target_length"], end_id=info["end_id"])
            for i in range(0, len(source), 1024)
        ])
    return model.predict(split.x, batch_size=batch_size, verbose=0)


def make_optimizer(train: dict):
    import keras

    name = train["optimizer"]
    if name not in OPTIMIZERS:
        raise ValueError(f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}.")
    kwargs = {"learning_rate": train["learning_rate"]}
    if train["clipnorm"]:
        kwargs["clipnorm"] = train["clipnorm"]
    return {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW, "rmsprop": keras.optimizers.RMSprop,
            "sgd": keras.optimizers.SGD, "nadam": keras.optimizers.Nadam}[name](**kwargs)


def _epoch_timer():
    """A Keras callback recording the wall time of every epoch (training only) and the batches run."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times, self.batches = [], 0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer()


def _finite(history: dict) -> bool:
    return all(math.isfinite(v) for values in history.values() for v in values)


def train_run(task: Task, variant: str, size: str, params: dict, seed: int, model_settings: dict,
              train_settings: dict, run_dir: Path | None = None, log=None) -> dict[str, Any]:
    """Train one run and return its record (metrics, timings, history, status).

    `status` is "finished" or "diverged" (a NaN loss); exceptions propagate to the caller,
    which records them as "failed".
    """
    import keras

    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    data: Dataset = task.make(params, seed)
    data_seconds = time.perf_counter() - start

    keras.mixed_precision.set_global_policy("mixed_float16" if train_settings["mixed_precision"] else "float32")
    start = time.perf_counter()
    model = build_model(task, variant, data.info, model_settings)
    model.compile(optimizer=make_optimizer(train_settings), loss=loss_for(task))
    build_seconds = time.perf_counter() - start

    timer = _epoch_timer()
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=train_settings["patience"],
                                      restore_best_weights=True),
        timer,
    ]
    train, val = data.train, data.val
    stream = log if log is not None else io.StringIO()  # Keras' epoch lines go to the run log
    start = time.perf_counter()
    with contextlib.redirect_stdout(stream):
        fit = model.fit(
            train.x, train.y, sample_weight=train.sample_weight,
            validation_data=(val.x, val.y) if val.sample_weight is None else (val.x, val.y, val.sample_weight),
            batch_size=train_settings["batch_size"], epochs=train_settings["epochs"], shuffle=True,
            callbacks=callbacks, verbose=2,
        )
    train_seconds = time.perf_counter() - start
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    diverged = not _finite(history)

    record: dict[str, Any] = {
        "status": "diverged" if diverged else "finished",
        "parameters": int(model.count_params()),
        "epochs_run": len(history.get("loss", [])),
        "best_epoch": int(np.nanargmin(history["val_loss"])) + 1 if history.get("val_loss") and not diverged else None,
        "train_seconds": train_seconds,
        "build_seconds": build_seconds,
        "data_seconds": data_seconds,
        # The first epoch also traces and compiles; the steady pace is measured after it.
        "seconds_per_epoch": float(np.median(timer.times[1:] if len(timer.times) > 1 else timer.times)) if timer.times else None,
        "first_epoch_seconds": timer.times[0] if timer.times else None,
        "steps_per_second": timer.batches / sum(timer.times) if timer.times and sum(timer.times) > 0 else None,
        "history": history,
        "baseline": task.baseline(data, params),
        "train_examples": len(train),
    }
    if not diverged:
        start = time.perf_counter()
        for split_name in ("val", "test"):
            split = data.split(split_name)
            predictions = predict(task, model, split, data.info, train_settings["batch_size"])
            record[split_name] = task.score(split, predictions, data.info)
        record["eval_seconds"] = time.perf_counter() - start
        if run_dir is not None:
            model.save(run_dir / "model.keras")
            if "vocabulary" in data.info:  # what `python -m experiments generate` needs beside the model
                (run_dir / "vocabulary.json").write_text(json.dumps(
                    {"tokens": data.info["vocabulary"].tokens, "join": data.info.get("join", " "),
                     "task": task.name, "topology": task.topology}, ensure_ascii=False), encoding="utf-8")
        if task.samples is not None:
            record["samples"] = task.samples(model, data)
    if run_dir is not None:
        _write_history(run_dir / "history.csv", history)
    keras.mixed_precision.set_global_policy("float32")
    return record


def _write_history(path: Path, history: dict):
    keys = list(history)
    rows = max((len(v) for v in history.values()), default=0)
    with open(path, "w") as out:
        out.write("epoch," + ",".join(keys) + "\n")
        for i in range(rows):
            out.write(f"{i + 1}," + ",".join(f"{history[k][i]:.6g}" if i < len(history[k]) else "" for k in keys) + "\n")
