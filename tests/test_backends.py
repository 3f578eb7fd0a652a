"""One answer on every backend: PyTorch's fused kernels against the zoo's own cells, a model saved
on one backend loaded on another, and no TensorFlow in a process whose backend is not TensorFlow."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import outputs_and_gradients, randomize_weights, to_numpy

import zoo
from zoo import kernels

ROOT = Path(__file__).resolve().parents[1]
TORCH = keras.backend.backend() == "torch"
FUSED = {"lstm": "keras.layers.LSTM on torch.lstm", "gru": "keras.layers.GRU on torch.gru",
         "vanilla": "keras.layers.SimpleRNN on torch.rnn_tanh"}


def _pair(name, rng, **kwargs):
    """The variant's layer as `Recurrent` builds it (a fused kernel on torch) and through the zoo's
    own cell, with the same random weights."""
    fast = zoo.recurrent_layer(name, 5, **kwargs)
    own = zoo.recurrent_layer(name, 5, implementation="zoo", **kwargs)
    for layer in (fast, own):
        layer.build((None, 7, 3))
    randomize_weights(fast, rng)
    own.set_weights(fast.get_weights())
    return fast, own


@pytest.mark.backend
@pytest.mark.parametrize("name", ["lstm", "gru", "vanilla", "bi-gru"])
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "return_state": True},
                                     {"go_backwards": True, "return_sequences": True, "num_layers": 2}])
def test_a_builtin_variant_computes_the_zoo_cells_numbers_and_gradients(name, options, rng):
    """On torch `lstm`, `gru` and `vanilla` run as PyTorch's kernels (Keras' built-in layers
    elsewhere): outputs, final states and every gradient equal the zoo cell's step-by-step loop."""
    if name.startswith("bi-") and options.get("go_backwards"):
        pytest.skip("Bidirectional takes no go_backwards")
    fast, own = _pair(name, rng, **options)
    if TORCH:
        assert fast.runs_as.endswith(FUSED[name.removeprefix("bi-")] + (")" if name.startswith("bi-") else ""))
    xs = rng.normal(size=(4, 7, 3)).astype("float32")
    y_fast, g_fast = outputs_and_gradients(_Wrapped(fast), xs)
    y_own, g_own = outputs_and_gradients(_Wrapped(own), xs)
    np.testing.assert_allclose(y_fast, y_own, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_fast, g_own):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if options.get("return_state"):
        for a, b in zip(fast(xs)[1:], own(xs)[1:]):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)


class _Wrapped:
    """A layer whose call returns a list (what `outputs_and_gradients` indexes), given `mask`."""

    def __init__(self, layer, mask=None):
        self.layer, self.mask = layer, mask
        self.trainable_weights = layer.trainable_weights

    def __call__(self, x):
        out = self.layer(x) if self.mask is None else self.layer(x, mask=self.mask)
        return out if isinstance(out, list) else [out]


def _padded_at_the_end(lengths, steps=7):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


@pytest.mark.backend
@pytest.mark.parametrize("name", ["lstm", "gru", "vanilla", "bi-lstm"])
@pytest.mark.parametrize("options", [{"return_sequences": True}, {"return_sequences": True, "zero_output_for_mask": True},
                                     {"go_backwards": True, "return_sequences": True},
                                     {"go_backwards": True, "return_state": True}, {"return_state": True}])
@pytest.mark.parametrize("packed", [False, True], ids=["cpu", "packed"])
def test_sequences_padded_at_the_end_run_on_the_kernel_with_the_step_loops_numbers(name, options, packed, rng,
                                                                                   monkeypatch):
    """A mask that pads at the end runs on PyTorch's kernel on torch: outputs (the last real one
    repeated, or zeros), final states and gradients equal the zoo cell's masked loop, also reading
    backwards and in both directions. An LSTM that returns its states runs packed where it would
    on a GPU (forced here), through the step loop on a CPU."""
    if name.startswith("bi-") and "go_backwards" in options:
        pytest.skip("Bidirectional takes no go_backwards")
    if packed and not TORCH:
        pytest.skip("packed sequences are torch's")
    options = dict(options)
    zeros = options.pop("zero_output_for_mask", False)
    fast, own = _pair(name, rng, **options)
    if zeros:  # Keras' option, set on the recurrent layer itself (Bidirectional sets its own)
        fast.levels[0].zero_output_for_mask = own.levels[0].zero_output_for_mask = True
    xs = rng.normal(size=(4, 7, 3)).astype("float32")
    mask = _padded_at_the_end([4, 7, 1, 6])
    y_own, g_own = outputs_and_gradients(_Wrapped(own, mask), xs)
    states_own = [to_numpy(s) for s in own(xs, mask=mask)[1:]] if options.get("return_state") else []
    steps = []
    if TORCH:
        monkeypatch.setattr(kernels, "_packs", lambda sequences: packed)
        monkeypatch.setattr(kernels, "run_cell", lambda *a, **k: steps.append(1) or loop(*a, **k))
        loop = zoo.scan.run_cell
    y_fast, g_fast = outputs_and_gradients(_Wrapped(fast, mask), xs)
    np.testing.assert_allclose(y_fast, y_own, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_fast, g_own):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip([to_numpy(s) for s in fast(xs, mask=mask)[1:]] if states_own else [], states_own):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if options == {"return_sequences": True} and not name.startswith("bi-"):
        shown = np.zeros_like(y_fast[2, 1:]) if zeros else np.repeat(y_fast[2, :1], 6, axis=0)
        np.testing.assert_allclose(y_fast[2, 1:], shown)  # the last output repeated, or zeros
    cell_state_read = "lstm" in name and bool(options.get("return_state"))
    assert bool(steps) == (TORCH and cell_state_read and not packed)


@pytest.mark.backend
def test_a_mask_that_is_not_padding_at_the_end_takes_the_step_loop(rng, monkeypatch):
    """Padding at the start, holes, or an empty sequence cannot be packed: the cell's loop runs them."""
    fast, own = _pair("lstm", rng, return_sequences=True)
    xs = rng.normal(size=(3, 7, 3)).astype("float32")
    loops = []
    monkeypatch.setattr(kernels, "run_cell", lambda *a, **k: loops.append(1) or own_loop(*a, **k))
    own_loop = zoo.scan.run_cell
    for mask in (~_padded_at_the_end([3, 0, 0]), np.array([[1, 0, 1, 1, 1, 1, 1]] * 3, bool),
                 _padded_at_the_end([3, 0, 7])):
        np.testing.assert_allclose(to_numpy(fast(xs, mask=mask)), to_numpy(own(xs, mask=mask)), rtol=1e-5, atol=1e-6)
    assert len(loops) == (3 if TORCH else 0)


@pytest.mark.backend
@pytest.mark.parametrize("name", ["lstm", "gru", "vanilla"])
def test_a_mask_or_recurrent_dropout_gives_the_zoo_cells_numbers(name, rng):
    """With a mask (packed sequences on torch) the numbers are the zoo cell's and padding changes
    nothing; with recurrent dropout, which the kernel lacks, the layer steps its cell through the
    zoo's time loop."""
    fast, own = _pair(name, rng, return_sequences=True)
    xs = rng.normal(size=(3, 7, 3)).astype("float32")
    mask = np.ones((3, 7), bool)
    mask[0, 4:] = mask[2, 6:] = False
    got, want = to_numpy(fast(xs, mask=mask)), to_numpy(own(xs, mask=mask))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[0, 4:], np.repeat(got[0, 3:4], 3, axis=0), rtol=1e-6)  # the last output repeated
    dropped = zoo.recurrent_layer(name, 5, cell_options={"recurrent_dropout": 0.5})
    dropped.build((None, 7, 3))
    assert dropped(xs, training=True).shape == (3, 5)
    assert " on torch." not in dropped.runs_as


@pytest.mark.backend
def test_the_kernel_classes_are_keras_own_layers_with_keras_weights():
    """The fused twins are Keras' layers (same weights, same config) with another loop on torch."""
    for cls, base in ((kernels.LSTM, keras.layers.LSTM), (kernels.GRU, keras.layers.GRU),
                      (kernels.SimpleRNN, keras.layers.SimpleRNN)):
        assert issubclass(cls, base) and kernels.KERNELS[base.__name__] is cls
        ours, theirs = cls(3), base(3)
        ours.build((None, 4, 2))
        theirs.build((None, 4, 2))
        assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    assert kernels.GRU(3, reset_after=False).runs_as == "keras.layers.GRU"  # the original GRU: no torch kernel
    assert kernels.SimpleRNN(3, activation="relu").runs_as == ("keras.layers.SimpleRNN on torch.rnn_relu" if TORCH
                                                            else "keras.layers.SimpleRNN")


SAVED = ["lstm", "gru", "vanilla", "peephole", "bi-gru", "mingru", "lru", "mut1"]


def _run_elsewhere(backend, script, *args):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


LOAD_AND_PREDICT = """
import sys, json, keras, numpy as np, zoo
xs = np.load(sys.argv[2])
out = {}
for name in sys.argv[3].split(","):
    model = keras.saving.load_model(f"{sys.argv[1]}/{name}.keras")
    out[name] = [keras.ops.convert_to_numpy(model(xs)).tolist(), model.layers[1].runs_as]
print(json.dumps({"outputs": out, "tensorflow": "tensorflow" in sys.modules}))
"""


@pytest.mark.slow
def test_a_model_saved_on_tensorflow_loads_on_jax_and_torch_with_the_same_outputs(tmp_path, rng):
    """A model saved with one backend reloads with another and predicts the same numbers, whatever
    each layer runs as there (Keras' LSTM here, PyTorch's kernel on torch); no TensorFlow is
    imported in the other processes."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("saves on TensorFlow, loads on the others")
    xs = rng.normal(size=(2, 6, 3)).astype("float32")
    np.save(tmp_path / "x.npy", xs)
    want = {}
    for name in SAVED:
        model = zoo.many_to_one(name, 2, input_dim=3, units=4, output_activation=None)
        randomize_weights(model, rng, scale=0.4)
        model.save(tmp_path / f"{name}.keras")
        want[name] = to_numpy(model(xs))
    for backend in ("jax", "torch"):
        got = json.loads(_run_elsewhere(backend, LOAD_AND_PREDICT, str(tmp_path), str(tmp_path / "x.npy"),
                                        ",".join(SAVED)).strip().splitlines()[-1])
        assert not got["tensorflow"], f"TensorFlow was imported on {backend}"
        for name in SAVED:
            outputs, runs_as = got["outputs"][name]
            np.testing.assert_allclose(np.array(outputs), want[name], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name} on {backend}")
        if backend == "torch":
            assert got["outputs"]["lstm"][1] == "keras.layers.LSTM on torch.lstm"


@pytest.mark.slow
def test_training_on_torch_imports_no_tensorflow_and_is_seeded(tmp_path):
    """`fit` on torch, with Keras' seeding, Bidirectional and saving: TensorFlow stays out of the
    process, and the same seed gives the same weights."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("runs torch in a subprocess once")
    script = """
import sys, keras, numpy as np, zoo
def train():
    keras.utils.set_random_seed(7)
    model = zoo.many_to_one("bi-gru", 2, input_dim=3, units=4)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(16, 5, 3)).astype("float32"), rng.integers(0, 2, 16), epochs=2, verbose=0)
    return np.concatenate([keras.ops.convert_to_numpy(w).ravel() for w in model.weights])
a, b = train(), train()
model = zoo.many_to_one("peephole", 2, input_dim=3, units=4)
model.save(sys.argv[1] + "/p.keras")
keras.saving.load_model(sys.argv[1] + "/p.keras")
print(bool(np.array_equal(a, b)), "tensorflow" in sys.modules)
"""
    same, tensorflow = _run_elsewhere("torch", script, str(tmp_path)).split()[-2:]
    assert (same, tensorflow) == ("True", "False")


@pytest.mark.slow
def test_a_runs_environment_names_every_backends_version_without_importing_them():
    """Each run records the installed backends' versions, read from their packages' metadata: a
    torch process does not import TensorFlow for it (Keras itself imports JAX where installed)."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("runs torch in a subprocess once")
    script = """
import sys, json, importlib.metadata
from experiments.supervision import environment
env = environment("CPU")
print(json.dumps({"env": env, "imported": [m for m in ("tensorflow",) if m in sys.modules],
                  "torch": __import__("torch").__version__}))
"""
    got = json.loads(_run_elsewhere("torch", script).strip().splitlines()[-1])
    assert got["imported"] == []
    assert got["env"]["backend"] == "torch" and got["env"]["torch"] == got["torch"]
    assert got["env"]["jax"] == __import__("jax").__version__
    assert got["env"]["tensorflow"] == __import__("tensorflow").__version__
