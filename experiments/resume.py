"""Checkpoints inside a run: a run stopped part-way (Ctrl-C, a killed worker, a machine taken back)
goes on from its last saved epoch when it is trained again, not from its first.

At the end of an epoch, once `CHECKPOINT_SECONDS` of training have passed since the last save
(`$RNNZOO_CHECKPOINT_SECONDS`; 0: every epoch, `off`: never), the run's folder gets `resume.npz`:
everything the rest of the run depends on. That is the weights and the optimizer's state, the
random generators' states (dropout's, the batches' order), early stopping's count and best
weights, the history and the epoch times. When the same run is trained again (same key, same
backend), `train_run` loads it and fits from the next epoch; the run's record lists the epochs
it went on from (`resumed_after`). A finished run deletes the file.

A resumed run gives the numbers of a run never stopped, on every backend, dropout and weight
noise included: the order of the batches is drawn by the run's own generator
(`experiments.batching`), whose state the checkpoint keeps with Python's, NumPy's and torch's.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from experiments.supervision import seconds_from_environment

__all__ = ["CHECKPOINT_FILE", "CHECKPOINT_SECONDS", "checkpoint", "checkpoint_seconds", "load", "remove", "say"]

CHECKPOINT_FILE = "resume.npz"
CHECKPOINT_SECONDS = 60.0  # a save costs milliseconds; losing at most a minute of training is the aim
CHECKPOINT_VARIABLE = "RNNZOO_CHECKPOINT_SECONDS"
FORMAT = "rnn-zoo-checkpoint"
VERSION = 1


def checkpoint_seconds() -> float | None:
    """Seconds of training between two checkpoints: `$RNNZOO_CHECKPOINT_SECONDS`, else
    `CHECKPOINT_SECONDS`; None when set to `off`. A value that is not a number >= 0 is refused."""
    return seconds_from_environment(CHECKPOINT_VARIABLE, CHECKPOINT_SECONDS, zero=True, off=True)


def _checkpoint_callback():
    import keras

    class Checkpoint(keras.callbacks.Callback):
        """Saves the run's state to `folder/resume.npz` at the end of a whole epoch, every
        `seconds` of training; given the state `load` read, puts it back at the start of the fit.
        Goes last among the callbacks: it saves what the others (early stopping, the epoch timer)
        made of the epoch, and sets their state after they reset it."""

        def __init__(self, folder: Path | None, key: str, seconds: float | None, early_stopping, timer,
                     state: dict | None = None):
            super().__init__()
            self.folder, self.key, self.seconds = folder, key, seconds
            self.early_stopping, self.timer = early_stopping, timer
            self.state = state
            self.batches = None  # the training batches (experiments.batching): their order is saved
            self.history: dict[str, list[float]] = {k: list(v) for k, v in state["history"].items()} if state else {}
            self.resumed_after = [*state["resumed_after"], state["epochs"]] if state else []
            self.earlier_seconds = state["train_seconds"] if state else 0.0
            self._last_save = time.perf_counter()
            self._started = time.perf_counter()
            self._torch_random = None
            self._pending = None  # on torch, a checkpoint written at the next epoch's first step

        @property
        def epochs_done(self) -> int:
            return self.state["epochs"] if self.state else 0

        @property
        def steps_done(self) -> int:
            return self.state["steps"] if self.state else 0

        # -- putting a saved state back -------------------------------------------------
        def restore_weights(self, model):
            """The saved weights, optimizer state and random generators' states, into `model`
            (compiled, before the fit). Every variable is checked against the saved one first: a
            ValueError that says which differs leaves the model as it was."""
            arrays = self.state["arrays"]
            model.optimizer.build(model.trainable_variables)
            pairs = []
            for prefix, kind, variables in (("v", "model", model.variables), ("o", "optimizer", model.optimizer.variables)):
                saved = sorted((k for k in arrays if k[0] == prefix and k[1:].isdigit()), key=lambda k: int(k[1:]))
                if len(saved) != len(variables):
                    raise ValueError(f"it holds {len(saved)} {kind} variables, the model has {len(variables)}")
                for variable, name in zip(variables, saved):
                    if tuple(variable.shape) != arrays[name].shape:
                        raise ValueError(f"{kind} variable {variable.path} has shape {tuple(variable.shape)}, "
                                         f"the checkpoint's {arrays[name].shape}")
                    pairs.append((variable, arrays[name]))
            for variable, value in pairs:
                variable.assign(value)

        def on_train_begin(self, logs=None):
            self._started = self._last_save = time.perf_counter()
            if not self.state:
                return
            stopping, saved = self.early_stopping, self.state["early_stopping"]
            stopping.wait, stopping.best, stopping.best_epoch = saved["wait"], saved["best"], saved["best_epoch"]
            stopping.stopped_epoch = saved["stopped_epoch"]
            best = [self.state["arrays"][f"b{i}"] for i in range(saved["best_weights"])]
            stopping.best_weights = best or None
            self.timer.times = list(self.state["epoch_times"])
            self.timer.batches = self.state["batches_run"]
            order = self.state.get("order")
            if order is not None and self.batches is not None:
                self.batches.set_order(order)
            # Keras shuffles a LengthBatches' batches again with Python's generator, when the epoch's
            # pass starts (after this); NumPy's for anything else that draws from it.
            np.random.set_state(self.state["numpy_random"])
            version, internal, gauss = self.state["python_random"]
            random.setstate((version, tuple(internal), gauss))
            # torch's global generator: put back just before the first step, where it was taken
            self._torch_random = self.state["arrays"].get("torch_random")

        # -- saving -----------------------------------------------------------------------
        def on_epoch_begin(self, epoch, logs=None):
            self._steps_in_epoch = 0

        def on_train_batch_begin(self, batch, logs=None):
            if self._torch_random is None and self._pending is None:
                return
            import torch

            if self._torch_random is not None:
                torch.set_rng_state(torch.from_numpy(self._torch_random))
                self._torch_random = None
            if self._pending is not None:
                arrays, self._pending = self._pending, None
                arrays["torch_random"] = torch.get_rng_state().numpy()
                self._write(arrays)

        def on_train_batch_end(self, batch, logs=None):
            self._steps_in_epoch += 1

        def on_epoch_end(self, epoch, logs=None):
            for name, value in (logs or {}).items():
                self.history.setdefault(name, []).append(float(value))
            whole = self._steps_in_epoch == self.params.get("steps")  # a stop request cuts an epoch short
            # A run that stops here (early stopping, a pruner) ends in seconds: no checkpoint, whose
            # resumption would train on.
            if self.folder is None or self.seconds is None or not whole or self.model.stop_training:
                return
            if time.perf_counter() - self._last_save >= self.seconds:
                self.save(epoch + 1)

        def train_seconds(self) -> float:
            """Training seconds over every attempt of this run, up to now."""
            return self.earlier_seconds + time.perf_counter() - self._started

        def save(self, epochs: int):
            model, stopping = self.model, self.early_stopping
            arrays = {f"v{i}": v for i, v in enumerate(_values(model.variables))}
            arrays.update({f"o{i}": v for i, v in enumerate(_values(model.optimizer.variables))})
            best = stopping.best_weights or []
            arrays.update({f"b{i}": np.asarray(w) for i, w in enumerate(best)})
            numpy_state = np.random.get_state()
            arrays["numpy_random_keys"] = numpy_state[1]
            meta = {
                "format": FORMAT, "version": VERSION, "key": self.key, "backend": _backend(),
                "epochs": epochs, "steps": int(np.asarray(_values([model.optimizer.iterations])[0])),
                "history": self.history, "epoch_times": list(self.timer.times), "batches_run": self.timer.batches,
                "train_seconds": self.train_seconds(), "resumed_after": self.resumed_after,
                "early_stopping": {"wait": stopping.wait, "best": _number(stopping.best),
                                   "best_epoch": stopping.best_epoch, "stopped_epoch": stopping.stopped_epoch,
                                   "best_weights": len(best)},
                "order": self.batches.get_order() if self.batches is not None else None,
                "numpy_random": [numpy_state[0], None, *numpy_state[2:]],
                "python_random": random.getstate(),
            }
            arrays["meta"] = np.array(json.dumps(meta))
            if _backend() == "torch":
                # torch's global generator (dropout of a layer given no seed draws from it) is taken
                # just before the next epoch's first step, after the data loaders drew their seeds.
                self._pending = arrays
            else:
                self._write(arrays)

        def _write(self, arrays: dict):
            path = self.folder / CHECKPOINT_FILE
            partial = path.with_name(path.name + ".partial.npz")
            np.savez(partial, **arrays)
            os.replace(partial, path)  # a kill during the write leaves the previous checkpoint whole
            self._last_save = time.perf_counter()

    return Checkpoint


def _values(variables) -> list:
    from keras import ops

    return [np.asarray(ops.convert_to_numpy(v)) for v in variables]


def _number(value):
    if value is None:
        return None
    value = float(np.asarray(value))
    return value if math.isfinite(value) else None


def _backend() -> str:
    import keras

    return keras.backend.backend()


def checkpoint(folder, key, early_stopping, timer, state=None):
    """The checkpoint callback of a run (`folder` None: nothing is saved), continuing from `state`
    (what `load` read) when given."""
    return _checkpoint_callback()(folder, key, checkpoint_seconds(), early_stopping, timer, state)


def load(folder: Path | None, key: str, log=None) -> dict | None:
    """The state saved in `folder` for the run `key`, or None: when there is none, or it belongs to
    another run or another backend, or cannot be read (then the run starts from its first epoch
    and says why on `log` and the terminal; the file is replaced at the next save)."""
    if folder is None or checkpoint_seconds() is None:
        return None
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(f"not a version-{VERSION} checkpoint of this project")
    except Exception as error:  # noqa: BLE001 - a bad checkpoint costs the epochs it held, never the run
        say(f"the checkpoint {path} could not be read ({type(error).__name__}: {error}); "
             "the run starts from its first epoch", log)
        return None
    if meta["key"] != key:
        say(f"the checkpoint {path} is of run {meta['key']}, not {key}; the run starts from its first epoch", log)
        return None
    if meta["backend"] != _backend():
        say(f"the checkpoint {path} was saved on {meta['backend']}, this is {_backend()}, which draws other random "
             "numbers; the run starts from its first epoch", log)
        return None
    kind, _, *rest = meta["numpy_random"]
    meta["numpy_random"] = (kind, arrays.pop("numpy_random_keys"), *rest)
    meta["arrays"] = arrays
    say(f"resuming from the checkpoint after epoch {meta['epochs']} ({path})", log)
    return meta


def remove(folder: Path | None):
    """Delete the run's checkpoint (the run finished: nothing is left to resume)."""
    if folder is not None:
        (Path(folder) / CHECKPOINT_FILE).unlink(missing_ok=True)


def say(message: str, log=None):
    print(message, file=sys.stderr, flush=True)
    if log is not None:
        print(message, file=log, flush=True)
