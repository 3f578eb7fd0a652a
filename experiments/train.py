"""The one training path every (task, variant) pair goes through.

`train_run` seeds everything, builds the model through the task's topology
(`experiments.topologies`), fits with early stopping, scores validation and test with the
task's own metrics and returns a JSON-serializable record. There is no per-task training loop.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import zoo
from experiments import resume
from experiments.batching import LengthBatches, ShuffledBatches
from experiments.data import data_dir
from experiments.locations import check_writable
from experiments.planner import RunSpec
from experiments.settings import OPTIMIZERS
from experiments.tasks import SCORE_KEYS, Dataset, Task, get_task
from experiments.topologies import get_topology
from zoo._quiet import quiet_stderr

# JAX compiles a training step for every batch shape (polyphonic music: one per length bucket, a
# minute a run on MuseData); a search trains the same model with other settings run after run.
COMPILE_CACHE_VARIABLE = "RNNZOO_COMPILE_CACHE"
COMPILE_CACHE_MAX_BYTES = 2**30
COMPILE_CACHE_MIN_SECONDS = 0.1  # quicker compilations are not worth a file


@functools.cache
def use_compile_cache() -> Path | None:
    """On JAX, keep compiled programs on disk (JAX's persistent compilation cache) so that a
    run whose model and batch shapes another run compiled before, in this process or another,
    skips the compilation. `$RNNZOO_COMPILE_CACHE` names the folder (`off`: none), else JAX's own
    `jax_compilation_cache_dir` where one is set, else `compile-cache/` in the data cache; capped at
    1 GiB, least recently used entries removed. The cached program is the one JAX would compile
    (its key covers the computation, the JAX version and the device), so results do not change.
    A folder that cannot be written is named in a warning and the runs go on without the cache.
    Returns the folder, or None."""
    import keras

    setting = os.environ.get(COMPILE_CACHE_VARIABLE, "")
    if keras.backend.backend() != "jax" or setting.lower() == "off" or importlib.util.find_spec("filelock") is None:
        return None  # without filelock JAX can neither cap the folder nor share it between workers safely
    import jax

    folder = Path(setting or jax.config.jax_compilation_cache_dir or data_dir() / "compile-cache")
    try:
        check_writable(folder, "the compile cache")
    except ValueError as error:
        print(f"warning: {error}; or set {COMPILE_CACHE_VARIABLE}=off. Training goes on without it.",
              file=sys.stderr)
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", COMPILE_CACHE_MIN_SECONDS)
    jax.config.update("jax_compilation_cache_max_size", COMPILE_CACHE_MAX_BYTES)  # evicts under a file lock
    return folder


class Interrupted(KeyboardInterrupt):
    """A run stopped on request (Ctrl-C, SIGTERM) after a training step; it is recorded as interrupted."""


def build_model(task: Task, variant: str, info: dict, model: dict):
    """The zoo model of `variant` for the task's topology, with the run's model settings."""
    return get_topology(task.topology).build(variant, info, model)


def make_optimizer(train: dict):
    """The Keras optimizer of the run's (checked) training settings."""
    import keras

    name, fixed = OPTIMIZERS[train["optimizer"]]
    kwargs = {"learning_rate": train["learning_rate"], **fixed}
    if train["clipnorm"]:
        kwargs["clipnorm"] = train["clipnorm"]
    if train.get("momentum") and train["optimizer"] in ("sgd", "rmsprop"):
        kwargs["momentum"] = train["momentum"]
    return getattr(keras.optimizers, name)(**kwargs)


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


def _stop_when_asked(stop, prune):
    """A Keras callback that ends training after the current step once `stop()` gives a reason,
    or after an epoch whose validation loss `prune(epoch, loss)` answers True for (`pruned`)."""
    import keras

    class StopWhenAsked(keras.callbacks.Callback):
        pruned = False

        def on_train_batch_end(self, batch, logs=None):
            if stop():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("val_loss")
            if prune is not None and loss is not None and math.isfinite(loss) and prune(epoch + 1, float(loss)):
                self.pruned = self.model.stop_training = True

    return StopWhenAsked()


def _tensorboard(spec: RunSpec, run_dir: Path) -> list:
    """A Keras TensorBoard callback writing every epoch's scalars to `run_dir/tensorboard`, and the
    run's settings through TensorBoard's HParams plugin, or [] where TensorFlow or TensorBoard is
    not installed (the run goes on without)."""
    try:
        with quiet_stderr():  # on JAX or torch, TensorFlow is first imported here, with its start-up notices
            import tensorflow as tf
            from tensorboard.plugins.hparams import api as hp
    except ImportError:
        return []
    import keras

    log_dir = run_dir / "tensorboard"
    hparams = {"variant": spec.variant, "seed": spec.seed, "task": spec.label,
               **{f"model.{k}": v for k, v in spec.model.items()}, **{f"train.{k}": v for k, v in spec.train.items()}}
    with tf.summary.create_file_writer(str(log_dir / "hparams")).as_default():
        hp.hparams({k: v for k, v in hparams.items() if isinstance(v, (bool, int, float, str))}, trial_id=spec.key)
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False, profile_batch=0)]


def train_run(spec: RunSpec, run_dir: Path | None = None, log=None, stop=None, prune=None) -> dict[str, Any]:
    """Train the run `spec` and return its record (metrics, timings, history, status).

    `status` is "finished" or "diverged" (a NaN loss, or a score orders of magnitude worse than
    the task's trivial baseline: `far_above_baseline`); exceptions propagate to the caller,
    which records them as "failed". With a `run_dir`, the best model (`model.keras`), the
    history CSV and the topology's artifacts are written there. `stop()`, checked after every
    training step, ends the run with `Interrupted` once it returns a reason. `prune(epoch,
    val_loss)`, asked after every epoch (a search's pruner), ends it with status "pruned".

        >>> spec = RunSpec.resolve("adding", "lstm", seed=0, size="smoke")
        >>> record = train_run(spec)  # doctest: +SKIP
    """
    import keras

    task, train_settings = get_task(spec.task), spec.train
    topology = get_topology(task.topology)
    use_compile_cache()
    keras.utils.set_random_seed(spec.seed)
    start = time.perf_counter()
    data: Dataset = task.make(spec.params, spec.seed)
    data_seconds = time.perf_counter() - start

    keras.mixed_precision.set_global_policy("mixed_float16" if train_settings["mixed_precision"] else "float32")
    start = time.perf_counter()
    model = topology.build(spec.variant, data.info, spec.model)
    # .get: runs stored before the setting existed lack it
    jit_compile = {"auto": "auto", "on": True, "off": False}[train_settings.get("jit_compile", "auto")]
    model.compile(optimizer=make_optimizer(train_settings), loss=topology.loss(), jit_compile=jit_compile)
    build_seconds = time.perf_counter() - start

    probe = _gradient_probe(model, data, topology)
    initial_norms = probe() if probe else None  # before a checkpoint's weights: the run's initial ones
    timer = _epoch_timer()
    stop = stop or (lambda: None)
    if stop():
        raise Interrupted(stop())
    asked = _stop_when_asked(stop, prune)
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=train_settings["patience"],
                                                   restore_best_weights=True)
    checkpoint = resume.checkpoint(run_dir, spec.key, early_stopping, timer, resume.load(run_dir, spec.key, log))
    if checkpoint.state:
        try:
            checkpoint.restore_weights(model)
        except ValueError as error:  # e.g. saved by another version of the model's code
            resume.say(f"the checkpoint in {run_dir} does not fit this model ({error}); the run starts from its "
                       "first epoch", log)
            checkpoint = resume.checkpoint(run_dir, spec.key, early_stopping, timer)
    callbacks = _callbacks(spec, run_dir, asked, timer, early_stopping, checkpoint)
    start = time.perf_counter()
    history = _fit(model, data, train_settings, callbacks, log, spec.seed, checkpoint)
    train_seconds = checkpoint.earlier_seconds + time.perf_counter() - start
    if stop():
        raise Interrupted(stop())
    diverged = not _finite(history)

    record: dict[str, Any] = {
        "status": "diverged" if diverged else ("pruned" if asked.pruned else "finished"),
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
        # What computed each recurrent layer (a built-in fused layer, a zoo cell, which loop):
        # a silently lost fast path shows here.
        "runs_as": {layer.name: layer.runs_as for layer in model.layers if isinstance(layer, zoo.Recurrent)},
        "jit_compile": bool(model.jit_compile),  # what "auto" became on this backend and device
        "dtype_policy": keras.mixed_precision.global_policy().name,
        "baseline": task.baseline(data, spec.params),
        "train_examples": len(data.train),
    }
    if checkpoint.resumed_after:  # the epochs after which this run went on from a checkpoint
        record["resumed_after"] = checkpoint.resumed_after
    if probe and not diverged:
        # ||dL/dx_t|| per step t on a fixed test batch, before and after training (zoo.gradients).
        record["gradient_norms"] = {"initial": initial_norms, "trained": probe()}
    if not diverged:
        record.update(_evaluate_and_save(model, data, task, topology, train_settings["batch_size"], run_dir))
        if reason := far_above_baseline(task, record["val"], record["baseline"]):
            record.update(status="diverged", error=reason)
    if run_dir is not None:
        _write_history(run_dir / "history.csv", history)
    resume.remove(run_dir)  # the run is done: nothing is left to go on from
    keras.mixed_precision.set_global_policy("float32")
    return record


def _callbacks(spec: RunSpec, run_dir: Path | None, asked, timer, early_stopping, checkpoint) -> list:
    """What runs around the training steps: weight noise (when set), the stop and prune requests,
    NaN and early stopping, the epoch timer, TensorBoard, and last the checkpoint (it saves what
    the others made of the epoch)."""
    import keras

    train = spec.train
    # .get: runs stored before the setting existed lack it
    noise = ([zoo.WeightNoise(train["weight_noise"], seed=spec.seed, steps_taken=checkpoint.steps_done)]
             if train.get("weight_noise") else [])
    return [*noise, asked, keras.callbacks.TerminateOnNaN(), early_stopping,
            timer, *(_tensorboard(spec, run_dir) if run_dir is not None else []), checkpoint]


def _fit(model, data: Dataset, train_settings: dict, callbacks: list, log, seed: int,
         checkpoint) -> dict[str, list[float]]:
    """Train on the training split, validated on the validation split, from the epoch after the
    `checkpoint`'s; the history per epoch, the checkpoint's included. Keras' epoch lines go to
    `log` (the run log), not to the terminal."""
    import keras

    train, val = data.train, data.val
    batch_size = train_settings["batch_size"]
    epochs = {"epochs": train_settings["epochs"], "initial_epoch": checkpoint.epochs_done}
    with contextlib.redirect_stdout(log if log is not None else io.StringIO()):
        if train.lengths is not None:  # sequences of very different lengths: batches of similar ones
            checkpoint.batches = LengthBatches(train, batch_size, seed=seed)
            model.fit(checkpoint.batches, validation_data=LengthBatches(val, batch_size, shuffle=False),
                      callbacks=callbacks, verbose=2, **epochs)
        else:
            validation = (val.x, val.y) if val.sample_weight is None else (val.x, val.y, val.sample_weight)
            # the run's own order, a new one every epoch, which a checkpoint keeps
            checkpoint.batches = ShuffledBatches(train, batch_size, seed=seed)
            batches = checkpoint.batches.tf_dataset() if keras.backend.backend() == "tensorflow" else checkpoint.batches
            model.fit(batches, shuffle=False, validation_data=validation, validation_batch_size=batch_size,
                      callbacks=callbacks, verbose=2, **epochs)
    return checkpoint.history


def _evaluate_and_save(model, data: Dataset, task: Task, topology, batch_size: int, run_dir: Path | None) -> dict:
    """The scores on the validation and test splits (and the training split's as `train_scores`
    where the task asks), a generative task's samples, and the model and its artifacts written to
    `run_dir`."""
    start = time.perf_counter()
    scores = {}
    for split_name in ("train", "val", "test") if task.evaluate_train else ("val", "test"):
        split = data.split(split_name)
        scores[SCORE_KEYS[split_name]] = task.score(split, topology.predict(model, split, data.info, batch_size),
                                                    data.info)
    scores["eval_seconds"] = time.perf_counter() - start
    if run_dir is not None:
        model.save(run_dir / "model.keras")
        if topology.write_artifacts is not None:  # what later commands need beside the model
            topology.write_artifacts(run_dir, task, data.info)
    if task.samples is not None:
        scores["samples"] = task.samples(model, data)
    return scores


# A lower-is-better score this many times the trivial baseline's means the training diverged
# (e.g. a learning rate of 1e6), even when no loss became NaN.
DIVERGED_FACTOR = 100.0


def far_above_baseline(task: Task, scores: dict, baseline: dict) -> str | None:
    """Why a run counts as diverged although its loss stayed finite: its validation score is over
    `DIVERGED_FACTOR` times the trivial baseline's (a metric where lower is better and the
    baseline is above 0); None otherwise."""
    value, reference = scores.get(task.metric), (baseline or {}).get(task.metric)
    if task.higher_is_better or value is None or reference is None or not reference > 0:
        return None
    if not math.isfinite(value) or value > DIVERGED_FACTOR * reference:
        return (f"validation {task.metric} {value:.4g} is over {DIVERGED_FACTOR:g}x the trivial baseline's "
                f"{reference:.4g} ({task.baseline_name}): the training diverged")
    return None


PROBE_BATCH = 64


def _gradient_probe(model, data: Dataset, topology):
    """A function giving the loss gradient's norm at each input step (a list, first step first)
    on the first test examples, for models with real-valued sequence inputs and one output per
    sequence (where a step's distance from the loss is defined); else None."""
    from zoo.gradients import input_gradients, step_norms

    x = data.test.x
    if "input_dim" not in data.info or not isinstance(x, np.ndarray) or x.ndim != 3 or len(model.output.shape) != 2:
        return None
    x, y = x[:PROBE_BATCH], data.test.y[:PROBE_BATCH]
    loss = topology.loss()
    return lambda: [float(v) for v in step_norms(input_gradients(model, x, y, loss))]


def _write_history(path: Path, history: dict):
    keys = list(history)
    rows = max((len(v) for v in history.values()), default=0)
    with open(path, "w") as out:
        out.write("epoch," + ",".join(keys) + "\n")
        for i in range(rows):
            out.write(f"{i + 1}," + ",".join(f"{history[k][i]:.6g}" if i < len(history[k]) else "" for k in keys) + "\n")
