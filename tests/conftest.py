import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

# `make test` runs the suite in two lanes, one per core: lane 1 is TensorFlow's suite without
# these files; lane 2 runs the backend-marked tests on JAX, then on torch, then these files on
# TensorFlow (mostly subprocesses: workers, kills, other backends), so both lanes end together.
LANE_TWO_FILES = ("test_gpu_check.py", "test_reliability.py", "test_file_tasks.py", "test_bench.py", "test_package.py")
LANE_VARIABLE = "RNNZOO_TEST_LANE"


def pytest_collection_modifyitems(config, items):
    lane = os.environ.get(LANE_VARIABLE, "")
    if lane not in ("", "1", "2"):
        raise pytest.UsageError(f"{LANE_VARIABLE}={lane!r}: use 1 (all but {', '.join(LANE_TWO_FILES)}), "
                                "2 (only those) or leave it unset (every test).")
    if not lane:
        return
    keep = [item for item in items if (item.path.name in LANE_TWO_FILES) == (lane == "2")]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def randomize_weights(layer, rng, scale=0.5):
    """Give every weight of `layer` random values, so no test passes by zeros or ones."""
    layer.set_weights([rng.normal(0.0, scale, w.shape).astype("float32") for w in layer.get_weights()])


def to_numpy(x, dtype=None):
    """A tensor, variable or array of any backend as a NumPy array (a torch tensor that requires
    grad included, which `np.asarray` refuses)."""
    value = x if isinstance(x, np.ndarray) else keras.ops.convert_to_numpy(x)
    return np.asarray(value, dtype=dtype)


def weights_by_name(cell):
    return {w.name: keras.ops.convert_to_numpy(w) for w in cell.weights}


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A throw-away PostgreSQL server for the session (pgserver, from PyPI: its binaries ship in the
    wheel); a test that needs it fails with the reason if it cannot start, never skips."""
    try:
        import pgserver

        server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    except Exception as error:  # noqa: BLE001 - any reason is reported
        pytest.fail(f"could not start a PostgreSQL server for the tests (pgserver): {type(error).__name__}: {error}")
    yield server
    server.cleanup()


@pytest.fixture
def postgres_url(postgres, request):
    """A new, empty database on the session's server, as a SQLAlchemy URL (Unix socket)."""
    import hashlib

    name = "zoo_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    postgres.psql(f"DROP DATABASE IF EXISTS {name};")
    postgres.psql(f"CREATE DATABASE {name};")
    uri = postgres.get_uri()
    return uri.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request, tmp_path):
    """The results store, on SQLite and on a real PostgreSQL: the queue's guarantees hold on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


def outputs_and_gradients(layer, xs):
    """The first output of `layer(xs)` and the gradients of sum(sin(output)) with respect to the
    layer's trainable weights and to `xs`, on TensorFlow, JAX or torch."""
    if keras.backend.backend() == "jax":
        import jax

        def loss(weights, x):
            values = [w.value for w in layer.trainable_weights]
            for w, v in zip(layer.trainable_weights, weights):
                w.assign(v)
            y = layer(x)[0]
            for w, v in zip(layer.trainable_weights, values):
                w.assign(v)
            return keras.ops.sum(keras.ops.sin(y)), y

        weights = [w.value for w in layer.trainable_weights]
        (_, y), grads = jax.value_and_grad(lambda w, x: loss(w, x), argnums=(0, 1), has_aux=True)(weights, xs)
        return np.asarray(y), [np.asarray(g) for g in grads[0]] + [np.asarray(grads[1])]
    if keras.backend.backend() == "torch":
        import torch

        x = torch.tensor(xs, requires_grad=True)
        y = layer(x)[0]
        torch.sum(torch.sin(y)).backward()
        grads = [w.value.grad for w in layer.trainable_weights]
        for w in layer.trainable_weights:
            w.value.grad = None
        return to_numpy(y), [to_numpy(g) for g in grads] + [to_numpy(x.grad)]
    import tensorflow as tf

    x = tf.constant(xs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)[0]
        loss = tf.reduce_sum(tf.sin(y))
    grads = tape.gradient(loss, layer.trainable_weights + [x])
    return y.numpy(), [g.numpy() for g in grads]
