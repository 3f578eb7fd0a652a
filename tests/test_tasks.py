"""Tasks: data properties, baselines in closed form, determinism, sources and errors."""

import math
import subprocess
import sys

import numpy as np
import pytest

import zoo
from experiments.planner import RunSpec
from experiments.tasks import get_task, list_tasks
from experiments.tasks.synthetic import SYMBOLS, decode
from experiments.train import train_run

SYNTHETIC = ["adding", "copy_memory", "seq2seq_addition"]


def test_adding_target_is_the_sum_of_the_marked_values():
    data = get_task("adding").load("smoke", seed=3)
    for split in (data.train, data.val, data.test):
        values, markers = split.x[..., 0], split.x[..., 1]
        assert (markers.sum(axis=1) == 2).all() and set(np.unique(markers)) == {0.0, 1.0}
        marked = np.array([row_v[row_m == 1].sum() for row_v, row_m in zip(values, markers)])
        np.testing.assert_allclose(split.y[:, 0], marked, rtol=1e-6)
        assert values.min() >= 0 and values.max() < 1


def test_adding_baseline_matches_closed_form():
    """Predicting 1 gives MSE Var(U1 + U2) = 1/6 in expectation."""
    data = get_task("adding").load("default", seed=0, n_test=20000, n_train=1, n_val=1)
    baseline = get_task("adding").baseline(data, {})
    assert baseline["mse_closed_form"] == pytest.approx(1 / 6)
    assert baseline["mse"] == pytest.approx(1 / 6, abs=0.005)


def test_copy_memory_layout_and_baseline():
    task = get_task("copy_memory")
    params = task.resolve("smoke")
    data = task.load("smoke", seed=1)
    T = params["T"]
    x_ids = data.train.x.argmax(-1)
    assert data.train.x.shape[1] == T + 20
    np.testing.assert_array_equal(data.train.y[:, -10:], x_ids[:, :10])  # recall the first ten symbols
    assert (data.train.y[:, :-10] == 0).all() and (x_ids[:, 10:T + 9] == 0).all() and (x_ids[:, T + 9:] == 9).all()
    assert x_ids[:, :10].min() >= 1 and x_ids[:, :10].max() <= SYMBOLS
    # The baseline predictor itself: blank for T+10 steps, uniform over the 8 symbols for the last 10.
    n, steps = data.test.y.shape
    probs = np.zeros((n, steps, 10))
    probs[:, :-10, 0] = 1.0
    probs[:, -10:, 1:9] = 1.0 / 8
    scored = task.score(data.test, probs, data.info)
    baseline = task.baseline(data, params)
    assert scored["cross_entropy"] == pytest.approx(baseline["cross_entropy"], rel=1e-6)
    assert baseline["cross_entropy"] == pytest.approx(10 * math.log(8) / (T + 20))
    assert baseline["recall_accuracy"] == 1 / 8


def test_seq2seq_addition_answers_are_the_sums():
    data = get_task("seq2seq_addition").load("smoke", seed=0)
    source, decoder_input = data.train.x
    for src, tgt, dec in zip(source[:50], data.train.y[:50], decoder_input[:50]):
        a, b = decode(src).split("+")
        assert decode(tgt) == str(int(a) + int(b))
        np.testing.assert_array_equal(dec[1:], tgt[:-1])  # teacher forcing: target shifted right
    perfect = get_task("seq2seq_addition").score(data.test, data.test.y, data.info)
    assert perfect == {"exact_match": 1.0, "char_accuracy": 1.0}
    wrong_last = data.test.y.copy()
    wrong_last[:, 0] = (wrong_last[:, 0] + 1) % 13 + 1
    assert get_task("seq2seq_addition").score(data.test, wrong_last, data.info)["exact_match"] == 0.0


def test_masked_padding_is_excluded_from_char_accuracy():
    data = get_task("seq2seq_addition").load("smoke", seed=0)
    predicted = data.test.y.copy()
    predicted[data.test.y == 0] = 5  # garbage where the target is padding
    assert get_task("seq2seq_addition").score(data.test, predicted, data.info)["char_accuracy"] == 1.0


@pytest.mark.parametrize("name", SYNTHETIC)
def test_same_seed_same_data_different_seed_different_data(name):
    task = get_task(name)
    a, b, c = task.load("smoke", seed=5), task.load("smoke", seed=5), task.load("smoke", seed=6)
    first = lambda d: d.train.x[0] if isinstance(d.train.x, list) else d.train.x  # noqa: E731
    np.testing.assert_array_equal(first(a), first(b))
    np.testing.assert_array_equal(a.test.y, b.test.y)
    assert not np.array_equal(first(a), first(c))


def test_lstm_trained_briefly_beats_the_adding_baseline():
    spec = RunSpec.resolve("adding", "lstm", 0, size="smoke", params={"n_train": 2048},
                           layers=[("test", {"units": 32}, {"learning_rate": 1e-2, "epochs": 8})])
    record = train_run(spec)
    assert record["status"] == "finished"
    assert record["test"]["mse"] < 0.5 * record["baseline"]["mse"]


# Every one-directional variant trains through the regression path, with a bidirectional twin of
# each loop kind (built-in layer, step loop, scan, parallel form; the shared harness fits, saves
# and reloads every twin already); the per-step (tagging) path takes one variant of each cell
# family and two twins; seq2seq builds two recurrent stacks and decodes step by step, so it takes
# one variant of each classic family, a Greff ablation and a bidirectional encoder.
ONE_PER_FAMILY = ["vanilla", "lstm", "gru", "mingru", "minlstm", "indrnn", "lru", "mut1", "slstm", "mlstm", "rglru"]
TWINS = ["bi-lstm", "bi-peephole", "bi-mingru", "bi-lru", "bi-mlstm"]
EVERY_PAIR = ([("adding", v) for v in zoo.list_variants() if not zoo.get_variant(v).bidirectional] + [("adding", v) for v in TWINS]
              + [("copy_memory", v) for v in ONE_PER_FAMILY + ["bi-lstm", "bi-mingru"]]
              + [("seq2seq_addition", v) for v in ("vanilla", "cifg", "fgr", "gru-original", "bi-lstm")])


@pytest.mark.parametrize("name, variant", EVERY_PAIR)
def test_every_variant_trains_on_every_task(name, variant):
    """One common path: build, fit one epoch, score val and test."""
    task = get_task(name)
    spec = RunSpec.resolve(task, variant, 0, size="smoke", params={"n_train": 64, "n_val": 32, "n_test": 32},
                           layers=[("test", {"units": 8, "embedding_dim": 8}, {"epochs": 1, "batch_size": 32})])
    record = train_run(spec)
    assert record["status"] == "finished"
    assert set(record["test"]) >= {task.metric} and np.isfinite(record["test"][task.metric])


def test_the_tagging_path_takes_every_family():
    from zoo.families import list_families

    assert {zoo.get_variant(v).family for v in ONE_PER_FAMILY} == set(list_families())


def test_divergence_is_detected():
    spec = RunSpec.resolve("adding", "vanilla", 0, size="smoke", layers=[
        ("test", {"units": 8}, {"learning_rate": 1e30, "clipnorm": 0.0, "optimizer": "sgd", "epochs": 3})])
    record = train_run(spec)
    assert record["status"] == "diverged" and "test" not in record


# --- errors before any data is fetched ------------------------------------------------------

@pytest.fixture
def no_fetch(monkeypatch):
    import experiments.tasks.mnist as mnist

    def refuse():
        raise AssertionError("data was fetched before the arguments were checked")

    monkeypatch.setattr(mnist, "load_mnist", refuse)


def test_unknown_task_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown task 'ading'.*Did you mean 'adding'.*Valid tasks:.*seq_mnist"):
        get_task("ading")


def test_unknown_size_and_parameter_fail_before_fetching(no_fetch):
    task = get_task("seq_mnist")
    with pytest.raises(ValueError, match=r"unknown size 'huge'.*smoke, default, paper"):
        task.load("huge")
    with pytest.raises(ValueError, match=r"unknown parameter 'steps'.*valid parameters: n_test, n_train, n_val, order"):
        task.load("smoke", steps=3)
    with pytest.raises(ValueError, match=r"seq_mnist.order must be one of row, pixel, permuted, got 'column'"):
        task.load("smoke", order="column")
    with pytest.raises(ValueError, match=r"seq_mnist.n_train must be an integer, got 'many'"):
        task.load("smoke", n_train="many")
    with pytest.raises(ValueError, match=r"seq_mnist has 60000 training images.*n_train=65000 \+ n_val=5000 = 70000"):
        task.load("smoke", n_train=65000, n_val=5000)


def test_tasks_command_lists_every_task():
    out = subprocess.run([sys.executable, "-m", "experiments", "tasks"], capture_output=True, text=True, check=True).stdout
    for name in list_tasks():
        task = get_task(name)
        assert name in out and task.metric in out and task.baseline_name in out
    assert "smoke" in out and "paper" in out
