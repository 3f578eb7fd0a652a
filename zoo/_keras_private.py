"""Every piece of Keras' private API (`keras.src`) the zoo uses, in one place.

Keras has no public form of these two, so they are imported here only, and
`tests/test_keras_private.py` fails loudly on a Keras release that moves them.
`pyproject.toml` allows the Keras releases the tests have run on.

- `DropoutRNNCell`: `keras.layers.RNN` draws a cell's dropout masks before the time loop (the
  loop must be stateless for JAX's scan) only for cells of this class, so the zoo cells mix it in
  as Keras' own cells do.
- `backend_rnn`: the backend's time loop (a scan on JAX, a while loop on TensorFlow), as
  `keras.layers.RNN` runs it; the zoo's loop layers call it with their own step functions.
- `module_utils.tensorflow`: Keras' lazy handle on TensorFlow, which imports TensorFlow (seconds,
  and its start-up lines) the first time Keras asks whether a config value is a TensorFlow
  object, on every backend (`keras.layers.Bidirectional`, saving, `set_random_seed`).
  `keep_tensorflow_out` makes it answer "available" only once something else has imported
  TensorFlow: before that no object can be a TensorFlow one.
"""

import sys

from keras.src.backend import rnn as backend_rnn
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from keras.src.utils import module_utils

__all__ = ["DropoutRNNCell", "backend_rnn", "keep_tensorflow_out"]


class _TensorFlowOnceImported(module_utils.LazyModule):
    @property
    def available(self):
        return "tensorflow" in sys.modules and module_utils.LazyModule.available.fget(self)


def keep_tensorflow_out() -> None:
    """On a backend other than TensorFlow: Keras' checks for TensorFlow objects no longer import
    TensorFlow. (Keras' TensorFlow-based preprocessing layers, e.g. `TextVectorization`, then
    need `import tensorflow` before they are made.)"""
    module_utils.tensorflow.__class__ = _TensorFlowOnceImported
