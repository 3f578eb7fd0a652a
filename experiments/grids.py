"""Experiment grids: which variants, on which tasks and sizes, over which seeds, with what settings.

A grid is a small declaration (a dict); `experiments.planner` checks it and expands it into runs. Settings (`experiments.settings`) are resolved, most
general first: library defaults, the task's own `train` settings, the grid's `model` and
`train`, the grid's per-task `overrides`, and `--set` on the command line.

    quick = {
        "description": "...",
        "variants": ["vanilla", "lstm", "peephole", "cifg", "gru", "bi-lstm"],  # names or patterns
        "tasks": [{"task": "adding", "size": "default", "params": {"T": 50}}],
        "seeds": [0, 1],
        "model": {"units": 64},
        "train": {"epochs": 5},
        "overrides": {"adding": {"train": {"epochs": 8}}},
    }
"""

from __future__ import annotations

from typing import Any

__all__ = ["GRIDS", "CORE", "list_grids"]

CORE = ["vanilla", "lstm", "peephole", "cifg", "gru", "bi-lstm"]

GRIDS: dict[str, dict[str, Any]] = {
    "smoke": {
        "description": "seconds: two variants on two tiny tasks, one seed (used by the tests)",
        "variants": ["lstm", "cifg"],
        "tasks": [{"task": "adding", "size": "smoke"}, {"task": "copy_memory", "size": "smoke"}],
        "seeds": [0],
        "model": {"units": 16},
        "train": {"epochs": 2, "batch_size": 64},
    },
    "quick": {
        "description": "the default comparison: the six core variants on memory (adding), vision (row-by-row "
                       "MNIST) and language (Penn Treebank characters), 3 seeds, minutes on a CPU",
        "variants": CORE,
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 30, "n_train": 3000, "n_val": 500}},
            {"task": "seq_mnist", "size": "default", "params": {"n_train": 4000, "n_test": 2000, "n_val": 500}},
            {"task": "ptb_char", "size": "default", "params": {"n_train_tokens": 100000, "n_eval_tokens": 20000}},
        ],
        "seeds": [0, 1, 2],
        "model": {"units": 48},
        "train": {"epochs": 6, "batch_size": 64, "patience": 2},
        "overrides": {
            "adding": {"train": {"learning_rate": 5e-3, "epochs": 10}},
            "ptb_char": {"train": {"learning_rate": 5e-3}},
        },
    },
    "standard": {
        "description": "every variant on every task at default size, 3 seeds: hours on a CPU",
        "variants": ["*"],
        "tasks": [{"task": name, "size": "default"} for name in (
            "adding", "copy_memory", "seq_mnist", "mnist_generation", "seq2seq_addition", "tang_poetry", "ptb_char",
            "ptb_word", "pos_tagging", "ner", "sentiment", "bach_chorales", "sunspots")],
        "seeds": [0, 1, 2],
        "model": {"units": 128},
        "train": {"epochs": 20, "patience": 4},
    },
    "repro-cpu": {
        "description": "the literature's orderings on a 2-core CPU in under an hour with 2 workers, 3 seeds: adding at T=200 (Bai et "
                       "al. 2018: GRU far better than LSTM and Elman), row-by-row MNIST on all 60k images (an LSTM "
                       "close to 1 and better than Elman), Greff et al.'s ablations on JSB Chorales, where they "
                       "found them (NFG and NOAF worse than the peephole LSTM, CIFG and NP not), sunspots against "
                       "persistence",
        "variants": ["vanilla", "lstm", "gru"],
        "tasks": [
            {"task": "adding", "size": "default", "params": {"T": 200, "n_train": 10000, "n_val": 1000, "n_test": 1000}},
            {"task": "seq_mnist", "size": "default",
             "params": {"order": "row", "n_train": 55000, "n_val": 5000, "n_test": 10000}},
            {"task": "jsb_chorales", "size": "default", "variants": ["peephole", "lstm", "cifg", "nfg", "noaf"]},
            {"task": "sunspots", "size": "default"},
        ],
        "seeds": [0, 1, 2],
        "model": {"units": 128},
        "train": {"patience": 5},
        "overrides": {
            # 10k sequences in batches of 64 for 20 epochs: 3,140 updates, no early stop (an LSTM can sit
            # at the baseline for several epochs before it finds the markers).
            "adding": {"train": {"epochs": 20, "patience": 20, "learning_rate": 5e-3}},
            "seq_mnist": {"train": {"epochs": 5}},
            # Batches of 8 as Chung et al.: 229 chorales make 29 updates an epoch (batches of 64: 4).
            "jsb_chorales": {"model": {"units": 64}, "train": {"epochs": 150, "patience": 10, "batch_size": 8}},
            "sunspots": {"model": {"units": 32}},
        },
    },
    "repro-music": {
        "description": "Chung et al. 2014's comparison on JSB Chorales (Boulanger-Lewandowski et al.'s split, whole "
                       "sequences): tanh RNN 100 units, GRU 46 (reset before the recurrent matmul), peephole LSTM 36, "
                       "about 20k parameters each; RMSProp, clipping at 1, weight noise 0.075, early stopping on "
                       "validation NLL, 3 seeds; the learning rate fixed at 1e-3, inside their search range",
        "variants": ["vanilla", "gru-original", "peephole"],
        "tasks": [{"task": "jsb_chorales", "size": "default"}],
        "seeds": [0, 1, 2],
        "variant_settings": {"vanilla": {"model": {"units": 100}}, "gru-original": {"model": {"units": 46}},
                             "peephole": {"model": {"units": 36}}},
        "train": {"optimizer": "rmsprop", "learning_rate": 1e-3, "clipnorm": 1.0, "weight_noise": 0.075,
                  "batch_size": 8, "epochs": 100, "patience": 10},
    },
    "repro-bai": {
        "description": "Bai et al. 2018's JSB Chorales rows (Table 1: LSTM 8.45, GRU 8.43, tanh RNN 8.91 test NLL): "
                       "two levels with dropout 0.2 between them (their LSTM's form), sized to Table 1's 300k "
                       "parameters of the recurrent layers on the 88 keys (LSTM 144, GRU 168, RNN 302 units); Adam "
                       "1e-3 and clipping at 0.2 (the defaults of their polyphonic-music code), trained until the "
                       "validation NLL stops improving (cap 1,000 epochs), 3 seeds. Not matched: batch 8 (their code "
                       "trains one sequence at a time: 8x the updates per epoch), their per-model tuning",
        "variants": ["lstm", "gru", "vanilla"],
        "tasks": [{"task": "jsb_chorales", "size": "default"}],
        "seeds": [0, 1, 2],
        "model": {"num_layers": 2, "dropout": 0.2},
        "variant_settings": {"lstm": {"model": {"units": 144}}, "gru": {"model": {"units": 168}},
                             "vanilla": {"model": {"units": 302}}},
        # Until convergence: at 100 epochs (29 updates each at batch 8) the LSTM was still improving.
        "train": {"optimizer": "adam", "learning_rate": 1e-3, "clipnorm": 0.2, "batch_size": 8, "epochs": 1000,
                  "patience": 10},
    },
    "memory": {
        "description": "the memory horizon: adding and copy memory at T = 50, 100, 200, 400, 1000 (10,000 sequences, "
                       "12 epochs: 1,884 updates); which cells still learn the task as T grows. Hours on a CPU; "
                       "`--only 'task=adding*,seed=0'` for a first look",
        "variants": ["vanilla", "irnn", "lstm", "gru", "mingru", "indrnn", "slstm", "mlstm", "rglru"],
        "tasks": [{"task": task, "size": "default", "params": {"T": T, "n_train": 10000, "n_val": 500, "n_test": 500}}
                  for task in ("adding", "copy_memory") for T in (50, 100, 200, 400, 1000)],
        "seeds": [0, 1],
        "model": {"units": 64},
        # No early stop: a cell can sit at the baseline for epochs before it finds the dependency.
        "train": {"epochs": 12, "patience": 12, "learning_rate": 5e-3, "clipnorm": 1.0},
    },
    "paper": {
        "description": "settings of Bai et al. 2018 for the tasks that paper has, core variants, for a GPU",
        "variants": CORE,
        "tasks": [
            {"task": "adding", "size": "paper"},
            {"task": "copy_memory", "size": "paper"},
            {"task": "seq_mnist", "size": "paper", "params": {"order": "pixel"}},
            {"task": "seq_mnist", "size": "paper", "params": {"order": "permuted"}},
            {"task": "ptb_char", "size": "paper"},
            {"task": "ptb_word", "size": "paper"},
            {"task": "bach_chorales", "size": "paper"},
        ],
        "seeds": [0, 1, 2],
        "model": {"units": 130},
        "train": {"epochs": 50, "patience": 10, "batch_size": 32, "clipnorm": 1.0},
        "overrides": {
            # Bai et al. 2018, table of LSTM settings: adding 2e-3, copy memory 5e-4, MNIST 1e-3.
            "adding": {"train": {"learning_rate": 2e-3}, "model": {"units": 77, "num_layers": 2}},
            "copy_memory": {"train": {"learning_rate": 5e-4}, "model": {"units": 50}},
            "seq_mnist": {"train": {"learning_rate": 1e-3}},
            "ptb_char": {"train": {"learning_rate": 2e-3, "clipnorm": 0.15}, "model": {"units": 1000, "num_layers": 1}},
            "ptb_word": {"train": {"learning_rate": 1e-3, "clipnorm": 0.25, "batch_size": 20},
                         "model": {"units": 700, "num_layers": 3, "dropout": 0.4, "embedding_dim": 400}},
            "bach_chorales": {"train": {"learning_rate": 1e-3}, "model": {"units": 200}},
        },
    },
}


def list_grids() -> list[str]:
    return sorted(GRIDS)
