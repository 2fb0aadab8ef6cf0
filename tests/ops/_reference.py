"""Shared inputs and comparisons for the ``easynn.ops`` NumPy-family tests (NumPy is the reference)."""

import numpy as np
import torch

from easynn import ops

SHAPES = [(), (5,), (2, 3), (2, 3, 4)]


def sample(shape, dtype, seed=0, low=-3.0, high=3.0):
    """Deterministic values of ``dtype`` ("float32", "int32", "bool") as a NumPy array."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int") or dtype.startswith("uint"):
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def assert_matches(out, expected, dtype=None, rtol=1e-5, atol=1e-6):
    """``out`` (a torch tensor) equals NumPy's ``expected`` in values and shape, and has ``dtype`` if given."""
    assert isinstance(out, torch.Tensor), type(out)
    got = ops.convert_to_numpy(out)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if dtype is not None:
        assert str(out.dtype) == f"torch.{dtype}", (out.dtype, dtype)
    if expected.dtype.kind in "fc" or got.dtype.kind in "fc":
        wide = np.complex128 if "c" in (expected.dtype.kind, got.dtype.kind) else np.float64
        np.testing.assert_allclose(got.astype(wide), expected.astype(wide), rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)
