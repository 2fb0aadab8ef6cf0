"""Shapes, joining, splitting, padding and indexing of ``keras.ops`` (NumPy family) on torch.

NumPy's semantics where torch differs: ``transpose`` without ``axes`` reverses every axis;
``squeeze(x, axis)`` raises when that axis is not 1; ``concatenate(axis=None)`` flattens; ``pad``
takes NumPy's ``pad_width`` forms and the modes constant, edge, reflect, symmetric and
wrap/circular. Shape mistakes raise ``ValueError`` naming the op and the shapes. Indexing ops
(take, get_item, nonzero, diagonals, triangles) are in ``numpy_index``.

Example:
    >>> import easynn.ops as ops
    >>> x = ops.reshape(ops.arange(6), (2, 3))
    >>> ops.transpose(x).shape, ops.expand_dims(x, -1).shape, ops.concatenate([x, x], axis=1).shape
    (torch.Size([3, 2]), torch.Size([2, 3, 1]), torch.Size([2, 6]))
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F

from easynn.ops._convert import Tensor, fail, like, seq, tensor, to_torch_dtype
from easynn.ops._dispatch import AxisError, op

__all__ = [
    "append", "array_split", "broadcast_to", "concatenate", "copy", "dstack", "expand_dims", "flip", "hstack",
    "moveaxis", "ndim", "pad", "ravel", "repeat", "reshape", "roll", "rot90", "size", "split", "squeeze",
    "stack", "swapaxes", "tile", "transpose", "view", "vsplit", "vstack",
]


def _check_axis(name: str, axis: Any, ndim: int, arg: str = "axis") -> int:
    try:
        if isinstance(axis, bool):
            raise TypeError
        axis = operator.index(axis)  # ints, NumPy ints
    except TypeError:
        raise TypeError(f"{name}(): `{arg}` must be an int. Received: {arg}={axis!r}") from None
    if not -ndim <= axis < ndim:
        raise AxisError(f"{name}(): `{arg}` {axis} is out of bounds for a tensor of rank {ndim}.")
    return axis % ndim


@op
def reshape(x: Any, newshape: Any) -> Tensor:
    """``x`` with shape ``newshape`` (one entry may be -1).

    Example:
        >>> reshape(torch.arange(6), (3, -1)).shape
        torch.Size([3, 2])
    """
    x = tensor(x)
    if not isinstance(newshape, (tuple, list, torch.Size)):
        newshape = (newshape,)
    try:
        if None not in newshape:
            return torch.reshape(x, newshape)
        return torch.reshape(x, tuple(-1 if s is None else s for s in newshape))
    except (RuntimeError, TypeError) as error:
        if not all(s is None or isinstance(s, int) or (isinstance(s, Tensor) and s.numel() == 1) for s in newshape):
            raise TypeError(f"reshape(): `newshape` must be an int or a tuple of ints (-1 or None for one unknown "
                            f"size). Received: newshape={newshape!r}") from None
        raise ValueError(f"reshape(): cannot reshape a tensor of shape {tuple(x.shape)} ({x.numel()} elements) "
                         f"into newshape={tuple(newshape)}. (torch: {error})") from None


@op
def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute the axes (reverse them when ``axes=None``)."""
    x = tensor(x)
    if axes is None:
        return x.permute(*range(x.ndim - 1, -1, -1))
    if sorted(a % x.ndim if isinstance(a, int) else a for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose(): `axes` must be a permutation of 0..{x.ndim - 1}. "
                         f"Received: axes={tuple(axes)} for shape {tuple(x.shape)}")
    return x.permute(*axes)


@op
def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert length-1 axes at ``axis`` (an int or a tuple, positions in the result)."""
    x = tensor(x)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = x.ndim + len(axes)
    for a in sorted(_check_axis("expand_dims", a, out_ndim) for a in axes):
        x = x.unsqueeze(a)
    return x


@op
def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove length-1 axes (all of them, or those in ``axis``, which must have length 1)."""
    x = tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = tuple(_check_axis("squeeze", a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze(): cannot squeeze axis {a} of size {x.shape[a]} (it must be 1). "
                             f"Received: x.shape={tuple(x.shape)}, axis={axis!r}")
    return torch.squeeze(x, dim=axes)


@op
def ravel(x: Any) -> Tensor:
    """The elements as a 1-D tensor."""
    return torch.ravel(tensor(x))


@op
def concatenate(xs: Any, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (``axis=None`` flattens them first).

    Example:
        >>> concatenate([torch.zeros(2, 1), torch.ones(2, 2)], axis=-1)
        tensor([[0., 1., 1.],
                [0., 1., 1.]])
    """
    tensors = seq(xs, "concatenate")
    if not tensors:
        raise ValueError("concatenate(): `xs` must be a non-empty list of tensors. Received: an empty list")
    if axis is None:
        tensors, axis = [t.reshape(-1) for t in tensors], 0
    try:
        return torch.cat(tensors, dim=axis)
    except (RuntimeError, IndexError) as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"concatenate(): all inputs must have the same shape except along axis {axis}. "
                         f"Received shapes: {shapes}. (torch: {error})") from None


@op
def stack(x: Any, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis."""
    tensors = seq(x, "stack", "x")
    if not tensors:
        raise ValueError("stack(): `x` must be a non-empty list of tensors. Received: an empty list")
    try:
        return torch.stack(tensors, dim=axis)
    except (RuntimeError, IndexError) as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"stack(): all inputs must have the same shape. Received shapes: {shapes}. "
                         f"(torch: {error})") from None


@op
def hstack(xs: Any) -> Tensor:
    """Join along the second axis (the first for 1-D inputs)."""
    tensors = seq(xs, "hstack")
    try:
        return torch.hstack(tensors)
    except RuntimeError as error:
        raise fail("hstack", error, **{f"xs[{i}]": t for i, t in enumerate(tensors)}) from None


@op
def vstack(xs: Any) -> Tensor:
    """Join along the first axis (1-D inputs become rows)."""
    tensors = seq(xs, "vstack")
    try:
        return torch.vstack(tensors)
    except RuntimeError as error:
        raise fail("vstack", error, **{f"xs[{i}]": t for i, t in enumerate(tensors)}) from None


@op
def dstack(xs: Any) -> Tensor:
    """Join along the third axis."""
    return torch.dstack(seq(xs, "dstack"))


@op
def append(x1: Any, x2: Any, axis: int | None = None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when ``axis=None``)."""
    return concatenate.__wrapped__([x1, x2], axis=axis)


@op
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into equal sections (an int, which must divide the axis) or at the given indices."""
    x = tensor(x)
    axis = _check_axis("split", axis, x.ndim)
    length = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0 or length % indices_or_sections:
            raise ValueError(f"split(): x.shape[{axis}]={length} cannot be split into {indices_or_sections} equal "
                             f"sections. Received: x.shape={tuple(x.shape)}")
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    indices = [int(i) for i in (indices_or_sections.tolist() if isinstance(indices_or_sections, Tensor)
                                else indices_or_sections)]
    return list(torch.tensor_split(x, indices, dim=axis))


@op
def vsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """Split row-wise (along axis 0) as NumPy's ``vsplit``: ``split(x, indices_or_sections, axis=0)``.

    Args:
        x: a tensor with at least 2 dimensions.
        indices_or_sections: an int (number of equal sections, which must divide ``x.shape[0]``) or a
            list of indices where the rows are cut.

    Returns:
        A list of tensors.

    Raises:
        ValueError: ``x`` has fewer than 2 dimensions, or the sections do not divide the first axis.

    Example:
        >>> [t.tolist() for t in vsplit(torch.arange(6).reshape(3, 2), [1])]
        [[[0, 1]], [[2, 3], [4, 5]]]
    """
    x = tensor(x)
    if x.ndim < 2:
        raise ValueError(f"vsplit(): `x` must have at least 2 dimensions. Received: x.shape={tuple(x.shape)}")
    return split.__wrapped__(x, indices_or_sections, 0)


@op
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into sections that may differ in length by one, or at the given indices."""
    x = tensor(x)
    _check_axis("array_split", axis, x.ndim)
    return list(torch.tensor_split(x, indices_or_sections, dim=axis))


@op
def tile(x: Any, repeats: Any) -> Tensor:
    """Repeat the whole tensor ``repeats`` times per axis."""
    x = tensor(x)
    if isinstance(repeats, Tensor):
        repeats = repeats.tolist()
    repeats = (repeats,) if isinstance(repeats, int) else tuple(int(r) for r in repeats)
    return torch.tile(x, repeats)


@op
def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (per-element counts allowed) along ``axis`` (flattened if None)."""
    x = tensor(x)
    if axis is not None:
        _check_axis("repeat", axis, x.ndim)
    if not isinstance(repeats, int):
        repeats = like(repeats, x).long()
    try:
        return torch.repeat_interleave(x, repeats, dim=axis)
    except RuntimeError as error:
        raise fail("repeat", error, x=x, repeats=repeats) from None


@op
def flip(x: Any, axis: Any = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    x = tensor(x)
    axes = range(x.ndim) if axis is None else (axis if isinstance(axis, (tuple, list)) else (axis,))
    return torch.flip(x, dims=tuple(_check_axis("flip", a, x.ndim) for a in axes))


@op
def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Roll elements by ``shift`` along ``axis`` (over the flattened tensor when None)."""
    x = tensor(x)
    return torch.roll(x, shift, dims=axis) if axis is not None else torch.roll(x, shift)


@op
def rot90(array: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    x = tensor(array)
    if x.ndim < 2 or len(axes) != 2 or axes[0] % x.ndim == axes[1] % x.ndim:
        raise ValueError(f"rot90(): needs a tensor of rank >= 2 and two different axes. "
                         f"Received: shape={tuple(x.shape)}, axes={axes}")
    return torch.rot90(x, k, dims=list(axes))


@op
def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """Move axes ``source`` to positions ``destination``."""
    return torch.moveaxis(tensor(x), source, destination)


@op
def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = tensor(x)
    return torch.swapaxes(x, _check_axis("swapaxes", axis1, x.ndim, "axis1"), _check_axis("swapaxes", axis2, x.ndim,
                                                                                             "axis2"))


@op
def broadcast_to(x: Any, shape: Any) -> Tensor:
    """``x`` broadcast (as a view) to ``shape``."""
    x = tensor(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        return torch.broadcast_to(x, shape)
    except RuntimeError:
        raise ValueError(f"broadcast_to(): cannot broadcast a tensor of shape {tuple(x.shape)} to shape {shape}.") \
            from None


def _pad_pairs(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    if isinstance(pad_width, Tensor):
        pad_width = pad_width.tolist()
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * ndim
    pad_width = list(pad_width)
    if len(pad_width) and all(isinstance(p, int) for p in pad_width):
        if len(pad_width) == 1:
            return [(pad_width[0], pad_width[0])] * ndim
        if len(pad_width) == 2:
            return [tuple(pad_width)] * ndim
    pairs = [tuple(p) if len(p) == 2 else (p[0], p[0]) for p in pad_width]
    if len(pairs) == 1:
        pairs = pairs * ndim
    if len(pairs) != ndim or any(b < 0 or a < 0 for b, a in pairs):
        raise ValueError(f"pad(): `pad_width` must give non-negative (before, after) pairs for each of the {ndim} "
                         f"axes. Received: pad_width={pad_width}")
    return pairs


def _pad_index(n: int, before: int, after: int, mode: str, device: Any) -> Tensor:
    i = torch.arange(-before, n + after, device=device)
    if mode == "edge":
        return i.clamp(0, n - 1)
    if mode in ("wrap", "circular"):
        return i % n
    if mode == "reflect":
        if n == 1:
            return torch.zeros_like(i)
        i = i % (2 * n - 2)
        return torch.where(i >= n, 2 * n - 2 - i, i)
    i = i % (2 * n)  # symmetric
    return torch.where(i >= n, 2 * n - 1 - i, i)


@op
def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """Pad with NumPy's ``pad_width`` (int, (before, after), or one pair per axis).

    Example:
        >>> pad(torch.tensor([1, 2, 3]), (1, 2), mode="reflect")
        tensor([2, 1, 2, 3, 2, 1])
    """
    x = tensor(x)
    pairs = _pad_pairs(pad_width, x.ndim)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad(): `constant_values` can only be given with mode='constant'. Received: mode={mode!r}")
    if mode == "constant":
        flat = [p for pair in reversed(pairs) for p in pair]
        value = 0 if constant_values is None else constant_values
        if x.dtype == torch.bool:
            return F.pad(x.to(torch.uint8), flat, value=int(value)).bool()
        return F.pad(x, flat, value=value)
    if mode not in ("edge", "reflect", "symmetric", "wrap", "circular"):
        raise NotImplementedError(f"pad(): mode={mode!r} is not implemented in easynn. Supported: constant, edge, "
                                  "reflect, symmetric, wrap, circular.")
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            n = x.shape[axis]
            if n == 0:
                raise ValueError(f"pad(): cannot pad an empty axis {axis} with mode={mode!r}.")
            x = x.index_select(axis, _pad_index(n, before, after, mode, x.device))
    return x


@op
def copy(x: Any) -> Tensor:
    """A copy of ``x``."""
    return torch.clone(tensor(x))


@op
def ndim(x: Any) -> int:
    """The number of axes."""
    return tensor(x).ndim


@op
def size(x: Any) -> int:
    """The number of elements."""
    return tensor(x).numel()


@op
def view(x: Any, dtype: Any = None) -> Tensor:
    """The same memory reinterpreted as ``dtype`` (the last axis scales by the ratio of item sizes).

    Example:
        >>> view(torch.tensor([1.0]), "int32")
        tensor([1065353216], dtype=torch.int32)
    """
    x = tensor(x)
    return x if dtype is None else x.view(to_torch_dtype(dtype))
