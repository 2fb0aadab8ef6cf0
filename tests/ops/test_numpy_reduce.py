"""easynn.ops reductions, statistics and sorting against NumPy (axis=None/int/tuple/negative, keepdims)."""

import numpy as np
import pytest
import torch

from easynn import ops
from tests.ops._reference import assert_matches, sample

AXES = [None, -1, (0, 2)]
# name -> (NumPy reference, Keras's result dtype for int32 input)
REDUCTIONS = {
    "sum": (np.sum, "int32"), "prod": (np.prod, "int32"), "mean": (np.mean, "float32"),
    "max": (np.max, "int32"), "min": (np.min, "int32"), "amax": (np.amax, "int32"), "amin": (np.amin, "int32"),
    "var": (np.var, "float32"), "std": (np.std, "float32"), "all": (np.all, "bool"), "any": (np.any, "bool"),
    "median": (np.median, "float32"), "ptp": (np.ptp, "int32"), "nansum": (np.nansum, "int32"),
    "nanmax": (np.nanmax, "int32"), "nanmin": (np.nanmin, "int32"),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_numpy_on_float32(name, axis, keepdims):
    x = sample((2, 3, 4), "float32", low=0.5, high=1.5)
    reference = REDUCTIONS[name][0]
    out = getattr(ops, name)(torch.from_numpy(x), axis=axis, keepdims=keepdims)
    assert_matches(out, reference(x, axis=axis, keepdims=keepdims), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_on_int32_give_keras_dtypes(name):
    x = sample((3, 4), "int32", low=1, high=3)
    reference, dtype = REDUCTIONS[name]
    for axis in (None, 1):
        assert_matches(getattr(ops, name)(x, axis=axis), reference(x, axis=axis), dtype=dtype)


@pytest.mark.parametrize("name, dtype", [("sum", "int32"), ("prod", "int32"), ("mean", "float32"),
                                         ("any", "bool"), ("all", "bool")])
def test_reductions_of_bool(name, dtype):
    b = sample((4, 3), "bool")
    assert_matches(getattr(ops, name)(b, axis=0), getattr(np, name)(b, axis=0), dtype=dtype)


def test_sum_of_small_ints_is_int32_and_of_float16_stays_float16():
    assert ops.sum(np.ones(3, dtype="int8")).dtype == torch.int32
    assert ops.sum(np.ones(3, dtype="int64")).dtype == torch.int64
    assert ops.mean(np.ones(3, dtype="float16")).dtype == torch.float16


def test_max_with_initial_and_empty_input():
    x = np.array([[1.0, 5.0], [2.0, 0.5]], dtype="float32")
    assert_matches(ops.max(x, axis=1, initial=3.0), np.max(x, axis=1, initial=3.0))
    assert_matches(ops.min(x, initial=0.0), np.min(x, initial=0.0))
    with pytest.raises(ValueError, match="max"):
        ops.max(np.zeros((0, 3)), axis=0)
    assert_matches(ops.max(np.zeros((0, 3)), axis=0, initial=1.0), np.max(np.zeros((0, 3)), axis=0, initial=1.0))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_int32(name, axis, keepdims):
    x = sample((3, 4), "float32", seed=3)
    out = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    assert_matches(out, getattr(np, name)(x, axis=axis, keepdims=keepdims), dtype="int32")


def test_argmax_of_bool_and_bad_axis():
    assert_matches(ops.argmax(np.array([False, True, True])), 1, dtype="int32")
    with pytest.raises(ValueError, match=r"argmax\(\).*axis"):
        ops.argmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match=r"sum\(\).*axis"):
        ops.sum(np.zeros((2, 3)), axis=(0, 5))


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative(name, axis):
    x = sample((3, 4), "int32", low=1, high=3)
    assert_matches(getattr(ops, name)(x, axis=axis), getattr(np, name)(x, axis=axis), dtype="int32")
    b = sample((3, 4), "bool")
    assert_matches(getattr(ops, name)(b, axis=axis), getattr(np, name)(b, axis=axis), dtype="int32")
    f = sample((3, 4), "float32", low=0.5, high=1.5)
    assert_matches(getattr(ops, name)(f, axis=axis, dtype="float64"), getattr(np, name)(f, axis=axis),
                   dtype="float64")


@pytest.mark.parametrize("q, axis, keepdims", [(0.3, None, False), ([0.1, 0.5, 0.9], 1, False),
                                               (0.75, (0, 2), True), ([0.25, 1.0], -1, True)])
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile(q, axis, keepdims, method):
    x = sample((2, 5, 3), "float32", seed=4)
    out = ops.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
    assert_matches(out, np.quantile(x, q, axis=axis, method=method, keepdims=keepdims), rtol=1e-5)


def test_median_of_even_count_averages_the_middle_pair():
    assert_matches(ops.median(np.array([1, 4, 2, 8], dtype="int32")), 3.0, dtype="float32")


def test_average_count_nonzero_diff():
    x = sample((3, 4), "float32", seed=5)
    w = np.array([1.0, 2.0, 3.0, 4.0], dtype="float32")
    assert_matches(ops.average(x, axis=1, weights=w), np.average(x, axis=1, weights=w))
    assert_matches(ops.average(x), np.average(x))
    assert_matches(ops.average(x, weights=np.abs(x)), np.average(x, weights=np.abs(x)), rtol=1e-5)
    with pytest.raises(ValueError, match="average.*weights"):
        ops.average(x, axis=0, weights=w)
    xi = sample((3, 4), "int32", seed=6)
    for axis in (None, 0, (0, 1)):
        assert_matches(ops.count_nonzero(xi, axis=axis), np.count_nonzero(xi, axis=axis), dtype="int32")
    for n, axis in ((1, -1), (2, 0)):
        assert_matches(ops.diff(xi, n=n, axis=axis), np.diff(xi, n=n, axis=axis))


def test_nan_reductions():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], dtype="float32")
    assert_matches(ops.nansum(x, axis=1), np.nansum(x, axis=1))
    assert_matches(ops.nanmean(x[:1], axis=1), np.nanmean(x[:1], axis=1))
    assert_matches(ops.nanmax(x, axis=1), [3.0, np.nan])
    assert_matches(ops.nanmin(x, axis=1), [1.0, np.nan])


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_sort_and_argsort_are_stable(axis):
    x = np.array([[3, 1, 2, 1], [0, 0, 5, -1]], dtype="int32")
    assert_matches(ops.sort(x, axis=axis), np.sort(x, axis=axis), dtype="int32")
    assert_matches(ops.argsort(x, axis=axis), np.argsort(x, axis=axis, kind="stable"), dtype="int32")
    assert_matches(ops.sort(np.array([True, False, True])), [False, True, True], dtype="bool")


def test_argpartition_puts_kth_in_place():
    x = np.array([5, 1, 4, 2, 3], dtype="int32")
    index = ops.argpartition(x, 2).numpy()
    assert x[index][2] == np.sort(x)[2]
    assert (x[index][:2] <= x[index][2]).all() and (x[index][3:] >= x[index][2]).all()


def test_searchsorted_digitize_bincount_histogram():
    seq = np.array([1.0, 2.0, 2.0, 5.0], dtype="float32")
    values = np.array([0.0, 2.0, 3.0, 6.0], dtype="float32")
    for side in ("left", "right"):
        assert_matches(ops.searchsorted(seq, values, side=side), np.searchsorted(seq, values, side=side),
                       dtype="int32")
    with pytest.raises(ValueError, match="searchsorted.*1-D"):
        ops.searchsorted(np.ones((2, 2)), values)
    bins = np.array([0.0, 1.0, 2.5, 4.0], dtype="float32")
    x = np.array([-1.0, 0.0, 0.5, 2.5, 3.9, 4.0, 7.0], dtype="float32")
    assert_matches(ops.digitize(x, bins), np.digitize(x, bins), dtype="int32")
    counts = np.array([0, 1, 1, 3, 5], dtype="int32")
    assert_matches(ops.bincount(counts), np.bincount(counts), dtype="int32")
    assert_matches(ops.bincount(counts, minlength=8), np.bincount(counts, minlength=8))
    weights = np.array([0.5, 1.0, 2.0, 0.25, 1.0], dtype="float32")
    assert_matches(ops.bincount(counts, weights=weights), np.bincount(counts, weights=weights), dtype="float32")
    assert_matches(ops.bincount(np.array([[0, 1], [1, 1]])), [[1, 1], [0, 2]])
    data = sample((50,), "float32", seed=7)
    hist, edges = ops.histogram(data, bins=6)
    ref_hist, ref_edges = np.histogram(data, bins=6)
    assert_matches(hist, ref_hist, dtype="int32")
    assert_matches(edges, ref_edges, rtol=1e-5)
    hist, edges = ops.histogram(data, bins=4, range=(-1, 1))
    assert_matches(hist, np.histogram(data, bins=4, range=(-1, 1))[0])


def test_unique():
    x = np.array([3, 1, 3, 2, 1, 1], dtype="int32")
    values, inverse, counts = ops.unique(x, return_inverse=True, return_counts=True)
    ref_values, ref_inverse, ref_counts = np.unique(x, return_inverse=True, return_counts=True)
    assert_matches(values, ref_values)
    assert_matches(inverse, ref_inverse, dtype="int32")
    assert_matches(counts, ref_counts, dtype="int32")
    assert_matches(ops.unique(x, size=5, fill_value=0), [1, 2, 3, 0, 0])


def test_reduction_gradients():
    x = torch.tensor([[0.3, 0.7], [1.9, 1.1]], dtype=torch.float64, requires_grad=True)
    for fn in (lambda t: ops.mean(t, axis=0), lambda t: ops.std(t), lambda t: ops.prod(t, axis=(0, 1)),
               lambda t: ops.max(t, axis=-1), lambda t: ops.cumsum(t, axis=1)):
        assert torch.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["sum", "max", "min", "var", "std", "all", "any", "prod", "mean"])
def test_empty_axis_tuple_reduces_nothing(name):
    x = sample((2, 3), "float32", low=0.5, high=1.5)
    assert_matches(getattr(ops, name)(x, axis=()), getattr(np, name)(x, axis=()), rtol=1e-6)


def test_digitize_with_decreasing_bins():
    bins, x = np.array([3.0, 2.0, 1.0]), np.array([0.5, 1.0, 2.0, 2.5, 3.0, 4.0])
    assert_matches(ops.digitize(x, bins), np.digitize(x, bins), dtype="int32")


@pytest.mark.parametrize("name", ["sum", "mean", "max", "argmax", "std", "count_nonzero", "cumsum", "sort"])
def test_numpy_integer_axis(name):
    x = sample((2, 3), "float32", seed=8)
    assert_matches(getattr(ops, name)(x, axis=np.int64(-1)), getattr(np, name)(x, axis=-1), rtol=1e-6)
