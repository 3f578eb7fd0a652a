"""`make gpu-check` runs on a CPU at tiny sizes here, so it cannot rot between GPU loans; its errors
name what is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import gpu_check

ROOT = Path(__file__).resolve().parents[1]
JAX = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}


def check(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "experiments.gpu_check", "run", *args], capture_output=True,
                          text=True, cwd=ROOT, env=JAX, timeout=timeout)


def test_the_gpu_check_runs_on_a_cpu_at_tiny_sizes(tmp_path):
    result = check("--tiny", "--allow-cpu", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    bench = pd.read_csv(tmp_path / "bench-jax.csv").set_index("variant")
    assert {"lstm", "gru", "mingru", "indrnn", "lru"} <= set(bench.index)
    assert bench.loc["lstm", "train_vs_lstm"] == 1.0 and bench.loc["gru", "train_vs_gru"] == 1.0
    assert (bench["train_efficiency"] > 0).all()  # FLOP/s against the device's matmul throughput
    training = pd.read_csv(tmp_path / "training.csv")
    assert sorted(training["variant"]) == ["gru", "lstm", "lstm", "vanilla"]
    assert set(training["task"]) == {"adding", "seq_mnist(order=pixel)"}
    assert (training["seconds_per_epoch"] > 0).all() and (training["status"] == "finished").all()
    text = (tmp_path / "gpu-check.md").read_text()
    assert "# GPU check: CPU" in text and "tiny sizes" in text and "| adding | gru |" in text


def test_without_a_gpu_it_says_what_jax_sees(tmp_path):
    result = check("--out", str(tmp_path), timeout=300)
    assert result.returncode != 0
    assert "no GPU found: the jax backend computes on CPU" in result.stderr and "Pass --allow-cpu" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing was benchmarked or written


def test_a_missing_or_incomplete_wheelhouse_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "NEEDED", {**gpu_check.NEEDED, "no_such_module_xyz": "NoSuchPackage"})
    with pytest.raises(SystemExit, match=r"no_such_module_xyz not installed and no wheelhouse at .*make wheelhouse"):
        gpu_check.install(tmp_path / "absent", tmp_path / "site")
    (tmp_path / "wheels").mkdir()
    with pytest.raises(SystemExit, match=r"wheelhouse .* is incomplete: no wheel of NoSuchPackage"):
        gpu_check.install(tmp_path / "wheels", tmp_path / "site")


def test_a_bad_shape_is_refused(capsys):
    assert gpu_check.main(["run", "--shapes", "64x100x32"]) == 2
    assert "--shapes: a shape is BATCHxSTEPSxFEATURESxUNITS of positive integers, got '64x100x32'" in capsys.readouterr().err
