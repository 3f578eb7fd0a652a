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

    On JAX and TensorFlow the noise is drawn inside the compiled training step, from `seed` and the
    step's number in this fit: JAX adds it to the weights the step differentiates (the variables
    never hold it), TensorFlow adds it to the variables and takes it off inside the step. Weights
    written from the callback between steps cost a dispatch per weight and, on JAX, a round trip of
    the whole training state at every step. Torch, which runs each step eagerly anyway, adds it from
    the callback. Each backend draws its own noise for a seed (TensorFlow with XLA other noise than
    without)."""

    def __init__(self, stddev: float, seed: int | None = None):
        super().__init__()
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not (math.isfinite(stddev) and stddev >= 0):
            raise ValueError(f"`stddev` must be a finite number >= 0, got stddev={stddev!r}.")
        self.stddev = float(stddev)
        self.seed = seed
        self._generator = None
        self._noise = []
        self._in_step = False

    def on_train_begin(self, logs=None):
        self._in_step = bool(self.stddev) and _put_noise_in_step(self.model, self)
        if not self._in_step:
            self._generator = keras.random.SeedGenerator(self.seed)

    def on_train_end(self, logs=None):
        if self._in_step:  # the next fit compiles its step without the noise
            delattr(self.model, _STEP_METHOD[keras.backend.backend()])
            self.model.train_function = None
            self._in_step = False

    def on_train_batch_begin(self, batch, logs=None):
        if not self.stddev or self._in_step:
            return
        self._noise = []
        for weight in self.model.trainable_weights:
            noise = keras.random.normal(weight.shape, stddev=self.stddev, dtype=weight.dtype, seed=self._generator)
            weight.assign(weight + noise)
            self._noise.append((weight, noise))

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


# The method of Keras' trainer that the noise wraps on each backend that compiles its training step.
_STEP_METHOD = {"jax": "compute_loss_and_updates", "tensorflow": "train_step"}


def _put_noise_in_step(model, callback: WeightNoise) -> bool:
    """Make `model`'s compiled training step take its gradient at noisy weights, the noise drawn
    from the callback's seed and the number of steps this fit has taken (a seed's draws start over
    with each fit, as the callback's). False (the callback adds the noise, or nothing) on torch,
    where the optimizer has no step count among its variables, where nothing is trainable, or on
    several TensorFlow replicas."""
    backend = keras.backend.backend()
    optimizer = model.optimizer
    at = next((i for i, v in enumerate(optimizer.variables) if v is optimizer.iterations), None)
    sizes = [math.prod(w.shape) for w in model.trainable_weights]
    if backend not in _STEP_METHOD or at is None or not sizes or _replicated(model, backend):
        return False
    seed = callback.seed if callback.seed is not None else random.randint(0, 2**31 - 1)
    start = int(keras.ops.convert_to_numpy(optimizer.iterations))
    # The class's step, not the instance's: a fit that ended in an exception leaves its noisy one there.
    clean = getattr(type(model), _STEP_METHOD[backend]).__get__(model)
    if backend == "jax":
        step = _jax_step(clean, callback.stddev, seed, at, start, sizes)
    else:
        step = _tensorflow_step(clean, model, callback.stddev, seed, optimizer, start, sizes)
    setattr(model, _STEP_METHOD[backend], step)
    model.make_train_function(force=True)  # a step compiled before would not see the noise
    return True


def _replicated(model, backend: str) -> bool:
    """Whether TensorFlow runs the step on several replicas (a `tf.distribute` strategy other than
    the default): the callback adds the noise there, outside the replicas' steps."""
    return backend == "tensorflow" and model.distribute_strategy.num_replicas_in_sync > 1


def _jax_step(clean, stddev, seed, at, start, sizes):
    """`compute_loss_and_updates` at noisy weights: the gradient with respect to the clean weights
    is the gradient at the noisy ones, and the update lands on the clean ones."""
    import jax

    ends = list(itertools.accumulate(sizes))[:-1]

    def compute_loss_and_updates(trainable_variables, *args, training=False, optimizer_variables=None, **kwargs):
        if training:
            key = jax.random.fold_in(jax.random.key(seed), optimizer_variables[at] - start)
            # One draw for every weight (one generator in the compiled step, not one per weight).
            noise = jax.numpy.split(stddev * jax.random.normal(key, (sum(sizes),)), ends)
            trainable_variables = [w + part.reshape(w.shape).astype(w.dtype)
                                   for w, part in zip(trainable_variables, noise, strict=True)]
        return clean(trainable_variables, *args, training=training, optimizer_variables=optimizer_variables, **kwargs)

    return compute_loss_and_updates


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
