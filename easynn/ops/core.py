"""The core family of ``keras.ops``: dtype and shape queries, scatter/slice, gradients; control flow
(``cond``, ``while_loop``, ``scan``...) lives in ``control_flow`` (re-exported, so ``ops.core.cond`` works).

Example:
    >>> import torch
    >>> from easynn.ops import core
    >>> core.shape(torch.zeros(2, 3)), core.dtype(torch.zeros(1))
    ((2, 3), 'float32')
    >>> core.scatter([[0], [2]], [1.0, 2.0], (4,))
    tensor([1., 0., 2., 0.])
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np
import torch

from easynn.ops._convert import convert_to_numpy, convert_to_tensor, dtype_name, fail, tensor, to_torch_dtype
from easynn.ops._dispatch import op

# control flow lives in its own module; re-exported here, where Keras's core family lists it
from easynn.ops.control_flow import associative_scan as associative_scan
from easynn.ops.control_flow import cond as cond
from easynn.ops.control_flow import fori_loop as fori_loop
from easynn.ops.control_flow import map as map  # noqa: A004 - Keras's name
from easynn.ops.control_flow import scan as scan
from easynn.ops.control_flow import switch as switch
from easynn.ops.control_flow import vectorized_map as vectorized_map
from easynn.ops.control_flow import while_loop as while_loop

Tensor = torch.Tensor

__all__ = [
    "cast", "saturate_cast", "cond", "convert_to_tensor", "convert_to_numpy", "custom_gradient", "dtype",
    "fori_loop", "is_tensor", "map", "scan", "associative_scan", "scatter", "scatter_update", "shape", "slice",
    "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map", "while_loop", "remat",
]


@op
def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (floats to ints truncate toward zero, as NumPy's ``astype``).

    Example:
        >>> cast(torch.tensor([1.7, -1.7]), "int32")
        tensor([ 1, -1], dtype=torch.int32)
    """
    return convert_to_tensor(x, dtype=to_torch_dtype(dtype))


@op
def saturate_cast(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``, clipping values to its range first (no wrap-around).

    Example:
        >>> saturate_cast(torch.tensor([-5.0, 300.0]), "uint8")
        tensor([  0, 255], dtype=torch.uint8)
    """
    x = tensor(x)
    target = to_torch_dtype(dtype)
    if target.is_floating_point:
        info = torch.finfo(target)
    elif target == torch.bool:
        return x.to(target)
    else:
        info = torch.iinfo(target)
    low, high = info.min, info.max
    if x.is_floating_point():
        # The bounds as x's float type, rounded inward: float32(2**31 - 1) is 2**31, which overflows int32.
        bounds = []
        for bound in (low, high):
            value = torch.tensor(float(bound), dtype=x.dtype).clamp(torch.finfo(x.dtype).min, torch.finfo(x.dtype).max)
            if abs(float(value)) > abs(float(bound)):
                value = torch.nextafter(value, torch.zeros_like(value))
            bounds.append(value.item())
        low, high = bounds
    return x.clamp(low, high).to(target)


def dtype(x: Any) -> str:
    """The dtype of ``x`` as Keras's name (``"float32"``).

    Example:
        >>> dtype([1, 2]), dtype(torch.zeros(1, dtype=torch.float16))
        ('int32', 'float16')
    """
    value = getattr(x, "dtype", None)
    if value is None:
        value = convert_to_tensor(x).dtype
    return dtype_name(value)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (Keras: a backend-native tensor)."""
    return isinstance(x, Tensor)


def shape(x: Any) -> tuple:
    """The shape as a tuple of ints; on a symbolic (functional-API) tensor, ``None`` for unknown axes.

    Example:
        >>> shape(torch.zeros(2, 3)), shape([[1, 2, 3]])
        ((2, 3), (1, 3))
    """
    value = getattr(x, "shape", None)
    if value is None:
        value = np.shape(x)
    return tuple(value)


@op
def stop_gradient(variable: Any) -> Tensor:
    """The value of ``variable`` without its gradient (``detach``).

    Example:
        >>> w = torch.ones(2, requires_grad=True)
        >>> stop_gradient(w * 2).requires_grad
        False
    """
    return tensor(variable).detach()


@op
def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, as a list.

    Raises:
        ValueError: if ``num`` is given and differs from the axis length.

    Example:
        >>> [t.tolist() for t in unstack(torch.tensor([[1, 2], [3, 4]]), axis=1)]
        [[1, 3], [2, 4]]
    """
    x = tensor(x)
    if num is not None and x.shape[axis] != num:
        raise ValueError(f"unstack(): `num`={num} but axis {axis} of x has length {x.shape[axis]}.")
    return list(x.unbind(axis))


def _index_tensor(indices: Any, device: torch.device) -> Tensor:
    indices = tensor(indices).to(device)
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise TypeError(f"`indices` must be integers. Received dtype {dtype_name(indices.dtype)}")
    return indices.long()


@op
def scatter(indices: Any, values: Any, shape: Any) -> Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (duplicates add up).

    Args:
        indices: ``(N, k)`` integer indices into the first ``k`` axes of ``shape``.
        values: ``(N,) + shape[k:]`` values.
        shape: the output shape.

    Example:
        >>> scatter([[0, 1], [0, 1]], [1.0, 2.0], (2, 2))
        tensor([[0., 3.],
                [0., 0.]])
    """
    values = tensor(values)
    index = _index_tensor(indices, values.device)
    out = torch.zeros(tuple(int(s) for s in shape), dtype=values.dtype, device=values.device)
    if index.dim() == 1:
        index = index[:, None]
    try:
        return out.index_put(tuple(index.unbind(-1)), values, accumulate=True)
    except (RuntimeError, IndexError) as error:
        raise fail("scatter", error, indices=index, values=values) from None


@op
def scatter_update(inputs: Any, indices: Any, updates: Any) -> Tensor:
    """A copy of ``inputs`` with the entries at ``indices`` replaced by ``updates``.

    Example:
        >>> scatter_update(torch.zeros(2, 2), [[1, 0]], [5.0])
        tensor([[0., 0.],
                [5., 0.]])
    """
    inputs = tensor(inputs)
    index = _index_tensor(indices, inputs.device)
    updates = tensor(updates).to(device=inputs.device, dtype=inputs.dtype)
    if index.dim() == 1:
        index = index[:, None]
    try:
        return inputs.index_put(tuple(index.unbind(-1)), updates)
    except (RuntimeError, IndexError) as error:
        raise fail("scatter_update", error, inputs=inputs, indices=index, updates=updates) from None


def _starts(start_indices: Any, ndim: int, name: str) -> list[int]:
    starts = [int(s) for s in convert_to_numpy(start_indices).reshape(-1)]
    if len(starts) != ndim:
        raise ValueError(f"{name}(): `start_indices` needs one entry per axis ({ndim}). Received {starts}")
    return starts


@op
def slice(inputs: Any, start_indices: Any, shape: Any) -> Tensor:  # noqa: A001 - Keras's name
    """The block of ``inputs`` starting at ``start_indices`` with size ``shape`` (``-1``: to the end).

    Example:
        >>> slice(torch.arange(12).reshape(3, 4), (1, 1), (2, 2))
        tensor([[ 5,  6],
                [ 9, 10]])
    """
    inputs = tensor(inputs)
    starts = _starts(start_indices, inputs.dim(), "slice")
    sizes = [int(s) for s in (shape if isinstance(shape, (list, tuple)) else convert_to_numpy(shape).reshape(-1))]
    out = inputs
    for axis, (start, size) in enumerate(zip(starts, sizes)):
        length = inputs.shape[axis]
        size = length - start if size == -1 else size
        if start < 0 or size < 0 or start + size > length:
            raise ValueError(
                f"slice(): the block start={starts}, shape={sizes} does not fit in inputs of shape {tuple(inputs.shape)}."
            )
        out = out.narrow(axis, start, size)
    return out


@op
def slice_update(inputs: Any, start_indices: Any, updates: Any) -> Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Example:
        >>> slice_update(torch.zeros(2, 3), (0, 1), torch.ones(1, 2))
        tensor([[0., 1., 1.],
                [0., 0., 0.]])
    """
    inputs = tensor(inputs)
    updates = tensor(updates).to(device=inputs.device, dtype=inputs.dtype)
    starts = _starts(start_indices, inputs.dim(), "slice_update")
    if updates.dim() != inputs.dim() or any(s + n > m for s, n, m in zip(starts, updates.shape, inputs.shape)):
        raise ValueError(
            f"slice_update(): updates of shape {tuple(updates.shape)} at {starts} do not fit in inputs of shape "
            f"{tuple(inputs.shape)}."
        )
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    out = inputs.clone()
    out[index] = updates
    return out


class _CustomGradient(torch.autograd.Function):
    # forward runs the user's function; backward calls the gradient function it returned.
    @staticmethod
    def forward(ctx, fn, template, *tensors):
        pending = iter(tensors)
        args = [next(pending) if slot is None else slot[0] for slot in template]
        output, grad_fn = fn(*args)
        ctx.grad_fn = grad_fn
        ctx.count = len(tensors)
        return tensor(output).detach()

    @staticmethod
    def backward(ctx, upstream):
        grads = ctx.grad_fn(upstream)
        if not isinstance(grads, (list, tuple)):
            grads = (grads,)
        grads = list(grads) + [None] * (ctx.count - len(grads))
        return (None, None, *[None if g is None else tensor(g) for g in grads[: ctx.count]])


def custom_gradient(f: Callable) -> Callable:
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)``; backward uses ``grad_fn(upstream)``.

    ``grad_fn`` receives the upstream gradient (positionally; Keras's ``upstream=`` keyword form
    ``def grad(*args, upstream=None)`` works too) and returns the gradient of each tensor
    argument (a tensor, or a tuple for several).

    Example:
        >>> @custom_gradient
        ... def clip_grad_identity(x):
        ...     return x * 1.0, lambda upstream: upstream.clamp(-1, 1)
        >>> x = torch.tensor([3.0], requires_grad=True)
        >>> (clip_grad_identity(x) * 5).sum().backward()
        >>> x.grad
        tensor([1.])
    """

    def wrapper(*args):
        template = [None if isinstance(a, Tensor) else (a,) for a in args]
        tensors = [a for a in args if isinstance(a, Tensor)]
        return _CustomGradient.apply(f, template, *tensors)

    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper


def remat(f: Callable) -> Callable:
    """Recompute ``f``'s activations in the backward pass instead of storing them (``torch.utils.checkpoint``)."""
    from torch.utils.checkpoint import checkpoint

    def wrapper(*args, **kwargs):
        return checkpoint(f, *args, use_reentrant=False, **kwargs)

    return wrapper
