"""`Recurrent`: one Keras layer for any registered variant, stackable, bidirectional or not.

    >>> import keras, zoo
    >>> layer = zoo.recurrent_layer("peephole", 64, num_layers=2, dropout=0.1)
    >>> layer(keras.ops.zeros((8, 20, 16))).shape
    (8, 64)

The layer's config is the variant's name and its options, so a saved model reloads with no
`custom_objects`. Inside, each level is a Keras built-in layer where one has the variant's math
(`SimpleRNN`, `LSTM`, `GRU`: cuDNN on a GPU) or `keras.layers.RNN` over a zoo cell, wrapped in
`keras.layers.Bidirectional` for `bi-` variants.
"""

from __future__ import annotations

import keras

from zoo.checks import dropout_rate, flag, positive_int
from zoo.registry import Variant, get_variant

__all__ = ["Recurrent", "recurrent_layer", "make_cell", "MERGE_MODES"]

MERGE_MODES = ("concat", "sum", "ave", "mul")
IMPLEMENTATIONS = ("auto", "builtin", "zoo")


def _cell_options(variant: Variant, options: dict) -> dict:
    """The variant's cell options with the user's non-None options on top, checked by name."""
    merged = dict(variant.cell_options)
    valid = variant.family_entry.options
    for key, value in options.items():
        if value is None:
            continue  # None falls back to the variant's default
        if key not in valid:
            raise ValueError(
                f"unknown option {key!r} for variant {variant.name!r} (family {variant.family}); "
                f"valid options: {', '.join(sorted(valid))}."
            )
        if key in ("dropout", "recurrent_dropout"):
            value = dropout_rate(key, value)  # Keras' built-in layers would clip a bad rate silently
        merged[key] = value
    return merged


def make_cell(variant, units, *, dtype=None, **options) -> keras.layers.Layer:
    """The zoo cell of `variant` (one time step), for `keras.layers.RNN` or your own loop.

    Options not given (or `None`) take the variant's defaults; `options` are the family's cell
    arguments (see `zoo.cells`). `dtype`: a dtype or policy, e.g. `"mixed_float16"`.
    """
    variant = get_variant(variant)
    units = positive_int("units", units)
    return variant.family_entry.cell(units, dtype=dtype, **_cell_options(variant, options))


def _uses_builtin(variant: Variant, cell_options: dict, implementation: str) -> bool:
    if implementation == "zoo":
        return False
    matches = variant.family_entry.matches_builtin(cell_options)
    if implementation == "builtin" and not matches:
        raise ValueError(
            f"implementation='builtin' but variant {variant.name!r} with options {cell_options} has no "
            "Keras built-in layer with the same math; use implementation='auto' or 'zoo'."
        )
    return matches


@keras.saving.register_keras_serializable(package="zoo")
class Recurrent(keras.layers.Layer):
    """A (stack of) recurrent layer(s) of one registered variant.

    Args:
        variant: a registered name (`zoo.list_variants()`), e.g. `"lstm"`, `"cifg"`, `"bi-gru"`.
        units: state size of each level (per direction).
        num_layers: levels stacked; each level but the last returns sequences to the next.
        dropout: dropout rate on the outputs between levels (not after the last). Dropout inside
            each level, as Keras' `LSTM(dropout=..., recurrent_dropout=...)` (one mask per
            sequence), goes in `cell_options={"dropout": 0.2, "recurrent_dropout": 0.2}`.
        return_sequences: return the output at every step instead of the last one.
        return_state: also return the final states: those of level 1, then level 2, ...
            (each level's forward then backward states for `bi-` variants).
        go_backwards: process the sequence backwards (and return the reversed sequence).
        stateful: carry the final states of a batch over to the next batch.
        merge_mode: how `bi-` variants merge the directions: "concat", "sum", "ave" or "mul".
        implementation: "auto" uses a Keras built-in layer where it has the variant's math (cuDNN
            on a GPU), "builtin" insists on one, "zoo" always uses the zoo's own cell.
        unroll: unroll the time loop (short fixed sequences only).
        cell_options: further options of the variant's cell (see `zoo.cells`); `None` values
            fall back to the variant's defaults.

    Masking: a mask from `Embedding(mask_zero=True)` or `Masking` is passed to every level;
    masked steps keep the previous state.
    """

    def __init__(
        self,
        variant,
        units,
        num_layers=1,
        dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        merge_mode="concat",
        implementation="auto",
        unroll=False,
        cell_options=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.variant = get_variant(variant)
        self.units = positive_int("units", units)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = dropout_rate("dropout", dropout)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"`merge_mode` must be one of {', '.join(MERGE_MODES)}, got merge_mode={merge_mode!r}.")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"`implementation` must be one of {', '.join(IMPLEMENTATIONS)}, got implementation={implementation!r}."
            )
        self.return_sequences = flag("return_sequences", return_sequences)
        self.return_state = flag("return_state", return_state)
        self.go_backwards = flag("go_backwards", go_backwards)
        self.stateful = flag("stateful", stateful)
        self.merge_mode = merge_mode
        self.implementation = implementation
        self.unroll = flag("unroll", unroll)
        self.cell_options = dict(cell_options or {})
        self._options = _cell_options(self.variant, self.cell_options)
        self.uses_builtin = _uses_builtin(self.variant, self._options, implementation)
        self.supports_masking = True

        self.levels = []
        self.dropouts = []
        for level in range(self.num_layers):
            last = level == self.num_layers - 1
            rnn_args = dict(
                return_sequences=self.return_sequences if last else True,
                return_state=self.return_state,
                go_backwards=self.go_backwards,
                stateful=self.stateful,
                unroll=self.unroll,
                name=f"{self.variant.base or self.variant.name}_{level}",
                dtype=self.dtype_policy,  # e.g. mixed_float16 given to this layer reaches every level
            )
            family = self.variant.family_entry
            if self.uses_builtin:
                layer = family.builtin_layer(self.units, self._options, **rnn_args)
            else:
                cell = family.cell(self.units, dtype=self.dtype_policy, **self._options)
                layer = family.layer(cell, **rnn_args)
            if self.variant.bidirectional:
                layer = keras.layers.Bidirectional(layer, merge_mode=merge_mode, name=f"bidirectional_{level}",
                                                   dtype=self.dtype_policy)
            self.levels.append(layer)
            if not last and self.dropout > 0:
                self.dropouts.append(keras.layers.Dropout(self.dropout, name=f"dropout_{level}", dtype=self.dtype_policy))
            else:
                self.dropouts.append(None)

    @property
    def runs_as(self) -> str:
        """What computes this layer, e.g. "keras.layers.LSTM" (cuDNN on a GPU), "keras.layers.LSTM
        on torch.lstm" (PyTorch's kernel, `zoo.kernels`), "StepRNN(MUTCell)" or
        "ProjectedRNN(MinGRUCell, sequential)": the loop a projected cell takes depends on the
        backend and device (see `zoo.scan`)."""
        level = self.levels[0].forward_layer if self.variant.bidirectional else self.levels[0]
        if self.uses_builtin:  # Keras' own, or its twin on PyTorch's fused kernel (zoo.kernels)
            text = getattr(level, "runs_as", f"keras.layers.{type(level).__name__}")
        else:
            cell = level.cell
            loop = f", {cell.loop()}" if hasattr(cell, "loop") else ""
            text = f"{type(level).__name__}({type(cell).__name__}{loop})"
        return f"Bidirectional({text})" if self.variant.bidirectional else text

    @property
    def output_units(self) -> int:
        """Size of the last axis of the output."""
        return self.units * (2 if self.variant.bidirectional and self.merge_mode == "concat" else 1)

    @property
    def state_sizes(self) -> list[int]:
        """Sizes of the state tensors of one level, in order (forward then backward)."""
        first = self.levels[0].forward_layer if self.variant.bidirectional else self.levels[0]
        size = first.cell.state_size  # the built-in cells' sizes match the zoo cells'
        return (list(size) if isinstance(size, (list, tuple)) else [size]) * (2 if self.variant.bidirectional else 1)

    @property
    def states_per_level(self) -> int:
        """How many state tensors each level returns (and takes as `initial_state`)."""
        return len(self.state_sizes)

    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) != 3:
            raise ValueError(
                f"recurrent layer {self.variant.name!r} expects inputs of rank 3 (batch, timesteps, "
                f"features), got shape {tuple(sequences_shape)} of rank {len(sequences_shape)}."
            )
        shape = tuple(sequences_shape)
        for layer in self.levels:
            layer.build(shape)
            out = layer.compute_output_shape(shape)
            if self.return_state:
                out = out[0]
            shape = (shape[0], shape[1], out[-1])
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if initial_state is not None:
            initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            expected = self.states_per_level * self.num_layers
            if len(initial_state) != expected:
                raise ValueError(
                    f"`initial_state` of {self.variant.name!r} with num_layers={self.num_layers} needs "
                    f"{expected} tensors ({self.states_per_level} per level), got {len(initial_state)}."
                )
        x = sequences
        states = []
        for level, (layer, dropout) in enumerate(zip(self.levels, self.dropouts)):
            level_state = None
            if initial_state is not None:
                k = self.states_per_level
                level_state = initial_state[level * k : (level + 1) * k]
            out = layer(x, initial_state=level_state, mask=mask, training=training)
            if self.return_state:
                x, level_states = out[0], list(out[1:])
                states.extend(level_states)
            else:
                x = out
            if dropout is not None:
                x = dropout(x, training=training)
        return [x, *states] if self.return_state else x

    def compute_mask(self, sequences, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * (self.states_per_level * self.num_layers)
        return output_mask

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        output = (batch, steps, self.output_units) if self.return_sequences else (batch, self.output_units)
        if not self.return_state:
            return output
        state_shapes = [(batch, size) for size in self.state_sizes] * self.num_layers
        return [output, *state_shapes]

    def reset_states(self):
        for layer in self.levels:
            if isinstance(layer, keras.layers.Bidirectional):
                layer.forward_layer.reset_states()
                layer.backward_layer.reset_states()
            else:
                layer.reset_states()

    def get_config(self):
        return {
            **super().get_config(),
            "variant": self.variant.name,
            "units": self.units,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "merge_mode": self.merge_mode,
            "implementation": self.implementation,
            "unroll": self.unroll,
            "cell_options": self.cell_options,
        }


from zoo import registry as _registry  # noqa: E402

Recurrent.__doc__ = (Recurrent.__doc__ or "") + _registry._variants_doc().replace("\n", "\n    ")


def recurrent_layer(variant, units, num_layers=1, **kwargs) -> Recurrent:
    """A `Recurrent` layer of `variant`; see `Recurrent` for the arguments."""
    return Recurrent(variant, units, num_layers=num_layers, **kwargs)
