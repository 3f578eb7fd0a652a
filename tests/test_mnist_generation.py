"""The 1-to-N task with real data: a digit class in, 28 binarised rows out."""

import math

import numpy as np
import pytest
from conftest import to_numpy

from experiments.tasks import Dataset, Split, get_task
from experiments.tasks.mnist import class_mean_baseline, generate_digits, score_pixels
from experiments.topologies import get_topology


def _fake(n=40, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    rows = (rng.random((n, 28, 28)) < (labels[:, None, None] + 1) / 12).astype("float32")
    previous = np.zeros_like(rows)
    previous[:, 1:] = rows[:, :-1]
    split = Split([np.eye(10, dtype="float32")[labels], previous], rows)
    return Dataset(split, split, split, info={"num_classes": 10, "steps": 28, "output_dim": 28}), labels, rows


def test_the_baseline_is_each_class_s_pixel_frequency():
    data, labels, rows = _fake()
    means = np.stack([rows[labels == c].mean(0) if (labels == c).any() else rows.mean(0) for c in range(10)])
    p = np.clip(means[labels], 1e-7, 1 - 1e-7)
    expected = -(rows * np.log(p) + (1 - rows) * np.log(1 - p)).mean()
    assert class_mean_baseline(data, {})["nll_per_pixel"] == pytest.approx(expected)
    assert score_pixels(data.test, np.full(rows.shape, 0.5), {})["nll_per_pixel"] == pytest.approx(math.log(2))


def test_generation_feeds_back_its_rows_and_names_a_bad_class():
    data, _, _ = _fake()
    model = get_topology("conditional_generation").build("gru", data.info, {"units": 8, "num_layers": 1,
                                                                           "dropout": 0.0, "implementation": "auto"})
    digits = generate_digits(model, [0, 7], seed=1)
    assert digits.shape == (2, 28, 28) and set(np.unique(digits)) <= {0.0, 1.0}
    assert (generate_digits(model, [0, 7], seed=1) == digits).all()  # seeded
    # row t came from the model's probabilities given the rows before it
    previous = np.zeros_like(digits)
    previous[:, 1:] = digits[:, :-1]
    mean = generate_digits(model, [3], sample=False)
    again = to_numpy(model.predict([np.eye(10, dtype="float32")[[3]], np.concatenate(
        [np.zeros((1, 1, 28), "float32"), mean[:, :-1]], axis=1)], verbose=0))
    np.testing.assert_allclose(again, mean, atol=1e-5)
    for bad in ([10], [-1], [2.5]):
        with pytest.raises(ValueError, match=r"digit classes must be integers 0-9, got .*valid: 0, 1, 2"):
            generate_digits(model, bad)


@pytest.mark.registry
def test_mnist_generation_trains_reports_a_grid_of_digits(tmp_path):
    from experiments import runner
    from experiments.report import write_report

    data = get_task("mnist_generation").load(size="smoke", seed=0)
    onehot, previous = data.train.x
    assert onehot.shape == (512, 10) and (onehot.sum(1) == 1).all()
    assert not previous[:, 0].any() and (previous[:, 1:] == data.train.y[:, :-1]).all()  # teacher forcing
    grid = tmp_path / "digits.toml"
    grid.write_text('description = "digits"\nvariants = ["gru"]\nseeds = [0]\n'
                    'tasks = [{task = "mnist_generation", size = "smoke"}]\ntrain = {epochs = 1}\n')
    assert runner.run(str(grid), results_dir=tmp_path / "results") == 0
    out = tmp_path / "report"
    assert write_report(str(grid), storage=f"sqlite:///{tmp_path / 'results' / 'store.db'}", out_dir=out) == 0
    assert "## Generated digits" in (out / "README.md").read_text()
    assert (out / "digits-mnist_generation.png").stat().st_size > 5_000
