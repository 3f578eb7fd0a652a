"""The tools the README names work on the project's output: TensorBoard reads each run's logs,
optuna-dashboard serves the results store over HTTP."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from experiments import runner
from experiments.store import Store

ROOT = Path(__file__).resolve().parents[1]


def test_each_run_writes_tensorboard_scalars_and_its_settings(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert runner.run("smoke", ["train.epochs=3", "train.patience=3"], "task=adding,variant=lstm",
                      results_dir=tmp_path) == 0
    (run_dir,) = (tmp_path / "smoke" / "adding" / "lstm").iterdir()
    train = EventAccumulator(str(run_dir / "tensorboard" / "train"), size_guidance={"tensors": 0}).Reload()
    losses = [event for event in train.Tensors("epoch_loss")]
    assert [event.step for event in losses] == [0, 1, 2]  # one scalar per epoch
    history = json.loads((run_dir / "record.json").read_text())["history"]["loss"]
    import numpy as np

    np.testing.assert_allclose([float(np.asarray(__import__("tensorflow").make_ndarray(e.tensor_proto)))
                                for e in losses], history, rtol=1e-5)
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = EventAccumulator(str(run_dir / "tensorboard" / "hparams")).Reload().PluginTagToContent("hparams")
    session = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    record = json.loads((run_dir / "record.json").read_text())
    spec = json.loads((run_dir / "run.log").read_text().splitlines()[0].split(": ", 1)[1])
    assert session.hparams["train.learning_rate"].number_value == spec["train"]["learning_rate"]
    assert session.hparams["model.units"].number_value == spec["model"]["units"]
    assert session.hparams["variant"].string_value == "lstm" and record["status"] == "finished"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_optuna_dashboard_serves_the_results_store(tmp_path):
    assert runner.run("smoke", ["train.epochs=1"], "task=adding", results_dir=tmp_path) == 0
    url, port = f"sqlite:///{tmp_path / 'store.db'}", _free_port()
    executable = Path(sys.executable).parent / "optuna-dashboard"  # the command the README names
    dashboard = subprocess.Popen([str(executable), url, "--host", "127.0.0.1", "--port", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, body = time.time() + 60, None
        while body is None and time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as response:
                    body = json.loads(response.read())
            except OSError:
                time.sleep(0.5)
        assert body is not None, "optuna-dashboard did not answer"
        names = {study["study_name"] for study in body["study_summaries"]}
        assert names == {"smoke/adding"}
        (study,) = body["study_summaries"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{study['study_id']}", timeout=10) as response:
            trials = json.loads(response.read())["trials"]
        stored = [r for r in Store(url).records("smoke")]
        assert sorted(t["values"][0] for t in trials) == sorted(r["test"]["mse"] for r in stored)
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=10)


SHARED_GRID = """
description = "a tiny language model, to share its files"
variants = ["gru"]
seeds = [0]
tasks = [{task = "ptb_char", size = "smoke"}]
train = {epochs = 1}
"""


def test_a_run_trained_on_one_machine_is_loaded_on_another_through_the_artifact_store(tmp_path, capsys, monkeypatch):
    """Machine a trains; machine b (its own results folder, the same store and artifact folder)
    reports the grid and samples from a's model, fetched from the artifact store."""
    from experiments.__main__ import main

    grid = tmp_path / "shared.toml"
    grid.write_text(SHARED_GRID)
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("RNNZOO_ARTIFACTS", str(tmp_path / "shared-mount"))

    def machine(name, *args):
        monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path / name))
        code = main([*args, "--storage", storage])
        return code, capsys.readouterr()

    code, printed = machine("a", "run", "--grid", str(grid))
    assert code == 0, printed.err
    (record,) = Store(storage).records("shared")
    assert set(record["artifacts"]) >= {"model.keras", "history.csv", "vocabulary.json", "run.log"}
    assert not (tmp_path / "b").exists()
    code, printed = machine("b", "report", "--grid", str(grid))
    assert code == 0, printed.err
    assert (tmp_path / "reports" / "shared" / "leaderboard-ptb_char.csv").exists()
    code, sampled = machine("b", "generate", "--grid", str(grid), "--only", "task=ptb_char,variant=gru,seed=0",
                            "--count", "2", "--length", "10", "--prompt", "the")
    assert code == 0, sampled.err
    assert "fetched" in sampled.err and "model.keras" in sampled.err
    lines = sampled.out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("the") for line in lines)
    (fetched,) = (tmp_path / "b" / "shared" / "ptb_char" / "gru").iterdir()
    (original,) = (tmp_path / "a" / "shared" / "ptb_char" / "gru").iterdir()
    assert (fetched / "model.keras").read_bytes() == (original / "model.keras").read_bytes()
    # A second call finds the local copy (the cache) and fetches nothing.
    code, again = machine("b", "generate", "--grid", str(grid), "--only", "task=ptb_char,variant=gru,seed=0",
                          "--count", "1")
    assert code == 0 and "fetched" not in again.err
    # An --only that picks more than one run, or a run that has not finished, is named.
    from experiments.__main__ import run_folder

    with pytest.raises(ValueError, match="picks 2 runs of grid .*name task, variant and seed"):
        run_folder(str(grid), "task=ptb_char", ["seeds=0,1"], storage, tmp_path / "b")
    with pytest.raises(ValueError, match="run ptb_char/gru/seed 1 of grid 'shared' has not finished"):
        run_folder(str(grid), "seed=1", ["seeds=0,1"], storage, tmp_path / "b")


def test_a_bad_artifact_store_is_named_before_anything_trains(tmp_path, capsys, monkeypatch):
    from experiments.__main__ import main

    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    monkeypatch.setenv("RNNZOO_ARTIFACTS", str(tmp_path / "artifacts"))  # restored after the test; --artifacts sets it
    assert main(["run", "--grid", "smoke", "--artifacts", "ftp://host/folder"]) == 2
    assert "artifact store 'ftp://host/folder': give a folder or s3://bucket" in capsys.readouterr().err
    assert main(["run", "--grid", "smoke", "--artifacts", "s3://bucket/sub/folder"]) == 2
    assert "give s3://bucket (a bucket, no folder in it)" in capsys.readouterr().err
    assert not (tmp_path / "store.db").exists()  # refused before the store was made
