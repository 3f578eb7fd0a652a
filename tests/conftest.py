import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def randomize_weights(layer, rng, scale=0.5):
    """Give every weight of `layer` random values, so no test passes by zeros or ones."""
    layer.set_weights([rng.normal(0.0, scale, w.shape).astype("float32") for w in layer.get_weights()])


def weights_by_name(cell):
    return {w.name: keras.ops.convert_to_numpy(w) for w in cell.weights}
