"""The benchmark runs, writes its files and measures against the built-in LSTM of the same run."""

import keras
import numpy as np
import pandas as pd
import pytest

from zoo import bench


def test_recurrent_flops_follow_the_equations():
    b, t, d, u = 4, 10, 3, 5
    assert bench.timing._recurrent_flops("lstm", t, b, d, u) == 2 * b * (d + u) * 4 * u * t
    assert bench.timing._recurrent_flops("cifg", t, b, d, u) == 2 * b * (d + u) * 3 * u * t
    assert bench.timing._recurrent_flops("gru", t, b, d, u) == 2 * b * (d + u) * 3 * u * t
    assert bench.timing._recurrent_flops("bi-vanilla", t, b, d, u) == 2 * (2 * b * (d + u) * u * t)
    assert bench.timing._recurrent_flops("fgr", t, b, d, u) == (2 * b * (d + u) * 4 * u + 2 * b * (3 * u) ** 2) * t
    # The modern cells: no matmul with the state for mingru, minlstm and indrnn; LRU: B, D and C.
    assert bench.timing._recurrent_flops("mingru", t, b, d, u) == 2 * b * d * 2 * u * t
    assert bench.timing._recurrent_flops("indrnn", t, b, d, u) == 2 * b * d * u * t
    assert bench.timing._recurrent_flops("lru", t, b, d, u) == 2 * b * (d * (2 * u + u) + 2 * u * u) * t
    assert bench.timing._recurrent_flops("mut3", t, b, d, u) == 2 * b * (d * 3 * u + u * 3 * u) * t


def test_ratios_pair_each_round_with_the_reference_of_the_same_round():
    # A slow spell hit lstm in rounds 2 and 3 and the variant in round 2: the ratio of the
    # medians would read 1.2 / 3.0 = 0.4x, pairing each round reads 1.2x in two rounds of three.
    median, low, high = bench.paired_ratio([1.2, 3.6, 1.2], [1.0, 3.0, 3.0])
    assert (median, low, high) == pytest.approx((1.2, 0.4, 1.2))
    median, low, high = bench.paired_ratio([1.0, 4.0, 3.0], [1.0, 2.0, 1.0])
    assert (median, low, high) == (2.0, 1.0, 3.0)


def test_bench_writes_table_and_plot(tmp_path, capsys):
    code = bench.main(["--variants", "peephole,gru", "--long-variants", "peephole", "--shapes", "8x6x3x4", "8x12x3x4",
                       "--rounds", "2", "--warmup", "1", "--out", str(tmp_path)])
    assert code == 0
    csv = next(tmp_path.glob("bench-*.csv"))
    table = pd.read_csv(csv)
    short = table[table["steps"] == 6].set_index("variant")
    # lstm joins as the reference; the gated cells are also timed in the loop form "auto" does not take on a
    # CPU, and peephole with the training options: XLA where Keras does not use it (TensorFlow on a CPU), float16
    xla = {"peephole[xla]"} if keras.backend.backend() == "tensorflow" else set()
    assert set(short.index) == {"lstm", "peephole", "peephole[sequential]", "peephole[mixed_float16]", "peephole[padded]",
                                "gru", "gru[zoo cell]", "gru[sequential]"} | xla
    assert short.loc["peephole[mixed_float16]", "dtype_policy"] == "mixed_float16"
    assert short.loc["peephole", "dtype_policy"] == "float32"
    assert bool(short.loc["peephole", "jit_compile"]) == (keras.backend.backend() == "jax")
    if xla:
        assert bool(short.loc["peephole[xla]", "jit_compile"])
    assert short.loc["peephole", "runs_as"] == "ZooRNN(GatedCell, stepwise)"
    assert short.loc["peephole[sequential]", "runs_as"] == "ZooRNN(GatedCell, sequential)"
    assert short.loc["lstm", "train_vs_lstm"] == 1.0
    assert (short["train_vs_lstm_low"] <= short["train_vs_lstm"]).all()
    assert (short["train_vs_lstm"] <= short["train_vs_lstm_high"]).all()
    assert (short["train_ms"] > 0).all() and (short["train_gflops"] > 0).all()
    assert set(table[table["steps"] == 12]["variant"]) == {"lstm", "peephole", "peephole[sequential]"}  # lstm always runs
    assert next(tmp_path.glob("step_time_vs_length-*.png")).stat().st_size > 0
    assert "Growth with sequence length" in capsys.readouterr().out


def test_bench_rejects_unknown_variants(tmp_path, capsys):
    assert bench.main(["--variants", "lstmm", "--out", str(tmp_path)]) == 2
    assert "unknown variant 'lstmm'" in capsys.readouterr().err


def test_a_bench_cut_short_keeps_what_it_measured_beside_the_last_complete_one(tmp_path, monkeypatch):
    """Shapes done before a failure (a GPU machine's time limit, Ctrl-C) are in bench-*.partial.csv;
    the last complete benchmark stays as it was."""
    import keras

    complete = tmp_path / f"bench-{keras.backend.backend()}.csv"
    complete.write_text("the last complete benchmark\n")
    real, calls = bench.bench_shape, []

    def second_shape_fails(entries, shape, *args, **kwargs):
        calls.append(shape)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(entries, shape, *args, **kwargs)

    monkeypatch.setattr(bench.timing, "bench_shape", second_shape_fails)
    with pytest.raises(KeyboardInterrupt):
        bench.main(["--variants", "lstm", "--long-variants", "lstm", "--shapes", "4x5x3x4", "4x9x3x4",
                    "--rounds", "1", "--warmup", "1", "--out", str(tmp_path)])
    partial = pd.read_csv(tmp_path / f"bench-{keras.backend.backend()}.partial.csv")
    assert set(partial["steps"]) == {5} and "lstm" in set(partial["variant"])
    assert complete.read_text() == "the last complete benchmark\n"


def test_an_unwritable_out_is_refused_before_timing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert bench.main(["--variants", "lstm", "--out", str(blocker / "sub")]) == 2
    assert "cannot write the benchmark to --out" in capsys.readouterr().err


def test_a_padded_batch_keeps_half_to_all_of_each_sequence_and_zeros_after():
    from zoo.bench.timing import padded_batch

    x = np.random.default_rng(1).normal(size=(200, 10, 3)).astype("float32")
    padded = padded_batch(x, np.random.default_rng(2))
    assert padded.dtype == x.dtype and padded.shape == x.shape
    real = np.any(padded != 0, axis=-1)
    lengths = real.sum(axis=1)
    assert (real == (np.arange(10)[None, :] < lengths[:, None])).all()  # padding at the end only
    assert lengths.min() == 5 and lengths.max() == 10  # from half the steps to all of them, both drawn
    np.testing.assert_array_equal(padded[real], x[real])


def test_a_bidirectional_twin_is_measured_against_keras_lstm_in_both_directions():
    assert bench.timing.keras_lstm_reference("bi-indrnn") == bench.timing.KERAS_BI_LSTM
    assert bench.timing.keras_lstm_reference("peephole") == bench.timing.KERAS_LSTM


@pytest.mark.backend
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="Keras' own LSTM is a target on torch only")
def test_on_torch_keras_lstm_is_timed_in_both_directions_where_a_twin_is():
    assert bench.timing.KERAS_BI_LSTM not in [e.label for e in bench.entries_for(["indrnn"], options=False)]
    entries = bench.entries_for(["indrnn", "bi-indrnn"], options=False)
    rows = {r["variant"]: r for r in bench.bench_shape(entries, (4, 5, 3, 4), rounds=2, warmup=1,
                                                       log=lambda *a, **k: None)}
    one, both = rows[bench.timing.KERAS_LSTM], rows[bench.timing.KERAS_BI_LSTM]
    assert both["runs_as"] == "Bidirectional(keras.layers.LSTM) (Keras' loop)"
    assert both["parameters"] == 2 * one["parameters"] - 1  # two LSTMs, one Dense(1) on twice the features
    assert rows["bi-indrnn"]["train_vs_keras_lstm"] > 0 and rows["indrnn"]["train_vs_keras_lstm"] > 0


def _timed_row(variant, runs_as, train_vs_lstm, **ratios):
    return {"variant": variant, "runs_as": runs_as, "parameters": 1, "train_ms": 10.0 * train_vs_lstm,
            "train_vs_lstm": train_vs_lstm, "train_vs_lstm_low": train_vs_lstm, "train_vs_lstm_high": train_vs_lstm,
            "infer_ms": 1.0, "infer_vs_lstm": 1.0, "train_gflops": 1.0, "train_efficiency": 0.5,
            "slowest_over_median": 1.1, "work_vs_lstm": 1.0, "batch": 64, "steps": 100, "input_dim": 32, "units": 128,
            **ratios}


def test_each_backend_reads_the_lstm_family_against_the_layer_its_builtin_lstm_is():
    # On torch on a CPU the built-in lstm is PyTorch's LSTM kernel, so the generic loop's 1.15x target
    # does not apply there: the peephole LSTM is read against torch.nn.LSTM (2x) instead.
    rows = [_timed_row("lstm", "keras.layers.LSTM on torch.lstm", 1.0, train_vs_torch_nn=1.1),
            _timed_row("peephole", "ZooRNN(GatedCell, sequential)", 1.8, train_vs_torch_nn=1.95,
                       train_vs_keras_lstm=0.5)]
    env = {"device": "CPU", "keras": "3", "rounds": 3, "warmup": 1}
    generic_loop = "## Target: custom LSTM-family cells against the built-in lstm (CPU: the built-in lstm's generic loop)"
    on_jax = bench.output.markdown(rows, {**env, "backend": "jax"})
    assert generic_loop in on_jax and "| peephole | 64x100x32x128 | 1.80x | 1.80-1.80x | 1.00x | 1.15x | missed |" in on_jax
    assert "Targets on torch" not in on_jax
    on_torch = bench.output.markdown(rows, {**env, "backend": "torch"})
    assert "built-in lstm's generic loop" not in on_torch
    assert "| peephole | 64x100x32x128 | ZooRNN(GatedCell, sequential) | 1.95x | 2.0x | 0.50x | met |" in on_torch
    on_torch_gpu = bench.output.markdown(rows, {**env, "backend": "torch", "gpu": True})
    assert "(GPU: the fused cuDNN LSTM)" in on_torch_gpu and "Targets on torch" in on_torch_gpu
