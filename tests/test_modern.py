"""The cells after the LSTM and GRU: the fast path (projection hoisted, sequential or parallel
scan) against the published equations, its agreement with the step-by-step form, and each
paper's parameterisation."""

import math

import keras
import numpy as np
import pytest
from conftest import outputs_and_gradients, randomize_weights, to_numpy
from reference import blocks, log_space_scan, mut_step, positive_g, run_sequence, sigmoid
from test_cells import BATCH, INPUT_DIM, STEPS, UNITS, reference

import zoo

pytestmark = pytest.mark.backend

PROJECTED = ["mingru", "minlstm", "indrnn", "lru"]
LINEAR = ["mingru", "minlstm", "lru"]
MASK = np.arange(STEPS)[None, :] < np.array([[6], [4], [2]])  # lengths 6, 4, 2, padded at the end


def fast_layer(name, scan, units=UNITS, steps=STEPS, **kwargs):
    layer = zoo.recurrent_layer(name, units, return_sequences=True, return_state=True,
                                cell_options={"scan": scan}, **kwargs)
    layer.build((None, steps, INPUT_DIM))
    return layer


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("name, scan", [(n, s) for n in PROJECTED for s in ("stepwise", "sequential")]
                         + [(n, "parallel") for n in LINEAR])
def test_fast_path_matches_the_numpy_reference(name, scan, masked, rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    layer = fast_layer(name, scan)
    assert type(layer.levels[0]).__name__ == "ProjectedRNN"
    randomize_weights(layer, rng)
    mask = MASK if masked else None
    out = layer(xs, mask=None if mask is None else keras.ops.convert_to_tensor(mask))
    want, want_states = reference(name, layer.levels[0].cell, xs, mask)
    np.testing.assert_allclose(to_numpy(out[0]), want, rtol=1e-4, atol=1e-5)
    for got, expected in zip(out[1:], want_states, strict=True):
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, scan", [("mingru", "parallel"), ("indrnn", "sequential"), ("lru", "parallel")])
def test_fast_path_reads_backwards_like_the_reference_on_the_reversed_sequence(name, scan, rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    layer = fast_layer(name, scan, go_backwards=True)
    randomize_weights(layer, rng)
    want, _ = reference(name, layer.levels[0].cell, xs[:, ::-1], None)
    np.testing.assert_allclose(to_numpy(layer(xs)[0]), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", LINEAR)
def test_parallel_and_sequential_scans_agree_at_1000_steps(name, rng):
    """Same outputs and gradients (weights and input) in float32 at T = 1000 on random weights."""
    steps = 1000
    xs = rng.normal(size=(2, steps, INPUT_DIM)).astype("float32")
    sequential, parallel = fast_layer(name, "sequential", steps=steps), fast_layer(name, "parallel", steps=steps)
    randomize_weights(sequential, rng, scale=0.3)
    parallel.set_weights(sequential.get_weights())
    y_seq, g_seq = outputs_and_gradients(sequential, xs)
    y_par, g_par = outputs_and_gradients(parallel, xs)
    np.testing.assert_allclose(y_par, y_seq, rtol=1e-4, atol=1e-5)
    for a, b in zip(g_par, g_seq, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("name", PROJECTED)
def test_every_step_is_run_when_the_sequence_is_longer_than_the_batch(name, rng):
    """A time-major loop must run over time, not over the batch (Keras' TensorFlow loop, given no
    length, takes the batch size of time-major inputs)."""
    xs = rng.normal(size=(BATCH, 50, INPUT_DIM)).astype("float32")  # 3 sequences of 50 steps
    layer = fast_layer(name, "sequential", steps=50)
    randomize_weights(layer, rng, scale=0.3)
    want, _ = reference(name, layer.levels[0].cell, xs, None)
    last = zoo.recurrent_layer(name, UNITS, cell_options={"scan": "sequential"})  # only the last state is kept
    last.build((None, 50, INPUT_DIM))
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(last(xs)), want[:, -1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(to_numpy(layer(xs)[0]), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", PROJECTED + ["mut2"])
def test_a_stateful_layer_fed_in_two_halves_equals_one_pass(name, rng):
    """The step-by-step state carries across batches: what generation and stateful=True rely on."""
    xs = rng.normal(size=(2, 8, INPUT_DIM)).astype("float32")
    whole = zoo.recurrent_layer(name, UNITS, return_sequences=True)
    whole.build((None, 8, INPUT_DIM))
    randomize_weights(whole, rng)
    halves = zoo.recurrent_layer(name, UNITS, return_sequences=True, stateful=True)
    halves.build((2, 4, INPUT_DIM))
    halves.set_weights(whole.get_weights())
    joined = np.concatenate([to_numpy(halves(xs[:, :4])), to_numpy(halves(xs[:, 4:]))], axis=1)
    np.testing.assert_allclose(joined, to_numpy(whole(xs)), rtol=1e-5, atol=1e-6)


def test_lru_starts_on_the_ring_with_the_normalisation_of_the_paper():
    cell = zoo.make_cell("lru", 64, r_min=0.9, r_max=0.999, max_phase=math.pi / 10, seed=1)
    cell.build((None, 3))
    w = {v.name: to_numpy(v) for v in cell.weights}
    modulus = np.exp(-np.exp(w["nu_log"]))
    assert modulus.min() >= 0.9 - 1e-6 and modulus.max() <= 0.999 + 1e-6
    assert np.ptp(modulus) > 0.05  # spread over the ring, not one value
    phase = np.exp(w["theta_log"])
    assert phase.min() >= 0 and phase.max() <= math.pi / 10 + 1e-6
    np.testing.assert_allclose(np.exp(w["gamma_log"]), np.sqrt(1 - modulus ** 2), rtol=1e-4)
    with pytest.raises(ValueError, match=r"LRU needs 0 <= r_min < r_max <= 1, got r_min=0.9, r_max=0.5"):
        zoo.make_cell("lru", 4, r_min=0.9, r_max=0.5)


def test_indrnn_keeps_its_recurrent_weights_within_the_bound():
    bound = 2 ** (1 / 20)  # Li et al.: 2^(1/T) for T = 20
    keras.utils.set_random_seed(0)
    model = zoo.many_to_one("indrnn", 1, input_dim=2, units=16, output_activation=None,
                            cell_options={"recurrent_max_abs": bound,
                                          "recurrent_initializer": {"class_name": "RandomUniform",
                                                                    "config": {"minval": -3.0, "maxval": 3.0}}})
    u = model.get_layer("recurrent").levels[0].cell.recurrent_kernel
    assert np.abs(to_numpy(u)).max() <= bound + 1e-6  # clipped from the start
    model.compile(keras.optimizers.SGD(100.0), "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 20, 2)), rng.normal(size=(32, 1)) * 100, epochs=2, verbose=0)
    values = to_numpy(u)
    assert np.abs(values).max() <= bound + 1e-6 and np.isclose(np.abs(values).max(), bound)  # pushed to it
    with pytest.raises(ValueError, match=r"`recurrent_max_abs` must be a positive number or None, got recurrent_max_abs=0"):
        zoo.make_cell("indrnn", 4, recurrent_max_abs=0)


@pytest.mark.parametrize("kind", ["mut1", "mut2", "mut3"])
def test_mut_with_as_many_inputs_as_units_is_the_papers_form(kind, rng):
    """With input_dim == units the bare x of MUT1/MUT2 is x itself: no projection weights."""
    xs = rng.normal(size=(BATCH, STEPS, UNITS)).astype("float32")
    layer = keras.layers.RNN(zoo.make_cell(kind, UNITS), return_sequences=True)
    layer.build((None, STEPS, UNITS))
    randomize_weights(layer, rng)
    cell = layer.cell
    assert "x" not in cell.input_blocks and cell.kernel.shape[1] == len(cell.input_blocks) * UNITS
    w = {v.name: to_numpy(v) for v in cell.weights}
    u = UNITS
    wx = {g: w["kernel"][:, i * u:(i + 1) * u] for i, g in enumerate(cell.input_blocks)}
    wh = {g: w["recurrent_kernel"][:, i * u:(i + 1) * u] for i, g in enumerate(cell.recurrent_blocks)}
    b = dict(zip("zrh", np.split(w["bias"], 3)))
    want, _ = run_sequence(lambda x, s: (mut_step(kind, x, s[0], wx, wh, b),), xs, (np.zeros((BATCH, u)),))
    np.testing.assert_allclose(to_numpy(layer(xs)), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", LINEAR)
def test_cells_without_recurrent_weights_refuse_recurrent_dropout(name):
    with pytest.raises(ValueError, match=r"has no recurrent weights, so `recurrent_dropout` does not apply"):
        zoo.make_cell(name, 4, recurrent_dropout=0.2)


def test_an_unknown_scan_names_the_choices():
    with pytest.raises(ValueError, match=r"`scan` must be one of auto, stepwise, sequential, parallel, got scan='fast'"):
        zoo.make_cell("mingru", 4, scan="fast")
    with pytest.raises(ValueError, match=r"IndRNNCell's recurrence is not linear, so it has no parallel scan"):
        zoo.make_cell("indrnn", 4, scan="parallel")


def test_auto_takes_what_measured_fastest_on_this_backend():
    cell = zoo.make_cell("mingru", 4)
    assert cell.loop() == {"jax": "sequential", "tensorflow": "stepwise",
                           "torch": "sequential"}[keras.backend.backend()]  # on a CPU
    assert zoo.make_cell("mingru", 4, scan="parallel").loop() == "parallel"


def test_a_layer_says_what_computes_it():
    loop = {"jax": "sequential", "tensorflow": "stepwise", "torch": "sequential"}[keras.backend.backend()]
    assert zoo.recurrent_layer("mingru", 4).runs_as == f"ProjectedRNN(MinGRUCell, {loop})"
    gru = "keras.layers.GRU on torch.gru" if keras.backend.backend() == "torch" else "keras.layers.GRU"
    assert zoo.recurrent_layer("bi-gru", 4).runs_as == f"Bidirectional({gru})"
    assert zoo.recurrent_layer("mut3", 4).runs_as == "StepRNN(MUTCell)"
    gated = "sequential" if keras.backend.backend() == "torch" else "stepwise"
    assert zoo.recurrent_layer("lstm", 4, implementation="zoo").runs_as == f"ZooRNN(GatedCell, {gated})"
    assert zoo.recurrent_layer("gru", 4, implementation="zoo", cell_options={"scan": "sequential"}).runs_as == (
        "ZooRNN(GRUCell, sequential)")


BIDIRECTIONAL_LOOPS = [(n, s) for n in PROJECTED + ["rglru"] for s in ("sequential", "parallel")
                       if s in zoo.make_cell(n, 1).loops] + [("mlstm", "sequential"), ("mlstm", "parallel")]


@pytest.mark.parametrize("name, scan", BIDIRECTIONAL_LOOPS)
def test_a_bidirectional_twin_gives_the_step_loops_outputs_at_padded_steps_on_every_loop(name, scan, rng):
    """Keras' Bidirectional asks its layers for zeros at masked steps when it returns sequences;
    every loop form honours that, so a model gives the same numbers whatever form its device takes."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    mask = keras.ops.convert_to_tensor(MASK)
    stepwise = zoo.recurrent_layer(f"bi-{name}", UNITS, return_sequences=True, cell_options={"scan": "stepwise"})
    stepwise.build((None, STEPS, INPUT_DIM))
    randomize_weights(stepwise, rng, scale=0.3)
    other = zoo.recurrent_layer(f"bi-{name}", UNITS, return_sequences=True, cell_options={"scan": scan})
    other.build((None, STEPS, INPUT_DIM))
    other.set_weights(stepwise.get_weights())
    want = to_numpy(stepwise(xs, mask=mask))
    assert np.all(want[2, 2:] == 0.0)  # zeros where the sequence of length 2 is padded
    np.testing.assert_allclose(to_numpy(other(xs, mask=mask)), want, rtol=1e-4, atol=1e-5)


def _softplus(v):
    return np.logaddexp(0.0, v)


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
@pytest.mark.parametrize("scan", ["stepwise", "sequential", "parallel"])
def test_the_log_space_form_is_the_papers(name, scan, rng):
    """`log_space=True` (Feng et al. 2024, the form they train with): the candidate through g, and
    every loop form equal to their log-space scan written in NumPy from log-gates (float64),
    from a positive h_0; every h_t is then positive."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    layer = zoo.recurrent_layer(name, UNITS, return_sequences=True, cell_options={"scan": scan, "log_space": True})
    layer.build((None, STEPS, INPUT_DIM))
    randomize_weights(layer, rng)
    h0 = rng.uniform(0.1, 2.0, size=(BATCH, UNITS)).astype("float32")
    kernel, bias = (to_numpy(w).astype("float64") for w in layer.levels[0].cell.weights)
    pre = xs.astype("float64") @ kernel + bias
    if name == "mingru":
        k, h_pre = blocks(pre, 2)
        log_a, log_b = -_softplus(k), -_softplus(-k) + np.log(positive_g(h_pre))
    else:
        f_pre, i_pre, h_pre = blocks(pre, 3)
        f, i = sigmoid(f_pre), sigmoid(i_pre)
        log_a, log_b = np.log(f / (f + i)), np.log(i / (f + i)) + np.log(positive_g(h_pre))
    want = log_space_scan(log_a, log_b, h0.astype("float64"))
    got = to_numpy(layer(xs, initial_state=[keras.ops.convert_to_tensor(h0)]))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert (got > 0).all()


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_the_log_space_scan_keeps_padding_out_and_its_gradients_finite(name, rng):
    """Masked steps keep the state in the log-space scan as in the step loop, with finite
    gradients (a masked step's log b is finite, never -inf)."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    mask = keras.ops.convert_to_tensor(MASK)
    parallel, stepwise = (zoo.recurrent_layer(name, UNITS, return_sequences=True,
                                              cell_options={"scan": scan, "log_space": True})
                          for scan in ("parallel", "stepwise"))
    for layer in (parallel, stepwise):
        layer.build((None, STEPS, INPUT_DIM))
    randomize_weights(parallel, rng)
    stepwise.set_weights(parallel.get_weights())
    np.testing.assert_allclose(to_numpy(parallel(xs, mask=mask)), to_numpy(stepwise(xs, mask=mask)),
                               rtol=1e-4, atol=1e-5)

    class Masked:
        trainable_weights = parallel.trainable_weights

        def __call__(self, x):
            return [parallel(x, mask=mask)]

    _, grads = outputs_and_gradients(Masked(), xs)
    assert all(np.isfinite(g).all() for g in grads)


def test_log_space_is_a_checked_saved_option(tmp_path):
    with pytest.raises(ValueError, match=r"`log_space` must be True or False, got log_space='yes'"):
        zoo.make_cell("mingru", 4, log_space="yes")
    model = zoo.many_to_one("minlstm", 2, input_dim=3, units=4, cell_options={"log_space": True})
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.get_layer("recurrent").levels[0].cell.log_space is True
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-6)
