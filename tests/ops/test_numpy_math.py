"""easynn.ops element-wise math against NumPy: values, shapes, Keras's dtypes, errors, gradients."""

import numpy as np
import pytest
import torch

from easynn import ops
from tests.ops._reference import SHAPES, assert_matches, sample

# name -> (NumPy reference, input range): float functions on float32 and int32 inputs.
UNARY_FLOAT = {
    "sqrt": (np.sqrt, (0.1, 4)), "exp": (np.exp, (-3, 3)), "exp2": (np.exp2, (-3, 3)),
    "expm1": (np.expm1, (-3, 3)), "log": (np.log, (0.1, 4)), "log10": (np.log10, (0.1, 4)),
    "log1p": (np.log1p, (0, 4)), "log2": (np.log2, (0.1, 4)), "sin": (np.sin, (-3, 3)),
    "cos": (np.cos, (-3, 3)), "tan": (np.tan, (-1, 1)), "sinh": (np.sinh, (-3, 3)), "cosh": (np.cosh, (-3, 3)),
    "tanh": (np.tanh, (-3, 3)), "arcsin": (np.arcsin, (-0.9, 0.9)), "arccos": (np.arccos, (-0.9, 0.9)),
    "arctan": (np.arctan, (-3, 3)), "arcsinh": (np.arcsinh, (-3, 3)), "arccosh": (np.arccosh, (1.1, 4)),
    "arctanh": (np.arctanh, (-0.9, 0.9)), "deg2rad": (np.deg2rad, (-3, 3)), "rad2deg": (np.rad2deg, (-3, 3)),
    "reciprocal": (np.reciprocal, (0.5, 3)), "cbrt": (np.cbrt, (-3, 3)), "ceil": (np.ceil, (-3, 3)),
    "floor": (np.floor, (-3, 3)),
}
# name -> NumPy reference for ops that keep the input's dtype.
UNARY_SAME = {
    "abs": np.abs, "absolute": np.absolute, "negative": np.negative, "square": np.square, "sign": np.sign,
    "trunc": np.trunc, "round": np.round, "conj": np.conj, "conjugate": np.conjugate, "real": np.real,
}


@pytest.mark.parametrize("shape", SHAPES[1:3])
@pytest.mark.parametrize("name", sorted(UNARY_FLOAT))
def test_unary_float_ops_match_numpy(name, shape):
    reference, (low, high) = UNARY_FLOAT[name]
    x = sample(shape, "float32", low=low, high=high)
    assert_matches(getattr(ops, name)(torch.from_numpy(x)), reference(x), dtype="float32", rtol=2e-5)
    # integers compute in floatx (float32), as Keras on torch; NumPy would give float64
    xi = np.clip(np.round(x), max(low, 1) if name in ("log", "log10", "log2", "arccosh", "reciprocal") else low,
                 high).astype("int32")
    if name not in ("arcsin", "arccos", "arctanh", "tan"):
        assert_matches(getattr(ops, name)(xi), reference(xi.astype("float64")), dtype="float32", rtol=2e-5)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("name", sorted(UNARY_SAME))
def test_unary_dtype_preserving_ops_match_numpy(name, dtype):
    x = sample((3, 4), dtype)
    assert_matches(getattr(ops, name)(torch.from_numpy(x)), UNARY_SAME[name](x), dtype=dtype)


def test_bool_inputs_follow_keras():
    b = np.array([True, False])
    assert ops.abs(b).dtype == torch.bool
    assert_matches(ops.square(b), [1, 0], dtype="int32")
    with pytest.raises(TypeError, match="negative.*bool"):
        ops.negative(b)
    assert_matches(ops.sqrt(b), [1.0, 0.0], dtype="float32")


# name -> NumPy reference for binary ops (inputs: float32 in (0.5, 3) so every op is defined).
BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "true_divide": np.true_divide, "floor_divide": np.floor_divide, "mod": np.mod, "power": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2, "hypot": np.hypot,
    "logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2, "heaviside": np.heaviside,
}


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (3,))])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_broadcast_like_numpy(name, shapes):
    a = sample(shapes[0], "float32", seed=1, low=0.5, high=3)
    b = sample(shapes[1], "float32", seed=2, low=0.5, high=3)
    out = getattr(ops, name)(torch.from_numpy(a), torch.from_numpy(b))
    assert_matches(out, BINARY[name](a, b), dtype="float32", rtol=1e-5)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "floor_divide", "mod", "maximum", "minimum"])
def test_integer_binary_ops_stay_integer_and_round_like_numpy(name):
    a = np.array([-7, -3, 0, 5, 7], dtype="int32")
    b = np.array([2, -2, 3, 3, -4], dtype="int32")
    assert_matches(getattr(ops, name)(a, b), getattr(np, name)(a, b), dtype="int32")


def test_division_dtypes():
    a = np.array([1, 2, 3], dtype="int32")
    assert_matches(ops.divide(a, 2), a / 2, dtype="float32")
    assert_matches(ops.true_divide(a, a), np.ones(3), dtype="float32")
    assert_matches(ops.divide_no_nan([1.0, 2.0, 3.0], [0.0, 4.0, 0.0]), [0.0, 0.5, 0.0], dtype="float32")
    assert_matches(ops.power(a, 2), a ** 2, dtype="int32")


@pytest.mark.parametrize("dtype, scalar, expected", [
    ("int8", 1, "int8"), ("int32", 1, "int32"), ("int32", 0.5, "float32"), ("float16", 2.0, "float16"),
    ("float64", 2, "float64"), ("bool", 1, "int32"), ("bool", 1.5, "float32"), ("uint8", 3, "uint8"),
])
def test_python_scalars_are_weak_types(dtype, scalar, expected):
    x = ops.convert_to_tensor(np.ones(3, dtype=dtype))
    assert ops.add(x, scalar).dtype == getattr(torch, expected)
    assert ops.multiply(scalar, x).dtype == getattr(torch, expected)
    assert ops.maximum(x, scalar).dtype == getattr(torch, expected)


@pytest.mark.parametrize("a, b, expected", [
    ("int32", "float32", "float32"), ("uint8", "int8", "int16"), ("int32", "int64", "int64"),
    ("float16", "float32", "float32"), ("float32", "float64", "float64"), ("bool", "int32", "int32"),
])
def test_array_operands_promote_like_keras(a, b, expected):
    # Keras's (JAX's) lattice; NumPy differs only for int32 + float32 (float64 there)
    out = ops.add(np.ones(2, dtype=a), np.ones(2, dtype=b))
    assert out.dtype == getattr(torch, expected)


def test_two_python_scalars_and_lists():
    assert_matches(ops.add(1, 2), 3, dtype="int32")
    assert_matches(ops.add([1, 2], [0.5, 1.5]), [1.5, 3.5], dtype="float32")
    assert_matches(ops.subtract(np.array([True, False]), True), [0, -1], dtype="int32")


def test_clip_round_nan_to_num():
    x = np.array([-2.5, -0.5, 0.5, 1.5, 2.5], dtype="float32")
    assert_matches(ops.clip(x, -1, 1), np.clip(x, -1, 1), dtype="float32")
    assert_matches(ops.clip(np.array([1, 5, 9], dtype="int32"), 2, 6), [2, 5, 6], dtype="int32")
    assert_matches(ops.clip(np.array([True, False]), 0, 1), [1, 0], dtype="int32")
    assert_matches(ops.round(x), np.round(x))  # half to even
    assert_matches(ops.round(np.array([1.234, 5.678]), 1), [1.2, 5.7])
    y = np.array([np.nan, np.inf, -np.inf, 1.0], dtype="float32")
    assert_matches(ops.nan_to_num(y, nan=0.5, posinf=9.0, neginf=-9.0), [0.5, 9.0, -9.0, 1.0])


def test_integer_only_ops():
    a, b = np.array([12, 18, -4], dtype="int32"), np.array([8, 12, 6], dtype="int32")
    assert_matches(ops.gcd(a, b), np.gcd(a, b), dtype="int32")
    assert_matches(ops.lcm(a, b), np.lcm(a, b), dtype="int32")
    assert_matches(ops.ldexp(np.array([1.0, 2.0], dtype="float32"), np.array([2, 3], dtype="int32")), [4.0, 16.0])
    with pytest.raises(TypeError, match="ldexp.*x2"):
        ops.ldexp([1.0], [2.0])


def test_complex_parts():
    z = np.array([1 + 2j, -3 - 1j], dtype="complex64")
    assert_matches(ops.real(z), z.real)
    assert_matches(ops.imag(z), z.imag)
    assert_matches(ops.conj(z), np.conj(z))
    assert_matches(ops.angle(z), np.angle(z))
    assert_matches(ops.imag(np.ones(2, dtype="float32")), [0.0, 0.0])


def test_incompatible_shapes_raise_value_error_naming_op_and_shapes():
    with pytest.raises(ValueError, match=r"add\(\).*\(2, 3\).*\(4,\)"):
        ops.add(torch.ones(2, 3), torch.ones(4))
    with pytest.raises(ValueError, match=r"maximum\(\).*\(2,\).*\(3,\)"):
        ops.maximum(np.ones(2), np.ones(3))


def test_unsupported_dtype_raises_type_error_naming_op():
    with pytest.raises(TypeError, match=r"gcd\(\).*float32"):
        ops.gcd(torch.ones(2), torch.ones(2))


def test_outputs_stay_on_the_input_device_and_keep_autograd():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = ops.add(ops.multiply(ops.sin(x), x), ops.divide_no_nan(x, np.array([0.0, 1.0, 2.0], dtype="float32")))
    y.sum().backward()
    expected = np.cos([0.5, 1.0, 2.0]) * [0.5, 1.0, 2.0] + np.sin([0.5, 1.0, 2.0]) + [0.0, 1.0, 0.5]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)
    assert y.device == x.device


@pytest.mark.parametrize("name", ["exp", "log1p", "tanh", "sqrt", "arctan", "cbrt"])
def test_unary_gradients_against_autograd_of_torch(name):
    x = torch.tensor([0.3, 0.7, 1.9], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(getattr(ops, name), (x,))


@pytest.mark.parametrize("name", ["power", "hypot", "logaddexp", "arctan2", "divide", "maximum"])
def test_binary_gradients(name):
    a = torch.tensor([0.3, 0.7, 1.9], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([1.2, 0.4, 2.1], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(getattr(ops, name), (a, b))
