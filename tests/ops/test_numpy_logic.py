"""easynn.ops comparisons, logic, bitwise ops, where/select and value tests against NumPy."""

import numpy as np
import pytest
import torch

from easynn import ops
from tests.ops._reference import assert_matches, sample

COMPARISONS = ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
@pytest.mark.parametrize("name", COMPARISONS + LOGICAL)
def test_comparisons_and_logic_broadcast_to_bool(name, dtype):
    a, b = sample((2, 3), dtype, seed=1, low=-1, high=1), sample((3,), dtype, seed=2, low=-1, high=1)
    assert_matches(getattr(ops, name)(a, b), getattr(np, name)(a, b), dtype="bool")
    assert_matches(getattr(ops, name)(torch.from_numpy(a), 0), getattr(np, name)(a, 0), dtype="bool")


def test_logical_not_and_value_tests():
    x = np.array([0.0, -1.5, np.nan, np.inf, -np.inf, -0.0], dtype="float32")
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "logical_not", "isreal"):
        assert_matches(getattr(ops, name)(x), getattr(np, name)(x), dtype="bool")
    assert_matches(ops.signbit(np.array([True])), [False])


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift",
                                  "bitwise_left_shift", "bitwise_right_shift"])
def test_bitwise(name):
    a, b = np.array([5, 12, 7], dtype="int32"), np.array([3, 1, 2], dtype="int32")
    reference = getattr(np, name.replace("bitwise_left", "left").replace("bitwise_right", "right"))
    assert_matches(getattr(ops, name)(a, b), reference(a, b), dtype="int32")
    with pytest.raises(TypeError, match=f"{name}.*integer"):
        getattr(ops, name)(a.astype("float32"), b)


def test_bitwise_invert():
    a = np.array([5, -2], dtype="int32")
    assert_matches(ops.bitwise_invert(a), np.invert(a), dtype="int32")
    assert_matches(ops.bitwise_not(np.array([True, False])), [False, True])


def test_isclose_isin():
    a = np.array([1.0, 1.0 + 1e-6, 2.0, np.nan], dtype="float32")
    b = np.array([1.0, 1.0, 2.1, np.nan], dtype="float32")
    assert_matches(ops.isclose(a, b), np.isclose(a, b), dtype="bool")
    assert_matches(ops.isclose(a, b, equal_nan=True), np.isclose(a, b, equal_nan=True))
    assert_matches(ops.isclose(a, 1.0, atol=0.5), np.isclose(a, 1.0, atol=0.5))
    assert_matches(ops.isin(np.array([1, 2, 3, 4]), [2, 4]), np.isin([1, 2, 3, 4], [2, 4]))
    assert_matches(ops.isin(np.array([1, 2, 3]), [2], invert=True), [True, False, True])


def test_where_and_select():
    cond = np.array([[True, False, True]])
    a, b = sample((2, 3), "float32", seed=3), sample((3,), "int32", seed=4)
    assert_matches(ops.where(cond, a, b), np.where(cond, a, b), dtype="float32")
    assert_matches(ops.where(cond, 1, 0.5), np.where(cond, 1, 0.5).astype("float32"), dtype="float32")
    assert_matches(ops.where(np.array([1, 0, 2]), 1, 0), [1, 0, 1], dtype="int32")
    for got, want in zip(ops.where(np.array([[0, 3], [1, 0]])), np.where(np.array([[0, 3], [1, 0]]))):
        assert_matches(got, want, dtype="int32")
    with pytest.raises(ValueError, match="where.*together"):
        ops.where(cond, a)
    with pytest.raises(ValueError, match=r"where\(\).*\(2, 3\).*\(4,\)"):
        ops.where(cond, a, np.zeros(4, dtype="float32"))
    x = np.arange(-3, 4)
    condlist, choicelist = [x < -1, x > 1], [x * 10, x ** 2]
    assert_matches(ops.select(condlist, choicelist, 7), np.select(condlist, choicelist, 7))
    with pytest.raises(ValueError, match="select.*same length"):
        ops.select([x < 0], [x, x])


def test_where_gradient_reaches_the_chosen_branch_only():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    ops.sum(ops.where(np.array([True, False]), a * 3, a * 5)).backward()
    assert a.grad.tolist() == [3.0, 5.0]
