"""Part 2 tasks on real data (fetched from the package registries): properties, baselines, masking."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.planner import RunSpec, expand
from experiments.tasks import get_task
from experiments.tasks.pos import brown_split, load_brown, universal_tag
from experiments.tasks.ptb import load_ptb
from experiments.train import train_run
from experiments.vocabulary import BOS, EOS, UNK, Vocabulary

ROOT = Path(__file__).resolve().parents[1]


def test_vocabulary_round_trip_and_unknown_tokens():
    vocab = Vocabulary.build([["a", "b", "a"], ["c", "a"]], min_count=1)
    assert vocab.tokens[:4] == ["<pad>", UNK, BOS, EOS] and vocab.tokens[4] == "a"  # most frequent first
    ids = vocab.encode(["a", "c", "zebra"])
    assert ids[2] == vocab.index[UNK]
    assert vocab.decode(vocab.encode(["b", "c", "a"])) == ["b", "c", "a"]
    assert Vocabulary.from_json(vocab.to_json()).tokens == vocab.tokens
    assert "b" not in Vocabulary.build([["a", "b", "a"]], min_count=2).index


def test_language_model_score_ignores_padding():
    task = get_task("tang_poetry")
    from experiments.tasks import Split

    y = np.array([[5, 6, 3, 0, 0]])
    split = Split(y, y, (y != 0).astype("float32"))
    good = np.log(np.array([[0.5, 0.25, 0.5, 1e-9, 1e-9]]))
    garbage = good.copy()
    garbage[0, 3:] = -np.inf
    a, b = task.score(split, good, {}), task.score(split, garbage, {})
    expected = -(math.log(0.5) + math.log(0.25) + math.log(0.5)) / 3
    assert a["cross_entropy"] == pytest.approx(expected) and b == a
    assert a["bits_per_token"] == pytest.approx(expected / math.log(2))


@pytest.mark.registry
def test_ptb_has_mikolovs_splits_and_windows_shift_by_one():
    splits = load_ptb()
    assert [sum(len(l.split()) for l in splits[k]) for k in ("train", "valid", "test")] == [887521, 70390, 78669]
    data = get_task("ptb_word").load("smoke", seed=0)
    np.testing.assert_array_equal(data.train.x[:, 1:], data.train.y[:, :-1])
    assert data.info["vocab_size"] <= 10000 + 4
    chars = get_task("ptb_char").load("smoke", seed=0)
    tokens = set(chars.info["vocabulary"].tokens)
    assert "_" in tokens and "<eos>" in tokens and chars.info["vocab_size"] < 60
    # paper size: 0 tokens means the whole training split (words plus one <eos> per sentence)
    paper = get_task("ptb_word").load("paper", seed=0)
    stream = 887521 + len(splits["train"])
    assert paper.train.x.shape == ((stream - 1) // 80, 80) and paper.info["vocab_size"] == 10000 + 4 - 1


@pytest.mark.registry
def test_vocabularies_come_from_the_training_split_only():
    data = get_task("sentiment").load("smoke", seed=0, max_len=200)  # no tweet truncated
    vocab = data.info["vocabulary"]
    train_ids = set(np.unique(data.train.x))
    assert set(range(4, len(vocab))) <= train_ids  # every learned token occurs in training
    assert (data.test.x == vocab.index[UNK]).any()  # test words outside it map to <unk>


def test_universal_tags_of_brown_tags():
    cases = {"np-tl": "NOUN", "nns": "NOUN", "vbd": "VERB", "bedz": "VERB", "md": "VERB", "ppss+md": "PRON",
             "jj": "ADJ", "rb": "ADV", "in": "ADP", "cc": "CONJ", "at": "DET", "cd": "NUM", "to": "PRT",
             ".": ".", ",": ".", "``": ".", "fw-nn": "X", "nn$": "NOUN", "np$": "NOUN", "wps": "PRON"}
    assert {tag: universal_tag(tag) for tag in cases} == cases


@pytest.mark.registry
def test_brown_split_is_the_documented_one_and_tagging_masks_padding():
    files = load_brown()
    assert len(files) == 500
    parts = brown_split(files)
    test_files = [name for i, (name, _) in enumerate(files) if i % 10 == 0]
    assert len(test_files) == 50 and test_files[0] == "ca01"
    assert len(parts["test"]) == sum(len(s) for i, (_, s) in enumerate(files) if i % 10 == 0)
    task = get_task("pos_tagging")
    data = task.load("smoke", seed=0)
    truth = data.test.y
    predictions = truth.copy()
    predictions[truth == 0] = 5  # wrong only where the target is padding
    assert task.score(data.test, predictions, data.info)["token_accuracy"] == 1.0
    baseline = task.baseline(data, {})["token_accuracy"]
    assert 0.5 < baseline < 1.0


@pytest.mark.registry
def test_sentiment_baseline_is_the_majority_share():
    task = get_task("sentiment")
    data = task.load("smoke", seed=0)
    majority = np.bincount(data.train.y, minlength=3).argmax()
    share = float((data.test.y == majority).mean())
    baseline = task.baseline(data, {})
    assert baseline["accuracy"] == pytest.approx(share)
    # macro-F1 of always predicting one class: that class's F1 over 3.
    assert baseline["macro_f1"] == pytest.approx((2 * share / (1 + share)) / 3)


def test_sunspots_split_is_the_tail_and_persistence_baseline_is_independent():
    from statsmodels.datasets import sunspots

    series = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    task = get_task("sunspots")
    data = task.load("default", seed=0)
    assert len(data.test) == 40 and len(data.val) == 30
    expected = math.sqrt(np.mean((series[-40:] - series[-41:-1]) ** 2))
    assert task.baseline(data, {})["rmse"] == pytest.approx(expected)
    last_target = data.test.y[-1, 0] * data.info["std"] + data.info["mean"]
    assert last_target == pytest.approx(series[-1], rel=1e-5)  # 2008


@pytest.mark.registry
def test_bach_rolls_have_four_voices_and_padding_is_weighted_out():
    task = get_task("bach_chorales")
    data = task.load("smoke", seed=0)
    rolls = data.train.y[data.train.sample_weight > 0]
    voices = rolls.sum(-1)
    assert voices.max() <= 4 + 2 and np.median(voices) == 4  # four-part writing
    assert data.train.x.shape[-1] == 88
    np.testing.assert_array_equal(data.train.x[:, 1:][data.train.sample_weight[:, 1:] > 0],
                                  data.train.y[:, :-1][data.train.sample_weight[:, 1:] > 0])
    scored = task.score(data.test, np.full(data.test.y.shape, 0.5), data.info)
    assert scored["nll_per_frame"] == pytest.approx(88 * math.log(2))


PART_TWO = ["tang_poetry", "ptb_char", "ptb_word", "pos_tagging", "ner", "sentiment", "bach_chorales", "sunspots"]
CAUSAL = {"tang_poetry", "ptb_char", "ptb_word", "bach_chorales"}  # bidirectional would see the answer


@pytest.mark.registry
@pytest.mark.parametrize("name, variant", [(n, "cifg") for n in PART_TWO] + [(n, "bi-gru") for n in PART_TWO
                                                                             if n not in CAUSAL])
def test_part_two_tasks_train_through_the_common_path(name, variant):
    task = get_task(name)
    record = train_run(RunSpec.resolve(task, variant, 0, size="smoke",
                                       layers=[("test", {"units": 16, "embedding_dim": 16}, {"epochs": 1})]))
    assert record["status"] == "finished" and math.isfinite(record["test"][task.metric])
    assert math.isfinite(record["baseline"][task.metric])


def test_grids_never_give_a_causal_task_a_bidirectional_variant():
    runs = expand("standard")
    assert {r.task for r in runs} >= set(PART_TWO)
    assert not [r for r in runs if r.task in CAUSAL and r.variant.startswith("bi-")]
    assert {r.variant for r in runs if r.task == "pos_tagging"} >= {"bi-lstm", "bi-gru"}


@pytest.mark.registry
def test_tang_poems_generate_from_a_saved_model(tmp_path):
    spec = RunSpec.resolve("tang_poetry", "gru", 0, size="smoke",
                           layers=[("test", {"units": 32, "embedding_dim": 16}, {"epochs": 2, "learning_rate": 5e-3})])
    record = train_run(spec, run_dir=tmp_path)
    assert record["samples"] and all(s["output"].startswith(s["input"]) for s in record["samples"])
    result = subprocess.run([sys.executable, "-m", "experiments", "generate", "--run-dir", str(tmp_path),
                             "--prompt", "春", "--count", "3", "--length", "20", "--seed", "1"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    poems = result.stdout.strip().splitlines()
    assert len(poems) == 3 and all(p.startswith("春") and len(p) > 1 for p in poems)
    bad = subprocess.run([sys.executable, "-m", "experiments", "generate", "--run-dir", str(tmp_path / "nope")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and "model.keras does not exist" in bad.stderr
