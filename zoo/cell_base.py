"""What every zoo cell is made of: the shared base (`ZooCell`), the one `scan` vocabulary and
loop policy of the cells whose input projection a loop layer can hoist (`ScannedCell`), and the
two step contracts built on it (`HoistableCell`, `ProjectedCell`).

Concrete cells live in `zoo.cells` (Elman, the LSTM family, GRU) and `zoo.modern_cells`; the
loops that run them in `zoo.scan`.
"""

from __future__ import annotations

import keras
from keras import initializers, ops

from zoo._keras_private import DropoutRNNCell
from zoo.checks import check_input_rank, dropout_rate, positive_int
from zoo.device import on_gpu

__all__ = ["ZooCell", "ScannedCell", "HoistableCell", "ProjectedCell", "BlockProjectedCell", "SCANS", "complex_update"]

# How a cell is run over time (see `ScannedCell`).
SCANS = ("auto", "stepwise", "sequential", "parallel")


class ZooCell(DropoutRNNCell, keras.layers.Layer):
    """What every zoo cell shares: `units`, the bias switch, the three initializers and
    variational dropout (Gal & Ghahramani 2016), as in Keras' cells.

    `dropout` masks the input x_t, `recurrent_dropout` masks the output y_{t-1} where it enters
    the recurrent matmul; the same mask is used at every step of a sequence and a new one is
    drawn for every batch. Only while training.

    A new cell subclasses this, builds its weights in `build`, does one time step in `call`
    and adds its own arguments to `get_config`; `zoo.families` then makes it a family.
    `keras.layers.RNN` runs it one step at a time; a cell whose input enters through one
    projection subclasses `ScannedCell` instead, so the zoo's loop layers can do more before
    the loop.
    """

    has_recurrent_weights = True  # False: the state meets no weight matrix, so recurrent dropout does not apply

    def __init__(
        self,
        units,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = positive_int("units", units)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.dropout = dropout_rate("dropout", dropout)
        self.recurrent_dropout = dropout_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        # A seed generator holds a variable: made only when masks are drawn, so that a cell
        # without dropout can be made anywhere (even inside a traced function).
        if self.dropout or self.recurrent_dropout:
            self.seed_generator = keras.random.SeedGenerator(seed=seed)

    def _apply_dropout(self, inputs, h_prev, training):
        """The input and the previous output as the matmuls see them."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        return inputs, self._recurrent_dropout(h_prev, training)

    def _recurrent_dropout(self, h_prev, training):
        """The previous output as the recurrent matmul sees it."""
        if training and self.recurrent_dropout > 0:
            h_prev = h_prev * self.get_recurrent_dropout_mask(h_prev)
        return h_prev

    def _no_recurrent_dropout(self):
        self.has_recurrent_weights = False
        if self.recurrent_dropout:
            raise ValueError(f"{type(self).__name__} has no recurrent weights, so `recurrent_dropout` does not "
                             f"apply; got recurrent_dropout={self.recurrent_dropout}. Use `dropout` (of x_t).")

    def _add_kernels(self, input_shape, blocks):
        """`kernel` (input_dim, blocks*units) and `recurrent_kernel` (units, blocks*units)."""
        check_input_rank(type(self).__name__, input_shape)
        self.kernel = self.add_weight(
            shape=(input_shape[-1], blocks * self.units), name="kernel", initializer=self.kernel_initializer
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, blocks * self.units), name="recurrent_kernel", initializer=self.recurrent_initializer
        )

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class ScannedCell(ZooCell):
    """A zoo cell whose input enters through one projection, `project(x_t)`, so that a loop layer
    of `zoo.scan` can project every step's input in one matmul before the time loop. `scan` says
    how the cell runs over time; every form computes the same numbers:

    - "stepwise": one step at a time with the projection inside the loop, as `keras.layers.RNN`;
    - "sequential": the projection of every step in one matmul before the loop, then only the
      recurrent part per step (what cuDNN does);
    - "parallel" (cells whose recurrence is linear): that recurrence as a parallel scan,
      log2(T) deep;
    - "auto" (default): what measured fastest, by one policy (`loop`): on a GPU the parallel
      form where the cell has one, else the sequential one; on a CPU the form `cpu_loops` names
      for the backend, else stepwise (carrying a wide projected sequence and its gradient through
      a CPU loop can cost more than a small matmul per step; `make bench` times the forms).

    A subclass says which forms it has (`loops`) and which is fastest on a CPU (`cpu_loops`);
    the form run is recorded in each run's `runs_as`. Two contracts build on this:
    `HoistableCell` (any state; its step takes the projected input) and `ProjectedCell` (one
    state, a recurrence element-wise in it).
    """

    loops = ("stepwise", "sequential")  # the forms of SCANS (but auto) this cell can run in
    cpu_loops: dict = {}  # backend -> the form "auto" takes on a CPU (stepwise where not listed)

    def __init__(self, units, scan="auto", **kwargs):
        super().__init__(units, **kwargs)
        if scan not in SCANS:
            raise ValueError(f"`scan` must be one of {', '.join(SCANS)}, got scan={scan!r}.")
        if scan != "auto" and scan not in self.loops:
            raise ValueError(f"{type(self).__name__}'s recurrence is not linear, so it has no {scan} scan; "
                             f"`scan` must be one of {', '.join(('auto', *self.loops))}, got scan={scan!r}.")
        self.scan = scan

    def loop(self) -> str:
        """The form the loop layer runs: `scan`, or for "auto" the policy above."""
        if self.scan != "auto":
            return self.scan
        if on_gpu():
            return "parallel" if "parallel" in self.loops else "sequential"
        return self.cpu_loops.get(keras.backend.backend(), "stepwise")

    def project(self, inputs):
        """x W + b for inputs of shape (..., input_dim): one step or every step at once."""
        bias = self._input_bias() if self.use_bias else None
        if bias is not None and keras.backend.backend() == "torch":
            import torch

            inputs, kernel, bias = (ops.convert_to_tensor(t) for t in (inputs, self.kernel, bias))
            if inputs.dtype == kernel.dtype == bias.dtype:  # the bias added inside the matmul's kernel
                flat = torch.addmm(bias, inputs.reshape(-1, inputs.shape[-1]), kernel)
                return flat.reshape(*inputs.shape[:-1], flat.shape[-1])
        projected = ops.matmul(inputs, self.kernel)
        return projected if bias is None else projected + bias

    def _projected_input(self, inputs, training, projected):
        """x_t W + b after input dropout; `inputs` itself when the loop projected it already."""
        if projected:
            return inputs
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        return self.project(inputs)

    def _input_bias(self):
        """The part of the bias added to the input's projection (None without a bias)."""
        return self.bias

    def get_config(self):
        return {**super().get_config(), "scan": self.scan}


class HoistableCell(ScannedCell):
    """A `ScannedCell` whose input enters through one matmul, `project(x) = x W (+ b)`, and whose
    step is then `call(project(x_t), states, projected=True)`, with any number of states.
    `zoo.scan.ZooRNN` runs it over time (stepwise or sequential). A subclass may also return
    `sequence_constants`: tensors that are the same at every step of a sequence, made once before
    the loop and handed to every step (see `GatedCell`).
    """

    def _preactivation(self, inputs, h_prev, training, projected, recurrent=None):
        """x_t W + y_{t-1} R + b after dropout, for a cell with one recurrent matmul; `inputs` is
        x_t W + b already (its dropout applied before the projection) when `projected`. The loop
        layer may hand in `recurrent(p_t, y) -> p_t + y R` (see `zoo.scan.ZooRNN`)."""
        if projected:
            h_seen = self._recurrent_dropout(h_prev, training)
            if recurrent is not None:
                return recurrent(inputs, h_seen)
            return inputs + ops.matmul(h_seen, self.recurrent_kernel)
        inputs, h_prev = self._apply_dropout(inputs, h_prev, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel)  # Keras' LSTMCell's order
        return z + self.bias if self.use_bias else z

    def sequence_constants(self, states):
        """Tensors the same at every step of a sequence, made once before the time loop from the
        initial `states` (e.g. to take a batch's shape); None when there are none."""
        return None


class ProjectedCell(ScannedCell):
    """A `ScannedCell` whose step is `recur(project(x_t), state)`: one matmul with the input,
    then work that is element-wise in the state (a subclass defines both, and `coefficients` if
    linear). `zoo.scan.ProjectedRNN` runs it over time; a linear cell also has the parallel form.
    With JAX or torch on a CPU "auto" is sequential (measured in docs/speed.md).
    """

    linear = False  # h_t = a_t * h_{t-1} + b_t, with (a_t, b_t) = coefficients(p_t)
    is_complex = False  # the state is (real, imaginary) halves and the coefficients are complex
    readout_uses_input = False  # the output depends on the step's input too, not on the state alone
    output_is_state = True  # the output is h itself; otherwise the states are [output, h]
    cpu_loops = {"jax": "sequential", "torch": "sequential"}

    @property
    def loops(self):
        return ("stepwise", "sequential", "parallel") if self.linear else ("stepwise", "sequential")

    def recur(self, projected, h, training=False):
        """One step given the projected input and the recurrent state h: returns (output, new h)."""
        raise NotImplementedError

    def coefficients(self, projected):
        """For a linear cell: (a, b) of h_t = a_t * h_{t-1} + b_t, shaped like the state
        ((real, imaginary) pairs for a complex cell), for one step or all steps at once."""
        raise NotImplementedError

    def step_function(self, h0, training=False):
        """`f(p_t, h) -> new h`, the loop body of a non-linear cell whose state starts at `h0`.
        What does not change from step to step (weights, masks) is read here, once."""
        return lambda projected, h: self.recur(projected, h, training=training)[1]

    def readout(self, states, projected):
        """The output from the state (and the projected input), for every step at once."""
        return states

    def call(self, inputs, states, training=False):
        output, h = self.recur(self._projected_input(inputs, training, False), states[-1], training=training)
        # The state is [h], or [output, h] when the output is not h (Keras' loops take the
        # first state for the previous output at a masked step).
        return output, [h] if self.output_is_state else [output, h]


class BlockProjectedCell(ProjectedCell):
    """A `ProjectedCell` whose projection is x_t W + b with blocks of `units` columns each
    (`kernel` (input_dim, blocks * units), `bias`): minGRU, minLSTM, IndRNN, RG-LRU."""

    def _build_projection(self, input_shape, blocks):
        check_input_rank(type(self).__name__, input_shape)
        self.kernel = self.add_weight(shape=(input_shape[-1], blocks * self.units), name="kernel",
                                      initializer=self.kernel_initializer)
        self.bias = (self.add_weight(shape=(blocks * self.units,), name="bias", initializer=self.bias_initializer)
                     if self.use_bias else None)


def complex_update(h, a_re, a_im, b_re, b_im):
    """h = a * h + b with h stored as [Re h | Im h]."""
    h_re, h_im = ops.split(h, 2, axis=-1)
    return ops.concatenate([a_re * h_re - a_im * h_im + b_re, a_re * h_im + a_im * h_re + b_im], axis=-1)
