"""Keras 3's other activations (easynn/activations/extended.py, axiswise.py) against NumPy formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from easynn import activations as A
from easynn.layers import Activation, Dense

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _hard_sigmoid(x):
    return np.clip(x / 6 + 0.5, 0.0, 1.0)


def _glu(x):
    a, b = np.split(x, 2, axis=-1)
    return a * _sigmoid(b)


def _sparsemax_by_bisection(x):
    """The simplex projection max(x - tau, 0), tau found by bisection on sum(...) = 1."""
    out = np.empty_like(x)
    for i, row in enumerate(x.reshape(-1, x.shape[-1])):
        low, high = row.min() - 1.0, row.max()
        for _ in range(200):
            tau = (low + high) / 2
            low, high = (tau, high) if np.maximum(row - tau, 0).sum() > 1 else (low, tau)
        out.reshape(-1, x.shape[-1])[i] = np.maximum(row - (low + high) / 2, 0)
    return out


# name -> (easynn call, NumPy formula, points where the derivative jumps)
CASES = {
    "relu6": (A.relu6, lambda x: np.minimum(np.maximum(x, 0), 6), (0.0, 6.0)),
    "selu": (A.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), (0.0,)),
    "celu": (A.celu, lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)), ()),
    "celu_0.5": (lambda x: A.celu(x, 0.5), lambda x: np.maximum(x, 0) + np.minimum(0, 0.5 * np.expm1(x / 0.5)), ()),
    "softsign": (A.softsign, lambda x: x / (1 + np.abs(x)), ()),
    "mish": (A.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), ()),
    "exponential": (A.exponential, np.exp, ()),
    "log_sigmoid": (A.log_sigmoid, lambda x: -np.log1p(np.exp(-x)), ()),
    "log_softmax": (A.log_softmax, lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)), ()),
    "squareplus": (A.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2, ()),
    "squareplus_b1": (lambda x: A.squareplus(x, b=1), lambda x: (x + np.sqrt(x * x + 1)) / 2, ()),
    "sparse_plus": (A.sparse_plus, lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)), (-1.0, 1.0)),
    "hard_sigmoid": (A.hard_sigmoid, _hard_sigmoid, (-3.0, 3.0)),
    "hard_silu": (A.hard_silu, lambda x: x * _hard_sigmoid(x), (-3.0, 3.0)),
    "hard_tanh": (A.hard_tanh, lambda x: np.clip(x, -1, 1), (-1.0, 1.0)),
    "sparse_sigmoid": (A.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1), (-1.0, 1.0)),
    "tanh_shrink": (A.tanh_shrink, lambda x: x - np.tanh(x), ()),
    "soft_shrink": (A.soft_shrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), (-0.5, 0.5)),
    "hard_shrink": (A.hard_shrink, lambda x: np.where(np.abs(x) > 0.5, x, 0), (-0.5, 0.5)),
    "threshold": (lambda x: A.threshold(x, 0.3, -2.0), lambda x: np.where(x > 0.3, x, -2.0), (0.3,)),
    "glu": (A.glu, _glu, ()),
    "sparsemax": (A.sparsemax, _sparsemax_by_bisection, ()),
}
IDS = list(CASES)


def _input(kinks, shape=(4, 6)):
    x = torch.randn(shape, dtype=torch.float64) * 3
    for k in kinks:  # keep finite differences away from the kinks
        x = torch.where((x - k).abs() < 0.05, x + 0.1, x)
    return x


@pytest.mark.parametrize("name", IDS)
def test_value_matches_numpy_formula(name):
    fn, ref, kinks = CASES[name]
    x = _input(kinks)
    np.testing.assert_allclose(fn(x).numpy(), ref(x.numpy()), rtol=1e-10, atol=1e-10)
    y32 = fn(x.float())
    assert y32.dtype == torch.float32
    np.testing.assert_allclose(y32.numpy(), ref(x.numpy()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in IDS if n != "sparsemax"])
def test_gradcheck_float64_away_from_kinks(name):
    fn, _, kinks = CASES[name]
    x = _input(kinks, (2, 4)).requires_grad_()
    assert torch.autograd.gradcheck(fn, (x,))


def test_sparsemax_gradcheck_and_jacobian_formula():
    # Support {0, 1} with a clear margin: the Jacobian is diag(s) - s s^T / |S| (s: the support).
    x = torch.tensor([[1.0, 0.8, 0.1, -1.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(A.sparsemax, (x,))
    jac = torch.autograd.functional.jacobian(lambda t: A.sparsemax(t)[0], x)[:, 0, :]
    s = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(jac, torch.diag(s) - torch.outer(s, s) / 2)


@pytest.mark.parametrize("name", [n for n in IDS if n != "exponential"])
def test_extreme_inputs_give_finite_values_and_gradients(name):
    fn = CASES[name][0]
    row = torch.tensor([-1e30, -1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4])
    x = torch.stack([row, row.flip(0)]).requires_grad_()
    y = fn(x)
    (dx,) = torch.autograd.grad(y, x, torch.ones_like(y))
    assert torch.isfinite(y).all() and torch.isfinite(dx).all()


def test_extreme_values_exact():
    big = torch.tensor([1e4])
    assert A.selu(-big).item() == pytest.approx(-SELU_SCALE * SELU_ALPHA)
    assert A.log_sigmoid(-big).item() == -1e4
    assert A.mish(-big).item() == 0.0 and A.mish(big).item() == 1e4
    assert A.squareplus(torch.tensor([-1e30])).item() == pytest.approx(4 / (4 * 1e30), rel=1e-6)  # b / (4|x|)
    assert A.exponential(-big).item() == 0.0
    assert A.sparsemax(torch.tensor([0.0, 1e4])).tolist() == [0.0, 1.0]
    assert A.log_softmax(torch.tensor([0.0, 1e4])).tolist() == [-1e4, 0.0]


def test_keras_documented_numbers():
    # keras.ops.threshold's example, hard_sigmoid's pieces (relu6(x + 3) / 6 in Keras 3, not 0.2x + 0.5),
    # hard_silu's (x (x + 3) / 6 between -3 and 3), sparsemax's and glu's definitions.
    assert A.threshold(torch.tensor([-1.0, 0.0, 1.0, 2.0]), 1, 0).tolist() == [0.0, 0.0, 0.0, 2.0]
    assert A.hard_sigmoid(torch.tensor([-3.0, -1.5, 0.0, 1.5, 3.0])).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert A.hard_silu(torch.tensor([-4.0, -1.0, 1.0, 4.0])).tolist() == pytest.approx([0.0, -1 / 3, 2 / 3, 4.0])
    assert A.relu6(torch.tensor([-10.0, 5.0, 10.0])).tolist() == [0.0, 5.0, 6.0]
    assert A.sparsemax(torch.tensor([0.5, 0.0])).tolist() == [0.75, 0.25]
    assert A.glu(torch.tensor([[1.0, 2.0, 0.0, 0.0]])).tolist() == [[0.5, 1.0]]
    assert A.squareplus(torch.tensor([0.0]), b=0).tolist() == [0.0]  # b = 0 is the ReLU


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_axis_arguments(axis):
    x = torch.randn(3, 4, 2)
    torch.testing.assert_close(A.sparsemax(x, axis=axis).sum(axis), torch.ones_like(x.sum(axis)))
    assert (A.sparsemax(x, axis=axis) >= 0).all()
    torch.testing.assert_close(A.log_softmax(x, axis=axis), torch.log_softmax(x, axis))
    y = torch.randn(4, 4, 2)
    a, b = y.chunk(2, dim=axis)
    torch.testing.assert_close(A.glu(y, axis=axis), a * torch.sigmoid(b))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", IDS)
def test_half_precision_keeps_dtype(name, dtype):
    fn = CASES[name][0]
    x = torch.randn(2, 4)
    y = fn(x.to(dtype))
    assert y.dtype == dtype
    torch.testing.assert_close(y.float(), fn(x), atol=0.05, rtol=0.02)


def test_integer_and_list_inputs_are_computed_in_float():
    assert A.softsign(torch.tensor([1, -3])).tolist() == [0.5, -0.75]
    assert A.relu6([[-1, 7]]).dtype == torch.get_default_dtype()


# ------------------------------------------------------------------------- names and layers
NAMES = [
    "celu",
    "exponential",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_tanh",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu6",
    "selu",
    "soft_shrink",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_resolve_and_serialize_round_trip(name):
    fn = A.get(name)
    assert fn is getattr(A, name)
    assert A.serialize(fn) == name
    assert A.deserialize(name) is fn
    assert A.deserialize({"module": "keras.activations", "class_name": "function", "config": name}) is fn


def test_hard_swish_is_hard_silu_and_serializes_as_hard_silu():
    assert A.get("hard_swish") is A.hard_silu and A.hard_swish is A.hard_silu
    assert A.serialize(A.hard_swish) == "hard_silu"


def test_keras_activation_list_is_complete():
    keras_names = [
        "relu",
        "relu6",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "hard_silu",
        "hard_swish",
        "sigmoid",
        "hard_sigmoid",
        "softmax",
        "log_softmax",
        "softplus",
        "softsign",
        "tanh",
        "hard_tanh",
        "mish",
        "leaky_relu",
        "exponential",
        "linear",
        "log_sigmoid",
        "tanh_shrink",
        "soft_shrink",
        "hard_shrink",
        "squareplus",
        "sparsemax",
        "celu",
        "glu",
        "sparse_plus",
        "sparse_sigmoid",
        "threshold",
    ]
    for name in keras_names:
        assert callable(A.get(name)), name
        assert hasattr(A, name), name


def test_deserialize_custom_objects_and_bad_config():
    fn = lambda t: t * 3  # noqa: E731
    assert A.deserialize("triple", custom_objects={"triple": fn}) is fn
    with pytest.raises(ValueError, match="Unknown activation 'nope'"):
        A.deserialize("nope")
    with pytest.raises(ValueError, match="config"):
        A.deserialize({"class_name": "function"})
    with pytest.raises(TypeError, match="config"):
        A.deserialize(3)


def test_dense_with_selu_by_name_computes_selu_and_round_trips():
    dense = Dense(3, activation="selu")
    x = torch.randn(5, 4)
    y = dense(x)
    torch.testing.assert_close(y, A.selu(x @ dense.kernel + dense.bias))
    config = dense.get_config()
    assert config["activation"] == "selu"
    assert Dense.from_config(config).activation is A.selu


@pytest.mark.parametrize("name", ["mish", "hard_sigmoid", "sparsemax", "log_softmax", "hard_swish"])
def test_activation_layer_by_name(name):
    layer = Activation(name)
    x = torch.randn(2, 6)
    torch.testing.assert_close(layer(x), A.get(name)(x))
    config = layer.get_config()
    assert config["activation"] == A.serialize(A.get(name))
    assert Activation.from_config(config).activation is A.get(name)


def test_bad_arguments_raise_naming_the_argument():
    x = torch.randn(2, 4)
    with pytest.raises(ValueError, match=r"`alpha`.*alpha=0"):
        A.celu(x, alpha=0)
    with pytest.raises(ValueError, match="`alpha`"):
        A.celu(x, alpha="1")
    with pytest.raises(ValueError, match=r"`b`.*b=-1"):
        A.squareplus(x, b=-1)
    with pytest.raises(ValueError, match=r"`threshold`.*threshold=-0.1"):
        A.soft_shrink(x, threshold=-0.1)
    with pytest.raises(ValueError, match="`threshold`"):
        A.hard_shrink(x, threshold=None)
    with pytest.raises(ValueError, match="`default_value`"):
        A.threshold(x, 0.0, "zero")
    with pytest.raises(ValueError, match=r"`axis`.*axis=0.*\(3, 4\)"):
        A.glu(torch.randn(3, 4), axis=0)
    with pytest.raises(TypeError, match="axis"):
        A.sparsemax(x, axis=1.0)
    with pytest.raises(TypeError, match="axis"):
        A.log_softmax(x, axis="last")
