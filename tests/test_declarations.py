"""Grids and search spaces in TOML files of one's own: the built-in schema, the same clear errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.__main__ import main
from experiments.spaces import Search
from experiments.store import Store

ROOT = Path(__file__).resolve().parents[1]

GRID = """\
description = "LSTM and GRU on a tiny adding problem"
variants = ["lstm", "gru"]
seeds = [0, 1]
tasks = [{task = "adding", size = "smoke", params = {T = 8}}]

[model]
units = 8

[train]
epochs = 1

[overrides.adding.train]
learning_rate = 0.005
"""


def test_a_grid_file_runs_and_reports_like_a_built_in_grid(tmp_path):
    path = tmp_path / "my-grid.toml"
    path.write_text(GRID)
    env = {**os.environ, "RNNZOO_RESULTS": str(tmp_path / "results"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-m", "experiments", "run", "--grid", str(path), "--workers", "2"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "grid my-grid: 4 runs" in run.stdout
    records = Store(f"sqlite:///{tmp_path / 'results' / 'store.db'}").records("my-grid")
    assert len(records) == 4 and {r["state"] for r in records} == {"COMPLETE"}
    assert {r["train"]["learning_rate"] for r in records} == {0.005} and {r["params"]["T"] for r in records} == {8}
    from experiments.report import write_report

    assert write_report(str(path), results_dir=tmp_path / "results") == 0  # in-process: no second backend start
    assert (tmp_path / "reports" / "my-grid" / "leaderboard-adding.csv").exists()


@pytest.mark.parametrize("text, message", [
    (GRID.replace("seeds = [0, 1]", "seeds = [0, 1]\ncolour = \"red\""),
     r"grid my-grid: unknown key\(s\) colour; valid keys: description, variants, tasks, seeds, model, train, overrides"),
    (GRID.replace('variants = ["lstm", "gru"]', 'variants = "lstm"'), r"`variants` must be a list, got str 'lstm'"),
    (GRID.replace("seeds = [0, 1]", 'seeds = ["zero"]'), r"`seeds` must hold integers, got 'zero'"),
    (GRID.replace('size = "smoke"', 'sise = "smoke"'), r"grid my-grid tasks\[0\]: unknown key\(s\) sise; valid keys: task, size, params, variants"),
    (GRID.replace('size = "smoke"', 'size = "smoke", variants = ["lstm", 3]'),
     r"grid my-grid tasks\[0\]: `variants` must hold names, got 3"),
    (GRID.replace('size = "smoke"', 'size = "smoke", variants = ["lstmm"]'), r"unknown variant 'lstmm'. Did you mean 'lstm'"),
    (GRID.replace("[train]", "[train\n"), r"my-grid.toml: TOML syntax error: .*line 9"),
    (GRID.replace("epochs = 1", "epochs = 0"), r"train.epochs must be an integer >= 1, got 0"),
    (GRID.replace('"gru"]', '"gruu"]'), r"unknown variant 'gruu'. Did you mean 'gru'"),
])
def test_a_bad_grid_file_is_refused_before_anything_trains(text, message, tmp_path, capsys, monkeypatch):
    path = tmp_path / "my-grid.toml"
    path.write_text(text)
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    assert main(["run", "--grid", str(path)]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "store.db").exists()


def test_a_missing_grid_file_is_named(tmp_path, capsys):
    assert main(["run", "--grid", str(tmp_path / "nope.toml")]) == 2
    assert f"no such file {tmp_path / 'nope.toml'}" in capsys.readouterr().err


def test_a_search_space_file_declares_a_search(tmp_path):
    path = tmp_path / "my-space.toml"
    path.write_text("""\
variants = ["lstm", "cifg"]
tasks = [{task = "adding", size = "smoke"}]
trials = 2
retrain_seeds = [0, 1, 2]
[train]
epochs = 1
[search]
"train.learning_rate" = ["log_uniform", 1e-3, 3e-2]
"model.units" = ["log_int", 4, 16]
""")
    plan = Search(str(path))
    assert plan.name == "my-space" and plan.grid == "search-my-space" and len(plan.runs) == 4
    assert plan.distributions["train.learning_rate"] == ("log_uniform", [1e-3, 3e-2])
    path.write_text(path.read_text().replace('["log_int", 4, 16]', '["log_int", 16, 4]'))
    with pytest.raises(ValueError, match=r"model.units has low 16 > high 4"):
        Search(str(path))


SPACE = """\
variants = ["lstm", "cifg"]
tasks = [{task = "adding", size = "smoke"}]
trials = 2
[train]
epochs = 1
[search]
"train.learning_rate" = ["log_uniform", 1e-3, 3e-2]
"""


@pytest.mark.parametrize("kind, text, message", [
    # One checker for grid and space files: the same key, type and emptiness errors.
    ("grid", GRID.replace('variants = ["lstm", "gru"]', "variants = []"),
     r"grid my-grid: `variants` is empty; give at least one variant name or pattern"),
    ("grid", GRID.replace('size = "smoke"', 'size = "smoke", variants = []'),
     r"grid my-grid tasks\[0\]: `variants` is empty"),
    ("grid", GRID.replace('tasks = [{task = "adding", size = "smoke", params = {T = 8}}]', "tasks = []"),
     r"grid my-grid: `tasks` is empty"),
    ("space", SPACE.replace('variants = ["lstm", "cifg"]\n', ""),
     r"search space my-space: `variants` is missing"),
    ("space", SPACE.replace('tasks = [{task = "adding", size = "smoke"}]', 'tasks = "adding"'),
     r"search space my-space: `tasks` must be a list, got str 'adding'"),
    ("space", SPACE.replace("trials = 2", 'trials = 2\nmodel = "big"'),
     r"search space my-space: `model` must be a table, got str 'big'"),
    ("space", SPACE.replace('size = "smoke"}', 'size = "smoke", bogus = 1}'),
     r"search space my-space tasks\[0\]: unknown key\(s\) bogus; valid keys: task, size, params, variants"),
    ("space", SPACE.replace("trials = 2", 'trials = "two"'),
     r"search space my-space: `trials` must be an integer, got str 'two'"),
])
def test_grid_and_space_files_get_the_same_checks(kind, text, message, tmp_path, capsys, monkeypatch):
    path = tmp_path / f"my-{kind}.toml"
    path.write_text(text)
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    command = ["run", "--grid", str(path)] if kind == "grid" else ["search", "--space", str(path)]
    assert main(command) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "store.db").exists()


@pytest.mark.parametrize("command", [["run", "--grid", "smoke"], ["report", "--grid", "smoke"],
                                     ["search", "--space", "smoke"]])
def test_a_key_given_twice_in_only_is_refused(command, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    assert main([*command, "--only", "task=adding,task=copy_memory"]) == 2
    assert ("--only gives task twice (task=adding and task=copy_memory); give one task=pattern with "
            "alternatives joined by |") in capsys.readouterr().err
    assert not (tmp_path / "store.db").exists()


def test_only_selects_a_task_by_its_parameters_through_its_label():
    from experiments.planner import expand

    runs = expand("memory", only="label=adding(T=100)|adding(T=400),variant=lstm|mlstm,seed=0")
    assert sorted((r.variant, r.params["T"]) for r in runs) == [("lstm", 100), ("lstm", 400), ("mlstm", 100),
                                                                ("mlstm", 400)]
    with pytest.raises(ValueError, match=r"--only label='adding\(T=300\)' matches nothing in grid 'memory'; "
                                         r"valid label values: adding\(T=100\), adding\(T=1000\)"):
        expand("memory", only="label=adding(T=300)")


def test_the_bai_grid_is_sized_as_the_paper_counts(tmp_path):
    """`repro-bai`: two levels of each cell at about Table 1's 300k parameters, counted on the 88
    keys as the report counts them (`paper_count`), and from the cells' formulas by hand."""
    from experiments.planner import expand
    from experiments.report.literature import paper_count

    runs = expand("repro-bai")
    assert len(runs) == 9 and {r.model["num_layers"] for r in runs} == {2}
    by_hand = {  # two levels: the first on 88 inputs, the second on the first's h
        "lstm": lambda h: 4 * (h * (88 + h) + h) + 4 * (h * 2 * h + h),
        "gru": lambda h: 3 * (h * (88 + h) + 2 * h) + 3 * (h * 2 * h + 2 * h),  # reset_after: two biases
        "vanilla": lambda h: (h * (88 + h) + h) + (2 * h * h + h),
    }
    for run in runs:
        count = paper_count(run.variant, run.model, 88)
        assert count == by_hand[run.variant](run.model["units"])
        assert abs(count / 300_000 - 1) < 0.01, (run.variant, count)


def test_variant_settings_give_each_variant_its_own_size(tmp_path):
    from experiments.planner import expand

    runs = expand("repro-music")
    units = {r.variant: r.model["units"] for r in runs}
    assert units == {"vanilla": 100, "gru-original": 46, "peephole": 36}  # Chung et al.'s ~20k-parameter models
    assert {r.train["weight_noise"] for r in runs} == {0.075} and len(runs) == 9
    assert {r.model["units"] for r in expand("repro-music", ["model.units=8"])} == {8}  # --set comes last
    path = tmp_path / "my-grid.toml"
    path.write_text(GRID + '\n[variant_settings.gruu.model]\nunits = 4\n')
    with pytest.raises(ValueError, match=r"unknown variant 'gruu'. Did you mean 'gru'"):
        expand(str(path))
    path.write_text(GRID + '\n[variant_settings.gru.model]\nunits = 0\n')
    with pytest.raises(ValueError, match=r"model.units must be an integer >= 1, got 0"):
        expand(str(path))
