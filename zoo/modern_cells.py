"""The recurrent cells that came after the LSTM and GRU, one time step each.

- `MinGRUCell`, `MinLSTMCell` (Feng et al. 2024, "Were RNNs All We Needed?"): gates from x_t
  only, so the recurrence is linear and element-wise, h_t = a_t * h_{t-1} + b_t.
- `IndRNNCell` (Li et al. 2018): h_t = act(W x_t + u * h_{t-1} + b), an element-wise recurrent
  weight u, optionally kept within |u| <= `recurrent_max_abs` (the paper's 2^(1/T)).
- `MUTCell` (Jozefowicz et al. 2015): MUT1, MUT2 and MUT3, the three architectures their
  search found.
- `LRUCell` (Orvieto et al. 2023): a linear recurrence with a complex diagonal, stored as real
  and imaginary parts so that every backend runs it.

`MinGRUCell`, `MinLSTMCell`, `IndRNNCell` and `LRUCell` are `ProjectedCell`s: `ProjectedRNN`
computes every step's input projection in one matmul before the loop and runs only the
element-wise recurrence over time (as a parallel scan on a GPU for the linear ones).
"""

from __future__ import annotations

import math

import keras
from keras import activations, constraints, initializers, ops

from zoo.cell_base import BlockProjectedCell, ProjectedCell, ZooCell, complex_update
from zoo.checks import check_input_rank, flag, positive_int

__all__ = ["MinGRUCell", "MinLSTMCell", "IndRNNCell", "MUTCell", "LRUCell", "ClipValue", "positive_g", "log_positive_g"]


def positive_g(x):
    """Feng et al.'s g: x + 1/2 for x >= 0, sigmoid(x) below; positive, continuous, increasing."""
    return ops.where(x >= 0, ops.relu(x) + 0.5, ops.sigmoid(x))


def log_positive_g(x):
    """log g(x), computed without forming g: log(x + 1/2) for x >= 0, -softplus(-x) below."""
    return ops.where(x >= 0, ops.log(ops.relu(x) + 0.5), -ops.softplus(-x))


class _MinimalCell(BlockProjectedCell):
    """What minGRU and minLSTM share: gates and candidate from x_t only, and the paper's
    log-space form (`log_space=True`: the candidate through g, so that every h_t is positive
    given a positive h_0, and the parallel scan in log space: `log_coefficients`)."""

    linear = True

    def __init__(self, units, log_space=False, **kwargs):
        super().__init__(units, **kwargs)
        self._no_recurrent_dropout()
        self.log_space = flag("log_space", log_space)
        self.state_size = self.output_size = self.units

    def _candidate(self, pre):
        return positive_g(pre) if self.log_space else pre

    def recur(self, projected, h, training=False):
        a, b = self.coefficients(projected)
        h = a * h + b
        return h, h

    def log_coefficients(self, projected):
        """(log a_t, log b_t) of h_t = a_t h_{t-1} + b_t (`log_space=True` only), every step at once."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "log_space": self.log_space}


@keras.saving.register_keras_serializable(package="zoo")
class MinGRUCell(_MinimalCell):
    """minGRU (Feng et al. 2024), blocks [z, h]::

        z_t = sigma(W_z x_t + b_z)             update gate, from the input only
        h~_t = W_h x_t + b_h                   candidate, linear (g(W_h x_t + b_h) with log_space)
        h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

    `log_space=True` is the form the paper trains with: h~_t = g(...) (see `positive_g`), and the
    parallel scan computes log h_t from log(1 - z_t) = -softplus(k_t), log z_t = -softplus(-k_t)
    and log h~_t, with a cumulative log-sum-exp.

    No recurrent weights, so no `recurrent_dropout`; `dropout` drops x_t (one mask per sequence).
    """

    def build(self, input_shape):
        self._build_projection(input_shape, 2)

    def coefficients(self, projected):
        z_pre, candidate = ops.split(projected, 2, axis=-1)
        z = ops.sigmoid(z_pre)
        return 1.0 - z, z * self._candidate(candidate)

    def log_coefficients(self, projected):
        z_pre, candidate = ops.split(projected, 2, axis=-1)
        return -ops.softplus(z_pre), -ops.softplus(-z_pre) + log_positive_g(candidate)


@keras.saving.register_keras_serializable(package="zoo")
class MinLSTMCell(_MinimalCell):
    """minLSTM (Feng et al. 2024), blocks [f, i, h]::

        f_t = sigma(W_f x_t + b_f); i_t = sigma(W_i x_t + b_i)      gates, from the input only
        h~_t = W_h x_t + b_h                                         candidate, linear (g(...) with log_space)
        f'_t = f_t / (f_t + i_t); i'_t = i_t / (f_t + i_t)           normalised: scale-free in time
        h_t = f'_t * h_{t-1} + i'_t * h~_t

    `log_space=True`: h~_t = g(...), and the parallel scan in log space with
    log f'_t = -softplus(d_t), log i'_t = -softplus(-d_t), d_t = softplus(-f_pre) - softplus(-i_pre).

    No recurrent weights, so no `recurrent_dropout`; `dropout` drops x_t (one mask per sequence).
    """

    def build(self, input_shape):
        self._build_projection(input_shape, 3)

    def coefficients(self, projected):
        f_pre, i_pre, candidate = ops.split(projected, 3, axis=-1)
        f, i = ops.sigmoid(f_pre), ops.sigmoid(i_pre)
        forget = f / (f + i)
        return forget, (1.0 - forget) * self._candidate(candidate)  # i / (f + i) = 1 - f / (f + i)

    def log_coefficients(self, projected):
        f_pre, i_pre, candidate = ops.split(projected, 3, axis=-1)
        d = ops.softplus(-f_pre) - ops.softplus(-i_pre)
        return -ops.softplus(d), -ops.softplus(-d) + log_positive_g(candidate)


@keras.saving.register_keras_serializable(package="zoo")
class ClipValue(constraints.Constraint):
    """Keeps every value within [-max_abs, max_abs] (IndRNN's bound on its recurrent weights)."""

    def __init__(self, max_abs):
        self.max_abs = float(max_abs)

    def __call__(self, w):
        return ops.clip(w, -self.max_abs, self.max_abs)

    def get_config(self):
        return {"max_abs": self.max_abs}


@keras.saving.register_keras_serializable(package="zoo")
class IndRNNCell(BlockProjectedCell):
    """Independently recurrent neural network (Li et al. 2018)::

        h_t = act(W x_t + u * h_{t-1} + b)     u: one recurrent weight per unit (element-wise)

    Args:
        activation: act, "relu" as in the paper.
        recurrent_max_abs: keep |u| <= this (initial values and after every update); Li et al.
            use 2 ** (1 / T) for sequences of length T, so that no unit's memory explodes.
        recurrent_initializer: initializer of u; uniform in [0, 1] by default, as in the paper.
        recurrent_dropout: drops h_{t-1} where it meets u (one mask per sequence).
    """

    def __init__(self, units, activation="relu", recurrent_max_abs=None,
                 recurrent_initializer={"class_name": "RandomUniform", "config": {"minval": 0.0, "maxval": 1.0}},  # noqa: B006
                 **kwargs):
        super().__init__(units, recurrent_initializer=recurrent_initializer, **kwargs)
        if recurrent_max_abs is not None and not (isinstance(recurrent_max_abs, (int, float)) and recurrent_max_abs > 0):
            raise ValueError(f"`recurrent_max_abs` must be a positive number or None, got "
                             f"recurrent_max_abs={recurrent_max_abs!r}.")
        self.activation = activations.get(activation)
        self.recurrent_max_abs = None if recurrent_max_abs is None else float(recurrent_max_abs)
        self.state_size = self.output_size = self.units

    def build(self, input_shape):
        self._build_projection(input_shape, 1)
        initializer, constraint = self.recurrent_initializer, None
        if self.recurrent_max_abs is not None:
            constraint = ClipValue(self.recurrent_max_abs)
            initializer = _clipped(self.recurrent_initializer, self.recurrent_max_abs)
        self.recurrent_kernel = self.add_weight(shape=(self.units,), name="recurrent_kernel",
                                                initializer=initializer, constraint=constraint)

    def recur(self, projected, h, training=False):
        h = self.step_function(h, training)(projected, h)
        return h, h

    def step_function(self, h0, training=False):
        u = ops.convert_to_tensor(self.recurrent_kernel)  # read once, not at every step
        if training and self.recurrent_dropout > 0:
            u = u * self.get_recurrent_dropout_mask(h0)  # u * (m * h') with the sequence's mask m folded into u
        activation = self.activation
        return lambda projected, h: activation(projected + u * h)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation),
                "recurrent_max_abs": self.recurrent_max_abs}


def _clipped(initializer, max_abs):
    def init(shape, dtype=None):
        return ops.clip(initializer(shape, dtype=dtype), -max_abs, max_abs)
    return init


MUT_ARCHITECTURES = ("mut1", "mut2", "mut3")


@keras.saving.register_keras_serializable(package="zoo")
class MUTCell(ZooCell):
    """The three architectures of Jozefowicz et al. 2015 ("An Empirical Exploration of Recurrent
    Network Architectures"), h' = h_{t-1}::

        MUT1: z = sigma(W_xz x + b_z)
              r = sigma(W_xr x + W_hr h' + b_r)
              h = tanh(W_hh (r * h') + tanh(x) + b_h) * z + h' * (1 - z)
        MUT2: z = sigma(W_xz x + W_hz h' + b_z)
              r = sigma(x + W_hr h' + b_r)
              h = tanh(W_hh (r * h') + W_xh x + b_h) * z + h' * (1 - z)
        MUT3: z = sigma(W_xz x + W_hz tanh(h') + b_z)
              r = sigma(W_xr x + W_hr h' + b_r)
              h = tanh(W_hh (r * h') + W_xh x + b_h) * z + h' * (1 - z)

    The bare x of MUT1 (tanh(x)) and MUT2 (in r) needs as many input features as units; with
    another input size it goes through a learned projection P x (one more kernel block), which
    the paper's equal-size setting does not need. Weights: `kernel` (input_dim, n*units) over the
    input blocks, `recurrent_kernel` (units, m*units) over [z (MUT2, MUT3), r, h], `bias` (3*units)
    over [z, r, h].
    """

    def __init__(self, units, architecture="mut1", **kwargs):
        super().__init__(units, **kwargs)
        if architecture not in MUT_ARCHITECTURES:
            raise ValueError(f"`architecture` must be one of {', '.join(MUT_ARCHITECTURES)}, "
                             f"got architecture={architecture!r}.")
        self.architecture = architecture
        self.state_size = self.output_size = self.units

    def build(self, input_shape):
        check_input_rank(type(self).__name__, input_shape)
        self.identity_input = input_shape[-1] == self.units  # the paper's bare x needs no projection
        self.input_blocks = {"mut1": ("z", "r"), "mut2": ("z", "h"), "mut3": ("z", "r", "h")}[self.architecture]
        if self.architecture in ("mut1", "mut2") and not self.identity_input:
            self.input_blocks += ("x",)
        self.recurrent_blocks = ("r", "h") if self.architecture == "mut1" else ("z", "r", "h")
        self.kernel = self.add_weight(shape=(input_shape[-1], len(self.input_blocks) * self.units), name="kernel",
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, len(self.recurrent_blocks) * self.units),
                                                name="recurrent_kernel", initializer=self.recurrent_initializer)
        self.bias = (self.add_weight(shape=(3 * self.units,), name="bias", initializer=self.bias_initializer)
                     if self.use_bias else None)

    def call(self, inputs, states, training=False):
        h_prev = states[0]
        inputs, h_seen = self._apply_dropout(inputs, h_prev, training)
        x = dict(zip(self.input_blocks, ops.split(ops.matmul(inputs, self.kernel), len(self.input_blocks), axis=-1)))
        bare_x = inputs if self.identity_input else x.get("x")
        u = self.units
        blocks = dict(zip(self.recurrent_blocks, (self.recurrent_kernel[:, i * u:(i + 1) * u]
                                                  for i in range(len(self.recurrent_blocks)))))
        b_z, b_r, b_h = ops.split(self.bias, 3) if self.use_bias else (0.0, 0.0, 0.0)
        if self.architecture == "mut1":
            z = ops.sigmoid(x["z"] + b_z)
            r = ops.sigmoid(x["r"] + ops.matmul(h_seen, blocks["r"]) + b_r)
            candidate = ops.tanh(ops.matmul(r * h_seen, blocks["h"]) + ops.tanh(bare_x) + b_h)
        elif self.architecture == "mut2":
            zr = ops.matmul(h_seen, self.recurrent_kernel[:, :2 * u])  # [z, r] of h' in one matmul
            z = ops.sigmoid(x["z"] + zr[:, :u] + b_z)
            r = ops.sigmoid(bare_x + zr[:, u:] + b_r)
            candidate = ops.tanh(ops.matmul(r * h_seen, blocks["h"]) + x["h"] + b_h)
        else:
            z = ops.sigmoid(x["z"] + ops.matmul(ops.tanh(h_seen), blocks["z"]) + b_z)
            r = ops.sigmoid(x["r"] + ops.matmul(h_seen, blocks["r"]) + b_r)
            candidate = ops.tanh(ops.matmul(r * h_seen, blocks["h"]) + x["h"] + b_h)
        h = candidate * z + h_prev * (1.0 - z)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "architecture": self.architecture}


@keras.saving.register_keras_serializable(package="zoo")
class LRUCell(ProjectedCell):
    """Linear recurrent unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
    Long Sequences"), with x the complex state of size N and u_t the input::

        lambda = exp(-exp(nu) + i exp(theta))       stable: |lambda| = exp(-exp(nu)) < 1
        gamma = exp(gamma_log)                      normalisation, initially sqrt(1 - |lambda|^2)
        x_t = lambda * x_{t-1} + gamma * (B u_t)    B complex (input_dim, N)
        y_t = Re(C x_t) + D u_t                     C complex (N, units), D real (input_dim, units)

    Complex numbers are stored as real and imaginary parts, so every backend runs it: the states
    are [y, x] with x as [Re x | Im x] (the last output comes first, as Keras' loops expect);
    `input_kernel` is [B_re | B_im | D], one matmul for every step's input. D is the paper's skip
    connection as a full matrix (its diagonal D when input_dim == units is the special case).

    Args:
        state_size: N, the size of the complex state (default: units).
        r_min, r_max: |lambda| starts uniform on the ring r_min <= |lambda| <= r_max (the paper
            uses r_min = 0.9, r_max = 0.999 for its longest tasks).
        max_phase: the phase of lambda starts uniform in [0, max_phase].
    """

    linear = True
    is_complex = True
    readout_uses_input = True
    output_is_state = False  # states: [y, x]

    def __init__(self, units, state_size=None, r_min=0.0, r_max=1.0, max_phase=2 * math.pi, **kwargs):
        super().__init__(units, **kwargs)
        self._no_recurrent_dropout()
        if not 0.0 <= r_min < r_max <= 1.0:
            raise ValueError(f"LRU needs 0 <= r_min < r_max <= 1, got r_min={r_min!r}, r_max={r_max!r}.")
        self.n = self.units if state_size is None else positive_int("state_size", state_size)
        self.r_min, self.r_max, self.max_phase = float(r_min), float(r_max), float(max_phase)
        self.state_size = [self.units, 2 * self.n]  # the last output y, and x as [Re x, Im x]
        self.output_size = self.units
        self.lru_state_size = state_size

    def build(self, input_shape):
        check_input_rank(type(self).__name__, input_shape)
        d, n = input_shape[-1], self.n
        seed = (lambda k: None) if self.seed is None else (lambda k: self.seed + k)  # one stream per weight

        def ring(shape, dtype=None):  # nu_log: |lambda| uniform on the ring r_min..r_max
            u = keras.random.uniform(shape, seed=seed(1))
            return ops.log(-0.5 * ops.log(u * (self.r_max ** 2 - self.r_min ** 2) + self.r_min ** 2))

        def phase(shape, dtype=None):
            return ops.log(self.max_phase * keras.random.uniform(shape, minval=1e-6, seed=seed(2)))

        def normalisation(shape, dtype=None):  # gamma = sqrt(1 - |lambda|^2) of the initial lambda
            return 0.5 * ops.log(1.0 - ops.exp(-2.0 * ops.exp(ops.convert_to_tensor(self.nu_log))))

        normal = initializers.RandomNormal
        self.nu_log = self.add_weight(shape=(n,), name="nu_log", initializer=ring)
        self.theta_log = self.add_weight(shape=(n,), name="theta_log", initializer=phase)
        self.gamma_log = self.add_weight(shape=(n,), name="gamma_log", initializer=normalisation)
        # The input projection of every step is one matmul with [B_re | B_im | D].
        self.input_kernel = self.add_weight(shape=(d, 2 * n + self.units), name="input_kernel",
                                            initializer=_lru_input_initializer(d, n, self.units, seed(3)))
        self.C_re = self.add_weight(shape=(n, self.units), name="C_re_kernel",
                                    initializer=normal(stddev=1.0 / math.sqrt(n), seed=seed(4)))
        self.C_im = self.add_weight(shape=(n, self.units), name="C_im_kernel",
                                    initializer=normal(stddev=1.0 / math.sqrt(n), seed=seed(5)))

    def _lambda(self):
        modulus = ops.exp(-ops.exp(self.nu_log))
        angle = ops.exp(self.theta_log)
        return modulus * ops.cos(angle), modulus * ops.sin(angle)

    def project(self, inputs):
        return ops.matmul(inputs, self.input_kernel)

    def coefficients(self, projected):
        n = self.n
        gamma = ops.exp(self.gamma_log)
        b = (gamma * projected[..., :n], gamma * projected[..., n:2 * n])
        return self._lambda(), b  # lambda: the same at every step (shape (N,))

    def recur(self, projected, x, training=False):
        (a_re, a_im), (b_re, b_im) = self.coefficients(projected)
        new = complex_update(x, a_re, a_im, b_re, b_im)
        return self.readout(new, projected), new

    def readout(self, states, projected):
        n = self.n
        return (ops.matmul(states[..., :n], self.C_re) - ops.matmul(states[..., n:], self.C_im)
                + projected[..., 2 * n:])

    def get_config(self):
        return {**super().get_config(), "state_size": self.lru_state_size, "r_min": self.r_min, "r_max": self.r_max,
                "max_phase": self.max_phase}


def _lru_input_initializer(d, n, units, seed):
    """[B_re | B_im | D]: B ~ N(0, 1 / (2 d)) per part (Orvieto et al.), D ~ N(0, 1 / d)."""
    def init(shape, dtype=None):
        b = keras.random.normal((d, 2 * n), stddev=1.0 / math.sqrt(2 * d), seed=seed, dtype=dtype)
        skip = keras.random.normal((d, units), stddev=1.0 / math.sqrt(d), seed=None if seed is None else seed + 10,
                                   dtype=dtype)
        return ops.concatenate([b, skip], axis=-1)
    return init

