"""Greff's search: paired random sampling, resumable like every queue, Optuna parameters on every
trial, fANOVA importance, the tuned leaderboard over retraining seeds, and clear errors."""

import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from experiments import spaces
from experiments.__main__ import main
from experiments.report.importance import fanova_importance
from experiments.spaces import Search
from experiments.store import Store
from experiments.store_search import float_distribution, int_distribution

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_fanova_gives_the_learning_rate_the_importance_when_only_it_matters():
    rng = np.random.default_rng(0)
    trials = []
    for _ in range(60):
        lr, units, dropout = 10 ** rng.uniform(-4, -1), int(rng.integers(16, 129)), rng.uniform(0, 0.5)
        score = (math.log10(lr) + 2.5) ** 2 + rng.normal(0, 0.01)  # best near 3e-3; units and dropout do nothing
        trials.append(({"train.learning_rate": lr, "model.units": units, "model.dropout": dropout},
                       {"train.learning_rate": float_distribution(1e-4, 1e-1, log=True),
                        "model.units": int_distribution(16, 128, log=True),
                        "model.dropout": float_distribution(0.0, 0.5)}, score))
    importance = fanova_importance(trials, higher_is_better=False)
    assert set(importance) == {"train.learning_rate", "model.units", "model.dropout"}
    assert importance["train.learning_rate"] > 0.9
    assert max(importance["model.units"], importance["model.dropout"]) < 0.05


def test_random_search_is_paired_across_variants():
    plan = Search("quick")
    by_setting = {}
    for run in plan.runs:
        values, _ = plan.params_of(run)
        by_setting.setdefault((run.label, tuple(sorted(values.items()))), set()).add(run.variant)
    assert len(by_setting) == 2 * plan.trials  # each task: `trials` different settings ...
    assert all(variants == set(plan.variants) for variants in by_setting.values())  # ... each run by every variant
    values = [dict(k[1]) for k in by_setting if k[0] == "adding"]
    assert len({v["train.learning_rate"] for v in values}) == plan.trials
    assert all(3e-4 <= v["train.learning_rate"] <= 3e-2 and 16 <= v["model.units"] <= 64 for v in values)
    assert Search("quick").runs == plan.runs  # the same draws every time: resumable


def test_a_sampled_setting_reaches_the_run():
    plan = Search("quick")
    run = plan.runs[0]
    values, distributions = plan.params_of(run)
    assert run.train["learning_rate"] == values["train.learning_rate"]
    assert run.model["units"] == values["model.units"] and run.model["input_dropout"] == values["model.input_dropout"]
    assert optuna.distributions.json_to_distribution(distributions["train.learning_rate"]).log


def test_the_retraining_takes_its_own_settings_and_keeps_the_best_trials():
    plan = Search("smoke")
    best = plan.runs[0]
    record = {**best.to_json(), "status": "finished", "val": {"mse": 0.1}, "trial_number": 0,
              "sampled": plan.params_of(best)[0], "study": plan.study_of(best)}
    plain = {r.seed: r for r in plan.retrain_runs([record])[0]}
    assert plain[plan.seed].key == best.key  # with no `retrain`, the search trial is the seed's retraining
    spaces.SPACES["smoke-retrain"] = {**spaces.SPACES["smoke"], "retrain": {"train": {"epochs": 7}}}
    try:
        longer = Search("smoke-retrain").retrain_runs([record])[0]
    finally:
        del spaces.SPACES["smoke-retrain"]
    assert {r.train["epochs"] for r in longer} == {7} and all(r.key != best.key for r in longer)
    assert {r.train["learning_rate"] for r in longer} == {best.train["learning_rate"]}  # the best setting kept
    assert Search("chung", only="task=jsb_chorales").retrain["train"] == {"epochs": 1000}


def test_the_retraining_ignores_trials_of_an_earlier_declaration_of_the_space():
    """A space declared anew (another fixed setting) keeps its old trials in the store; the best
    setting to retrain is chosen among the trials of the space as it is now, however good an old
    one scored, so the retraining never runs the old configuration."""
    plan = Search("smoke")
    run = plan.runs[0]
    sampled = plan.params_of(run)[0]

    def record(spec, score, number):
        return {**spec.to_json(), "status": "finished", "val": {"mse": score}, "trial_number": number,
                "sampled": sampled, "study": plan.study_of(run)}

    stale = replace(run, train={**run.train, "patience": run.train["patience"] + 7})
    assert stale.key != run.key
    retrain = plan.retrain_runs([record(stale, 0.01, 0), record(run, 0.5, 1)])[0]
    assert retrain and all(r.train["patience"] == run.train["patience"] for r in retrain)
    assert [r.key for r in retrain if r.seed == plan.seed] == [run.key]
    retrain, waiting = plan.retrain_runs([record(stale, 0.01, 0)])
    assert retrain == [] and (run.label, run.variant) in waiting  # nothing of the space as it is now


def test_a_space_takes_per_task_overrides_into_its_search_and_its_retraining():
    """`chung` waits 30 epochs on Piano-midi.de (11 updates an epoch), 10 elsewhere, and retrains
    it for up to 3,000 epochs, 1,000 elsewhere: the retraining keeps the task's search override
    under its own settings, and its own per-task override over both."""
    plan = Search("chung", only="task=piano_midi|jsb_chorales,variant=vanilla")
    patience = {(r.task, r.train["patience"]) for r in plan.runs}
    assert patience == {("piano_midi", 30), ("jsb_chorales", 10)}
    records = []
    for task in ("piano_midi", "jsb_chorales"):
        best = next(r for r in plan.runs if r.task == task)
        records.append({**best.to_json(), "status": "finished", "val": {"nll_per_frame": 9.0}, "trial_number": 0,
                        "sampled": plan.params_of(best)[0], "study": plan.study_of(best)})
    retrained = plan.retrain_runs(records)[0]
    assert {(r.task, r.train["patience"], r.train["epochs"]) for r in retrained} == {
        ("piano_midi", 30, 3000), ("jsb_chorales", 10, 1000)}
    assert len(retrained) == 2 * len(plan.retrain_seeds)
    assert all(r.train["learning_rate"] == next(x for x in records if x["task"] == r.task)["train"]["learning_rate"]
               for r in retrained)  # the best setting kept


@pytest.mark.parametrize("change, message", [
    ({"trials": 0}, r"trials must be a positive integer .* got 0"),
    ({"search": {"train.learning_rate": ("log_uniform", 0.1, 0.01)}}, r"train.learning_rate has low 0.1 > high 0.01"),
    ({"search": {"model.units": ("log_int", 0, 64)}}, r"model.units must be an integer >= 1, got 0"),
    ({"search": {"model.dropout": ("log_uniform", 0.0, 0.5)}}, r"model.dropout is log-scaled, so low must be > 0, got 0.0"),
    ({"search": {"train.lerning_rate": ("uniform", 0.1, 0.2)}}, r"unknown setting train.lerning_rate .*valid train settings:.*learning_rate"),
    ({"search": {"train.learning_rate": ("normal", 0.1, 0.2)}}, r"kind one of uniform, log_uniform, int, log_int, choice"),
    ({"search": {}}, r"`search` declares no distribution"),
    ({"sampler": "grid"}, r"sampler must be one of random, tpe, qmc, got 'grid'"),
    ({"pruner": "asha"}, r"pruner must be None or one of hyperband, median, got 'asha'"),
    ({"trails": 3}, r"unknown key\(s\) trails; valid keys: description"),
    ({"retrain": {"train": {"epoks": 3}}}, r"unknown setting train.epoks .*retrain"),
    ({"retrain": {"train": {"epochs": 0}}}, r"epochs"),
    ({"retrain": {"optimizer": "adam"}}, r"retrain: unknown key\(s\) optimizer; valid keys: model, train, overrides"),
    ({"retrain": {"overrides": {"jsb_chorales": {"train": {"epochs": 2}}}}},
     r"retrain overrides: task 'jsb_chorales' is not in the space; its tasks: adding\."),
    ({"retrain": {"overrides": {"adding": {"epochs": 2}}}},
     r"retrain overrides for adding: unknown key\(s\) epochs; valid keys: model, train"),
    ({"retrain": {"overrides": {"adding": {"train": {"epochs": -1}}}}}, r"train.epochs must be an integer >= 1, got -1"),
    ({"overrides": {"adding_task": {"train": {"epochs": 2}}}}, r"adding_task"),
])
def test_bad_spaces_are_refused_before_anything_trains(change, message, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(spaces.SPACES, "broken", {**spaces.SPACES["smoke"], **change})
    with pytest.raises(ValueError, match=message):
        Search("broken")
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    assert main(["search", "--space", "broken"]) == 2
    assert not (tmp_path / "store.db").exists()


def test_an_unknown_space_or_a_searched_setting_in_set_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path))
    assert main(["search", "--space", "quik"]) == 2
    assert "unknown search space 'quik'. Did you mean 'quick'? Valid search spaces: chung, greff, modern, quick, smoke" in capsys.readouterr().err
    assert main(["search", "--space", "smoke", "--set", "train.learning_rate=0.1"]) == 2
    assert "--set cannot fix what the search samples" in capsys.readouterr().err
    assert not (tmp_path / "store.db").exists()


def cli(*args, results, timeout=600):
    return subprocess.run([sys.executable, "-m", "experiments", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**ENV, "RNNZOO_RESULTS": str(results)}, timeout=timeout)


@pytest.fixture(scope="module")
def smoke_search(tmp_path_factory):
    """The smoke space searched once, killed in the middle (SIGKILL) and resumed."""
    results = tmp_path_factory.mktemp("search") / "results"
    process = subprocess.Popen([sys.executable, "-m", "experiments", "search", "--space", "smoke", "--set",
                                "train.epochs=8", "--set", "train.patience=8"], cwd=ROOT,
                               env={**ENV, "RNNZOO_RESULTS": str(results)}, stdout=subprocess.PIPE, text=True)
    started = 0
    for line in process.stdout:
        started += line.startswith("start")
        if started == 3:  # two trials done, the third one running
            time.sleep(1)
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = cli("search", "--space", "smoke", "--set", "train.epochs=8", "--set", "train.patience=8",
                  results=results)
    assert resumed.returncode == 0, resumed.stderr
    return results, resumed


def test_a_killed_search_resumes_with_no_trial_lost_or_repeated(smoke_search):
    results, resumed = smoke_search
    records = Store(f"sqlite:///{results / 'store.db'}").records("search-smoke")
    search = [r for r in records if not r["study"].endswith("/best")]
    finished = [r["run_key"] for r in search if r["state"] == "COMPLETE"]
    assert len(finished) == len(set(finished)) == 6  # 3 settings x 2 variants, each once
    assert [r["status"] for r in search if r["state"] == "FAIL"] == ["interrupted"]  # the killed one, redone
    retrained = [r for r in records if r["study"].endswith("/best")]
    assert len(retrained) == 4 and all(r["state"] == "COMPLETE" for r in retrained)  # seeds 1, 2 of 2 variants
    again = cli("search", "--space", "smoke", "--set", "train.epochs=8", "--set", "train.patience=8", results=results)
    assert again.returncode == 0 and "start" not in again.stdout  # nothing left to train


def test_search_trials_carry_their_settings_as_optuna_parameters(smoke_search):
    results, _ = smoke_search
    storage = f"sqlite:///{results / 'store.db'}"
    study = optuna.load_study(study_name="search-smoke/adding/lstm", storage=storage)
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 3
    for trial in trials:
        assert set(trial.params) == {"train.learning_rate", "model.units"}
        assert trial.distributions["train.learning_rate"] == optuna.distributions.FloatDistribution(1e-3, 3e-2, log=True)
        assert trial.distributions["model.units"] == optuna.distributions.IntDistribution(4, 16, log=True)
    # What optuna-dashboard's importance panel computes.
    assert set(optuna.importance.get_param_importances(study)) == {"train.learning_rate", "model.units"}


def test_search_report_numbers_come_from_the_store(smoke_search, tmp_path):
    from experiments.report.search import write_search_report
    from experiments.stats import confidence_interval

    results, _ = smoke_search
    out = tmp_path / "report"
    assert write_search_report("smoke", storage=f"sqlite:///{results / 'store.db'}", out_dir=out,
                               overrides=["train.epochs=8", "train.patience=8"]) == 0
    records = Store(f"sqlite:///{results / 'store.db'}").records("search-smoke")
    table = pd.read_csv(out / "tuned-adding.csv").set_index("variant")
    for variant in ("lstm", "cifg"):
        search = [r for r in records if r["variant"] == variant and r["state"] == "COMPLETE"
                  and not r["study"].endswith("/best")]
        best = min(search, key=lambda r: r["val"]["mse"])  # chosen on validation, not test
        scores = [r["test"]["mse"] for r in records if r["state"] == "COMPLETE" and r["variant"] == variant
                  and r["model"] == best["model"] and r["train"] == best["train"]]
        assert len(scores) == 3 and table.loc[variant, "seeds"] == 3
        assert table.loc[variant, "mean"] == pytest.approx(np.mean(scores))
        assert (table.loc[variant, "ci95_low"], table.loc[variant, "ci95_high"]) == pytest.approx(
            confidence_interval(scores, bounds=(0.0, None)))
    readme = (out / "README.md").read_text()
    for heading in ("Which cell, when each is tuned?", "fANOVA importance", "Robustness", "Greff et al. fig. 3",
                    "Greff et al. fig. 4", "Learning rate x units", "Against the literature"):
        assert heading in readme
    # The tuned runs (not the trials) face the published numbers: Bai et al.'s adding is at T = 600.
    literature = pd.read_csv(out / "literature.csv")
    assert set(literature["variant"]) == {"lstm"} and set(literature["verdict"]) == {"not comparable"}
    assert literature["seeds"].tolist() == [3]
    for name in ("scores_all_and_best.png", "score_vs_learning_rate.png", "learning_rate_x_units.png",
                 "importance.csv", "index.html"):
        assert (out / name).stat().st_size > 0
    assert "† differs from `lstm`" in readme
    # Without the reference variant on the leaderboard, no mark points at it.
    alone = tmp_path / "cifg-alone"
    assert write_search_report("smoke", storage=f"sqlite:///{results / 'store.db'}", out_dir=alone,
                               overrides=["train.epochs=8", "train.patience=8"], only="variant=cifg") == 0
    page = (alone / "README.md").read_text()
    assert "### adding: test mse" in page and "differs from `lstm`" not in page and "Student-t interval" in page


def test_a_pruned_run_is_recorded_apart_from_a_diverged_one():
    from experiments.planner import RunSpec
    from experiments.train import train_run

    spec = RunSpec.resolve("adding", "lstm", 0, size="smoke", layers=[("test", {"units": 4}, {"epochs": 5})])
    record = train_run(spec, prune=lambda epoch, loss: epoch >= 2)
    assert record["status"] == "pruned" and record["epochs_run"] == 2


def test_the_median_pruner_stops_a_trial_worse_than_the_others():
    store = Store("sqlite:///:memory:")
    from experiments.planner import expand

    runs = expand("smoke", ["seeds=0,1,2,3,4,5"], "task=adding,variant=lstm")
    store.open_grid("smoke", {"adding": False})
    store.sync(runs)
    keys = {r.key for r in runs}
    for good in range(5):  # five trials whose validation loss falls 1.0, 0.5, 0.25, ...
        claim = store.claim(keys)
        for epoch in range(1, 8):
            assert not store.should_prune(claim, epoch, 1.0 / 2 ** epoch + 0.01 * good, "median")
        store.finish(claim, {"status": "finished", "test": {"mse": 0.1}}, 0.1)
    bad = store.claim(keys)  # a validation loss of 2.0 where the others had 0.5 to 0.01
    assert store.should_prune(bad, 1, 2.0, "median")
    assert store.records("smoke")[-1]["intermediate"] == {1: 2.0}


def test_an_adaptive_sampler_proposes_into_the_same_queue(tmp_path, monkeypatch):
    from experiments.search import search

    monkeypatch.setitem(spaces.SPACES, "tpe", {**spaces.SPACES["smoke"], "sampler": "tpe", "trials": 3,
                                               "retrain_seeds": [0, 1], "train": {"epochs": 1}})
    assert search("tpe", results_dir=tmp_path) == 0
    records = Store(f"sqlite:///{tmp_path / 'store.db'}").records("search-tpe")
    for variant in ("lstm", "cifg"):
        mine = [r for r in records if r["variant"] == variant and not r["study"].endswith("/best")
                and r["state"] == "COMPLETE"]
        assert len(mine) == 3 and all(set(r["sampled"]) == {"train.learning_rate", "model.units"} for r in mine)
    assert sum(r["study"].endswith("/best") and r["state"] == "COMPLETE" for r in records) == 2  # seed 1 of each


def test_a_search_report_before_any_retraining_says_so_and_names_its_store_as_reports_do(tmp_path, monkeypatch):
    from experiments.report.search import NOT_RETRAINED, write_search_report
    from experiments.search import search

    monkeypatch.chdir(tmp_path)  # a retraining with settings of its own (as chung's): none of its runs is a search run
    monkeypatch.setitem(spaces.SPACES, "longer", {**spaces.SPACES["smoke"], "retrain": {"train": {"epochs": 3}}})
    assert search("longer", results_dir=tmp_path / "results", phase="search") == 0  # no retraining yet
    assert write_search_report("longer", results_dir=tmp_path / "results", out_dir=tmp_path / "report") == 0
    page = (tmp_path / "report" / "README.md").read_text()
    assert "results store: `sqlite:///results/store.db`" in page and str(tmp_path) not in page
    assert page.count(NOT_RETRAINED) == 2  # the answer and the leaderboards, instead of empty tables
    assert "| task | best tuned (mean) |" not in page
    assert "- search trials: 6 finished" in page


def test_a_search_report_shows_the_trials_of_its_own_settings_only(tmp_path, monkeypatch, capsys):
    """Trials searched under other fixed settings (`--set`) share the studies of the same tasks and
    variants; the report of one configuration reads its own and counts the others apart."""
    from experiments.report.search import write_search_report
    from experiments.search import search

    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results"
    monkeypatch.setitem(spaces.SPACES, "longer", {**spaces.SPACES["smoke"], "retrain": {"train": {"epochs": 3}}})
    assert search("longer", results_dir=results, phase="search") == 0
    assert search("longer", ["train.batch_size=32"], only="variant=lstm", results_dir=results, phase="search") == 0

    assert write_search_report("longer", results_dir=results, out_dir=tmp_path / "default") == 0
    page = (tmp_path / "default" / "README.md").read_text()
    assert "- search trials: 6 finished" in page and "- configuration: as declared" in page
    assert "3 stored trial(s) of these tasks and variants under other settings are not mixed in" in page
    assert write_search_report("longer", overrides=["train.batch_size=32"], results_dir=results, out_dir=tmp_path / "b32",
                               only="variant=lstm") == 0
    page = (tmp_path / "b32" / "README.md").read_text()
    assert "- search trials: 3 finished" in page and "3 stored trial(s)" in page  # the default's lstm trials
    assert "- configuration: `--set train.batch_size=32`, `--only variant=lstm`" in page
    # The learning rates on the page's figure data are the configuration's own draws.
    runs = pd.read_json(tmp_path / "b32" / "runs.jsonl.gz", lines=True).iloc[1:]
    assert len(runs) == 3 and all(r["user_attrs"]["spec"]["train"]["batch_size"] == 32 for _, r in runs.iterrows())

    capsys.readouterr()
    assert write_search_report("longer", overrides=["train.batch_size=16"], results_dir=results, out_dir=tmp_path / "b16") == 1
    assert "holds 9 trial(s) of these tasks and variants under other settings" in capsys.readouterr().out
