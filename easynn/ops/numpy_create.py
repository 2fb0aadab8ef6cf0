"""Tensor creation of ``keras.ops`` (NumPy family) on torch: arange, zeros, full, eye, linspace, windows...

``dtype=None`` means what Keras means: ``floatx()`` (float32) for ``zeros``/``ones``/``eye``/...,
the inferred type for ``arange``/``full``/``array`` (Python ints give int32, floats float32) and the
input's dtype for ``*_like``. New tensors go on torch's default device; ``*_like`` follow ``x``.

Example:
    >>> import easynn.ops as ops
    >>> ops.arange(3), ops.arange(0, 1, 0.5), ops.full((2,), 7)
    (tensor([0, 1, 2], dtype=torch.int32), tensor([0.0000, 0.5000]), tensor([7, 7], dtype=torch.int32))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from easynn.ops._convert import (
    Tensor,
    _flatten,
    _floatx_dtype,
    _python_dtype,
    convert_to_tensor,
    result_type,
    tensor,
    to_torch_dtype,
)
from easynn.ops._dispatch import op

__all__ = [
    "arange", "array", "bartlett", "blackman", "empty", "empty_like", "eye", "full", "full_like", "hamming",
    "hanning", "identity", "kaiser", "linspace", "logspace", "meshgrid", "ones", "ones_like", "tri", "zeros",
    "zeros_like",
]


def _shape(name: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, Tensor):
        shape = shape.tolist()
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name}(): `shape` must be an int or a tuple of ints. Received: shape={shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{name}(): `shape` must not have negative sizes. Received: shape={shape}")
    return shape


def _dtype_or_floatx(dtype: Any) -> torch.dtype:
    return to_torch_dtype(dtype) or _floatx_dtype()


def _value_dtype(*values: Any) -> torch.dtype:
    """Keras's inferred dtype of numbers/arrays/tensors together (Python ints -> int32, floats -> floatx)."""
    items = [v for v in values if v is not None]
    strong = [v for v in items if isinstance(v, (Tensor, np.ndarray, np.generic))]
    weak = [v for v in items if not isinstance(v, (Tensor, np.ndarray, np.generic))]
    dtype = None
    for v in strong:
        v_dtype = v.dtype if isinstance(v, Tensor) else to_torch_dtype(v.dtype)
        dtype = v_dtype if dtype is None else torch.promote_types(dtype, v_dtype)
    if weak:
        flat = _flatten(weak, [])
        weak_dtype = _python_dtype(flat)
        dtype = weak_dtype if dtype is None else to_torch_dtype(result_type(dtype, *{type(v) for v in flat}))
    return dtype


@op
def array(x: Any, dtype: Any = None) -> Tensor:
    """A tensor from ``x`` (alias of ``convert_to_tensor``)."""
    return convert_to_tensor(x, dtype=dtype)


@op
def zeros(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of zeros (dtype default: floatx)."""
    return torch.zeros(_shape("zeros", shape), dtype=_dtype_or_floatx(dtype))


@op
def ones(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of ones (dtype default: floatx)."""
    return torch.ones(_shape("ones", shape), dtype=_dtype_or_floatx(dtype))


@op
def empty(shape: Any, dtype: Any = None) -> Tensor:
    """An uninitialised tensor (dtype default: floatx)."""
    return torch.empty(_shape("empty", shape), dtype=_dtype_or_floatx(dtype))


@op
def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (a scalar, or a tensor broadcast to ``shape``).

    Example:
        >>> full((2, 2), 0.5)
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    shape = _shape("full", shape)
    target = to_torch_dtype(dtype) or _value_dtype(fill_value)
    value = convert_to_tensor(fill_value, dtype=target)
    if value.ndim == 0:
        return torch.full(shape, value.item(), dtype=target, device=value.device)
    return value.expand(shape).clone()


@op
def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros with ``x``'s shape, device and (default) dtype."""
    return torch.zeros_like(tensor(x), dtype=to_torch_dtype(dtype))


@op
def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones with ``x``'s shape, device and (default) dtype."""
    return torch.ones_like(tensor(x), dtype=to_torch_dtype(dtype))


@op
def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """An uninitialised tensor with ``x``'s shape, device and (default) dtype."""
    return torch.empty_like(tensor(x), dtype=to_torch_dtype(dtype))


@op
def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` with ``x``'s shape and device; dtype default: ``x``'s."""
    x = tensor(x)
    target = to_torch_dtype(dtype) or x.dtype
    value = convert_to_tensor(fill_value, dtype=target)
    if value.ndim == 0:
        return torch.full_like(x, value.item(), dtype=target)
    return value.to(x.device).expand(x.shape).clone()


@op
def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; ints give int32, a float anywhere gives floatx."""
    target = to_torch_dtype(dtype) or _value_dtype(start, stop, step)
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if step == 0:
        raise ValueError("arange(): `step` must not be 0.")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, stop, step)]
    if target.is_floating_point and target in (torch.float16, torch.bfloat16):
        return torch.arange(*values, dtype=torch.float32).to(target)
    return torch.arange(*values, dtype=target)


@op
def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803 - Keras's names
    """An ``N x M`` matrix with ones on the ``k``-th diagonal."""
    M = N if M is None else M
    out = torch.zeros((N, M), dtype=_dtype_or_floatx(dtype))
    return out.fill_diagonal_(1, wrap=False) if k == 0 else torch.ones_like(out).triu(k).tril(k)


@op
def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n x n`` identity matrix."""
    return torch.eye(n, dtype=_dtype_or_floatx(dtype))


@op
def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803 - Keras's names
    """Ones at and below the ``k``-th diagonal of an ``N x M`` matrix."""
    M = N if M is None else M
    return torch.ones((N, M), dtype=_dtype_or_floatx(dtype)).tril(k)


@op
def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype: Any = None,
             axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (array ends give one row per step along ``axis``).

    Example:
        >>> linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if num < 0:
        raise ValueError(f"linspace(): `num` must be non-negative. Received: num={num}")
    start, stop = tensor(start), tensor(stop)
    compute = torch.promote_types(torch.promote_types(start.dtype, stop.dtype), _floatx_dtype())
    start, stop = start.to(compute), stop.to(compute)
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else torch.full_like(stop - start, float("nan"))
    ends_ndim = len(torch.broadcast_shapes(start.shape, stop.shape))
    index = torch.arange(num, dtype=compute, device=start.device).reshape((num,) + (1,) * ends_ndim)
    values = start + index * (step if div > 0 else torch.zeros_like(step))
    if endpoint and num > 1:
        values[-1] = stop  # exactly `stop`, as NumPy
    if axis != 0:
        values = torch.moveaxis(values, 0, axis)
    target = to_torch_dtype(dtype)
    if target is not None:
        values = values.to(target) if target.is_floating_point or target.is_complex else values.floor().to(target)
    return (values, step) if retstep else values


@op
def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10, dtype: Any = None,
             axis: int = 0) -> Tensor:
    """``base ** linspace(start, stop, num)``."""
    exponents = linspace.__wrapped__(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = torch.pow(torch.as_tensor(base, dtype=exponents.dtype, device=exponents.device), exponents)
    target = to_torch_dtype(dtype)
    return out if target is None else out.to(target)


@op
def meshgrid(*x: Any, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D vectors; ``indexing`` "xy" (Cartesian) or "ij" (matrix)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid(): `indexing` must be 'xy' or 'ij'. Received: indexing={indexing!r}")
    tensors = [tensor(v).reshape(-1) for v in x]
    return list(torch.meshgrid(*tensors, indexing=indexing)) if tensors else []


def _window(name: str, x: Any) -> int:
    n = int(x.item()) if isinstance(x, Tensor) else int(x)
    if n < 0:
        raise ValueError(f"{name}(): the window length must be non-negative. Received: x={n}")
    return n


def _symmetric_window(n: int, values: Any) -> Tensor:
    if n == 1:
        return torch.ones(1, dtype=_floatx_dtype())
    k = torch.arange(n, dtype=torch.float64)
    return values(k, n).to(_floatx_dtype())


@op
def bartlett(x: Any) -> Tensor:
    """Bartlett (triangular) window of length ``x`` (NumPy's symmetric definition)."""
    n = _window("bartlett", x)
    return _symmetric_window(n, lambda k, n: 1 - torch.abs(2 * k / (n - 1) - 1))


@op
def blackman(x: Any) -> Tensor:
    """Blackman window of length ``x``."""
    n = _window("blackman", x)
    return _symmetric_window(n, lambda k, n: 0.42 - 0.5 * torch.cos(2 * math.pi * k / (n - 1))
                             + 0.08 * torch.cos(4 * math.pi * k / (n - 1)))


@op
def hamming(x: Any) -> Tensor:
    """Hamming window of length ``x``."""
    n = _window("hamming", x)
    return _symmetric_window(n, lambda k, n: 0.54 - 0.46 * torch.cos(2 * math.pi * k / (n - 1)))


@op
def hanning(x: Any) -> Tensor:
    """Hann window of length ``x``."""
    n = _window("hanning", x)
    return _symmetric_window(n, lambda k, n: 0.5 - 0.5 * torch.cos(2 * math.pi * k / (n - 1)))


@op
def kaiser(x: Any, beta: float) -> Tensor:
    """Kaiser window of length ``x`` with shape parameter ``beta``."""
    n = _window("kaiser", x)
    return _symmetric_window(n, lambda k, n: torch.special.i0(beta * torch.sqrt(1 - (2 * k / (n - 1) - 1) ** 2))
                             / torch.special.i0(torch.tensor(float(beta), dtype=torch.float64)))
