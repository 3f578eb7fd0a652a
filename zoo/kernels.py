"""PyTorch's fused recurrent kernels for the variants that are exactly one of them.

`lstm`, `gru` and `vanilla` have the math of Keras' `LSTM`, `GRU` (`reset_after=True`) and
`SimpleRNN`, which is also the math of `torch.nn.LSTM`, `GRU` and `RNN`. On the torch backend
Keras runs those layers through cuDNN on a GPU only; on a CPU its fallback indexes the projected
sequence step by step, and the backward pass of each index builds a zero tensor of the whole
sequence (cost growing with the square of the length). The layers here are Keras' own, with the
same weights, config and saved files, whose time loop on torch is the fused kernel
(`torch.lstm`, `torch.gru`, `torch.rnn_tanh`: what `torch.nn.LSTM` runs, on CPU and GPU), the
weights laid out for it at each call:

- LSTM: gate blocks [i, f, c, o] in both; Keras' one bias is PyTorch's input bias, and its
  recurrent bias is zero.
- GRU: Keras' blocks [z, r, h] become PyTorch's [r, z, n]; Keras' two biases (input, recurrent)
  are PyTorch's `bias_ih` and `bias_hh`.
- SimpleRNN: tanh or relu; one bias, as the LSTM.

A mask that pads sequences at the end (`Masking`, `mask_zero`) runs on the kernel too, the
outputs laid out as Keras' masked loop gives them (an LSTM that returns its states goes packed
on a GPU, through the step loop on a CPU). Where the kernel does not apply (another mask,
recurrent dropout, another activation, the original GRU, float16 on a CPU, `unroll`) the layer
runs its cell step by step through `zoo.scan`'s time loop, which does not grow with the square
of the length either. `runs_as` says which.

    >>> import zoo
    >>> zoo.recurrent_layer("lstm", 8).runs_as   # doctest: +SKIP
    'keras.layers.LSTM on torch.lstm'      # on KERAS_BACKEND=torch; 'keras.layers.LSTM' elsewhere
"""

from __future__ import annotations

import keras
from keras import activations, ops

from zoo.scan import run_cell

__all__ = ["LSTM", "GRU", "SimpleRNN", "fused_layer", "KERNELS"]

# The classes are named as Keras' own: a saved model's weights are found by the snake-case class
# name of each layer (`levels/lstm/cell/vars/0`), so a model saved on any backend loads on any other.


def _call_fits_kernel(sequences) -> bool:
    """What only the call tells (the layer's options are `runs_on_kernel`): float32 (PyTorch's CPU
    kernels have no float16)."""
    import torch

    return sequences.dtype == torch.float32 or sequences.is_cuda


def _packs(sequences) -> bool:
    """Whether padded sequences whose final LSTM cell state is read run packed: on a GPU."""
    return sequences.is_cuda


def _padded_lengths(mask):
    """Each sequence's length where `mask` (batch, time) is padding at the end only (every row
    some True steps, then False ones: what `Masking` and `mask_zero` give for padded batches);
    None for any other mask, which takes the step loop."""
    import torch

    mask = mask.to(torch.bool)
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if bool((lengths == 0).any()) or not bool(torch.equal(mask, steps[None, :] < lengths[:, None])):
        return None
    return lengths


def _within_lengths(sequences, lengths, reverse: bool):
    """Each sequence's steps [0, length) reversed (`reverse`) or moved to the end of the time
    axis (not `reverse`: the layout of a backwards layer's outputs); the other steps are zeros."""
    import torch

    steps = torch.arange(sequences.shape[1], device=sequences.device)[None, :]
    lengths = lengths[:, None]
    if reverse:
        index, valid = (lengths - 1 - steps).clamp(min=0), steps < lengths
    else:
        pad = sequences.shape[1] - lengths
        index, valid = (steps - pad).clamp(min=0), steps >= pad
    gathered = torch.gather(sequences, 1, index[..., None].expand(-1, -1, sequences.shape[2]))
    return torch.where(valid[..., None], gathered, torch.zeros_like(gathered))


class _Fused:
    """The fused-kernel time loop of a Keras recurrent layer on torch (a mixin before the layer)."""

    torch_kernel = ""  # torch's function, e.g. "lstm"

    def _kernel_applies(self) -> bool:
        """What the layer's options allow, whatever the call (see `runs_as`)."""
        raise NotImplementedError

    @property
    def runs_on_kernel(self) -> bool:
        return (keras.backend.backend() == "torch" and not self.unroll and not self.cell.recurrent_dropout
                and self._kernel_applies())

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        on_kernel = self.runs_on_kernel and _call_fits_kernel(sequences)
        lengths = _padded_lengths(mask) if on_kernel and mask is not None else None
        padded = lengths is not None
        if (mask is not None and not padded) or (padded and self._needs_cell_state() and not _packs(sequences)):
            on_kernel = False
        if not on_kernel:
            return run_cell(self, sequences, initial_state, mask, training=training)
        cell = self.cell
        if training and cell.dropout:  # one mask for the whole sequence, as the cell's own
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        weights = [w.to(sequences.dtype) for w in self._torch_weights()]
        states = [s.to(sequences.dtype)[None] for s in initial_state]
        if not padded:
            outputs, final = self._run_kernel(sequences, states, weights, training)
        elif self._needs_cell_state():
            outputs, final = self._run_packed(sequences, lengths, states, weights, training)
        else:
            outputs, final = self._run_padded(sequences, lengths, states, weights, training)
        last = outputs[:, -1]
        return last, (outputs if self.return_sequences else last[:, None]), final

    def _needs_cell_state(self) -> bool:
        """Whether the LSTM's final cell state is read (returned or kept): at each sequence's own
        end it is not among the kernel's outputs, so padded sequences then go packed (on a GPU) or
        through the step loop (on a CPU, where PyTorch's packed kernel is the slower of the two)."""
        return self.torch_kernel == "lstm" and (self.return_state or self.stateful)

    def _kernel(self, sequences, states, weights, training, *batch_sizes):
        """PyTorch's kernel on (batch, time, features) or, given `batch_sizes`, packed data."""
        import torch

        hx = tuple(states) if self.torch_kernel == "lstm" else states[0]
        # (input, [batch_sizes,] hx, params, has_biases, num_layers, dropout, train, bidirectional[, batch_first])
        layout = () if batch_sizes else (True,)
        out = getattr(torch, self.torch_kernel)(sequences, *batch_sizes, hx, weights, self.cell.use_bias, 1, 0.0,
                                                bool(training), False, *layout)
        return out[0], [s[0] for s in out[1:]]

    def _run_kernel(self, sequences, states, weights, training):
        import torch

        if self.go_backwards:
            sequences = torch.flip(sequences, [1])
        return self._kernel(sequences, states, weights, training)

    def _run_padded(self, sequences, lengths, states, weights, training):
        """Padded sequences through the kernel as they are: a step's output depends only on the
        steps before it, so the outputs up to each sequence's end are its own, and so is the final
        state of a GRU or RNN (its last real output). An LSTM's final cell state is not: it is
        used only where the layer returns no states (`_needs_cell_state`)."""
        import torch

        if self.go_backwards:  # Keras' backwards loop reads each sequence from its last real step
            sequences = _within_lengths(sequences, lengths, reverse=True)
        outputs, final = self._kernel(sequences, states, weights, training)
        last = torch.gather(outputs, 1, (lengths - 1)[:, None, None].expand(-1, 1, outputs.shape[2]))[:, 0]
        return self._in_keras_layout(outputs, lengths), [last, *final[1:]]

    def _run_packed(self, sequences, lengths, states, weights, training):
        """Padded sequences as PyTorch's packed sequences: the kernel stops at each one's end."""
        from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

        if self.go_backwards:
            sequences = _within_lengths(sequences, lengths, reverse=True)
        packed = pack_padded_sequence(sequences, lengths.cpu(), batch_first=True, enforce_sorted=False)
        states = [s.index_select(1, packed.sorted_indices) for s in states]
        data, final = self._kernel(packed.data, states, weights, training, packed.batch_sizes)
        final = [s.index_select(0, packed.unsorted_indices) for s in final]
        outputs, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                                        packed.unsorted_indices),
                                         batch_first=True, total_length=sequences.shape[1])
        return self._in_keras_layout(outputs, lengths), final

    def _in_keras_layout(self, outputs, lengths):
        """Outputs in reading order, real up to each sequence's length, laid out as Keras' masked
        loop gives them: padded steps repeat the last output (zeros with `zero_output_for_mask`); a
        backwards layer's come in its reading order, the padding (zeros) first."""
        import torch

        steps = torch.arange(outputs.shape[1], device=outputs.device)[None, :]
        if self.go_backwards:
            return _within_lengths(outputs, lengths, reverse=False)
        if self.zero_output_for_mask:
            return torch.where((steps < lengths[:, None])[..., None], outputs, torch.zeros_like(outputs))
        index = torch.minimum(steps, lengths[:, None] - 1)
        return torch.gather(outputs, 1, index[..., None].expand(-1, -1, outputs.shape[2]))

    def _torch_weights(self) -> list:
        """[weight_ih, weight_hh, (bias_ih, bias_hh)] in PyTorch's layout, from the cell's weights."""
        cell = self.cell
        kernel, recurrent = ops.convert_to_tensor(cell.kernel), ops.convert_to_tensor(cell.recurrent_kernel)
        weights = [kernel.T, recurrent.T]
        if cell.use_bias:
            bias = ops.convert_to_tensor(cell.bias)
            weights += [bias, ops.zeros_like(bias)]
        return weights

    @property
    def runs_as(self) -> str:
        """"keras.layers.LSTM on torch.lstm", or "keras.layers.LSTM" where the kernel does not apply."""
        name = f"keras.layers.{type(self).__name__}"
        return f"{name} on torch.{self.torch_kernel}" if self.runs_on_kernel else name


def _is(activation, name) -> bool:
    return activation is activations.get(name)


@keras.saving.register_keras_serializable(package="zoo")
class LSTM(_Fused, keras.layers.LSTM):
    """`keras.layers.LSTM` whose loop on torch is `torch.lstm` (see the module)."""

    torch_kernel = "lstm"

    def _kernel_applies(self):
        return _is(self.cell.activation, "tanh") and _is(self.cell.recurrent_activation, "sigmoid")


@keras.saving.register_keras_serializable(package="zoo")
class GRU(_Fused, keras.layers.GRU):
    """`keras.layers.GRU` whose loop on torch is `torch.gru` (`reset_after=True`; see the module)."""

    torch_kernel = "gru"

    def _kernel_applies(self):
        cell = self.cell
        return cell.reset_after and _is(cell.activation, "tanh") and _is(cell.recurrent_activation, "sigmoid")

    def _torch_weights(self):
        cell = self.cell

        def torch_order(block):  # Keras' [z, r, h] -> PyTorch's [r, z, n], along the last axis
            z, r, h = ops.split(block, 3, axis=-1)
            return ops.concatenate([r, z, h], axis=-1)

        weights = [torch_order(ops.convert_to_tensor(cell.kernel)).T,
                   torch_order(ops.convert_to_tensor(cell.recurrent_kernel)).T]
        if cell.use_bias:
            bias = torch_order(ops.convert_to_tensor(cell.bias))  # (2, 3 units): input, recurrent
            weights += [bias[0], bias[1]]
        return weights


@keras.saving.register_keras_serializable(package="zoo")
class SimpleRNN(_Fused, keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` whose loop on torch is `torch.rnn_tanh` or `rnn_relu` (see the module)."""


    @property
    def torch_kernel(self):
        return "rnn_relu" if _is(self.cell.activation, "relu") else "rnn_tanh"

    def _kernel_applies(self):
        return _is(self.cell.activation, "tanh") or _is(self.cell.activation, "relu")


KERNELS = {"LSTM": LSTM, "GRU": GRU, "SimpleRNN": SimpleRNN}


def fused_layer(builtin: str):
    """The layer class for Keras' built-in `builtin` on this backend: the fused-kernel twin on
    torch, Keras' own elsewhere (cuDNN on a GPU for TensorFlow and JAX)."""
    if keras.backend.backend() == "torch" and builtin in KERNELS:
        return KERNELS[builtin]
    return getattr(keras.layers, builtin)
