"""Gradient flow through time (`zoo.gradients`): the input gradients against finite differences
on a tiny model, on the active backend; the command and its errors."""

import keras
import numpy as np
import pytest
from conftest import to_numpy

from zoo.gradients import adding_problem, flow, input_gradients, step_norms
from zoo.models import many_to_one

# Float64 where the backend computes in it end to end (central differences exact to about 1e-9):
# TensorFlow. JAX computes in float32 unless x64 is switched on globally, and part of Keras' torch
# backend does under a float64 policy too: a wider step, a looser tolerance.
PRECISE = keras.backend.backend() == "tensorflow"


@pytest.fixture
def float64():
    # The dtype policy, not only floatx: another test may have set a global policy explicitly.
    policy = keras.config.dtype_policy()
    if PRECISE:
        keras.config.set_floatx("float64")
        keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy(policy)


@pytest.mark.backend
@pytest.mark.parametrize("variant", ["vanilla", "lstm", "gru"])
def test_input_gradients_match_finite_differences(variant, float64):
    keras.utils.set_random_seed(3)
    model = many_to_one(variant, 1, input_dim=2, units=4, timesteps=6, output_activation=None)
    x, y = adding_problem(3, 6, 7)
    dtype, eps, tolerance = ("float64", 1e-6, 1e-5) if PRECISE else ("float32", 1e-2, 2e-2)
    x, y = x.astype(dtype), y.astype(dtype)
    analytic = input_gradients(model, x, y)
    assert analytic.shape == x.shape

    def loss(inputs):
        return float(np.mean((to_numpy(model(inputs, training=False), dtype="float64") - y) ** 2))

    for index in [(0, 0, 0), (1, 2, 1), (2, 5, 0), (0, 5, 1), (2, 0, 1)]:
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        numeric = (loss(up) - loss(down)) / (2 * eps)
        assert analytic[index] == pytest.approx(numeric, rel=tolerance, abs=1e-9 if PRECISE else 1e-6), index


def test_step_norms_are_per_step_norms_averaged_over_the_batch():
    gradients = np.zeros((2, 3, 2))
    gradients[0, 0] = [3, 4]  # norm 5
    gradients[1, 0] = [0, 1]  # norm 1
    gradients[1, 2] = [6, 8]  # norm 10
    assert step_norms(gradients).tolist() == [3.0, 0.0, 5.0]


def test_the_adding_problem_marks_two_values_and_sums_them():
    x, y = adding_problem(50, 12, 0)
    assert x.shape == (50, 12, 2) and y.shape == (50, 1)
    assert (x[..., 1].sum(axis=1) == 2).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    again, _ = adding_problem(50, 12, 0)
    assert (again == x).all()


def test_identity_initialisation_keeps_the_gradient_where_tanh_lets_it_vanish():
    """At initialisation, the loss still feels the first of 60 steps through an IRNN about as much
    as the last; through a GRU it has all but vanished (the decay a student sees in the plot)."""
    irnn = flow("irnn", T=60, units=16, train_steps=0)["initial"]
    gru = flow("gru", T=60, units=16, train_steps=0)["initial"]
    assert irnn.shape == gru.shape == (60,)
    assert irnn[0] / irnn[-1] > 0.1
    assert gru[0] / gru[-1] < 1e-6


@pytest.mark.parametrize("kwargs, message", [
    ({"T": 0}, "`T` must be a positive integer, got T=0"),
    ({"train_steps": -1}, "train_steps must be an integer >= 0, got -1"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        flow("lstm", **kwargs)


def test_the_gradients_command_prints_each_variant_and_plots(tmp_path, capsys):
    from zoo.__main__ import main

    out = tmp_path / "flow.png"
    assert main(["gradients", "vanilla", "irnn", "--T", "12", "--steps", "3", "--units", "8", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = [line.split() for line in printed.splitlines() if line.startswith(("vanilla ", "irnn "))]
    assert [(r[0], r[1]) for r in rows] == [("vanilla", "initial"), ("vanilla", "trained"), ("irnn", "initial"),
                                            ("irnn", "trained")]
    assert out.stat().st_size > 10_000
    assert main(["gradients", "lstmm"]) == 2
    err = capsys.readouterr().err
    assert "unknown variant 'lstmm'" in err and "Did you mean 'lstm'" in err
