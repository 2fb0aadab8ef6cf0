"""easynn.ops creation, shape, joining, padding and indexing ops against NumPy."""

import numpy as np
import pytest
import torch

from easynn import ops
from tests.ops._reference import assert_matches, sample


def test_creation_defaults_follow_keras_dtypes():
    assert_matches(ops.zeros((2, 3)), np.zeros((2, 3)), dtype="float32")
    assert_matches(ops.ones(3, dtype="int32"), np.ones(3), dtype="int32")
    assert ops.empty((2,)).shape == (2,)
    assert_matches(ops.full((2, 2), 7), np.full((2, 2), 7), dtype="int32")
    assert_matches(ops.full((2, 3), [1.0, 2.0, 3.0]), np.full((2, 3), [1.0, 2.0, 3.0]), dtype="float32")
    x = torch.ones(2, 3, dtype=torch.float64)
    assert_matches(ops.zeros_like(x), np.zeros((2, 3)), dtype="float64")
    assert_matches(ops.ones_like(x, dtype="int32"), np.ones((2, 3)), dtype="int32")
    assert_matches(ops.full_like(x, 2.5), np.full((2, 3), 2.5), dtype="float64")
    assert ops.empty_like(x).shape == (2, 3)
    assert_matches(ops.array([[1, 2]], dtype="float32"), [[1.0, 2.0]], dtype="float32")


@pytest.mark.parametrize("args, dtype", [((5,), "int32"), ((1, 7, 2), "int32"), ((0.0, 1.0, 0.25), "float32"),
                                         ((5, 0, -1), "int32"), ((2, 5.5), "float32")])
def test_arange(args, dtype):
    assert_matches(ops.arange(*args), np.arange(*args), dtype=dtype)


def test_eye_identity_tri():
    for n, m, k in ((3, None, 0), (3, 4, 1), (4, 2, -1)):
        assert_matches(ops.eye(n, m, k), np.eye(n, m, k), dtype="float32")
        assert_matches(ops.tri(n, m, k), np.tri(n, m, k), dtype="float32")
    assert_matches(ops.identity(3, dtype="int32"), np.identity(3), dtype="int32")


@pytest.mark.parametrize("kwargs", [{}, {"num": 5}, {"num": 4, "endpoint": False}, {"num": 1}])
def test_linspace_logspace(kwargs):
    assert_matches(ops.linspace(2.0, 3.0, **kwargs), np.linspace(2.0, 3.0, **kwargs), dtype="float32")
    assert_matches(ops.logspace(0.0, 2.0, **kwargs), np.logspace(0.0, 2.0, **kwargs), dtype="float32", rtol=1e-5)
    out, step = ops.linspace(0.0, 1.0, num=5, retstep=True)
    assert float(step) == pytest.approx(0.25)
    starts, stops = np.array([0.0, 1.0]), np.array([1.0, 3.0])
    assert_matches(ops.linspace(starts, stops, 3, axis=1), np.linspace(starts, stops, 3, axis=1))


def test_meshgrid_and_windows():
    a, b = np.arange(3), np.arange(2)
    for indexing in ("xy", "ij"):
        for got, want in zip(ops.meshgrid(a, b, indexing=indexing), np.meshgrid(a, b, indexing=indexing)):
            assert_matches(got, want)
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        assert_matches(getattr(ops, name)(7), getattr(np, name)(7), dtype="float32", atol=1e-6)
    assert_matches(ops.kaiser(6, 5.0), np.kaiser(6, 5.0), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_shape_ops(dtype):
    x = sample((2, 3, 4), dtype)
    t = torch.from_numpy(x)
    assert_matches(ops.reshape(t, (4, -1)), x.reshape(4, -1))
    assert_matches(ops.reshape(t, 24), x.reshape(24))
    assert_matches(ops.transpose(t), x.transpose())
    assert_matches(ops.transpose(t, (1, 0, 2)), x.transpose(1, 0, 2))
    assert_matches(ops.expand_dims(t, (0, -1)), np.expand_dims(x, (0, -1)))
    assert_matches(ops.squeeze(ops.expand_dims(t, 1), axis=1), x)
    assert_matches(ops.ravel(t), x.ravel())
    assert_matches(ops.flip(t), np.flip(x))
    assert_matches(ops.flip(t, axis=(0, -1)), np.flip(x, axis=(0, -1)))
    assert_matches(ops.roll(t, 2), np.roll(x, 2))
    assert_matches(ops.roll(t, -1, axis=1), np.roll(x, -1, axis=1))
    assert_matches(ops.moveaxis(t, 0, -1), np.moveaxis(x, 0, -1))
    assert_matches(ops.swapaxes(t, 0, 2), np.swapaxes(x, 0, 2))
    assert_matches(ops.broadcast_to(t[0, 0], (2, 4)), np.broadcast_to(x[0, 0], (2, 4)))
    assert_matches(ops.tile(t, (2, 1, 1)), np.tile(x, (2, 1, 1)))
    assert_matches(ops.repeat(t, 2, axis=1), np.repeat(x, 2, axis=1))
    assert_matches(ops.repeat(t, 2), np.repeat(x, 2))
    assert_matches(ops.rot90(t, 1, (1, 2)), np.rot90(x, 1, (1, 2)))
    assert_matches(ops.copy(t), x)
    assert ops.ndim(t) == 3 and ops.size(t) == 24


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"reshape\(\).*\(2, 3\).*\(4, 2\)"):
        ops.reshape(np.zeros((2, 3)), (4, 2))
    with pytest.raises(ValueError, match=r"squeeze\(\).*size 3"):
        ops.squeeze(np.zeros((2, 3)), axis=1)
    with pytest.raises(ValueError, match=r"concatenate\(\).*\(2, 3\).*\(3, 3\)"):
        ops.concatenate([np.zeros((2, 3)), np.zeros((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r"broadcast_to\(\).*\(3,\)"):
        ops.broadcast_to(np.zeros(3), (2, 4))
    with pytest.raises(ValueError, match=r"expand_dims\(\).*axis"):
        ops.expand_dims(np.zeros(3), 3)
    with pytest.raises(ValueError, match=r"concatenate\(\).*empty"):
        ops.concatenate([])


def test_join_and_split():
    a, b = sample((2, 3), "float32", seed=1), sample((2, 3), "float32", seed=2)
    assert_matches(ops.concatenate([a, b]), np.concatenate([a, b]))
    assert_matches(ops.concatenate([a, b], axis=-1), np.concatenate([a, b], axis=-1))
    assert_matches(ops.concatenate([a, b], axis=None), np.concatenate([a, b], axis=None))
    assert_matches(ops.concatenate([a.astype("int32"), b]), np.concatenate([a.astype("int32"), b]).astype("float32"),
                   dtype="float32")
    assert_matches(ops.stack([a, b], axis=1), np.stack([a, b], axis=1))
    assert_matches(ops.hstack([a, b]), np.hstack([a, b]))
    assert_matches(ops.vstack([a, b]), np.vstack([a, b]))
    assert_matches(ops.dstack([a, b]), np.dstack([a, b]))
    assert_matches(ops.append(a, b), np.append(a, b))
    assert_matches(ops.append(a, b, axis=0), np.append(a, b, axis=0))
    x = np.arange(12).reshape(6, 2)
    for got, want in zip(ops.split(x, 3), np.split(x, 3)):
        assert_matches(got, want)
    for got, want in zip(ops.split(x, [1, 4]), np.split(x, [1, 4])):
        assert_matches(got, want)
    for got, want in zip(ops.array_split(x, 4), np.array_split(x, 4)):
        assert_matches(got, want)
    with pytest.raises(ValueError, match="split.*6.*4 equal"):
        ops.split(x, 4)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("pad_width", [1, (1, 2), ((0, 1), (2, 3))])
def test_pad_modes(mode, pad_width):
    x = sample((3, 4), "int32")
    assert_matches(ops.pad(x, pad_width, mode=mode), np.pad(x, pad_width, mode=mode), dtype="int32")


def test_pad_constant_values_and_unknown_mode():
    x = np.ones((2, 2), dtype="float32")
    assert_matches(ops.pad(x, 1, constant_values=5.0), np.pad(x, 1, constant_values=5.0))
    with pytest.raises(NotImplementedError, match="linear_ramp"):
        ops.pad(x, 1, mode="linear_ramp")


def test_indexing():
    x = sample((3, 4), "float32")
    idx = np.array([[0, -1], [2, 1]])
    assert_matches(ops.take(x, idx), np.take(x, idx))
    assert_matches(ops.take(x, idx, axis=1), np.take(x, idx, axis=1))
    assert_matches(ops.take(x, [2, 0], axis=0), np.take(x, [2, 0], axis=0))
    assert_matches(ops.take(x, 1), np.take(x, 1))
    assert_matches(ops.take(x, -1, axis=1), np.take(x, -1, axis=1))
    order = np.argsort(x, axis=1)
    assert_matches(ops.take_along_axis(x, order, axis=1), np.take_along_axis(x, order, axis=1))
    assert_matches(ops.take_along_axis(x, np.array([[0], [-1], [1]]), axis=1),
                   np.take_along_axis(x, np.array([[0], [3], [1]]), axis=1))
    assert_matches(ops.get_item(x, (slice(None), 0)), x[:, 0])
    assert_matches(ops.get_item(x, [2, 0]), x[[2, 0]])
    with pytest.raises(TypeError, match="take.*indices"):
        ops.take(x, np.array([0.5]))
    nz = ops.nonzero(np.array([[0, 1], [2, 0]]))
    for got, want in zip(nz, np.nonzero(np.array([[0, 1], [2, 0]]))):
        assert_matches(got, want, dtype="int32")
    for got, want in zip(ops.unravel_index(np.array([1, 5]), (2, 3)), np.unravel_index([1, 5], (2, 3))):
        assert_matches(got, want)


def test_diagonals_and_triangles():
    x = sample((3, 4), "float32")
    for k in (0, 1, -1):
        assert_matches(ops.diag(x, k), np.diag(x, k))
        assert_matches(ops.tril(x, k), np.tril(x, k))
        assert_matches(ops.triu(x, k), np.triu(x, k))
        assert_matches(ops.diagflat(x[0], k), np.diagflat(x[0], k))
    assert_matches(ops.diag(x[0]), np.diag(x[0]))
    y = sample((2, 3, 3), "float32")
    assert_matches(ops.diagonal(y, 1, 1, 2), np.diagonal(y, 1, 1, 2))


def test_gradients_flow_through_shape_ops():
    x = torch.arange(6.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: ops.pad(ops.reshape(t, (2, 3)), 1, mode="symmetric"), (x,))
    assert torch.autograd.gradcheck(lambda t: ops.take(ops.reshape(t, (2, 3)), [[0, -1]], axis=1), (x,))
    assert torch.autograd.gradcheck(lambda t: ops.concatenate([t, ops.flip(t)]), (x,))
