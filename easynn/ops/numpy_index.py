"""Indexing of ``keras.ops`` (NumPy family) on torch: take, take_along_axis, get_item, nonzero, diagonals.

NumPy's semantics: ``take``/``take_along_axis`` accept negative indices (and ``axis=None`` for the
flattened tensor); ``nonzero`` returns a tuple of int32 index tensors, one per axis; an index out
of range raises ``AxisError`` (a ValueError and an IndexError) naming the op.

Example:
    >>> import easynn.ops as ops
    >>> x = ops.reshape(ops.arange(6), (2, 3))
    >>> ops.take(x, [-1, 0], axis=1), ops.tril(x)
    (tensor([[2, 0],
            [5, 3]], dtype=torch.int32), tensor([[0, 0, 0],
            [3, 4, 0]], dtype=torch.int32))
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.ops._convert import Tensor, convert_to_tensor, like, tensor
from easynn.ops._dispatch import op
from easynn.ops.numpy_array import _check_axis

__all__ = ["diag", "diagflat", "diagonal", "get_item", "nonzero", "take", "take_along_axis", "tril", "triu",
           "unravel_index"]


@op
def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened tensor when None); negatives count back."""
    x = tensor(x)
    indices = tensor(indices)
    if indices.device != x.device:
        indices = indices.to(x.device)
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise TypeError(f"take(): `indices` must be integers. Received: indices.dtype={indices.dtype}")
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _check_axis("take", axis, x.ndim)
    n = x.shape[axis]
    index = indices.long()
    index = torch.where(index < 0, index + n, index)
    out = torch.index_select(x, axis, index.reshape(-1))
    return out.reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])


@op
def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """``x`` gathered along ``axis`` by ``indices`` (broadcast against ``x``; negatives count back)."""
    x = tensor(x)
    indices = like(indices, x).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _check_axis("take_along_axis", axis, x.ndim)
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis(): `indices` must have the rank of `x`. "
                         f"Received: x.shape={tuple(x.shape)}, indices.shape={tuple(indices.shape)}")
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    shape = list(torch.broadcast_shapes(x.shape[:axis] + (1,) + x.shape[axis + 1:],
                                        indices.shape[:axis] + (1,) + indices.shape[axis + 1:]))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[axis], i_shape[axis] = x.shape[axis], indices.shape[axis]
    return torch.gather(x.expand(x_shape), axis, indices.expand(i_shape))


@op
def get_item(x: Any, key: Any) -> Tensor:
    """``x[key]`` (NumPy basic and advanced indexing)."""
    x = tensor(x)
    if isinstance(key, list):
        key = convert_to_tensor(key)
    return x[key]  # an IndexError becomes easynn's AxisError naming get_item (see _dispatch.op)


@op
def nonzero(x: Any) -> tuple[Tensor, ...]:
    """Indices (a tuple of int32 tensors, one per axis) of the nonzero elements."""
    x = tensor(x)
    return tuple(i.to(torch.int32) for i in torch.nonzero(x.reshape(1) if x.ndim == 0 else x, as_tuple=True))


@op
def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """Coordinates (one tensor per axis) of flat ``indices`` in a tensor of ``shape``."""
    indices = tensor(indices)
    return tuple(i.to(indices.dtype) for i in torch.unravel_index(indices, tuple(shape)))


@op
def diag(x: Any, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a 2-D tensor, or a 2-D tensor with 1-D ``x`` on its ``k``-th diagonal."""
    x = tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag(): `x` must be 1-D or 2-D. Received: x.shape={tuple(x.shape)}")
    return torch.diag(x, k)


@op
def diagflat(x: Any, k: int = 0) -> Tensor:
    """A 2-D tensor with the flattened ``x`` on its ``k``-th diagonal."""
    return torch.diagflat(tensor(x), k)


@op
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal(s) over ``axis1``/``axis2``, appended as the last axis."""
    x = tensor(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal(): `x` must have rank >= 2. Received: x.shape={tuple(x.shape)}")
    return torch.diagonal(x, offset, _check_axis("diagonal", axis1, x.ndim, "axis1"),
                          _check_axis("diagonal", axis2, x.ndim, "axis2"))


@op
def tril(x: Any, k: int = 0) -> Tensor:
    """Zero the elements above the ``k``-th diagonal of the last two axes."""
    return torch.tril(tensor(x), k)


@op
def triu(x: Any, k: int = 0) -> Tensor:
    """Zero the elements below the ``k``-th diagonal of the last two axes."""
    return torch.triu(tensor(x), k)
