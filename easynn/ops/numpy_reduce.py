"""Reductions, cumulative ops, statistics and sorting of ``keras.ops`` (NumPy family) on torch.

Conventions: ``axis=None`` reduces over every axis; ``axis`` may be an int (negative counts from
the end) or a tuple of ints; ``keepdims=True`` keeps reduced axes with length 1. Result dtypes
follow Keras on torch: ``sum``/``prod``/``cumsum`` of bool, int8, int16 and uint8 give int32 and
other integers keep their dtype; ``mean``/``var``/``std``/``median``/``quantile`` of integers give
float32; ``argmax``/``argmin``/``count_nonzero`` give int32. Sorting, searching and counting
values (sort, argsort, searchsorted, digitize, bincount, histogram, unique) are in ``numpy_sort``.

Example:
    >>> import easynn.ops as ops
    >>> x = ops.convert_to_tensor([[1, 2], [3, 4]])
    >>> ops.sum(x), ops.mean(x, axis=0), ops.argmax(x, axis=-1)
    (tensor(10, dtype=torch.int32), tensor([2., 3.]), tensor([1, 1], dtype=torch.int32))
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

import torch

from easynn.ops._convert import Tensor, _floatx_dtype, fail, like, tensor, to_torch_dtype
from easynn.ops._dispatch import AxisError, op, reduction_op

__all__ = [
    "all", "amax", "amin", "any", "argmax", "argmin", "average", "count_nonzero", "cumprod", "cumsum", "diff",
    "max", "mean", "median", "min", "nanmax", "nanmean", "nanmin", "nanprod", "nansum", "prod", "ptp", "quantile", "std",
    "sum", "var",
]

_SMALL_INTS = frozenset({torch.bool, torch.uint8, torch.int8, torch.int16})


def _axes(name: str, axis: Any, ndim: int) -> Any:
    """``axis`` checked against ``ndim``: None, an int, or a tuple of ints (negatives allowed)."""
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    items = []
    for a in axis if many else (axis,):
        try:
            if isinstance(a, bool):
                raise TypeError
            a = operator.index(a)  # ints, NumPy ints, 0-d integer tensors
        except TypeError:
            raise TypeError(f"{name}(): `axis` must be None, an int or a tuple of ints. Received: axis={axis!r}") \
                from None
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise AxisError(f"{name}(): `axis` {a!r} is out of bounds for a tensor of rank {ndim}. "
                            f"Received: axis={axis!r}")
        items.append(a)
    return tuple(items) if many else items[0]


def _sum_dtype(x: Tensor) -> torch.dtype:
    return torch.int32 if x.dtype in _SMALL_INTS else x.dtype


@reduction_op(torch.sum)
def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras's name
    """Sum of elements over ``axis`` (bool and small ints give int32, other dtypes are kept).

    Example:
        >>> sum(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1, keepdims=True)
        tensor([[3.],
                [7.]])
    """
    if not isinstance(x, Tensor):
        x = tensor(x)
    dtype = x.dtype
    if dtype in _SMALL_INTS:
        dtype = torch.int32
    if type(axis) in (tuple, list) and not axis:
        return x.to(dtype)
    try:  # torch checks `axis`; its error is rewritten below (cheaper than checking first)
        return torch.sum(x, dim=axis, keepdim=keepdims, dtype=dtype)
    except (IndexError, RuntimeError, TypeError) as error:
        _axes("sum", axis, x.ndim)
        raise fail("sum", error, x=x) from None


@op
def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product of elements over ``axis`` (bool and small ints give int32)."""
    x = tensor(x)
    out_dtype = to_torch_dtype(dtype) or _sum_dtype(x)
    axis = _axes("prod", axis, x.ndim)
    if axis is None:
        out = torch.prod(x.to(out_dtype)).to(out_dtype)  # torch.prod widens integers to int64
        return out.reshape((1,) * x.ndim) if keepdims else out
    x = x.to(out_dtype)
    for a in sorted((a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,))), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims)
    return x.to(out_dtype)


def _float_compute(x: Tensor) -> tuple[Tensor, torch.dtype]:
    """(x in a float compute dtype, the result dtype): ints -> floatx; half types compute in float32."""
    if x.is_floating_point():
        if x.dtype in (torch.float16, torch.bfloat16):
            return x.float(), x.dtype
        return x, x.dtype
    if x.is_complex():
        return x, x.dtype
    return x.to(_floatx_dtype()), _floatx_dtype()


@reduction_op(torch.mean)
def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (integers give float32).

    Example:
        >>> mean(torch.tensor([1, 2, 4]))
        tensor(2.3333)
    """
    if not isinstance(x, Tensor):
        x = tensor(x)
    if type(axis) in (tuple, list) and not axis:
        return _float_compute(x)[0].to(_float_compute(x)[1])
    try:
        if x.dtype == torch.float32:
            return torch.mean(x, dim=axis, keepdim=keepdims)
        x, out = _float_compute(x)
        return torch.mean(x, dim=axis, keepdim=keepdims).to(out)
    except (IndexError, RuntimeError, TypeError) as error:
        _axes("mean", axis, x.ndim)
        raise fail("mean", error, x=x) from None


@op
def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population variance (NumPy's ``ddof=0``) over ``axis``."""
    x = tensor(x)
    if type(axis) in (tuple, list) and not axis:
        return torch.zeros_like(_float_compute(x)[0], dtype=_float_compute(x)[1])
    axis = _axes("var", axis, x.ndim)
    x, out = _float_compute(x)
    return torch.var(x, dim=axis, keepdim=keepdims, correction=0).to(out)


@op
def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation (NumPy's ``ddof=0``) over ``axis``."""
    x = tensor(x)
    if type(axis) in (tuple, list) and not axis:
        return torch.zeros_like(_float_compute(x)[0], dtype=_float_compute(x)[1])
    axis = _axes("std", axis, x.ndim)
    x, out = _float_compute(x)
    return torch.std(x, dim=axis, keepdim=keepdims, correction=0).to(out)


def _extreme(name: str, torch_fn: Any, x: Any, axis: Any, keepdims: bool, initial: Any) -> Tensor:
    x = tensor(x)
    if type(axis) in (tuple, list) and not axis:
        return x  # NumPy: reducing over no axis is the identity
    dim = () if axis is None else _axes(name, axis, x.ndim)
    if x.numel() == 0 and initial is not None:
        shape = torch.sum(x, dim=dim, keepdim=keepdims).shape
        return torch.full(shape, initial, dtype=x.dtype, device=x.device)
    try:
        out = torch_fn(x, dim=dim, keepdim=keepdims)
    except (RuntimeError, IndexError) as error:
        raise ValueError(f"{name}(): cannot reduce an empty axis without `initial` (NumPy raises too). "
                         f"Received: x.shape={tuple(x.shape)}, axis={axis!r}. (torch: {error})") from None
    if initial is not None:
        better = torch.maximum if name == "max" else torch.minimum
        out = better(out, like(initial, out).to(out.dtype))
    return out


@op
def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; ``initial`` is a lower bound for the result."""
    return _extreme("max", torch.amax, x, axis, keepdims, initial)


@op
def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; ``initial`` is an upper bound for the result."""
    return _extreme("min", torch.amin, x, axis, keepdims, initial)


@op
def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` (alias of :func:`max` without ``initial``)."""
    return _extreme("amax", torch.amax, x, axis, keepdims, None)


@op
def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` (alias of :func:`min` without ``initial``)."""
    return _extreme("amin", torch.amin, x, axis, keepdims, None)


@op
def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Range ``max - min`` over ``axis``."""
    x = tensor(x)
    return amax.__wrapped__(x, axis, keepdims) - amin.__wrapped__(x, axis, keepdims)


def _logical(name: str, torch_fn: Any, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = tensor(x)
    if type(axis) in (tuple, list) and not axis:
        return x != 0
    axis = _axes(name, axis, x.ndim)
    if axis is None:
        out = torch_fn(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch_fn(x, dim=axis, keepdim=keepdims)


@op
def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras's name
    """True where every element over ``axis`` is nonzero."""
    return _logical("all", torch.all, x, axis, keepdims)


@op
def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras's name
    """True where some element over ``axis`` is nonzero."""
    return _logical("any", torch.any, x, axis, keepdims)


def _arg_extreme(name: str, torch_fn: Any, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{name}(): `axis` must be None or an int. Received: axis={axis!r}")
    axis = _axes(name, axis, x.ndim)
    if x.numel() == 0:
        raise ValueError(f"{name}(): attempt to get {name} of an empty tensor. Received: x.shape={tuple(x.shape)}")
    out = torch_fn(x, dim=axis, keepdim=keepdims and axis is not None).to(torch.int32)
    if keepdims and axis is None:
        out = out.reshape((1,) * x.ndim)
    return out


@op
def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index (int32) of the first maximum over ``axis`` (of the flattened tensor when ``axis=None``)."""
    return _arg_extreme("argmax", torch.argmax, x, axis, keepdims)


@op
def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index (int32) of the first minimum over ``axis`` (of the flattened tensor when ``axis=None``)."""
    return _arg_extreme("argmin", torch.argmin, x, axis, keepdims)


def _cumulative(name: str, torch_fn: Any, x: Any, axis: Any, dtype: Any) -> Tensor:
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    _axes(name, axis, x.ndim)
    out_dtype = to_torch_dtype(dtype) or (torch.int32 if x.dtype == torch.bool else x.dtype)
    if out_dtype in (torch.float16, torch.bfloat16) and x.device.type == "cpu":
        return torch_fn(x, dim=axis, dtype=torch.float32).to(out_dtype)
    return torch_fn(x, dim=axis, dtype=out_dtype)


@op
def cumsum(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``axis`` (of the flattened tensor when ``axis=None``)."""
    return _cumulative("cumsum", torch.cumsum, x, axis, dtype)


@op
def cumprod(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Cumulative product along ``axis`` (of the flattened tensor when ``axis=None``)."""
    return _cumulative("cumprod", torch.cumprod, x, axis, dtype)


@op
def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """``n``-th discrete difference along ``axis``."""
    a = tensor(a)
    _axes("diff", axis, a.ndim)
    if a.dtype == torch.bool:
        return torch.diff(a.to(torch.uint8), n=n, dim=axis).bool() if n == 1 else torch.diff(a, n=n, dim=axis)
    return torch.diff(a, n=n, dim=axis)


@op
def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    """Number (int32) of nonzero elements over ``axis``."""
    x = tensor(x)
    if type(axis) in (tuple, list) and not axis:
        return (x != 0).to(torch.int32)
    return torch.count_nonzero(x, dim=_axes("count_nonzero", axis, x.ndim)).to(torch.int32)


def _move_to_end(x: Tensor, axis: Any) -> tuple[Tensor, list[int]]:
    """``x`` with the axes in ``axis`` flattened into one last axis; also the sorted axes."""
    if axis is None:
        return x.reshape(-1), list(range(x.ndim))
    axes = sorted(a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    rest = [d for d in range(x.ndim) if d not in axes]
    x = x.permute(*rest, *axes)
    return x.reshape(*x.shape[: len(rest)], -1), axes


def _restore(y: Tensor, axes: list[int], ndim: int, keepdims: bool, lead: int = 0) -> Tensor:
    if not keepdims:
        return y
    for a in axes:
        y = y.unsqueeze(a + lead)
    return y if axes else y.reshape(y.shape[:lead] + (1,) * ndim)


@op
def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th quantile(s) over ``axis``; ``method`` as NumPy's: linear, lower, higher, midpoint, nearest."""
    x = tensor(x)
    x, out = _float_compute(x)
    q = like(q, x).to(x.dtype)
    if (q < 0).any() or (q > 1).any():
        raise ValueError(f"quantile(): `q` must be in [0, 1]. Received: q={q.tolist()}")
    axis = _axes("quantile", axis, x.ndim)
    ndim = x.ndim
    flat, axes = _move_to_end(x, axis)
    y = torch.quantile(flat, q, dim=-1, interpolation=method)
    return _restore(y, axes, ndim, keepdims, lead=q.ndim).to(out)


@op
def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Median over ``axis`` (the mean of the two middle values for even counts, as in NumPy)."""
    return quantile.__wrapped__(x, 0.5, axis=axis, keepdims=keepdims)


@op
def average(x: Any, axis: Any = None, weights: Any = None) -> Tensor:
    """Weighted mean over ``axis``; 1-D ``weights`` apply along ``axis``, else they match ``x``'s shape."""
    x = tensor(x)
    if weights is None:
        return mean.__wrapped__(x, axis)
    weights = like(weights, x)
    dtype = torch.promote_types(torch.promote_types(x.dtype, weights.dtype), _floatx_dtype())
    x, weights = x.to(dtype), weights.to(dtype)
    if weights.shape != x.shape:
        if axis is None or weights.ndim != 1 or weights.shape[0] != x.shape[axis]:
            raise ValueError("average(): `weights` must have the shape of `x`, or be 1-D with the length of "
                             f"`x` along `axis`. Received: x.shape={tuple(x.shape)}, "
                             f"weights.shape={tuple(weights.shape)}, axis={axis}")
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    total = torch.sum(weights.expand_as(x), dim=axis)
    return torch.sum(x * weights, dim=axis) / total


def _nan_fill(x: Tensor, value: float) -> Tensor:
    return torch.where(torch.isnan(x), torch.full_like(x, value), x) if x.is_floating_point() else x


@op
def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` treating NaN as 0."""
    return sum.__wrapped__(_nan_fill(tensor(x), 0.0), axis, keepdims)


@op
def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` treating NaN as 1: ``prod(where(isnan(x), 1, x))``.

    Args:
        x: input tensor.
        axis: None (every axis), an int or a tuple of ints.
        keepdims: keep the reduced axes with length 1.

    Returns:
        The product; dtypes as ``prod`` (bool and small ints give int32). A slice that is all NaN gives 1.

    Example:
        >>> nanprod(torch.tensor([[1.0, float("nan"), 3.0], [float("nan"), 2.0, 1.0]]), axis=1)
        tensor([3., 2.])
    """
    return prod.__wrapped__(_nan_fill(tensor(x), 1.0), axis, keepdims)


@op
def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` ignoring NaN."""
    x = tensor(x)
    x, out = _float_compute(x)
    return torch.nanmean(x, dim=_axes("nanmean", axis, x.ndim), keepdim=keepdims).to(out)


@op
def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` ignoring NaN (NaN where a slice is all NaN)."""
    x = tensor(x)
    out = amax.__wrapped__(_nan_fill(x, float("-inf")), axis, keepdims)
    if x.is_floating_point():
        out = torch.where(all.__wrapped__(torch.isnan(x), axis, keepdims), torch.full_like(out, float("nan")), out)
    return out


@op
def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` ignoring NaN (NaN where a slice is all NaN)."""
    x = tensor(x)
    out = amin.__wrapped__(_nan_fill(x, float("inf")), axis, keepdims)
    if x.is_floating_point():
        out = torch.where(all.__wrapped__(torch.isnan(x), axis, keepdims), torch.full_like(out, float("nan")), out)
    return out
