"""Decoding loops that run a trained model step by step, in NumPy: sampling from a language
model (`generate`), greedy and beam search for an encoder-decoder (`greedy_decode`,
`beam_decode`), and feeding a one-to-many model its own outputs (`unroll`).

    >>> import zoo
    >>> model = zoo.language_model("gru", vocab_size=20, units=16)
    >>> zoo.generate(model, [1, 5], length=4, seed=0).shape
    (1, 6)
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.checks import check_temperature, non_negative_int, positive_int, token_id, token_ids

__all__ = ["generate", "greedy_decode", "beam_decode", "unroll"]


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


def generate(model, prompt, length, *, temperature=1.0, seed=None, end_id=None, banned_ids=(0,)) -> np.ndarray:
    """Continue `prompt` (token ids, shape (steps,) or (batch, steps)) by `length` sampled tokens.

    Every call of the model sees a buffer of one fixed shape (prompt + length), so it is traced
    once; positions not yet written are padding, which a causal model ignores. After `end_id`
    a row is padded with 0. `banned_ids` are never sampled (padding by default; pass the
    unknown-token id too, as the experiments do). Returns the whole sequences, prompt included.
    """
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 2 or len(model.output_shape) != 3:
        raise ValueError(f"model {model.name!r} is not a language model (token ids in, logits at every step out); "
                         "generate samples from a zoo.language_model model")
    length = positive_int("length", length)
    temperature = check_temperature(temperature)
    seed = None if seed is None else non_negative_int("seed", seed)
    vocab_size = int(model.output_shape[-1])
    prompt = token_ids("prompt", prompt, vocab_size)
    end_id = None if end_id is None else token_id("end_id", end_id, vocab_size)
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


def _decoder_arguments(model, source, start_id, max_length, end_id):
    """The checked arguments of a decoder: source ids (batch, steps), start and end ids."""
    max_length = positive_int("max_length", max_length)
    try:
        source_vocab = int(model.get_layer("source_embedding").input_dim)
    except ValueError:
        raise ValueError(f"model {model.name!r} is not a zoo.seq2seq model (it has no source embedding)") from None
    target_vocab = int(model.output_shape[-1])
    source = token_ids("source", source, source_vocab)
    start_id = token_id("start_id", start_id, target_vocab)
    end_id = None if end_id is None else token_id("end_id", end_id, target_vocab)
    return source, start_id, max_length, end_id


def greedy_decode(model, source, *, start_id, max_length, end_id=None) -> np.ndarray:
    """Greedy decoding of a `seq2seq` model: the target ids (batch, max_length), 0 after `end_id`."""
    source, start_id, max_length, end_id = _decoder_arguments(model, source, start_id, max_length, end_id)
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
    source, start_id, max_length, end_id = _decoder_arguments(model, source, start_id, max_length, end_id)
    beam_width = positive_int("beam_width", beam_width)
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


def unroll(model: keras.Model, vector) -> np.ndarray:
    """Outputs of a `one_to_many(..., feed="first_step_then_outputs")` model that feeds back its own
    outputs, step by step: (batch, steps, output_dim)."""
    if len(model.inputs) != 2:
        raise ValueError(f"model {model.name!r} does not take its previous outputs; unroll is for "
                         "one_to_many(..., feed='first_step_then_outputs'); call the model on the vector instead")
    vector = np.atleast_2d(np.asarray(vector, dtype="float32"))
    input_dim = model.inputs[0].shape[-1]
    if vector.ndim != 2 or vector.shape[1] != input_dim:
        raise ValueError(f"`vector` must have shape (batch, {input_dim}) or ({input_dim},), got shape {vector.shape}.")
    steps, output_dim = model.inputs[1].shape[1], model.inputs[1].shape[2]
    previous = np.zeros((len(vector), steps, output_dim), dtype="float32")
    for t in range(steps):
        out = np.asarray(model.predict_on_batch([vector, previous]))
        if t + 1 < steps:
            previous[:, t + 1] = out[:, t]
    return out
