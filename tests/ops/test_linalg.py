"""easynn.ops linalg family against NumPy's linalg (the semantic reference) on random matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from easynn import ops
from easynn.ops import linalg

RNG = np.random.default_rng(0)


def _spd(n=3, batch=()):
    a = RNG.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("batch", [(), (2,)])
def test_inv_det_solve_cholesky_against_numpy(batch):
    a = _spd(3, batch)
    b = RNG.normal(size=batch + (3, 2))
    np.testing.assert_allclose(linalg.inv(a).numpy(), np.linalg.inv(a), rtol=1e-8)
    np.testing.assert_allclose(linalg.det(a).numpy(), np.linalg.det(a), rtol=1e-8)
    np.testing.assert_allclose(linalg.solve(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-8)
    chol = linalg.cholesky(a).numpy()
    np.testing.assert_allclose(chol, np.linalg.cholesky(a), rtol=1e-8)
    np.testing.assert_allclose(linalg.cholesky(a, upper=True).numpy(), np.swapaxes(chol, -1, -2), rtol=1e-8)
    np.testing.assert_allclose(linalg.cholesky_inverse(chol).numpy(), np.linalg.inv(a), rtol=1e-6)


def test_integer_inputs_are_computed_in_float():
    out = linalg.inv([[2, 0], [0, 4]])
    assert out.dtype == torch.float32 and out.tolist() == [[0.5, 0.0], [0.0, 0.25]]


def test_eig_eigh_svd_qr_reconstruct():
    a = _spd(4)
    values, vectors = linalg.eigh(a)
    np.testing.assert_allclose(values.numpy(), np.linalg.eigvalsh(a), rtol=1e-8)
    np.testing.assert_allclose(vectors.numpy() @ np.diag(values.numpy()) @ vectors.numpy().T, a, rtol=1e-8)
    general = RNG.normal(size=(3, 3))
    w, v = linalg.eig(general)
    np.testing.assert_allclose(general @ v.numpy(), v.numpy() * w.numpy(), atol=1e-8)
    m = RNG.normal(size=(4, 3))
    u, s, vh = linalg.svd(m, full_matrices=False)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(m, compute_uv=False), rtol=1e-8)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ vh.numpy(), m, atol=1e-8)
    assert linalg.svd(m)[0].shape == (4, 4)
    np.testing.assert_allclose(linalg.svd(m, compute_uv=False).numpy(), s.numpy())
    q, r = linalg.qr(m)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), m, atol=1e-8)


def test_lu_factor_pivots_are_zero_based_and_reconstruct():
    a = RNG.normal(size=(4, 4))
    lu, pivots = linalg.lu_factor(a)
    lu = lu.numpy()
    lower, upper = np.tril(lu, -1) + np.eye(4), np.triu(lu)
    permuted = a.copy()
    for i, p in enumerate(pivots.tolist()):  # LAPACK's row swaps, 0-based
        permuted[[i, p]] = permuted[[p, i]]
    np.testing.assert_allclose(lower @ upper, permuted, atol=1e-8)
    assert pivots.dtype == torch.int32 and pivots.min() >= 0


@pytest.mark.parametrize("ord_, axis", [(None, None), (1, None), ("fro", None), ("nuc", None), (np.inf, None),
                                        (None, 1), (3, 0), (-np.inf, 1), (2, (0, 1)), (-1, (1, 0))])
def test_norm_matches_numpy(ord_, axis):
    x = RNG.normal(size=(3, 4))
    ord_arg = ord_
    expected = np.linalg.norm(x, ord=ord_arg, axis=axis)
    np.testing.assert_allclose(linalg.norm(x, ord=ord_arg, axis=axis).numpy(), expected, rtol=1e-8)
    keep = linalg.norm(x, ord=ord_arg, axis=axis, keepdims=True).numpy()
    np.testing.assert_allclose(keep, np.linalg.norm(x, ord=ord_arg, axis=axis, keepdims=True), rtol=1e-8)


def test_norm_of_vectors_and_higher_rank():
    v = RNG.normal(size=5)
    np.testing.assert_allclose(ops.norm(v).numpy(), np.linalg.norm(v))
    np.testing.assert_allclose(linalg.norm(v, ord=1).numpy(), np.abs(v).sum())
    t = RNG.normal(size=(2, 3, 4))
    np.testing.assert_allclose(linalg.norm(t).numpy(), np.sqrt((t ** 2).sum()))


def test_solve_triangular_and_lstsq():
    a = np.triu(RNG.normal(size=(3, 3))) + 3 * np.eye(3)
    b = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(linalg.solve_triangular(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-8)
    np.testing.assert_allclose(linalg.solve_triangular(a.T, b[:, 0], lower=True).numpy(), np.linalg.solve(a.T, b[:, 0]),
                               rtol=1e-8)
    tall = RNG.normal(size=(6, 3))
    rhs = RNG.normal(size=6)
    np.testing.assert_allclose(linalg.lstsq(tall, rhs).numpy(), np.linalg.lstsq(tall, rhs, rcond=None)[0], rtol=1e-7)


def test_gradients_flow_through_inv_and_det():
    a = torch.tensor(_spd(3), requires_grad=True)
    linalg.det(a).backward()
    torch.testing.assert_close(a.grad, torch.det(a.detach()) * torch.inverse(a.detach()).T)
    assert torch.autograd.gradcheck(lambda m: linalg.inv(m), (torch.tensor(_spd(2), requires_grad=True),))


def test_bad_inputs_raise_value_errors_naming_the_op():
    with pytest.raises(ValueError, match="inv"):
        linalg.inv(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="square"):
        linalg.det(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cholesky"):
        linalg.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="solve"):
        linalg.solve(np.eye(3), np.ones((2, 1)))
