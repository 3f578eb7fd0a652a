"""Model builders for the topologies of the field, each for any registered variant.

- `many_to_one`: sequence classification or regression (one output per sequence).
- `many_to_many`: tagging (one output per step).
- `language_model`: next-token prediction (`zoo.decoding.generate` samples from it).
- `seq2seq`: N-to-M encoder-decoder; the encoder's final states start the decoder; teacher
  forcing in training (`zoo.decoding.greedy_decode` and `beam_decode` at inference).
- `one_to_many`: a vector conditions a generated sequence (`zoo.decoding.unroll`).

Every builder returns a plain `keras.Model` (functional), so `compile`, `fit`, `save` and
`keras.saving.load_model` work as usual. Inputs are either real-valued features
(`input_dim=...`, shape (batch, steps, input_dim)) or token ids (`vocab_size=...`, id 0 is
padding and is masked).
"""

from __future__ import annotations

import keras

from zoo.checks import dropout_rate, one_of, optional_name, positive_int
from zoo.layers import Recurrent
from zoo.registry import get_variant

__all__ = ["many_to_one", "many_to_many", "language_model", "seq2seq", "attention_model", "one_to_many", "CONTEXTS",
           "ATTENTIONS", "FEEDS"]


def _sequence_input(input_dim, vocab_size, embedding_dim, timesteps, name="inputs", mask_value=None):
    """Input and the tensor fed to the recurrent layers: features (steps whose features all
    equal `mask_value` masked, when given), or embedded token ids."""
    if (input_dim is None) == (vocab_size is None):
        raise ValueError(
            "give exactly one of `input_dim` (real-valued features) and `vocab_size` (token ids), "
            f"got input_dim={input_dim!r}, vocab_size={vocab_size!r}."
        )
    if timesteps is not None:
        timesteps = positive_int("timesteps", timesteps)
    if input_dim is not None:
        input_dim = positive_int("input_dim", input_dim)
        inputs = keras.Input((timesteps, input_dim), name=name)
        if mask_value is None:
            return inputs, inputs
        return inputs, keras.layers.Masking(float(mask_value), name=f"{name}_masking")(inputs)
    vocab_size = positive_int("vocab_size", vocab_size)
    embedding_dim = positive_int("embedding_dim", embedding_dim)
    inputs = keras.Input((timesteps,), dtype="int32", name=name)
    embedded = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name=f"{name}_embedding")(inputs)
    return inputs, embedded


def _sequence_head(variant, num_outputs, return_sequences, kind, *, input_dim, vocab_size, embedding_dim, units,
                   num_layers, dropout, output_activation, timesteps, name, mask_value=None,
                   **layer_kwargs) -> keras.Model:
    num_outputs = positive_int("num_outputs", num_outputs)
    if mask_value is not None and input_dim is None:
        raise ValueError(f"mask_value={mask_value!r} masks real-valued features (`input_dim`); token ids are masked "
                         "by id 0 already.")
    inputs, x = _sequence_input(input_dim, vocab_size, embedding_dim, timesteps, mask_value=mask_value)
    x = Recurrent(variant, units, num_layers=num_layers, dropout=dropout, return_sequences=return_sequences,
                  name="recurrent", **layer_kwargs)(x)
    outputs = keras.layers.Dense(num_outputs, activation=output_activation, name="head")(x)
    return keras.Model(inputs, outputs, name=optional_name(name) or f"{get_variant(variant).name}_{kind}")


def many_to_one(variant, num_outputs, *, input_dim=None, vocab_size=None, embedding_dim=64, units=128, num_layers=1,
                dropout=0.0, output_activation="softmax", timesteps=None, name=None, **layer_kwargs) -> keras.Model:
    """Sequence -> one prediction (classification with softmax; regression with `output_activation=None`).

    Inputs are features (`input_dim`; with `mask_value`, steps whose features all equal it are
    padding and masked, as `keras.layers.Masking`) or token ids (`vocab_size`, embedded in
    `embedding_dim`, id 0 masked); `units`, `num_layers`, `dropout` and `layer_kwargs` go to
    `Recurrent`.
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
    vocab_size = positive_int("vocab_size", vocab_size)
    inputs, x = _sequence_input(None, vocab_size, embedding_dim, None, name="tokens")
    x = Recurrent(
        variant, units, num_layers=num_layers, dropout=dropout, return_sequences=True, name="recurrent", **layer_kwargs
    )(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="output_dropout")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(inputs, logits, name=optional_name(name) or f"{variant.name}_language_model")


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
    source_vocab_size = positive_int("source_vocab_size", source_vocab_size)
    target_vocab_size = positive_int("target_vocab_size", target_vocab_size)
    one_of("context", context, CONTEXTS)
    one_of("attention", attention, ATTENTIONS)
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
    return keras.Model([source, target_in], logits, name=optional_name(name) or f"{variant.name}_seq2seq")


def attention_model(model: keras.Model) -> keras.Model:
    """A model giving the attention weights (batch, target steps, source steps) of a `seq2seq`
    model built with `attention`, for the same inputs; each row sums to 1 over the source."""
    try:
        layer = model.get_layer("attention")
    except ValueError:
        raise ValueError(f"model {model.name!r} has no attention; build it with seq2seq(..., attention="
                         "'bahdanau' or 'luong')") from None
    return keras.Model(model.inputs, layer.output[1], name=f"{model.name}_attention")


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
    input_dim = positive_int("input_dim", input_dim)
    steps = positive_int("steps", steps)
    output_dim = positive_int("output_dim", output_dim)
    dropout = dropout_rate("dropout", dropout)
    one_of("feed", feed, FEEDS)
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
                       name=optional_name(name) or f"{get_variant(variant).name}_one_to_many")


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
