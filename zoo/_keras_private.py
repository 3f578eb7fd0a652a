"""Every piece of Keras' private API (`keras.src`) the zoo uses, in one place.

Keras has no public form of these two, so they are imported here only, and
`tests/test_keras_private.py` fails loudly on a Keras release that moves them.
`pyproject.toml` allows the Keras releases the tests have run on.

- `DropoutRNNCell`: `keras.layers.RNN` draws a cell's dropout masks before the time loop (the
  loop must be stateless for JAX's scan) only for cells of this class, so the zoo cells mix it in
  as Keras' own cells do.
- `backend_rnn`: the backend's time loop (a scan on JAX, a while loop on TensorFlow), as
  `keras.layers.RNN` runs it; the zoo's loop layers call it with their own step functions.
"""

from keras.src.backend import rnn as backend_rnn
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

__all__ = ["DropoutRNNCell", "backend_rnn"]
