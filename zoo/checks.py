"""Argument checks shared by the zoo's cells, layers, builders and decoders, and the one error
every registry of the project raises for a name it does not know.

Each check returns the value in its plain Python type (NumPy numbers accepted), or raises a
ValueError that names the argument, the bad value and what is valid.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import math
import numbers
import os
from typing import Iterable

import numpy as np

__all__ = ["flag", "optional_name", "positive_int_arg", "non_negative_int_arg", "positive_float_arg", "non_negative_float_arg",
           "check_backend", "BACKENDS", "unknown_name", "positive_int", "non_negative_int", "dropout_rate", "check_input_rank", "one_of",
           "token_ids", "token_id", "check_temperature"]


# Keras' backends: the package each needs, and how to install it.
BACKENDS = {"tensorflow": ("tensorflow", 'pip install "tensorflow>=2.18,<3"'), "jax": ("jax", 'pip install "jax[cpu]"'),
            "torch": ("torch", "make install-torch, or pip install torch"), "numpy": (None, ""),
            "openvino": ("openvino", "pip install openvino")}


def check_backend() -> str | None:
    """`$KERAS_BACKEND` checked before Keras starts: a ValueError naming a backend Keras does not
    have (with the valid ones), or one whose package is not installed (with how to install it)."""
    name = os.environ.get("KERAS_BACKEND")
    if name is None:
        return None  # Keras' own default (or ~/.keras/keras.json)
    if name not in BACKENDS:
        raise ValueError(f"KERAS_BACKEND={name!r} is not a Keras backend; valid backends: {', '.join(sorted(BACKENDS))}.")
    package, install = BACKENDS[name]
    if package is not None and importlib.util.find_spec(package) is None:
        raise ValueError(f"KERAS_BACKEND={name} needs the {package} package, which is not installed here: {install}")
    return name


def unknown_name(kind: str, name, valid: Iterable[str], *, plural: str | None = None, error=ValueError,
                 suggest_from: Iterable[str] | None = None, match: str | None = None) -> Exception:
    """`error("unknown <kind> 'x'. Did you mean 'y'? Valid <plural>: a, b, c.")`, to be raised.

    `suggest_from` widens the names close matches are drawn from (e.g. aliases); `match` is the
    form of `name` to compare (e.g. lower-cased)."""
    valid = sorted(valid)
    close = difflib.get_close_matches(match or str(name), list(suggest_from or valid), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return error(f"unknown {kind} {name!r}.{hint} Valid {plural or kind + 's'}: {', '.join(valid)}.")


def positive_int(name, value) -> int:
    """`value` as an int if it is a positive integer (NumPy's included), else a ValueError naming
    the argument and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {name}={value!r}.")
    return int(value)


def non_negative_int(name, value) -> int:
    """`value` as an int if it is an integer >= 0 (NumPy's included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer, got {name}={value!r}.")
    return int(value)


def flag(name, value) -> bool:
    """`value` as a bool if it is True or False (NumPy's bools included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False, got {name}={value!r}.")
    return bool(value)


def optional_name(value) -> str | None:
    """A model's or layer's `name`: a string, or None for the default."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"`name` must be a string, got name={value!r}.")
    return value


def dropout_rate(name, value) -> float:
    """`value` as a float if it is a rate in [0, 1) (NumPy's numbers included), else a ValueError
    naming the argument and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1), got {name}={value!r}.")
    return float(value)


def check_input_rank(cell_name, input_shape) -> None:
    """A cell's `build` shape: (batch, features) with the features known."""
    if len(input_shape) != 2:
        raise ValueError(
            f"{cell_name} runs one time step and expects inputs of shape (batch, features), "
            f"got shape {tuple(input_shape)}. Wrap the cell in keras.layers.RNN to run it over "
            "a sequence of shape (batch, timesteps, features)."
        )
    if input_shape[-1] is None:
        raise ValueError(f"{cell_name} needs a known feature dimension, got shape {tuple(input_shape)}.")


def one_of(name, value, valid):
    """`value` if it is one of `valid`, else the unknown-name error with close matches."""
    if value not in valid:
        raise unknown_name(name, value, [str(v) for v in valid], plural="values")  # str: a choice may be None
    return value


def token_ids(name: str, ids, vocab_size: int) -> np.ndarray:
    """`ids` as an int32 array (batch, steps) of token ids in [0, vocab_size); a ValueError naming
    `name` and the bad value for anything else (ragged rows, 3-D, fractions, ids out of range)."""
    try:
        array = np.asarray(ids)
    except ValueError:
        array = np.asarray(ids, dtype=object)
    if array.dtype == object:
        raise ValueError(f"`{name}` must be token ids of shape (steps,) or (batch, steps) with rows of one "
                         f"length, got rows of different lengths: {ids!r:.200}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise ValueError(f"`{name}` must have shape (steps,) or (batch, steps), got shape {array.shape}.")
    if array.shape[1] == 0 or array.shape[0] == 0:
        raise ValueError(f"`{name}` needs at least one token (e.g. a start-of-sequence id), got shape {array.shape}.")
    if array.dtype.kind not in "iu":
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            bad = array.ravel()[0] if array.dtype.kind != "f" else array[~(np.isfinite(array) & (array == np.round(array)))][0]
            raise ValueError(f"`{name}` must hold integer token ids, got {getattr(bad, 'item', lambda: bad)()!r}.")
    bad = array[(array < 0) | (array >= vocab_size)]
    if bad.size:
        raise ValueError(f"`{name}` holds token id {bad[0].item()!r}, outside the vocabulary [0, {vocab_size}).")
    return array.astype("int32")


def token_id(name: str, value, vocab_size: int) -> int:
    """One token id in [0, vocab_size) (NumPy integers accepted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < vocab_size:
        raise ValueError(f"`{name}` must be a token id in [0, {vocab_size}), got {name}={value!r}.")
    return int(value)


def check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not (
            math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"`temperature` must be a finite number >= 0 (0 = greedy), got temperature={temperature!r}.")
    return float(temperature)


# argparse types: a bad value is named with its option ("argument --count: must be ...").

def _number_arg(text: str, kind, low: float, open_low: bool, what: str):
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or (value <= low if open_low else value < low):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int_arg(text: str) -> int:
    return _number_arg(text, int, 0, True, "a positive integer")


def non_negative_int_arg(text: str) -> int:
    return _number_arg(text, int, 0, False, "a non-negative integer")


def positive_float_arg(text: str) -> float:
    return _number_arg(text, float, 0.0, True, "a finite number > 0")


def non_negative_float_arg(text: str) -> float:
    return _number_arg(text, float, 0.0, False, "a finite number >= 0")
