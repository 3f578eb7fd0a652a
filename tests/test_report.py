"""The report, from a small results store written here with known values."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.planner import expand
from experiments.report import write_report
from experiments.store import Store

# Known test scores (mse on adding, lower is better) for the smoke grid's two variants.
SCORES = {("adding", "lstm"): [0.10, 0.20, 0.30], ("adding", "cifg"): [0.02, 0.03, 0.04]}
EPOCH_SECONDS = {"lstm": 2.0, "cifg": 3.0}
BASELINE = 0.5  # the trivial baseline's mse in these records: every score above beats it


def fake_record(task, variant, seed, score, baseline):
    metric = {"adding": "mse", "copy_memory": "recall_accuracy"}[task]
    return {
        "status": "finished", "parameters": {"lstm": 1000, "cifg": 800}[variant], "epochs_run": 4,
        "train_seconds": 4 * EPOCH_SECONDS[variant], "seconds_per_epoch": EPOCH_SECONDS[variant],
        "first_epoch_seconds": EPOCH_SECONDS[variant] + 1.0, "build_seconds": 0.5, "eval_seconds": 0.1,
        "steps_per_second": 10.0, "history": {"loss": [1.0, 0.5, 0.3, 0.2], "val_loss": [1.1, 0.6, 0.4, 0.3]},
        "baseline": {metric: baseline}, "val": {metric: score}, "test": {metric: score},
        "environment": {"backend": "tensorflow", "device": "CPU", "keras": "3.x", "python": "3.11"},
    }


SEEDS = ["seeds=0,1,2"]  # the smoke grid has seed 0; these runs are reported with the same --set


def write_store(path, skip=(), fail=()):
    """Runs of the smoke grid with seeds 0, 1, 2 (via --set) and the scores above."""
    store = Store(f"sqlite:///{path}")
    runs = [r for r in expand("smoke", SEEDS) if r.task == "adding"]
    store.open_grid("smoke", {"adding": False})
    store.sync(runs)
    while (claim := store.claim({r.key for r in runs})) is not None:
        spec = claim.spec
        key = (spec["task"], spec["variant"])
        if (key, spec["seed"]) in skip:
            store.finish(claim, {"status": "interrupted", "error": "worker killed"})
            continue
        if (key, spec["seed"]) in fail:
            store.finish(claim, {"status": "failed", "error": "ValueError: boom"})
            continue
        score = SCORES[key][spec["seed"]]
        store.finish(claim, fake_record(*key, spec["seed"], score, BASELINE), score)
    return store


def test_leaderboard_numbers_come_from_the_stored_runs(tmp_path):
    write_store(tmp_path / "store.db")
    out = tmp_path / "report"
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out, overrides=SEEDS) == 0
    table = pd.read_csv(out / "leaderboard-adding.csv").set_index("variant")
    lstm, cifg = np.array(SCORES[("adding", "lstm")]), np.array(SCORES[("adding", "cifg")])
    assert table.index.tolist() == ["cifg", "lstm"]  # lower mse first
    assert table.loc["lstm", "mean"] == pytest.approx(0.2)
    assert table.loc["lstm", "std"] == pytest.approx(0.1)
    # MSE is bounded below by 0: the t-interval is taken on the log scale and transformed back.
    logs = np.log(lstm)
    half = 4.302652729911275 * logs.std(ddof=1) / math.sqrt(3)  # t(0.975, df=2) * s / sqrt(n)
    assert table.loc["lstm", "ci95_low"] == pytest.approx(math.exp(logs.mean() - half))
    assert table.loc["lstm", "ci95_high"] == pytest.approx(math.exp(logs.mean() + half))
    assert (table["ci95_low"] > 0).all()
    assert table.loc["cifg", "best"] == pytest.approx(0.02) and table.loc["cifg", "best_seed"] == 0
    assert table.loc["cifg", "time_vs_lstm"] == pytest.approx(1.5)
    assert table.loc["lstm", "baseline"] == pytest.approx(BASELINE)
    # Welch's t statistic by hand, its p-value from the t distribution with Welch-Satterthwaite df.
    va, vb = cifg.var(ddof=1) / 3, lstm.var(ddof=1) / 3
    t = (cifg.mean() - lstm.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2)
    assert table.loc["cifg", "welch_p_vs_lstm"] == pytest.approx(2 * stats.t.sf(abs(t), df))
    # One comparison with lstm: Holm's correction leaves the p-value as it is.
    assert bool(table.loc["cifg", "significant"]) == (2 * stats.t.sf(abs(t), df) < 0.05)

    readme = (out / "README.md").read_text()
    assert "**0.03**" in readme  # the best mean in bold
    assert "Welch" in readme and "backend: tensorflow" in readme
    # overhead: build 0.5 s + first epoch 1 s slower = 1.5 s; training 8 s (lstm) and 12 s (cifg): median 10
    assert "| adding | 1.50 | 10.0 | 15% |" in readme
    for name in ("index.html", "learning_curves.png", "scores.png", "score_vs_parameters.png",
                 "score_vs_time.png", "heatmap.png", "leaderboard-adding.md", "leaderboard-adding.html", "ranks.csv"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "index.html").read_text()
    assert '<img src="learning_curves.png"' in html and 'href="leaderboard-adding.csv"' in html


def test_which_cell_names_the_best_the_ties_and_the_cheapest_of_them(tmp_path, capsys):
    from experiments.report import load_runs, main_metric, recommendations

    store = write_store(tmp_path / "store.db")
    frame = load_runs(store, "smoke")
    frame["score"] = [main_metric(row) for _, row in frame.iterrows()]
    row = recommendations(frame).set_index("task").loc["adding"]
    assert row["best"] == "cifg" and row["best_mean"] == pytest.approx(0.03)
    # Three seeds each: Welch's p between cifg and lstm is about 0.1, so lstm is not measurably worse.
    p = stats.ttest_ind(SCORES[("adding", "lstm")], SCORES[("adding", "cifg")], equal_var=False).pvalue
    assert 0.05 < p < 0.2
    assert row["as_good"] == ["cifg", "lstm"]
    assert row["fastest"] == "lstm" and row["fastest_seconds_per_epoch"] == 2.0  # 2 s/epoch against 3
    assert row["smallest"] == "cifg" and row["smallest_parameters"] == 800
    assert write_report("smoke", storage=store.url, out_dir=tmp_path / "report", overrides=SEEDS) == 0
    printed = capsys.readouterr().out
    assert "## Which cell?" in printed and "| adding | cifg (0.03 mse) | cifg, lstm |" in printed
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "| adding | cifg (0.03 mse) | cifg, lstm | lstm (2 s/epoch) | cifg (800) |" in readme
    assert readme.index("## Which cell?") < readme.index("## Leaderboards")
    assert "As good as the best on the most tasks: cifg (1 of 1), lstm (1 of 1)." in readme
    assert pd.read_csv(tmp_path / "report" / "which_cell.csv").loc[0, "as_good"] == "cifg lstm"


def test_which_cell_leaves_out_what_the_seeds_tell_apart(tmp_path, monkeypatch):
    from experiments import report

    monkeypatch.setitem(SCORES, ("adding", "lstm"), [0.50, 0.51, 0.52])  # clearly worse than cifg
    store = write_store(tmp_path / "store.db")
    frame = report.load_runs(store, "smoke")
    frame["score"] = [report.main_metric(row) for _, row in frame.iterrows()]
    row = report.recommendations(frame).set_index("task").loc["adding"]
    assert row["as_good"] == ["cifg"] and row["fastest"] == "cifg"


def test_partial_grid_reports_what_exists_and_lists_the_rest(tmp_path):
    write_store(tmp_path / "store.db", skip={(("adding", "cifg"), 2)}, fail={(("adding", "lstm"), 1)})
    out = tmp_path / "report"
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out, overrides=SEEDS) == 0
    table = pd.read_csv(out / "leaderboard-adding.csv").set_index("variant")
    assert table.loc["lstm", "seeds"] == 2 and table.loc["lstm", "mean"] == pytest.approx(0.2)
    assert table.loc["cifg", "seeds"] == 2 and table.loc["cifg", "mean"] == pytest.approx(0.025)
    readme = (out / "README.md").read_text()
    assert "adding | lstm | seed 1: **failed**: ValueError: boom" in readme
    assert "adding | cifg | seed 2: **interrupted**" in readme
    assert "copy_memory | lstm | seed 0: not run yet" in readme  # in the grid, never run


def test_report_of_a_grid_with_no_runs_says_so_and_fails(tmp_path, capsys):
    Store(f"sqlite:///{tmp_path / 'empty.db'}")  # a store that holds no run of the grid
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'empty.db'}", out_dir=tmp_path / "r") == 1
    assert "no runs of grid 'smoke'" in capsys.readouterr().out


def test_report_of_an_unknown_grid_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown grid 'smok'.*Valid grids"):
        write_report("smok", storage=f"sqlite:///{tmp_path / 'x.db'}")


def test_intervals_stay_in_the_metric_range_and_match_scipy():
    """The make run example of the issue: an MSE t-interval below zero, and an accuracy above 1."""
    from experiments.stats import confidence_interval

    mse = np.array([0.0001, 0.0034])
    low, high = confidence_interval(mse, bounds=(0.0, None))
    t = stats.t.ppf(0.975, 1)
    logs = np.log(mse)
    assert (low, high) == pytest.approx((math.exp(logs.mean() - t * logs.std(ddof=1) / math.sqrt(2)),
                                        math.exp(logs.mean() + t * logs.std(ddof=1) / math.sqrt(2))))
    assert 0 < low < mse.min() and high > mse.max()
    accuracy = np.array([0.97, 0.99, 0.995])
    low, high = confidence_interval(accuracy, bounds=(0.0, 1.0))
    logit = np.log(accuracy / (1 - accuracy))
    half = stats.t.ppf(0.975, 2) * logit.std(ddof=1) / math.sqrt(3)
    assert (low, high) == pytest.approx((1 / (1 + math.exp(-(logit.mean() - half))),
                                        1 / (1 + math.exp(-(logit.mean() + half)))))
    assert 0 < low and high < 1  # a plain t-interval would reach above 1
    plain = stats.t.interval(0.95, 2, loc=accuracy.mean(), scale=stats.sem(accuracy))
    assert plain[1] > 1


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    from experiments.stats import holm

    p = np.array([0.01, 0.04, 0.03, 0.2, 0.005])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
    with_untested = holm(np.array([0.01, np.nan, 0.04]))
    assert np.isnan(with_untested[1])
    np.testing.assert_allclose(with_untested[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


def test_with_fewer_than_three_seeds_the_report_does_not_call_variants_alike(tmp_path):
    from experiments.report import load_runs, main_metric, recommendations

    store = write_store(tmp_path / "store.db", skip={(("adding", "cifg"), 2)})  # cifg: two seeds
    frame = load_runs(store, "smoke")
    frame = frame[frame["status"] == "finished"].copy()
    frame["score"] = [main_metric(row) for _, row in frame.iterrows()]
    row = recommendations(frame).set_index("task").loc["adding"]
    assert row["as_good"] is None and row["seeds"] == 2
    assert write_report("smoke", storage=store.url, out_dir=tmp_path / "r", overrides=SEEDS) == 0
    readme = (tmp_path / "r" / "README.md").read_text()
    assert "not decided: 2 seed(s), the seeds cannot separate variants" in readme
    table = pd.read_csv(tmp_path / "r" / "leaderboard-adding.csv").set_index("variant")
    assert math.isnan(table.loc["cifg", "welch_p_vs_lstm"]) and not table.loc["cifg", "significant"]


def test_a_seq2seq_run_with_attention_shows_where_it_looked(tmp_path):
    """Trained through the runner with `model.attention`: its samples carry the attention weights
    over the question (each row a distribution), and the report draws them."""
    import json

    from experiments import runner

    grid = tmp_path / "attend.toml"
    grid.write_text('description = "attention"\nvariants = ["gru"]\nseeds = [0]\n'
                    'tasks = [{task = "seq2seq_addition", size = "smoke"}]\n'
                    'model = {units = 16, attention = "luong"}\ntrain = {epochs = 1}\n')
    assert runner.run(str(grid), results_dir=tmp_path / "results") == 0
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "results").rglob("record.json")]
    samples = [s for s in record["samples"] if "attention" in s]
    assert len(samples) == len(record["samples"]) == 8
    for sample in samples:
        weights = np.asarray(sample["attention"])
        assert weights.shape == (len(sample["output"]) + 1, len(sample["input"]))  # answer + end x question
        np.testing.assert_allclose(weights.sum(1), 1.0, atol=0.01)  # padding got no weight
    out = tmp_path / "report"
    assert write_report(str(grid), storage=f"sqlite:///{tmp_path / 'results' / 'store.db'}", out_dir=out) == 0
    assert "## Attention" in (out / "README.md").read_text()
    assert (out / "attention-seq2seq_addition-gru.png").stat().st_size > 5_000


# --- one configuration per folder, replaced whole (a crash leaves the old report) -----------------

def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_report_of_another_configuration_has_its_own_folder_and_leaves_the_default_alone(tmp_path, capsys):
    """`report --set ... --only ...` without --out must not touch reports/<grid>/, and its folder
    holds nothing of an earlier report; its header names the settings."""
    write_store(tmp_path / "results" / "store.db")
    results = tmp_path / "results"
    assert write_report("smoke", results_dir=results, overrides=SEEDS) == 0
    default = tmp_path / "reports" / "smoke--seeds-0_1_2"
    before = _tree(default)
    assert write_report("smoke", results_dir=results, overrides=SEEDS, only="task=adding,variant=lstm") == 0
    assert _tree(default) == before  # byte for byte
    other = tmp_path / "reports" / "smoke--seeds-0_1_2_only-task-adding_variant-lstm"
    readme = (other / "README.md").read_text()
    assert "- configuration: `--set seeds=0,1,2`, `--only task=adding,variant=lstm`" in readme
    assert "| cifg" not in (other / "leaderboard-adding.md").read_text()
    (other / "stale-from-an-earlier-report.csv").write_text("old")
    assert write_report("smoke", results_dir=results, overrides=SEEDS, only="task=adding,variant=lstm") == 0
    assert not (other / "stale-from-an-earlier-report.csv").exists()  # the report owns its folder
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [default.name, other.name]  # no leftovers


def test_a_crash_while_writing_leaves_the_old_report(tmp_path, monkeypatch):
    from experiments.report import sections

    write_store(tmp_path / "store.db")
    out = tmp_path / "report"
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out, overrides=SEEDS) == 0
    before = _tree(out)

    def crash(results, folder):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sections, "SECTIONS", [*sections.SECTIONS[:3], crash])
    monkeypatch.setattr("experiments.report.SECTIONS", sections.SECTIONS)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out, overrides=SEEDS)
    assert _tree(out) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")]  # no half-written folder left


def test_a_folder_of_someone_elses_files_is_never_replaced(tmp_path):
    write_store(tmp_path / "store.db")
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match=r"holds files that no report wrote"):
        write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=mine, overrides=SEEDS)
    assert (mine / "thesis.tex").read_text() == "precious"


def test_a_store_with_runs_only_under_other_settings_says_how_to_report_them(tmp_path, capsys):
    write_store(tmp_path / "store.db")  # made with --set seeds=0,1,2
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=tmp_path / "r",
                        overrides=["train.epochs=5"]) == 1
    out = capsys.readouterr().out
    assert "it holds 6 run(s) of this grid under other settings" in out
    assert "python -m experiments report --grid smoke --set train.epochs=2" in out  # the smoke grid's own epochs


# --- no recommendation worse than doing nothing -----------------------------------------------------

def test_no_variant_that_loses_to_the_baseline_is_recommended(tmp_path, monkeypatch):
    """A variant whose mean does not beat the trivial baseline is never 'best' nor 'as good'; a
    task where none does says so; leaderboards mark such variants."""
    monkeypatch.setitem(SCORES, ("adding", "lstm"), [4.1e9, 4.2e9, 4.3e9])  # far worse than the baseline
    write_store(tmp_path / "store.db")
    out = tmp_path / "report"
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out, overrides=SEEDS) == 0
    advice = pd.read_csv(out / "which_cell.csv").set_index("task")
    assert advice.loc["adding", "best"] == "cifg" and advice.loc["adding", "as_good"] == "cifg"
    assert "| lstm ✗ |" in (out / "leaderboard-adding.md").read_text()

    monkeypatch.setitem(SCORES, ("adding", "cifg"), [0.6, 0.7, 0.8])  # both worse than the baseline now
    write_store(tmp_path / "worse.db")
    assert write_report("smoke", storage=f"sqlite:///{tmp_path / 'worse.db'}", out_dir=out, overrides=SEEDS) == 0
    readme = (out / "README.md").read_text()
    assert "| adding | no variant beat the baseline (0.5 mse; the closest, cifg, 0.7) |" in readme
    assert pd.isna(pd.read_csv(out / "which_cell.csv").set_index("task").loc["adding", "best"])


def test_a_score_orders_of_magnitude_above_the_baseline_is_diverged():
    from experiments.tasks import get_task
    from experiments.train import far_above_baseline

    adding, copy = get_task("adding"), get_task("copy_memory")
    assert "over 100x the trivial baseline's 0.1667" in far_above_baseline(adding, {"mse": 4.3e9}, {"mse": 1 / 6})
    assert far_above_baseline(adding, {"mse": float("inf")}, {"mse": 1 / 6})
    assert far_above_baseline(adding, {"mse": 0.9}, {"mse": 1 / 6}) is None  # worse, but not diverged
    assert far_above_baseline(copy, {"recall_accuracy": 0.0}, {"recall_accuracy": 0.125}) is None  # bounded metric
