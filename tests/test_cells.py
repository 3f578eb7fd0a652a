"""Every zoo cell against an independent NumPy implementation of its published equations."""

import keras
import numpy as np
import pytest
from conftest import outputs_and_gradients, randomize_weights, to_numpy, weights_by_name
from reference import (
    elman_step,
    gru_step,
    indrnn_step,
    lru_step,
    lstm_step,
    mingru_step,
    minlstm_step,
    mlstm_step,
    mut_step,
    rglru_step,
    run_sequence,
    slstm_step,
)

import zoo

pytestmark = pytest.mark.backend

IDENTITY = lambda x: x  # noqa: E731
RELU = lambda x: np.maximum(x, 0)  # noqa: E731

# What each LSTM-family variant is, from the papers (not from the zoo's code): the gate blocks
# that have weights, the gates with peepholes, coupling, activations, full gate recurrence.
LSTM_FAMILY = {
    "lstm": dict(gates="ifco", peep=""),
    "peephole": dict(gates="ifco", peep="ifo"),
    "cifg": dict(gates="fco", peep="fo", coupled=True),
    "nig": dict(gates="fco", peep="fo"),
    "nfg": dict(gates="ico", peep="io"),
    "nog": dict(gates="ifc", peep="if"),
    "niaf": dict(gates="ifco", peep="ifo", input_act=IDENTITY),
    "noaf": dict(gates="ifco", peep="ifo", output_act=IDENTITY),
    "fgr": dict(gates="ifco", peep="ifo", fgr=True),
}
BATCH, STEPS, INPUT_DIM, UNITS = 3, 6, 4, 5


def one_directional():
    return [n for n in zoo.list_variants() if not zoo.get_variant(n).bidirectional]


def run_zoo_cell(name, xs, mask, rng, scan=None):
    """The cell in Keras' own RNN layer or, given `scan`, in the zoo's `ZooRNN` with that loop."""
    if scan is None:
        cell = zoo.make_cell(name, UNITS)
        layer = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    else:
        cell = zoo.make_cell(name, UNITS, scan=scan)
        layer = zoo.scan.ZooRNN(cell, return_sequences=True, return_state=True)
    layer.build((None, STEPS, INPUT_DIM))
    randomize_weights(layer, rng)
    out = layer(xs, mask=None if mask is None else keras.ops.convert_to_tensor(mask))
    return cell, to_numpy(out[0]), [to_numpy(s) for s in out[1:]]


def reference(name, cell, xs, mask, input_mask=1.0, recurrent_mask=1.0):
    """The published equations over `xs`; the dropout masks multiply x_t and, in the recurrent
    matmuls only, y_{t-1} (Gal & Ghahramani 2016)."""
    w = weights_by_name(cell)
    variant = zoo.get_variant(name)
    zeros = np.zeros((BATCH, UNITS), "float32")
    xs = xs * (input_mask[:, None, :] if np.ndim(input_mask) else input_mask)
    if variant.family == "elman":
        act = {"tanh": np.tanh, "relu": RELU}[variant.cell_options.get("activation", "tanh")]
        step = lambda x, s: (elman_step(x, s[0] * recurrent_mask, w["kernel"], w["recurrent_kernel"], w["bias"],  # noqa: E731
                                        act=act),)
        return run_sequence(step, xs, (zeros,), mask)
    if variant.family in MODERN:
        return MODERN[variant.family](cell, w, xs, mask, recurrent_mask)
    if variant.family == "gru":
        ra = variant.cell_options["reset_after"]
        step = lambda x, s: (gru_step(x, s[0], w["kernel"], w["recurrent_kernel"], w["bias"], reset_after=ra,  # noqa: E731
                                      h_seen=s[0] * recurrent_mask),)
        return run_sequence(step, xs, (zeros,), mask)
    spec = LSTM_FAMILY[name]
    peep = {g: w[f"peephole_{g}"] for g in spec["peep"]}
    n_sig = len(spec["gates"]) - 1
    fgr = spec.get("fgr", False)

    def step(x, s):
        h, c, g = lstm_step(
            x, s[0] * recurrent_mask, s[1], w["kernel"], w["recurrent_kernel"], w["bias"], peep=peep, gates=spec["gates"],
            coupled=spec.get("coupled", False), input_act=spec.get("input_act", np.tanh),
            output_act=spec.get("output_act", np.tanh), gate_prev=s[2] if fgr else None,
            Rg=w["gate_recurrent_kernel"] if fgr else None,
        )
        return (h, c, g) if fgr else (h, c)

    init = (zeros, zeros, np.zeros((BATCH, n_sig * UNITS), "float32")) if fgr else (zeros, zeros)
    return run_sequence(step, xs, init, mask)


def _zeros(*shape):
    return np.zeros(shape, "float32")


def _mut_reference(cell, w, xs, mask, recurrent_mask):
    """MUT1-3 from the equations; the weight blocks are read in the layout the cell documents."""
    u = UNITS
    cut = lambda m, names: {g: m[:, i * u:(i + 1) * u] for i, g in enumerate(names)}  # noqa: E731
    wx, wh = cut(w["kernel"], cell.input_blocks), cut(w["recurrent_kernel"], cell.recurrent_blocks)
    b = dict(zip("zrh", np.split(w["bias"], 3)))
    step = lambda x, s: (mut_step(cell.architecture, x, s[0], wx, wh, b, P=wx.get("x"),  # noqa: E731
                                  h_seen=s[0] * recurrent_mask),)
    return run_sequence(step, xs, (_zeros(BATCH, u),), mask)


def _lru_reference(cell, w, xs, mask, recurrent_mask):
    n = cell.n
    kernel = w["input_kernel"]
    B, D = kernel[:, :n] + 1j * kernel[:, n:2 * n], kernel[:, 2 * n:]
    C = w["C_re_kernel"] + 1j * w["C_im_kernel"]
    step = lambda x, s: lru_step(x, s[1], w["nu_log"], w["theta_log"], w["gamma_log"], B, C, D)  # noqa: E731
    outputs, (y, state) = run_sequence(step, xs, (_zeros(BATCH, UNITS), np.zeros((BATCH, n), complex)), mask)
    return outputs, (y, np.concatenate([state.real, state.imag], axis=-1))  # the layer's states: [y, Re x | Im x]


def _slstm_reference(cell, w, xs, mask, recurrent_mask, stabilised=True):
    zeros = _zeros(BATCH, UNITS)
    step = lambda x, s: slstm_step(x, *s, w["kernel"], w["recurrent_kernel"], w["bias"],  # noqa: E731
                                   forget=cell.forget_activation, stabilised=stabilised, h_seen=s[0] * recurrent_mask)
    return run_sequence(step, xs, (zeros, zeros, zeros, zeros), mask)


def _mlstm_reference(cell, w, xs, mask, recurrent_mask, stabilised=True):
    heads, d = cell.heads, cell.head_size
    init = (_zeros(len(xs), UNITS), np.zeros((len(xs), heads, d, d)), np.zeros((len(xs), heads, d)),
            np.zeros((len(xs), heads)))
    step = lambda x, s: mlstm_step(x, *s, w["kernel"], w["gate_kernel"], w["bias"], w["gate_bias"], heads,  # noqa: E731
                                   forget=cell.forget_activation, stabilised=stabilised)
    outputs, (h, C, n, m) = run_sequence(step, xs, init, mask)
    return outputs, (h, C.reshape(len(xs), -1), n.reshape(len(xs), -1), m)  # the layer's states: flattened


MODERN = {
    "mingru": lambda cell, w, xs, mask, rm: run_sequence(
        lambda x, s: (mingru_step(x, s[0], w["kernel"], w["bias"]),), xs, (_zeros(BATCH, UNITS),), mask),
    "minlstm": lambda cell, w, xs, mask, rm: run_sequence(
        lambda x, s: (minlstm_step(x, s[0], w["kernel"], w["bias"]),), xs, (_zeros(BATCH, UNITS),), mask),
    "indrnn": lambda cell, w, xs, mask, rm: run_sequence(
        lambda x, s: (indrnn_step(x, s[0] * rm, w["kernel"], w["recurrent_kernel"], w["bias"]),), xs,
        (_zeros(BATCH, UNITS),), mask),
    "mut": _mut_reference,
    "lru": _lru_reference,
    "slstm": _slstm_reference,
    "mlstm": _mlstm_reference,
    "rglru": lambda cell, w, xs, mask, rm: run_sequence(
        lambda x, s: (rglru_step(x, s[0], w["kernel"], w["bias"], w["recurrence_param"], cell.gate_exponent),), xs,
        (_zeros(BATCH, UNITS),), mask),
}


def test_every_lstm_family_variant_has_a_reference():
    family = {n for n in one_directional() if zoo.get_variant(n).family == "lstm"}
    assert family == set(LSTM_FAMILY)


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("name", one_directional())
def test_cell_matches_numpy_reference(name, masked, rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    mask = None
    if masked:  # sequences of lengths 6, 4 and 2, padded at the end
        mask = np.arange(STEPS)[None, :] < np.array([[6], [4], [2]])
    cell, outputs, states = run_zoo_cell(name, xs, mask, rng)
    ref_outputs, ref_states = reference(name, cell, xs, mask)
    np.testing.assert_allclose(outputs, ref_outputs, rtol=1e-4, atol=1e-5)
    assert len(states) == len(ref_states)
    for got, want in zip(states, ref_states):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


HOISTABLE = [n for n in one_directional() if isinstance(zoo.make_cell(n, 1), zoo.cells.HoistableCell)]


def test_the_elman_lstm_gru_and_xlstm_families_can_hoist_their_input_projection():
    assert {zoo.get_variant(n).family for n in HOISTABLE} == {"elman", "lstm", "gru", "slstm", "mlstm"}


@pytest.mark.parametrize("scan", ["stepwise", "sequential"])
@pytest.mark.parametrize("name", HOISTABLE)
def test_zoo_rnn_matches_numpy_reference_in_both_loops(name, scan, rng):
    """ZooRNN (the input projection in the loop, or of every step before it; peepholes made once
    per sequence) computes the published equations, masked sequences and final states included."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    mask = np.arange(STEPS)[None, :] < np.array([[6], [4], [2]])
    cell, outputs, states = run_zoo_cell(name, xs, mask, rng, scan=scan)
    ref_outputs, ref_states = reference(name, cell, xs, mask)
    np.testing.assert_allclose(outputs, ref_outputs, rtol=1e-4, atol=1e-5)
    for got, want in zip(states, ref_states, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["vanilla", "peephole", "cifg", "fgr", "gru", "gru-original"])
def test_hoisted_loop_takes_the_same_dropout_masks(name, rng):
    """With the input projection hoisted, x_t's mask is applied before the projection and y_{t-1}'s
    in the loop: the same numbers as the reference given the masks."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    cell = zoo.make_cell(name, UNITS, dropout=0.3, recurrent_dropout=0.4, scan="sequential")
    layer = zoo.scan.ZooRNN(cell, return_sequences=True)
    layer.build((None, STEPS, INPUT_DIM))
    randomize_weights(layer, rng)
    input_mask = (rng.random((BATCH, INPUT_DIM)) > 0.3) / 0.7
    recurrent_mask = (rng.random((BATCH, UNITS)) > 0.4) / 0.6
    cell.get_dropout_mask = lambda x: keras.ops.convert_to_tensor(input_mask, "float32")
    cell.get_recurrent_dropout_mask = lambda h: keras.ops.convert_to_tensor(recurrent_mask, "float32")
    want, _ = reference(name, cell, xs, None, input_mask, recurrent_mask)
    np.testing.assert_allclose(to_numpy(layer(xs, training=True)), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["peephole", "gru"])
def test_both_loops_give_the_same_gradients_over_200_steps(name, rng):
    steps = 200
    xs = rng.normal(size=(2, steps, INPUT_DIM)).astype("float32")
    layers = {}
    for scan in ("stepwise", "sequential"):
        layers[scan] = zoo.recurrent_layer(name, UNITS, implementation="zoo", return_sequences=True,
                                           return_state=True, cell_options={"scan": scan})
        layers[scan].build((None, steps, INPUT_DIM))
    randomize_weights(layers["stepwise"], rng, scale=0.3)
    layers["sequential"].set_weights(layers["stepwise"].get_weights())
    y_step, g_step = outputs_and_gradients(layers["stepwise"], xs)
    y_seq, g_seq = outputs_and_gradients(layers["sequential"], xs)
    np.testing.assert_allclose(y_seq, y_step, rtol=1e-4, atol=1e-5)
    for a, b in zip(g_seq, g_step, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * max(1.0, np.abs(b).max()))


@pytest.mark.backend
@pytest.mark.parametrize("name", ["vanilla", "peephole"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_both_loops_give_the_same_gradients_with_a_mask_either_way(name, go_backwards, rng):
    """The sequential form (on torch: R's gradient in one matmul after the loop, time first)
    against the stepwise one, with sequences padded at the end, read backwards too."""
    steps = 9
    xs = rng.normal(size=(3, steps, INPUT_DIM)).astype("float32")
    xs[1, 5:] = 0.0
    xs[2, 2:] = 0.0
    grads = {}
    for scan in ("stepwise", "sequential"):
        inputs = keras.Input((steps, INPUT_DIM))
        masked = keras.layers.Masking(0.0)(inputs)
        layer = zoo.recurrent_layer(name, UNITS, implementation="zoo", return_sequences=True,
                                    go_backwards=go_backwards, cell_options={"scan": scan})
        model = keras.Model(inputs, [layer(masked)])  # a list: outputs_and_gradients reads its first entry
        if scan == "stepwise":
            randomize_weights(layer, rng, scale=0.3)
            weights = layer.get_weights()
        else:
            layer.set_weights(weights)
        grads[scan] = outputs_and_gradients(model, xs)
    (y_step, g_step), (y_seq, g_seq) = grads["stepwise"], grads["sequential"]
    np.testing.assert_allclose(y_seq, y_step, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_seq, g_step, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(b).max()))


def test_scan_choice_is_checked_and_auto_keeps_the_projection_in_the_loop_on_a_cpu():
    with pytest.raises(ValueError, match=r"`scan` must be one of auto, stepwise, sequential, got scan='parallel'"):
        zoo.make_cell("peephole", 4, scan="parallel")
    # The test machines have no GPU; on torch the sequential form takes R's gradient in one matmul.
    want = "sequential" if keras.backend.backend() == "torch" else "stepwise"
    assert zoo.make_cell("peephole", 4).loop() == want
    assert zoo.make_cell("gru", 4).loop() == "stepwise"
    assert zoo.make_cell("gru", 4, scan="sequential").loop() == "sequential"
    with pytest.raises(ValueError, match="ZooRNN runs a zoo.cells.HoistableCell"):
        zoo.scan.ZooRNN(zoo.make_cell("mingru", 4))  # refused when made, before any build


@pytest.mark.parametrize("name", one_directional())
def test_cell_with_dropout_matches_numpy_reference(name, rng):
    """Given the masks, training-time dropout follows the equations: x_t * m and, in the
    recurrent matmuls only, y_{t-1} * m' (the c_t and h_{t-1} of the state update stay whole)."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    recurrent = 0.4 if zoo.make_cell(name, UNITS).has_recurrent_weights else 0.0
    cell = zoo.make_cell(name, UNITS, dropout=0.3, recurrent_dropout=recurrent)
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build((None, STEPS, INPUT_DIM))
    randomize_weights(layer, rng)
    input_mask = (rng.random((BATCH, INPUT_DIM)) > 0.3) / 0.7
    recurrent_mask = (rng.random((BATCH, UNITS)) > 0.4) / 0.6 if recurrent else 1.0
    cell.get_dropout_mask = lambda x: keras.ops.convert_to_tensor(input_mask, "float32")
    cell.get_recurrent_dropout_mask = lambda h: keras.ops.convert_to_tensor(recurrent_mask, "float32")
    dropped = to_numpy(layer(xs, training=True))
    want, _ = reference(name, cell, xs, None, input_mask, recurrent_mask)
    np.testing.assert_allclose(dropped, want, rtol=1e-4, atol=1e-5)
    # Inference ignores the masks.
    np.testing.assert_allclose(to_numpy(layer(xs, training=False)), reference(name, cell, xs, None)[0],
                               rtol=1e-4, atol=1e-5)


def _linear_elman(units, dropout=0.0, recurrent_dropout=0.0, seed=None):
    """A cell whose output shows its masks: kernel and recurrent kernel are identities, no bias."""
    cell = zoo.cells.ElmanCell(units, activation="linear", use_bias=False, dropout=dropout,
                               recurrent_dropout=recurrent_dropout, seed=seed)
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build((None, 4, units))
    layer.set_weights([np.eye(units, dtype="float32"), np.eye(units, dtype="float32")])
    return layer


def test_dropout_masks_are_one_per_sequence_and_new_per_batch():
    units, batch, p = 200, 8, 0.3
    layer = _linear_elman(units, dropout=p, seed=7)
    xs = np.zeros((batch, 4, units), "float32")
    xs[:, 0] = 1.0  # h_1 = m; the same m scales x_t at every step, so only step 1 feeds h
    first = to_numpy(layer(xs, training=True))
    mask = first[:, 0]
    kept = mask[mask != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)  # kept units are scaled by 1 / (1 - p)
    assert abs((mask == 0).mean() - p) < 0.05
    xs_all = np.ones((batch, 4, units), "float32")  # h_t = t * m when m is the same at every step
    out = to_numpy(layer(xs_all, training=True))
    m = out[:, 0]
    for t in range(4):
        np.testing.assert_allclose(out[:, t], (t + 1) * m, rtol=1e-5)
    assert not np.array_equal(m, mask), "a new batch draws a new mask"
    np.testing.assert_array_equal(to_numpy(layer(xs_all, training=False))[:, -1], 4.0)

    recurrent = _linear_elman(units, recurrent_dropout=p, seed=7)
    out = to_numpy(recurrent(xs_all, training=True))  # h_t = x_t + m * h_{t-1}
    r = out[:, 1] - 1.0
    assert abs((r == 0).mean() - p) < 0.05
    np.testing.assert_allclose(out[:, 2], 1.0 + r * out[:, 1], rtol=1e-5)
    np.testing.assert_allclose(out[:, 3], 1.0 + r * out[:, 2], rtol=1e-5)


def test_dropout_seed_fixes_the_masks():
    xs = np.ones((4, 4, 50), "float32")
    runs = [to_numpy(_linear_elman(50, dropout=0.5, recurrent_dropout=0.5, seed=3)(xs, training=True))
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.2", True])
def test_dropout_rates_are_checked(bad):
    with pytest.raises(ValueError, match=rf"`dropout` must be a number in \[0, 1\), got dropout={bad!r}"):
        zoo.make_cell("peephole", 4, dropout=bad)
    with pytest.raises(ValueError, match=r"`recurrent_dropout` must be a number in \[0, 1\)"):
        zoo.make_cell("gru", 4, recurrent_dropout=bad)
    # The built-in path checks too (Keras' own layers would clip the rate silently).
    with pytest.raises(ValueError, match=r"`recurrent_dropout` must be a number in \[0, 1\)"):
        zoo.Recurrent("lstm", 4, cell_options={"recurrent_dropout": bad})


def test_peephole_weights_are_used(rng):
    """Guard against a reference and a cell that both ignore the peepholes."""
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    cell, outputs, _ = run_zoo_cell("peephole", xs, None, rng)
    w = weights_by_name(cell)
    no_peep = run_sequence(
        lambda x, s: lstm_step(x, s[0], s[1], w["kernel"], w["recurrent_kernel"], w["bias"])[:2],
        xs, (np.zeros((BATCH, UNITS)),) * 2,
    )[0]
    assert np.abs(outputs - no_peep).max() > 1e-2


BUILTINS = {
    "vanilla": lambda: keras.layers.SimpleRNN(UNITS, return_sequences=True),
    "lstm": lambda: keras.layers.LSTM(UNITS, return_sequences=True),
    "gru": lambda: keras.layers.GRU(UNITS, return_sequences=True, reset_after=True),
    "gru-original": lambda: keras.layers.GRU(UNITS, return_sequences=True, reset_after=False),
}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_zoo_cell_equals_keras_builtin(name, rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    builtin = BUILTINS[name]()
    builtin.build((None, STEPS, INPUT_DIM))
    randomize_weights(builtin, rng)
    own = keras.layers.RNN(zoo.make_cell(name, UNITS), return_sequences=True)
    own.build((None, STEPS, INPUT_DIM))
    own.set_weights(builtin.get_weights())  # same layout: loads as is
    np.testing.assert_allclose(to_numpy(own(xs)), to_numpy(builtin(xs)), rtol=1e-4, atol=1e-5)


def test_builtin_lstm_weights_load_into_peephole_and_zero_peepholes_equal_lstm(rng):
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    lstm = keras.layers.LSTM(UNITS, return_sequences=True)
    lstm.build((None, STEPS, INPUT_DIM))
    randomize_weights(lstm, rng)
    peephole = keras.layers.RNN(zoo.make_cell("peephole", UNITS), return_sequences=True)
    peephole.build((None, STEPS, INPUT_DIM))
    randomize_weights(peephole, rng)
    # The first three weights have the built-in layout; the peepholes follow.
    peephole.set_weights(lstm.get_weights() + [np.zeros(UNITS, "float32")] * 3)
    np.testing.assert_allclose(to_numpy(peephole(xs)), to_numpy(lstm(xs)), rtol=1e-4, atol=1e-5)


def test_transfer_lstm_weights_copies_shared_gate_blocks(rng):
    lstm = keras.layers.LSTM(UNITS)
    lstm.build((None, STEPS, INPUT_DIM))
    randomize_weights(lstm, rng)
    cifg = keras.layers.RNN(zoo.make_cell("cifg", UNITS))
    cifg.build((None, STEPS, INPUT_DIM))
    copied = zoo.transfer_lstm_weights(lstm, cifg)
    assert copied == ["f", "c", "o"]
    k_src = keras.ops.convert_to_numpy(lstm.cell.kernel)
    k_dst = keras.ops.convert_to_numpy(cifg.cell.kernel)
    u = UNITS
    np.testing.assert_array_equal(k_dst[:, :u], k_src[:, u:2 * u])  # f
    np.testing.assert_array_equal(k_dst[:, u:2 * u], k_src[:, 2 * u:3 * u])  # c
    np.testing.assert_array_equal(k_dst[:, 2 * u:], k_src[:, 3 * u:])  # o
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(cifg.cell.bias)[2 * u:], keras.ops.convert_to_numpy(lstm.cell.bias)[3 * u:])


def test_transfer_rejects_mismatched_shapes():
    a = keras.layers.LSTM(4)
    a.build((None, 3, 2))
    b = keras.layers.RNN(zoo.make_cell("peephole", 5))
    b.build((None, 3, 2))
    with pytest.raises(ValueError, match="units=4"):
        zoo.transfer_lstm_weights(a, b)


def test_forget_bias_starts_at_one():
    for name in ["peephole", "cifg", "fgr"]:
        cell = zoo.make_cell(name, 3)
        cell.build((None, 2))
        bias = keras.ops.convert_to_numpy(cell.bias)
        gates = LSTM_FAMILY[name]["gates"]
        f_at = gates.index("f")
        np.testing.assert_array_equal(bias[f_at * 3:(f_at + 1) * 3], 1.0)
        others = np.delete(bias, np.s_[f_at * 3:(f_at + 1) * 3])
        np.testing.assert_array_equal(others, 0.0)


def test_zoo_rnn_saves_reloads_and_wraps_in_bidirectional(tmp_path, rng):
    """`zoo.ZooRNN` is an ordinary Keras layer: Bidirectional clones it from its config, and a model
    using it reloads from `.keras` with the same outputs and the cell's `scan`."""
    inputs = keras.Input((STEPS, INPUT_DIM))
    forward = zoo.ZooRNN(zoo.make_cell("peephole", UNITS, scan="sequential"), return_sequences=True)
    x = keras.layers.Bidirectional(forward)(inputs)
    model = keras.Model(inputs, zoo.ZooRNN(zoo.make_cell("gru", UNITS))(x))
    randomize_weights(model, rng)
    xs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(loaded(xs)), to_numpy(model(xs)), rtol=1e-5, atol=1e-6)
    backward = loaded.layers[1].backward_layer
    assert type(backward).__name__ == "ZooRNN" and backward.cell.scan == "sequential"
