"""Tasks of one's own data (`experiments.tasks.files`): formats, splits, standardisation,
baselines, the cache, every bad input, and a file task through the runner and the report."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.tasks import get_task
from experiments.tasks.files import declare_task

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def data_cache(tmp_path, monkeypatch):
    """Each test converts into a cache of its own, and the tasks it declares are gone after it."""
    from experiments import tasks
    from experiments.tasks import files

    monkeypatch.setenv("RNNZOO_DATA", str(tmp_path / "cache"))
    tasks.list_tasks()  # the built-in tasks registered first: they stay
    monkeypatch.setattr(tasks, "_TASKS", dict(tasks._TASKS))
    monkeypatch.setattr(files, "_FILE_TASKS", set(files._FILE_TASKS))
    return tmp_path / "cache"


def long_frame(n_sequences=30, seed=0, lengths=(3, 9)):
    """A long-format table: one row per step, a label per sequence that the features predict."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sequences):
        label = ["down", "up", "flat"][s % 3]
        for t in range(int(rng.integers(*lengths))):
            rows.append({"unit": f"u{s:02d}", "time": t, "temp": {"down": -1, "up": 1, "flat": 0}[label] * t
                         + rng.normal(), "load": rng.normal(5.0, 2.0), "mode": ["a", "b", "c"][t % 3],
                         "site": f"site{s % 10}", "label": label, "value": float(s), "tag": ["x", "y"][t % 2]})
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # rows in any order


def declare(tmp_path, frame=None, fmt="csv", **keys):
    frame = long_frame() if frame is None else frame
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    table = {"name": keys.pop("name", "mine"), "path": str(path), "topology": "classification", "sequence": "unit",
             "order": "time", "features": ["temp", "load"], "target": "label", **keys}
    return declare_task(table, where="test task", base_dir=tmp_path)


def load(task):
    task.resolve("default")
    return task.make({"n_train": 0}, 0)


# --- formats ---------------------------------------------------------------------------------------

def test_csv_and_parquet_give_the_same_arrays(tmp_path):
    a = load(declare(tmp_path / "a", fmt="csv", categorical=["mode"]))
    b = load(declare(tmp_path / "b", fmt="parquet", categorical=["mode"]))
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a.split(name).x, b.split(name).x)
        np.testing.assert_array_equal(a.split(name).y, b.split(name).y)
        np.testing.assert_array_equal(a.split(name).lengths, b.split(name).lengths)


def test_rows_in_any_order_give_the_arrays_of_rows_in_order(tmp_path):
    shuffled = long_frame()
    ordered = shuffled.sort_values(["unit", "time"])  # read as it is, with no sort
    a, b = load(declare(tmp_path / "a", shuffled, categorical=["mode"])), load(declare(tmp_path / "b", ordered,
                                                                                      categorical=["mode"]))
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a.split(name).x, b.split(name).x)
        np.testing.assert_array_equal(a.split(name).y, b.split(name).y)


def test_a_long_csv_round_trips_into_padded_sequences_in_order(tmp_path):
    frame = long_frame()
    data = load(declare(tmp_path, frame))
    info = data.info
    # Every sequence comes back whole, its steps in time order, its features standardised.
    seen = 0
    for split in (data.train, data.val, data.test):
        for x, y, length in zip(split.x, split.y, split.lengths):
            steps = x[:length]
            assert (steps[:, -1] == 1).all() and (x[length:] == 0).all()  # real steps marked, padding all zeros
            temp = steps[:, 0] * info["feature_std"][0] + info["feature_mean"][0]
            unit = frame[(frame.temp - temp[0]).abs() < 1e-4].unit.iloc[0]
            rows = frame[frame.unit == unit].sort_values("time")
            np.testing.assert_allclose(temp, rows.temp.to_numpy(), rtol=1e-5, atol=1e-4)
            assert info["classes"][y] == rows.label.iloc[0]
            seen += 1
    assert seen == frame.unit.nunique()


def test_npz_arrays_fixed_and_variable_length(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6, 2)).astype("float32")
    y = np.array(["a", "b"] * 20)
    np.savez(tmp_path / "fixed.npz", x=x, y=y)
    task = declare_task({"name": "arr", "path": "fixed.npz", "topology": "classification", "length": 6},
                        base_dir=tmp_path)
    data = load(task)
    assert data.train.x.shape[1:] == (6, 2) and data.train.lengths is None  # one length: no mask needed
    total = sum(len(data.split(s)) for s in ("train", "val", "test"))
    assert total == 40
    ragged = np.empty(3 * 10, dtype=object)
    for i in range(len(ragged)):
        ragged[i] = rng.normal(size=(2 + i % 5, 3))
    np.savez(tmp_path / "ragged.npz", x=ragged, y=rng.normal(size=len(ragged)))
    data = load(declare_task({"name": "ragged", "path": "ragged.npz", "topology": "regression"}, base_dir=tmp_path))
    assert data.train.x.shape[2] == 4 and data.info["mask_value"] == 0.0  # 3 features + the real-step mark
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(40) % 2)
    data = load(declare_task({"name": "npy", "path": "x.npy", "y_path": "y.npy", "topology": "classification"},
                             base_dir=tmp_path))
    assert data.info["num_outputs"] == 2


def test_text_classification_and_a_character_language_model(tmp_path):
    texts = pd.DataFrame({"text": ["good fine great"] * 20 + ["bad awful poor"] * 20,
                          "label": ["pos"] * 20 + ["neg"] * 20})
    texts.to_csv(tmp_path / "reviews.csv", index=False)
    data = load(declare_task({"name": "reviews", "path": "reviews.csv", "topology": "classification", "text": "text",
                              "target": "label", "level": "word", "max_length": 5}, base_dir=tmp_path))
    assert data.train.x.shape[1] == 5 and data.info["vocab_size"] == 4 + 6
    (tmp_path / "corpus.txt").write_text("abcabcabd" * 50)
    task = declare_task({"name": "corpus", "path": "corpus.txt", "topology": "language_model", "length": 8},
                        base_dir=tmp_path)
    data = load(task)
    assert data.train.x.shape[1] == 8 and data.info["join"] == ""
    np.testing.assert_array_equal(data.train.x[0, 1:], data.train.y[0, :-1])  # the next character is the target


def test_a_column_of_tokens_is_embedded(tmp_path):
    frame = long_frame(30)
    task = declare(tmp_path, frame, features=[], embed="mode", topology="tagging", target="tag")
    data = load(task)
    assert data.info["tokens"] == ["<pad>", "<unk>", "a", "b", "c"] and data.info["vocab_size"] == 5
    assert data.train.x.ndim == 2 and data.train.x.dtype == np.int32
    real = data.train.sample_weight > 0
    assert ((data.train.x > 0) == real).all()  # every real step has a token, padding is 0
    for x, weight in zip(data.train.x, data.train.sample_weight):  # mode cycles a, b, c with the step
        n = int(weight.sum())
        np.testing.assert_array_equal(x[:n], np.arange(n) % 3 + 2)
    with pytest.raises(ValueError, match=r"`embed` = 'mode' makes the sequence one of tokens .* the only input"):
        declare(tmp_path / "mixed", frame, embed="mode")
    with pytest.raises(ValueError, match=r"`embed` goes with classification, regression or tagging, not 'forecasting'"):
        declare(tmp_path / "fc", frame, features=[], embed="mode", topology="forecasting", lookback=2)


# --- splits and standardisation ---------------------------------------------------------------------

def test_splits_are_fixed_by_the_split_seed_and_groups_stay_together(tmp_path):
    frame = long_frame(60)
    a = load(declare(tmp_path / "a", frame, group="site", split_seed=3))
    b = load(declare(tmp_path / "b", frame, group="site", split_seed=3))
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a.split(name).x, b.split(name).x)  # the same for every variant and run seed
    c = load(declare(tmp_path / "c", frame, group="site", split_seed=4))
    assert not all(np.array_equal(a.split(n).x, c.split(n).x) for n in ("train", "val", "test"))
    # Each site's sequences in one split: recover each sequence's site from its first temperature.
    site_of = {round(r.temp, 4): r.site for r in frame.itertuples() if r.time == 0}
    info = a.info
    splits_of = {}
    for name in ("train", "val", "test"):
        for x in a.split(name).x:
            temp = round(float(x[0, 0] * info["feature_std"][0] + info["feature_mean"][0]), 4)
            splits_of.setdefault(site_of[temp], set()).add(name)
    assert len(splits_of) == 10 and all(len(s) == 1 for s in splits_of.values())


def test_a_split_column_places_each_sequence(tmp_path):
    frame = long_frame(30)
    frame["part"] = frame.unit.map(lambda u: ["train", "train", "train", "validation", "test"][int(u[1:]) % 5])
    data = load(declare(tmp_path, frame, split_column="part"))
    assert (len(data.train), len(data.val), len(data.test)) == (18, 6, 6)


def test_standardisation_uses_training_rows_only(tmp_path):
    frame = long_frame(60)
    frame["part"] = frame.unit.map(lambda u: "test" if int(u[1:]) >= 50 else "val" if int(u[1:]) >= 40 else "train")
    frame.loc[frame.part == "test", "load"] += 1000.0  # a test set far from the training data
    data = load(declare(tmp_path, frame, split_column="part"))
    train_rows = frame[frame.part == "train"]
    np.testing.assert_allclose(data.info["feature_mean"], train_rows[["temp", "load"]].mean().to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(data.info["feature_std"], train_rows[["temp", "load"]].std(ddof=0).to_numpy(),
                               rtol=1e-5)
    real = data.train.x[:, :, -1] == 1
    assert abs(data.train.x[:, :, 1][real].mean()) < 1e-5 and abs(data.train.x[:, :, 1][real].std() - 1) < 1e-4
    assert data.test.x[:, :, 1][data.test.x[:, :, -1] == 1].mean() > 100  # the shift stays visible in test


# --- baselines on hand-computed examples ------------------------------------------------------------

def tiny(tmp_path, rows, **keys):
    frame = pd.DataFrame(rows, columns=["unit", "time", "f", "target", "part"])
    return load(declare(tmp_path, frame, features=["f"], target="target", split_column="part", **keys)), \
        get_task(keys.get("name", "mine"))


def test_baselines_of_classification_regression_and_tagging(tmp_path):
    rows = [("a", 0, 1, "x", "train"), ("b", 0, 2, "x", "train"), ("c", 0, 3, "y", "train"),
            ("d", 0, 4, "x", "val"), ("e", 0, 5, "y", "test"), ("f", 0, 6, "x", "test"), ("g", 0, 7, "x", "test")]
    data, task = tiny(tmp_path / "c", rows)
    # Majority class x for every test sequence: accuracy 2/3; F1 of x = 2*2/(2*2+1) = 0.8, of y = 0.
    assert task.baseline(data, {}) == pytest.approx({"accuracy": 2 / 3, "macro_f1": 0.4})
    numbers = [(u, t, f, float(v), p) for (u, t, f, _, p), v in zip(rows, [1, 2, 6, 0, 10, 0, 4])]
    data, task = tiny(tmp_path / "r", numbers, topology="regression", name="reg")
    # Training mean 3; test targets 10, 0, 4: errors 7, -3, 1.
    assert task.baseline(data, {}) == pytest.approx({"mse": 59 / 3, "rmse": math.sqrt(59 / 3), "mae": 11 / 3})
    steps = [("a", 0, 1, "n", "train"), ("a", 1, 2, "v", "train"), ("a", 2, 3, "n", "train"),
             ("b", 0, 1, "v", "val"), ("b", 1, 1, "n", "val"),
             ("c", 0, 1, "v", "test"), ("c", 1, 2, "n", "test"), ("c", 2, 2, "n", "test"), ("c", 3, 2, "v", "test")]
    data, task = tiny(tmp_path / "t", steps, topology="tagging", name="tags")
    # The most frequent training tag is n: 2 of the 4 test steps.
    assert task.baseline(data, {})["token_accuracy"] == pytest.approx(0.5)


def test_forecasting_windows_and_the_persistence_and_seasonal_naive_baselines(tmp_path):
    series = np.array([1.0, 5, 2, 6, 3, 7, 4, 8, 5, 9, 6, 10, 7, 11, 8, 12, 9, 13, 10, 14])
    frame = pd.DataFrame({"t": np.arange(20), "y": series})
    frame.to_csv(tmp_path / "series.csv", index=False)
    base = {"path": "series.csv", "topology": "forecasting", "order": "t", "target": "y", "lookback": 3,
            "split": [0.6, 0.2, 0.2]}
    task = declare_task({"name": "fc", **base}, base_dir=tmp_path)
    data = load(task)
    # 20 - 3 = 17 targets (rows 3..19): the last round(0.2 * 17) = 3 test, the 3 before validate.
    test_targets = series[17:]
    assert len(data.test) == 3 and len(data.val) == 3 and len(data.train) == 11
    info = data.info
    np.testing.assert_allclose(data.test.y[:, 0] * info["target_std"] + info["target_mean"], test_targets, rtol=1e-5)
    np.testing.assert_allclose(data.test.x[0, :, 0] * info["target_std"] + info["target_mean"], series[14:17],
                               rtol=1e-5)
    persistence = series[16:19]  # the last value seen
    expected = np.sqrt(np.mean((persistence - test_targets) ** 2))
    assert task.baseline(data, {})["rmse"] == pytest.approx(expected)
    seasonal = declare_task({"name": "fc2", "season": 2, **base}, base_dir=tmp_path)
    data = load(seasonal)
    assert seasonal.baseline(data, {})["rmse"] == pytest.approx(1.0)  # the value two steps back is 1 lower
    # Standardised with the statistics of rows the training windows read (rows 0..13), not later ones.
    assert data.info["target_mean"] == pytest.approx(series[:14].mean())


def test_a_language_models_unigram_baseline(tmp_path):
    (tmp_path / "c.txt").write_text("aab" * 40)
    task = declare_task({"name": "lm", "path": "c.txt", "topology": "language_model", "length": 3}, base_dir=tmp_path)
    data = load(task)
    train_tokens = ("aab" * 40)[:96]
    # Add-one smoothed training frequencies over the vocabulary (4 reserved ids, a, b; padding never a target).
    counts = {"a": 0, "b": 0}
    for window in data.train.y:
        for token_id in window:
            counts[data.info["vocabulary"].tokens[token_id]] += 1
    assert counts["a"] + counts["b"] == data.train.y.size and train_tokens.count("a") >= counts["a"]
    smoothed = {k: v + 1.0 for k, v in counts.items()}
    total = sum(smoothed.values()) + 3  # <unk>, <s> and </s> each counted once by the smoothing
    test = [data.info["vocabulary"].tokens[t] for t in data.test.y.ravel()]
    expected = -np.mean([math.log(smoothed[t] / total) for t in test])
    assert task.baseline(data, {})["cross_entropy"] == pytest.approx(expected)


# --- the cache -------------------------------------------------------------------------------------

def test_the_cache_is_reused_and_invalidated_by_a_changed_file_or_declaration(tmp_path, data_cache, capsys):
    frame = long_frame()
    declare(tmp_path, frame)
    load(get_task("mine"))
    assert "converting" in capsys.readouterr().out and len(list((data_cache / "files").iterdir())) == 1
    load(declare(tmp_path, frame))
    assert "converting" not in capsys.readouterr().out  # the same file and declaration: read from the cache
    frame.loc[0, "temp"] = 99.0
    first = load(declare(tmp_path, frame))
    assert "converting" in capsys.readouterr().out  # a changed file is read again
    assert np.isclose(first.info["feature_mean"][0] * 0 + frame[frame.unit.isin(frame.unit)].temp.max(), 99.0)
    load(declare(tmp_path, frame, features=["temp"]))
    assert "converting" in capsys.readouterr().out  # so is a changed declaration
    assert len(list((data_cache / "files").iterdir())) == 3


# --- bad input ---------------------------------------------------------------------------------------

def bad(tmp_path, message, frame=None, fmt="csv", **keys):
    with pytest.raises(ValueError, match=message):
        load(declare(tmp_path, frame, fmt=fmt, **keys))


def test_bad_declarations_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"data file .*nothing.csv does not exist"):
        declare_task({"name": "x", "path": "nothing.csv", "topology": "classification", "target": "y"},
                     base_dir=tmp_path)
    bad(tmp_path, r"feature column 'pressure' is not in .*data.csv; its columns: unit, time, temp",
        features=["pressure"])
    bad(tmp_path, r"unknown topology 'clasification'. Did you mean 'classification'.*Valid topologies: classification, ",
        topology="clasification")
    bad(tmp_path, r"metric 'rmse' does not fit topology 'classification'; valid metrics: macro_f1, accuracy",
        metric="rmse")
    bad(tmp_path, r"unknown format 'xlsx'", format="xlsx")
    bad(tmp_path, r"unknown key\(s\) featres \(featres: did you mean 'features'\?\)", featres=["temp"])
    bad(tmp_path, r"target column 'label' is also listed as a feature", categorical=["label"])
    bad(tmp_path, r"`split` must be three positive fractions", split=[0.9, 0.2, 0.1])


def test_bad_data_is_named_with_its_rows(tmp_path):
    frame = long_frame()
    frame.loc[[3, 7], "temp"] = np.nan
    bad(tmp_path / "nan", r"column 'temp' has missing values \(NaN\) in 2 row\(s\).*data rows 3, 7", frame)
    frame = long_frame()
    frame.loc[5, "load"] = np.inf
    bad(tmp_path / "inf", r"column 'load' has infinite values in 1 row\(s\).*data rows 5", frame)
    frame = long_frame()
    frame["value"] = frame["value"].astype(object)
    frame.loc[4, "value"] = np.nan
    bad(tmp_path / "target", r"column 'value' has missing values \(NaN\).*data rows 4", frame, topology="regression",
        target="value")
    bad(tmp_path / "text", r"feature column 'mode' is not numeric \(e.g. '[abc]'.*declare it in `categorical`",
        features=["temp", "mode"])
    frame = long_frame()
    frame["label"] = "same"
    bad(tmp_path / "one", r"target 'label' has one class only \('same'\)", frame)
    frame = long_frame()
    frame.loc[frame.unit == "u04", "label"] = ["up", "down"] * (len(frame[frame.unit == "u04"]) // 2) + \
        ["up"] * (len(frame[frame.unit == "u04"]) % 2)
    bad(tmp_path / "disagree", r"sequence 'u04' has rows with different targets \(down, up\)", frame)
    bad(tmp_path / "length", r"`length` = 4 is declared, but sequence '.*' has \d+ steps", length=4)


def test_bad_values_are_counted_over_the_whole_file_in_one_error(tmp_path, monkeypatch):
    from experiments.tasks import readers

    monkeypatch.setattr(readers, "CHUNK_ROWS", 10)  # the file is read in many chunks
    frame = long_frame()
    frame.loc[[3, 25, 26], "temp"] = np.nan
    frame.loc[[40], "load"] = -np.inf
    bad(tmp_path, r"column 'temp' has missing values \(NaN\) in 3 row\(s\) \(data rows 3, 25, 26\); column 'load' "
        r"has infinite values in 1 row\(s\) \(data rows 40\)", frame)


def test_bad_splits_and_forecasts_are_named(tmp_path):
    frame = long_frame(30)
    frame["part"] = frame.unit.map(lambda u: "test" if u == "u00" else "train")
    bad(tmp_path / "empty", r"the val split\(s\) hold no examples \(train 29, val 0, test 1\)", frame,
        split_column="part")
    frame = long_frame(30)
    frame["part"] = frame.unit.map(lambda u: "test" if u in ("u02", "u05") else "val" if u == "u00" else "train")
    frame.loc[frame.unit.isin(["u02", "u05"]), "label"] = "rare"
    bad(tmp_path / "class", r"class\(es\) 'rare' are in the test split but not in the training split", frame,
        split_column="part")
    frame["part"] = "dev"
    frame.loc[0, "part"] = "testing"
    bad(tmp_path / "part", r"split column 'part' holds 'testing' in data row 0; valid values: train, val", frame,
        split_column="part")
    short = pd.DataFrame({"id": ["a"] * 10 + ["b"] * 3, "t": list(range(10)) + list(range(3)), "y": np.arange(13.0)})
    short.to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(ValueError, match=r"series 'b' has 3 steps, fewer than lookback 4 \+ horizon 1"):
        load(declare_task({"name": "s", "path": "short.csv", "topology": "forecasting", "sequence": "id", "order": "t",
                           "target": "y", "lookback": 4}, base_dir=tmp_path))
    with pytest.raises(ValueError, match="forecasting needs `lookback`"):
        declare_task({"name": "s", "path": "short.csv", "topology": "forecasting", "target": "y"}, base_dir=tmp_path)


# --- the model masks padding ----------------------------------------------------------------------

@pytest.mark.backend
def test_a_masked_many_to_one_ignores_padding():
    import zoo

    rng = np.random.default_rng(0)
    for variant in ("lstm", "gru", "mingru", "bi-gru"):
        model = zoo.many_to_one(variant, 3, input_dim=3, units=8, mask_value=0.0)
        x = rng.normal(size=(2, 5, 3)).astype("float32")
        x[..., -1] = 1.0
        padded = np.concatenate([x, np.zeros((2, 4, 3), "float32")], axis=1)
        np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(x, verbose=0), atol=1e-5,
                                   err_msg=variant)
    with pytest.raises(ValueError, match="mask_value=0.0 masks real-valued features"):
        zoo.many_to_one("lstm", 2, vocab_size=10, mask_value=0.0)


# --- end to end ------------------------------------------------------------------------------------

def cli(*args, cwd, results):
    env = {**os.environ, "RNNZOO_RESULTS": str(results), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "experiments", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


@pytest.mark.slow
def test_a_file_task_runs_with_two_workers_and_reports(tmp_path):
    long_frame(40).to_csv(tmp_path / "sensors.csv", index=False)
    (tmp_path / "sensors.toml").write_text('path = "sensors.csv"\ntopology = "classification"\nsequence = "unit"\n'
                                           'order = "time"\nfeatures = ["temp", "load"]\ncategorical = ["mode"]\n'
                                           'target = "label"\n')
    (tmp_path / "grid.toml").write_text('variants = ["lstm", "mingru"]\nseeds = [0]\n'
                                        'tasks = [{task = "sensors.toml"}, {task = "inline", data = {path = '
                                        '"sensors.csv", topology = "regression", sequence = "unit", order = "time", '
                                        'features = ["temp"], target = "value"}}]\n[model]\nunits = 8\n[train]\n'
                                        'epochs = 2\n')
    checked = cli("check-task", "sensors.toml", cwd=tmp_path, results=tmp_path / "results")
    assert checked.returncode == 0, checked.stderr
    assert "splits: train 32, val 4, test 4" in checked.stdout and "classes (3): " in checked.stdout
    run = cli("run", "--grid", "grid.toml", "--workers", "2", cwd=tmp_path, results=tmp_path / "results")
    assert run.returncode == 0, run.stderr + run.stdout
    assert "4/4 runs" in run.stdout and "test macro_f1" in run.stdout and "test rmse" in run.stdout
    report = cli("report", "--grid", "grid.toml", cwd=tmp_path, results=tmp_path / "results")
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "reports" / "grid" / "README.md").read_text()
    assert "| sensors |" in text and "| inline |" in text
    assert "No published number concerns the tasks of this grid (inline, sensors)" in text


@pytest.mark.slow
def test_tasks_from_a_module_of_ones_own(tmp_path):
    (tmp_path / "mytasks.py").write_text('''
import numpy as np
from experiments.tasks import Dataset, Split, Task, register_task

def make(params, seed):
    rng = np.random.default_rng(seed)
    def split(n):
        x = rng.normal(size=(n, 5, 1)).astype("float32")
        return Split(x, x.sum(1))
    return Dataset(split(64), split(16), split(16), info={"input_dim": 1, "num_outputs": 1})

register_task(Task(name="sum5", description="the sum of five numbers", topology="regression", metric="mse",
                   higher_is_better=False, params={}, sizes={"smoke": {}, "default": {}, "paper": {}}, make=make,
                   score=lambda split, p, info: {"mse": float(np.mean((np.asarray(p) - split.y) ** 2))},
                   baseline=lambda data, params: {"mse": float(np.mean(data.test.y ** 2))}, baseline_name="zero"))
''')
    (tmp_path / "grid.toml").write_text('variants = ["gru"]\nseeds = [0]\ntasks = [{task = "sum5"}]\n'
                                        '[model]\nunits = 4\n[train]\nepochs = 1\n')
    run = cli("run", "--grid", "grid.toml", "--tasks-from", "mytasks", "--workers", "2", cwd=tmp_path,
              results=tmp_path / "results")
    assert run.returncode == 0, run.stderr + run.stdout
    assert "done   sum5 | gru | seed 0: test mse" in run.stdout
    missing = cli("run", "--grid", "grid.toml", "--tasks-from", "notthere", cwd=tmp_path, results=tmp_path / "r")
    assert missing.returncode == 2 and "--tasks-from 'notthere': cannot import it" in missing.stderr


def test_a_search_space_file_and_set_params_take_a_file_task(tmp_path):
    from experiments.planner import expand
    from experiments.search import Search

    folder = tmp_path / "spaces"
    folder.mkdir()
    long_frame(30).to_csv(folder / "sensors.csv", index=False)
    (folder / "sensors.toml").write_text('path = "sensors.csv"\ntopology = "classification"\nsequence = "unit"\n'
                                         'order = "time"\nfeatures = ["temp"]\ntarget = "label"\n')
    (folder / "space.toml").write_text('variants = ["lstm", "gru"]\ntasks = [{task = "sensors.toml"}]\ntrials = 3\n'
                                       '[search]\n"train.learning_rate" = ["log_uniform", 1e-3, 3e-2]\n')
    plan = Search(str(folder / "space.toml"))  # the task file is found beside the space file, from any folder
    assert len(plan.runs) == 6 and {r.task for r in plan.runs} == {"sensors"}
    (folder / "grid.toml").write_text('variants = ["lstm"]\nseeds = [0]\ntasks = [{task = "sensors.toml"}]\n')
    runs = expand(str(folder / "grid.toml"), ["params.sensors.n_train=10"])
    assert runs[0].params == {"n_train": 10} and len(get_task("sensors").make(runs[0].params, 0).train) == 10
    with pytest.raises(ValueError, match=r"unknown parameter 'T' for task 'sensors'; valid parameters: n_train"):
        expand(str(folder / "grid.toml"), ["params.sensors.T=10"])


def test_an_installed_packages_entry_point_registers_its_tasks(monkeypatch):
    import importlib.metadata

    from experiments import tasks as registry

    loaded = []

    class Point:
        name, value = "demo", "demo_package.tasks"

        def load(self):
            loaded.append(self.name)
            registry.register_task(registry.Task(
                name="from_entry_point", description="d", topology="regression", metric="mse", higher_is_better=False,
                params={}, sizes={"smoke": {}, "default": {}, "paper": {}}, make=None, score=None, baseline=None,
                baseline_name="zero"))

    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group: [Point()] if group == registry.ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(registry, "_LOADED", set())
    assert "from_entry_point" in registry.list_tasks() and loaded == ["demo"]
    registry.list_tasks()
    assert loaded == ["demo"]  # loaded once
    registry._TASKS.pop("from_entry_point")


@pytest.mark.slow
def test_a_language_model_of_ones_own_corpus_trains_and_generates(tmp_path):
    (tmp_path / "corpus.txt").write_text("the cat sat on the mat. " * 200)
    (tmp_path / "grid.toml").write_text('variants = ["gru"]\nseeds = [0]\ntasks = [{task = "corpus", data = {path = '
                                        '"corpus.txt", topology = "language_model", length = 24}}]\n[model]\n'
                                        'units = 16\n[train]\nepochs = 2\n')
    run = cli("run", "--grid", "grid.toml", cwd=tmp_path, results=tmp_path / "results")
    assert run.returncode == 0, run.stderr + run.stdout
    assert "test bits_per_token" in run.stdout
    sampled = cli("generate", "--grid", "grid.toml", "--only", "task=corpus,variant=gru,seed=0", "--prompt", "the ",
                  "--count", "2", "--length", "10", cwd=tmp_path, results=tmp_path / "results")
    assert sampled.returncode == 0, sampled.stderr
    assert sampled.stdout.count("the ") >= 2
