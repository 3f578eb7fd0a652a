"""The report's long-term-memory lens from stores of known records: the memory horizon (share of
seeds solved against T) and the gradient flow section."""

import math

import pytest
from stores import fill_store, finished_record

from experiments.planner import expand
from experiments.report import write_report

GRID = """
description = "adding at two lengths"
variants = ["vanilla", "lstm"]
seeds = [0, 1]
tasks = [{task = "adding", size = "smoke", params = {T = 10}}, {task = "adding", size = "smoke", params = {T = 20}}]
"""


def test_memory_horizon_and_gradient_flow_come_from_the_runs(tmp_path):
    grid = tmp_path / "horizon.toml"
    grid.write_text(GRID)
    assert sorted({r.label for r in expand(str(grid))}) == ["adding(T=10)", "adding(T=20)"]
    baseline = 0.16

    def record_of(spec):
        T = spec["params"]["T"]
        # lstm solves both lengths; vanilla solves T=10 with seed 0 only, never T=20.
        solved = spec["variant"] == "lstm" or (T == 10 and spec["seed"] == 0)
        score = 0.01 if solved else 0.15  # 0.01 < 10% of 0.16 <= 0.15
        decay = 0.5 if spec["variant"] == "vanilla" else 0.95
        norms = {"initial": [decay ** (T - t) for t in range(1, T + 1)], "trained": [1.0] * T}
        return finished_record(score, "mse", baseline={"mse": baseline}, gradient_norms=norms), score

    fill_store(f"sqlite:///{tmp_path / 'store.db'}", str(grid), record_of)
    out = tmp_path / "report"
    assert write_report(str(grid), storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out) == 0
    readme = (out / "README.md").read_text()
    assert "## Memory horizon" in readme
    assert "| vanilla | 50% of 2 | 0% of 2 | 10 |" in readme
    assert "| lstm | 100% of 2 | 100% of 2 | 20 |" in readme
    assert (out / "memory_horizon.png").stat().st_size > 10_000
    assert "## Gradient flow" in readme
    # farthest step / nearest = decay ** (T - 1): log10 0.5 ** 19 = -5.7 for vanilla at T=20
    assert f"| vanilla | {19 * math.log10(0.5):.1f} | 0.0 |" in readme
    assert f"| lstm | {19 * math.log10(0.95):.1f} | 0.0 |" in readme
    assert (out / "gradient_flow-adding_T-20.png").stat().st_size > 10_000


def test_a_grid_with_one_length_has_no_memory_horizon(tmp_path):
    grid = tmp_path / "one.toml"
    grid.write_text(GRID.replace(', {task = "adding", size = "smoke", params = {T = 20}}', ""))
    fill_store(f"sqlite:///{tmp_path / 'store.db'}", str(grid),
               lambda spec: (finished_record(0.05, "mse", baseline={"mse": 0.16}), 0.05))
    out = tmp_path / "report"
    assert write_report(str(grid), storage=f"sqlite:///{tmp_path / 'store.db'}", out_dir=out) == 0
    readme = (out / "README.md").read_text()
    assert "## Memory horizon" not in readme and "## Gradient flow" not in readme  # no norms recorded


@pytest.mark.parametrize("grid, lengths", [("memory", [50, 100, 200, 400, 1000])])
def test_the_memory_grid_runs_each_memory_task_at_every_length(grid, lengths):
    runs = expand(grid)
    for task in ("adding", "copy_memory"):
        assert sorted({r.params["T"] for r in runs if r.task == task}) == lengths
    assert {"vanilla", "irnn", "lstm", "gru"} <= {r.variant for r in runs}


def test_an_underflowed_gradient_is_named_not_given_a_number():
    from experiments.report.memory import _geometric_ratio

    assert _geometric_ratio([[1e-3, 1.0], [1e-5, 1.0]]) == "-4.0"
    assert _geometric_ratio([[0.0, 1.0], [1e-5, 1.0]]) == "< -38 (underflow)"


def test_speed_section_reads_the_benchmarks_beside_the_report(tmp_path):
    """The report shows each of the grid's variants' training step against lstm from the CSVs that
    `make bench` and `make gpu-check` wrote beside it, at the reference shape, naming the source;
    without any it says how to measure."""
    import pandas as pd

    grid = tmp_path / "one.toml"
    grid.write_text(GRID.replace(', {task = "adding", size = "smoke", params = {T = 20}}', ""))
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    fill_store(storage, str(grid), lambda spec: (finished_record(0.05, "mse", baseline={"mse": 0.16}), 0.05))
    reports = tmp_path / "reports"
    assert write_report(str(grid), storage=storage, out_dir=reports / "one") == 0
    assert "Not measured on this checkout: `make bench`" in (reports / "one" / "README.md").read_text()

    def bench(backend, device, ratios, steps=100):
        return [{"backend": backend, "device": device, "variant": v, "batch": 64, "steps": steps, "input_dim": 32,
                 "units": 128, "train_vs_lstm": r} for v, r in ratios.items()]

    (reports / "bench").mkdir()
    pd.DataFrame(bench("tensorflow", "CPU (x86_64, 2 cores)", {"lstm": 1.0, "vanilla": 0.34})
                 + bench("tensorflow", "CPU (x86_64, 2 cores)", {"lstm": 1.0, "vanilla": 0.5}, steps=1000)
                 ).to_csv(reports / "bench" / "bench-tensorflow.csv", index=False)
    (reports / "gpu").mkdir()
    pd.DataFrame(bench("jax", "GPU (NVIDIA H100)", {"lstm": 1.0, "gru": 0.9})).to_csv(reports / "gpu" / "bench-jax.csv",
                                                                                      index=False)
    assert write_report(str(grid), storage=storage, out_dir=reports / "one") == 0
    readme = (reports / "one" / "README.md").read_text()
    assert "## Speed of a training step" in readme
    assert "| variant | tensorflow, CPU (x86_64, 2 cores) | jax, GPU (NVIDIA H100) |" in readme
    assert "| vanilla | 0.34x | – |" in readme  # the reference shape's ratio, not the 1000-step one
    assert "| lstm | 1.00x | 1.00x |" in readme
    assert "[gpu/bench-jax.md](../gpu/bench-jax.md)" in readme
