"""easynn.ops matmul/dot/einsum/tensordot and friends against NumPy, with Keras's dtypes."""

import numpy as np
import pytest
import torch

from easynn import ops
from tests.ops._reference import assert_matches, sample

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((5, 2, 3), (1, 3, 4))]


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes, dtype):
    a, b = sample(shapes[0], dtype, seed=1), sample(shapes[1], dtype, seed=2)
    assert_matches(ops.matmul(a, b), np.matmul(a, b), dtype=dtype, rtol=1e-5, atol=1e-5)


def test_matmul_dtypes_and_errors():
    a8 = np.ones((2, 3), dtype="int8")
    assert_matches(ops.matmul(a8, a8.T), np.full((2, 2), 3), dtype="int32")
    assert ops.matmul(np.ones((2, 3), dtype="int32"), np.ones((3, 1), dtype="float32")).dtype == torch.float32
    assert_matches(ops.matmul(np.eye(2, dtype=bool), np.eye(2, dtype=bool)), np.eye(2, dtype=bool), dtype="bool")
    with pytest.raises(ValueError, match=r"matmul\(\).*\(2, 3\).*\(4, 5\)"):
        ops.matmul(torch.ones(2, 3), torch.ones(4, 5))


@pytest.mark.parametrize("shapes", [((), (3,)), ((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,)),
                                    ((2, 2, 3), (4, 3, 5))])
def test_dot_follows_numpy_for_nd(shapes):
    a, b = sample(shapes[0], "float32", seed=1), sample(shapes[1], "float32", seed=2)
    assert_matches(ops.dot(a, b), np.dot(a, b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axes, b_shape", [(2, (3, 4, 2)), (1, (4, 3, 2)), (0, (2, 2)), (([1, 2], [0, 1]), (3, 4, 2)),
                                           ((2, 0), (4, 3, 2)), (([0], [1]), (3, 2, 4))])
def test_tensordot(axes, b_shape):
    a, b = sample((2, 3, 4), "float32", seed=1), sample(b_shape, "float32", seed=2)
    assert_matches(ops.tensordot(a, b, axes), np.tensordot(a, b, axes), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("subscripts, shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
                                                ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,i", [(4,), (4,)]),
                                                ("...j,j->...", [(2, 3, 4), (4,)])])
def test_einsum(subscripts, shapes):
    arrays = [sample(s, "float32", seed=i) for i, s in enumerate(shapes)]
    assert_matches(ops.einsum(subscripts, *arrays), np.einsum(subscripts, *arrays), rtol=1e-5, atol=1e-5)
    ints = [a.astype("int32") for a in arrays]
    assert_matches(ops.einsum(subscripts, *ints), np.einsum(subscripts, *ints), dtype="int32")


def test_einsum_errors():
    with pytest.raises(ValueError, match=r"einsum\(\).*\(2, 3\).*\(4, 5\)"):
        ops.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)))


def test_outer_inner_vdot_kron_cross_trace():
    a, b = sample((2, 3), "float32", seed=1), sample((2, 3), "float32", seed=2)
    assert_matches(ops.outer(a, b), np.outer(a, b), rtol=1e-5)
    assert_matches(ops.inner(a, b), np.inner(a, b), rtol=1e-5, atol=1e-5)
    assert_matches(ops.vdot(a, b), np.vdot(a, b), rtol=1e-5)
    assert_matches(ops.kron(a, b), np.kron(a, b), rtol=1e-5)
    assert_matches(ops.cross(a, b), np.cross(a, b), rtol=1e-5, atol=1e-5)
    assert_matches(ops.cross(a[:, :2], b[:, :2]), a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], rtol=1e-5, atol=1e-5)
    assert_matches(ops.cross(a.T, b.T, axis=0), np.cross(a.T, b.T, axis=0), rtol=1e-5, atol=1e-5)
    x = sample((3, 4), "int32")
    assert_matches(ops.trace(x), np.trace(x), dtype="int32")
    assert_matches(ops.trace(x, offset=1), np.trace(x, offset=1))
    y = sample((2, 3, 3), "float32")
    assert_matches(ops.trace(y, 0, 1, 2), np.trace(y, 0, 1, 2), rtol=1e-5)


def test_correlate_vander_corrcoef_slogdet_trapezoid():
    a = np.array([1.0, 2.0, 3.0, 4.0], dtype="float32")
    v = np.array([0.0, 1.0, 0.5], dtype="float32")
    for mode in ("valid", "same", "full"):
        assert_matches(ops.correlate(a, v, mode=mode), np.correlate(a, v, mode=mode), rtol=1e-5)
        assert_matches(ops.correlate(v, a, mode=mode), np.correlate(v, a, mode=mode), rtol=1e-5)
    assert_matches(ops.vander(np.array([1, 2, 3]), 4), np.vander([1, 2, 3], 4))
    assert_matches(ops.vander(np.array([1, 2, 3]), increasing=True), np.vander([1, 2, 3], increasing=True))
    m = sample((3, 5), "float32", seed=5)
    assert_matches(ops.corrcoef(m), np.corrcoef(m), rtol=1e-4, atol=1e-5)
    square = m[:, :3] + 3 * np.eye(3, dtype="float32")
    sign, logdet = ops.slogdet(square)
    ref_sign, ref_logdet = np.linalg.slogdet(square)
    assert_matches(sign, ref_sign)
    assert_matches(logdet, ref_logdet, rtol=1e-5)
    assert_matches(ops.trapezoid(a), np.trapezoid(a))
    assert_matches(ops.trapezoid(a, x=np.array([0.0, 1.0, 3.0, 4.0])), np.trapezoid(a, x=[0.0, 1.0, 3.0, 4.0]))


def test_vectorize():
    fn = ops.vectorize(lambda x, y: x * 2 + y)
    assert_matches(fn(np.array([[1.0, 2.0]], dtype="float32"), np.array([[1.0], [3.0]], dtype="float32")),
                   [[3.0, 5.0], [5.0, 7.0]])
    with pytest.raises(NotImplementedError, match="signature"):
        ops.vectorize(lambda x: x, signature="(n)->()")


def test_product_gradients():
    a = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(ops.matmul, (a, b))
    assert torch.autograd.gradcheck(lambda x, y: ops.einsum("ij,jk->ik", x, y), (a, b))
    assert torch.autograd.gradcheck(lambda x, y: ops.tensordot(x, y, axes=([1], [0])), (a, b))
