"""The cells of 2024 (sLSTM, mLSTM, RG-LRU) against NumPy implementations of their papers'
equations: every loop each offers, masks, heads, both forget gates, the stabiliser on inputs
that overflow float32 without it, the mLSTM's parallel form, and each paper's initialisation."""

import keras
import numpy as np
import pytest
from conftest import outputs_and_gradients, randomize_weights, to_numpy, weights_by_name
from reference import mlstm_step, rglru_step, run_sequence, sigmoid, slstm_step

import zoo

pytestmark = pytest.mark.backend

BATCH, STEPS, INPUT_DIM, UNITS = 3, 7, 4, 6
MASK = np.arange(STEPS)[None, :] < np.array([[7], [4], [2]])  # lengths 7, 4, 2, padded at the end
LOOPS = {"slstm": ("stepwise", "sequential"), "mlstm": ("stepwise", "sequential", "parallel"),
         "rglru": ("stepwise", "sequential", "parallel")}
OPTIONS = {"slstm": [{}, {"heads": 3, "forget_activation": "exp"}],
           "mlstm": [{}, {"heads": 2, "forget_activation": "exp"}],
           "rglru": [{}, {"gate_exponent": 4.0}]}


def layer_of(name, scan, options, steps=STEPS, units=UNITS, **kwargs):
    layer = zoo.recurrent_layer(name, units, return_sequences=True, return_state=True,
                                cell_options={"scan": scan, **options}, **kwargs)
    layer.build((None, steps, INPUT_DIM))
    return layer


def reference(name, cell, xs, mask=None, stabilised=True, dtype="float64"):
    """The paper's equations over `xs` in NumPy: (outputs, final states in the layer's order)."""
    w = {k: v.astype(dtype) for k, v in weights_by_name(cell).items()}
    xs, batch = xs.astype(dtype), len(xs)
    zeros = np.zeros((batch, cell.units), dtype)
    if name == "slstm":
        step = lambda x, s: slstm_step(x, *s, w["kernel"], w["recurrent_kernel"], w["bias"],  # noqa: E731
                                       forget=cell.forget_activation, stabilised=stabilised)
        return run_sequence(step, xs, (zeros,) * 4, mask)
    if name == "mlstm":
        heads, d = cell.heads, cell.head_size
        init = (zeros, np.zeros((batch, heads, d, d), dtype), np.zeros((batch, heads, d), dtype),
                np.zeros((batch, heads), dtype))
        step = lambda x, s: mlstm_step(x, *s, w["kernel"], w["gate_kernel"], w["bias"], w["gate_bias"],  # noqa: E731
                                       heads, forget=cell.forget_activation, stabilised=stabilised)
        outputs, (h, C, n, m) = run_sequence(step, xs, init, mask)
        return outputs, (h, C.reshape(batch, -1), n.reshape(batch, -1), m)
    step = lambda x, s: (rglru_step(x, s[0], w["kernel"], w["bias"], w["recurrence_param"],  # noqa: E731
                                    cell.gate_exponent),)
    return run_sequence(step, xs, (zeros,), mask)


def cell_of(layer):
    return layer.levels[0].cell


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("options", [0, 1], ids=["defaults", "heads-and-options"])
@pytest.mark.parametrize("name, scan", [(n, s) for n, loops in LOOPS.items() for s in loops])
def test_every_loop_computes_the_papers_equations(name, scan, options, masked, rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    layer = layer_of(name, scan, OPTIONS[name][options])
    assert cell_of(layer).loop() == scan
    randomize_weights(layer, rng)
    mask = MASK if masked else None
    out = layer(xs, mask=None if mask is None else keras.ops.convert_to_tensor(mask))
    want, want_states = reference(name, cell_of(layer), xs, mask)
    np.testing.assert_allclose(to_numpy(out[0]), want, rtol=1e-4, atol=1e-5)
    for got, expected in zip(out[1:], want_states, strict=True):
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, scan", [("slstm", "stepwise"), ("slstm", "sequential"), ("mlstm", "stepwise"),
                                        ("mlstm", "parallel")])
def test_the_stabiliser_computes_the_unstabilised_equations_where_float32_overflows(name, scan, rng):
    """Input-gate pre-activations of about 100-400: exp overflows float32 (max about e^88.7).
    Written as in the paper without the stabiliser, float32 gives inf or nan; the zoo's float32
    cell gives what the same equations give in float64, and so does the stabilised NumPy form."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    layer = layer_of(name, scan, OPTIONS[name][1])
    randomize_weights(layer, rng)
    cell = cell_of(layer)
    gate = cell.kernel if name == "slstm" else cell.gate_kernel
    heads = cell.heads
    values = np.array(gate)
    columns = slice(0, UNITS) if name == "slstm" else slice(0, heads)  # the input gate's columns
    values[:, columns] = 100.0 * np.sign(values[:, columns])
    gate.assign(values)
    with np.errstate(over="ignore", invalid="ignore"):
        unstable, _ = reference(name, cell, xs, stabilised=False, dtype="float32")
    assert not np.isfinite(unstable).all()
    want, _ = reference(name, cell, xs, stabilised=False, dtype="float64")
    assert np.isfinite(want).all()
    stabilised, _ = reference(name, cell, xs, stabilised=True, dtype="float32")
    np.testing.assert_allclose(stabilised, want, rtol=1e-4, atol=1e-5)
    got = to_numpy(layer(xs)[0])
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_mlstm_parallel_form_equals_the_recurrent_one_with_gradients_finite_over_1000_steps(rng):
    steps = 1000
    xs = rng.normal(size=(2, steps, INPUT_DIM)).astype("float32")
    recurrent = layer_of("mlstm", "sequential", {"heads": 2}, steps=steps)
    randomize_weights(recurrent, rng, scale=0.3)
    parallel = layer_of("mlstm", "parallel", {"heads": 2}, steps=steps)
    parallel.set_weights(recurrent.get_weights())
    y_rec, g_rec = outputs_and_gradients(recurrent, xs)
    y_par, g_par = outputs_and_gradients(parallel, xs)
    np.testing.assert_allclose(y_par, y_rec, rtol=1e-3, atol=1e-4)  # float32 sums of up to 1000 terms
    for a, b in zip(g_par, g_rec, strict=True):
        assert np.isfinite(a).all() and np.isfinite(b).all()
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backwards"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_mlstm_parallel_form_in_chunks_computes_the_papers_equations_and_the_whole_forms_gradients(
        masked, go_backwards, rng):
    """Chunks of 3 steps over 7 (3, 3 and 1), the memory carried across, with padding that starts
    inside a chunk: the equations' outputs and states, and the gradients of the form in one piece."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    mask = MASK if masked else None
    tensor_mask = None if mask is None else keras.ops.convert_to_tensor(mask)
    chunked = layer_of("mlstm", "parallel", {"heads": 2, "chunk_size": 3}, go_backwards=go_backwards)
    randomize_weights(chunked, rng)
    whole = layer_of("mlstm", "parallel", {"heads": 2, "chunk_size": STEPS}, go_backwards=go_backwards)
    whole.set_weights(chunked.get_weights())
    out = chunked(xs, mask=tensor_mask)
    if go_backwards:  # Keras' loop reads the padded sequence from its end, padding first
        reversed_mask = None if mask is None else mask[:, ::-1]
        want, want_states = reference("mlstm", cell_of(chunked), xs[:, ::-1], reversed_mask)
    else:
        want, want_states = reference("mlstm", cell_of(chunked), xs, mask)
    np.testing.assert_allclose(to_numpy(out[0]), want, rtol=1e-4, atol=1e-5)
    for got, expected in zip(out[1:], want_states, strict=True):
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-4, atol=1e-5)
    if not masked:
        y_chunked, g_chunked = outputs_and_gradients(chunked, xs)
        y_whole, g_whole = outputs_and_gradients(whole, xs)
        np.testing.assert_allclose(y_chunked, y_whole, rtol=1e-4, atol=1e-5)
        for a, b in zip(g_chunked, g_whole, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_mlstm_chunk_size_is_kept_in_its_config_and_checked():
    cell = zoo.make_cell("mlstm", UNITS, chunk_size=5)
    assert type(cell).from_config(cell.get_config()).chunk_size == 5
    assert zoo.make_cell("mlstm", UNITS).chunk_size == 128
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match=rf"`chunk_size` must be a positive integer, got chunk_size={bad!r}"):
            zoo.make_cell("mlstm", UNITS, chunk_size=bad)


@pytest.mark.parametrize("name, scan", [("slstm", "sequential"), ("mlstm", "parallel"), ("rglru", "parallel")])
def test_a_stateful_layer_fed_in_two_halves_equals_one_pass(name, scan, rng):
    """The state carries across calls in every loop, the parallel forms included (the memory
    before the call enters the parallel form as a decayed initial term)."""
    xs = rng.normal(size=(2, 8, INPUT_DIM)).astype("float32")
    options = {"scan": scan, **OPTIONS[name][1]}
    whole = zoo.recurrent_layer(name, UNITS, return_sequences=True, cell_options=options)
    whole.build((None, 8, INPUT_DIM))
    randomize_weights(whole, rng)
    halves = zoo.recurrent_layer(name, UNITS, return_sequences=True, stateful=True, cell_options=options)
    halves.build((2, 4, INPUT_DIM))
    halves.set_weights(whole.get_weights())
    joined = np.concatenate([to_numpy(halves(xs[:, :4])), to_numpy(halves(xs[:, 4:]))], axis=1)
    np.testing.assert_allclose(joined, to_numpy(whole(xs)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, scan", [("mlstm", "parallel"), ("rglru", "parallel"), ("slstm", "sequential")])
def test_backwards_reads_the_reversed_sequence(name, scan, rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    layer = layer_of(name, scan, {}, go_backwards=True)
    randomize_weights(layer, rng)
    want, _ = reference(name, cell_of(layer), xs[:, ::-1])
    np.testing.assert_allclose(to_numpy(layer(xs)[0]), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("zero_output", [False, True])
def test_mlstm_parallel_form_treats_masked_steps_as_keras_loop_does(zero_output, rng):
    """Padded steps: the last output repeated, or zeros with `zero_output_for_mask`, as the step loop."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    mask = keras.ops.convert_to_tensor(MASK)
    results, weights = [], None
    for scan in ("stepwise", "parallel"):
        layer = zoo.scan.MatrixMemoryRNN(zoo.make_cell("mlstm", UNITS, scan=scan), return_sequences=True,
                                         return_state=True, zero_output_for_mask=zero_output)
        layer.build((None, STEPS, INPUT_DIM))
        if weights is None:
            randomize_weights(layer, rng)
            weights = layer.get_weights()
        layer.set_weights(weights)
        results.append([to_numpy(t) for t in layer(xs, mask=mask)])
    for got, want in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    padded = results[0][0][2, 2:]  # the sequence of length 2
    assert np.allclose(padded, 0.0) if zero_output else np.allclose(padded, results[0][0][2, 1])


def test_slstm_starts_with_the_authors_forget_gate_bias():
    cell = zoo.make_cell("slstm", 8, heads=2)
    cell.build((None, 3))
    bias = to_numpy(cell.bias)
    j = np.arange(4) / 3
    per_head = 5.0 - 12.0 * j ** 0.3  # from 5 (long memory) down to -7 in each head
    np.testing.assert_allclose(bias[8:16], np.tile(per_head, 2), rtol=1e-6)
    assert np.all(bias[:8] == 0) and np.all(bias[16:] == 0)
    assert to_numpy(cell.recurrent_kernel).shape == (2, 4, 16)  # one block per head
    plain = zoo.make_cell("slstm", 8, paper_gate_init=False)
    plain.build((None, 3))
    assert np.all(to_numpy(plain.bias) == 0)


def test_mlstm_starts_with_the_authors_gate_initialisation():
    cell = zoo.make_cell("mlstm", 64, heads=4, seed=3)
    cell.build((None, 5))
    assert np.all(to_numpy(cell.gate_kernel) == 0)
    gate_bias = to_numpy(cell.gate_bias)
    np.testing.assert_allclose(gate_bias[4:], [3.0, 4.0, 5.0, 6.0], rtol=1e-6)  # forget: 3 to 6 across heads
    assert 0 < np.abs(gate_bias[:4]).max() < 0.5  # input: N(0, 0.1^2)
    many = zoo.make_cell("mlstm", 400, heads=400, seed=0)
    many.build((None, 1))
    assert abs(to_numpy(many.gate_bias)[:400].std() - 0.1) < 0.02


def test_rglru_starts_with_a_on_the_papers_ring():
    cell = zoo.make_cell("rglru", 2000, seed=1)
    cell.build((None, 3))
    a = sigmoid(to_numpy(cell.recurrence_param, "float64"))
    assert a.min() >= 0.9 - 1e-6 and a.max() <= 0.999 + 1e-6
    squared = (a ** 2 - 0.81) / (0.999 ** 2 - 0.81)  # uniform on [0, 1] if a^2 is uniform on the ring
    assert abs(squared.mean() - 0.5) < 0.03 and abs(squared.std() - (1 / 12) ** 0.5) < 0.03


@pytest.mark.parametrize("name, options, pattern", [
    ("slstm", {"heads": 4}, (r"`heads` must divide `units`: got heads=4 for units=6; valid head counts for "
                             r"units=6: 1, 2, 3, 6")),
    ("mlstm", {"heads": 0}, r"`heads` must be a positive integer"),
    ("slstm", {"forget_activation": "tanh"}, r"unknown forget_activation 'tanh'.*Valid values: exp, sigmoid"),
    ("mlstm", {"forget_activation": "expo"}, r"unknown forget_activation 'expo'.*Did you mean 'exp'"),
    ("mlstm", {"recurrent_dropout": 0.2}, r"MLSTMCell has no recurrent weights"),
    ("slstm", {"scan": "parallel"}, r"has no parallel scan"),
    ("rglru", {"a_min": 0.99, "a_max": 0.9}, r"RG-LRU needs 0 < a_min < a_max < 1, got a_min=0.99, a_max=0.9"),
    ("rglru", {"gate_exponent": 0}, r"`gate_exponent` must be a positive number, got gate_exponent=0"),
])
def test_bad_options_are_named_with_the_valid_values(name, options, pattern):
    with pytest.raises(ValueError, match=pattern):
        zoo.make_cell(name, UNITS, **options)
