"""The models the benchmark times, and the timing itself: interleaved rounds, paired ratios."""

from __future__ import annotations

import contextlib
import statistics
import time
from typing import NamedTuple

import numpy as np

__all__ = ["Entry", "Shape", "REFERENCE_SHAPE", "DEFAULT_SHAPES", "entries_for", "bench_shape", "paired_ratio", "rounds_at",
           "MODERN_TARGETS", "padded_batch"]

class Shape(NamedTuple):
    """A benchmark shape: sequences per batch, steps, input features, units."""

    batch: int
    steps: int
    input_dim: int
    units: int


# The shape every variant is timed at (and `python -m zoo list` counts parameters at).
REFERENCE_SHAPE = Shape(64, 100, 32, 128)
DEFAULT_SHAPES = [REFERENCE_SHAPE, Shape(64, 400, 32, 128), Shape(64, 1000, 32, 128), Shape(64, 100, 32, 512)]
# Variants whose math equals a built-in layer also run through the zoo's own cell, to show its cost.
OWN_CELL_TWINS = ("vanilla", "lstm", "gru")
# Zoo cells also timed in the loop form that `scan="auto"` does not take on this device (the
# input projection hoisted out of the loop, or kept in it), to show what the choice is worth.
OTHER_LOOP_TWINS = ("lstm", "peephole", "gru")
# Minimal cells also timed in Feng et al.'s log-space form (`log_space=True`) beside the present
# one, both as the parallel scan, where the two forms differ most.
LOG_SPACE_TWINS = ("mingru", "minlstm")
# Also timed with the training options a user can switch: XLA where it is not the default
# (TensorFlow; JAX always compiles) and mixed precision (float16 compute, float32 weights).
OPTION_TWINS = ("lstm", "peephole")
# Also timed on sequences padded at the end (a `Masking` layer; lengths from half the steps to all
# of them), the form of real batches: what a mask costs on each loop (a kernel, the step loop).
PADDED_TWINS = ("lstm", "peephole")
# References besides lstm: the modern cells are measured against the built-in GRU and Elman RNN.
OTHER_REFERENCES = ("gru", "vanilla")
# Targets of the modern cells: (variant, reference, the ratio it must beat).
MODERN_TARGETS = (("mingru", "gru", 0.5), ("minlstm", "gru", 0.5), ("indrnn", "vanilla", 1.0))
# On torch: PyTorch's own layers, trained directly (no Keras), beside the variants of their math,
# and Keras' own LSTM layer (its torch loop) beside the reference lstm.
TORCH_NN = {"lstm": "LSTM", "gru": "GRU", "vanilla": "RNN"}
KERAS_LSTM = "lstm[keras.layers.LSTM]"
# A bidirectional twin does twice a layer's work: it is measured against Keras' LSTM in both directions.
KERAS_BI_LSTM = "bi-lstm[keras.layers.LSTM]"


class Entry(NamedTuple):
    """One model to time: its label in the tables and how it is built."""

    label: str
    variant: str
    implementation: str = "auto"
    cell_options: dict | None = None
    jit_compile: str | bool = "auto"
    mixed_precision: bool = False
    padded: bool = False


def _recurrent_flops(variant: str, steps: int, batch: int, input_dim: int, units: int) -> float:
    """Matmul FLOPs of a forward pass over the sequence, from the variant's family entry."""
    from zoo.registry import get_variant

    v = get_variant(variant)
    per_step = v.family_entry.step_flops(units, input_dim, v.cell_options)
    return batch * per_step * steps * (2 if v.bidirectional else 1)


@contextlib.contextmanager
def _policy(name: str):
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


class _TorchNN:
    """`torch.nn.LSTM` / `GRU` / `RNN` -> `Linear(1)`, MSE, Adam: the bench's model in plain
    PyTorch, with the two methods and the attributes the timing reads off a Keras model."""

    jit_compile = False

    def __init__(self, kind: str, input_dim: int, units: int):
        import types

        import torch

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.rnn = getattr(torch.nn, kind)(input_dim, units, batch_first=True).to(self.device)
        self.head = torch.nn.Linear(units, 1).to(self.device)
        self.parameters = [*self.rnn.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.Adam(self.parameters, lr=1e-3)
        layer = types.SimpleNamespace(runs_as=f"torch.nn.{kind}", dtype_policy=types.SimpleNamespace(name="float32"))
        self.layers = [None, layer]

    def _forward(self, x):
        import torch

        return self.head(self.rnn(torch.as_tensor(x, device=self.device))[0][:, -1])

    def train_on_batch(self, x, y):
        import torch

        self.optimizer.zero_grad()
        loss = torch.mean((self._forward(x) - torch.as_tensor(y, device=self.device)) ** 2)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())  # as Keras: waits for the step

    def predict_on_batch(self, x):
        import torch

        with torch.no_grad():
            return self._forward(x).cpu().numpy()

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters)


def _model(entry: Entry, steps: int, input_dim: int, units: int):
    import keras

    from zoo.layers import Recurrent

    if entry.implementation == "torch.nn":
        return _TorchNN(TORCH_NN[entry.variant], input_dim, units)
    if entry.implementation == "keras":  # Keras' own layer, as a user of Keras would write it
        inputs = keras.Input((steps, input_dim))
        layer = keras.layers.LSTM(units)
        layer.runs_as = "keras.layers.LSTM (Keras' loop)"
        if entry.label == KERAS_BI_LSTM:
            layer = keras.layers.Bidirectional(layer)
            layer.runs_as = "Bidirectional(keras.layers.LSTM) (Keras' loop)"
        model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
        model.compile(keras.optimizers.Adam(1e-3), "mse")
        return model
    with _policy("mixed_float16" if entry.mixed_precision else "float32"):  # as the runner's mixed_precision
        inputs = keras.Input((steps, input_dim))
        x = keras.layers.Masking(0.0)(inputs) if entry.padded else inputs
        x = Recurrent(entry.variant, units, implementation=entry.implementation, cell_options=entry.cell_options)(x)
        model = keras.Model(inputs, keras.layers.Dense(1, dtype="float32")(x))
        model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=entry.jit_compile)
    return model


def _matmul_limit(batch: int, steps: int, input_dim: int, units: int) -> float:
    """FLOP/s of one (batch*steps, input+units) @ (input+units, 4 units) matrix multiply: the
    LSTM's matmul work of all steps at once, what this device reaches when nothing is sequential."""
    import keras
    from keras import ops

    a = keras.random.normal((batch * steps, input_dim + units))
    b = keras.random.normal((input_dim + units, 4 * units))

    def run():
        float(ops.convert_to_numpy(ops.sum(ops.matmul(a, b))))

    run()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 2 * batch * steps * (input_dim + units) * 4 * units / statistics.median(times)


def padded_batch(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`x` with each sequence cut to a length drawn from half the steps to all of them, zeros after:
    a batch padded at the end, as `Masking(0.0)` reads it (no real step is all zeros)."""
    steps = x.shape[1]
    lengths = rng.integers(max(1, steps // 2), steps + 1, size=x.shape[0])
    return np.where((np.arange(steps)[None, :] < lengths[:, None])[..., None], x, 0.0).astype(x.dtype)


def paired_ratio(times, reference_times) -> tuple[float, float, float]:
    """Median, lowest and highest over rounds of `times[k] / reference_times[k]` (same round k)."""
    ratios = [t / r for t, r in zip(times, reference_times, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def bench_shape(entries, shape, rounds: int, warmup: int, log=print):  # noqa: C901
    """Time every (label, variant, implementation) at one shape; returns result rows."""
    import keras

    batch, steps, input_dim, units = shape
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, input_dim)).astype("float32")
    y = rng.normal(size=(batch, 1)).astype("float32")
    padded = padded_batch(x, rng)
    models, build_seconds, inputs = {}, {}, {}
    for entry in entries:
        label = entry.label
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        model = _model(entry, steps, input_dim, units)
        inputs[label] = padded if entry.padded else x
        for _ in range(warmup):
            model.train_on_batch(inputs[label], y)
            model.predict_on_batch(inputs[label])
        build_seconds[label] = time.perf_counter() - start
        models[label] = model
        log(f"  warmed up {label:<18} in {build_seconds[label]:.1f}s", flush=True)
    # Building later models can invalidate earlier models' traced steps (global seed state), so
    # every model steps once more before the timed rounds start.
    for label, model in models.items():
        model.train_on_batch(inputs[label], y)
        model.predict_on_batch(inputs[label])
    train_times = {label: [] for label in models}
    infer_times = {label: [] for label in models}
    order = list(models)
    shuffler = np.random.default_rng(0)
    for _ in range(rounds):  # interleaved: each round times every variant once, in a new order
        shuffler.shuffle(order)
        for label in order:
            model = models[label]
            start = time.perf_counter()
            model.train_on_batch(inputs[label], y)
            train_times[label].append(time.perf_counter() - start)
            start = time.perf_counter()
            np.asarray(model.predict_on_batch(inputs[label]))
            infer_times[label].append(time.perf_counter() - start)
    limit = _matmul_limit(batch, steps, input_dim, units)
    rows, flops_of = [], {}
    variant_of = {entry.label: entry.variant for entry in entries}
    for label, variant, *_ in entries:
        train = statistics.median(train_times[label])
        infer = statistics.median(infer_times[label])
        flops = flops_of[label] = _recurrent_flops(variant, steps, batch, input_dim, units)
        rows.append({
            "variant": label, "batch": batch, "steps": steps, "input_dim": input_dim, "units": units,
            "parameters": int(models[label].count_params()),
            "train_ms": 1000 * train, "infer_ms": 1000 * infer,
            "train_gflops": 3 * flops / train / 1e9, "infer_gflops": flops / infer / 1e9,
            "matmul_gflops": limit / 1e9, "train_efficiency": 3 * flops / train / limit,
            "slowest_over_median": max(max(train_times[label]) / train, max(infer_times[label]) / infer),
            "warmup_seconds": build_seconds[label],
        })
    for row in rows:
        label = row["variant"]
        recurrent = next(layer for layer in models[label].layers if hasattr(layer, "runs_as"))  # after a Masking
        row["runs_as"] = recurrent.runs_as
        row["jit_compile"] = bool(models[label].jit_compile)
        row["dtype_policy"] = recurrent.dtype_policy.name
        for reference in OTHER_REFERENCES:  # the modern cells' targets are against these
            row[f"train_vs_{reference}"] = (paired_ratio(train_times[label], train_times[reference])[0]
                                           if reference in train_times else float("nan"))
        for key, reference in (("train_vs_torch_nn", _torch_reference(row["variant"], variant_of[label])),
                               ("train_vs_keras_lstm", keras_lstm_reference(variant_of[label]))):  # torch's targets
            row[key] = (paired_ratio(train_times[label], train_times[reference])[0]
                        if reference in train_times else float("nan"))
        if "lstm" not in train_times:  # no reference timed at this shape
            row.update(dict.fromkeys(("train_vs_lstm", "train_vs_lstm_low", "train_vs_lstm_high", "infer_vs_lstm",
                                      "work_vs_lstm"), float("nan")))
            continue
        # Each round's time over lstm's time in the same round, then the median over rounds:
        # a slow spell of the machine hits both sides of a ratio, not one.
        row["train_vs_lstm"], row["train_vs_lstm_low"], row["train_vs_lstm_high"] = paired_ratio(
            train_times[label], train_times["lstm"])
        row["infer_vs_lstm"] = paired_ratio(infer_times[label], infer_times["lstm"])[0]
        # Matmul work (FLOPs) relative to lstm: a variant that does more work may take longer.
        row["work_vs_lstm"] = flops_of[label] / flops_of["lstm"]
    del models
    return rows


def keras_lstm_reference(variant: str) -> str:
    """The label of Keras' own LSTM that a variant is measured against on torch: in both
    directions for a bidirectional twin, which does twice a layer's work."""
    from zoo.registry import get_variant

    return KERAS_BI_LSTM if get_variant(variant).bidirectional else KERAS_LSTM


def _torch_reference(label: str, variant: str) -> str | None:
    """The torch.nn layer a variant's training step is measured against on torch: its own math's
    for lstm, gru and vanilla, torch.nn.LSTM for the rest of the LSTM family."""
    from zoo.registry import get_variant

    if label.startswith("torch.nn") or "[" in label:
        return None
    if variant in TORCH_NN:
        return f"torch.nn.{TORCH_NN[variant]}"
    v = get_variant(variant)
    return "torch.nn.LSTM" if v.family == "lstm" and not v.bidirectional else None


def entries_for(variants, options: bool = True) -> list[Entry]:
    """Every model to time: the variants, the twins that show what a choice is worth and, with
    `options`, the training options (XLA, mixed precision) on a few of them."""
    import keras

    from zoo.layers import make_cell
    from zoo.registry import get_variant

    entries = []
    for variant, reference, _ in MODERN_TARGETS:  # a modern cell is timed beside its reference
        if variant in variants and reference not in variants:
            variants = [*variants, reference]
    for name in variants:
        get_variant(name)
        entries.append(Entry(name, name))
        if name in OWN_CELL_TWINS:
            entries.append(Entry(f"{name}[zoo cell]", name, "zoo"))
        if name in OTHER_LOOP_TWINS:
            other = "stepwise" if make_cell(name, 1).loop() == "sequential" else "sequential"
            entries.append(Entry(f"{name}[{other}]", name, "zoo", {"scan": other}))
        if name in LOG_SPACE_TWINS:
            entries += [Entry(f"{name}[parallel]", name, "zoo", {"scan": "parallel"}),
                        Entry(f"{name}[log_space, parallel]", name, "zoo", {"scan": "parallel", "log_space": True})]
        if name in PADDED_TWINS:
            entries.append(Entry(f"{name}[padded]", name, padded=True))
        if options and name in OPTION_TWINS:
            if keras.backend.backend() == "tensorflow":
                from zoo.device import on_gpu

                jit = not on_gpu()  # Keras' "auto": XLA on a GPU only
                entries.append(Entry(f"{name}[{'xla' if jit else 'no xla'}]", name, jit_compile=jit))
            entries.append(Entry(f"{name}[mixed_float16]", name, mixed_precision=True))
    if "lstm" not in [e.variant for e in entries if e.label == e.variant]:
        entries.insert(0, Entry("lstm", "lstm"))  # the reference of every ratio
    if keras.backend.backend() == "torch":
        timed = {e.variant for e in entries}
        entries += [Entry(f"torch.nn.{kind}", variant, "torch.nn") for variant, kind in TORCH_NN.items()
                    if variant in timed or variant == "lstm"]
        entries.append(Entry(KERAS_LSTM, "lstm", "keras"))
        if any(keras_lstm_reference(e.variant) == KERAS_BI_LSTM for e in entries):
            entries.append(Entry(KERAS_BI_LSTM, "bi-lstm", "keras"))
    return entries


def rounds_at(first_shape: bool, rounds: int) -> int:
    """Timed rounds at a shape: all of them at the first shape, a third (at least 3) elsewhere."""
    return rounds if first_shape else min(rounds, max(3, rounds // 3))
