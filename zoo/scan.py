"""The loops that run zoo cells over time, and the fast path for cells whose input enters
through one matmul and whose recurrence is element-wise.

`ZooRNN`, a `keras.layers.RNN`, runs the Elman, LSTM-family and GRU cells (`HoistableCell`s): it
makes what is the same at every step once before the loop, and with `scan="sequential"` (the
default on a GPU, and on torch for the Elman and LSTM-family cells) projects the input of every
step in one matmul before it; on torch it then also takes the recurrent kernel's gradient in one
matmul after the loop (`recurrent_kernel_gradient_once`).

A `ProjectedCell` splits its time step in two: `project(x_t)` (the only matmul with the input)
and `recur(p_t, state)` (element-wise in the state). `ProjectedRNN`, a `keras.layers.RNN`, then
computes every step's projection in one matmul before the loop and runs only `recur` over time.
A cell whose recurrence is linear, h_t = a_t * h_{t-1} + b_t (`coefficients`), can also run it as
a parallel scan: O(log T) sequential depth instead of T, which is what a GPU wants for long
sequences. `scan="auto"` picks the form by the one policy of `zoo.cell_base.ScannedCell` (the
measurements behind it are in docs/speed.md).

The same cell also runs one step at a time (`call`), inside `keras.layers.RNN` or for
generation and `stateful=True`: the fast path changes the order of the work, not the math.
"""

from __future__ import annotations

import functools
import inspect

import keras
from keras import ops

from zoo._keras_private import backend_rnn
from zoo.cell_base import HoistableCell, complex_update

__all__ = ["ProjectedRNN", "ZooRNN", "MatrixMemoryRNN", "StepRNN", "linear_scan", "log_linear_scan", "sequential_scan",
           "time_loop", "run_cell", "recurrent_kernel_gradient_once"]


def time_loop(step_function, inputs, initial_states, *, go_backwards=False, mask=None, unroll=False, time_major=False,
              zero_output_for_mask=False, return_all_outputs=True):
    """`step_function(x_t, states) -> (output, new states)` over the time axis of `inputs`, as
    Keras' backend loop (`keras.layers.RNN`'s): a masked step (mask (batch, time) False) keeps the
    states and shows the previous output (zeros with `zero_output_for_mask`). Returns (last
    output, outputs (batch, time, ...) or only the last step's, final states).

    The one time loop of the zoo's layers: Keras' own on TensorFlow and JAX; on torch a loop
    that splits the sequence once and stacks the outputs once (Keras' torch loop also runs an
    extra first step to learn the output's shape and indexes its lists with tensors).
    """
    if keras.backend.backend() != "torch" or unroll:
        # The number of steps is given: Keras' TensorFlow loop would take inputs.shape[1], the
        # batch size of time-major inputs, and stop early.
        steps = inputs.shape[0] if time_major else inputs.shape[1]
        return backend_rnn(step_function, inputs, list(initial_states), go_backwards=go_backwards, mask=mask,
                           unroll=unroll, input_length=steps, time_major=time_major,
                           zero_output_for_mask=zero_output_for_mask, return_all_outputs=return_all_outputs)
    import torch

    if not time_major:
        inputs = inputs.transpose(0, 1)
        mask = None if mask is None else mask.transpose(0, 1)
    if go_backwards:
        inputs = torch.flip(inputs, [0])
        mask = None if mask is None else torch.flip(mask, [0])
    states = list(initial_states)
    keeps = None if mask is None else mask.to(torch.bool).unbind(0)
    outputs, output = [], None
    for t, x_t in enumerate(inputs.unbind(0)):
        new_output, new_states = step_function(x_t, states)
        if keeps is not None:
            keep = keeps[t]
            shown = torch.zeros_like(new_output) if zero_output_for_mask or output is None else output
            new_output = torch.where(_as_rank(keep, new_output), new_output, shown)
            new_states = [torch.where(_as_rank(keep, new), new, old) for new, old in zip(new_states, states)]
        output, states = new_output, list(new_states)
        if return_all_outputs:
            outputs.append(output)
    every = torch.stack(outputs) if return_all_outputs else output[None]
    return output, (every if time_major else every.transpose(0, 1)), states


def _as_rank(keep, like):
    """A (batch,) mask shaped to broadcast against `like` (batch, ...)."""
    return keep.reshape(keep.shape + (1,) * (like.ndim - 1))


def _mul(x, y):
    """Element-wise product of numbers given as parts: (real,) or (real, imaginary)."""
    if len(x) == 1:
        return (x[0] * y[0],)
    (xr, xi), (yr, yi) = x, y
    return xr * yr - xi * yi, xr * yi + xi * yr


def _add(x, y):
    return tuple(p + q for p, q in zip(x, y))


def _shift(parts, k, fills):
    """z[:, t - k] for every part, with `fill` where t < k."""
    return tuple(ops.concatenate([ops.full_like(z[:, :k], fill), z[:, :-k]], axis=1) for z, fill in zip(parts, fills))


def linear_scan(a, b, h0, *, is_complex: bool = False):
    """Every h_t of h_t = a_t * h_{t-1} + b_t (element-wise, time on axis 1), as a parallel scan.

    `a`, `b`: (batch, steps, ...) arrays, or (real, imaginary) pairs when `is_complex`; `h0`: the
    state before the first step, (batch, ...) (or a pair). On JAX this is
    `jax.lax.associative_scan`; on other backends a doubling (Hillis-Steele) scan: log2(steps)
    rounds of shifts and element-wise products, which needs a known number of steps but not a
    known batch size (Keras' TensorFlow `associative_scan` fails without one inside `fit`).
    """
    a, b, h0 = (a, b, h0) if is_complex else ((a,), (b,), (h0,))
    h0 = tuple(ops.expand_dims(h, 1) for h in h0)
    first = _add(tuple(z[:, :1] for z in b), _mul(tuple(z[:, :1] for z in a), h0))  # h0 folded into step 1
    b = tuple(ops.concatenate([f, z[:, 1:]], axis=1) for f, z in zip(first, b))

    if keras.backend.backend() == "jax":
        def combine(earlier, later):  # (a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2
            (a1, b1), (a2, b2) = earlier, later
            return _mul(a2, a1), _add(_mul(a2, b1), b2)

        out = ops.associative_scan(combine, (a, b), axis=1)[1]
    else:
        steps = a[0].shape[1]
        if steps is None:
            raise ValueError("the parallel scan needs a known number of steps; use scan='sequential'")
        identity_a, zero = (1.0, 0.0)[: len(a)], (0.0, 0.0)[: len(a)]
        k = 1
        while k < steps:
            a_prev, b_prev = _shift(a, k, identity_a), _shift(b, k, zero)
            b = _add(_mul(a, b_prev), b)
            a = _mul(a, a_prev)
            k *= 2
        out = b
    return tuple(out) if is_complex else out[0]


def _logcumsumexp(x, axis):
    """log(cumsum(exp(x))) along `axis`, with each backend's stable kernel."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.lax.cumlogsumexp(x, axis=axis)
    if backend == "torch":
        import torch

        return torch.logcumsumexp(x, dim=axis)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.math.cumulative_logsumexp(x, axis=axis)
    top = ops.stop_gradient(ops.max(x, axis=axis, keepdims=True))
    return top + ops.log(ops.cumsum(ops.exp(x - top), axis=axis))


# log b of a masked step (b = 0) in the log-space scan: finite, so that no gradient meets
# inf - inf, and far below any log b a cell gives (exp of it is 0 in float16 and float32).
_LOG_ZERO = -1e4


def log_linear_scan(log_a, log_b, h0):
    """Every h_t of h_t = a_t * h_{t-1} + b_t with a_t, b_t > 0 given as logs (time on axis 1),
    computed in log space (Feng et al. 2024, their parallel scan): with a*_t = sum_{s<=t} log a_s,
    h_t = exp(a*_t) h_0 + exp(a*_t + logcumsumexp(log b - a*)_t). No product of many a_t is
    formed, so a long run of small a_t neither underflows nor loses the b_t; h_0 may have any sign."""
    a_star = ops.cumsum(log_a, axis=1)
    carried = ops.exp(a_star) * ops.expand_dims(h0, 1)
    return carried + ops.exp(a_star + _logcumsumexp(log_b - a_star, axis=1))


def sequential_scan(update, inputs, h0, mask=None, *, return_all=True):
    """h_t = update(x_t, h_{t-1}) over time-major `inputs`, a tuple of (time, batch, ...) arrays
    (`x_t` is the tuple of their step t), from `h0`; a masked step (mask (time, batch) False)
    keeps h. Returns every h_t (time, batch, ...), or only the last one as (1, batch, ...) with
    `return_all=False`.

    On JAX a `lax.scan` that carries only h (Keras' loop stacks every step's output even when
    only the last is kept). Elsewhere Keras' own time loop (a while loop on TensorFlow), with
    the inputs packed into one tensor: each loop input costs a read per step there.
    """
    inputs = tuple(inputs)
    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp

        def body(h, xs):
            x_t, keep = xs
            new = update(x_t, h)
            if keep is not None:
                new = jnp.where(keep[:, None], new, h)
            return new, (new if return_all else None)

        last, every = jax.lax.scan(body, h0, (inputs, mask))
        return every if return_all else last[None]

    sizes = [int(x.shape[-1]) for x in inputs]
    cuts = [sum(sizes[:i + 1]) for i in range(len(sizes) - 1)]
    packed = inputs[0] if len(inputs) == 1 else ops.concatenate(inputs, axis=-1)

    def step(x_t, states):
        h = update(tuple(ops.split(x_t, cuts, axis=-1)) if cuts else (x_t,), states[0])
        return h, [h]

    _, every, _ = time_loop(step, packed, [h0], mask=mask, time_major=True, return_all_outputs=return_all)
    return every


def _input_dropout(cell, sequences, training):
    """The sequences with the cell's input-dropout mask for this sequence at every step (while
    training): what the cell applies to x_t, applied before a projection hoisted out of the loop."""
    if training and cell.dropout > 0:
        return sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
    return sequences


@keras.saving.register_keras_serializable(package="zoo")
class StepRNN(keras.layers.RNN):
    """`keras.layers.RNN` (same arguments, same numbers) whose time loop is `time_loop`: the cell
    one step at a time, on torch without Keras' torch loop's extra step. The layer of every zoo
    cell that has no faster form (MUT1-3), and the stepwise form of the others."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        kwargs = {"training": training} if self.cell._call_has_training_arg else {}
        return run_cell(self, sequences, initial_state, mask, **kwargs)


def run_cell(layer, sequences, initial_state, mask, time_major=False, **cell_kwargs):
    """`layer.inner_loop` of a `keras.layers.RNN` run by `time_loop`: its cell called with
    `(x_t, states, **cell_kwargs)` at every step (`sequences`, `mask` and the outputs
    time-major with `time_major`). On torch that is `cell.call` itself: the layer
    has built the cell and drawn its dropout masks, and `Layer.__call__`'s bookkeeping would run
    eagerly at every step. TensorFlow and JAX trace the loop once, through `Layer.__call__` as
    Keras' own loop does (calling `cell.call` there made TensorFlow's graph slower, not faster)."""
    cell = layer.cell
    initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    torch_backend = keras.backend.backend() == "torch"
    copy = torch_backend and layer.stateful
    call = cell.call if torch_backend else cell

    def step(inputs, states):
        if copy:  # as keras.layers.RNN: a stateful layer's states are not changed in place (autograd)
            states = [ops.copy(s) for s in states]
        output, new_states = call(inputs, states, **cell_kwargs)
        return output, new_states if isinstance(new_states, (list, tuple)) else [new_states]

    return time_loop(step, sequences, initial_state, go_backwards=layer.go_backwards, mask=mask, unroll=layer.unroll,
                     time_major=time_major, zero_output_for_mask=layer.zero_output_for_mask,
                     return_all_outputs=layer.return_sequences)


@keras.saving.register_keras_serializable(package="zoo")
class ProjectedRNN(StepRNN):
    """`StepRNN` for a `ProjectedCell`: the input projection of every step in one matmul
    before the loop, then only the element-wise recurrence over time (or a parallel scan)."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        loop = cell.loop()
        if loop == "stepwise":
            return super().inner_loop(sequences, initial_state, mask, training=training)
        sequences = _input_dropout(cell, sequences, training)
        if self.go_backwards:
            sequences = ops.flip(sequences, axis=1)
            mask = None if mask is None else ops.flip(mask, axis=1)
        if loop == "parallel":
            projected = cell.project(sequences)
            states_seq = self._parallel(projected, initial_state, mask)
            return self._read_out(states_seq, projected, mask, time_axis=1)
        # The loop runs over time-major arrays: projecting the (narrow) input after moving time
        # first saves moving the (wider) projection and its gradient.
        projected = cell.project(ops.transpose(sequences, (1, 0, 2)))
        mask = None if mask is None else ops.transpose(mask, (1, 0))
        # Without return_sequences only the last state is kept (unless a masked last step would
        # need the output carried from before it).
        last_only = not self.return_sequences and not (mask is not None and (cell.readout_uses_input
                                                                            or self.zero_output_for_mask))
        inputs, update = self._loop(projected, initial_state[-1], training)
        states_seq = sequential_scan(update, inputs, initial_state[-1], mask, return_all=not last_only)
        if last_only:
            last_state = states_seq[-1]
            last_output = cell.readout(last_state, projected[-1])
            return last_output, ops.expand_dims(last_output, 1), self._final_states(last_output, last_state)
        return self._read_out(states_seq, projected, mask, time_axis=0)

    def _loop(self, projected, h0, training):
        """What the time loop reads at each step (a tuple of arrays), and its body
        `update(x_t, h) -> new h`.

        Everything that does not need h_{t-1} is done before the loop, for all steps at once:
        for a linear cell the loop reads its coefficients, and a coefficient that is the same at
        every step (the LRU's lambda) stays out of it. The loop body is then h = a_t * h + b_t."""
        cell = self.cell
        if not cell.linear:
            recur = cell.step_function(h0, training)
            return (projected,), lambda x_t, h: recur(x_t[0], h)
        a, b = cell.coefficients(projected)
        if not cell.is_complex:
            return (a, b), lambda x_t, h: x_t[0] * h + x_t[1]
        if len(a[0].shape) < len(projected.shape):  # the same at every step
            return b, lambda x_t, h: complex_update(h, *a, *x_t)
        return (*a, *b), lambda x_t, h: complex_update(h, *x_t)

    def _read_out(self, states_seq, projected, mask, time_axis):
        """(last output, outputs (batch, time, units), final states) from the states of every step."""
        cell = self.cell
        outputs = cell.readout(states_seq, projected)
        if time_axis == 0:
            outputs = ops.transpose(outputs, (1, 0, 2))
            states_seq = ops.transpose(states_seq, (1, 0, 2))
            mask = None if mask is None else ops.transpose(mask, (1, 0))
        keep = None if mask is None else ops.cast(ops.expand_dims(mask, -1), outputs.dtype)
        if mask is not None and cell.readout_uses_input:  # a masked step repeats the last output (zeros before any)
            outputs = linear_scan(1.0 - keep + ops.zeros_like(outputs), keep * outputs, ops.zeros_like(outputs[:, 0]))
        last_output = outputs[:, -1]  # what the state keeps, whatever the outputs show
        if mask is not None and self.zero_output_for_mask:  # as Keras' loop (Bidirectional sets it with sequences)
            outputs = outputs * keep
        return outputs[:, -1], outputs, self._final_states(last_output, states_seq[:, -1])

    def _final_states(self, last_output, last_state):
        return [last_state] if self.cell.output_is_state else [last_output, last_state]

    def _parallel(self, projected, initial_state, mask):
        cell = self.cell
        if getattr(cell, "log_space", False):
            log_a, log_b = cell.log_coefficients(projected)
            if mask is not None:  # a masked step keeps the state: a = 1, b = 0
                keep = ops.expand_dims(mask, -1)
                log_a = ops.where(keep, log_a, 0.0)
                log_b = ops.where(keep, log_b, _LOG_ZERO)
            return log_linear_scan(log_a, log_b, initial_state[-1])
        a, b = cell.coefficients(projected)
        zeros = ops.zeros_like(b[0] if cell.is_complex else b)
        a = tuple(zeros + part for part in a) if cell.is_complex else zeros + a  # a coefficient constant in time
        if mask is not None:  # a masked step keeps the state: a = 1, b = 0
            keep = ops.cast(ops.expand_dims(mask, -1), projected.dtype)
            if cell.is_complex:
                a = (keep * a[0] + (1.0 - keep), keep * a[1])
                b = (keep * b[0], keep * b[1])
            else:
                a, b = keep * a + (1.0 - keep), keep * b
        h0 = initial_state[-1]
        if cell.is_complex:
            half = h0.shape[-1] // 2
            re, im = linear_scan(a, b, (h0[:, :half], h0[:, half:]), is_complex=True)
            return ops.concatenate([re, im], axis=-1)
        return linear_scan(a, b, h0)


@keras.saving.register_keras_serializable(package="zoo")
class ZooRNN(StepRNN):
    """`StepRNN` for a `HoistableCell` (Elman, LSTM family, GRU): same arguments, same
    numbers. Before the time loop it makes the cell's `sequence_constants` once (instead of at
    every step) and, when the cell's `loop()` is "sequential", projects every step's input in one
    matmul (input dropout applied first, with the cell's mask for the sequence); each step then
    does only the recurrent matmul and the gates."""

    def __init__(self, cell, **kwargs):
        if not isinstance(cell, HoistableCell):
            raise ValueError(f"ZooRNN runs a zoo.cells.HoistableCell (Elman, LSTM family, GRU), got "
                             f"{type(cell).__name__}; use zoo.scan.StepRNN (or keras.layers.RNN) for other cells.")
        super().__init__(cell, **kwargs)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        hoisted = cell.loop() == "sequential"
        kwargs = {"training": training, "projected": hoisted}
        constants = cell.sequence_constants(initial_state)
        if constants is not None:
            kwargs["constants"] = constants
        if hoisted and keras.backend.backend() == "torch" and not self.unroll and _takes_recurrent(type(cell)):
            return self._sequential_on_torch(sequences, initial_state, mask, kwargs)
        if hoisted:
            sequences = cell.project(_input_dropout(cell, sequences, training))
        return run_cell(self, sequences, initial_state, mask, **kwargs)

    def _sequential_on_torch(self, sequences, initial_state, mask, kwargs):
        """The sequential form on torch, for a cell whose step takes `recurrent`: time first
        before the projection (the loop then reads whole steps, and its backward pass gathers
        their gradients into one contiguous array), and the recurrent kernel's gradient in one
        matmul after the loop (`recurrent_kernel_gradient_once`)."""
        cell = self.cell
        time_major = ops.transpose(_input_dropout(cell, sequences, kwargs["training"]), (1, 0, 2))
        projected, kwargs["recurrent"] = recurrent_kernel_gradient_once(
            cell.project(time_major), cell.recurrent_kernel, reverse=self.go_backwards)
        mask = None if mask is None else ops.transpose(mask, (1, 0))
        last, outputs, states = run_cell(self, projected, initial_state, mask, time_major=True, **kwargs)
        return last, ops.transpose(outputs, (1, 0, 2)), states


@functools.cache
def _takes_recurrent(cell_class) -> bool:
    """Whether a cell class's step takes `recurrent`: its one recurrent matmul done by the loop."""
    return "recurrent" in inspect.signature(cell_class.call).parameters


@functools.cache
def _kernel_gradient():
    """The torch.autograd.Function of `recurrent_kernel_gradient_once` (torch imported on first use)."""
    import torch

    class KernelGradient(torch.autograd.Function):
        @staticmethod
        def forward(ctx, projected, kernel, seen, reverse):
            ctx.seen, ctx.reverse = seen, reverse
            return projected.view_as(projected)

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            seen = torch.stack(ctx.seen)  # (steps, batch, units) in the loop's order
            if ctx.reverse:
                seen = torch.flip(seen, [0])
            ctx.seen = None
            grad_kernel = seen.reshape(-1, seen.shape[-1]).T @ grad.reshape(-1, grad.shape[-1])
            return grad, grad_kernel, None, None

    return KernelGradient


def recurrent_kernel_gradient_once(projected, kernel, reverse=False):
    """On torch, for a cell whose step is z_t = p_t + y_{t-1} R (`p_t` projected before the
    loop): R's gradient in one matmul over every step, sum_t y_{t-1}^T dz_t, after the loop's
    backward pass, as cuDNN and `torch.nn.LSTM` do it, instead of a small matmul and an addition
    per step. `projected`: (steps, batch, width); `reverse`: the loop runs from the last step.

    Returns `projected` (the same numbers; its backward pass also gives R's gradient) and the
    step's `recurrent(p_t, y) -> p_t + y R`, with R held fixed in the step and each y recorded.
    Where no gradient is taken (inference, R not trained), the step is the plain matmul."""
    import torch

    kernel = ops.convert_to_tensor(kernel)  # cast as the cell sees it (mixed precision)
    if not (torch.is_grad_enabled() and kernel.requires_grad):
        return projected, lambda p_t, y: torch.addmm(p_t, y, kernel)
    seen = []
    fixed = kernel.detach()

    def recurrent(p_t, y):
        seen.append(y.detach())
        return torch.addmm(p_t, y, fixed)

    return _kernel_gradient().apply(projected, kernel, seen, reverse), recurrent


@keras.saving.register_keras_serializable(package="zoo")
class MatrixMemoryRNN(ZooRNN):
    """`ZooRNN` for a cell whose memory can also be computed for every step at once
    (`zoo.cells_2024.MLSTMCell`: `parallel`): with `scan="parallel"` the sequence in passes of
    up to the cell's `chunk_size` steps instead of a time loop; the other forms as `ZooRNN`. A masked
    step writes nothing and its output is the last one (zeros with `zero_output_for_mask`), as in
    Keras' loop."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if cell.loop() != "parallel":
            return super().inner_loop(sequences, initial_state, mask, training=training)
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        sequences = _input_dropout(cell, sequences, training)
        if self.go_backwards:
            sequences = ops.flip(sequences, axis=1)
            mask = None if mask is None else ops.flip(mask, axis=1)
        outputs, memory = cell.parallel(cell.project(sequences), initial_state, mask)
        if mask is not None:  # a masked step repeats the last output (the initial one before any)
            keep = ops.cast(ops.expand_dims(mask, -1), outputs.dtype)
            outputs = linear_scan(1.0 - keep + ops.zeros_like(outputs), keep * outputs, initial_state[0])
        last = outputs[:, -1]
        if mask is not None and self.zero_output_for_mask:
            outputs = outputs * keep
        return outputs[:, -1], outputs, [last, *memory]
