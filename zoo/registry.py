"""The variant registry: every recurrent variant is a few lines of data registered by name.

    >>> import zoo
    >>> zoo.list_variants("*lstm*")
    ['bi-lstm', 'bi-minlstm', 'bi-mlstm', 'bi-slstm', 'lstm', 'minlstm', 'mlstm', 'slstm']
    >>> zoo.get_variant("cifg").citation
    'Greff et al. 2015, LSTM: A Search Space Odyssey'
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from typing import Any

from zoo.checks import unknown_name
from zoo.families import Family, get_family

__all__ = ["Variant", "register_variant", "list_variants", "get_variant", "UnknownVariantError", "variants_markdown"]



class UnknownVariantError(ValueError):
    """An unknown variant name; the message lists the valid names and the closest matches."""


@dataclass(frozen=True)
class Variant:
    """One registered recurrent variant.

    Attributes:
        name: registry name, e.g. `"peephole"` or `"bi-gru"`.
        family: the name of its `zoo.families.Family` (`"elman"`, `"lstm"`, `"gru"`, ...): which
            zoo cell runs it.
        description: one line.
        citation: where the variant comes from.
        equations: the update equations, plain text.
        cell_options: arguments of the family's cell that make this variant.
        bidirectional: run in both directions (`keras.layers.Bidirectional`).
        base: for a bidirectional variant, the name of the one-directional variant.
        tags: free labels used by grids and `list_variants(tag=...)`, e.g. `"core"`, `"greff"`.
        advice: when the variant is worth trying, in a sentence.
    """

    name: str
    family: str
    description: str
    citation: str
    equations: str
    cell_options: dict[str, Any] = field(default_factory=dict)
    bidirectional: bool = False
    base: str | None = None
    tags: tuple[str, ...] = ()
    advice: str = ""

    @property
    def family_entry(self) -> Family:
        return get_family(self.family)

    @property
    def builtin(self) -> bool:
        """Whether a Keras built-in layer has exactly this math; the builder then uses it (cuDNN
        on a GPU) unless asked for the zoo's own cell. Read off the family."""
        return self.family_entry.matches_builtin(self.cell_options)

    @property
    def builtin_layer(self) -> str | None:
        """Name of the Keras layer with this math, or None."""
        return self.family_entry.builtin if self.builtin else None

    @property
    def runs_as(self) -> str:
        """What runs it: `keras.layers.LSTM`, or the zoo cell class."""
        return f"keras.layers.{self.builtin_layer}" if self.builtin else f"zoo {self.family_entry.cell.__name__}"

    def summary(self) -> str:
        return f"{self.name}: {self.description} ({self.citation})"


_REGISTRY: dict[str, Variant] = {}
_ALIASES: dict[str, str] = {}


def register_variant(variant: Variant, *, aliases: tuple[str, ...] = (), bidirectional: bool = True) -> Variant:
    """Register a variant and, unless `bidirectional=False`, its `bi-` form.

    The family must be registered (`zoo.families.register_family`) and the options must be its
    cell's arguments.
    """
    family = get_family(variant.family)
    unknown = set(variant.cell_options) - family.options
    if unknown:
        raise ValueError(f"variant {variant.name!r}: unknown cell option(s) {', '.join(map(repr, sorted(unknown)))} "
                         f"for family {family.name!r}; its options: {', '.join(sorted(family.options))}")
    for name in (variant.name, *aliases):
        if name in _REGISTRY or name in _ALIASES:
            raise ValueError(f"variant {name!r} is already registered")
    _REGISTRY[variant.name] = variant
    for alias in aliases:
        _ALIASES[alias] = variant.name
    if bidirectional and not variant.bidirectional:
        bi = replace(
            variant,
            name=f"bi-{variant.name}",
            description=f"bidirectional {variant.name}: {variant.description}",
            citation=f"{variant.citation}; Schuster & Paliwal 1997",
            equations=(
                f"forward and backward {variant.name} over the sequence, outputs merged "
                "(concat by default):\n" + variant.equations
            ),
            bidirectional=True,
            base=variant.name,
            tags=tuple(t for t in variant.tags if t != "core") + ("bidirectional",),
        )
        _REGISTRY[bi.name] = bi
        for alias in aliases:
            _ALIASES[f"bi-{alias}"] = bi.name
    return variant


def list_variants(pattern: str = "*", *, tag: str | None = None) -> list[str]:
    """Sorted names of the registered variants matching a shell-style `pattern` (and `tag`).

    Aliases are not listed; `get_variant` accepts them.
    """
    names = [n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern.lower())]
    if tag is not None:
        tags = list_tags()
        if tag not in tags:
            raise unknown_name("tag", tag, tags)
        names = [n for n in names if tag in _REGISTRY[n].tags]
    return sorted(names)


def list_tags() -> list[str]:
    """Every tag a registered variant carries (core, greff, modern, bidirectional, ...)."""
    return sorted({tag for variant in _REGISTRY.values() for tag in variant.tags})


def get_variant(name: str | Variant) -> Variant:
    """The registered `Variant` called `name` (or an alias of it).

    Raises:
        UnknownVariantError: (a `ValueError`) listing the valid names and the closest matches.
    """
    if isinstance(name, Variant):
        return name
    if not isinstance(name, str):
        raise UnknownVariantError(f"variant must be a name (str), got {name!r} of type {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key in _REGISTRY:
        return _REGISTRY[key]
    raise unknown_name("variant", name, _REGISTRY, error=UnknownVariantError,
                       suggest_from=[*_REGISTRY, *_ALIASES], match=key) from None


# --- the variants -------------------------------------------------------------------------------

_GREFF = "Greff et al. 2015, LSTM: A Search Space Odyssey"
_LSTM_EQ = (
    "i = sig(W_i x + R_i h' + b_i); f = sig(W_f x + R_f h' + b_f); "
    "z = tanh(W_z x + R_z h' + b_z); o = sig(W_o x + R_o h' + b_o); "
    "c = f*c' + i*z; h = o*tanh(c)"
)
_PEEP_EQ = (
    "i = sig(W_i x + R_i h' + p_i*c' + b_i); f = sig(W_f x + R_f h' + p_f*c' + b_f); "
    "z = tanh(W_z x + R_z h' + b_z); c = f*c' + i*z; "
    "o = sig(W_o x + R_o h' + p_o*c + b_o); h = o*tanh(c)"
)


def _greff(name, description, equations, tags=("greff",), advice="studying what each part of the LSTM does "
           "(Greff et al.'s ablations)", **options):
    """A Greff et al. 2015 ablation: the peephole LSTM with one thing changed."""
    return Variant(
        name=name,
        family="lstm",
        description=description,
        citation=_GREFF,
        equations=equations,
        cell_options={"peepholes": True, **options},
        tags=tags,
        advice=advice,
    )


for _variant, _aliases in [
    (
        Variant(
            "vanilla",
            "elman",
            "Elman RNN: one tanh layer fed back on itself",
            "Elman 1990, Finding Structure in Time",
            "h = tanh(W x + U h' + b)",
            tags=("core",),
            advice="a baseline: short dependencies only; the cheapest step",
        ),
        ("elman", "simple-rnn", "simplernn", "rnn"),
    ),
    (
        Variant(
            "lstm",
            "lstm",
            "LSTM with forget gate, no peepholes (Greff's NP); forget bias starts at 1",
            "Hochreiter & Schmidhuber 1997; Gers et al. 2000; Jozefowicz et al. 2015",
            _LSTM_EQ,
            tags=("core", "greff"),
            advice="the default; long dependencies; cuDNN on a GPU",
        ),
        ("np",),
    ),
    (
        Variant(
            "peephole",
            "lstm",
            "LSTM with diagonal peepholes: i, f see c_{t-1}, o sees c_t (Greff's vanilla LSTM)",
            "Gers & Schmidhuber 2000, Recurrent Nets that Time and Count",
            _PEEP_EQ,
            cell_options={"peepholes": True},
            tags=("core", "greff"),
            advice="precise timing (Gers & Schmidhuber); Greff et al.'s reference LSTM",
        ),
        ("peephole-lstm", "v"),
    ),
    (
        _greff(
            "cifg",
            "coupled input-forget gate: i = 1 - f, peepholes on f and o (GRU-like, 3 blocks)",
            "f = sig(W_f x + R_f h' + p_f*c' + b_f); i = 1 - f; z = tanh(W_z x + R_z h' + b_z); "
            "c = f*c' + i*z; o = sig(W_o x + R_o h' + p_o*c + b_o); h = o*tanh(c)",
            coupled=True,
            tags=("core", "greff"),
            advice="LSTM quality with a quarter fewer weights (Greff et al.: not worse)",
        ),
        (),
    ),
    (_greff("nig", "no input gate: i = 1", "as peephole with i = 1: c = f*c' + z", input_gate=False), ()),
    (_greff("nfg", "no forget gate: f = 1", "as peephole with f = 1: c = c' + i*z", forget_gate=False), ()),
    (_greff("nog", "no output gate: o = 1", "as peephole with o = 1: h = tanh(c)", output_gate=False), ()),
    (
        _greff(
            "niaf",
            "no input activation function: z is linear",
            "as peephole with z = W_z x + R_z h' + b_z",
            input_activation="linear",
        ),
        (),
    ),
    (
        _greff(
            "noaf",
            "no output activation function: h = o * c",
            "as peephole with h = o*c",
            output_activation="linear",
        ),
        (),
    ),
    (
        _greff(
            "fgr",
            "full gate recurrence: every gate also sees all gates' previous activations",
            "as peephole, each gate g in {i,f,o} adds sum_k R_{g,k} k' for k in {i,f,o}",
            full_gate_recurrence=True,
        ),
        (),
    ),
    (
        Variant(
            "gru",
            "gru",
            "GRU, reset gate after the recurrent matmul (cuDNN/PyTorch form)",
            "Cho et al. 2014; Chung et al. 2014",
            "z = sig(W_z x + U_z h' + b_z); r = sig(W_r x + U_r h' + b_r); "
            "n = tanh(W_h x + b_h + r*(U_h h' + b'_h)); h = z*h' + (1-z)*n",
            cell_options={"reset_after": True},
            tags=("core",),
            advice="LSTM quality with three quarters of the weights; cuDNN on a GPU",
        ),
        (),
    ),
    (
        Variant(
            "gru-original",
            "gru",
            "GRU as first published, reset gate before the recurrent matmul",
            "Cho et al. 2014, Learning Phrase Representations using RNN Encoder-Decoder",
            "z = sig(W_z x + U_z h' + b_z); r = sig(W_r x + U_r h' + b_r); "
            "n = tanh(W_h x + U_h (r*h') + b_h); h = z*h' + (1-z)*n",
            cell_options={"reset_after": False},
            advice="reproducing papers that use Cho et al.'s form",
        ),
        ("gru-v1", "gru-reset-before"),
    ),
]:
    register_variant(_variant, aliases=_aliases)

# --- the cells after the LSTM and GRU ------------------------------------------------------------

_MUT = "Jozefowicz et al. 2015, An Empirical Exploration of Recurrent Network Architectures"
_MUT_H = "h = tanh(W_hh (r*h') + {x}) * z + h' * (1 - z)"
for _variant in [
    Variant("irnn", "elman", "Elman RNN with ReLU and identity-initialised recurrence (W ~ N(0, 0.001))",
            "Le, Jaitly & Hinton 2015, A Simple Way to Initialize Recurrent Networks of Rectified Linear Units",
            "h = relu(W x + U h' + b), U = I and b = 0 at the start",
            cell_options={"activation": "relu", "recurrent_initializer": "identity",
                          "kernel_initializer": {"class_name": "RandomNormal", "config": {"stddev": 0.001}}},
            tags=("modern",),
            advice="long dependencies with a plain RNN; the paper trains it with SGD, learning rate 1e-2 to 1e-8 "
                   "and gradient clipping at 1"),
    Variant("mingru", "mingru", "minimal GRU: gates from x_t only, h = (1-z)*h' + z*h~, linear in h",
            "Feng et al. 2024, Were RNNs All We Needed?",
            "z = sig(W_z x + b_z); h~ = W_h x + b_h; h = (1 - z)*h' + z*h~",
            tags=("modern",),
            advice="long sequences on a budget: no matmul in the loop, a parallel scan on a GPU"),
    Variant("minlstm", "minlstm", "minimal LSTM: normalised gates from x_t only, linear in h",
            "Feng et al. 2024, Were RNNs All We Needed?",
            "f = sig(W_f x + b_f); i = sig(W_i x + b_i); h~ = W_h x + b_h; "
            "h = f/(f+i) * h' + i/(f+i) * h~",
            tags=("modern",),
            advice="as mingru, with separate forget and input gates"),
    Variant("indrnn", "indrnn", "independently recurrent units: h = relu(W x + u*h' + b), u element-wise",
            "Li et al. 2018, Independently Recurrent Neural Network (IndRNN)",
            "h = relu(W x + u*h' + b), |u| <= 2^(1/T) as an option (recurrent_max_abs)",
            tags=("modern",),
            advice="very long sequences and deep stacks: no matmul in the loop, ReLU without exploding"),
    Variant("mut1", "mut", "MUT1: update gate from x only, tanh(x) in the candidate", _MUT,
            "z = sig(W_xz x + b_z); r = sig(W_xr x + W_hr h' + b_r); " + _MUT_H.format(x="tanh(x) + b_h"),
            cell_options={"architecture": "mut1"}, tags=("modern",),
            advice="a GRU alternative that Jozefowicz et al. found as good or better on their tasks"),
    Variant("mut2", "mut", "MUT2: x itself in the reset gate", _MUT,
            "z = sig(W_xz x + W_hz h' + b_z); r = sig(x + W_hr h' + b_r); " + _MUT_H.format(x="W_xh x + b_h"),
            cell_options={"architecture": "mut2"}, tags=("modern",),
            advice="as mut1"),
    Variant("mut3", "mut", "MUT3: the update gate sees tanh(h')", _MUT,
            "z = sig(W_xz x + W_hz tanh(h') + b_z); r = sig(W_xr x + W_hr h' + b_r); "
            + _MUT_H.format(x="W_xh x + b_h"),
            cell_options={"architecture": "mut3"}, tags=("modern",),
            advice="as mut1"),
    Variant("lru", "lru", "linear recurrent unit: complex diagonal recurrence, stable exponential "
            "parameterisation, normalised input, real linear read-out",
            "Orvieto et al. 2023, Resurrecting Recurrent Neural Networks for Long Sequences",
            "lambda = exp(-exp(nu) + i exp(theta)); x = lambda*x' + gamma*(B u); y = Re(C x) + D u",
            tags=("modern",),
            advice="very long sequences, stacked with non-linear layers between (as in the paper)"),
]:
    register_variant(_variant)

_XLSTM = "Beck et al. 2024, xLSTM: Extended Long Short-Term Memory"
for _variant in [
    Variant("slstm", "slstm", "scalar xLSTM: exponential input gate, normaliser state, stabilised; recurrent "
            "weights per head", _XLSTM,
            "i = exp(i~); f = sig(f~) or exp(f~); z = tanh(z~); o = sig(o~), each W x + R h' + b; "
            "c = f*c' + i*z; n = f*n' + i; h = o*c/n; stabiliser m = max(log f + m', i~)",
            tags=("modern",),
            advice="an LSTM whose exponential input gate can revise what it stored (state tracking, "
                   "Beck et al.); the cost of an LSTM step"),
    Variant("mlstm", "mlstm", "matrix xLSTM: a d x d memory per head written by v k^T, gates from x_t only",
            _XLSTM,
            "q, k/sqrt(d), v, o = W x + b; i = exp(i~), f = sig(f~) (scalars per head); "
            "C = f*C' + i*v k^T; n = f*n' + i*k; h = o*(C q)/max(|n.q|, 1)",
            tags=("modern",),
            advice="associative recall (storing key-value pairs); trains in a parallel form like attention"),
    Variant("rglru", "rglru", "real-gated linear recurrent unit (Hawk, Griffin): gated diagonal decay, "
            "normalised input, linear in h",
            "De et al. 2024, Griffin: Mixing Gated Linear Recurrences with Local Attention for Efficient "
            "Language Models",
            "r = sig(W_a x + b_a); i = sig(W_x x + b_x); log a_t = -8 r softplus(-Lambda); "
            "h = a_t*h' + sqrt(1 - a_t^2)*(i*(W_u x + b_u))",
            tags=("modern",),
            advice="long sequences: no matmul in the loop, a parallel scan on a GPU, an input-dependent decay"),
]:
    register_variant(_variant)

# The bidirectional LSTM is the core bidirectional variant of the zoo.
_REGISTRY["bi-lstm"] = replace(_REGISTRY["bi-lstm"], tags=_REGISTRY["bi-lstm"].tags + ("core",))


def variants_markdown() -> str:
    """The variant table of the README: every one-directional variant, what it is, where it comes
    from and what runs it, then the bidirectional forms; generated from the registry."""
    lines = ["| name | what it is | worth trying when | from | runs as |", "|---|---|---|---|---|"]
    for name in list(_REGISTRY):  # registration order: the classic cells first
        v = _REGISTRY[name]
        if not v.bidirectional:
            aliases = sorted(a for a, target in _ALIASES.items() if target == name)
            also = f" (also {', '.join(f'`{a}`' for a in aliases)})" if aliases else ""
            lines.append(f"| `{name}`{also} | {v.description} | {v.advice or '–'} | {v.citation} | {v.runs_as} |")
    lines.append("| `bi-<name>` | every variant above in both directions, outputs merged | the whole sequence is "
                 "known before the output is needed (tagging, classification) | Schuster & Paliwal 1997 "
                 "| `keras.layers.Bidirectional` |")
    return "\n".join(lines)


def _variants_doc() -> str:
    """The registered one-directional variants with description, citation and equations."""
    lines = ["", "Registered variants (each also as `bi-<name>`):", ""]
    for name in list_variants():
        v = _REGISTRY[name]
        if v.bidirectional:
            continue
        lines += [f"- ``{name}``: {v.description}. {v.citation}.", f"    {v.equations}"]
    return "\n".join(lines)


__doc__ = (__doc__ or "") + _variants_doc()
