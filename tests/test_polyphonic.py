"""The polyphonic music benchmarks (Boulanger-Lewandowski et al. 2012): the standard splits, the
papers' metric against NumPy, whole-sequence evaluation, the baseline, and bad files named."""

import shutil

import numpy as np
import pytest
from conftest import to_numpy

from experiments.tasks import get_task
from experiments.tasks import polyphonic as poly

SHIPPED = poly.SHIPPED  # the project's own copies (before a test points the module elsewhere)


def test_jsb_chorales_loads_offline_with_the_standard_split():
    rolls = poly.load_rolls("jsb_chorales")  # shipped with the project: no network, no cache needed
    assert [len(rolls[s]) for s in ("train", "val", "test")] == [229, 76, 77]
    assert {r.shape[1] for split in rolls.values() for r in split} == {88}
    assert [sum(len(r) for r in rolls[s]) for s in ("train", "val", "test")] == [13807, 4602, 4725]  # SOURCE.md


def test_a_mirror_folder_serves_a_set_and_a_corrupt_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_DATA", str(tmp_path / "data"))
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setattr(poly, "SHIPPED", tmp_path / "nothing-shipped")
    monkeypatch.setattr(poly, "URL", "http://127.0.0.1:9/{file}")  # no network in tests
    monkeypatch.setenv("RNNZOO_POLYPHONIC", str(mirror))
    shutil.copyfile(SHIPPED / "JSB_Chorales.mat", mirror / "JSB_Chorales.mat")
    assert len(poly.load_rolls("jsb_chorales")["train"]) == 229
    assert (tmp_path / "data" / "polyphonic" / "JSB_Chorales.mat").is_file()  # cached, checksum checked

    (tmp_path / "data" / "polyphonic" / "JSB_Chorales.mat").write_bytes(b"truncated")
    (mirror / "JSB_Chorales.mat").write_bytes(b"not the file")
    with pytest.raises(RuntimeError) as error:
        poly.load_rolls("jsb_chorales")
    message = str(error.value)
    assert "could not load JSB_Chorales.mat" in message and "is corrupt or another file" in message
    assert "put JSB_Chorales.mat (sha256 ac0e6085" in message and "RNNZOO_POLYPHONIC" in message


def test_nll_per_frame_and_frame_accuracy_follow_their_definitions():
    rng = np.random.default_rng(0)
    y = (rng.random((2, 5, 88)) < 0.1).astype("float32")
    p = rng.uniform(0.01, 0.99, size=y.shape)
    w = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], "float32")  # the second sequence is padded
    frames = [(i, t) for i in range(2) for t in range(5) if w[i, t]]
    reference = np.mean([-sum(np.log(p[i, t, k]) if y[i, t, k] else np.log(1 - p[i, t, k]) for k in range(88))
                         for i, t in frames])
    assert poly.frame_nll(y, p, w) == pytest.approx(reference, rel=1e-9)
    tp = sum(int(p[i, t, k] > 0.5 and y[i, t, k]) for i, t in frames for k in range(88))
    fp = sum(int(p[i, t, k] > 0.5 and not y[i, t, k]) for i, t in frames for k in range(88))
    fn = sum(int(p[i, t, k] <= 0.5 and y[i, t, k]) for i, t in frames for k in range(88))
    assert poly.frame_accuracy(y, p, w) == pytest.approx(tp / (tp + fp + fn))


def test_whole_sequences_are_read_from_their_first_frame_with_padding_masked():
    rolls = [np.eye(88, dtype="uint8")[[3, 5, 7]], np.eye(88, dtype="uint8")[[1]]]
    split = poly.whole_sequences(rolls)
    assert split.x.shape == (2, 3, 88) and split.sample_weight.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert split.x[0, 0].sum() == 0 and split.x[0, 1, 3] == 1 and split.x[0, 2, 5] == 1  # frame t-1 in, frame t out
    assert split.y[0, 2, 7] == 1 and split.y[1, 0, 1] == 1 and split.y[1, 1:].sum() == 0


@pytest.mark.backend
def test_whole_sequence_evaluation_equals_a_step_by_step_loop():
    """The padded batch gives at every real frame what the model gives reading that sequence
    alone, one frame more at each step (the state carried from its first frame)."""
    import keras

    from experiments.topologies import get_topology

    keras.utils.set_random_seed(0)
    rolls = [(np.random.default_rng(i).random((n, 88)) < 0.1).astype("uint8") for i, n in enumerate((6, 3))]
    split = poly.whole_sequences(rolls)
    model = get_topology("frame_prediction").build("gru", {"input_dim": 88, "num_outputs": 88},
                                                   {"units": 8, "num_layers": 1, "dropout": 0.0,
                                                    "embedding_dim": 8, "implementation": "auto"})
    batch = to_numpy(model.predict(split.x, verbose=0))
    for i, roll in enumerate(rolls):
        for t in range(len(roll)):
            alone = to_numpy(model.predict(split.x[i:i + 1, :t + 1], verbose=0))[0, t]
            np.testing.assert_allclose(batch[i, t], alone, atol=1e-5)


def test_the_baseline_is_each_key_at_its_training_frequency():
    train = poly.whole_sequences([np.eye(88, dtype="uint8")[[0, 0, 1, 0]]])  # key 0 on 3 of 4 frames, key 1 on 1
    test = poly.whole_sequences([np.eye(88, dtype="uint8")[[0, 1]]])
    dataset = type("D", (), {"train": train, "test": test, "info": {}})()
    freq = np.zeros(88)
    freq[0], freq[1] = 0.75, 0.25
    p = np.clip(freq, 1e-7, 1 - 1e-7)
    expected = -(np.log(p[0]) + np.log(1 - p[1]) + sum(np.log(1 - p[2:]))
                 + np.log(1 - p[0]) + np.log(p[1]) + sum(np.log(1 - p[2:]))) / 2
    assert poly.key_frequency_baseline(dataset, {})["nll_per_frame"] == pytest.approx(expected)


def test_the_four_tasks_are_registered_and_a_typo_suggests_the_name():
    for name in ("jsb_chorales", "nottingham", "musedata", "piano_midi"):
        assert get_task(name).metric == "nll_per_frame"
    with pytest.raises(ValueError, match=r"unknown task 'jsb_chorale'. Did you mean 'jsb_chorales'"):
        get_task("jsb_chorale")


@pytest.mark.backend
def test_a_run_records_the_training_splits_nll_for_the_papers_training_numbers():
    """Chung et al. report training NLL too: a polyphonic run scores its training split (without
    weight noise) beside validation and test, and the literature reads it there."""
    from experiments.planner import RunSpec
    from experiments.report.literature import _metric
    from experiments.train import train_run

    spec = RunSpec.resolve("jsb_chorales", "gru-original", 0, size="smoke",
                           layers=[("test", {"units": 4}, {"epochs": 1, "weight_noise": 0.075})])
    record = train_run(spec)
    assert set(record["train_scores"]) == {"nll_per_frame", "frame_accuracy"}
    assert 0 < record["train_scores"]["nll_per_frame"] < 100
    assert _metric(record, "nll_per_frame", "train") == record["train_scores"]["nll_per_frame"]
    assert _metric(record, "nll_per_frame") == record["test"]["nll_per_frame"]


def test_a_set_is_made_once_per_process_and_no_run_can_write_into_it():
    task = get_task("jsb_chorales")
    first, second = task.make({}, 0), task.make({}, 1)
    assert first.train.x is second.train.x and first.train is not second.train  # the arrays shared, not the splits
    assert first.train.x.shape == (229, first.train.x.shape[1], 88) and len(first.test) == 77
    with pytest.raises(ValueError, match="read-only"):
        first.train.y[0, 0, 0] = 1
