"""Batches of sequences of similar length, for splits whose sequences are padded at the end to
the longest (`Split.lengths` given).

A recurrent loop costs as many steps as the batch is long: with whole sequences of very
different lengths (MuseData's run from 16 to 4,273 frames), padding every batch to the split's
longest would make most of the work padding. Sorting by length and cutting each batch to its own
longest keeps the work close to the real frames. The loss and the metrics are unchanged: padded
steps carry weight 0 and come after every real step of their sequence, so a causal model's
outputs at real steps do not depend on how much padding follows.

Splits of equal lengths go through `ShuffledBatches`: a new order every epoch drawn from the
run's seed, the same on every backend, which a checkpoint can keep. Keras' own shuffle does not
serve: on JAX and torch it draws from global generators that a checkpoint cannot catch at the
right moment, and on TensorFlow under a seed it repeats one order every epoch (its seeded
shuffle starts over with each epoch's pass, as of Keras 3.15). On TensorFlow the batches go
through a tf.data pipeline built as Keras' own for arrays (`ShuffledBatches.tf_dataset`), which
trains as fast as Keras' and faster than a PyDataset there.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["ROUND_STEPS_TO", "LengthBatches", "ShuffledBatches", "length_batches", "predict_by_length"]

# A batch is cut to its longest sequence rounded up to a multiple of this, so that a compiled
# training step (JAX compiles once per shape) sees a few lengths, not one per batch.
ROUND_STEPS_TO = 32


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Indices of each batch: the sequences sorted by length and cut into batches of
    `batch_size`. Given `rng`, sequences of equal length come in a random order and the batches
    in a random order (a new draw each epoch); without it, the order is fixed (evaluation)."""
    lengths = np.asarray(lengths)
    ties = rng.random(len(lengths)) if rng is not None else np.zeros(len(lengths))
    order = np.lexsort((ties, lengths))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def _steps(lengths: np.ndarray, index: np.ndarray, limit: int) -> int:
    longest = int(lengths[index].max())
    return min(limit, -(-longest // ROUND_STEPS_TO) * ROUND_STEPS_TO)


def _per_step(split) -> bool:
    """Whether the targets have a steps axis (tagging, frame prediction), else one per sequence."""
    return split.y.ndim >= 2 and split.y.shape[1] == split.x.shape[1]


def _cut(split, index: np.ndarray):
    steps = _steps(split.lengths, index, split.x.shape[1])
    cut = (lambda a: a[index, :steps]) if _per_step(split) else (lambda a: a[index])
    weight = None if split.sample_weight is None else cut(split.sample_weight)
    return split.x[index, :steps], cut(split.y), weight


class LengthBatches(keras.utils.PyDataset):
    """The batches of `length_batches` for `model.fit`: (x, y, sample_weight), each cut to the
    batch's longest sequence; a new order every epoch when shuffled (from `seed`)."""

    def __init__(self, split, batch_size: int, seed: int | None = None, shuffle: bool = True):
        super().__init__()
        self.split, self.batch_size = split, batch_size
        self.rng = np.random.default_rng(seed) if shuffle else None
        self.batches = self._two_lengths_first(length_batches(split.lengths, batch_size, self.rng))

    def _two_lengths_first(self, batches):
        """Keras takes a PyDataset's shapes on TensorFlow from its first two batches: where the
        batches have more than one length, the first two differ, so the steps axis stays free."""
        steps = [_steps(self.split.lengths, b, self.split.x.shape[1]) for b in batches]
        other = next((j for j in range(1, len(batches)) if steps[j] != steps[0]), None)
        if other is not None:
            batches[1], batches[other] = batches[other], batches[1]
        return batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, i):
        x, y, weight = _cut(self.split, np.sort(self.batches[i]))
        return (x, y) if weight is None else (x, y, weight)

    def get_order(self) -> dict:
        """The order of the coming epoch's batches and the shuffling generator's state, as JSON
        (a run's checkpoint keeps it: `experiments.resume`)."""
        return {"batches": [b.tolist() for b in self.batches],
                "rng": None if self.rng is None else self.rng.bit_generator.state}

    def set_order(self, order: dict):
        """Put back what `get_order` gave: the epochs from here see the batches they would have."""
        self.batches = [np.asarray(b, dtype=np.int64) for b in order["batches"]]
        if self.rng is not None and order["rng"] is not None:
            self.rng.bit_generator.state = order["rng"]

    def on_epoch_end(self):
        if self.rng is not None:
            self.batches = length_batches(self.split.lengths, self.batch_size, self.rng)


class ShuffledBatches(keras.utils.PyDataset):
    """The training batches of a split held in arrays, (x, y[, sample_weight]), in a new order
    every epoch drawn from `seed`: the order is the run's, the same on every backend, and a
    checkpoint can keep it (`get_order`, `set_order`)."""

    def __init__(self, split, batch_size: int, seed: int | None = None):
        super().__init__()
        self.split, self.batch_size = split, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(split))

    def __len__(self):
        return (len(self.split) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, i):
        index = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        x = self.split.x
        x = tuple(part[index] for part in x) if isinstance(x, (list, tuple)) else x[index]
        y = self.split.y[index]
        weight = self.split.sample_weight
        return (x, y) if weight is None else (x, y, weight[index])

    def get_order(self) -> dict:
        """The coming epoch's order and the generator's state, as JSON (`experiments.resume`)."""
        return {"order": self.order.tolist(), "rng": self.rng.bit_generator.state}

    def set_order(self, order: dict):
        """Put back what `get_order` gave."""
        self.order = np.asarray(order["order"], dtype=np.int64)
        self.rng.bit_generator.state = order["rng"]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.split))

    def _take_order(self) -> np.ndarray:
        """This epoch's order, the next one drawn (what a PyDataset's `on_epoch_end` does)."""
        order = self.order
        self.on_epoch_end()
        return order.astype(np.int64)

    def tf_dataset(self):
        """The same batches, epoch by epoch, as a tf.data pipeline for TensorFlow, built as Keras'
        own for arrays: the epoch's order taken from this object once, when TensorFlow starts the
        epoch's pass (after a checkpoint's `set_order`), batches of indices, then one gather per
        batch. `get_order` at an epoch's end gives the coming epoch's, as with the PyDataset."""
        import tensorflow as tf

        size, batch = len(self.split), self.batch_size
        full = size // batch
        weight = self.split.sample_weight
        arrays = (self.split.x, self.split.y) if weight is None else (self.split.x, self.split.y, weight)
        arrays = tf.nest.map_structure(tf.convert_to_tensor, tuple(tuple(a) if isinstance(a, list) else a
                                                                  for a in arrays))

        def epoch_order(_):
            order = tf.numpy_function(self._take_order, [], tf.int64, stateful=True)
            order.set_shape([size])
            return order

        def index_batches(order):
            batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[:full * batch], [full, batch]))
            if size > full * batch:
                batches = batches.concatenate(tf.data.Dataset.from_tensors(order[full * batch:]))
            return batches

        indices = tf.data.Dataset.range(1).map(epoch_order).flat_map(index_batches)
        data = tf.data.Dataset.zip((indices, tf.data.Dataset.from_tensors(arrays).repeat()))
        data = data.map(lambda index, parts: tf.nest.map_structure(lambda a: tf.gather(a, index, axis=0), parts),
                        num_parallel_calls=tf.data.AUTOTUNE)
        options = tf.data.Options()
        # As Keras' pipeline: no graph rewrites to serialise; the order's Python function is state
        # that tf.data need not save.
        options.experimental_optimization.apply_default_optimizations = False
        options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE
        data = data.with_options(options).apply(tf.data.experimental.assert_cardinality(len(self)))
        return data.prefetch(tf.data.AUTOTUNE)


def predict_by_length(model, split, batch_size: int) -> np.ndarray:
    """`model`'s outputs for every sequence of `split`, computed batch by batch in length order
    and laid out as the padded split (zeros at padded steps), or one output per sequence."""
    out, per_step = None, _per_step(split)
    for index in length_batches(split.lengths, batch_size):
        index = np.sort(index)
        x, _, _ = _cut(split, index)
        predicted = np.asarray(model.predict_on_batch(x))
        if out is None:
            shape = (len(split), split.y.shape[1], *predicted.shape[2:]) if per_step else (len(split), *predicted.shape[1:])
            out = np.zeros(shape, predicted.dtype)
        if per_step:
            out[index, :predicted.shape[1]] = predicted
        else:
            out[index] = predicted
    return out
