"""Reports: comparison tables and plots of a grid, read from the results store (never trains).

`python -m experiments report --grid quick` writes `reports/quick/`:

- `index.html` (opens offline) and `README.md` (renders on a code host): what was run, where,
  with what, what is missing or failed, and every table and plot below.
- per task: `leaderboard-<task>.{md,html,csv}`: variant, parameters, the main test metric as
  mean, standard deviation and 95% confidence interval over seeds, best seed, the trivial
  baseline, epochs, time per epoch, time relative to `lstm`, and Welch's t-test against `lstm`.
- against the literature: `literature.{md,html,csv}`: every published number of
  `experiments.literature` with a counterpart in the grid, beside this grid's mean and interval,
  the settings side by side and a verdict; the literature's qualitative claims judged from the runs.
- speed: each variant's training step against the built-in LSTM, from the benchmarks `make bench`
  and `make gpu-check` wrote beside the report (`reports/bench/`, `reports/gpu/`).
- across tasks: `ranks.csv` and a heatmap of normalised scores, and the mean rank per variant.
- plots (`*.png`): learning curves, scores per seed, score against parameters and against
  training time.
- samples that generative tasks wrote (`samples.md`).

The package: `load` reads the store into tables, `tables` and `stats` compute, `plots` draws,
`render` writes Markdown and HTML, and `sections` lists the report's sections in order.
"""

from __future__ import annotations

from pathlib import Path

from experiments.locations import default_results_dir, default_storage_url, mask_url, shown_path
from experiments.planner import expand, get_grid, grid_name_of
from experiments.report.folder import check_report_folder, configuration_name, configuration_text, report_folder
from experiments.report.load import load_results, load_runs, main_metric
from experiments.report.render import write_pages
from experiments.report.sections import SECTIONS, recommendation_lines
from experiments.report.tables import leaderboard, recommendations
from experiments.store import Store
from experiments.transfer import write_report_runs

__all__ = ["write_report", "load_runs", "main_metric", "leaderboard", "recommendations", "default_reports_dir"]


def default_reports_dir(results_dir: Path | None = None) -> Path:
    """`reports/` beside the results folder: the checkout's `reports/` for its `results/`, and
    `<root>/reports` when `$RNNZOO_RESULTS` or `--results` is `<root>/<name>`."""
    return (results_dir or default_results_dir()).resolve().parent / "reports"


def write_report(grid: str, storage: str | None = None, results_dir=None, out_dir=None,
                 overrides: list[str] | None = None, only: str | None = None) -> int:
    """Write the report of `grid` (as configured with `overrides` and `only`, like `run`) into
    its own folder, `reports/<grid>` for the grid as declared and `reports/<grid>--<settings>`
    otherwise; returns 0, or 1 when the store holds no run of that configuration."""
    runs = expand(grid, overrides, only)  # unknown grid or setting: an error listing the valid ones
    results_dir = Path(results_dir) if results_dir else default_results_dir()
    name = grid_name_of(grid)
    out = check_report_folder(Path(out_dir) if out_dir else default_reports_dir(results_dir)
                              / configuration_name(name, overrides, only))
    store = Store(storage or default_storage_url(results_dir), create=False)
    results = load_results(name, get_grid(grid)["description"], store, runs, configuration_text(overrides, only))
    if results.frame.empty:
        print(no_runs_message(results, grid, store))
        return 1
    with report_folder(out, {"grid": name, "set": list(overrides or []), "only": only}) as folder:
        text = "\n".join(line for section in SECTIONS for line in section(results, folder))
        write_pages(folder, f"RNN Zoo: {name}", text)
        table = results.frame.drop(columns=["history", "gradient_norms", "samples"], errors="ignore")
        if "run_dir" in table:
            table["run_dir"] = table["run_dir"].map(lambda p: shown_path(p) if isinstance(p, str) else p)
        table.to_csv(folder / "runs.csv", index=False)
        write_report_runs(folder, store, name, {run.key for run in runs},
                          {"set": list(overrides or []), "only": only})

    if not results.finished.empty:
        print("\n".join(recommendation_lines(recommendations(results.finished), caption=False)))
    print(f"report of grid {name!r}, configuration {results.configuration}: {len(results.finished)} finished runs, "
          f"{results.finished['label'].nunique()} tasks -> {out / 'index.html'}")
    if len(results.problems) or results.missing:
        print(f"  {len(results.problems)} run(s) not finished and {len(results.missing)} missing; listed in the report.")
    return 0


def no_runs_message(results, grid: str, store) -> str:
    """What to say when the store holds no run of this configuration: how to train it, and how to
    report the runs it holds under other settings."""
    text = (f"no runs of grid {results.grid!r} in the results store {mask_url(store.url)} for this configuration: "
            f"{results.configuration}")
    if not results.other_configurations:
        return text + f"; run `make experiments GRID={grid}` first."
    example = " ".join(f"--set {item}" for item in results.other_settings) or "the --set they were run with"
    return (text + f"; it holds {results.other_configurations} run(s) of this grid under other settings: report "
            f"them with the same --set, e.g. python -m experiments report --grid {grid} {example}")
