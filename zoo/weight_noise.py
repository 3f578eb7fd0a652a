"""Weight noise (Graves 2011, "Practical Variational Inference for Neural Networks"; the setting
of Graves 2013 and Chung et al. 2014): every training step computes its gradient at weights
with Gaussian noise added, and the update is applied to the weights without it. Evaluation,
prediction, validation and the saved model never see the noise.

    >>> import keras, zoo
    >>> model = zoo.many_to_one("gru", 1, input_dim=3, units=8, output_activation=None)
    >>> model.compile("rmsprop", "mse")
    >>> # model.fit(x, y, callbacks=[zoo.WeightNoise(0.075, seed=0)])
"""

from __future__ import annotations

import itertools
import math
import numbers
import random

import keras

__all__ = ["WeightNoise"]


class WeightNoise(keras.callbacks.Callback):
    """Adds N(0, `stddev`^2) noise to every trainable weight before each training step and takes
    the same noise off after it: the step's gradient is taken at the noisy weights, its update
    lands on the clean ones. `seed` fixes the noise.

    The noise lives inside the training step, so a fit ended by an exception between steps (Ctrl-C,
    a callback that raises) or, on torch, inside one leaves clean weights, and a later fit without
    this callback trains without noise. On JAX and TensorFlow it is drawn inside the compiled step,
    from `seed` and the step's number in this fit: JAX adds it to the weights the step
    differentiates (the variables never hold it), TensorFlow adds it to the variables and takes it
    off inside the step. Weights written from the callback between steps would cost a dispatch per
    weight and, on JAX, a round trip of the whole training state at every step. Torch, which runs
    each step eagerly, adds it to the variables around its step and takes it off however the step
    ends. Each backend draws its own noise for a seed (TensorFlow with XLA other noise than
    without). Where no step can be wrapped (several TensorFlow replicas, `jit_compile=True` on
    torch) the callback adds the noise before each step and takes it off after it.

    `steps_taken`: the training steps of earlier fits that this fit continues (a run resumed from
    a checkpoint): the draws go on from the one after them instead of starting over, so a run
    split over two fits sees the noise of one fit."""

    def __init__(self, stddev: float, seed: int | None = None, steps_taken: int = 0):
        super().__init__()
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not (math.isfinite(stddev) and stddev >= 0):
            raise ValueError(f"`stddev` must be a finite number >= 0, got stddev={stddev!r}.")
        if isinstance(steps_taken, bool) or not isinstance(steps_taken, numbers.Integral) or steps_taken < 0:
            raise ValueError(f"`steps_taken` must be an integer >= 0, got steps_taken={steps_taken!r}.")
        self.stddev = float(stddev)
        self.seed = seed
        self.steps_taken = int(steps_taken)
        self._generator = None
        self._noise = []
        self._in_step = False
        self._armed = False  # set before each step of a fit this callback is part of

    def on_train_begin(self, logs=None):
        self._in_step = bool(self.stddev) and _put_noise_in_step(self.model, self)
        if self.stddev and (not self._in_step or keras.backend.backend() == "torch"):  # drawn eagerly
            self._generator = keras.random.SeedGenerator(self.seed)
            if self.steps_taken:  # one draw per weight and step went before (`SeedGenerator.next` counts by 1)
                draws = self.steps_taken * len(self.model.trainable_weights)
                state = self._generator.state
                state.assign(state.value + keras.ops.convert_to_tensor([0, draws], dtype=state.dtype))

    def on_train_end(self, logs=None):
        if self._in_step:  # the next fit compiles its step without the noise
            _remove_noise_step(self.model)
            self._in_step = False

    def on_train_batch_begin(self, batch, logs=None):
        if not self.stddev:
            return
        if self._in_step:
            self._armed = True
            return
        self._noise = self._add_noise()

    def _add_noise(self) -> list:
        """Add a new draw to every trainable weight; returns (weight, noise) pairs to take off."""
        added = []
        for weight in self.model.trainable_weights:
            noise = keras.random.normal(weight.shape, stddev=self.stddev, dtype=weight.dtype, seed=self._generator)
            weight.assign(weight + noise)
            added.append((weight, noise))
        return added

    def on_train_batch_end(self, batch, logs=None):
        if not self._noise:
            return
        # JAX trains on a copy of the weights: bring the step's result into the variables (the
        # trainer then reads them back before the next step, noise and all).
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()
        for weight, noise in self._noise:
            weight.assign(weight - noise)
        self._noise = []


# The backends whose trainer's `train_step` the noise wraps (Keras trains on no other).
_TRAINING_BACKENDS = ("jax", "tensorflow", "torch")


def _put_noise_in_step(model, callback: WeightNoise) -> bool:
    """Make `model`'s training step take its gradient at noisy weights: on JAX and TensorFlow
    drawn inside the compiled step from the callback's seed and the number of steps this fit has
    taken after the callback's `steps_taken` (a seed's draws start over with each fit, as the
    callback's), on torch drawn from the callback's generator around the eager step. False (the callback adds the noise, or nothing)
    where nothing is trainable, on several TensorFlow replicas, on torch with `jit_compile=True`
    (the step is traced), or where the optimizer has no step count among its variables."""
    backend = keras.backend.backend()
    optimizer = model.optimizer
    at = next((i for i, v in enumerate(optimizer.variables) if v is optimizer.iterations), None)
    sizes = [math.prod(w.shape) for w in model.trainable_weights]
    if (not sizes or backend not in _TRAINING_BACKENDS or _replicated(model, backend)
            or (model.jit_compile if backend == "torch" else at is None)):
        return False
    # The class's step, not the instance's: a fit that ended in an exception may leave its noisy one there.
    clean = type(model).train_step.__get__(model)
    if backend == "torch":
        step = _torch_step(clean, callback)
    else:
        seed = callback.seed if callback.seed is not None else random.randint(0, 2**31 - 1)
        start = int(keras.ops.convert_to_numpy(optimizer.iterations)) - callback.steps_taken
        if backend == "jax":
            step = _jax_step(model, clean, callback.stddev, seed, at, start, sizes)
        else:
            step = _tensorflow_step(clean, model, callback.stddev, seed, optimizer, start, sizes)
    model.train_step = step
    model.make_train_function(force=True)  # a step compiled before would not see the noise
    model.train_function = _only_with_callback(model, callback, model.train_function)
    return True


def _only_with_callback(model, callback: WeightNoise, noisy_function):
    """`noisy_function` for the steps of a fit that has `callback` (it arms each step); a fit
    without it, after one with it that ended in an exception (no `on_train_end` to take the
    noisy step away), gets the model's clean step back at its first step."""

    def train_function(*args, **kwargs):
        if callback._armed:
            callback._armed = False
            return noisy_function(*args, **kwargs)
        _remove_noise_step(model)
        model.make_train_function()
        return model.train_function(*args, **kwargs)

    return train_function


def _remove_noise_step(model):
    """Take the noisy step off `model`: its next training step is compiled from the class's."""
    if "train_step" in vars(model):
        del model.train_step
    model.train_function = None


def _replicated(model, backend: str) -> bool:
    """Whether TensorFlow runs the step on several replicas (a `tf.distribute` strategy other than
    the default): the callback adds the noise there, outside the replicas' steps."""
    return backend == "tensorflow" and model.distribute_strategy.num_replicas_in_sync > 1


def _jax_step(model, clean, stddev, seed, at, start, sizes):
    """`train_step` whose `compute_loss_and_updates` takes the loss at noisy weights: the gradient
    with respect to the clean weights is the gradient at the noisy ones, and the update lands on
    the clean ones. The noisy `compute_loss_and_updates` is the model's only while this step runs
    (is traced): jax.jit keeps what it traced for a bound method under the method's object and
    function, so a `model.train_step` compiled while the model held it would give a later fit
    without the callback the noisy step back."""
    import jax

    ends = list(itertools.accumulate(sizes))[:-1]
    clean_loss_and_updates = type(model).compute_loss_and_updates.__get__(model)

    def compute_loss_and_updates(trainable_variables, *args, training=False, optimizer_variables=None, **kwargs):
        if training:
            key = jax.random.fold_in(jax.random.key(seed), optimizer_variables[at] - start)
            # One draw for every weight (one generator in the compiled step, not one per weight).
            noise = jax.numpy.split(stddev * jax.random.normal(key, (sum(sizes),)), ends)
            trainable_variables = [w + part.reshape(w.shape).astype(w.dtype)
                                   for w, part in zip(trainable_variables, noise, strict=True)]
        return clean_loss_and_updates(trainable_variables, *args, training=training,
                                      optimizer_variables=optimizer_variables, **kwargs)

    def train_step(state, data):
        model.compute_loss_and_updates = compute_loss_and_updates
        try:
            return clean(state, data)
        finally:
            del model.compute_loss_and_updates

    return train_step


def _torch_step(clean, callback: WeightNoise):
    """`train_step` with a new draw added to the variables before the step and taken off after
    its update however the step ends (an exception in the middle of it leaves clean weights)."""

    def train_step(data):
        added = callback._add_noise()
        try:
            return clean(data)
        finally:
            for weight, noise in added:
                weight.assign(weight - noise)

    return train_step


def _tensorflow_step(clean, model, stddev, seed, optimizer, start, sizes):
    """`train_step` with the noise added to the variables before the step and taken off after its
    update, inside the compiled function (the optimizer's update adds to the weights, so what
    remains is the clean weights plus the update computed at the noisy ones)."""
    import tensorflow as tf

    def train_step(data):
        weights = model.trainable_weights
        step = tf.cast(optimizer.iterations.value, tf.int64) - start
        draw = tf.random.stateless_normal((sum(sizes),), seed=tf.stack([tf.constant(seed, tf.int64), step]), alg="philox")
        noise = [tf.reshape(tf.cast(part, w.dtype), w.shape) for w, part in zip(weights, tf.split(stddev * draw, sizes))]
        for w, n in zip(weights, noise, strict=True):
            w.assign_add(n)
        logs = clean(data)
        for w, n in zip(weights, noise, strict=True):
            w.assign_sub(n)
        return logs

    return train_step
