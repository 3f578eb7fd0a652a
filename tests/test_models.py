"""The topology builders: many-to-one, many-to-many, language model, seq2seq, one-to-many."""

import keras
import numpy as np
import pytest
from conftest import to_numpy

import zoo

pytestmark = pytest.mark.backend


def test_many_to_one_on_tokens_ignores_padding():
    keras.utils.set_random_seed(1)
    model = zoo.many_to_one("peephole", 3, vocab_size=10, embedding_dim=4, units=6)
    tokens = np.array([[3, 4, 5]], "int32")
    padded = np.array([[3, 4, 5, 0, 0]], "int32")
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(tokens, verbose=0), rtol=1e-5)
    assert model.output_shape == (None, 3)


def test_many_to_many_gives_one_output_per_step():
    model = zoo.many_to_many("bi-cifg", 5, input_dim=3, units=4)
    out = model.predict(np.zeros((2, 7, 3), "float32"), verbose=0)
    assert out.shape == (2, 7, 5)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)


def test_input_kind_must_be_exactly_one():
    with pytest.raises(ValueError, match="exactly one of `input_dim`"):
        zoo.many_to_one("lstm", 2)
    with pytest.raises(ValueError, match="exactly one of `input_dim`"):
        zoo.many_to_one("lstm", 2, input_dim=3, vocab_size=5)
    with pytest.raises(ValueError, match="num_outputs=0"):
        zoo.many_to_one("lstm", 0, input_dim=3)


def test_language_model_rejects_bidirectional_variants():
    with pytest.raises(ValueError, match="'bi-gru' is bidirectional.*use 'gru'"):
        zoo.language_model("bi-gru", 10)


def test_language_model_learns_a_cycle_and_generates_it():
    """Tokens 1..4 repeat; a trained model continues the cycle greedily."""
    keras.utils.set_random_seed(3)
    cycle = np.tile(np.arange(1, 5), 8)[None, :].astype("int32")
    x, y = np.repeat(cycle[:, :-1], 16, axis=0), np.repeat(cycle[:, 1:], 16, axis=0)
    model = zoo.language_model("cifg", 5, embedding_dim=8, units=16)
    model.compile(keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    out = zoo.generate(model, [2, 3], 8, temperature=0)
    np.testing.assert_array_equal(out[0], [2, 3, 4, 1, 2, 3, 4, 1, 2, 3])


def test_generate_is_seeded_and_never_emits_padding():
    keras.utils.set_random_seed(0)
    model = zoo.language_model("gru", 7, embedding_dim=4, units=8)
    a = zoo.generate(model, [[1], [2]], 12, temperature=1.5, seed=5)
    b = zoo.generate(model, [[1], [2]], 12, temperature=1.5, seed=5)
    c = zoo.generate(model, [[1], [2]], 12, temperature=1.5, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (2, 13) and (a[:, 1:] > 0).all()
    with pytest.raises(ValueError, match="temperature=-1"):
        zoo.generate(model, [1], 3, temperature=-1)


def test_generate_stops_rows_after_end_token():
    model = zoo.language_model("lstm", 4, units=4)
    out = zoo.generate(model, [[1]] * 4, 10, temperature=2.0, seed=0, end_id=3)
    for row in out:
        ends = np.flatnonzero(row == 3)
        if ends.size:
            assert (row[ends[0] + 1:] == 0).all()


@pytest.mark.parametrize("name", ["lstm", "bi-peephole", "gru"])
def test_seq2seq_greedy_decoding_matches_teacher_forced_argmax(name):
    """Feeding the greedy output back as decoder input reproduces the same tokens."""
    keras.utils.set_random_seed(2)
    model = zoo.seq2seq(name, 9, 6, embedding_dim=4, units=5, num_layers=2)
    source = np.array([[1, 2, 3, 4], [5, 6, 0, 0]], "int32")
    decoded = zoo.greedy_decode(model, source, start_id=1, max_length=5)
    assert decoded.shape == (2, 5)
    decoder_input = np.concatenate([np.ones((2, 1), "int32"), decoded[:, :-1]], axis=1)
    logits = model.predict([source, decoder_input], verbose=0)
    logits[..., 0] = -np.inf
    np.testing.assert_array_equal(logits.argmax(-1), decoded)


def test_seq2seq_bidirectional_encoder_feeds_a_wider_decoder():
    model = zoo.seq2seq("bi-lstm", 9, 6, units=5)
    assert model.get_layer("decoder").units == 10
    assert model.get_layer("decoder").variant.name == "lstm"


def test_seq2seq_learns_to_copy():
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    src = rng.integers(2, 6, size=(256, 3)).astype("int32")
    dec_in = np.concatenate([np.ones((256, 1), "int32"), src[:, :-1]], axis=1)
    model = zoo.seq2seq("gru", 6, 6, embedding_dim=8, units=32)
    model.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit([src, dec_in], src, epochs=40, batch_size=64, verbose=0)
    decoded = zoo.greedy_decode(model, src[:32], start_id=1, max_length=3)
    assert (decoded == src[:32]).all(axis=1).mean() > 0.9


def test_one_to_many_shape_and_conditioning():
    model = zoo.one_to_many("peephole", 3, 6, 2, units=4)
    v = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.5]], "float32")
    out = model.predict(v, verbose=0)
    assert out.shape == (2, 6, 2)
    assert not np.allclose(out[0], out[1])  # the vector conditions the sequence


def test_numpy_integers_are_valid_sizes_in_every_builder():
    n = np.int64
    assert zoo.language_model("gru", vocab_size=n(20), embedding_dim=n(8), units=n(8)).output_shape == (None, None, 20)
    assert zoo.many_to_one("lstm", n(3), input_dim=n(4), units=n(8)).output_shape == (None, 3)
    assert zoo.many_to_one("lstm", n(3), vocab_size=n(9), embedding_dim=n(4), units=n(8)).output_shape == (None, 3)
    assert zoo.many_to_many("gru", n(5), input_dim=n(4), units=n(8)).output_shape == (None, None, 5)
    assert zoo.seq2seq("lstm", n(12), n(10), units=n(6), embedding_dim=n(4)).output_shape == (None, None, 10)
    assert zoo.one_to_many("gru", n(4), n(7), n(3), units=n(8)).output_shape == (None, 7, 3)


@pytest.mark.parametrize("call, message", [
    (lambda m: zoo.greedy_decode(m, [[3, -1]], start_id=1, max_length=3),
     r"`source` holds token id -1, outside the vocabulary \[0, 12\)"),
    (lambda m: zoo.greedy_decode(m, [[3, 1.5]], start_id=1, max_length=3), r"`source` must hold integer token ids, got 1.5"),
    (lambda m: zoo.greedy_decode(m, [[3, 12]], start_id=1, max_length=3),
     r"`source` holds token id 12, outside the vocabulary \[0, 12\)"),
    (lambda m: zoo.greedy_decode(m, [[3, 4]], start_id=-5, max_length=3),
     r"`start_id` must be a token id in \[0, 10\), got start_id=-5"),
    (lambda m: zoo.beam_decode(m, [[3, 4]], start_id=1, max_length=3, end_id=10),
     r"`end_id` must be a token id in \[0, 10\), got end_id=10"),
    (lambda m: zoo.beam_decode(m, [[3, 4]], start_id=1, max_length=0), r"`max_length` must be a positive integer"),
])
def test_decoders_check_their_token_ids(call, message):
    model = zoo.seq2seq("gru", 12, 10, units=6, embedding_dim=4)
    with pytest.raises(ValueError, match=message):
        call(model)


def test_generate_checks_its_end_id():
    model = zoo.language_model("gru", vocab_size=20, units=8)
    with pytest.raises(ValueError, match=r"`end_id` must be a token id in \[0, 20\), got end_id=99"):
        zoo.generate(model, [1, 2], 3, end_id=99)


def test_weight_noise_acts_inside_training_steps_only():
    """With a learning rate of 0 the update is nothing: every weight must come out of training as
    it went in (the noise taken off after each step) while the training loss, taken at the noisy
    weights, differs from the clean loss; evaluation and the saved model see the clean weights."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 5, 3)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = zoo.many_to_one("gru", 1, input_dim=3, units=8, output_activation=None)
    model.compile(keras.optimizers.SGD(0.0), "mse")
    before = [w.copy() for w in model.get_weights()]
    clean_loss = model.evaluate(x, y, batch_size=32, verbose=0)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[zoo.WeightNoise(0.5, seed=1)])
    for b, a in zip(before, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert abs(history.history["loss"][0] - clean_loss) > 1e-3  # the step saw noisy weights
    np.testing.assert_allclose(history.history["val_loss"], [clean_loss] * 2, rtol=1e-5)  # validation did not
    assert model.evaluate(x, y, batch_size=32, verbose=0) == pytest.approx(clean_loss, rel=1e-6)
    with pytest.raises(ValueError, match=r"`stddev` must be a finite number >= 0, got stddev=-1"):
        zoo.WeightNoise(-1)


def test_weight_noise_is_a_new_draw_each_step_fixed_by_the_seed_and_gone_after_training():
    """One batch, a learning rate of 0: without noise every epoch's loss would be the clean loss.
    With it each step's loss is another draw (the noise changes from step to step), the same seed
    gives the same draws, another seed others, and a later fit without the callback sees no noise."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = zoo.many_to_one("gru", 1, input_dim=3, units=8, output_activation=None)
    model.compile(keras.optimizers.SGD(0.0), "mse")
    clean_loss = model.evaluate(x, y, batch_size=16, verbose=0)

    # The noise is drawn inside the training step, which then wraps the model's.
    wrapped = ("compute_loss_and_updates", "train_step")
    in_step = []
    probe = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: in_step.append("train_step" in vars(model)))

    def losses(seed):
        noise = zoo.WeightNoise(0.3, seed=seed)
        return model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[noise, probe]).history["loss"]

    first = losses(3)
    assert len({round(v, 6) for v in first}) == 4 and min(abs(v - clean_loss) for v in first) > 1e-4
    np.testing.assert_allclose(losses(3), first, rtol=1e-6)
    assert not np.allclose(losses(4), first, rtol=1e-3)
    assert set(in_step) == {True}
    after = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]
    np.testing.assert_allclose(after, [clean_loss] * 2, rtol=1e-5)
    assert not any(name in vars(model) for name in wrapped)


def test_weight_noise_continues_its_draws_after_the_steps_taken_of_an_earlier_fit():
    """A run split over two fits (resumed from a checkpoint) sees the noise of one fit: with
    `steps_taken` the second fit's draws go on from the first's, without it they start over."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = zoo.many_to_one("gru", 1, input_dim=3, units=8, output_activation=None)

    model.compile(keras.optimizers.SGD(0.0), "mse")
    whole = model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[zoo.WeightNoise(0.3, seed=3)]).history["loss"]
    model.compile(keras.optimizers.SGD(0.0), "mse")  # a new optimizer: its step count starts at 0 again
    first = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[zoo.WeightNoise(0.3, seed=3)]).history["loss"]
    second = model.fit(x, y, batch_size=16, epochs=2, verbose=0,
                       callbacks=[zoo.WeightNoise(0.3, seed=3, steps_taken=2)]).history["loss"]
    np.testing.assert_allclose(first + second, whole, rtol=1e-6)
    again = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[zoo.WeightNoise(0.3, seed=3)]).history["loss"]
    np.testing.assert_allclose(again, whole[:2], rtol=1e-6)  # without it, the draws of a first fit
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match=rf"`steps_taken` must be an integer >= 0, got steps_taken={bad!r}"):
            zoo.WeightNoise(0.3, steps_taken=bad)


def test_weight_noise_leaves_clean_weights_and_a_clean_step_when_a_fit_ends_in_an_exception():
    """A fit with weight noise ended by an exception, in the middle of a step (the loss raises:
    torch calls it at every step) or between steps (a callback raises: JAX and TensorFlow call
    their compiled step), leaves every weight as it was (learning rate 0) and the model's own
    step: a later fit without the callback trains at the clean weights."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = zoo.many_to_one("gru", 1, input_dim=3, units=8, output_activation=None)
    stop = {"now": False, "steps": 0}

    def loss(y_true, y_pred):
        if stop["now"]:
            raise RuntimeError("stopped in the step")
        return keras.losses.mean_squared_error(y_true, y_pred)

    def begin(batch, logs):  # the second step (one batch an epoch)
        stop["steps"] += 1
        stop["now"] = stop["steps"] == 2

    def end(batch, logs):
        if stop["now"]:
            raise RuntimeError("stopped after the step")

    model.compile(keras.optimizers.SGD(0.0), loss)
    before = [w.copy() for w in model.get_weights()]
    clean_loss = model.evaluate(x, y, batch_size=16, verbose=0)
    stopper = keras.callbacks.LambdaCallback(on_train_batch_begin=begin, on_train_batch_end=end)
    with pytest.raises(RuntimeError, match="stopped"):
        model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[zoo.WeightNoise(0.5, seed=0), stopper])
    stop["now"] = False
    for b, a in zip(before, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    after = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]
    np.testing.assert_allclose(after, [clean_loss] * 2, rtol=1e-5)
    assert not any(name in vars(model) for name in ("compute_loss_and_updates", "train_step"))


def test_rmsprop_graves_follows_graves_2013_equations():
    """`train.optimizer=rmsprop-graves` against Graves 2013 (eq. 38-41) written in NumPy:
    n = 0.95 n + 0.05 g^2, gbar = 0.95 gbar + 0.05 g, d = 0.9 d - lr g / sqrt(n - gbar^2 + 1e-4)."""
    from experiments.train import make_optimizer

    lr, start = 0.01, np.array([0.5, -1.0, 2.0], dtype="float32")
    grads = [np.array(g, dtype="float32") for g in ([0.3, -0.2, 0.1], [0.1, 0.4, -0.3], [-0.2, 0.1, 0.5])]
    optimizer = make_optimizer({"optimizer": "rmsprop-graves", "learning_rate": lr, "clipnorm": 0.0, "momentum": 0.0})
    weight = keras.Variable(start)
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), weight)])

    w, n, gbar, d = start.astype("float64"), 0.0, 0.0, 0.0
    for g in grads:
        n = 0.95 * n + 0.05 * g ** 2
        gbar = 0.95 * gbar + 0.05 * g
        d = 0.9 * d - lr * g / np.sqrt(n - gbar ** 2 + 1e-4)
        w = w + d
    np.testing.assert_allclose(to_numpy(weight), w, rtol=1e-5)
    assert not np.allclose(w, start - lr * sum(grads))  # not plain gradient descent
