"""Normalisation of ``keras.ops.nn``: ``moments``, ``batch_normalization``, ``normalize``,
``layer_normalization``, ``rms_normalization`` (re-exported by ``easynn.ops.nn``).

Each centres and/or scales ``x`` by statistics over some axes: ``moments`` computes them (the
biased variance, as Keras; half-precision inputs are reduced in float32), the others apply
``(x - mean) / sqrt(variance + epsilon)`` (or divide by a norm) with optional scale and offset.

Example:
    >>> import torch
    >>> mean, variance = moments(torch.tensor([[1.0, 3.0], [5.0, 7.0]]), axes=0)
    >>> mean, variance
    (tensor([3., 5.]), tensor([4., 4.]))
    >>> layer_normalization(torch.tensor([[1.0, 3.0]]), epsilon=0.0)
    tensor([[-1.,  1.]])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import config
from easynn.ops._convert import floating as _float
from easynn.ops._convert import tensor
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = ["moments", "batch_normalization", "normalize", "layer_normalization", "rms_normalization"]


def _axes(axes: Any, ndim: int) -> tuple[int, ...]:
    if isinstance(axes, int):
        axes = (axes,)
    return tuple(sorted(a % ndim for a in axes))


@op
def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[Tensor, Tensor]:
    """``(mean, variance)`` over ``axes`` (the biased variance, as Keras).

    float16/bfloat16 inputs are reduced in float32 and cast back.
    """
    x = _float(x)
    dims = _axes(axes, x.dim())
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    mean = work.mean(dim=dims, keepdim=True)
    variance = ((work - mean) ** 2).mean(dim=dims, keepdim=keepdims)
    if not keepdims:
        mean = mean.squeeze(dims) if dims else mean
    return mean.to(x.dtype), variance.to(x.dtype)


@op
def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics along ``axis``."""
    x = _float(x)
    axis = axis % x.dim()
    shape = [1] * x.dim()
    shape[axis] = x.shape[axis]

    def vector(value):
        return None if value is None else tensor(value).to(dtype=x.dtype, device=x.device).reshape(shape)

    out = (x - vector(mean)) * torch.rsqrt(vector(variance) + epsilon)
    if scale is not None:
        out = out * vector(scale)
    if offset is not None:
        out = out + vector(offset)
    return out


@op
def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """``x / max(norm(x, order), epsilon)`` along ``axis``.

    Example:
        >>> normalize(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    x = _float(x)
    eps = config.epsilon() if epsilon is None else epsilon
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / norm.clamp(min=eps)


@op
def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: int = -1, epsilon: float | None = None) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``."""
    x = _float(x)
    eps = 1e-3 if epsilon is None else epsilon
    mean, variance = moments(x, axis, keepdims=True)
    out = (x - mean) * torch.rsqrt(variance + eps)
    if gamma is not None:
        out = out * tensor(gamma).to(x.dtype)
    if beta is not None:
        out = out + tensor(beta).to(x.dtype)
    return out


@op
def rms_normalization(x: Any, scale: Any = 1, axis: int = -1, epsilon: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + epsilon) * scale`` over ``axis``."""
    x = _float(x)
    eps = config.epsilon() if epsilon is None else epsilon
    out = x * torch.rsqrt((x * x).mean(dim=axis, keepdim=True) + eps)
    return out * (tensor(scale).to(x.dtype) if not isinstance(scale, (int, float)) else scale)
