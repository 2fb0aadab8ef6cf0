"""Keras 3's activations that work along an axis rather than element by element: ``log_softmax``,
``glu`` and ``sparsemax`` (plain torch functions, like ``extended.py``; torch's autograd
differentiates them).

Example:
    >>> import torch
    >>> sparsemax(torch.tensor([[0.5, 0.0], [3.0, 0.0]]))
    tensor([[0.7500, 0.2500],
            [1.0000, 0.0000]])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from easynn.activations.extended import _axis, _float

__all__ = ["log_softmax", "glu", "sparsemax"]


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Log of the softmax along ``axis``: ``f(x)_i = x_i - logsumexp(x)``.

    Args:
        x: input tensor.
        axis: the axis to normalize along.

    Returns:
        A tensor of the same shape whose ``exp`` sums to 1 along ``axis``.

    Raises:
        TypeError: if ``axis`` is not an integer.

    Example:
        >>> log_softmax(torch.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """
    return F.log_softmax(_float(x), dim=_axis(axis))


def glu(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: split ``x`` in halves ``a, b`` along ``axis``, return ``a * sigmoid(b)``.

    Args:
        x: input tensor, with an even length along ``axis``.
        axis: the axis to split.

    Returns:
        A tensor with half the length along ``axis``.

    Raises:
        TypeError: if ``axis`` is not an integer.
        ValueError: if ``x`` has an odd length along ``axis``.

    Example:
        >>> glu(torch.tensor([[1.0, 2.0, 0.0, 1e4]]))
        tensor([[0.5000, 2.0000]])
    """
    x = _float(x)
    axis = _axis(axis)
    if x.dim() == 0 or x.shape[axis] % 2:
        raise ValueError(
            f"glu needs an even length along `axis`. Received: axis={axis} for an input of shape {tuple(x.shape)}"
        )
    return F.glu(x, dim=axis)


def sparsemax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection onto the probability simplex.

    Formula: ``f(x) = max(x - tau, 0)`` with ``tau`` chosen so the outputs sum to 1; with ``z``
    sorted in decreasing order, ``k`` is the largest index with ``1 + k z_k > sum_{j<=k} z_j``
    and ``tau = (sum_{j<=k} z_j - 1) / k``. Unlike softmax, outputs can be exactly 0.

    Args:
        x: input tensor.
        axis: the axis to normalize along.

    Returns:
        A tensor of the same shape, non-negative, summing to 1 along ``axis``.

    Raises:
        TypeError: if ``axis`` is not an integer.

    Example:
        >>> sparsemax(torch.tensor([2.0, 0.0, -1.0]))
        tensor([1., 0., 0.])
        >>> sparsemax(torch.tensor([0.5, 0.0]))
        tensor([0.7500, 0.2500])
    """
    x = _float(x).movedim(_axis(axis), -1)
    z = torch.sort(x, dim=-1, descending=True).values
    ranks = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)
    totals = z.cumsum(dim=-1)
    support = (1 + ranks * z > totals).sum(dim=-1, keepdim=True)  # k >= 1 always
    tau = (totals.gather(-1, support - 1) - 1) / support.to(x.dtype)
    return (x - tau).clamp_min(0).movedim(-1, axis)
