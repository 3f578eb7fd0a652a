"""Topology variants of the zoo's builders: seq2seq context modes and attention, beam search, and
the ways a vector conditions a 1-to-N sequence; each against a NumPy reference where one exists,
reloaded with identical outputs, on both backends."""

import re

import keras
import numpy as np
import pytest
from conftest import to_numpy

import zoo
from zoo.models import FEEDS

pytestmark = pytest.mark.backend

SOURCE = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5], [6, 0, 0, 0, 0]], dtype="int32")  # 0 = padding
DECODER_IN = np.array([[1, 2, 3, 0], [1, 5, 6, 7], [1, 4, 0, 0]], dtype="int32")
UNITS = 6


def build(variant="lstm", **kwargs):
    keras.utils.set_random_seed(0)
    return zoo.seq2seq(variant, 12, 10, units=UNITS, embedding_dim=4, **kwargs)


def outputs_of(model, layer_name, index=None):
    output = model.get_layer(layer_name).output
    return to_numpy(keras.Model(model.inputs, output if index is None else output[index]).predict(
        [SOURCE, DECODER_IN], verbose=0))


def reloads_identically(model, tmp_path, inputs):
    path = tmp_path / "model.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6)


@pytest.mark.parametrize("variant, context, attention", [  # every context and attention, both encoder kinds
    ("lstm", "initial_state", None), ("gru", "every_step", "luong"), ("lstm", "transform", None),
    ("cifg", "all_outputs", "bahdanau"), ("bi-gru", "every_step", None), ("bi-lstm", "transform", "luong"),
])
def test_every_context_and_attention_builds_trains_and_reloads(variant, context, attention, tmp_path):
    model = build(variant, context=context, attention=attention)
    logits = model.predict([SOURCE, DECODER_IN], verbose=0)
    assert logits.shape == (3, 4, 10) and np.isfinite(logits).all()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit([SOURCE, DECODER_IN], np.roll(DECODER_IN, -1, axis=1), epochs=1, verbose=0)
    reloads_identically(model, tmp_path, [SOURCE, DECODER_IN])


def _masked_softmax(scores, mask):
    scores = np.where(mask[:, None, :], scores, -np.inf)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    return scores / scores.sum(-1, keepdims=True)


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_attention_weights_follow_the_published_scores_and_ignore_padding(attention):
    model = build("gru", attention=attention)
    weights = to_numpy(zoo.attention_model(model).predict([SOURCE, DECODER_IN], verbose=0))
    assert weights.shape == (3, 4, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)  # a distribution over the source
    mask = SOURCE != 0
    assert np.abs(weights[~np.broadcast_to(mask[:, None, :], weights.shape)]).max() < 1e-6  # padding: zero weight
    encoded = outputs_of(model, "encoder", 0)  # h_1..h_N
    decoded = outputs_of(model, "decoder")  # s_t
    if attention == "luong":  # score(s_t, h_s) = s_t . h_s
        scores = np.einsum("btd,bsd->bts", decoded, encoded)
    else:  # score(s_t, h_s) = v . tanh(W_q s_t + W_k h_s)
        w_q = to_numpy(model.get_layer("attention_query").kernel)
        w_k = to_numpy(model.get_layer("attention_key").kernel)
        v = to_numpy(model.get_layer("attention").scale)
        scores = np.tanh((decoded @ w_q)[:, :, None, :] + (encoded @ w_k)[:, None, :, :]) @ v
    np.testing.assert_allclose(weights, _masked_softmax(scores, mask), atol=1e-5)


def test_the_every_step_decoder_input_holds_the_context_at_every_step():
    model = build("lstm", context="every_step")
    decoder_input = outputs_of(model, "decoder_input_and_context")
    final_output = outputs_of(model, "encoder", 0)  # h_N (the encoder returns no sequences here)
    assert decoder_input.shape == (3, 4, 4 + UNITS)
    for t in range(4):
        np.testing.assert_allclose(decoder_input[:, t, 4:], final_output, atol=1e-6)


def test_all_outputs_context_is_a_transform_of_the_mean_over_unpadded_source_steps():
    model = build("gru", context="all_outputs")
    encoded = outputs_of(model, "encoder", 0)
    mask = (SOURCE != 0)[..., None]
    mean = (encoded * mask).sum(1) / mask.sum(1)
    np.testing.assert_allclose(outputs_of(model, "mean_of_encoder_outputs"), mean, atol=1e-5)
    dense = model.get_layer("context")
    np.testing.assert_allclose(outputs_of(model, "context"),
                               np.tanh(mean @ to_numpy(dense.kernel) + to_numpy(dense.bias)), atol=1e-5)


def _sequence_log_prob(model, source, tokens, start_id):
    """log p(tokens | source) by teacher forcing, computed apart from the decoder under test."""
    decoder_input = np.zeros((1, len(tokens)), "int32")
    decoder_input[0, 0] = start_id
    decoder_input[0, 1:] = tokens[:-1]
    logits = to_numpy(model.predict([source[None], decoder_input], verbose=0), "float64")[0]
    logits[:, 0] = -np.inf
    log_probs = logits - logits.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    return float(sum(log_probs[t, token] for t, token in enumerate(tokens)))


def test_beam_search_returns_its_best_sequences_with_their_probabilities_and_width_one_is_greedy():
    model = build("gru", attention="luong")
    greedy = zoo.greedy_decode(model, SOURCE, start_id=1, max_length=4)
    ids, scores = zoo.beam_decode(model, SOURCE, start_id=1, max_length=4, beam_width=1)
    np.testing.assert_array_equal(ids[:, 0], greedy)
    ids, scores = zoo.beam_decode(model, SOURCE, start_id=1, max_length=4, beam_width=3)
    assert ids.shape == (3, 3, 4) and scores.shape == (3, 3)
    assert (np.diff(scores, axis=1) <= 1e-9).all()  # best first
    for row in range(3):
        assert len({tuple(s) for s in ids[row]}) == 3  # distinct beams
        for k in range(3):
            assert scores[row, k] == pytest.approx(_sequence_log_prob(model, SOURCE[row], ids[row, k], 1), abs=1e-4)
        # the best beam is at least as probable as the greedy sequence
        assert scores[row, 0] >= _sequence_log_prob(model, SOURCE[row], greedy[row], 1) - 1e-6


@pytest.mark.parametrize("call, message", [
    (lambda: build(context="middle"), "unknown context 'middle'. Valid values: all_outputs, every_step, "
                                      "initial_state, transform."),
    (lambda: build(attention="bahdanu"), "unknown attention 'bahdanu'. Did you mean 'bahdanau'? Valid values: None, "
                                         "bahdanau, luong."),
    (lambda: zoo.attention_model(build()), "has no attention; build it with seq2seq"),
    (lambda: zoo.one_to_many("gru", 3, 0, 2), "`steps` must be a positive integer, got steps=0"),
    (lambda: zoo.one_to_many("gru", 3, 4, 2, feed="first_stp"), "unknown feed 'first_stp'. Did you mean 'first_step'"),
    (lambda: zoo.unroll(zoo.one_to_many("gru", 3, 4, 2), np.zeros((1, 3))), "does not take its previous outputs"),
    (lambda: zoo.beam_decode(build(), SOURCE, start_id=1, max_length=4, beam_width=0), "`beam_width` must be"),
])
def test_bad_modes_and_lengths_are_named_with_the_valid_choices(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


VECTOR = np.random.default_rng(0).random((3, 5)).astype("float32")


@pytest.mark.parametrize("feed", FEEDS)
def test_one_to_many_feeds_the_vector_as_declared_and_reloads(feed, tmp_path):
    keras.utils.set_random_seed(0)
    model = zoo.one_to_many("gru", 5, 6, 4, units=8, feed=feed)
    previous = np.random.default_rng(1).random((3, 6, 4)).astype("float32")
    inputs = [VECTOR, previous] if feed == "first_step_then_outputs" else VECTOR
    cell_inputs = model.get_layer("recurrent").input  # with initial states: [sequence, states]
    cell_inputs = cell_inputs[0] if isinstance(cell_inputs, (list, tuple)) else cell_inputs
    seen = to_numpy(keras.Model(model.inputs, cell_inputs).predict(inputs, verbose=0))
    if feed == "every_step":
        np.testing.assert_allclose(seen, np.repeat(VECTOR[:, None], 6, 1), atol=1e-6)
    elif feed == "first_step":
        np.testing.assert_allclose(seen[:, 0], VECTOR, atol=1e-6)
        assert not seen[:, 1:].any()
    elif feed == "initial_state":
        assert not seen.any()
    else:
        np.testing.assert_allclose(seen[:, 0, :5], VECTOR, atol=1e-6)
        assert not seen[:, 0, 5:].any() and not seen[:, 1:, :5].any()
        np.testing.assert_allclose(seen[:, 1:, 5:], previous[:, 1:], atol=1e-6)  # the previous output, shifted in
    has_state_projection = any(layer.name.startswith("initial_state_") for layer in model.layers)
    assert has_state_projection == (feed in ("every_step", "initial_state"))
    reloads_identically(model, tmp_path, inputs)


def test_unroll_feeds_back_its_own_outputs():
    keras.utils.set_random_seed(0)
    model = zoo.one_to_many("lstm", 5, 4, 3, units=8, feed="first_step_then_outputs")
    out = zoo.unroll(model, VECTOR)
    previous = np.zeros_like(out)
    previous[:, 1:] = out[:, :-1]
    np.testing.assert_allclose(model.predict([VECTOR, previous], verbose=0), out, atol=1e-5)
