"""The recurrent cells of 2024, one time step each.

- `SLSTMCell`, `MLSTMCell` (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory",
  sections 2.2 and 2.3): the LSTM with exponential gating, a normaliser state and a stabiliser
  state; the mLSTM with a matrix memory written by a covariance (key-value) update.
- `RGLRUCell` (De et al. 2024, "Griffin: Mixing Gated Linear Recurrences with Local Attention
  for Efficient Language Models"): the real-gated linear recurrent unit of Hawk and Griffin.

Exponential gates overflow float32 for pre-activations above about 88; both xLSTM cells carry
the paper's stabiliser m_t = max(log f_t + m_{t-1}, log i_t) and use i_t exp(-m_t) and
f_t exp(m_{t-1} - m_t) instead of i_t and f_t. This scales c and n (or C and n) by exp(-m_t),
which the outputs divide out: the stabilised cell computes the unstabilised equations.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from zoo.cell_base import BlockProjectedCell, HoistableCell
from zoo.checks import check_input_rank, flag, one_of, positive_int

__all__ = ["SLSTMCell", "MLSTMCell", "RGLRUCell", "FORGET_ACTIVATIONS"]

# The forget gate of both xLSTM cells: f = sigmoid(f~) or f = exp(f~) (Beck et al., eq. 12 and 22).
FORGET_ACTIVATIONS = ("sigmoid", "exp")
# The mLSTM's parallel form takes a long sequence this many steps at a time (docs/speed.md).
CHUNK_SIZE = 128


def _heads(units, heads):
    """`heads` if it is a positive number that divides `units`, else an error naming the valid counts."""
    heads = positive_int("heads", heads)
    if units % heads:
        valid = [h for h in range(1, units + 1) if units % h == 0]
        raise ValueError(f"`heads` must divide `units`: got heads={heads} for units={units}; "
                         f"valid head counts for units={units}: {', '.join(map(str, valid))}.")
    return heads


def _log_forget(pre, activation):
    """log f_t from its pre-activation: log sigmoid(f~) (computed stably) or f~ itself."""
    return ops.log_sigmoid(pre) if activation == "sigmoid" else pre


class _ExponentialGating(HoistableCell):
    """What both xLSTM cells share: heads, the forget gate's activation, the paper's gate init."""

    def __init__(self, units, heads=1, forget_activation="sigmoid", paper_gate_init=True, **kwargs):
        super().__init__(units, **kwargs)
        self.heads = _heads(self.units, heads)
        self.head_size = self.units // self.heads
        self.forget_activation = one_of("forget_activation", forget_activation, FORGET_ACTIVATIONS)
        self.paper_gate_init = flag("paper_gate_init", paper_gate_init)

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "forget_activation": self.forget_activation,
                "paper_gate_init": self.paper_gate_init}


@keras.saving.register_keras_serializable(package="zoo")
class SLSTMCell(_ExponentialGating):
    """sLSTM (Beck et al. 2024, section 2.2), gate blocks [i, f, z, o], h' = h_{t-1}::

        i~, f~, z~, o~ = W x_t + R h' + b        R block-diagonal over `heads`
        i = exp(i~); f = sigmoid(f~) or exp(f~); z = tanh(z~); o = sigmoid(o~)
        c = f * c' + i * z;  n = f * n' + i;  h = o * c / n
        stabiliser: m = max(log f + m', i~), i -> exp(i~ - m), f -> exp(log f + m' - m)

    At the first step (n' = 0: nothing written yet) m = i~, as in the authors' code. States:
    [h, c, n, m]. Weights: `kernel` (input_dim, 4 units), `recurrent_kernel` (heads, head size,
    4 head size): each head's h' feeds only its own units' gates; `bias` (4 units).

    Args:
        heads: blocks of the recurrent matrix (one by default); must divide `units`.
        forget_activation: "sigmoid" (default) or "exp".
        paper_gate_init: the forget-gate bias of the authors' code ("powerlaw_blockdependent"):
            across each head's units from 5 down to -7, b_f[j] = 5 - 12 (j / (head size - 1))^0.3,
            so that the units span short and long memories; the other blocks take
            `bias_initializer`. False: every block takes `bias_initializer`.
    """

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.state_size = [self.units] * 4  # h, c, n, m
        self.output_size = self.units

    def build(self, input_shape):
        check_input_rank(type(self).__name__, input_shape)
        u, heads, size = self.units, self.heads, self.head_size
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * u), name="kernel",
                                      initializer=self.kernel_initializer)
        recurrent = self.recurrent_initializer

        def per_head(shape, dtype=None):  # each head's block as the initializer makes a (size, 4 size) matrix
            return ops.stack([recurrent((size, 4 * size), dtype=dtype) for _ in range(heads)])

        self.recurrent_kernel = self.add_weight(shape=(heads, size, 4 * size), name="recurrent_kernel",
                                                initializer=per_head)
        if self.use_bias:
            self.bias = self.add_weight(shape=(4 * u,), name="bias", initializer=self._bias_init)

    def _bias_init(self, shape, dtype=None):
        bias = self.bias_initializer(shape, dtype=dtype)
        if not self.paper_gate_init:
            return bias
        u, size = self.units, self.head_size
        position = ops.arange(size, dtype="float32") / max(size - 1, 1)
        forget = ops.tile(5.0 - 12.0 * position ** 0.3, (self.heads,))
        return ops.concatenate([bias[:u], ops.cast(forget, bias.dtype), bias[2 * u:]])

    def _recurrent(self, h):
        """R h with R block-diagonal over heads, in the gate layout [i, f, z, o] of `units` each."""
        if self.heads == 1:
            return ops.matmul(h, self.recurrent_kernel[0])
        size = self.head_size
        per_head = ops.einsum("bhd,hde->bhe", ops.reshape(h, (-1, self.heads, size)), self.recurrent_kernel)
        per_head = ops.reshape(per_head, (-1, self.heads, 4, size))
        return ops.reshape(ops.transpose(per_head, (0, 2, 1, 3)), (-1, 4 * self.units))

    def call(self, inputs, states, training=False, projected=False):
        h, c, n, m = states[:4]
        inputs = self._projected_input(inputs, training, projected)
        pre = inputs + self._recurrent(self._recurrent_dropout(h, training))
        i_pre, f_pre, z_pre, o_pre = ops.split(pre, 4, axis=-1)
        log_f_plus_m = _log_forget(f_pre, self.forget_activation) + m
        empty = ops.equal(n, 0.0)  # nothing written yet: the state starts at this step's input
        m_new = ops.where(empty, i_pre, ops.maximum(log_f_plus_m, i_pre))
        i = ops.exp(ops.minimum(i_pre - m_new, 0.0))
        f = ops.where(empty, 0.0, ops.exp(ops.minimum(log_f_plus_m - m_new, 0.0)))  # both <= 1 by m's definition
        c = f * c + i * ops.tanh(z_pre)
        n = f * n + i
        h = ops.sigmoid(o_pre) * c / n
        return h, [h, c, n, m_new]


@keras.saving.register_keras_serializable(package="zoo")
class MLSTMCell(_ExponentialGating):
    """mLSTM (Beck et al. 2024, section 2.3), per head of size d, h' = h_{t-1}::

        q = W_q x + b_q;  k = (W_k x + b_k) / sqrt(d);  v = W_v x + b_v
        i = exp(i~), f = sigmoid(f~) or exp(f~): one scalar per head, i~, f~ = w x + b
        o = sigmoid(W_o x + b_o)
        C = f C' + i v k^T;  n = f n' + i k
        h = o * (C q) / max(|n . q|, 1)
        stabiliser: m = max(log f + m', i~); C and n are then scaled by exp(-m), so the bound
        1 becomes exp(-m)

    Gates read x_t only, so the memory is a linear recurrence and the layer can also compute
    every step at once in the paper's parallel (attention-like) form: `scan="parallel"` (what
    "auto" takes), the same outputs. A sequence longer than `chunk_size` steps goes through it a
    chunk at a time, the memory carried from chunk to chunk (the chunkwise form of Beck et al.):
    T x chunk_size work and memory per head instead of T x T, so the work per step stays flat
    with the length. States: [h, C (heads x d x d, flattened), n, m (heads)].
    Weights: `kernel` (input_dim, 4 units) over [q, k, v, o], `gate_kernel` (input_dim,
    2 heads) over [i, f]; `bias` and `gate_bias` likewise. No recurrent weights, so no
    `recurrent_dropout`.

    Args:
        heads: heads of size units / heads, each with its own memory and scalar gates.
        forget_activation: "sigmoid" (default) or "exp".
        paper_gate_init: the authors' gate initialisation: gate weights zero, input-gate bias
            N(0, 0.1^2), forget-gate bias from 3 to 6 across heads (3 with one head).
        chunk_size: steps per piece of the parallel form (128). Where the length is known only
            when the model runs (TensorFlow with a free steps axis), the whole sequence is one
            piece.
    """

    loops = ("stepwise", "sequential", "parallel")
    # The recurrent forms keep a d x d memory per step for the backward pass: on a CPU the
    # parallel form, in chunks, was the fastest measured at 100 and 1000 steps (docs/speed.md).
    cpu_loops = {"tensorflow": "parallel", "jax": "parallel", "torch": "parallel"}

    def __init__(self, units, chunk_size=CHUNK_SIZE, **kwargs):
        super().__init__(units, **kwargs)
        self._no_recurrent_dropout()
        self.chunk_size = positive_int("chunk_size", chunk_size)
        d = self.head_size
        self.state_size = [self.units, self.heads * d * d, self.units, self.heads]  # h, C, n, m
        self.output_size = self.units

    def get_config(self):
        return {**super().get_config(), "chunk_size": self.chunk_size}

    def build(self, input_shape):
        check_input_rank(type(self).__name__, input_shape)
        d_in, u, heads = input_shape[-1], self.units, self.heads
        self.kernel = self.add_weight(shape=(d_in, 4 * u), name="kernel", initializer=self.kernel_initializer)
        gate_kernel = "zeros" if self.paper_gate_init else self.kernel_initializer
        self.gate_kernel = self.add_weight(shape=(d_in, 2 * heads), name="gate_kernel", initializer=gate_kernel)
        if self.use_bias:
            self.bias = self.add_weight(shape=(4 * u,), name="bias", initializer=self.bias_initializer)
            self.gate_bias = self.add_weight(shape=(2 * heads,), name="gate_bias", initializer=self._gate_bias_init)

    def _gate_bias_init(self, shape, dtype=None):
        if not self.paper_gate_init:
            return self.bias_initializer(shape, dtype=dtype)
        heads = self.heads
        seed = None if self.seed is None else self.seed + 1
        input_bias = keras.random.normal((heads,), stddev=0.1, seed=seed, dtype=dtype)
        forget_bias = ops.cast(ops.linspace(3.0, 6.0, heads) if heads > 1 else ops.full((1,), 3.0), input_bias.dtype)
        return ops.concatenate([input_bias, forget_bias])

    def project(self, inputs):
        projected = ops.matmul(inputs, ops.concatenate([self.kernel, self.gate_kernel], axis=-1))
        if self.use_bias:
            projected = projected + ops.concatenate([self.bias, self.gate_bias])
        return projected

    def split_projection(self, projected):
        """(q, k scaled by 1/sqrt(d), v, o~, i~, log f) from x W + b; q, k, v, o~ as
        (..., heads, d), the gates as (..., heads)."""
        u, heads, d = self.units, self.heads, self.head_size
        shape = tuple(projected.shape[:-1])
        lead = tuple(-1 if s is None else s for s in shape)
        q, k, v, o_pre = (ops.reshape(projected[..., j * u:(j + 1) * u], (*lead, heads, d)) for j in range(4))
        i_pre = projected[..., 4 * u:4 * u + heads]
        log_f = _log_forget(projected[..., 4 * u + heads:], self.forget_activation)
        return q, k / math.sqrt(d), v, o_pre, i_pre, log_f

    def call(self, inputs, states, training=False, projected=False):
        _, memory, n, m = states[:4]
        inputs = self._projected_input(inputs, training, projected)
        heads, d = self.heads, self.head_size
        q, k, v, o_pre, i_pre, log_f = self.split_projection(inputs)
        m_new = ops.maximum(log_f + m, i_pre)
        f = ops.exp(log_f + m - m_new)[..., None]  # <= 1, (batch, heads, 1)
        i = ops.exp(i_pre - m_new)[..., None]
        memory = ops.reshape(memory, (-1, heads, d, d))  # [value index, key index]
        memory = f[..., None] * memory + i[..., None] * (v[..., :, None] * k[..., None, :])
        n = f * ops.reshape(n, (-1, heads, d)) + i * k
        numerator = ops.sum(memory * q[..., None, :], axis=-1)  # C q
        denominator = ops.maximum(ops.abs(ops.sum(n * q, axis=-1)), ops.exp(-m_new))
        h = ops.reshape(ops.sigmoid(o_pre) * numerator / denominator[..., None], (-1, self.units))
        return h, [h, ops.reshape(memory, (-1, heads * d * d)), ops.reshape(n, (-1, self.units)), m_new]

    def parallel(self, projected, states, mask=None):
        """Every step at once (the paper's parallel form), from the projected inputs
        (batch, steps, ...) and the states before the first step. A masked step (mask False)
        writes nothing and keeps the memory. Returns the output of every step (batch, steps,
        units), unmasked, and the final [C, n, m] (the caller keeps h).

        A sequence longer than `chunk_size` steps is taken `chunk_size` steps at a time, each
        chunk in the parallel form from the memory the one before left (Beck et al.'s chunkwise
        form): the same numbers, with work and memory growing with steps x chunk_size instead
        of steps^2."""
        steps, size = projected.shape[1], self.chunk_size
        if steps is None or steps <= size:  # a length known only when run (TensorFlow's graphs): one piece
            return self._parallel_chunk(projected, states, mask)
        outputs, states = [], list(states)
        for start in range(0, steps, size):
            chunk_mask = None if mask is None else mask[:, start:start + size]
            h, memory = self._parallel_chunk(projected[:, start:start + size], states, chunk_mask)
            outputs.append(h)
            states = [states[0], *memory]
        return ops.concatenate(outputs, axis=1), memory

    def _parallel_chunk(self, projected, states, mask=None):
        heads, d = self.heads, self.head_size
        q, k, v, o_pre, i_pre, log_f = self.split_projection(projected)
        q, k, v = (ops.transpose(a, (0, 2, 1, 3)) for a in (q, k, v))  # (batch, heads, steps, d)
        i_pre, log_f = ops.transpose(i_pre, (0, 2, 1)), ops.transpose(log_f, (0, 2, 1))  # (batch, heads, steps)
        never = -1e30  # the log-weight of what is never read (finite: no inf - inf)
        if mask is not None:
            keep = ops.expand_dims(mask, 1)
            log_f = ops.where(keep, log_f, 0.0)
            i_pre = ops.where(keep, i_pre, never)
        steps = projected.shape[1]
        cumulative = ops.cumsum(log_f, axis=-1)  # F_t = sum of log f up to t
        # log D[t, s] = F_t - F_s + i~_s: what step s's write weighs at step t (s <= t).
        log_d = cumulative[..., :, None] - cumulative[..., None, :] + i_pre[..., None, :]
        position = ops.arange(steps)
        causal = ops.expand_dims(position, 1) >= ops.expand_dims(position, 0)  # s <= t
        log_d = ops.where(causal, log_d, never)
        memory0 = ops.reshape(states[1], (-1, heads, d, d))
        n0 = ops.reshape(states[2], (-1, heads, d))
        log_initial = states[3][..., None] + cumulative  # the initial memory's weight at step t
        m = ops.maximum(ops.max(log_d, axis=-1), log_initial)
        weights = ops.exp(log_d - m[..., None])
        initial = ops.exp(log_initial - m)
        scores = ops.einsum("bhtd,bhsd->bhts", q, k) * weights
        numerator = ops.einsum("bhts,bhsd->bhtd", scores, v) + initial[..., None] * ops.einsum(
            "bhvk,bhtk->bhtv", memory0, q)
        dot = ops.sum(scores, axis=-1) + initial * ops.einsum("bhk,bhtk->bht", n0, q)
        h_tilde = numerator / ops.maximum(ops.abs(dot), ops.exp(-m))[..., None]
        h_tilde = ops.reshape(ops.transpose(h_tilde, (0, 2, 1, 3)), (-1, steps, self.units))
        h = ops.sigmoid(ops.reshape(o_pre, (-1, steps, self.units))) * h_tilde
        last, last_initial = weights[:, :, -1], initial[:, :, -1]
        memory = ops.einsum("bhs,bhsv,bhsk->bhvk", last, v, k) + last_initial[..., None, None] * memory0
        n = ops.einsum("bhs,bhsk->bhk", last, k) + last_initial[..., None] * n0
        return h, [ops.reshape(memory, (-1, heads * d * d)), ops.reshape(n, (-1, self.units)), m[:, :, -1]]


@keras.saving.register_keras_serializable(package="zoo")
class RGLRUCell(BlockProjectedCell):
    """Real-gated linear recurrent unit (De et al. 2024, section 2.4), blocks [r, i, x] of the
    input projection, in log space as the paper computes it::

        r_t = sigma(W_a x_t + b_a)                   recurrence gate
        i_t = sigma(W_x x_t + b_x)                   input gate
        u_t = W_u x_t + b_u                          the recurrence's input (a linear projection)
        log a_t = -c r_t softplus(-Lambda)           a_t = a^(c r_t), a = sigma(Lambda), c = 8
        h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (i_t * u_t)

    The recurrence is linear and element-wise, so it has the sequential and parallel scans of
    the other linear cells. In Griffin the gates read the recurrence's input through
    block-diagonal matrices; here, as for the other projected cells, every block reads x_t. As
    in the authors' code the derivative of the square root is bounded (1 - a_t^2 is floored at
    1 / (4 * 1000^2), where a_t > 0.9999998).

    Args:
        gate_exponent: c (8 in the paper).
        a_min, a_max: a = sigma(Lambda) starts with a^2 uniform in [a_min^2, a_max^2] (the
            paper's 0.9 and 0.999).
    """

    linear = True

    def __init__(self, units, gate_exponent=8.0, a_min=0.9, a_max=0.999, **kwargs):
        super().__init__(units, **kwargs)
        self._no_recurrent_dropout()
        if not (isinstance(gate_exponent, (int, float)) and gate_exponent > 0):
            raise ValueError(f"`gate_exponent` must be a positive number, got gate_exponent={gate_exponent!r}.")
        if not (isinstance(a_min, (int, float)) and isinstance(a_max, (int, float)) and 0.0 < a_min < a_max < 1.0):
            raise ValueError(f"RG-LRU needs 0 < a_min < a_max < 1, got a_min={a_min!r}, a_max={a_max!r}.")
        self.gate_exponent, self.a_min, self.a_max = float(gate_exponent), float(a_min), float(a_max)
        self.state_size = self.output_size = self.units

    def build(self, input_shape):
        self._build_projection(input_shape, 3)

        def ring(shape, dtype=None):  # Lambda = logit(a), a^2 uniform on [a_min^2, a_max^2]
            u = keras.random.uniform(shape, seed=self.seed, dtype=dtype)
            a = ops.sqrt(u * (self.a_max ** 2 - self.a_min ** 2) + self.a_min ** 2)
            return ops.log(a) - ops.log1p(-a)

        self.recurrence_param = self.add_weight(shape=(self.units,), name="recurrence_param", initializer=ring)

    def coefficients(self, projected):
        r_pre, i_pre, u = ops.split(projected, 3, axis=-1)
        log_a = -self.gate_exponent * ops.sigmoid(r_pre) * ops.softplus(-self.recurrence_param)
        multiplier = ops.sqrt(ops.maximum(-ops.expm1(2.0 * log_a), 1.0 / (4 * 1000.0 ** 2)))
        return ops.exp(log_a), multiplier * ops.sigmoid(i_pre) * u

    def recur(self, projected, h, training=False):
        a, b = self.coefficients(projected)
        h = a * h + b
        return h, h

    def get_config(self):
        return {**super().get_config(), "gate_exponent": self.gate_exponent, "a_min": self.a_min,
                "a_max": self.a_max}
