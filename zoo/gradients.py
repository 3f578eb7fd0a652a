"""Gradient flow through time: how much the loss at the end of a sequence still feels each step.

The norm of the loss gradient with respect to the input at step t, ||dL/dx_t||, against the
step's distance from the loss (T - t + 1). Through a recurrent layer dL/dx_t = dL/dh_t dh_t/dx_t,
so its decay with distance is the vanishing gradient. A gated cell (LSTM, GRU) can keep it up
for as long as its gates stay near 1 on the path that carries it, which training must learn (at
initialisation its gates sit near 0.5 to 0.73 and its gradient falls fast); an IRNN (ReLU,
identity recurrence) is held up by its initialisation.

    >>> norms = flow("lstm", T=50, train_steps=0)  # doctest: +SKIP
    >>> norms["initial"].shape
    (50,)

`python -m zoo gradients vanilla irnn lstm gru --T 200` plots it at initialisation and after
a short training on the adding problem.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.checks import positive_int

__all__ = ["adding_problem", "input_gradients", "step_norms", "flow"]


def adding_problem(n: int, T: int, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997): x (n, T, 2) holds values uniform in
    [0, 1) and markers at two distinct random positions; y (n, 1) is the sum of the marked values.
    `rng`: a seed or a numpy Generator (drawn from in place)."""
    rng = np.random.default_rng(rng)
    values = rng.random((n, T)).astype("float32")
    positions = np.argsort(rng.random((n, T)), axis=1)[:, :2]
    markers = np.zeros((n, T), "float32")
    np.put_along_axis(markers, positions, 1.0, axis=1)
    return np.stack([values, markers], axis=-1), (values * markers).sum(axis=1, keepdims=True)


def input_gradients(model: keras.Model, x, y, loss=None) -> np.ndarray:
    """dL/dx for a batch: the gradient of the mean loss with respect to every input value, the
    shape of `x`. `loss` defaults to the mean squared error. TensorFlow, JAX and PyTorch."""
    loss = keras.losses.get(loss or "mean_squared_error")
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y, dtype="float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            value = keras.ops.mean(loss(y, model(inputs, training=False)))
        return np.asarray(tape.gradient(value, inputs))
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        fixed = [v.value for v in model.non_trainable_variables]

        def value(inputs):
            outputs, _ = model.stateless_call(trainable, fixed, inputs, training=False)
            return keras.ops.mean(loss(y, outputs))

        return np.asarray(jax.grad(value)(x))
    if backend == "torch":
        import torch

        inputs = torch.tensor(x, requires_grad=True)
        keras.ops.mean(loss(torch.tensor(y), model(inputs, training=False))).backward()
        return inputs.grad.detach().cpu().numpy()
    raise ValueError(f"input gradients need the tensorflow, jax or torch backend, not {backend!r}")


def step_norms(gradients: np.ndarray) -> np.ndarray:
    """(batch, T, features) -> (T,): the norm over features at each step, averaged over the batch."""
    return np.linalg.norm(np.asarray(gradients), axis=-1).mean(axis=0)


def flow(variant, *, T: int = 200, units: int = 64, batch: int = 64, train_steps: int = 200,
         learning_rate: float = 1e-3, clipnorm: float | None = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Step norms of `variant` on the adding problem at initialisation and after `train_steps`
    updates (Adam; clipped to `clipnorm`, None for no clipping): {"initial": (T,), "trained": (T,),
    "final_loss": ()}. Index 0 is the first step, the farthest from the loss."""
    from zoo.models import many_to_one

    positive_int("T", T)
    positive_int("units", units)
    positive_int("batch", batch)
    if isinstance(train_steps, bool) or not isinstance(train_steps, int) or train_steps < 0:
        raise ValueError(f"train_steps must be an integer >= 0, got {train_steps!r}")
    keras.utils.set_random_seed(seed)
    model = many_to_one(variant, 1, input_dim=2, units=units, timesteps=T, output_activation=None)
    probe_x, probe_y = adding_problem(batch, T, 10_000 + seed)
    result = {"initial": step_norms(input_gradients(model, probe_x, probe_y))}
    if train_steps:
        x, y = adding_problem(batch * train_steps, T, seed)
        options = {"clipnorm": clipnorm} if clipnorm else {}
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, **options), loss="mse")
        history = model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        result["final_loss"] = np.asarray(history.history["loss"][-1])
    result["trained"] = step_norms(input_gradients(model, probe_x, probe_y))
    return result


def plot_flow(curves: dict, path, title: str = "Gradient flow") -> None:
    """Plot step norms against distance from the loss, log scale, one line per variant, one panel
    per stage: `curves[variant] = {"initial": norms, "trained": norms}` (first step first; a
    variant's norms may be a list of seeds' curves, then their geometric mean is drawn).
    Needs matplotlib."""
    from zoo.plotting import pyplot

    plt = pyplot()

    stages = [s for s in ("initial", "trained") if any(s in c for c in curves.values())]
    fig, axes = plt.subplots(1, len(stages), figsize=(5.5 * len(stages), 4), sharey=True, squeeze=False)
    for ax, stage in zip(axes[0], stages):
        for variant, curve in curves.items():
            if stage not in curve:
                continue
            norms = np.asarray(curve[stage], dtype=float)
            if norms.ndim == 2:  # seeds x steps
                norms = np.exp(np.log(np.maximum(norms, 1e-30)).mean(axis=0))
            distance = np.arange(len(norms), 0, -1)  # the last step is 1 step from the loss
            ax.plot(distance, np.maximum(norms, 1e-30), label=variant)
        ax.set_yscale("log")
        ax.set_xlabel("steps between the input and the loss")
        ax.set_title("at initialisation" if stage == "initial" else "after training")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("||dL/dx_t|| (mean over a batch)")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
