"""Sorting, searching and counting values: ``keras.ops`` sort, argsort, searchsorted, digitize, bincount...

Index results are int32 as in Keras on torch; sorts are stable (ties keep their order, as NumPy's
``kind="stable"``); ``axis=None`` works on the flattened tensor.

Example:
    >>> import easynn.ops as ops
    >>> ops.argsort(ops.convert_to_tensor([3, 1, 2])), ops.searchsorted(ops.convert_to_tensor([1, 3]), 2)
    (tensor([1, 2, 0], dtype=torch.int32), tensor(1, dtype=torch.int32))
"""

from __future__ import annotations

import builtins
from typing import Any

import torch

from easynn.ops._convert import Tensor, like, tensor
from easynn.ops._dispatch import op
from easynn.ops.numpy_reduce import _axes, _float_compute

__all__ = ["argpartition", "argsort", "bincount", "digitize", "histogram", "searchsorted", "sort", "unique"]


@op
def sort(x: Any, axis: int = -1) -> Tensor:
    """Sorted copy along ``axis`` (of the flattened tensor when ``axis=None``)."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), -1
    _axes("sort", axis, x.ndim)
    if x.dtype == torch.bool:
        return torch.sort(x.to(torch.uint8), dim=axis, stable=True).values.bool()
    return torch.sort(x, dim=axis, stable=True).values


@op
def argsort(x: Any, axis: int = -1) -> Tensor:
    """Indices (int32) that sort ``x`` along ``axis``, stable for ties."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), -1
    _axes("argsort", axis, x.ndim)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if x.ndim == 0:
        return torch.zeros((), dtype=torch.int32, device=x.device)
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


@op
def argpartition(x: Any, kth: int, axis: int = -1) -> Tensor:
    """Indices (int32) that put the ``kth`` smallest element in place, smaller ones before it (a full argsort)."""
    x = tensor(x)
    if not -x.shape[axis] <= kth < x.shape[axis]:
        raise ValueError(f"argpartition(): `kth` {kth} is out of bounds for length {x.shape[axis]} along axis {axis}.")
    return argsort.__wrapped__(x, axis)


@op
def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    """Indices (int32) where ``values`` go into the 1-D ``sorted_sequence`` to keep it sorted."""
    sorted_sequence = tensor(sorted_sequence)
    values = like(values, sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError("searchsorted(): `sorted_sequence` must be 1-D. "
                         f"Received: sorted_sequence.shape={tuple(sorted_sequence.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted(): `side` must be 'left' or 'right'. Received: side={side!r}")
    dtype = torch.promote_types(sorted_sequence.dtype, values.dtype)
    return torch.searchsorted(sorted_sequence.to(dtype), values.to(dtype), side=side, out_int32=True)


@op
def digitize(x: Any, bins: Any) -> Tensor:
    """Index (int32) of the bin of each value: ``bins[i-1] <= x < bins[i]`` for increasing ``bins``."""
    x = tensor(x)
    bins = like(bins, x)
    dtype = torch.promote_types(x.dtype, bins.dtype)
    if dtype == torch.bool:
        dtype = torch.uint8
    x, bins = x.to(dtype), bins.to(dtype)
    if bins.numel() > 1 and bool(bins[0] > bins[-1]):  # decreasing bins: bins[i-1] > x >= bins[i]
        return bins.numel() - torch.bucketize(x, bins.flip(0), right=True, out_int32=True)
    return torch.bucketize(x, bins, right=True, out_int32=True)


@op
def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """Count (int32) of each value in non-negative integer ``x`` (1-D, or 2-D counted per row)."""
    if sparse:
        raise ValueError("bincount(): `sparse=True` is not supported with the torch backend.")
    x = tensor(x)
    if x.is_floating_point() or x.ndim not in (1, 2):
        raise ValueError(f"bincount(): `x` must be a 1-D or 2-D integer tensor. Received: {x.dtype}, "
                         f"shape={tuple(x.shape)}")
    if x.numel() and int(x.min()) < 0:
        raise ValueError("bincount(): `x` must not contain negative values.")
    length = builtins.max(int(x.max()) + 1 if x.numel() else 0, minlength)
    if weights is None:
        out_dtype, weights_2d = torch.int32, None
    else:
        weights = like(weights, x)
        out_dtype = torch.promote_types(x.dtype, weights.dtype)
        weights_2d = weights.reshape(-1, x.shape[-1]).to(torch.float64)
    rows = x.reshape(-1, x.shape[-1]).long()
    offsets = torch.arange(rows.shape[0], device=x.device).unsqueeze(1) * length
    flat = torch.bincount((rows + offsets).reshape(-1), None if weights_2d is None else weights_2d.reshape(-1),
                          minlength=rows.shape[0] * length)
    return flat.reshape(rows.shape[0], length)[0 if x.ndim == 1 else slice(None)].to(out_dtype)


@op
def histogram(x: Any, bins: int = 10, range: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Counts (int32) of ``x`` in ``bins`` equal bins over ``range`` (default: min..max), and the bin edges."""
    x = tensor(x).reshape(-1)
    x, _ = _float_compute(x)
    lo, hi = (x.min(), x.max()) if range is None else (torch.tensor(float(range[0])), torch.tensor(float(range[1])))
    lo, hi = float(lo), float(hi)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = torch.linspace(lo, hi, bins + 1, dtype=x.dtype, device=x.device)
    inside = x[(x >= lo) & (x <= hi)]
    index = torch.clamp(torch.bucketize(inside, edges, right=True) - 1, 0, bins - 1)
    return torch.bincount(index, minlength=bins).to(torch.int32), edges


@op
def unique(x: Any, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           axis: Any = None, size: Any = None, fill_value: Any = None) -> Any:
    """Sorted unique values (of the flattened tensor, or of slices along ``axis``); optionally inverse/counts.

    ``size`` pads (with ``fill_value``, default the smallest value) or truncates the result to a fixed length.
    """
    x = tensor(x)
    values, inverse, counts = torch.unique(x, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    if size is not None:
        n = values.shape[0 if axis is None else axis]
        if n < size:
            fill = values.min() if fill_value is None and values.numel() else (fill_value or 0)
            pad_shape = list(values.shape)
            pad_shape[0 if axis is None else axis] = size - n
            values = torch.cat([values, torch.full(pad_shape, fill, dtype=values.dtype, device=values.device)],
                               dim=0 if axis is None else axis)
            counts = torch.cat([counts, counts.new_zeros(size - n)])
        else:
            values = values.narrow(0 if axis is None else axis, 0, size)
            counts = counts[:size]
    result = [values]
    if return_inverse:
        result.append(inverse.to(torch.int32))
    if return_counts:
        result.append(counts.to(torch.int32))
    return result[0] if len(result) == 1 else tuple(result)
