"""`export` and `import`: a store's done runs through a file into another store, where `run`,
`search` and the reports treat them as their own."""

import gzip
import json
import math

import pytest

from experiments.__main__ import main
from experiments.locations import mask_url
from experiments.planner import expand
from experiments.store import Store
from experiments.tasks import get_task
from experiments.transfer import FORMAT, read_runs
from tests.stores import fill_store, finished_record


def _comparable(records):
    """The records without what a store assigns itself, in a stable order."""
    return sorted(json.dumps({k: v for k, v in r.items() if k != "trial_number"}, sort_keys=True, default=str)
                   for r in records)


@pytest.fixture
def smoke_store(tmp_path):
    """Every run of the smoke grid finished with a made-up record (a NaN in one history)."""
    url = f"sqlite:///{tmp_path / 'a' / 'store.db'}"

    def record_of(spec):
        score = 0.1 + 0.01 * spec["seed"] + 0.001 * len(spec["variant"])
        return finished_record(score, "mse" if spec["task"] == "adding" else "accuracy",
                               history={"loss": [1.0, float("nan")], "val_loss": [1.0, 0.5]}), score

    fill_store(url, "smoke", record_of)
    return url


def test_a_grid_goes_through_a_file_into_another_store_once(smoke_store, storage, tmp_path, capsys):
    target = storage  # SQLite and PostgreSQL
    exported = tmp_path / "smoke.jsonl.gz"
    assert main(["export", "--grid", "smoke", "--storage", smoke_store, "--to", str(exported)]) == 0
    runs = expand("smoke")
    assert f"exported {len(runs)} finished runs of 'smoke'" in capsys.readouterr().out
    with gzip.open(exported, "rt") as handle:  # compressed, as the name asks
        assert json.loads(handle.readline())["format"] == FORMAT

    assert main(["import", str(exported), "--storage", target]) == 0
    assert f"{len(runs)} runs of 'smoke' imported" in capsys.readouterr().out
    before, after = Store(smoke_store).records("smoke"), Store(target).records("smoke")
    assert _comparable(after) == _comparable(before)
    assert any(isinstance(r["history"]["loss"][1], float) and math.isnan(r["history"]["loss"][1]) for r in after)

    assert main(["import", str(exported), "--storage", target]) == 0  # again: nothing added
    assert f"0 runs of 'smoke' imported into {mask_url(target)}, {len(runs)} already there" in capsys.readouterr().out
    assert len(Store(target).records("smoke")) == len(runs)
    store = Store(target)  # what `run` does first: every run is done, none is enqueued
    store.open_grid("smoke", {r.label: get_task(r.task).higher_is_better for r in runs})
    counts = store.sync(runs)
    assert counts["done"] == len(runs) and counts["enqueued"] == 0


def test_only_exports_the_runs_it_names_and_a_pattern_that_names_none_is_an_error(smoke_store, tmp_path, capsys):
    exported = tmp_path / "adding.jsonl"
    assert main(["export", "--grid", "smoke", "--only", "task=adding", "--storage", smoke_store,
                 "--to", str(exported)]) == 0
    _, rows = read_runs(exported)
    tasks = {row["user_attrs"]["spec"]["task"] for row in rows}
    assert tasks == {"adding"} and len(rows) == len(expand("smoke", only="task=adding"))

    assert main(["export", "--grid", "smoke", "--only", "task=addnig", "--storage", smoke_store,
                 "--to", str(tmp_path / "none.jsonl")]) == 2
    error = capsys.readouterr().err
    assert "--only task='addnig' matches nothing" in error and "adding" in error
    assert not (tmp_path / "none.jsonl").exists()


def test_a_search_goes_on_in_another_store_without_training_what_is_done(tmp_path, capsys):
    from experiments.search import search

    first, second = tmp_path / "first", tmp_path / "second"
    assert search("smoke", results_dir=first, phase="search") == 0  # the search phase here, the rest elsewhere
    assert main(["export", "--space", "smoke", "--results", str(first)]) == 0
    exported = first / "exports" / "search-smoke.jsonl.gz"  # the default file
    assert main(["import", str(exported), "--results", str(second)]) == 0
    capsys.readouterr()
    assert search("smoke", results_dir=second) == 0
    out = capsys.readouterr().out
    assert "6 runs (6 done, 0 running elsewhere, 0 to train)" in out  # the search: all imported
    assert "6 runs (2 done, 0 running elsewhere, 4 to train)" in out  # the best over seeds: seed 0 is a search run
    records = Store(f"sqlite:///{second / 'store.db'}").records("search-smoke")
    assert len(records) == 10 and all(r["state"] == "COMPLETE" for r in records)
    imported = [r for r in records if not r["study"].endswith("/best")]
    assert all(r["sampled"] and r["distributions"] for r in imported)  # Optuna's views still see the parameters

    from experiments.report.search import write_search_report

    assert write_search_report("smoke", results_dir=second, out_dir=tmp_path / "report") == 0
    header, rows = read_runs(tmp_path / "report" / "runs.jsonl.gz")  # the search report carries its runs too
    assert header["space"] == "smoke" and len(rows) == 10
    assert write_search_report("smoke", results_dir=second, out_dir=tmp_path / "lstm", only="variant=lstm") == 0
    _, rows = read_runs(tmp_path / "lstm" / "runs.jsonl.gz")  # --only's runs: 3 searched, 2 more seeds of the best
    assert len(rows) == 5 and {row["user_attrs"]["spec"]["variant"] for row in rows} == {"lstm"}


@pytest.mark.parametrize("content, message", [
    (None, "no export file at"),
    (b"", "is empty: not an RNN Zoo export"),
    (b'{"runs": []}\n', "is not an RNN Zoo export"),
    (b'{"format": "rnn-zoo-runs", "version": 99}\n', "an export of version 99; this RNN Zoo reads version 1"),
    (b'{"format": "rnn-zoo-runs", "version": 1}\n{"study": \n', "line 2 is not JSON"),
    (b'{"format": "rnn-zoo-runs", "version": 1}\n[1, 2]\n', "line 2: a run must be a JSON object"),
])
def test_a_bad_export_file_is_named_and_nothing_is_imported(content, message, smoke_store, tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    assert main(["export", "--grid", "smoke", "--storage", smoke_store, "--to", str(good)]) == 0
    bad = tmp_path / "bad.jsonl"
    if content is not None:
        bad.write_bytes(content)
    target = tmp_path / "target"
    assert main(["import", str(good), str(bad), "--results", str(target)]) == 2  # every file read before any write
    error = capsys.readouterr().err
    assert message in error and str(bad) in error
    assert not (target / "store.db").exists()


def test_a_changed_run_in_an_export_is_named_with_its_line(smoke_store, tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    assert main(["export", "--grid", "smoke", "--storage", smoke_store, "--to", str(path)]) == 0
    lines = path.read_text().splitlines()
    for change, message in [({"state": "RUNNING"}, ("state 'RUNNING' is not a done run's; valid states: COMPLETE, "
                                                     "PRUNED")),
                             ({"value": None}, "a finished run needs a finite numeric `value`, got None"),
                             ({"value": float("nan")}, "a finished run needs a finite numeric `value`, got nan"),
                             ({"direction": "up"}, "direction 'up' is unknown; valid directions: minimize, maximize")]:
        path.write_text("\n".join([lines[0], lines[1], json.dumps({**json.loads(lines[2]), **change})]) + "\n")
        assert main(["import", str(path), "--results", str(tmp_path / "target")]) == 2
        assert f"{path}, line 3: {message}" in capsys.readouterr().err


def test_an_export_names_no_folder_of_the_machine_inside_the_working_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'results' / 'store.db'}"
    fill_store(url, "smoke", lambda spec: (finished_record(0.1, "mse", run_dir=str(tmp_path / "results" / spec["variant"])),
                                           0.1))
    assert main(["export", "--grid", "smoke", "--storage", url, "--to", "runs.jsonl"]) == 0
    text = (tmp_path / "runs.jsonl").read_text()
    assert str(tmp_path) not in text
    header, rows = read_runs(tmp_path / "runs.jsonl")
    assert header["store"] == "sqlite:///results/store.db"
    assert {row["user_attrs"]["run_dir"] for row in rows} == {"results/lstm", "results/cifg"}


def test_a_truncated_compressed_export_is_named(smoke_store, tmp_path, capsys):
    path = tmp_path / "runs.jsonl.gz"
    assert main(["export", "--grid", "smoke", "--storage", smoke_store, "--to", str(path)]) == 0
    path.write_bytes(path.read_bytes()[:-40])
    assert main(["import", str(path), "--results", str(tmp_path / "target")]) == 2
    assert f"cannot read {path}" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--grid", "smok"], "smoke"),                      # an unknown grid suggests the close name
    (["--space", "chnug"], "chung"),
    (["--grid", "quick"], "holds no finished run of 'quick'; nothing to export"),
])
def test_export_names_what_it_cannot_export(args, message, smoke_store, tmp_path, capsys):
    assert main(["export", *args, "--storage", smoke_store, "--to", str(tmp_path / "x.jsonl")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("option, value, message", [
    ("--storage", "bogus://x", "cannot open the results store 'bogus://x'"),
    ("--results", "/proc/nope", "cannot open the results store 'sqlite:////proc/nope/store.db'"),
])
def test_import_into_a_store_it_cannot_open_names_it(option, value, message, smoke_store, tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    assert main(["export", "--grid", "smoke", "--storage", smoke_store, "--to", str(path)]) == 0
    assert main(["import", str(path), option, value]) == 1
    assert message in capsys.readouterr().err


def test_export_to_a_place_it_cannot_write_names_it(smoke_store, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    assert main(["export", "--grid", "smoke", "--storage", smoke_store, "--to", str(tmp_path / "folder")]) == 2
    assert f"cannot write the runs to {tmp_path / 'folder'}: Is a directory" in capsys.readouterr().err
    assert list((tmp_path / "folder").iterdir()) == [] and list(tmp_path.glob("*.partial")) == []


def test_export_from_a_store_that_does_not_exist_names_it(tmp_path, capsys):
    assert main(["export", "--grid", "smoke", "--results", str(tmp_path / "nowhere")]) == 1
    assert f"no results store at {tmp_path / 'nowhere' / 'store.db'}" in capsys.readouterr().err


def test_a_report_carries_its_runs_and_is_written_again_from_them_elsewhere(tmp_path):
    from experiments.report import write_report
    from tests.test_report import SEEDS, write_store

    write_store(tmp_path / "store.db")  # the smoke grid's adding runs over three seeds
    here = f"sqlite:///{tmp_path / 'store.db'}"
    assert write_report("smoke", storage=here, out_dir=tmp_path / "first", overrides=SEEDS) == 0
    header, rows = read_runs(tmp_path / "first" / "runs.jsonl.gz")
    assert header["grid"] == "smoke" and header["set"] == SEEDS
    assert len(rows) == len([r for r in expand("smoke", SEEDS) if r.task == "adding"])

    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert main(["import", str(tmp_path / "first" / "runs.jsonl.gz"), "--storage", elsewhere]) == 0
    assert write_report("smoke", storage=elsewhere, out_dir=tmp_path / "second", overrides=SEEDS) == 0
    for page in ("README.md", "runs.csv"):
        first, second = ((tmp_path / name / page).read_text() for name in ("first", "second"))
        assert second.replace(elsewhere, here) == first


def test_a_queued_run_that_an_import_makes_done_is_not_trained_again(smoke_store, storage, tmp_path):
    runs = expand("smoke")
    queue = Store(storage)  # a store whose runs were queued, then stopped (SQLite and PostgreSQL)
    queue.open_grid("smoke", {r.label: get_task(r.task).higher_is_better for r in runs})
    assert queue.sync(runs)["enqueued"] == len(runs)
    exported = tmp_path / "lstm.jsonl"
    assert main(["export", "--grid", "smoke", "--only", "variant=lstm", "--storage", smoke_store,
                 "--to", str(exported)]) == 0
    rows = read_runs(exported)[1]
    lstm = {r.key for r in runs if r.variant == "lstm"}
    elsewhere = [{**row, "study": "other-grid/" + row["study"].split("/", 1)[1]} for row in rows]
    assert queue.import_trials(elsewhere)["imported"] == len(lstm)
    first = queue.claim(lstm)  # done in another grid only: still to train in this one
    assert first is not None
    queue.finish(first, finished_record(0.1, "mse"), 0.1)
    assert queue.import_trials(rows) == {"imported": len(lstm) - 1, "already": 1}
    claimed = []
    while (claim := queue.claim({r.key for r in runs})) is not None:
        claimed.append(claim.spec["variant"])
    assert claimed and set(claimed) == {r.variant for r in runs} - {"lstm"}
    assert queue.progress({r.key for r in runs})["done"] == sum(r.variant == "lstm" for r in runs)
