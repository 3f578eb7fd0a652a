"""Batches of sequences of similar length (`experiments.batching`): every sequence once per
epoch, little padding, an order fixed by the seed, and the same predictions and loss as the
padded split."""

import keras
import numpy as np
import pytest
from conftest import to_numpy

from experiments import batching
from experiments.batching import LengthBatches, length_batches, predict_by_length
from experiments.tasks import polyphonic as poly

LENGTHS = np.array([5, 400, 33, 70, 12, 300, 64, 65, 1, 250, 9, 128])


def test_every_sequence_comes_once_in_batches_of_neighbouring_lengths():
    batches = length_batches(LENGTHS, 4, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(LENGTHS)))
    assert [len(b) for b in batches].count(4) == 3
    spans = sorted((LENGTHS[b].min(), LENGTHS[b].max()) for b in batches)
    assert all(high <= next_low for (_, high), (next_low, _) in zip(spans, spans[1:]))  # no overlap: sorted


def test_the_order_is_fixed_by_the_seed_and_changes_each_epoch():
    lengths = np.random.default_rng(5).integers(1, 60, 40)  # 10 batches, lengths with ties

    def epochs(seed):
        dataset = LengthBatches(poly.whole_sequences(_rolls(lengths)), 4, seed=seed)
        order = []
        for _ in range(3):
            order.append([tuple(b) for b in dataset.batches])
            dataset.on_epoch_end()
        return order

    assert epochs(1) == epochs(1)
    assert epochs(1) != epochs(2)
    assert epochs(1)[0] != epochs(1)[1]  # reshuffled between epochs
    fixed = LengthBatches(poly.whole_sequences(_rolls(LENGTHS)), 3, shuffle=False)
    before = [tuple(b) for b in fixed.batches]
    fixed.on_epoch_end()
    assert [tuple(b) for b in fixed.batches] == before


def _rolls(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random((n, 88)) < 0.1).astype("uint8") for n in lengths]


def test_a_batch_is_cut_to_its_longest_sequence_and_padding_shrinks():
    split = poly.whole_sequences(_rolls(LENGTHS))
    dataset = LengthBatches(split, 4, seed=0)
    steps = 0
    for i in range(len(dataset)):
        x, y, weight = dataset[i]
        index = np.sort(dataset.batches[i])
        assert x.shape[1] >= LENGTHS[index].max() and (x.shape[1] % batching.ROUND_STEPS_TO == 0 or x.shape[1] == 400)
        np.testing.assert_array_equal(weight.sum(axis=1), LENGTHS[index])  # every real frame is in the batch
        np.testing.assert_array_equal(y, split.y[index, :x.shape[1]])
        steps += x.shape[0] * x.shape[1]
    assert steps < 0.6 * len(LENGTHS) * LENGTHS.max()  # padded to the longest would be 4,800 steps


@pytest.mark.backend
def test_predictions_by_length_equal_the_padded_splits_at_every_real_frame():
    import keras

    from experiments.tasks.music import frame_nll
    from experiments.topologies import get_topology

    keras.utils.set_random_seed(0)
    split = poly.whole_sequences(_rolls([40, 3, 90, 7, 66]))
    model = get_topology("frame_prediction").build("gru", {"input_dim": 88, "num_outputs": 88},
                                                   {"units": 8, "num_layers": 1, "dropout": 0.0,
                                                    "embedding_dim": 8, "implementation": "auto"})
    padded = to_numpy(model.predict(split.x, verbose=0))
    by_length = predict_by_length(model, split, batch_size=2)
    real = split.sample_weight > 0
    np.testing.assert_allclose(by_length[real], padded[real], atol=1e-5)
    assert frame_nll(split.y, by_length, split.sample_weight) == pytest.approx(
        frame_nll(split.y, padded, split.sample_weight), rel=1e-5)


def test_the_first_two_batches_have_different_lengths_so_keras_leaves_the_steps_free():
    for seed in range(5):
        dataset = LengthBatches(poly.whole_sequences(_rolls(LENGTHS)), 3, seed=seed)
        assert dataset[0][0].shape[1] != dataset[1][0].shape[1]
    same = LengthBatches(poly.whole_sequences(_rolls([30, 31, 29, 28])), 2, seed=0)  # one length: nothing to do
    assert same[0][0].shape[1] == same[1][0].shape[1] == 31  # rounded up to 32, but never past the split


def test_arrays_come_once_each_epoch_in_an_order_the_seed_fixes_and_each_epoch_changes():
    """Splits held in arrays are batched by the run's own generator: Keras' shuffle draws another
    order on each backend and, on TensorFlow under a global seed, the same order every epoch."""
    from experiments.tasks import Split

    x = np.arange(10 * 3, dtype="float32").reshape(10, 3)
    split = Split((x, -x), np.arange(10), sample_weight=np.arange(10) / 10)

    def epochs(seed):
        dataset = batching.ShuffledBatches(split, 4, seed=seed)
        seen = []
        for _ in range(3):
            batches = [dataset[i] for i in range(len(dataset))]
            assert [len(b[1]) for b in batches] == [4, 4, 2]
            for (first, second), y, weight in batches:  # inputs, targets and weights of the same examples
                np.testing.assert_array_equal(first[:, 0] / 3, y)
                np.testing.assert_array_equal(second, -first)
                np.testing.assert_allclose(weight, y / 10)
            seen.append(np.concatenate([y for _, y, _ in batches]).tolist())
            dataset.on_epoch_end()
        return seen

    first = epochs(1)
    assert all(sorted(order) == list(range(10)) for order in first)  # every example once an epoch
    assert first == epochs(1) and first != epochs(2)
    assert first[0] != first[1] != first[2]  # a new order every epoch

    resumed = batching.ShuffledBatches(split, 4, seed=1)
    dataset = batching.ShuffledBatches(split, 4, seed=1)
    dataset.on_epoch_end()
    resumed.set_order(dataset.get_order())  # a checkpoint's round trip: the same epochs follow
    for _ in range(2):
        assert [resumed[i][1].tolist() for i in range(3)] == [dataset[i][1].tolist() for i in range(3)]
        resumed.on_epoch_end()
        dataset.on_epoch_end()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the tf.data form is TensorFlow's")
def test_shuffled_batches_as_tf_data_give_the_same_epochs_and_keep_a_checkpoints_order():
    """On TensorFlow the batches go through tf.data: epoch by epoch the PyDataset's batches (the
    order drawn when the epoch's pass starts), and a checkpoint's order followed."""
    from experiments.tasks import Split

    x = np.arange(10, dtype="float32")[:, None] * 3
    split = Split(x=(x, -x), y=x[:, 0] / 3, sample_weight=x[:, 0] / 30)

    def tf_epochs(dataset, count=3):
        data, seen = dataset.tf_dataset(), []
        for _ in range(count):  # a new pass each epoch, as Keras' fit makes one
            batches = [tuple(to_numpy(part) for part in flat) for flat in
                       ((b[0][0], b[0][1], b[1], b[2]) for b in data)]
            assert [len(b[2]) for b in batches] == [4, 4, 2]
            for first, second, y, weight in batches:  # inputs, targets and weights of the same examples
                np.testing.assert_array_equal(first[:, 0] / 3, y)
                np.testing.assert_array_equal(second, -first)
                np.testing.assert_allclose(weight, y / 10)
            seen.append(np.concatenate([b[2] for b in batches]).tolist())
        return seen

    def py_epochs(dataset, count=3):
        seen = []
        for _ in range(count):
            seen.append(np.concatenate([dataset[i][1] for i in range(len(dataset))]).tolist())
            dataset.on_epoch_end()
        return seen

    through_tf = tf_epochs(batching.ShuffledBatches(split, 4, seed=1))
    assert through_tf == py_epochs(batching.ShuffledBatches(split, 4, seed=1))
    assert through_tf[0] != through_tf[1] != through_tf[2]  # not Keras' one order every epoch

    dataset = batching.ShuffledBatches(split, 4, seed=1)
    tf_epochs(dataset, 1)
    resumed = batching.ShuffledBatches(split, 4, seed=7)
    resumed.set_order(dataset.get_order())  # what a checkpoint at the first epoch's end keeps
    assert tf_epochs(resumed, 2) == through_tf[1:]
