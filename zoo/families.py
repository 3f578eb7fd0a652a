"""Cell families: one entry says everything the zoo needs to know about a family.

A family is a zoo cell class (one time step) and:

- `builtin`: the name of the Keras layer with the same math, if there is one (`"LSTM"`), with
  `builtin_requires`, the cell options under which the math is the same, and `builtin_ignores`,
  options that change no number (an initializer of weights the built-in layer lacks);
- `layer`: the layer that runs the cell over a sequence (`keras.layers.RNN` by default);
- `flops`: the matmul work of one step for one example, for the benchmark (by default twice the
  size of every 2-D weight whose name has "kernel" in it: each is used once per step).

`make_cell`, `Recurrent`, the built-in fast path and the benchmark read only this entry. Adding a
family is a cell class (a subclass of `zoo.cells.ZooCell` gets units, initializers and dropout)
and one `register_family(Family(...))`; its variants are then `zoo.register_variant(...)`.

    >>> from zoo.families import get_family
    >>> get_family("lstm").builtin
    'LSTM'
    >>> sorted(get_family("gru").options)[:3]
    ['bias_initializer', 'dropout', 'kernel_initializer']
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping

import keras

from zoo.cells import ElmanCell, GatedCell, GRUCell
from zoo.cells_2024 import MLSTMCell, RGLRUCell, SLSTMCell
from zoo.checks import unknown_name
from zoo.kernels import fused_layer
from zoo.modern_cells import IndRNNCell, LRUCell, MinGRUCell, MinLSTMCell, MUTCell
from zoo.scan import MatrixMemoryRNN, ProjectedRNN, StepRNN, ZooRNN

__all__ = ["Family", "register_family", "get_family", "list_families", "kernel_flops"]


def kernel_flops(cell: keras.layers.Layer, input_dim: int) -> float:
    """2 x the size of every 2-D weight named "*kernel*": the multiply-adds of one step, one example."""
    return 2.0 * sum(
        float(w.shape[0]) * float(w.shape[1]) for w in cell.weights if len(w.shape) == 2 and "kernel" in w.name
    )


@dataclass(frozen=True)
class Family:
    """One family of cells.

    Attributes:
        name: registry name, e.g. `"lstm"`; a `Variant` names its family.
        cell: the zoo cell class, `cell(units, **options)`.
        description: one line.
        builtin: name of the `keras.layers` layer with this family's math (`"LSTM"`), or None.
        builtin_requires: cell option -> the value it must have for the built-in layer to have
            the same math (an option not given counts at the cell's default).
        builtin_ignores: cell options the built-in layer lacks that change no number.
        layer: the layer class that runs the cell over time, called as `layer(cell, **rnn_args)`.
        flops: `flops(built_cell, input_dim)`: matmul FLOPs of one step for one example.
    """

    name: str
    cell: type
    description: str
    builtin: str | None = None
    builtin_requires: Mapping[str, Any] = field(default_factory=dict)
    builtin_ignores: tuple[str, ...] = ()
    layer: Callable[..., keras.layers.Layer] = StepRNN
    flops: Callable[[keras.layers.Layer, int], float] = kernel_flops

    @cached_property
    def option_defaults(self) -> dict[str, Any]:
        """Every argument of the cell but `units`, with its default, read off the constructors
        of the cell class and of its bases down to Keras' own classes."""
        defaults: dict[str, Any] = {}
        for cls in self.cell.__mro__:
            if cls.__module__.startswith("keras") or "__init__" not in cls.__dict__:
                continue
            for name, parameter in inspect.signature(cls.__init__).parameters.items():
                if name in ("self", "units") or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                    continue
                defaults.setdefault(name, parameter.default)
        return defaults

    @property
    def options(self) -> frozenset[str]:
        """The names of the cell's options (its arguments but `units`)."""
        return frozenset(self.option_defaults)

    def matches_builtin(self, options: Mapping[str, Any]) -> bool:
        """Whether the built-in layer has exactly the math of the cell with these options."""
        if self.builtin is None:
            return False
        return all(options.get(key, self.option_defaults[key]) == value for key, value in self.builtin_requires.items())

    def builtin_layer(self, units: int, options: Mapping[str, Any], **rnn_args) -> keras.layers.Layer:
        """The Keras built-in layer with these cell options (which must match, see `matches_builtin`);
        on torch its twin that runs PyTorch's fused kernel (`zoo.kernels`)."""
        skip = set(self.builtin_requires) | set(self.builtin_ignores)
        return fused_layer(self.builtin)(
            units, **{k: v for k, v in options.items() if k not in skip}, **rnn_args
        )

    def step_flops(self, units: int, input_dim: int, options: Mapping[str, Any] | None = None) -> float:
        """Matmul FLOPs of one forward step for one example (built on a throwaway cell)."""
        cell = self.cell(units, **(options or {}))
        cell.build((None, input_dim))
        return self.flops(cell, input_dim)


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add a family; checks that its built-in layer exists and its options are the cell's."""
    if family.name in _FAMILIES:
        raise ValueError(f"family {family.name!r} is already registered")
    if family.builtin is not None and not hasattr(keras.layers, family.builtin):
        raise ValueError(f"family {family.name!r}: keras.layers has no layer {family.builtin!r}")
    unknown = (set(family.builtin_requires) | set(family.builtin_ignores)) - family.options
    if unknown:
        raise ValueError(f"family {family.name!r}: {sorted(unknown)} are not options of {family.cell.__name__}; "
                         f"its options: {', '.join(sorted(family.options))}")
    _FAMILIES[family.name] = family
    return family


def list_families() -> list[str]:
    return sorted(_FAMILIES)


def get_family(name: str | Family) -> Family:
    """The family called `name`; an unknown name is an error listing the valid ones."""
    if isinstance(name, Family):
        return name
    if name in _FAMILIES:
        return _FAMILIES[name]
    raise unknown_name("family", name, _FAMILIES, plural="families")


# --- the families --------------------------------------------------------------------------------

register_family(Family(
    "elman", ElmanCell, "Elman RNN: one layer fed back on itself",
    builtin="SimpleRNN",  # takes the activation and initializers itself
    builtin_ignores=("scan",), layer=ZooRNN,
))
register_family(Family(
    "lstm", GatedCell, "the LSTM and Greff et al.'s variants of it (peepholes, gates, coupling, activations)",
    builtin="LSTM",
    builtin_requires={"peepholes": False, "input_gate": True, "forget_gate": True, "output_gate": True,
                      "coupled": False, "input_activation": "tanh", "output_activation": "tanh",
                      "full_gate_recurrence": False},
    builtin_ignores=("peephole_initializer", "scan"), layer=ZooRNN,
))
register_family(Family(
    "gru", GRUCell, "gated recurrent unit, reset gate before or after the recurrent matmul",
    builtin="GRU",  # keras.layers.GRU takes reset_after itself: every GRU cell has a built-in twin
    builtin_ignores=("scan",), layer=ZooRNN,
))

# The cells after the LSTM and GRU. Those whose input enters through one matmul and whose
# recurrence is element-wise run on `ProjectedRNN`: the projection of every step in one matmul,
# then only element-wise work over time (a parallel scan on a GPU for the linear ones).
register_family(Family("mingru", MinGRUCell, "minimal GRU: gates from the input only, linear recurrence",
                       layer=ProjectedRNN))
register_family(Family("minlstm", MinLSTMCell, "minimal LSTM: gates from the input only, linear recurrence",
                       layer=ProjectedRNN))
register_family(Family("indrnn", IndRNNCell, "independently recurrent units: element-wise recurrent weights",
                       layer=ProjectedRNN))
register_family(Family("lru", LRUCell, "linear recurrent unit: complex diagonal linear recurrence, linear read-out",
                       layer=ProjectedRNN))
register_family(Family("mut", MUTCell, "the three architectures found by Jozefowicz et al.'s search"))


def _slstm_flops(cell, input_dim):
    """The input matmul and the block-diagonal recurrent one (heads x size x 4 size)."""
    return 2.0 * (input_dim * 4 * cell.units + cell.heads * cell.head_size * 4 * cell.head_size)


def _mlstm_flops(cell, input_dim):
    """The input matmul, then per head the memory write (v k^T) and read (C q): 2 d^2 each."""
    return 2.0 * input_dim * (4 * cell.units + 2 * cell.heads) + 4.0 * cell.heads * cell.head_size ** 2


# The cells of 2024: the xLSTM cells (the sLSTM's gates read h_{t-1}; the mLSTM's read x_t only,
# so its memory also has a parallel form) and Griffin's RG-LRU, a linear element-wise recurrence.
register_family(Family("slstm", SLSTMCell, "xLSTM's sLSTM: exponential gating, normaliser and stabiliser states",
                       layer=ZooRNN, flops=_slstm_flops))
register_family(Family("mlstm", MLSTMCell, "xLSTM's mLSTM: matrix memory with a covariance update, gates from x_t",
                       layer=MatrixMemoryRNN, flops=_mlstm_flops))
register_family(Family("rglru", RGLRUCell, "Griffin's real-gated linear recurrent unit", layer=ProjectedRNN))
