"""Topologies: how a task's model is built from a variant, trained and read out, one entry each.

A `Topology` says how to build the model (a `zoo` builder), its loss, what `predict` returns for
a split (the contract the task's `score` reads), whether it is causal (it predicts what comes
next, so a bidirectional variant would see the answer), and which files it writes beside the
saved model. A task names its topology; `experiments.train` has no topology of its own.

    >>> from experiments.topologies import get_topology, list_topologies
    >>> get_topology("language_model").causal
    True

A new topology is one `register_topology(Topology(...))`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

import zoo
from experiments.batching import predict_by_length
from experiments.vocabulary import Vocabulary
from zoo.checks import unknown_name

__all__ = ["Topology", "register_topology", "get_topology", "list_topologies", "load_language_model"]


def _predict_outputs(model, split, info: dict, batch_size: int):
    if split.lengths is not None:
        return predict_by_length(model, split, batch_size)
    return model.predict(split.x, batch_size=batch_size, verbose=0)


@dataclass(frozen=True)
class Topology:
    """One topology.

    Attributes:
        name: registry name, which a `Task` gives as its `topology`.
        description: one line.
        build: `build(variant, info, model_settings) -> keras.Model`; `info` is the dataset's
            (input_dim or vocab_size, num_outputs, ...), `model_settings` the run's `model`.
        loss: `loss() -> keras loss`.
        predicts: what `predict` returns, in words: the contract the task's `score` reads.
        predict: `predict(model, split, info, batch_size)`; default `model.predict(split.x)`.
        causal: predicts what comes next; grids give it no bidirectional variant.
        write_artifacts: `write_artifacts(run_dir, task, info)`: files a later command needs
            beside `model.keras` (e.g. the vocabulary of a language model).
    """

    name: str
    description: str
    build: Callable[[str, dict, dict], Any]
    loss: Callable[[], Any]
    predicts: str
    predict: Callable[[Any, Any, dict, int], Any] = _predict_outputs
    causal: bool = False
    write_artifacts: Callable[[Path, Any, dict], None] | None = None


_TOPOLOGIES: dict[str, Topology] = {}


def register_topology(topology: Topology) -> Topology:
    if topology.name in _TOPOLOGIES:
        raise ValueError(f"topology {topology.name!r} is already registered")
    _TOPOLOGIES[topology.name] = topology
    return topology


def list_topologies() -> list[str]:
    return sorted(_TOPOLOGIES)


def get_topology(name: str) -> Topology:
    """The topology called `name`; an unknown name lists the valid ones."""
    if name in _TOPOLOGIES:
        return _TOPOLOGIES[name]
    raise unknown_name("topology", name, _TOPOLOGIES, plural="topologies")


# --- what the builders share ----------------------------------------------------------------------


def recurrent_args(model: dict) -> dict:
    """The `zoo` builder arguments of the run's model settings."""
    args = dict(units=model["units"], num_layers=model["num_layers"], dropout=model["dropout"],
                implementation=model["implementation"])
    cell_options = {option: model[setting] for setting, option in (("recurrent_dropout", "recurrent_dropout"),
                                                                   ("input_dropout", "dropout")) if model.get(setting)}
    if cell_options:
        args["cell_options"] = cell_options
    return args


def sequence_inputs(info: dict, model: dict) -> dict:
    """Real-valued features (`input_dim`; padded steps masked where the data gives a
    `mask_value`) or token ids (`vocab_size`, embedded)."""
    if "input_dim" in info:
        masked = {"mask_value": info["mask_value"]} if info.get("mask_value") is not None else {}
        return {"input_dim": info["input_dim"], **masked}
    return {"vocab_size": info.get("vocab_size"), "embedding_dim": model["embedding_dim"]}


def _head(builder, activation):
    def build(variant, info, model):
        return builder(variant, info["num_outputs"], output_activation=activation, **sequence_inputs(info, model),
                       **recurrent_args(model))
    return build


def _keras_loss(name: str, **kwargs):
    def make():
        import keras

        return getattr(keras.losses, name)(**kwargs)
    return make


# --- the topologies -------------------------------------------------------------------------------

register_topology(Topology(
    "regression", "many-to-one: one real value (or vector) per sequence",
    build=_head(zoo.many_to_one, None), loss=_keras_loss("MeanSquaredError"),
    predicts="the predicted values, shape (examples, num_outputs)",
))
register_topology(Topology(
    "classification", "many-to-one: one class per sequence",
    build=_head(zoo.many_to_one, "softmax"), loss=_keras_loss("SparseCategoricalCrossentropy"),
    predicts="class probabilities, shape (examples, num_outputs)",
))
register_topology(Topology(
    "tagging", "many-to-many: one class per step",
    build=_head(zoo.many_to_many, "softmax"), loss=_keras_loss("SparseCategoricalCrossentropy"),
    predicts="class probabilities per step, shape (examples, steps, num_outputs)",
))
register_topology(Topology(
    "frame_prediction", "many-to-many: the next frame of independent binary units from the frames so far",
    build=_head(zoo.many_to_many, "sigmoid"), loss=_keras_loss("BinaryCrossentropy"),
    predicts="the probability of each unit in the next frame, shape (examples, steps, num_outputs)",
    causal=True,
))


def _build_conditional_generation(variant, info, model):
    return zoo.one_to_many(variant, info["num_classes"], info["steps"], info["output_dim"],
                           feed="first_step_then_outputs", output_activation="sigmoid", **recurrent_args(model))


register_topology(Topology(
    "conditional_generation", "one-to-many: a class in, a sequence of binary frames out (the class at the first "
    "step, then the previous frame; teacher forcing in training)",
    build=_build_conditional_generation, loss=_keras_loss("BinaryCrossentropy"),
    predicts="the probability of each unit of each frame given the class and the true frames before it, shape "
             "(examples, steps, output_dim)",
    causal=True,
))


def _build_seq2seq(variant, info, model):
    attention = model.get("attention", "none")
    return zoo.seq2seq(variant, info["source_vocab_size"], info["target_vocab_size"],
                       embedding_dim=model["embedding_dim"], context=model.get("context", "initial_state"),
                       attention=None if attention == "none" else attention, **recurrent_args(model))


def _greedy_decodings(model, split, info, batch_size):
    source = split.x[0]
    return np.concatenate([
        zoo.greedy_decode(model, source[i:i + 1024], start_id=info["start_id"],
                          max_length=info["target_length"], end_id=info["end_id"])
        for i in range(0, len(source), 1024)
    ])


register_topology(Topology(
    "seq2seq", "N-to-M encoder-decoder: a source sequence in, a target sequence out",
    build=_build_seq2seq, loss=_keras_loss("SparseCategoricalCrossentropy", from_logits=True),
    predicts="greedy decodings, token ids of shape (examples, target_length), 0 after the end token",
    predict=_greedy_decodings,
))


def _build_language_model(variant, info, model):
    return zoo.language_model(variant, info["vocab_size"], embedding_dim=model["embedding_dim"],
                              **recurrent_args(model))


def _true_token_log_probs(model, split, info, batch_size):
    # The whole softmax of a test set may not fit in memory: keep only the true tokens' entries.
    from scipy.special import log_softmax

    out = []
    for i in range(0, len(split.y), batch_size):
        logits = np.asarray(model.predict_on_batch(split.x[i:i + batch_size]), dtype=np.float64)
        out.append(np.take_along_axis(log_softmax(logits, axis=-1), split.y[i:i + batch_size, :, None], axis=-1)[..., 0])
    return np.concatenate(out)


VOCABULARY_FILE = "vocabulary.json"


def _write_vocabulary(run_dir: Path, task, info: dict):
    (run_dir / VOCABULARY_FILE).write_text(json.dumps(
        {"tokens": info["vocabulary"].tokens, "join": info.get("join", " "), "task": task.name,
         "topology": task.topology}, ensure_ascii=False), encoding="utf-8")


register_topology(Topology(
    "language_model", "next-token prediction over a vocabulary; samples text",
    build=_build_language_model, loss=_keras_loss("SparseCategoricalCrossentropy", from_logits=True),
    predicts="the log-probability of each true next token, shape (examples, steps)",
    predict=_true_token_log_probs, causal=True, write_artifacts=_write_vocabulary,
))


def load_language_model(run_dir) -> tuple[Any, Vocabulary, str]:
    """A language model the runner saved: `(model, vocabulary, join)`, `join` being what goes
    between tokens ("" for characters, " " for words)."""
    import keras

    run_dir = Path(run_dir)
    model_path, vocab_path = run_dir / "model.keras", run_dir / VOCABULARY_FILE
    for path in (model_path, vocab_path):
        if not path.exists():
            raise ValueError(f"{path} does not exist; --run-dir must be a run folder of a language-model task "
                             "(results/<grid>/<task>/<variant>/seed<k>-<key>/)")
    try:
        meta = json.loads(vocab_path.read_text(encoding="utf-8"))
        vocabulary, join = Vocabulary.from_list(meta["tokens"]), meta["join"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{vocab_path} is not a vocabulary the runner wrote ({type(error).__name__}: {error}); "
                         "train the run again or restore the file") from None
    if meta.get("topology") != "language_model":
        raise ValueError(f"{run_dir} holds a {meta.get('topology')} model of task {meta.get('task')}; "
                         "only language models generate text")
    try:
        model = keras.saving.load_model(model_path)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a damaged file
        raise ValueError(f"{model_path} exists but is not a model Keras can load ({type(error).__name__}: "
                         f"{str(error)[:200]}); the file is damaged: train the run again or restore it") from None
    return model, vocabulary, join
