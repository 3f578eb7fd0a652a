"""Model and training settings: defaults, allowed values, coercion and checks, in one place.

A grid, a search space or `--set` changes a setting by its name (`model.units`,
`train.learning_rate`); every value is coerced to the setting's type and checked here, with the
valid range in the message, before anything trains.

    >>> from experiments.settings import check_setting, defaults
    >>> defaults("model")["units"]
    128
    >>> check_setting("train.learning_rate", "3e-4")
    0.0003

A setting added after results were first stored is declared with `added_later=True`: a run at
its default keeps the key it had before the setting existed, so stored runs are not trained
again (a test fails when a new setting forgets it).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from zoo.layers import IMPLEMENTATIONS
from zoo.models import CONTEXTS

__all__ = ["Setting", "SETTINGS", "SECTIONS", "OPTIMIZERS", "coerce", "get_setting", "apply_settings", "check_setting", "defaults", "check_seeds",
           "settings_help", "settings_markdown"]

# Each `train.optimizer` choice: the Keras optimizer class and its fixed arguments
# (experiments.train.make_optimizer builds it).
OPTIMIZERS = {
    "adam": ("Adam", {}), "adamw": ("AdamW", {}), "rmsprop": ("RMSprop", {}), "sgd": ("SGD", {}), "nadam": ("Nadam", {}),
    # Graves 2013, "Generating Sequences With Recurrent Neural Networks", eq. 38-41: the RMSProp of
    # Graves' weight-noise experiments, and of the Theano library (jych/cle) of Chung et al. 2014's
    # first author; their paper says only "RMSProp".
    "rmsprop-graves": ("RMSprop", {"rho": 0.95, "momentum": 0.9, "epsilon": 1e-4, "centered": True}),
}
SECTIONS = ("model", "train")


@dataclass(frozen=True)
class Setting:
    """One setting: `section.name`, its default and what values it allows.

    `low`/`high` bound numbers (inclusive unless `low_open`/`high_open`); `choices` lists the
    valid values of a string setting; `added_later` marks a setting that did not exist when
    results were first stored.
    """

    section: str
    name: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    added_later: bool = False

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    def valid_text(self) -> str:
        """The valid values in words, for messages and `settings_help`."""
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[type(self.default)]
        if self.low is not None and self.high is not None:
            return f"{kind} in {'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {_num(self.low)}"
        return kind

    def check(self, value):
        """`value` coerced to this setting's type; a ValueError naming the setting, the value and
        the valid values otherwise."""
        value = coerce(self.key, value, self.default)
        bad = (
            (self.choices is not None and value not in self.choices)
            or (self.low is not None and (value <= self.low if self.low_open else value < self.low))
            or (self.high is not None and (value >= self.high if self.high_open else value > self.high))
        )
        if bad:
            if self.low is not None and self.high is not None and self.choices is None:
                raise ValueError(f"{self.key} must be in {self.valid_text().split(' in ', 1)[1]}, got {value!r}.")
            raise ValueError(f"{self.key} must be {self.valid_text()}, got {value!r}.")
        return value


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


SETTINGS: tuple[Setting, ...] = (
    # Model: what `zoo` builds for every task's topology.
    Setting("model", "units", 128, "state size of each recurrent level (per direction)", low=1),
    Setting("model", "num_layers", 1, "recurrent levels stacked", low=1),
    Setting("model", "dropout", 0.0, "dropout between stacked levels", low=0, high=1, high_open=True),
    Setting("model", "embedding_dim", 64, "size of the token embedding (token tasks)", low=1),
    Setting("model", "implementation", "auto", "auto: Keras' built-in layer where it has the math; zoo: the zoo cell",
            choices=IMPLEMENTATIONS),
    Setting("model", "context", "initial_state", "encoder-decoder tasks: how the encoder's summary reaches the "
            "decoder (zoo.seq2seq)", choices=CONTEXTS, added_later=True),
    Setting("model", "attention", "none", "encoder-decoder tasks: attention over the encoder's outputs",
            choices=("none", "bahdanau", "luong"), added_later=True),
    Setting("model", "recurrent_dropout", 0.0, "variational dropout of the state inside each level (one mask per "
            "sequence)", low=0, high=1, high_open=True, added_later=True),
    Setting("model", "input_dropout", 0.0, "variational dropout of x_t inside each cell (one mask per sequence)",
            low=0, high=1, high_open=True, added_later=True),
    # Training.
    Setting("train", "optimizer", "adam", "the Keras optimizer; rmsprop-graves: RMSProp as Graves 2013 (eq. 38-41) "
            "and Chung's own library have it: centred, decay 0.95, momentum 0.9, epsilon 1e-4", choices=tuple(OPTIMIZERS)),
    Setting("train", "learning_rate", 1e-3, "the optimizer's learning rate", low=0, low_open=True),
    Setting("train", "clipnorm", 1.0, "clip each gradient to this norm; 0 turns clipping off", low=0),
    Setting("train", "batch_size", 64, "sequences per training step", low=1),
    Setting("train", "epochs", 10, "passes over the training split at most", low=1),
    Setting("train", "patience", 3, "epochs without a better validation loss before stopping early", low=0),
    Setting("train", "mixed_precision", False, "compute in float16 where it is safe (mixed_float16 policy)"),
    Setting("train", "jit_compile", "auto", "compile the training step with XLA: auto (Keras: on for JAX and for "
            "TensorFlow on a GPU), on, off", choices=("auto", "on", "off"), added_later=True),
    Setting("train", "weight_noise", 0.0, "standard deviation of Gaussian noise on every weight at each training "
            "step, never at evaluation (Graves 2011; zoo.WeightNoise)", low=0, added_later=True),
    Setting("train", "momentum", 0.0, "momentum of sgd and rmsprop (the other optimizers ignore it)", low=0, high=1,
            high_open=True, added_later=True),
)
_BY_KEY = {s.key: s for s in SETTINGS}


def defaults(section: str) -> dict[str, Any]:
    """The library defaults of a section ("model" or "train")."""
    if section not in SECTIONS:
        raise ValueError(f"unknown settings section {section!r}; valid sections: {', '.join(SECTIONS)}.")
    return {s.name: s.default for s in SETTINGS if s.section == section}


def get_setting(key: str, where: str = "") -> Setting:
    if key in _BY_KEY:
        return _BY_KEY[key]
    section = key.split(".", 1)[0]
    at = f" in {where}" if where else ""
    if section in SECTIONS:
        names = ", ".join(sorted(s.name for s in SETTINGS if s.section == section))
        raise ValueError(f"unknown setting {key}{at}; valid {section} settings: {names}.")
    raise ValueError(f"unknown setting {key!r}{at}; valid sections: {', '.join(SECTIONS)}.")


def check_setting(key: str, value, where: str = ""):
    """`value` of setting `key` ("model.units") coerced and checked."""
    return get_setting(key, where).check(value)


def apply_settings(target: dict, section: str, updates: dict, where: str) -> None:
    """Check `updates` of one section and write them into `target`; `None` keeps the value."""
    for name, value in updates.items():
        setting = get_setting(f"{section}.{name}", where)
        if value is not None:
            target[name] = setting.check(value)


def settings_help() -> str:
    """Every setting with its default and valid values, for the command line."""
    lines = []
    for s in SETTINGS:
        lines.append(f"  {s.key:<24} default {s.default!r:<8} {s.valid_text()}: {s.help}")
    return "\n".join(lines)


def settings_markdown() -> str:
    """Every setting as a Markdown table (the documentation's settings page)."""
    rows = ["| setting | default | valid values | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.key}` | `{s.default!r}` | {s.valid_text()} | {s.help} |")
    return "\n".join(rows)


def coerce(key: str, value, default):
    """`value` converted to the type of `default` (bool, int, float or str), or a ValueError
    naming `key` and the value. Numbers must be finite; NumPy numbers are accepted."""
    kind = type(default)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ValueError(f"{key} must be true or false, got {value!r}.")
    if kind is int:
        if isinstance(value, bool):
            raise ValueError(f"{key} must be an integer, got {value!r}.")
        number = _finite_number(value)
        if number is None or number != int(number):
            raise ValueError(f"{key} must be an integer, got {value!r}.")
        return int(number)
    if kind is float:
        number = None if isinstance(value, bool) else _finite_number(value)
        if number is None:
            raise ValueError(f"{key} must be a finite number, got {value!r}.")
        return number
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string, got {value!r}.")
        return value
    return value


def _finite_number(value) -> float | None:
    if isinstance(value, numbers.Real):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def check_seeds(seeds, where: str = "") -> list[int]:
    """Seeds as a list of distinct non-negative integers; a ValueError naming what is wrong."""
    at = f" in {where}" if where else ""
    seeds = list(seeds)
    if not seeds:
        raise ValueError(f"no seeds given{at}; give one or more non-negative integers, e.g. seeds=0,1,2.")
    out = []
    for seed in seeds:
        number = coerce("seeds", seed, 0)
        if number < 0:
            raise ValueError(f"seeds must be non-negative integers, got {seed!r}{at}.")
        if number in out:
            raise ValueError(f"seed {number} is given twice{at}; each seed is one run.")
        out.append(number)
    return out
