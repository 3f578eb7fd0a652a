"""Recurrent cells: one time step each; `keras.layers.RNN` runs the loop.

Three cells cover every variant of the zoo:

- `ElmanCell`: h_t = tanh(x_t W + h_{t-1} U + b).
- `GatedCell`: the LSTM family of Greff et al. 2015 ("LSTM: A Search Space Odyssey"). Every
  switch of the paper is an argument: peepholes, each gate on or off, the input-forget coupling,
  the input and output activations, full gate recurrence. `lstm`, `peephole`, `cifg` and the
  ablations NIG, NFG, NOG, NIAF, NOAF and FGR are presets of it.
- `GRUCell`: Cho et al. 2014 with the reset gate after (`reset_after=True`, cuDNN) or before the
  recurrent matmul (the original).

Weights use Keras' layout (`kernel` of shape (input_dim, blocks * units), gate blocks in Keras'
order [i, f, c, o] for the LSTM family and [z, r, h] for the GRU), so a built-in layer's weights
load straight into the matching zoo cell. A gate that a variant drops has no block; peepholes
are extra diagonal weights after the bias.

Every cell takes `dropout` and `recurrent_dropout` (variational: one mask per sequence, drawn
by Keras' RNN layer before the loop, as for Keras' own cells) and `seed`.

Speed: each step is one matmul of the input and one of the state, and the gates are taken with
`ops.split` (slicing the gate block costs 1.2-1.5x on TensorFlow); this is how Keras' own
`LSTMCell` is written and runs as fast as the built-in layer's generic path. The three cells are
`HoistableCell`s: `zoo.scan.ZooRNN` runs them with the input projection of every step hoisted out
of the time loop on a GPU (`scan`), and makes what is the same at every step once per sequence.
"""

from __future__ import annotations

import keras
from keras import activations, initializers, ops

from zoo.cell_base import HoistableCell, ZooCell

__all__ = ["ZooCell", "HoistableCell", "ElmanCell", "GatedCell", "GRUCell"]


@keras.saving.register_keras_serializable(package="zoo")
class ElmanCell(HoistableCell):
    """Elman (vanilla) RNN cell: h_t = act(x_t W + h_{t-1} U + b), act = tanh by default.

    Weights `[kernel, recurrent_kernel, bias]` in the layout of `keras.layers.SimpleRNNCell`.
    `dropout`, `recurrent_dropout` and `seed`: variational dropout of x_t and of h_{t-1} in the
    recurrent matmul, one mask per sequence, while training (as `keras.layers.SimpleRNNCell`).
    """

    # On torch the loop's sequential form also takes the recurrent kernel's gradient in one matmul
    # after the backward pass (`zoo.scan.recurrent_kernel_gradient_once`): faster there on a CPU too.
    cpu_loops = {"torch": "sequential"}

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = activations.get(activation)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape, 1)
        self.bias = (
            self.add_weight(shape=(self.units,), name="bias", initializer=self.bias_initializer)
            if self.use_bias
            else None
        )

    def call(self, inputs, states, training=False, projected=False, recurrent=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        z = self._preactivation(inputs, h_prev, training, projected, recurrent)
        h = self.activation(z)
        new_state = [h] if isinstance(states, (list, tuple)) else h
        return h, new_state

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="zoo")
class GatedCell(HoistableCell):
    """The LSTM family as one configurable cell (Greff et al. 2015, eq. 1-6).

    With c the cell state, y (= h) the output, sigma the logistic function::

        z_t = g(W_z x_t + R_z y_{t-1} + b_z)                         block input
        i_t = sigma(W_i x_t + R_i y_{t-1} + p_i * c_{t-1} + b_i)      input gate
        f_t = sigma(W_f x_t + R_f y_{t-1} + p_f * c_{t-1} + b_f)      forget gate
        c_t = i_t * z_t + f_t * c_{t-1}
        o_t = sigma(W_o x_t + R_o y_{t-1} + p_o * c_t + b_o)          output gate
        y_t = o_t * h(c_t)

    Args:
        units: size of the cell state and output.
        peepholes: add the diagonal peephole terms p_* (Gers & Schmidhuber 2000; the input and
            forget gates see c_{t-1}, the output gate sees c_t, as TF1's
            `LSTMCell(use_peepholes=True)`).
        input_gate, forget_gate, output_gate: `False` fixes that gate to 1 (NIG, NFG, NOG).
        coupled: couple the input gate to the forget gate, i_t = 1 - f_t (CIFG). Needs both
            gates on; the input gate then has no weights of its own.
        input_activation: g, `"tanh"` or `"linear"` (NIAF).
        output_activation: h, `"tanh"` or `"linear"` (NOAF).
        full_gate_recurrence: every gate also sees the previous activations of all gates
            through an extra recurrent matrix (FGR); the gate activations become extra state.
        unit_forget_bias: start the forget-gate bias at 1 (Jozefowicz et al. 2015).
        peephole_initializer: initializer of the peephole vectors.
        scan: "auto", "stepwise" or "sequential": where the input projection is computed (see
            `ScannedCell`); the numbers are the same.
        **kwargs: `use_bias`, the initializers, `dropout`, `recurrent_dropout` and `seed`, as
            for every zoo cell (`ZooCell`); `recurrent_dropout` drops y_{t-1} where it enters
            R y_{t-1}, as Keras' LSTMCell.

    Weights: `kernel` (input_dim, n*units), `recurrent_kernel` (units, n*units), `bias`
    (n*units,) with the n blocks of the gates present in Keras' order [i, f, c, o]; then one
    vector per peephole (`peephole_i`, `peephole_f`, `peephole_o`); then, for FGR,
    `gate_recurrent_kernel` (g*units, g*units) over the g sigmoid gates.
    """

    _GATE_ORDER = ("i", "f", "c", "o")
    cpu_loops = ElmanCell.cpu_loops  # the sequential form on torch (see ElmanCell)

    def __init__(
        self,
        units,
        peepholes=False,
        input_gate=True,
        forget_gate=True,
        output_gate=True,
        coupled=False,
        input_activation="tanh",
        output_activation="tanh",
        full_gate_recurrence=False,
        unit_forget_bias=True,
        peephole_initializer="zeros",
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        if coupled and not (input_gate and forget_gate):
            raise ValueError(
                "`coupled=True` sets i_t = 1 - f_t and needs both gates, got "
                f"input_gate={input_gate!r}, forget_gate={forget_gate!r}."
            )
        for arg, value in (("input_activation", input_activation), ("output_activation", output_activation)):
            if value not in ("tanh", "linear"):
                raise ValueError(f"`{arg}` must be one of 'tanh', 'linear', got {arg}={value!r}.")
        self.peepholes = bool(peepholes)
        self.input_gate = bool(input_gate)
        self.forget_gate = bool(forget_gate)
        self.output_gate = bool(output_gate)
        self.coupled = bool(coupled)
        self.input_activation = input_activation
        self.output_activation = output_activation
        self.full_gate_recurrence = bool(full_gate_recurrence)
        self.unit_forget_bias = unit_forget_bias
        self.peephole_initializer = initializers.get(peephole_initializer)

        # The blocks that carry weights, in Keras' order; a coupled input gate has none.
        present = {
            "i": self.input_gate and not self.coupled,
            "f": self.forget_gate,
            "c": True,
            "o": self.output_gate,
        }
        self.blocks = tuple(g for g in self._GATE_ORDER if present[g])
        # Sigmoid gates whose activations feed back under full gate recurrence.
        self.sigmoid_gates = tuple(g for g in self.blocks if g != "c")
        self.peephole_gates = tuple(g for g in self.sigmoid_gates) if self.peepholes else ()
        self._g = activations.get(input_activation)
        self._h = activations.get(output_activation)
        self.state_size = [self.units, self.units]
        if self.full_gate_recurrence:
            self.state_size.append(len(self.sigmoid_gates) * self.units)
        self.output_size = self.units

    def build(self, input_shape):
        n = len(self.blocks)
        units = self.units
        self._add_kernels(input_shape, n)
        if self.use_bias:
            forget_at = self.blocks.index("f") if "f" in self.blocks else None

            def bias_initializer(shape, dtype=None):
                parts = [self.bias_initializer((units,), dtype=dtype) for _ in self.blocks]
                if self.unit_forget_bias and forget_at is not None:
                    parts[forget_at] = ops.ones((units,), dtype=dtype)
                return ops.concatenate(parts)

            self.bias = self.add_weight(shape=(n * units,), name="bias", initializer=bias_initializer)
        else:
            self.bias = None
        self.peephole = {
            g: self.add_weight(shape=(units,), name=f"peephole_{g}", initializer=self.peephole_initializer)
            for g in self.peephole_gates
        }
        if self.full_gate_recurrence:
            size = len(self.sigmoid_gates) * units
            self.gate_recurrent_kernel = self.add_weight(
                shape=(size, size), name="gate_recurrent_kernel", initializer=self.recurrent_initializer
            )

    def sequence_constants(self, states):
        """The peephole vectors broadcast to the batch, once per sequence: a (units,) weight that
        meets a (batch, units) state inside TensorFlow's time loop costs a reduction over the
        batch at every step of the backward pass (1.42x the LSTM's time at 1000 steps, 1.11x
        without; XLA on JAX fuses either form)."""
        if not self.peephole:
            return None
        zeros = ops.zeros_like(states[1])
        return {g: zeros + p for g, p in self.peephole.items()}

    def call(self, inputs, states, training=False, constants=None, projected=False, recurrent=None):
        h_prev, c_prev = states[0], states[1]
        z = self._preactivation(inputs, h_prev, training, projected, recurrent)
        peephole = self.peephole if constants is None else constants
        pre = dict(zip(self.blocks, ops.split(z, len(self.blocks), axis=-1)))
        if self.full_gate_recurrence:
            feedback = ops.matmul(states[2], self.gate_recurrent_kernel)
            for g, part in zip(self.sigmoid_gates, ops.split(feedback, len(self.sigmoid_gates), axis=-1)):
                pre[g] = pre[g] + part

        def gate(name, cell_state):
            if name in peephole:
                return ops.sigmoid(pre[name] + peephole[name] * cell_state)
            return ops.sigmoid(pre[name])

        f = gate("f", c_prev) if self.forget_gate else None
        if self.coupled:
            i = 1.0 - f
        else:
            i = gate("i", c_prev) if self.input_gate else None
        block_input = self._g(pre["c"])
        c = block_input if i is None else i * block_input
        c = c + (c_prev if f is None else f * c_prev)
        o = gate("o", c) if self.output_gate else None
        h = self._h(c) if o is None else o * self._h(c)

        new_states = [h, c]
        if self.full_gate_recurrence:
            values = {"i": i, "f": f, "o": o}
            new_states.append(ops.concatenate([values[g] for g in self.sigmoid_gates], axis=-1))
        return h, new_states

    def get_config(self):
        return {
            **super().get_config(),
            "peepholes": self.peepholes,
            "input_gate": self.input_gate,
            "forget_gate": self.forget_gate,
            "output_gate": self.output_gate,
            "coupled": self.coupled,
            "input_activation": self.input_activation,
            "output_activation": self.output_activation,
            "full_gate_recurrence": self.full_gate_recurrence,
            "unit_forget_bias": self.unit_forget_bias,
            "peephole_initializer": initializers.serialize(self.peephole_initializer),
        }


@keras.saving.register_keras_serializable(package="zoo")
class GRUCell(HoistableCell):
    """Gated recurrent unit (Cho et al. 2014) in Keras' weight layout, blocks [z, r, h]::

        z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)                     update gate
        r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)                     reset gate
        reset_after=True  (cuDNN, PyTorch):  n_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + b'_h))
        reset_after=False (original):        n_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
        h_t = z_t * h_{t-1} + (1 - z_t) * n_t

    With `reset_after=True` the bias has shape (2, 3*units): input bias and recurrent bias.
    `dropout`, `recurrent_dropout` and `seed`: variational dropout of x_t and of h_{t-1} where it
    enters the recurrent matmuls (not the h_{t-1} of the last line), one mask per sequence,
    while training (as `keras.layers.GRUCell`).
    """

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape, 3)
        if self.use_bias:
            shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
            self.bias = self.add_weight(shape=shape, name="bias", initializer=self.bias_initializer)
        else:
            self.bias = None

    def _input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def call(self, inputs, states, training=False, projected=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        if projected:  # inputs = x_t W + b, its dropout applied before the projection
            x, h_seen = inputs, self._recurrent_dropout(h_prev, training)
        else:
            inputs, h_seen = self._apply_dropout(inputs, h_prev, training)  # h_seen: h_prev as the matmuls see it
            x = self.project(inputs)
        recurrent_bias = self.bias[1] if self.use_bias and self.reset_after else None
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        if self.reset_after:
            rec = ops.matmul(h_seen, self.recurrent_kernel)
            if recurrent_bias is not None:
                rec = rec + recurrent_bias
            r_z, r_r, r_h = ops.split(rec, 3, axis=-1)
            z = ops.sigmoid(x_z + r_z)
            r = ops.sigmoid(x_r + r_r)
            n = ops.tanh(x_h + r * r_h)
        else:
            u_zr, u_h = self.recurrent_kernel[:, : 2 * self.units], self.recurrent_kernel[:, 2 * self.units :]
            r_z, r_r = ops.split(ops.matmul(h_seen, u_zr), 2, axis=-1)
            z = ops.sigmoid(x_z + r_z)
            r = ops.sigmoid(x_r + r_r)
            n = ops.tanh(x_h + ops.matmul(r * h_seen, u_h))
        h = z * h_prev + (1.0 - z) * n
        new_state = [h] if isinstance(states, (list, tuple)) else h
        return h, new_state

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}
