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

import math
import numbers

import keras

__all__ = ["WeightNoise"]


class WeightNoise(keras.callbacks.Callback):
    """Adds N(0, `stddev`^2) noise to every trainable weight before each training step and takes
    the same noise off after it: the step's gradient is taken at the noisy weights, its update
    lands on the clean ones. `seed` fixes the noise."""

    def __init__(self, stddev: float, seed: int | None = None):
        super().__init__()
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not (math.isfinite(stddev) and stddev >= 0):
            raise ValueError(f"`stddev` must be a finite number >= 0, got stddev={stddev!r}.")
        self.stddev = float(stddev)
        self.seed = seed
        self._generator = None
        self._noise = []

    def on_train_begin(self, logs=None):
        self._generator = keras.random.SeedGenerator(self.seed)

    def on_train_batch_begin(self, batch, logs=None):
        if not self.stddev:
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
