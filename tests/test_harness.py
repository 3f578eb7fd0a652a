"""The shared harness every registered variant runs through: build, fit, save, reload, compare."""

import keras
import numpy as np
import pytest
from conftest import randomize_weights, to_numpy

import zoo

pytestmark = pytest.mark.backend

ALL = zoo.list_variants()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    y = rng.integers(0, 2, size=(8,))
    return x, y


@pytest.mark.parametrize("name", ALL)
def test_variant_builds_fits_saves_and_reloads(name, data, tmp_path):
    x, y = data
    keras.utils.set_random_seed(0)
    model = zoo.many_to_one(name, 2, input_dim=3, units=4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [np.array(w) for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(b, a) for b, a in zip(before, model.get_weights())), "fit changed no weight"

    expected = model.predict(x, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)  # no custom_objects
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)

    layer = model.get_layer("recurrent")
    assert isinstance(layer, zoo.Recurrent) and layer.variant.name == name
    config = layer.get_config()
    assert zoo.Recurrent.from_config(config).get_config() == config


@pytest.mark.parametrize("name", ["vanilla", "lstm", "peephole", "fgr", "gru-original", "bi-cifg"])
def test_variant_with_in_cell_dropout_fits_saves_and_reloads(name, data, tmp_path):
    x, y = data
    keras.utils.set_random_seed(0)
    rates = {"dropout": 0.25, "recurrent_dropout": 0.5}
    model = zoo.many_to_one(name, 2, input_dim=3, units=4, cell_options=rates)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert np.isfinite(model.fit(x, y, batch_size=4, epochs=2, verbose=0).history["loss"]).all()
    inference = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), inference)  # no dropout at inference
    training = [to_numpy(model(x, training=True)) for _ in range(2)]
    assert not np.allclose(training[0], inference) and not np.allclose(training[0], training[1])
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), inference, rtol=1e-6, atol=1e-6)
    level = reloaded.get_layer("recurrent").levels[0]
    cell = (level.forward_layer if zoo.get_variant(name).bidirectional else level).cell
    assert (cell.dropout, cell.recurrent_dropout) == (0.25, 0.5)


@pytest.mark.parametrize("name", [n for n in ALL if not zoo.get_variant(n).bidirectional])
def test_cell_works_inside_keras_rnn_and_bidirectional(name, data, tmp_path):
    x, _ = data
    cell = zoo.make_cell(name, 4)
    inputs = keras.Input((None, 3))
    outputs = keras.layers.Bidirectional(keras.layers.RNN(cell), merge_mode="sum")(inputs)
    model = keras.Model(inputs, outputs)
    expected = model.predict(x, verbose=0)
    assert expected.shape == (8, 4)
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "m.keras").predict(x, verbose=0), expected,
                               rtol=1e-6, atol=1e-6)
    config = cell.get_config()
    assert type(cell).from_config(config).get_config() == config


def test_bidirectional_variant_equals_forward_plus_reversed_backward(rng):
    """bi-X with merge 'concat' is X forwards next to X over the reversed sequence."""
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    bi = zoo.recurrent_layer("bi-peephole", 4, return_sequences=True)
    bi.build((None, 5, 3))
    randomize_weights(bi, rng)
    fw = zoo.recurrent_layer("peephole", 4, return_sequences=True)
    bw = zoo.recurrent_layer("peephole", 4, return_sequences=True)
    fw.build((None, 5, 3))
    bw.build((None, 5, 3))
    weights = bi.get_weights()
    fw.set_weights(weights[: len(weights) // 2])
    bw.set_weights(weights[len(weights) // 2:])
    out = to_numpy(bi(x))
    np.testing.assert_allclose(out[..., :4], to_numpy(fw(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[..., 4:], to_numpy(bw(x[:, ::-1]))[:, ::-1], rtol=1e-5, atol=1e-6)
