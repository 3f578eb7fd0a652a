"""`python -m zoo list|show`: parameter counts from the equations, measured cost, bad names."""

import csv

import pytest

from zoo.__main__ import main

# Parameters at input_dim=32, units=128, counted from the equations: per block, W (32 x 128),
# R (128 x 128) and a bias (128); plus one vector of 128 per peephole.
BLOCK = 32 * 128 + 128 * 128 + 128


def test_list_counts_parameters_from_the_equations(capsys):
    assert main(["list", "*lstm*"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(lines) == {"bi-lstm", "lstm", "bi-minlstm", "minlstm", "bi-mlstm", "mlstm", "bi-slstm", "slstm"}
    assert f"{4 * BLOCK:,}" in lines["lstm"] and f"{2 * 4 * BLOCK:,}" in lines["bi-lstm"]
    assert f"{32 * 3 * 128 + 3 * 128:,}" in lines["minlstm"]  # minLSTM: W (32 x 3*128) and b, no recurrent weights
    assert f"{4 * BLOCK:,}" in lines["slstm"]  # sLSTM: the LSTM's W, R (one head) and b
    # mLSTM: W and b over [q, k, v, o], and the scalar input and forget gates of its one head.
    assert f"{32 * 4 * 128 + 4 * 128 + 32 * 2 + 2:,}" in lines["mlstm"]


def test_list_with_a_pattern_that_matches_nothing_lists_the_variants(capsys):
    assert main(["list", "*transformer*"]) == 2
    err = capsys.readouterr().err
    assert "no variant matches pattern '*transformer*'" in err and "peephole" in err


def test_show_prints_citation_equations_parameters_and_measured_cost(tmp_path, capsys):
    import keras

    fields = ["backend", "device", "variant", "batch", "steps", "units", "train_vs_lstm", "infer_vs_lstm"]
    with (tmp_path / f"bench-{keras.backend.backend()}.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        writer.writerow([keras.backend.backend(), "CPU", "cifg", 64, 100, 128, 0.8612, 0.9])
        writer.writerow([keras.backend.backend(), "CPU", "cifg", 64, 400, 128, 0.7, 0.7])  # a later shape
    assert main(["show", "cifg", "--bench-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Greff et al. 2015" in out and "i = 1 - f" in out
    assert f"{3 * BLOCK + 2 * 128:,}" in out  # three blocks and the f and o peepholes
    assert "training step 0.86x lstm, inference 0.90x (batch 64, 100 steps, 128 units" in out


def test_show_without_a_benchmark_says_how_to_measure(tmp_path, capsys):
    assert main(["show", "gru", "--bench-dir", str(tmp_path)]) == 0
    assert "not measured yet; `make bench` times every variant" in capsys.readouterr().out


def test_show_an_unknown_variant_suggests_the_closest(capsys):
    assert main(["show", "cifgg"]) == 2
    assert "Did you mean 'cifg'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["lis"], []])
def test_unknown_or_missing_command_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m zoo" in err and "{list,gradients,show}" in err
