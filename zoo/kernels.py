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

Where the kernel does not apply (a mask, recurrent dropout, another activation, the original
GRU, float16 on a CPU, `unroll`) the layer runs its cell step by step through `zoo.scan`'s time
loop, which does not grow with the square of the length either. `runs_as` says which.

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


def _call_fits_kernel(sequences, mask) -> bool:
    """What only the call tells (the layer's options are `runs_on_kernel`): no mask, and float32
    (PyTorch's CPU kernels have no float16)."""
    import torch

    return mask is None and (sequences.dtype == torch.float32 or sequences.is_cuda)


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
        if not (self.runs_on_kernel and _call_fits_kernel(sequences, mask)):
            return run_cell(self, sequences, initial_state, mask, training=training)
        import torch

        cell = self.cell
        if training and cell.dropout:  # one mask for the whole sequence, as the cell's own
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        if self.go_backwards:
            sequences = torch.flip(sequences, [1])
        weights = [w.to(sequences.dtype) for w in self._torch_weights()]
        states = [s.to(sequences.dtype)[None] for s in initial_state]
        hx = tuple(states) if self.torch_kernel == "lstm" else states[0]
        # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        out = getattr(torch, self.torch_kernel)(sequences, hx, weights, cell.use_bias, 1, 0.0, bool(training), False,
                                                True)
        outputs, final = out[0], [s[0] for s in out[1:]]
        last = outputs[:, -1]
        return last, (outputs if self.return_sequences else last[:, None]), final

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
