"""RNN Zoo: recurrent network variants as ordinary Keras 3 layers and models.

    >>> import zoo
    >>> zoo.list_variants("*gru*")
    ['bi-gru', 'bi-gru-original', 'bi-mingru', 'gru', 'gru-original', 'mingru']
    >>> layer = zoo.recurrent_layer("cifg", 32)           # a keras.layers.Layer
    >>> model = zoo.many_to_one("bi-lstm", 3, input_dim=8)   # a keras.Model
"""

import sys as _sys

from zoo.checks import check_backend as _check_backend

_check_backend()  # an unknown backend, or one not installed, is named before Keras starts


def _a_command_line_is_starting() -> bool:
    """The project's command lines (`python -m zoo`, `python -m experiments`, ...) start quietly;
    `import zoo` from other code leaves the process's output alone."""
    if _sys.argv[:1] == ["-m"]:  # `python -m zoo...` while it imports this package
        return True
    spec = getattr(_sys.modules.get("__main__"), "__spec__", None)
    return spec is not None and spec.name.split(".")[0] in ("zoo", "experiments")


if _a_command_line_is_starting():
    from zoo._quiet import quiet_import_keras as _quiet_import_keras

    _quiet_import_keras()  # the backend's start-up notices are not the user's business

import keras as _keras  # noqa: E402

if _keras.backend.backend() != "tensorflow":
    from zoo._keras_private import keep_tensorflow_out as _keep_tensorflow_out

    _keep_tensorflow_out()  # TensorFlow's import and start-up lines only where it is the backend

from zoo.cells import ElmanCell, GatedCell, GRUCell  # noqa: E402
from zoo.decoding import beam_decode, generate, greedy_decode, unroll  # noqa: E402
from zoo.layers import MERGE_MODES, Recurrent, make_cell, recurrent_layer  # noqa: E402
from zoo.models import attention_model, language_model, many_to_many, many_to_one, one_to_many, seq2seq  # noqa: E402
from zoo.registry import UnknownVariantError, Variant, get_variant, list_variants, register_variant  # noqa: E402
from zoo.scan import ZooRNN  # noqa: E402
from zoo.weight_noise import WeightNoise  # noqa: E402
from zoo.weights import transfer_lstm_weights  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ElmanCell",
    "GatedCell",
    "GRUCell",
    "attention_model",
    "beam_decode",
    "unroll",
    "MERGE_MODES",
    "Recurrent",
    "UnknownVariantError",
    "Variant",
    "generate",
    "get_variant",
    "greedy_decode",
    "language_model",
    "list_variants",
    "make_cell",
    "many_to_many",
    "many_to_one",
    "one_to_many",
    "recurrent_layer",
    "register_variant",
    "seq2seq",
    "transfer_lstm_weights",
    "ZooRNN",
    "WeightNoise",
]
