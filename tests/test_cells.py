"""Every zoo cell against an independent NumPy implementation of its published equations."""

import keras
import numpy as np
import pytest

import zoo
from conftest import randomize_weights, weights_by_name
from reference import elman_step, gru_step, lstm_step, run_sequence

pytestmark = pytest.mark.backend

IDENTITY = lambda x: x  # noqa: E731

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


def run_zoo_cell(name, xs, mask, rng):
    cell = zoo.make_cell(name, UNITS)
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    layer.build((None, STEPS, INPUT_DIM))
    randomize_weights(layer, rng)
    out = layer(xs, mask=None if mask is None else keras.ops.convert_to_tensor(mask))
    return cell, np.asarray(out[0]), [np.asarray(s) for s in out[1:]]


def reference(name, cell, xs, mask):
    w = weights_by_name(cell)
    variant = zoo.get_variant(name)
    zeros = np.zeros((BATCH, UNITS), "float32")
    if variant.family == "elman":
        step = lambda x, s: (elman_step(x, s[0], w["kernel"], w["recurrent_kernel"], w["bias"]),)  # noqa: E731
        return run_sequence(step, xs, (zeros,), mask)
    if variant.family == "gru":
        ra = variant.cell_options["reset_after"]
        step = lambda x, s: (gru_step(x, s[0], w["kernel"], w["recurrent_kernel"], w["bias"], reset_after=ra),)  # noqa: E731
        return run_sequence(step, xs, (zeros,), mask)
    spec = LSTM_FAMILY[name]
    peep = {g: w[f"peephole_{g}"] for g in spec["peep"]}
    n_sig = len(spec["gates"]) - 1
    fgr = spec.get("fgr", False)

    def step(x, s):
        h, c, g = lstm_step(
            x, s[0], s[1], w["kernel"], w["recurrent_kernel"], w["bias"], peep=peep, gates=spec["gates"],
            coupled=spec.get("coupled", False), input_act=spec.get("input_act", np.tanh),
            output_act=spec.get("output_act", np.tanh), gate_prev=s[2] if fgr else None,
            Rg=w["gate_recurrent_kernel"] if fgr else None,
        )
        return (h, c, g) if fgr else (h, c)

    init = (zeros, zeros, np.zeros((BATCH, n_sig * UNITS), "float32")) if fgr else (zeros, zeros)
    return run_sequence(step, xs, init, mask)


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
    np.testing.assert_allclose(np.asarray(own(xs)), np.asarray(builtin(xs)), rtol=1e-4, atol=1e-5)


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
    np.testing.assert_allclose(np.asarray(peephole(xs)), np.asarray(lstm(xs)), rtol=1e-4, atol=1e-5)


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
