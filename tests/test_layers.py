"""`zoo.Recurrent`: stacking, states, masking, direction, statefulness and argument errors."""

import keras
import numpy as np
import pytest
from conftest import randomize_weights, to_numpy

import zoo

pytestmark = pytest.mark.backend


def built(name, units=4, input_dim=3, steps=5, **kwargs):
    layer = zoo.recurrent_layer(name, units, **kwargs)
    layer.build((None, steps, input_dim))
    return layer


def test_stack_has_one_level_per_layer_and_returns_every_levels_state(rng):
    layer = built("peephole", num_layers=3, return_state=True)
    assert len(layer.levels) == 3
    out = layer(rng.normal(size=(2, 5, 3)).astype("float32"))
    assert len(out) == 1 + 3 * 2  # output, then (h, c) of each level
    np.testing.assert_allclose(to_numpy(out[0]), to_numpy(out[-2]), rtol=1e-6)  # last h is the output


def test_bidirectional_stack_state_count(rng):
    layer = built("bi-gru", num_layers=2, return_state=True, merge_mode="sum")
    out = layer(rng.normal(size=(2, 5, 3)).astype("float32"))
    assert len(out) == 1 + 2 * 2 and out[0].shape == (2, 4)


def test_dropout_acts_between_levels_only_in_training(rng):
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    layer = built("lstm", num_layers=2, dropout=0.5)
    a, b = to_numpy(layer(x, training=False)), to_numpy(layer(x, training=False))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(to_numpy(layer(x, training=True)), a)
    assert built("lstm", num_layers=1, dropout=0.5).dropouts == [None]  # nothing after the last level


@pytest.mark.parametrize("name", ["lstm", "cifg", "bi-gru", "vanilla", "fgr"])
def test_masked_padding_changes_nothing(name, rng):
    x = rng.normal(size=(1, 4, 3)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 3, 3), "float32")], axis=1)
    layer = built(name, steps=None)
    randomize_weights(layer, rng)
    plain = to_numpy(layer(x))
    mask = keras.ops.convert_to_tensor(np.array([[True] * 4 + [False] * 3]))
    np.testing.assert_allclose(to_numpy(layer(padded, mask=mask)), plain, rtol=1e-5, atol=1e-6)
    assert not np.allclose(to_numpy(layer(padded)), plain)  # without the mask the padding counts


def test_masking_layer_mask_reaches_the_recurrent_layer(rng):
    x = rng.normal(size=(1, 4, 3)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 2, 3), "float32")], axis=1)
    inputs = keras.Input((None, 3))
    outputs = zoo.recurrent_layer("peephole", 4)(keras.layers.Masking(0.0)(inputs))
    model = keras.Model(inputs, outputs)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["peephole", "gru"])
def test_go_backwards_reads_the_reversed_sequence(name, rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    forward = built(name)
    backward = built(name, go_backwards=True)
    randomize_weights(forward, rng)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(to_numpy(backward(x)), to_numpy(forward(x[:, ::-1])), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["lstm", "nog"])
def test_stateful_carries_state_across_batches(name, rng):
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    whole = zoo.recurrent_layer(name, 4)
    whole.build((2, 6, 3))
    randomize_weights(whole, rng)
    stateful = zoo.recurrent_layer(name, 4, stateful=True)
    stateful.build((2, 3, 3))
    stateful.set_weights(whole.get_weights())
    stateful(x[:, :3])
    np.testing.assert_allclose(to_numpy(stateful(x[:, 3:])), to_numpy(whole(x)), rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(to_numpy(stateful(x[:, :3])), to_numpy(whole(x[:, :3])), rtol=1e-5, atol=1e-6)


def test_initial_state_is_used_and_checked(rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    layer = built("peephole", num_layers=2)
    zeros = [np.zeros((2, 4), "float32")] * 4
    ones = [np.ones((2, 4), "float32")] * 4
    np.testing.assert_allclose(to_numpy(layer(x, initial_state=zeros)), to_numpy(layer(x)), rtol=1e-6)
    assert not np.allclose(to_numpy(layer(x, initial_state=ones)), to_numpy(layer(x)))
    with pytest.raises(ValueError, match="needs 4 tensors"):
        layer(x, initial_state=zeros[:2])


def test_recurrent_works_inside_keras_bidirectional(rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    layer = keras.layers.Bidirectional(zoo.recurrent_layer("cifg", 4, num_layers=2))
    assert layer(x).shape == (2, 8)


def test_builtin_used_where_math_matches():
    assert isinstance(built("lstm").levels[0], keras.layers.LSTM)
    assert isinstance(built("gru").levels[0], keras.layers.GRU)
    assert isinstance(built("vanilla").levels[0], keras.layers.SimpleRNN)
    assert isinstance(built("bi-lstm").levels[0].forward_layer, keras.layers.LSTM)
    own = built("lstm", implementation="zoo").levels[0]
    assert isinstance(own, keras.layers.RNN) and isinstance(own.cell, zoo.GatedCell)
    # An option that changes the math leaves the built-in layer behind.
    assert isinstance(built("lstm", cell_options={"peepholes": True}).levels[0].cell, zoo.GatedCell)
    with pytest.raises(ValueError, match="no Keras built-in layer"):
        built("peephole", implementation="builtin")


def test_none_options_fall_back_to_variant_defaults():
    layer = built("cifg", cell_options={"peepholes": None, "coupled": None})
    assert layer.levels[0].cell.coupled and layer.levels[0].cell.peepholes
    assert not built("cifg", cell_options={"peepholes": False}).levels[0].cell.peephole


# --- bad input: clear errors at build time ---------------------------------------------------

def test_unknown_variant_lists_valid_names_and_suggests_closest():
    with pytest.raises(ValueError) as info:
        zoo.recurrent_layer("lsmt", 4)
    message = str(info.value)
    assert "'lsmt'" in message and "Did you mean 'lstm'" in message and "peephole" in message and "bi-gru" in message


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"units": 0}, r"units=0"),
        ({"units": -3}, r"units=-3"),
        ({"units": 2.5}, r"units=2.5"),
        ({"num_layers": 0}, r"num_layers=0"),
        ({"dropout": 1.0}, r"dropout=1.0"),
        ({"dropout": -0.1}, r"dropout=-0.1"),
        ({"merge_mode": "avg"}, r"merge_mode='avg'.*concat, sum, ave, mul|concat, sum, ave, mul.*merge_mode='avg'"),
        ({"implementation": "cudnn"}, r"implementation='cudnn'"),
        ({"cell_options": {"peepholez": True}}, r"'peepholez'.*valid options:.*peepholes"),
        ({"cell_options": {"input_activation": "relu"}}, r"input_activation='relu'"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, pattern):
    args = {"units": 4, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        zoo.recurrent_layer("bi-peephole", **args)


def test_wrong_input_rank_raises_at_build():
    with pytest.raises(ValueError, match=r"rank 3.*rank 2"):
        zoo.recurrent_layer("peephole", 4)(np.zeros((2, 3), "float32"))


def test_list_and_get_variants():
    assert zoo.list_variants("*lstm*") == ["bi-lstm", "bi-minlstm", "bi-mlstm", "bi-slstm", "lstm", "minlstm",
                                           "mlstm", "slstm"]
    modern = {"irnn", "mingru", "minlstm", "indrnn", "mut1", "mut2", "mut3", "lru", "slstm", "mlstm", "rglru"}
    assert set(zoo.list_variants(tag="modern")) == modern | {f"bi-{n}" for n in modern}
    assert set(zoo.list_variants(tag="core")) == {"vanilla", "lstm", "peephole", "cifg", "gru", "bi-lstm"}
    assert {"nig", "nfg", "nog", "niaf", "noaf", "fgr", "cifg", "lstm", "peephole"} <= set(zoo.list_variants(tag="greff"))
    assert zoo.get_variant("np").name == "lstm"  # Greff's NP is the plain LSTM
    assert zoo.get_variant("BI_GRU").name == "bi-gru"
    for name in zoo.list_variants():
        v = zoo.get_variant(name)
        assert v.description and v.citation and v.equations


def _traced_ops(layer, steps):
    """Operation names of the traced forward and input-gradient computation of `layer` over
    `steps` time steps: the top level of a JAX jaxpr, every op of a TensorFlow graph, or (torch,
    which runs eagerly) every node of the autograd graph of the output."""
    x = np.zeros((2, steps, 3), "float32")
    if keras.backend.backend() == "torch":
        import torch

        nodes, seen, todo = [], set(), [layer(torch.tensor(x, requires_grad=True)).grad_fn]
        while todo:
            node = todo.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            sizes = tuple(getattr(node, "_saved_self_sym_sizes", ()) or ())
            nodes.append(f"{type(node).__name__}{'(sequence)' if steps in sizes else ''}")
            todo.extend(next_node for next_node, _ in node.next_functions)
        return nodes
    if keras.backend.backend() == "jax":
        import jax

        def forward_and_grad(x):
            return layer(x), jax.grad(lambda x: keras.ops.sum(layer(x)))(x)

        return [e.primitive.name for e in jax.make_jaxpr(forward_and_grad)(x).jaxpr.eqns]
    import tensorflow as tf

    @tf.function
    def forward_and_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return y, tape.gradient(tf.reduce_sum(y), x)

    return [op.type for op in forward_and_grad.get_concrete_function(tf.TensorSpec(x.shape)).graph.get_operations()]


@pytest.mark.parametrize("name", [n for n in zoo.list_variants() if not zoo.get_variant(n).bidirectional] + ["bi-cifg"])
def test_zoo_cells_compile_into_one_loop_whatever_the_length(name):
    """The time loop is one scan / while op, forward and backward: the traced program is the same
    size at 5 and at 40 steps (no Python loop unrolled per step). A parallel form (the mLSTM's
    by default on a CPU) has no time loop at all."""
    layer = built(name, implementation="zoo")
    if keras.backend.backend() == "torch":
        # Eager: the graph grows with the steps, but no step is read by indexing the sequence (the
        # backward pass of each index makes a zero tensor of the whole sequence: quadratic cost).
        short, long = _traced_ops(layer, 13), _traced_ops(layer, 37)
        indexing = ("SelectBackward0", "IndexBackward0", "SliceBackward0", "AsStridedBackward0")
        per_sequence = [[n for n in nodes if n.endswith("(sequence)") and n.startswith(indexing)]
                        for nodes in (short, long)]
        assert per_sequence[0] == per_sequence[1], per_sequence
        assert len(long) < 3 * len(short)  # 37 / 13 of the steps: the graph grows linearly
        return
    short, long = _traced_ops(layer, 5), _traced_ops(layer, 40)
    loops = [op for op in short if op in ("scan", "while", "While", "StatelessWhile")]
    level = layer.levels[0]
    cell = (level.forward_layer if zoo.get_variant(name).bidirectional else level).cell
    if getattr(cell, "loop", lambda: None)() == "parallel":
        assert not loops, f"a parallel form traced a time loop: {sorted(set(short))}"
    else:
        assert loops, f"no loop primitive in the traced program: {sorted(set(short))}"
    assert len(short) == len(long)


@pytest.mark.parametrize("name, implementation", [("lstm", "auto"), ("peephole", "zoo"), ("bi-gru", "zoo"),
                                                  ("vanilla", "auto")])
def test_dtype_policy_given_to_the_layer_reaches_every_level(name, implementation, rng):
    """`dtype="mixed_float16"` computes in float16 with float32 weights, close to float32."""
    x = rng.normal(size=(4, 6, 3)).astype("float32")
    full = built(name, num_layers=2, dropout=0.1, implementation=implementation, return_sequences=True, steps=6)
    randomize_weights(full, rng)
    mixed = built(name, num_layers=2, dropout=0.1, implementation=implementation, return_sequences=True, steps=6,
                  dtype="mixed_float16")
    mixed.set_weights(full.get_weights())
    out = mixed(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert {keras.backend.standardize_dtype(w.dtype) for w in mixed.weights} == {"float32"}
    np.testing.assert_allclose(to_numpy(out, "float32"), to_numpy(full(x)), atol=1e-2)
    reloaded = zoo.Recurrent.from_config(mixed.get_config())
    assert reloaded.dtype_policy.name == "mixed_float16"
