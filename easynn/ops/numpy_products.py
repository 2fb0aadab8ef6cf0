"""Products and contractions of ``keras.ops`` (NumPy family) on torch: matmul, dot, einsum, tensordot...

Dtypes follow Keras on torch: the result has the operands' promoted dtype (int8 @ int8 gives
int32, as in JAX); integer and bool contractions are computed in floating point where torch has no
integer kernel and cast back. ``dot`` follows NumPy for N-D operands (it contracts the last axis of
``x1`` with the second-to-last of ``x2``; ``matmul`` broadcasts batch axes instead). Shapes that do
not contract raise ``ValueError`` naming both shapes.

Example:
    >>> import easynn.ops as ops
    >>> a = ops.ones((2, 3))
    >>> ops.matmul(a, ops.ones((3, 4))).shape, ops.einsum("ij,kj->ik", a, a)
    (torch.Size([2, 4]), tensor([[3., 3.],
            [3., 3.]]))
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from easynn.ops._convert import Tensor, fail, is_int, pair, seq, tensor
from easynn.ops._dispatch import binary_op, op

__all__ = ["correlate", "cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "slogdet", "tensordot",
           "trace", "trapezoid", "vander", "vdot", "vectorize", "corrcoef"]


def _result_dtype(a: Tensor, b: Tensor) -> torch.dtype:
    if a.dtype == torch.int8 and b.dtype == torch.int8:
        return torch.int32
    return torch.promote_types(a.dtype, b.dtype)


def _contract(name: str, torch_fn: Callable, x1: Any, x2: Any, *extra: Any) -> Tensor:
    x1, x2 = pair(x1, x2)
    out_dtype = _result_dtype(x1, x2)
    compute = out_dtype
    if not (compute.is_floating_point or compute.is_complex):
        # exact for integer results below 2**53
        compute = torch.float64 if (is_int(compute) and x1.device.type == "cpu") else torch.float32
    try:
        out = torch_fn(x1.to(compute), x2.to(compute), *extra)
    except (RuntimeError, IndexError) as error:
        raise fail(name, error, x1=x1, x2=x2) from None
    if out_dtype == torch.bool:
        return out != 0
    return out if out.dtype == out_dtype else out.to(out_dtype)


@binary_op(torch.matmul, same_float_dtype=True)
def matmul(x1: Any, x2: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands are vectors, leading axes broadcast).

    Example:
        >>> matmul(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0], [4.0]]))
        tensor([[11.]])
    """
    return _contract("matmul", torch.matmul, x1, x2)


def _numpy_dot(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return torch.matmul(a, b)
    return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))


@op
def dot(x1: Any, x2: Any) -> Tensor:
    """NumPy's ``dot``: scalars multiply, 1-D is the inner product, N-D contracts x1[-1] with x2[-2]."""
    return _contract("dot", _numpy_dot, x1, x2)


@op
def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """Sum of products over ``axes`` (an int: last/first axes; or a pair of axis lists)."""
    if isinstance(axes, (list, tuple)):
        first, second = axes
        first = list(first) if isinstance(first, (list, tuple)) else [first]
        second = list(second) if isinstance(second, (list, tuple)) else [second]
        axes = (first, second)
    return _contract("tensordot", torch.tensordot, x1, x2, axes)


@op
def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Tensor:
    """Einstein summation over ``operands`` as written in ``subscripts``.

    Example:
        >>> einsum("ii->", torch.eye(3))
        tensor(3.)
    """
    tensors = seq(list(operands), "einsum", "operands")
    dtype = tensors[0].dtype if tensors else torch.float32
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    out_dtype = torch.int32 if tensors and all(t.dtype == torch.int8 for t in tensors) else dtype
    compute = dtype if (dtype.is_floating_point or dtype.is_complex) else torch.float64
    try:
        out = torch.einsum(subscripts, *[t.to(compute) for t in tensors])
    except RuntimeError as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"einsum(): subscripts {subscripts!r} do not fit the operands' shapes {shapes}. "
                         f"(torch: {error})") from None
    if out_dtype == torch.bool:
        return out != 0
    return out.to(out_dtype)


@op
def outer(x1: Any, x2: Any) -> Tensor:
    """Outer product of the flattened inputs."""
    return _contract("outer", lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)), x1, x2)


@op
def inner(x1: Any, x2: Any) -> Tensor:
    """Inner product over the last axes (scalars multiply)."""
    return _contract("inner", torch.inner, x1, x2)


@op
def vdot(x1: Any, x2: Any) -> Tensor:
    """Dot product of the flattened inputs (the first is conjugated)."""
    return _contract("vdot", lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)), x1, x2)


@op
def kron(x1: Any, x2: Any) -> Tensor:
    """Kronecker product."""
    return _contract("kron", torch.kron, x1, x2)


def _cross(a: Tensor, b: Tensor) -> Tensor:
    two_a, two_b = a.shape[-1] == 2, b.shape[-1] == 2
    if two_a and two_b:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    if two_a:
        a = torch.nn.functional.pad(a, (0, 1))
    if two_b:
        b = torch.nn.functional.pad(b, (0, 1))
    a, b = torch.broadcast_tensors(a, b)
    return torch.linalg.cross(a, b, dim=-1)


@op
def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Tensor:
    """Cross product of 3-vectors (or 2-vectors) along ``axisa``/``axisb``; ``axis`` sets all three."""
    x1, x2 = pair(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = torch.moveaxis(x1, axisa, -1), torch.moveaxis(x2, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("cross(): the vectors must have 2 or 3 components along the cross axis. "
                         f"Received: x1.shape={tuple(x1.shape)}, x2.shape={tuple(x2.shape)}")
    out = _contract("cross", _cross, a, b)
    return out if out.ndim == 0 or (a.shape[-1] == 2 and b.shape[-1] == 2) else torch.moveaxis(out, -1, axisc)


@op
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along the diagonal over ``axis1``/``axis2`` (bool and small ints give int32)."""
    x = tensor(x)
    dtype = torch.int32 if x.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16) else x.dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=dtype)


@op
def vander(x: Any, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803 - Keras's name
    """Vandermonde matrix: columns are powers of the 1-D ``x``."""
    x = tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander(): `x` must be 1-D. Received: x.shape={tuple(x.shape)}")
    return torch.vander(x, N=N, increasing=increasing)


@op
def correlate(x1: Any, x2: Any, mode: str = "valid") -> Tensor:
    """Cross-correlation of two 1-D sequences, ``mode`` valid, same or full (NumPy's ``correlate``)."""
    x1, x2 = pair(x1, x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"correlate(): both inputs must be 1-D. Received: x1.shape={tuple(x1.shape)}, "
                         f"x2.shape={tuple(x2.shape)}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate(): `mode` must be 'valid', 'same' or 'full'. Received: mode={mode!r}")
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    out_dtype = dtype if dtype.is_floating_point else torch.float32
    a, v = x1.to(torch.float64 if not dtype.is_floating_point else dtype), x2.to(
        torch.float64 if not dtype.is_floating_point else dtype)
    n, m = a.shape[0], v.shape[0]
    full = torch.nn.functional.conv1d(a.reshape(1, 1, n), v.reshape(1, 1, m), padding=m - 1).reshape(-1)
    if n < m:  # NumPy swaps the inputs, which reverses the output
        full = torch.nn.functional.conv1d(v.reshape(1, 1, m), a.reshape(1, 1, n), padding=n - 1).reshape(-1).flip(0)
    length = full.shape[0]
    if mode == "full":
        out = full
    elif mode == "valid":
        keep = max(n, m) - min(n, m) + 1
        start = (length - keep) // 2
        out = full[start:start + keep]
    else:
        keep = max(n, m)
        start = (min(n, m) - 1) // 2
        out = full[start:start + keep]
    return out.to(out_dtype)


@op
def corrcoef(x: Any) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x``."""
    x = tensor(x)
    if not x.is_floating_point():
        x = x.to(torch.float64 if x.dtype == torch.int64 else torch.float32)
    return torch.corrcoef(x)


@op
def slogdet(x: Any) -> tuple[Tensor, Tensor]:
    """(sign, log|det|) of square matrices."""
    x = tensor(x)
    try:
        return tuple(torch.linalg.slogdet(x))
    except RuntimeError as error:
        raise fail("slogdet", error, x=x) from None


@op
def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (sample points ``x`` or spacing ``dx``)."""
    y = tensor(y)
    if not y.is_floating_point():
        y = y.to(torch.float32)
    if x is not None:
        return torch.trapezoid(y, tensor(x).to(y.dtype), dim=axis)
    return torch.trapezoid(y, dx=dx, dim=axis)


def vectorize(pyfunc: Callable, *, excluded: Any = None, signature: str | None = None) -> Callable:
    """``pyfunc`` (of scalars) applied element-wise over broadcast tensor arguments, through ``torch.vmap``."""
    if signature is not None:
        raise NotImplementedError("vectorize(): `signature` is not implemented in easynn.")
    excluded = set(excluded or ())

    def vectorized(*args: Any, **kwargs: Any) -> Tensor:
        positions = [i for i in range(len(args)) if i not in excluded]
        tensors = torch.broadcast_tensors(*[tensor(args[i]) for i in positions])
        shape = tensors[0].shape if tensors else ()

        def scalar_call(*flat: Tensor) -> Tensor:
            full = list(args)
            for i, value in zip(positions, flat):
                full[i] = value
            return pyfunc(*full, **kwargs)

        out = torch.vmap(scalar_call)(*[t.reshape(-1) for t in tensors])
        return out.reshape(shape)

    return vectorized
