"""Model builders for the topologies of the field, each for any registered variant.

- `many_to_one`: sequence classification or regression (one output per sequence).
- `many_to_many`: tagging (one output per step).
- `language_model` + `generate`: next-token prediction and sampling with temperature.
- `seq2seq` + `greedy_decode`: N-to-M encoder-decoder; the encoder's final states start the
  decoder; teacher forcing in training, greedy decoding at inference.
- `one_to_many`: a vector conditions a generated sequence.

Every builder returns a plain `keras.Model` (functional), so `compile`, `fit`, `save` and
`keras.saving.load_model` work as usual. Inputs are either real-valued features
(`input_dim=...`, shape (batch, steps, input_dim)) or token ids (`vocab_size=...`, id 0 is
padding and is masked).
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np

from zoo._names import unknown_name
from zoo.cells import dropout_rate, positive_int
from zoo.layers import Recurrent
from zoo.registry import get_variant

__all__ = ["many_to_one", "many_to_many", "language_model", "generate", "seq2seq", "greedy_decode", "beam_decode",
           "attention_model", "one_to_many", "unroll", "CONTEXTS", "ATTENTIONS", "FEEDS"]


def _sequence_input(input_dim, vocab_size, embedding_dim, timesteps, name="inputs"):
    """Input and the tensor fed to the recurrent layers: features, or embedded token ids."""
    if (input_dim is None) == (vocab_size is None):
        raise ValueError(
            "give exactly one of `input_dim` (real-valued features) and `vocab_size` (token ids), "
            f"got input_dim={input_dim!r}, vocab_size={vocab_size!r}."
        )
    if timesteps is not None:
        positive_int("timesteps", timesteps)
    if input_dim is not None:
        positive_int("input_dim", input_dim)
        inputs = keras.Input((timesteps, input_dim), name=name)
        return inputs, inputs
    positive_int("vocab_size", vocab_size)
    positive_int("embedding_dim", embedding_dim)
    inputs = keras.Input((timesteps,), dtype="int32", name=name)
    embedded = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name=f"{name}_embedding")(inputs)
    return inputs, embedded


def _sequence_head(variant, num_outputs, return_sequences, kind, *, input_dim, vocab_size, embedding_dim, units,
                   num_layers, dropout, output_activation, timesteps, name, **layer_kwargs) -> keras.Model:
    positive_int("num_outputs", num_outputs)
    inputs, x = _sequence_input(input_dim, vocab_size, embedding_dim, timesteps)
    x = Recurrent(variant, units, num_layers=num_layers, dropout=dropout, return_sequences=return_sequences,
                  name="recurrent", **layer_kwargs)(x)
    outputs = keras.layers.Dense(num_outputs, activation=output_activation, name="head")(x)
    return keras.Model(inputs, outputs, name=name or f"{get_variant(variant).name}_{kind}")


def many_to_one(variant, num_outputs, *, input_dim=None, vocab_size=None, embedding_dim=64, units=128, num_layers=1,
                dropout=0.0, output_activation="softmax", timesteps=None, name=None, **layer_kwargs) -> keras.Model:
    """Sequence -> one prediction (classification with softmax; regression with `output_activation=None`).

    Inputs are features (`input_dim`) or token ids (`vocab_size`, embedded in `embedding_dim`,
    id 0 masked); `units`, `num_layers`, `dropout` and `layer_kwargs` go to `Recurrent`.
    """
    return _sequence_head(variant, num_outputs, False, "many_to_one", input_dim=input_dim, vocab_size=vocab_size,
                          embedding_dim=embedding_dim, units=units, num_layers=num_layers, dropout=dropout,
                          output_activation=output_activation, timesteps=timesteps, name=name, **layer_kwargs)


def many_to_many(variant, num_outputs, *, input_dim=None, vocab_size=None, embedding_dim=64, units=128, num_layers=1,
                 dropout=0.0, output_activation="softmax", timesteps=None, name=None, **layer_kwargs) -> keras.Model:
    """Sequence -> one prediction per step (tagging). Padding (id 0) stays masked in the output.

    Arguments as for `many_to_one`.
    """
    return _sequence_head(variant, num_outputs, True, "many_to_many", input_dim=input_dim, vocab_size=vocab_size,
                          embedding_dim=embedding_dim, units=units, num_layers=num_layers, dropout=dropout,
                          output_activation=output_activation, timesteps=timesteps, name=name, **layer_kwargs)


def _causal(variant, topology):
    variant = get_variant(variant)
    if variant.bidirectional:
        raise ValueError(
            f"a {topology} predicts each next token from the tokens before it, but variant "
            f"{variant.name!r} is bidirectional and would see the token it must predict; "
            f"use {variant.base!r} instead."
        )
    return variant


def language_model(
    variant,
    vocab_size,
    *,
    embedding_dim=64,
    units=256,
    num_layers=1,
    dropout=0.0,
    name=None,
    **layer_kwargs,
) -> keras.Model:
    """Token ids (batch, steps) -> next-token logits (batch, steps, vocab_size); id 0 is padding."""
    variant = _causal(variant, "language model")
    inputs, x = _sequence_input(None, vocab_size, embedding_dim, None, name="tokens")
    x = Recurrent(
        variant, units, num_layers=num_layers, dropout=dropout, return_sequences=True, name="recurrent", **layer_kwargs
    )(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="output_dropout")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(inputs, logits, name=name or f"{variant.name}_language_model")


def _sample(logits, temperature, rng, banned_ids=(0,)):
    """One token id per row of `logits` (batch, vocab); temperature 0 is greedy."""
    logits = np.asarray(logits, dtype=np.float64)
    logits[:, list(banned_ids)] = -np.inf  # never emit padding (or any other banned id)
    if temperature == 0:
        return logits.argmax(axis=-1)
    scaled = logits / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    probs = np.exp(scaled)
    probs /= probs.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(len(p), p=p) for p in probs])


def token_ids(name: str, ids, vocab_size: int) -> np.ndarray:
    """`ids` as an int32 array (batch, steps) of token ids in [0, vocab_size); a ValueError naming
    `name` and the bad value for anything else (ragged rows, 3-D, fractions, ids out of range)."""
    try:
        array = np.asarray(ids)
    except ValueError:
        array = np.asarray(ids, dtype=object)
    if array.dtype == object:
        raise ValueError(f"`{name}` must be token ids of shape (steps,) or (batch, steps) with rows of one "
                         f"length, got rows of different lengths: {ids!r:.200}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise ValueError(f"`{name}` must have shape (steps,) or (batch, steps), got shape {array.shape}.")
    if array.shape[1] == 0 or array.shape[0] == 0:
        raise ValueError(f"`{name}` needs at least one token (e.g. a start-of-sequence id), got shape {array.shape}.")
    if array.dtype.kind not in "iu":
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            bad = array.ravel()[0] if array.dtype.kind != "f" else array[~(np.isfinite(array) & (array == np.round(array)))][0]
            raise ValueError(f"`{name}` must hold integer token ids, got {getattr(bad, 'item', lambda: bad)()!r}.")
    bad = array[(array < 0) | (array >= vocab_size)]
    if bad.size:
        raise ValueError(f"`{name}` holds token id {bad[0].item()!r}, outside the vocabulary [0, {vocab_size}).")
    return array.astype("int32")


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not (
            math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"`temperature` must be a finite number >= 0 (0 = greedy), got temperature={temperature!r}.")
    return float(temperature)


def generate(model, prompt, length, *, temperature=1.0, seed=None, end_id=None, banned_ids=(0,)) -> np.ndarray:
    """Continue `prompt` (token ids, shape (steps,) or (batch, steps)) by `length` sampled tokens.

    Every call of the model sees a buffer of one fixed shape (prompt + length), so it is traced
    once; positions not yet written are padding, which a causal model ignores. After `end_id`
    a row is padded with 0. `banned_ids` are never sampled (padding by default; pass the
    unknown-token id too, as the experiments do). Returns the whole sequences, prompt included.
    """
    length = positive_int("length", length)
    temperature = _check_temperature(temperature)
    vocab_size = int(model.output_shape[-1])
    prompt = token_ids("prompt", prompt, vocab_size)
    banned = [int(i) for i in banned_ids]
    if any(not 0 <= i < vocab_size for i in banned) or len(set(banned)) >= vocab_size:
        raise ValueError(f"`banned_ids` must be ids in [0, {vocab_size}) that leave some token to sample, got {banned_ids!r}.")
    rng = np.random.default_rng(seed)
    batch, start = prompt.shape
    buffer = np.zeros((batch, start + length), dtype="int32")
    buffer[:, :start] = prompt
    finished = np.zeros(batch, dtype=bool)
    for t in range(start, start + length):
        logits = model.predict_on_batch(buffer)[:, t - 1, :]
        token = _sample(logits, temperature, rng, banned)
        token[finished] = 0
        buffer[:, t] = token
        if end_id is not None:
            finished |= token == end_id
            if finished.all():
                break
    return buffer


CONTEXTS = ("initial_state", "every_step", "transform", "all_outputs")
ATTENTIONS = (None, "bahdanau", "luong")


@keras.saving.register_keras_serializable(package="zoo")
class RepeatOverTime(keras.layers.Layer):
    """[vector (batch, d), sequence (batch, steps, ...)] -> the vector at every step (batch, steps, d),
    keeping the sequence's mask."""

    def call(self, inputs):
        vector, sequence = inputs
        ones = keras.ops.ones_like(sequence[..., :1], dtype=vector.dtype)
        return ones * keras.ops.expand_dims(vector, 1)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[1]

    def compute_output_shape(self, input_shape):
        vector, sequence = input_shape
        return (sequence[0], sequence[1], vector[-1])


def _choice(name, value, valid):
    if value not in valid:
        raise unknown_name(name, value, [str(v) for v in valid], plural="values")  # str: attention may be None
    return value


def seq2seq(
    variant,
    source_vocab_size,
    target_vocab_size,
    *,
    embedding_dim=64,
    units=128,
    num_layers=1,
    dropout=0.0,
    context="initial_state",
    attention=None,
    name=None,
    **layer_kwargs,
) -> keras.Model:
    """Encoder-decoder: inputs `[source_ids, decoder_input_ids]`, output target logits.

    The decoder is trained with teacher forcing: its input is the target shifted right behind a
    start token. `context` says how the encoder's summary c reaches the decoder:

    - "initial_state" (Sutskever et al. 2014): the encoder's final states (all levels) start it.
    - "every_step" (Cho et al. 2014): c = the encoder's last output h_N is joined to the
      decoder's input at every step; the decoder starts from zeros.
    - "transform": c = tanh(W h_N); each of the decoder's initial states is tanh(W_k c).
    - "all_outputs": c = tanh(W mean(h_1..h_N)) over the unpadded source steps; it sets the
      initial states as in "transform".

    `attention` ("bahdanau": additive scores v^T tanh(W_1 h_s + W_2 s_t), Bahdanau et al. 2015;
    "luong": dot-product scores s_t^T h_s, Luong et al. 2015) lets each decoder output s_t look at
    every encoder output h_s (padding gets zero weight); the attentional state tanh(W [a_t; s_t])
    gives the logits, as Luong et al.'s global attention. `attention_model` returns the weights.
    For a `bi-` variant the encoder is bidirectional and the decoder, one-directional, has twice
    the units.
    """
    variant = get_variant(variant)
    positive_int("source_vocab_size", source_vocab_size)
    positive_int("target_vocab_size", target_vocab_size)
    _choice("context", context, CONTEXTS)
    _choice("attention", attention, ATTENTIONS)
    source, x = _sequence_input(None, source_vocab_size, embedding_dim, None, name="source")
    target_in, y = _sequence_input(None, target_vocab_size, embedding_dim, None, name="decoder_input")
    needs_sequences = attention is not None or context == "all_outputs"
    encoder = Recurrent(variant, units, num_layers=num_layers, dropout=dropout, return_state=True,
                        return_sequences=needs_sequences, name="encoder", **layer_kwargs)
    encoded, *states = encoder(x)
    decoder_variant, decoder_units = variant.name, units
    if variant.bidirectional:
        half = encoder.states_per_level // 2
        joined = []
        for level in range(num_layers):
            block = states[level * 2 * half : (level + 1) * 2 * half]
            joined += [keras.layers.Concatenate()([fw, bw]) for fw, bw in zip(block[:half], block[half:])]
        states, decoder_variant, decoder_units = joined, variant.base, 2 * units
    last_output = states[-(len(states) // num_layers)]  # the last level's first state is its output h_N
    decoder = Recurrent(decoder_variant, decoder_units, num_layers=num_layers, dropout=dropout,
                        return_sequences=True, name="decoder", **layer_kwargs)
    if context == "initial_state":
        y = decoder(y, initial_state=states)
    elif context == "every_step":
        y = decoder(keras.layers.Concatenate(name="decoder_input_and_context")(
            [y, RepeatOverTime(name="context_every_step")([last_output, y])]))
    else:
        summary = last_output if context == "transform" else \
            keras.layers.GlobalAveragePooling1D(name="mean_of_encoder_outputs")(encoded)
        c = keras.layers.Dense(decoder_units, activation="tanh", name="context")(summary)
        initial = [keras.layers.Dense(size, activation="tanh", name=f"decoder_state_{i}")(c)
                   for i, size in enumerate(decoder.state_sizes * num_layers)]
        y = decoder(y, initial_state=initial)
    if attention is not None:
        if attention == "bahdanau":
            query = keras.layers.Dense(decoder_units, use_bias=False, name="attention_query")(y)
            key = keras.layers.Dense(decoder_units, use_bias=False, name="attention_key")(encoded)
            attended, _ = keras.layers.AdditiveAttention(name="attention")([query, encoded, key],
                                                                          return_attention_scores=True)
        else:
            attended, _ = keras.layers.Attention(score_mode="dot", name="attention")([y, encoded],
                                                                                    return_attention_scores=True)
        y = keras.layers.Dense(decoder_units, activation="tanh", name="attentional_state")(
            keras.layers.Concatenate(name="context_and_output")([attended, y]))
    logits = keras.layers.Dense(target_vocab_size, name="logits")(y)
    return keras.Model([source, target_in], logits, name=name or f"{variant.name}_seq2seq")


def attention_model(model: keras.Model) -> keras.Model:
    """A model giving the attention weights (batch, target steps, source steps) of a `seq2seq`
    model built with `attention`, for the same inputs; each row sums to 1 over the source."""
    try:
        layer = model.get_layer("attention")
    except ValueError:
        raise ValueError(f"model {model.name!r} has no attention; build it with seq2seq(..., attention="
                         "'bahdanau' or 'luong')") from None
    return keras.Model(model.inputs, layer.output[1], name=f"{model.name}_attention")


def greedy_decode(model, source, *, start_id, max_length, end_id=None) -> np.ndarray:
    """Greedy decoding of a `seq2seq` model: the target ids (batch, max_length), 0 after `end_id`."""
    positive_int("max_length", max_length)
    source = np.atleast_2d(np.asarray(source, dtype="int32"))
    batch = source.shape[0]
    decoder_input = np.zeros((batch, max_length), dtype="int32")
    decoder_input[:, 0] = start_id
    output = np.zeros((batch, max_length), dtype="int32")
    finished = np.zeros(batch, dtype=bool)
    for t in range(max_length):
        logits = np.asarray(model.predict_on_batch([source, decoder_input]))[:, t, :]
        logits[:, 0] = -np.inf
        token = logits.argmax(axis=-1).astype("int32")
        token[finished] = 0
        output[:, t] = token
        if t + 1 < max_length:
            decoder_input[:, t + 1] = token
        if end_id is not None:
            finished |= token == end_id
            if finished.all():
                break
    return output


def beam_decode(model, source, *, start_id, max_length, beam_width=4, end_id=None) -> tuple[np.ndarray, np.ndarray]:
    """Beam search of a `seq2seq` model: for each source row the `beam_width` most probable target
    sequences (by the sum of token log-probabilities; a beam ends at `end_id`), best first.
    Returns ids (batch, beam_width, max_length), 0 after the end, and their log-probabilities
    (batch, beam_width). `beam_width=1` is greedy decoding."""
    positive_int("max_length", max_length)
    positive_int("beam_width", beam_width)
    source = np.atleast_2d(np.asarray(source, dtype="int32"))
    all_ids = np.zeros((len(source), beam_width, max_length), dtype="int32")
    all_scores = np.full((len(source), beam_width), -np.inf)
    for row, src in enumerate(source):
        beams = [((), 0.0)]  # (tokens, log-probability)
        for t in range(max_length):
            open_beams = [b for b in beams if not (end_id is not None and b[0] and b[0][-1] == end_id)]
            if not open_beams:
                break
            decoder_input = np.zeros((len(open_beams), max_length), dtype="int32")
            decoder_input[:, 0] = start_id
            for i, (tokens, _) in enumerate(open_beams):
                decoder_input[i, 1:t + 1] = tokens
            logits = np.asarray(model.predict_on_batch([np.repeat(src[None], len(open_beams), 0), decoder_input]),
                                dtype="float64")[:, t, :]
            logits[:, 0] = -np.inf  # never padding
            log_probs = logits - logits.max(-1, keepdims=True)
            log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
            candidates = [b for b in beams if b not in open_beams]
            for (tokens, score), scores in zip(open_beams, log_probs):
                for token in np.argsort(-scores)[:beam_width]:
                    candidates.append((tokens + (int(token),), score + float(scores[token])))
            beams = sorted(candidates, key=lambda b: -b[1])[:beam_width]
        for k, (tokens, score) in enumerate(beams):
            all_ids[row, k, :len(tokens)] = tokens
            all_scores[row, k] = score
    return all_ids, all_scores


FEEDS = ("every_step", "first_step", "initial_state", "first_step_then_outputs")


def one_to_many(
    variant,
    input_dim,
    steps,
    output_dim,
    *,
    units=128,
    num_layers=1,
    dropout=0.0,
    output_activation=None,
    feed="every_step",
    name=None,
    **layer_kwargs,
) -> keras.Model:
    """Vector (batch, input_dim) -> sequence (batch, steps, output_dim). `feed` says how the
    vector conditions the sequence:

    - "every_step": it is the input at every step, and sets every initial state (through a tanh
      projection).
    - "first_step": it is the input at the first step only, zeros after; the states start at zero.
    - "initial_state": it only sets the initial states; every input is zero.
    - "first_step_then_outputs": it is the input at the first step, then the previous output
      (teacher forcing: the model's inputs are `[vector, previous]`, `previous` (batch, steps,
      output_dim) being the target shifted right by one step; `unroll` feeds back its own outputs).
    """
    positive_int("input_dim", input_dim)
    positive_int("steps", steps)
    positive_int("output_dim", output_dim)
    dropout_rate("dropout", dropout)
    _choice("feed", feed, FEEDS)
    vector = keras.Input((input_dim,), name="vector")
    inputs = [vector]
    layer = Recurrent(
        variant, units, num_layers=num_layers, dropout=dropout, return_sequences=True, name="recurrent", **layer_kwargs
    )
    states = None
    if feed in ("every_step", "initial_state"):
        states = [
            keras.layers.Dense(size, activation="tanh", name=f"initial_state_{i}")(vector)
            for i, size in enumerate(layer.state_sizes * num_layers)
        ]
    repeated = keras.layers.RepeatVector(steps, name="repeat")(vector)
    if feed == "every_step":
        x = repeated
    elif feed == "initial_state":
        x = FirstSteps(0, name="zero_inputs")(repeated)
    elif feed == "first_step":
        x = FirstSteps(1, name="vector_at_first_step")(repeated)
    else:
        previous = keras.Input((steps, output_dim), name="previous")
        inputs.append(previous)
        first = FirstSteps(1, name="vector_at_first_step")(repeated)
        x = keras.layers.Concatenate(name="vector_then_previous_output")([first, FirstSteps(-1, name="after_first")(previous)])
    x = layer(x, initial_state=states)
    outputs = keras.layers.Dense(output_dim, activation=output_activation, name="head")(x)
    return keras.Model(inputs if len(inputs) > 1 else vector, outputs,
                       name=name or f"{get_variant(variant).name}_one_to_many")


@keras.saving.register_keras_serializable(package="zoo")
class FirstSteps(keras.layers.Layer):
    """Keeps a sequence's first `keep` steps and zeros the rest (`keep=-1`: zeros the first step
    and keeps the rest; `keep=0`: all zeros)."""

    def __init__(self, keep: int, **kwargs):
        super().__init__(**kwargs)
        self.keep = int(keep)

    def call(self, sequence):
        steps = keras.ops.arange(keras.ops.shape(sequence)[1])
        kept = steps >= 1 if self.keep < 0 else steps < self.keep
        return sequence * keras.ops.cast(kept, sequence.dtype)[None, :, None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "keep": self.keep}


def unroll(model: keras.Model, vector) -> np.ndarray:
    """Outputs of a `one_to_many(..., feed="first_step_then_outputs")` model that feeds back its own
    outputs, step by step: (batch, steps, output_dim)."""
    if len(model.inputs) != 2:
        raise ValueError(f"model {model.name!r} does not take its previous outputs; unroll is for "
                         "one_to_many(..., feed='first_step_then_outputs'); call the model on the vector instead")
    vector = np.atleast_2d(np.asarray(vector, dtype="float32"))
    steps, output_dim = model.inputs[1].shape[1], model.inputs[1].shape[2]
    previous = np.zeros((len(vector), steps, output_dim), dtype="float32")
    for t in range(steps):
        out = np.asarray(model.predict_on_batch([vector, previous]))
        if t + 1 < steps:
            previous[:, t + 1] = out[:, t]
    return out
