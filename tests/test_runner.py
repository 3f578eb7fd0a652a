"""The runner on the `smoke` grid: resumable, safe with two workers, survives kills and failures."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import to_numpy
from optuna.trial import TrialState

from experiments import runner
from experiments.planner import expand

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "train.epochs=1"]


def cli(*args, results, timeout=600):
    env = {**os.environ, "RNNZOO_RESULTS": str(results), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "experiments", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def trials_by_key(results, grid="smoke"):
    """Every attempt at a run, by run key, as Optuna stored it (read with Optuna itself); `results`
    is the results folder (its SQLite store) or a store URL."""
    import optuna

    storage = results if isinstance(results, str) else f"sqlite:///{results / 'store.db'}"
    out = {}
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        if summary.study_name.startswith(f"{grid}/"):
            for trial in optuna.load_study(study_name=summary.study_name, storage=storage).get_trials():
                out.setdefault(trial.user_attrs["run_key"], []).append(trial)
    return out


def test_run_records_everything_and_a_second_run_trains_nothing(tmp_path):
    first = cli("run", "--grid", "smoke", results=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "start  adding | lstm | seed 0" in first.stdout and "4/4 runs" in first.stdout
    trials = trials_by_key(tmp_path)
    assert len(trials) == 4 and all(len(t) == 1 for t in trials.values())
    for (trial,) in trials.values():
        attrs = trial.user_attrs
        assert trial.state == TrialState.COMPLETE and attrs["status"] == "finished"
        for key in ("val", "test", "baseline", "parameters", "epochs_run", "train_seconds", "seconds_per_epoch",
                    "steps_per_second", "history", "environment"):
            assert key in attrs, key
        assert trial.value == attrs["test"][{"adding": "mse", "copy_memory": "recall_accuracy"}[attrs["spec"]["task"]]]
        assert attrs["runs_as"] == {"recurrent": {"lstm": "keras.layers.LSTM", "cifg": "ZooRNN(GatedCell, stepwise)"}[
            attrs["spec"]["variant"]]}  # what computed the run is on record
        # ... and whether XLA compiled its training step (Keras' "auto": JAX always, TensorFlow on a GPU only)
        assert attrs["jit_compile"] is (attrs["environment"]["backend"] == "jax")
        assert attrs["dtype_policy"] == "float32"
        assert attrs["environment"]["backend"] in ("tensorflow", "jax")
        run_dir = Path(attrs["run_dir"])
        assert {"model.keras", "history.csv", "run.log", "record.json"} <= {p.name for p in run_dir.iterdir()}
        assert "Epoch 1/2" in (run_dir / "run.log").read_text()
        assert set(attrs["artifacts"]) == {"model.keras", "history.csv", "run.log", "record.json"}  # shared
        if attrs["spec"]["task"] == "adding":  # one output per sequence: the gradient at each step is recorded
            norms = attrs["gradient_norms"]
            assert len(norms["initial"]) == len(norms["trained"]) == attrs["spec"]["params"]["T"]
            assert all(v > 0 for v in norms["initial"]) and norms["initial"] != norms["trained"]
        else:  # per-step losses: no single distance from the loss
            assert "gradient_norms" not in attrs
    second = cli("run", "--grid", "smoke", results=tmp_path)
    assert second.returncode == 0 and "nothing to train" in second.stdout and "start" not in second.stdout


def test_same_seed_reproduces_scores(tmp_path):
    a = cli("run", "--grid", "smoke", "--only", "task=adding", *FAST, results=tmp_path / "a")
    b = cli("run", "--grid", "smoke", "--only", "task=adding", *FAST, results=tmp_path / "b")
    assert a.returncode == 0 and b.returncode == 0
    scores = [{k: t[0].value for k, t in trials_by_key(tmp_path / name).items()} for name in ("a", "b")]
    assert scores[0] == scores[1] and len(scores[0]) == 2


def test_two_workers_share_a_grid_without_duplicates(tmp_path, storage):
    # 12 runs: enough that the second worker is up (it imports the backend) before the first is done.
    result = cli("run", "--grid", "smoke", "--workers", "2", "--set", "seeds=0,1,2", *FAST, "--storage", storage,
                 results=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[w1] start" in result.stdout and "[w2] start" in result.stdout
    trials = trials_by_key(storage)
    assert len(trials) == 12
    assert all(len(t) == 1 and t[0].state == TrialState.COMPLETE for t in trials.values())
    # On a CPU the two workers share the cores: each backend's thread pool takes its half.
    assert {t[0].user_attrs["environment"]["threads"] for t in trials.values()} == {max(1, os.cpu_count() // 2)}


def test_killed_worker_is_resumed_with_no_run_lost_or_duplicated(tmp_path, storage):
    # A checkpoint every epoch: the kill lands mid-training, after the second run's first epoch,
    # however fast the backend trains (JAX ends 40 epochs of it within a second or two).
    env = {**os.environ, "RNNZOO_RESULTS": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3", "RNNZOO_CHECKPOINT_SECONDS": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "run", "--grid", "smoke", "--set", "train.epochs=40",
                             "--set", "train.patience=40", "--storage", storage], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # wait until the first run has finished and the second has started
            if line.startswith("start") and "cifg" in line:
                break
        deadline = time.monotonic() + 300
        while not list(tmp_path.glob("**/cifg/**/resume.npz")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = trials_by_key(storage)
    assert sum(t.state == TrialState.RUNNING for ts in before.values() for t in ts) == 1

    resumed = cli("run", "--grid", "smoke", "--set", "train.epochs=40", "--set", "train.patience=40",
                  "--only", "task=adding", "--storage", storage, results=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "start  adding | lstm" not in resumed.stdout  # finished before the kill: not trained again
    assert "resuming from the checkpoint after epoch" in resumed.stdout + resumed.stderr  # the killed run goes on
    after = trials_by_key(storage)
    adding_keys = {r.key for r in expand("smoke", ["train.epochs=40", "train.patience=40"], "task=adding")}
    for key in adding_keys:
        states = [t.state for t in after[key]]
        assert states.count(TrialState.COMPLETE) == 1
    killed = [t for ts in after.values() for t in ts if t.state == TrialState.FAIL]
    assert len(killed) == 1 and killed[0].user_attrs["status"] == "interrupted"


def test_failed_run_is_recorded_and_the_grid_goes_on_then_redone(tmp_path, monkeypatch, capsys):
    import experiments.train as train

    real = train.train_run

    def flaky(spec, *args, **kwargs):
        if spec.variant == "cifg":
            raise RuntimeError("boom in cifg")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(train, "train_run", flaky)
    code = runner.run("smoke", ["train.epochs=1"], "task=adding", results_dir=tmp_path)
    assert code == 1  # a failed run is a failed command
    trials = trials_by_key(tmp_path)
    states = {t[0].user_attrs["spec"]["variant"]: t[0] for t in trials.values()}
    assert states["lstm"].state == TrialState.COMPLETE
    assert states["cifg"].state == TrialState.FAIL and states["cifg"].user_attrs["status"] == "failed"
    assert "boom in cifg" in states["cifg"].user_attrs["error"]
    assert "RuntimeError: boom in cifg" in (Path(states["cifg"].user_attrs["run_dir"]) / "run.log").read_text()
    # The store says what happened and holds nothing queued once the command has exited.
    assert [t.state.name for ts in trials.values() for t in ts].count("WAITING") == 0
    err = capsys.readouterr().err
    assert "1 run(s) failed" in err and "python -m experiments run --grid smoke --set train.epochs=1 --only task=adding" in err

    monkeypatch.setattr(train, "train_run", real)
    assert runner.run("smoke", ["train.epochs=1"], "task=adding", results_dir=tmp_path) == 0
    cifg = [t for ts in trials_by_key(tmp_path).values() for t in ts if t.user_attrs["spec"]["variant"] == "cifg"]
    assert sorted(t.state.name for t in cifg) == ["COMPLETE", "FAIL"]


def test_interrupt_marks_the_run_interrupted(tmp_path, monkeypatch):
    import experiments.train as train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train_run", interrupted)
    assert runner.run("smoke", ["train.epochs=1"], "task=adding", results_dir=tmp_path) == 130
    trials = [t for ts in trials_by_key(tmp_path).values() for t in ts]
    assert [t.user_attrs.get("status") for t in trials if t.state == TrialState.FAIL] == ["interrupted"]
    assert sum(t.state == TrialState.WAITING for t in trials) == 1  # the other run is still queued, not lost


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "quik"], r"unknown grid 'quik'.*Did you mean 'quick'.*Valid grids: memory, paper, quick, repro-bai, repro-cpu, repro-music, smoke, standard"),
        (["--set", "train.epoch=3"], r"unknown setting train.epoch.*valid train settings:.*epochs"),
        (["--set", "train.epochs=three"], r"train.epochs must be an integer, got 'three'"),
        (["--set", "model.dropout=1.5"], r"model.dropout must be in \[0, 1\), got 1.5"),
        (["--set", "model.recurrent_dropout=1"], r"model.recurrent_dropout must be in \[0, 1\), got 1.0"),
        (["--set", "train.optimizer=adamm"], r"train.optimizer must be one of adam, adamw"),
        (["--set", "colour=red"], r"unknown setting 'colour'"),
        (["--only", "variant=transformer"], r"--only variant='transformer' matches nothing.*valid variant values: cifg, lstm"),
        (["--only", "flavour=x"], r"--only key 'flavour' is unknown; valid keys: task, variant, seed, size, label"),
        (["--set", "params.adding.T=-4"], r"adding.T must be positive, got -4"),
        (["--set", "params.adding.length=4"], r"unknown parameter 'length' for task 'adding'"),
        (["--set", "size=huge"], r"unknown size 'huge'.*smoke, default, paper"),
    ],
)
def test_bad_input_stops_before_training(tmp_path, args, message, capsys, monkeypatch):
    import re

    from experiments.__main__ import main

    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    code = main(["run", *(["--grid", "smoke"] if "--grid" not in args else []), *args])
    assert code == 2
    stderr = capsys.readouterr().err
    assert re.search(message, stderr), stderr
    assert not (tmp_path / "store.db").exists()  # nothing was opened, nothing trained


def test_unknown_variant_in_a_grid_is_rejected(monkeypatch):
    from experiments import grids

    monkeypatch.setitem(grids.GRIDS, "broken", {**grids.GRIDS["smoke"], "variants": ["lstm", "lstn"]})
    with pytest.raises(ValueError, match=r"unknown variant 'lstn'.*Did you mean 'lstm'"):
        expand("broken")
    monkeypatch.setitem(grids.GRIDS, "broken", {**grids.GRIDS["smoke"], "variants": ["*transformer*"]})
    with pytest.raises(ValueError, match=r"variant pattern '\*transformer\*' matches no variant"):
        expand("broken")


def test_unopenable_storage_says_so(tmp_path):
    result = cli("run", "--grid", "smoke", "--storage", "postgresql://nobody@127.0.0.1:1/none", results=tmp_path)
    assert result.returncode == 1
    assert "cannot open the results store 'postgresql://nobody@127.0.0.1:1/none'" in result.stderr


def test_overrides_change_the_run_key_and_settings():
    plain = expand("smoke")
    changed = expand("smoke", ["train.epochs=7", "model.units=8"])
    assert {r.train["epochs"] for r in changed} == {7} and {r.model["units"] for r in changed} == {8}
    assert not {r.key for r in plain} & {r.key for r in changed}
    assert json.dumps(plain[0].to_json())  # records are JSON


def test_a_later_model_setting_at_its_default_keeps_stored_run_keys():
    """Runs stored before `model.recurrent_dropout` existed keep their keys, so they are not redone."""
    import hashlib

    run = expand("smoke")[0]
    assert run.model["recurrent_dropout"] == run.model["input_dropout"] == run.train["momentum"] == 0.0
    assert run.model["context"] == "initial_state" and run.model["attention"] == "none"
    assert run.train["jit_compile"] == "auto" and run.train["weight_noise"] == 0.0
    # settings added after the first results
    later = {"recurrent_dropout", "input_dropout", "momentum", "context", "attention", "jit_compile", "weight_noise"}
    before = {"task": run.task, "size": run.size, "params": run.params, "variant": run.variant, "seed": run.seed,
              "model": {k: v for k, v in run.model.items() if k not in later},
              "train": {k: v for k, v in run.train.items() if k not in later}}
    assert run.key == hashlib.sha1(json.dumps(before, sort_keys=True).encode()).hexdigest()[:12]
    changed = expand("smoke", ["model.recurrent_dropout=0.25"])[0]
    assert changed.model["recurrent_dropout"] == 0.25 and changed.key != run.key
    assert expand("smoke", ["model.attention=luong"])[0].key != run.key


def test_recurrent_dropout_setting_reaches_the_cells():
    from experiments.settings import defaults
    from experiments.tasks import get_task
    from experiments.train import build_model

    task = get_task("adding")
    model = build_model(task, "peephole", {"input_dim": 2, "num_outputs": 1},
                        {**defaults("model"), "units": 4, "recurrent_dropout": 0.25})
    cell = model.get_layer("recurrent").levels[0].cell
    assert (cell.recurrent_dropout, cell.dropout) == (0.25, 0.0)


def test_seed_fixes_the_dropout_masks_of_a_run():
    import keras
    import numpy as np

    from experiments.settings import defaults
    from experiments.tasks import get_task
    from experiments.train import build_model

    x = np.ones((8, 5, 2), "float32")

    def training_output(seed):
        keras.utils.set_random_seed(seed)  # as the runner does before it builds a run's model
        model = build_model(get_task("adding"), "cifg", {"input_dim": 2, "num_outputs": 1},
                            {**defaults("model"), "units": 16, "recurrent_dropout": 0.5})
        return to_numpy(model(x, training=True))

    np.testing.assert_array_equal(training_output(3), training_output(3))
    assert not np.allclose(training_output(3), training_output(4))


@pytest.mark.backend
def test_the_commands_start_quietly(tmp_path):
    """No backend start-up notices (oneDNN, CUDA, absl), even with no log level set: on JAX and
    torch too, where TensorFlow is imported later, for the run's TensorBoard logs."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "experiments", "run", "--grid", "smoke", "--only",
                             "task=adding,variant=lstm", *FAST], capture_output=True, text=True, cwd=ROOT,
                            env={**env, "RNNZOO_RESULTS": str(tmp_path)}, timeout=600)
    assert result.returncode == 0, result.stderr
    noise = [line for line in (result.stdout + result.stderr).splitlines()
             if any(word in line for word in ("I0000", "E0000", "oneDNN", "cuInit", "absl", "cuda drivers"))]
    assert not noise, noise


def test_quiet_stderr_passes_real_messages_on(capfd):
    from zoo._quiet import quiet_stderr

    with quiet_stderr():
        os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"a real problem: disk full\n")
    assert capfd.readouterr().err == "a real problem: disk full\n"


def test_jit_compile_setting_reaches_the_model_and_the_record():
    """`train.jit_compile=on` compiles the training step with XLA (off: never), as the record says;
    a bad value names the valid ones before anything trains."""
    from experiments.settings import check_setting
    from experiments.train import train_run

    with pytest.raises(ValueError, match=r"train.jit_compile must be one of auto, on, off, got 'yes'"):
        check_setting("train.jit_compile", "yes")
    (run,) = expand("smoke", ["train.jit_compile=on", "train.epochs=1"], "task=adding,variant=cifg")
    record = train_run(run)
    assert record["status"] == "finished" and record["jit_compile"] is True
    assert record["runs_as"] == {"recurrent": "ZooRNN(GatedCell, stepwise)"}


def test_a_run_far_worse_than_the_baseline_is_recorded_as_diverged(tmp_path):
    """learning_rate=1e6 with Adam and clipping: the loss may stay finite, but a score orders of
    magnitude above the trivial baseline's is a diverged run, never a finished one."""
    assert runner.run("smoke", ["train.epochs=1", "train.learning_rate=1e6"], "task=adding,variant=lstm",
                      results_dir=tmp_path) == 0
    (trial,) = [t for ts in trials_by_key(tmp_path).values() for t in ts]
    assert trial.user_attrs["status"] == "diverged" and trial.state == TrialState.PRUNED
    assert all(math.isfinite(v) for v in trial.user_attrs["history"]["loss"])  # no NaN: the baseline told
    assert "is over 100x the trivial baseline's" in trial.user_attrs["error"]


COMPILE_CACHE_PROBE = """
import json
import jax
hits = []
jax.monitoring.register_event_listener(lambda event, **kw: hits.append(event))
from experiments.planner import RunSpec
from experiments.train import train_run, use_compile_cache
record = train_run(RunSpec.resolve("adding", "gru", seed=0, size="smoke"))
print(json.dumps({"folder": str(use_compile_cache()), "test": record["test"],
                  "hits": hits.count("/jax/compilation_cache/cache_hits")}))
"""


def test_jax_runs_share_compiled_steps_through_the_compile_cache(tmp_path):
    """Two processes train the same run on JAX with one cache folder: the first writes compiled
    programs there, the second reads them back (JAX's cache-hit events) and scores the same; `off`
    keeps no cache; a folder that cannot be written is named and the run goes on without one."""
    cache = tmp_path / "cache"

    def train(setting):
        env = {**os.environ, "KERAS_BACKEND": "jax", "RNNZOO_COMPILE_CACHE": setting, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run([sys.executable, "-c", COMPILE_CACHE_PROBE], check=False, cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = train(str(cache))
    written = sorted(p.name for p in cache.iterdir() if p.name.endswith("-cache"))
    assert first["folder"] == str(cache) and any("train_step" in name for name in written)
    second = train(str(cache))  # every program the first kept is read back, the training step's included
    assert second["hits"] >= len(written) > first["hits"] and second["test"] == first["test"]
    off = train("off")
    assert off["folder"] == "None" and off["hits"] == 0 and off["test"] == first["test"]
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    env = {**os.environ, "KERAS_BACKEND": "jax", "RNNZOO_COMPILE_CACHE": str(blocked / "cache")}
    warned = subprocess.run([sys.executable, "-c", "from experiments.train import use_compile_cache as u; print(u())"],
                            check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert warned.returncode == 0 and warned.stdout.strip() == "None"
    assert f"warning: cannot write the compile cache to {blocked / 'cache'}" in warned.stderr
    assert "RNNZOO_COMPILE_CACHE=off" in warned.stderr
