"""A run stopped part-way goes on from its last checkpoint (experiments.resume): the epochs before it
are not trained again, and the run ends with the numbers of a run never stopped."""

import json

import numpy as np
import pytest

from experiments import resume
from experiments.planner import RunSpec
from experiments.train import Interrupted, train_run

pytestmark = pytest.mark.backend

EPOCHS = 4


def _spec(task, variant, model=None, **train):
    return RunSpec.resolve(task, variant, 0, size="smoke", layers=[
        ("test", {"units": 4, **(model or {})}, {"epochs": EPOCHS, "patience": EPOCHS, **train})])


def _stop_after(steps: int):
    """A `stop` that asks for the stop after `steps` training steps (the run is then in its next epoch)."""
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return "stopped by the test" if calls["n"] > steps + 1 else None  # +1: the check before training

    return stop


def _steps_per_epoch(record) -> int:
    return record["train_examples"] // 8 + (record["train_examples"] % 8 > 0)


CASES = [
    # a length-batched task whose order the run draws itself, with weight noise (the papers' setting)
    pytest.param("jsb_chorales", "gru-original", {}, {"weight_noise": 0.075, "batch_size": 8}, id="lengths+noise"),
    # a task in arrays, with dropout (drawn from the layers' own generators)
    pytest.param("adding", "lstm", {"dropout": 0.25, "recurrent_dropout": 0.25}, {"batch_size": 8}, id="arrays+dropout"),
]


@pytest.mark.parametrize("task, variant, model, train", CASES)
def test_a_stopped_run_resumes_after_its_last_epoch_and_ends_as_one_never_stopped(
        tmp_path, monkeypatch, task, variant, model, train):
    monkeypatch.setenv(resume.CHECKPOINT_VARIABLE, "0")  # a checkpoint after every epoch
    spec = _spec(task, variant, model, **train)
    whole = train_run(spec, run_dir=tmp_path / "whole")
    assert not (tmp_path / "whole" / resume.CHECKPOINT_FILE).exists()  # a finished run leaves none
    assert "resumed_after" not in whole

    folder = tmp_path / "stopped"
    folder.mkdir()
    steps = _steps_per_epoch(whole)
    with pytest.raises(Interrupted):
        train_run(spec, run_dir=folder, stop=_stop_after(2 * steps + 1))  # one step into the third epoch
    with np.load(folder / resume.CHECKPOINT_FILE) as saved:
        assert json.loads(str(saved["meta"]))["epochs"] == 2

    resumed = train_run(spec, run_dir=folder)
    assert resumed["resumed_after"] == [2]
    assert resumed["epochs_run"] == EPOCHS
    assert not (folder / resume.CHECKPOINT_FILE).exists()
    for name, values in whole["history"].items():
        assert resumed["history"][name] == pytest.approx(values, rel=1e-5, abs=1e-7), name
    assert resumed["test"] == pytest.approx(whole["test"], rel=1e-5)


def test_a_checkpoint_of_another_run_or_a_broken_one_is_named_and_the_run_starts_over(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(resume.CHECKPOINT_VARIABLE, "0")
    spec = _spec("adding", "vanilla", batch_size=8)
    with pytest.raises(Interrupted):
        train_run(spec, run_dir=tmp_path, stop=_stop_after(512 // 8 + 1))
    saved = (tmp_path / resume.CHECKPOINT_FILE).read_bytes()

    other = _spec("adding", "vanilla", batch_size=16)
    assert other.key != spec.key
    record = train_run(other, run_dir=tmp_path)
    assert "resumed_after" not in record and record["epochs_run"] == EPOCHS
    assert f"is of run {spec.key}, not {other.key}" in capsys.readouterr().err

    path = tmp_path / resume.CHECKPOINT_FILE
    path.write_bytes(saved[: len(saved) // 2])  # a kill in the middle of a copy
    record = train_run(spec, run_dir=tmp_path)
    assert "resumed_after" not in record and record["epochs_run"] == EPOCHS
    assert "could not be read" in capsys.readouterr().err

    def rewritten(change):
        path.write_bytes(saved)
        with np.load(path) as checkpoint:
            arrays = {name: checkpoint[name] for name in checkpoint.files}
        meta = json.loads(str(arrays["meta"]))
        change(arrays, meta)
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(path, **arrays)

    rewritten(lambda arrays, meta: meta.update(backend="elsewhere"))
    record = train_run(spec, run_dir=tmp_path)
    assert "resumed_after" not in record and record["epochs_run"] == EPOCHS
    assert "was saved on elsewhere" in capsys.readouterr().err

    rewritten(lambda arrays, meta: arrays.update(v0=np.zeros(3)))  # written by other model code
    record = train_run(spec, run_dir=tmp_path)
    assert "resumed_after" not in record and record["epochs_run"] == EPOCHS
    assert "does not fit this model" in capsys.readouterr().err
    assert not path.exists()


def test_the_checkpoint_interval_is_read_from_the_environment(monkeypatch, tmp_path, capsys):
    from experiments.__main__ import main

    monkeypatch.setenv(resume.CHECKPOINT_VARIABLE, "off")
    assert resume.checkpoint_seconds() is None
    monkeypatch.setenv(resume.CHECKPOINT_VARIABLE, "30")
    assert resume.checkpoint_seconds() == 30.0
    monkeypatch.delenv(resume.CHECKPOINT_VARIABLE)
    assert resume.checkpoint_seconds() == resume.CHECKPOINT_SECONDS
    for bad in ("-1", "soon", "nan"):
        monkeypatch.setenv(resume.CHECKPOINT_VARIABLE, bad)
        with pytest.raises(ValueError, match=rf"\$RNNZOO_CHECKPOINT_SECONDS must be a number of seconds >= 0 or 'off' "
                                             rf"\(default 60\), got '{bad}'"):
            resume.checkpoint_seconds()
    # named by the command before any run starts
    monkeypatch.setenv(resume.CHECKPOINT_VARIABLE, "soon")
    for command in (["run", "--grid", "smoke"], ["search", "--space", "quick"]):
        assert main([*command, "--results", str(tmp_path / "results")]) == 2
        assert "$RNNZOO_CHECKPOINT_SECONDS must be a number of seconds" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
