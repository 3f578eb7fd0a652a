"""Each concept has one home: a family, a topology or a setting is one entry, added from outside
the package; results stored by an earlier version keep their keys and numbers."""

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import to_numpy
from keras import ops

import zoo
from experiments import grids, settings
from experiments.planner import RunSpec, expand

DATA = Path(__file__).resolve().parent / "data" / "v0"


# --- results stored by the first version ----------------------------------------------------------

# The quick grid as the first version declared it (it has since moved to 3 seeds and other tasks).
FIRST_QUICK = {
    "description": "the first version's default comparison",
    "variants": ["vanilla", "lstm", "peephole", "cifg", "gru", "bi-lstm"],
    "tasks": [
        {"task": "adding", "size": "default", "params": {"T": 30, "n_train": 4000}},
        {"task": "seq_mnist", "size": "default", "params": {"n_train": 6000, "n_test": 5000, "n_val": 1000}},
        {"task": "pos_tagging", "size": "default", "params": {"n_train": 3000, "max_len": 40}},
    ],
    "seeds": [0, 1],
    "model": {"units": 48},
    "train": {"epochs": 6, "batch_size": 64, "patience": 2},
    "overrides": {"adding": {"train": {"learning_rate": 5e-3, "epochs": 10}}},
}


def test_run_keys_are_those_of_the_first_stored_results(monkeypatch):
    """Keys computed by the version that first stored results (tests/data/v0/run_keys.json, written
    by it for every grid and a few --set combinations): every run it had is still there with the
    same key; the only new runs are those of variants registered since (grids that select `*`) or
    of tasks added to a grid since (`standard` gained `mnist_generation` and `ner`)."""
    monkeypatch.setitem(grids.GRIDS, "quick", FIRST_QUICK)  # the same configuration, the same keys
    cases = json.loads((DATA / "run_keys.json").read_text())
    for case, expected in cases.items():
        then = [tuple(run) for run in expected["runs"]]
        now = [(r.label, r.variant, r.seed, r.key) for r in expand(case.split("|")[0], expected["set"])]
        assert [run for run in now if run in set(then)] == then, case
        old_variants, old_tasks = {run[1] for run in then}, {run[0] for run in then}
        assert all(run[1] not in old_variants or run[0] not in old_tasks for run in now if run not in set(then)), case


@pytest.fixture
def old_store(tmp_path):
    """A results store written by the first version (the smoke grid, seeds 0-2), restored from its SQL dump."""
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as connection:
        connection.executescript((DATA / "smoke_store.sql").read_text())
    return f"sqlite:///{path}"


def test_a_store_of_the_first_version_reports_the_same_numbers(old_store, tmp_path):
    from experiments.report import write_report

    out = tmp_path / "report"
    assert write_report("smoke", storage=old_store, out_dir=out, overrides=["seeds=0,1,2"]) == 0
    for name in ("leaderboard-adding.csv", "leaderboard-copy_memory.csv"):
        then = pd.read_csv(DATA / name).set_index("variant")
        now = pd.read_csv(out / name).set_index("variant")
        assert sorted(now.index) == sorted(then.index)
        for column in ("parameters", "seeds", "mean", "std", "best", "best_seed", "baseline", "epochs",
                       "seconds_per_epoch", "time_vs_lstm", "welch_p_vs_lstm"):
            np.testing.assert_allclose(now.loc[then.index, column].astype(float),
                                       then[column].astype(float), rtol=1e-12, err_msg=f"{name}: {column}")


def test_a_store_of_the_first_version_trains_nothing_again(old_store, tmp_path, capsys):
    from experiments import runner

    assert runner.run("smoke", ["seeds=0,1,2"], storage=old_store, results_dir=tmp_path) == 0
    assert "12 runs (12 done" in capsys.readouterr().out


# --- settings ---------------------------------------------------------------------------------------

# The settings that existed when results were first stored. A setting added since must be declared
# `added_later=True` (its default is then left out of run keys), or every stored run is trained again.
FIRST_SETTINGS = {
    "model.units", "model.num_layers", "model.dropout", "model.embedding_dim", "model.implementation",
    "train.optimizer", "train.learning_rate", "train.clipnorm", "train.batch_size", "train.epochs",
    "train.patience", "train.mixed_precision",
}


def test_every_setting_added_since_the_first_results_is_declared_added_later():
    new = {s.key for s in settings.SETTINGS} - FIRST_SETTINGS
    undeclared = {s.key for s in settings.SETTINGS if s.key in new and not s.added_later}
    assert not undeclared, f"{undeclared} must be declared added_later=True"
    assert not FIRST_SETTINGS - {s.key for s in settings.SETTINGS}, "a first setting was removed: keys would change"


def test_a_setting_added_later_keeps_keys_at_its_default_and_changes_them_otherwise(monkeypatch):
    run = expand("smoke")[0]
    extra = settings.Setting("train", "warmup_steps", 0, "a setting that did not exist before", low=0,
                             added_later=True)
    monkeypatch.setattr(settings, "SETTINGS", settings.SETTINGS + (extra,))
    monkeypatch.setitem(settings._BY_KEY, extra.key, extra)
    assert replace(run, train={**run.train, "warmup_steps": 0}).key == run.key
    assert replace(run, train={**run.train, "warmup_steps": 5}).key != run.key


@pytest.mark.parametrize("key, value, message", [
    ("model.units", "inf", r"model.units must be an integer, got 'inf'"),
    ("model.units", "nan", r"model.units must be an integer, got 'nan'"),
    ("model.units", 0, r"model.units must be an integer >= 1, got 0"),
    ("train.learning_rate", "nan", r"train.learning_rate must be a finite number, got 'nan'"),
    ("train.learning_rate", 0, r"train.learning_rate must be a number > 0, got 0.0"),
    ("train.clipnorm", -1, r"train.clipnorm must be a number >= 0, got -1.0"),
    ("train.patience", -1, r"train.patience must be an integer >= 0, got -1"),
    ("train.optimizer", "adamm", r"train.optimizer must be one of adam, adamw, rmsprop, sgd, nadam, rmsprop-graves, got 'adamm'"),
    ("model.implementation", "fast", r"model.implementation must be one of auto, builtin, zoo, got 'fast'"),
    ("train.mixed_precision", "maybe", r"train.mixed_precision must be true or false, got 'maybe'"),
])
def test_bad_setting_values_name_the_setting_and_the_valid_values(key, value, message):
    with pytest.raises(ValueError, match=message):
        settings.check_setting(key, value)


def test_numpy_numbers_are_valid_setting_values():
    assert settings.check_setting("model.units", np.int64(64)) == 64
    assert settings.check_setting("train.learning_rate", np.float32(0.5)) == 0.5


# --- a family from outside the package -------------------------------------------------------------

@keras.saving.register_keras_serializable(package="tests")
class LeakyCell(zoo.cells.ZooCell):
    """h_t = (1 - a) h_{t-1} + a tanh(x_t W + h_{t-1} U + b): a leaky Elman cell."""

    def __init__(self, units, leak=0.5, **kwargs):
        super().__init__(units, **kwargs)
        self.leak = float(leak)
        self.state_size = self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape, 1)
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer=self.bias_initializer)

    def call(self, inputs, states, training=False):
        h_prev = states[0]
        x, h_seen = self._apply_dropout(inputs, h_prev, training)
        candidate = ops.tanh(ops.matmul(x, self.kernel) + ops.matmul(h_seen, self.recurrent_kernel) + self.bias)
        h = (1 - self.leak) * h_prev + self.leak * candidate
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "leak": self.leak}


@pytest.fixture
def leaky_family(monkeypatch):
    """Registers family "leaky" and variant "leaky" (+ "bi-leaky") for one test, then forgets them."""
    from zoo import families, registry

    monkeypatch.setattr(families, "_FAMILIES", dict(families._FAMILIES))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))
    families.register_family(families.Family("leaky", LeakyCell, "leaky Elman cell"))
    zoo.register_variant(zoo.Variant("leaky", "leaky", "leaky Elman cell, a = 0.3", "a test", "h = ...",
                                     cell_options={"leak": 0.3}))


@pytest.mark.backend
def test_a_family_registered_from_outside_builds_trains_saves_is_benchmarked_and_listed(leaky_family, tmp_path):
    from zoo import bench

    assert zoo.list_variants("*leaky") == ["bi-leaky", "leaky"]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model = zoo.many_to_one("leaky", 1, input_dim=3, units=4, output_activation=None)
    model.compile("adam", "mse")
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])
    cell = model.get_layer("recurrent").levels[0].cell
    assert isinstance(cell, LeakyCell) and cell.leak == 0.3
    model.save(tmp_path / "leaky.keras")
    reloaded = keras.saving.load_model(tmp_path / "leaky.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)

    # One step against the equation, in NumPy.
    w = {v.name: to_numpy(v) for v in cell.weights}
    h = np.zeros((16, 4), "float32")
    for t in range(5):
        h = 0.7 * h + 0.3 * np.tanh(x[:, t] @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"])
    np.testing.assert_allclose(to_numpy(model.get_layer("recurrent")(x)), h, rtol=1e-5, atol=1e-6)

    rows = bench.bench_shape(bench.entries_for(["leaky"]), (4, 5, 3, 4), rounds=1, warmup=1, log=lambda *a, **k: None)
    leaky = next(r for r in rows if r["variant"] == "leaky")
    assert leaky["train_ms"] > 0 and leaky["work_vs_lstm"] == pytest.approx((3 * 4 + 4 * 4) / ((3 + 4) * 16))


def test_an_unknown_family_is_an_error_never_a_silent_gru():
    with pytest.raises(ValueError, match=r"unknown family 'lstn'.*Did you mean 'lstm'.*Valid families: elman, gru, indrnn, lru, lstm, mingru"):
        zoo.register_variant(zoo.Variant("x", "lstn", "d", "c", "e"))
    with pytest.raises(ValueError, match=r"unknown cell option\(s\) 'gates' for family 'lstm'; its options: .*peepholes"):
        zoo.register_variant(zoo.Variant("x", "lstm", "d", "c", "e", cell_options={"gates": 3}))


# --- a topology from outside the package -------------------------------------------------------------

def test_a_topology_registered_from_outside_reaches_train_run(monkeypatch):
    from experiments import tasks, topologies
    from experiments.tasks import Dataset, Split, Task
    from experiments.train import train_run

    monkeypatch.setattr(topologies, "_TOPOLOGIES", dict(topologies._TOPOLOGIES))
    monkeypatch.setattr(tasks, "_TASKS", dict(tasks._TASKS))
    tasks.list_tasks()  # the built-in tasks are registered before the toy one

    def build(variant, info, model):  # the sum of a sequence's steps, as a vector
        return zoo.many_to_one(variant, info["num_outputs"], input_dim=info["input_dim"], units=model["units"],
                               output_activation=None)

    topologies.register_topology(topologies.Topology(
        "vector_regression", "sequence -> vector, mean absolute error", build=build,
        loss=lambda: keras.losses.MeanAbsoluteError(), predicts="vectors, shape (examples, num_outputs)"))

    def make(params, seed):
        rng = np.random.default_rng(seed)

        def split(n):
            x = rng.normal(size=(n, params["T"], 2)).astype("float32")
            return Split(x, x.sum(axis=1))
        return Dataset(split(64), split(16), split(16), info={"input_dim": 2, "num_outputs": 2})

    def score(split, predictions, info):
        return {"mae": float(np.abs(to_numpy(predictions) - split.y).mean())}

    tasks.register_task(Task(
        name="sum_vector", description="toy", topology="vector_regression", metric="mae", higher_is_better=False,
        params={"T": 4}, sizes={s: {} for s in tasks.SIZES}, make=make, score=score,
        baseline=lambda data, params: score(data.test, np.zeros_like(data.test.y), data.info), baseline_name="zeros"))
    spec = RunSpec.resolve("sum_vector", "gru", 0, size="smoke", layers=[("test", {"units": 8}, {"epochs": 2})])
    record = train_run(spec)
    assert record["status"] == "finished" and np.isfinite(record["test"]["mae"])
    with pytest.raises(ValueError, match=r"unknown topology 'vector_regresion'.*Did you mean 'vector_regression'"):
        tasks.register_task(replace(tasks.get_task("sum_vector"), name="x", topology="vector_regresion"))


def test_grids_read_causality_from_the_topology():
    runs = expand("standard")
    from experiments.tasks import get_task
    from experiments.topologies import get_topology

    causal = {r.task for r in runs if get_topology(get_task(r.task).topology).causal}
    assert causal == {"tang_poetry", "ptb_char", "ptb_word", "bach_chorales", "mnist_generation"}  # rows given rows
    assert not [r for r in runs if r.task in causal and zoo.get_variant(r.variant).bidirectional]
    assert grids.GRIDS["standard"]["variants"] == ["*"]
