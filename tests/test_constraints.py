"""Weight constraints (easynn.constraints) against NumPy computed by hand on Keras-layout weights,
their configs, and the optimizers that apply them after each update.

Keras's formulas (epsilon 1e-7, norms over ``axis`` of the Keras-layout weight):
MaxNorm ``w * clip(n, 0, m) / (eps + n)``; MinMaxNorm ``w * (rate * clip(n, lo, hi) + (1 - rate) * n)
/ (eps + n)``; NonNeg ``w * (w >= 0)``; UnitNorm ``w / (eps + n)``.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import easynn
from easynn import constraints
from easynn.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from easynn.layers import (
    GRU,
    LSTM,
    RNN,
    BatchNormalization,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    DepthwiseConv2D,
    EinsumDense,
    Embedding,
    Flatten,
    Input,
    LayerNormalization,
    LSTMCell,
    MultiHeadAttention,
    PReLU,
    SeparableConv2D,
    SimpleRNN,
)

EPS = 1e-7


@pytest.fixture(autouse=True)
def seed():
    easynn.utils.set_random_seed(0)


# --------------------------------------------------------------------------- NumPy by hand
def _np_norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=tuple(np.atleast_1d(axis)), keepdims=True))


def np_max_norm(w, max_value=2.0, axis=0):
    n = _np_norms(w, axis)
    return w * (np.clip(n, 0, max_value) / (EPS + n))


def np_min_max_norm(w, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
    n = _np_norms(w, axis)
    return w * ((rate * np.clip(n, min_value, max_value) + (1 - rate) * n) / (EPS + n))


def np_non_neg(w):
    return w * (w >= 0)


def np_unit_norm(w, axis=0):
    return w / (EPS + _np_norms(w, axis))


def _apply(constraint, w):
    return constraint(torch.as_tensor(w, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_max_norm_matches_numpy_on_a_dense_kernel(axis):
    w = np.random.default_rng(1).normal(size=(5, 4)) * 2
    got = _apply(MaxNorm(1.5, axis=axis), w)
    np.testing.assert_allclose(got, np_max_norm(w, 1.5, axis), rtol=1e-12)
    assert np.all(_np_norms(got, axis) <= 1.5 + 1e-9)


def test_max_norm_on_a_keras_conv_kernel_bounds_each_filter():
    w = np.random.default_rng(2).normal(size=(3, 3, 2, 4))  # (kh, kw, in, out)
    got = _apply(MaxNorm(1.0, axis=[0, 1, 2]), w)
    np.testing.assert_allclose(got, np_max_norm(w, 1.0, [0, 1, 2]), rtol=1e-12)
    filter_norms = np.sqrt((got**2).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(filter_norms, np.minimum(np.sqrt((w**2).sum(axis=(0, 1, 2))), 1.0), rtol=1e-6)


@pytest.mark.parametrize("rate", [1.0, 0.5, 0.0])
def test_min_max_norm_matches_numpy(rate):
    w = np.random.default_rng(3).normal(size=(4, 6)) * np.array([0.01, 0.1, 0.5, 1.0, 3.0, 10.0])
    got = _apply(MinMaxNorm(0.5, 2.0, rate=rate, axis=0), w)
    np.testing.assert_allclose(got, np_min_max_norm(w, 0.5, 2.0, rate, 0), rtol=1e-12)


def test_non_neg_and_unit_norm_match_numpy():
    w = np.random.default_rng(4).normal(size=(3, 5))
    np.testing.assert_array_equal(_apply(NonNeg(), w), np_non_neg(w))
    np.testing.assert_allclose(_apply(UnitNorm(), w), np_unit_norm(w, 0), rtol=1e-12)
    np.testing.assert_allclose(_apply(UnitNorm(axis=1), w), np_unit_norm(w, 1), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(_apply(UnitNorm(axis=1), w), axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("constraint", [MaxNorm(), MinMaxNorm(), MinMaxNorm(0.5, 1.0), NonNeg(), UnitNorm()])
def test_all_zero_weights_give_no_nan(constraint):
    out = constraint(torch.zeros(3, 2))
    assert torch.isfinite(out).all() and (out == 0).all()


def test_base_constraint_is_the_identity_and_keeps_float32():
    w = torch.randn(2, 3)
    assert Constraint()(w) is w
    assert MaxNorm(0.1)(w).dtype == torch.float32


# --------------------------------------------------------------------------- config, get, errors
@pytest.mark.parametrize(
    "constraint",
    [MaxNorm(3, axis=[0, 1, 2]), MinMaxNorm(0.1, 0.9, rate=0.5, axis=1), NonNeg(), UnitNorm(axis=-1), Constraint()],
)
def test_config_round_trip(constraint):
    config = constraint.get_config()
    rebuilt = type(constraint).from_config(config)
    assert rebuilt.get_config() == config
    serialized = constraints.serialize(constraint)
    assert serialized == {"class_name": type(constraint).__name__, "config": config}
    for restored in (constraints.get(serialized), constraints.deserialize(serialized)):
        assert type(restored) is type(constraint) and restored.get_config() == config
    w = torch.randn(3, 4, 5)
    np.testing.assert_array_equal(constraints.get(serialized)(w).numpy(), constraint(w).numpy())


def test_get_names_aliases_classes_and_callables():
    assert constraints.get(None) is None
    assert constraints.max_norm is MaxNorm and constraints.non_neg is NonNeg
    assert constraints.min_max_norm is MinMaxNorm and constraints.unit_norm is UnitNorm
    for name, cls in [
        ("max_norm", MaxNorm),
        ("MaxNorm", MaxNorm),
        ("min_max_norm", MinMaxNorm),
        ("non_neg", NonNeg),
        ("NonNeg", NonNeg),
        ("unit_norm", UnitNorm),
    ]:
        assert type(constraints.get(name)) is cls
    assert constraints.get("max_norm").get_config() == {"max_value": 2.0, "axis": 0}  # Keras's defaults
    assert type(constraints.get(UnitNorm)) is UnitNorm
    instance = MaxNorm(1.0)
    assert constraints.get(instance) is instance

    def clip(w):
        return w.clamp(-1, 1)

    assert constraints.get(clip) is clip and constraints.serialize(clip) is clip
    assert constraints.serialize(None) is None


def test_get_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"Unknown constraint 'maxnorm' for `kernel_constraint`.*max_norm"):
        constraints.get("maxnorm", argument="kernel_constraint")
    with pytest.raises(TypeError, match=r"`constraint`.*Received: constraint=3"):
        constraints.get(3)
    with pytest.raises(ValueError, match="Unknown constraint class 'Nope'"):
        constraints.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="kernel_constraint"):
        Dense(2, kernel_constraint="maxnorm")
    with pytest.raises(TypeError, match="bias_constraint"):
        Conv2D(2, 3, bias_constraint=0.5)
    with pytest.raises(ValueError, match="recurrent_constraint"):
        LSTM(2, recurrent_constraint="unit")
    with pytest.raises(ValueError, match="gamma_constraint"):
        BatchNormalization(gamma_constraint="x")


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="axis"):
        MaxNorm(axis="0")
    with pytest.raises(TypeError, match="axis"):
        UnitNorm(axis=[])
    with pytest.raises(ValueError, match="max_value"):
        MaxNorm(-1.0)
    with pytest.raises(TypeError, match="max_value"):
        MaxNorm("2")
    with pytest.raises(ValueError, match="min_value"):
        MinMaxNorm(2.0, 1.0)
    with pytest.raises(ValueError, match="rate"):
        MinMaxNorm(rate=1.5)
    with pytest.raises(ValueError, match=r"`axis` \[0, 2\] is out of range.*\(3, 4\)"):
        MaxNorm(axis=[0, 2])(torch.ones(3, 4))


# --------------------------------------------------------------------------- variables
def test_variable_constraint_attribute():
    layer = Dense(2, kernel_constraint=MaxNorm(1.0))
    layer(torch.zeros(1, 3))
    assert isinstance(layer.kernel.constraint, MaxNorm) and layer.bias.constraint is None
    assert easynn.Variable("zeros", shape=(2,)).constraint is None
    with pytest.raises(TypeError, match="constraint"):
        layer.bias.constraint = 1.0
    assert copy.deepcopy(layer).kernel.constraint.get_config() == {"max_value": 1.0, "axis": 0}
    assert pickle.loads(pickle.dumps(layer.kernel)).constraint.get_config() == {"max_value": 1.0, "axis": 0}


def test_add_weight_constraint_of_a_custom_layer():
    class Scale(easynn.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", constraint="non_neg")

        def call(self, x):
            return x * self.w

    layer = Scale()
    layer(torch.ones(1, 3))
    assert isinstance(layer.w.constraint, NonNeg)
    opt = easynn.optimizers.SGD(learning_rate=1.0)
    opt.apply([torch.tensor([2.0, -1.0, 0.5])], [layer.w])
    np.testing.assert_allclose(layer.w.detach().numpy(), [0.0, 2.0, 0.5])


# --------------------------------------------------------------------------- one update, per layer
def _step(layer, inputs, lr):
    opt = easynn.optimizers.SGD(learning_rate=lr)
    out = layer(*inputs)
    out = out[0] if isinstance(out, (list, tuple)) else out
    opt.build(layer.trainable_weights)
    target = torch.randn(out.shape, generator=torch.Generator().manual_seed(5)) * 3
    ((out.float() - target) ** 2).sum().backward()
    opt.step()


CASES = [
    # (name, factory(constraint_kwargs), inputs, {kwarg: (constraint, weight index, numpy fn)})
    (
        "dense",
        lambda **k: Dense(3, **k),
        lambda: [torch.randn(4, 5)],
        {
            "kernel_constraint": (MaxNorm(0.3), 0, lambda w: np_max_norm(w, 0.3, 0)),
            "bias_constraint": (NonNeg(), 1, np_non_neg),
        },
    ),
    (
        "conv2d",
        lambda **k: Conv2D(4, 3, **k),
        lambda: [torch.randn(2, 5, 5, 3)],
        {"kernel_constraint": (MaxNorm(0.2, axis=[0, 1, 2]), 0, lambda w: np_max_norm(w, 0.2, [0, 1, 2]))},
    ),
    (
        "conv2d_channels_first",
        lambda **k: Conv2D(2, 2, data_format="channels_first", **k),
        lambda: [torch.randn(2, 3, 4, 4)],
        {"kernel_constraint": (UnitNorm(axis=[0, 1, 2]), 0, lambda w: np_unit_norm(w, [0, 1, 2]))},
    ),
    (
        "conv1d",
        lambda **k: Conv1D(2, 3, **k),
        lambda: [torch.randn(2, 6, 3)],
        {"kernel_constraint": (UnitNorm(axis=[0, 1]), 0, lambda w: np_unit_norm(w, [0, 1]))},
    ),
    (
        "conv2d_transpose",
        lambda **k: Conv2DTranspose(3, 2, strides=2, **k),
        lambda: [torch.randn(2, 3, 3, 2)],
        {"kernel_constraint": (UnitNorm(axis=[0, 1, 2]), 0, lambda w: np_unit_norm(w, [0, 1, 2]))},
    ),
    (
        "depthwise",
        lambda **k: DepthwiseConv2D(3, depth_multiplier=2, **k),
        lambda: [torch.randn(2, 5, 5, 3)],
        {"depthwise_constraint": (UnitNorm(axis=[0, 1]), 0, lambda w: np_unit_norm(w, [0, 1]))},
    ),
    (
        "separable",
        lambda **k: SeparableConv2D(4, 3, depth_multiplier=2, **k),
        lambda: [torch.randn(2, 5, 5, 3)],
        {
            "depthwise_constraint": (MaxNorm(0.1, axis=[0, 1]), 0, lambda w: np_max_norm(w, 0.1, [0, 1])),
            "pointwise_constraint": (UnitNorm(axis=[0, 1, 2]), 1, lambda w: np_unit_norm(w, [0, 1, 2])),
        },
    ),
    (
        "embedding",
        lambda **k: Embedding(10, 4, **k),
        lambda: [torch.randint(0, 10, (4, 3))],
        {"embeddings_constraint": (UnitNorm(axis=1), 0, lambda w: np_unit_norm(w, 1))},
    ),
    (
        "prelu",
        lambda **k: PReLU(alpha_initializer="ones", **k),
        lambda: [torch.randn(4, 5) - 1.0],
        {"alpha_constraint": (MinMaxNorm(0.5, 1.0, rate=0.5), 0, lambda w: np_min_max_norm(w, 0.5, 1.0, 0.5, 0))},
    ),
    (
        "batchnorm",
        lambda **k: BatchNormalization(**k),
        lambda: [torch.randn(8, 3) * 3 + 1],
        {
            "gamma_constraint": (MaxNorm(0.5), 0, lambda w: np_max_norm(w, 0.5, 0)),
            "beta_constraint": (NonNeg(), 1, np_non_neg),
        },
    ),
    (
        "layernorm",
        lambda **k: LayerNormalization(**k),
        lambda: [torch.randn(4, 6)],
        {
            "gamma_constraint": (UnitNorm(), 0, lambda w: np_unit_norm(w, 0)),
            "beta_constraint": (NonNeg(), 1, np_non_neg),
        },
    ),
    (
        "einsum_dense",
        lambda **k: EinsumDense("ab,bc->ac", 3, bias_axes="c", **k),
        lambda: [torch.randn(4, 5)],
        {
            "kernel_constraint": (MaxNorm(0.2), 0, lambda w: np_max_norm(w, 0.2, 0)),
            "bias_constraint": (NonNeg(), 1, np_non_neg),
        },
    ),
    (
        "mha",
        lambda **k: MultiHeadAttention(2, 2, **k),
        lambda: [torch.randn(2, 3, 4), torch.randn(2, 5, 4)],
        {"kernel_constraint": (MaxNorm(0.2), (0, 2, 4, 6), lambda w: np_max_norm(w, 0.2, 0))},
    ),  # q, k, v, output
    (
        "lstm",
        lambda **k: LSTM(3, **k),
        lambda: [torch.randn(2, 4, 5)],
        {
            "kernel_constraint": (MaxNorm(0.3), 0, lambda w: np_max_norm(w, 0.3, 0)),
            "recurrent_constraint": (UnitNorm(axis=1), 1, lambda w: np_unit_norm(w, 1)),
            "bias_constraint": (NonNeg(), 2, np_non_neg),
        },
    ),
    (
        "gru",
        lambda **k: GRU(3, **k),
        lambda: [torch.randn(2, 4, 5)],
        {
            "kernel_constraint": (MaxNorm(0.3), 0, lambda w: np_max_norm(w, 0.3, 0)),
            "bias_constraint": (MaxNorm(0.05, axis=1), 2, lambda w: np_max_norm(w, 0.05, 1)),
        },
    ),
    (
        "simple_rnn",
        lambda **k: SimpleRNN(3, **k),
        lambda: [torch.randn(2, 4, 5)],
        {"recurrent_constraint": (MaxNorm(0.2, axis=1), 1, lambda w: np_max_norm(w, 0.2, 1))},
    ),
    (
        "lstm_cell",
        lambda **k: RNN(LSTMCell(3, **k)),
        lambda: [torch.randn(2, 4, 5)],
        {"kernel_constraint": (MaxNorm(0.3), 0, lambda w: np_max_norm(w, 0.3, 0))},
    ),
]


@pytest.mark.parametrize("name, factory, inputs, specs", CASES, ids=[c[0] for c in CASES])
def test_one_update_then_the_constraint_on_the_keras_layout(name, factory, inputs, specs):
    """A constrained layer after one SGD step equals the NumPy constraint of the same layer's
    unconstrained step, computed on get_weights() (Keras's layout)."""
    x = inputs()
    plain = factory()
    constrained = factory(**{k: c for k, (c, _, _) in specs.items()})
    plain(*x)
    constrained(*x)
    constrained.set_weights(plain.get_weights())
    _step(plain, x, lr=1.0)
    _step(constrained, x, lr=1.0)
    after_plain, after = plain.get_weights(), constrained.get_weights()
    touched = set()
    for _, indices, fn in specs.values():
        for index in np.atleast_1d(indices):
            expected = fn(after_plain[index].astype(np.float64))
            np.testing.assert_allclose(after[index], expected, rtol=2e-5, atol=1e-6)
            assert not np.allclose(after[index], after_plain[index], atol=1e-5), "the constraint did not act"
            touched.add(index)
    for index in set(range(len(after))) - touched:
        np.testing.assert_array_equal(after[index], after_plain[index])
    config = (constrained.cell if isinstance(constrained, RNN) else constrained).get_config()
    for kwarg, (constraint, _, _) in specs.items():
        assert config[kwarg] == constraints.serialize(constraint)
    rebuilt = type(constrained).from_config(constrained.get_config())
    assert rebuilt.get_config() == constrained.get_config()


# --------------------------------------------------------------------------- training with fit
def _data(n=32, features=4, units=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype("float32") * 3, rng.normal(size=(n, units)).astype("float32") * 5


def _fit_dense(**kwargs):
    easynn.utils.set_random_seed(0)
    model = easynn.Sequential([Input(shape=(4,)), Dense(3, **kwargs)])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.5), loss="mse", device="cpu")
    model.fit(*_data(), epochs=3, batch_size=8, verbose=0, shuffle=False)
    return model


def test_fit_with_max_norm_keeps_every_column_norm_bounded():
    free = _fit_dense().get_weights()[0]
    assert np.linalg.norm(free, axis=0).max() > 1.0  # without the constraint the norms grow
    kernel = _fit_dense(kernel_constraint=MaxNorm(0.5)).get_weights()[0]
    assert np.linalg.norm(kernel, axis=0).max() <= 0.5 + 1e-6


def test_fit_with_non_neg_keeps_weights_non_negative():
    assert _fit_dense().get_weights()[0].min() < 0
    kernel, bias = _fit_dense(kernel_constraint="non_neg", bias_constraint=NonNeg()).get_weights()
    assert kernel.min() >= 0 and bias.min() >= 0


def test_fit_without_constraints_is_unchanged():
    reference = _fit_dense().get_weights()
    for kwargs in ({"kernel_constraint": None, "bias_constraint": None}, {"kernel_constraint": Constraint()}):
        for got, want in zip(_fit_dense(**kwargs).get_weights(), reference):
            np.testing.assert_array_equal(got, want)


def test_fit_conv2d_filters_and_embedding_rows():
    rng = np.random.default_rng(1)
    model = easynn.Sequential(
        [Input(shape=(6, 6, 2)), Conv2D(3, 3, kernel_constraint=MaxNorm(0.3, axis=[0, 1, 2])), Flatten(), Dense(2)]
    )
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.5), loss="mse", device="cpu")
    model.fit(
        rng.normal(size=(16, 6, 6, 2)).astype("float32"),
        rng.normal(size=(16, 2)).astype("float32") * 5,
        epochs=2,
        batch_size=8,
        verbose=0,
    )
    kernel = model.layers[0].get_weights()[0]  # (kh, kw, in, out)
    assert kernel.shape == (3, 3, 2, 3)
    assert np.sqrt((kernel**2).sum(axis=(0, 1, 2))).max() <= 0.3 + 1e-6

    model = easynn.Sequential(
        [Input(shape=(3,), dtype="int64"), Embedding(8, 4, embeddings_constraint=UnitNorm(axis=1)), Flatten(), Dense(1)]
    )
    model.compile(optimizer=easynn.optimizers.Adam(learning_rate=0.1), loss="mse", device="cpu")
    model.fit(
        rng.integers(0, 8, size=(16, 3)), rng.normal(size=(16, 1)).astype("float32"), epochs=2, batch_size=8, verbose=0
    )
    np.testing.assert_allclose(np.linalg.norm(model.layers[0].get_weights()[0], axis=1), 1.0, rtol=1e-5)


def test_save_and_load_keep_the_constraints(tmp_path):
    model = easynn.Sequential(
        [
            Input(shape=(5, 5, 2)),
            Conv2D(2, 3, kernel_constraint=MaxNorm(0.4, axis=[0, 1, 2])),
            Flatten(),
            Dense(3, kernel_constraint=UnitNorm(), bias_constraint="non_neg"),
        ]
    )
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = easynn.models.load_model(path)
    conv, dense = loaded.layers[0], loaded.layers[2]
    assert conv.get_config()["kernel_constraint"] == {
        "class_name": "MaxNorm",
        "config": {"max_value": 0.4, "axis": [0, 1, 2]},
    }
    assert isinstance(conv.kernel.constraint, MaxNorm)
    assert isinstance(dense.kernel.constraint, UnitNorm) and isinstance(dense.bias.constraint, NonNeg)
    rng = np.random.default_rng(2)
    loaded.compile(optimizer=easynn.optimizers.SGD(learning_rate=1.0), loss="mse", device="cpu")
    loaded.fit(
        rng.normal(size=(8, 5, 5, 2)).astype("float32"),
        rng.normal(size=(8, 3)).astype("float32") * 5,
        epochs=1,
        verbose=0,
    )
    np.testing.assert_allclose(np.linalg.norm(dense.get_weights()[0], axis=0), 1.0, rtol=1e-5)
    assert dense.get_weights()[1].min() >= 0


# --------------------------------------------------------------------------- optimizer behaviour
def test_constraint_set_after_the_optimizer_is_built_is_applied():
    w = easynn.Variable(torch.tensor([[3.0], [4.0]]))
    opt = easynn.optimizers.SGD(learning_rate=0.0)
    opt.apply([torch.zeros(2, 1)], [w])
    assert w.tolist() == [[3.0], [4.0]]
    w.constraint = MaxNorm(1.0)
    opt.apply([torch.zeros(2, 1)], [w])
    np.testing.assert_allclose(w.detach().numpy().ravel(), [0.6, 0.8], rtol=1e-6)


def test_only_updated_weights_are_projected():
    a = easynn.Variable(torch.tensor([-1.0, 1.0]))
    b = easynn.Variable(torch.tensor([-1.0, 1.0]))
    a.constraint = b.constraint = NonNeg()
    opt = easynn.optimizers.SGD(learning_rate=0.0)
    opt.build([a, b])
    opt.apply([torch.zeros(2)], [a])
    assert a.tolist() == [0.0, 1.0] and b.tolist() == [-1.0, 1.0]


def test_wrapped_torch_optimizer_applies_constraints():
    layer = Dense(2, kernel_constraint=NonNeg())
    model = easynn.Sequential([Input(shape=(3,)), layer])
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=1.0), loss="mse", device="cpu")
    x, y = _data(16, 3, 2)
    model.fit(x, -np.abs(y), epochs=2, batch_size=4, verbose=0)
    assert layer.get_weights()[0].min() >= 0


def test_a_constraint_returning_another_shape_is_refused():
    w = easynn.Variable(torch.ones(2, 2), name="w")
    w.constraint = lambda v: v.sum()
    with pytest.raises(ValueError, match=r"'w' must return a tensor of the weight's \(Keras-layout\) shape \(2, 2\)"):
        easynn.optimizers.SGD().apply([torch.zeros(2, 2)], [w])


def test_no_constrained_weights_means_an_empty_list():
    model = _fit_dense()
    assert model.optimizer._constrained == []
    model = _fit_dense(kernel_constraint=NonNeg())
    assert [tuple(p.shape) for p in model.optimizer._constrained] == [(4, 3)]
