"""The zoo uses two pieces of Keras' private API (`zoo/_keras_private.py`). These tests fail
loudly on a Keras release that moves or changes them, and keep every other module off `keras.src`."""

import inspect
import re
from pathlib import Path

import keras
from packaging.requirements import Requirement

from zoo import _keras_private

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_keras_is_a_release_the_project_allows():
    text = (ROOT / "pyproject.toml").read_text()
    (line,) = [m for m in re.findall(r'"(keras[^"]*)"', text) if m.startswith("keras")]
    assert keras.__version__ in Requirement(line).specifier, (keras.__version__, line)


def test_dropout_rnn_cell_is_the_class_keras_rnn_draws_masks_for():
    assert issubclass(keras.layers.LSTMCell, _keras_private.DropoutRNNCell)  # Keras' own cells mix it in
    for method in ("get_dropout_mask", "get_recurrent_dropout_mask", "reset_dropout_mask"):
        assert callable(getattr(_keras_private.DropoutRNNCell, method)), method
    source = inspect.getsource(keras.layers.RNN)
    assert "DropoutRNNCell" in source  # the layer still looks for this class


def test_the_backend_time_loop_takes_the_arguments_the_zoo_passes():
    parameters = inspect.signature(_keras_private.backend_rnn).parameters
    for name in ("step_function", "inputs", "initial_states", "go_backwards", "mask", "unroll", "input_length",
                 "time_major", "zero_output_for_mask", "return_all_outputs"):
        assert name in parameters, name


def test_no_other_module_imports_keras_private_api():
    offenders = [str(p.relative_to(ROOT)) for folder in ("zoo", "experiments") for p in (ROOT / folder).rglob("*.py")
                 if p.name != "_keras_private.py" and re.search(r"keras\.src|from keras import src", p.read_text())]
    assert not offenders
