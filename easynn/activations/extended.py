"""The rest of Keras 3's activation catalogue, as plain torch functions.

These are not the lecture's activations (those are ``torch.autograd.Function`` objects with
hand-written derivatives in ``gated.py``, ``rectifiers.py`` and ``saturating.py``); each one here
is a few torch ops and torch's autograd differentiates it (``axiswise.py`` has the three that
work along an axis: ``log_softmax``, ``glu``, ``sparsemax``). Names, arguments and defaults are
Keras 3's, so ``Dense(8, activation="selu")`` and ``Activation("mish")`` work and serialize by
name. Integer inputs are computed in the default float dtype, as Keras does.

Example:
    >>> import torch
    >>> hard_sigmoid(torch.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    >>> relu6(torch.tensor([-1.0, 3.0, 9.0]))
    tensor([0., 3., 6.])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation

# fmt: off
__all__ = [
    "celu", "exponential", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "log_sigmoid", "mish", "relu6", "selu", "soft_shrink", "softsign", "sparse_plus",
    "sparse_sigmoid", "squareplus", "tanh_shrink", "threshold",
]
# fmt: on


def _float(x: Any) -> torch.Tensor:
    x = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def _axis(axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
    return axis


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)


# ---------------------------------------------------------------------------------- rectifiers
def relu6(x: torch.Tensor) -> torch.Tensor:
    """ReLU capped at 6.

    Formula: ``f(x) = min(max(x, 0), 6)``; ``f'(x) = I(0 < x < 6)``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape, in ``[0, 6]``.

    Example:
        >>> relu6(torch.tensor([-2.0, 1.5, 7.0]))
        tensor([0.0000, 1.5000, 6.0000])
    """
    return F.relu6(_float(x))


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled exponential linear unit (Klambauer et al., 2017), self-normalizing.

    Formula: ``f(x) = scale * x`` for ``x > 0``, ``scale * alpha * (exp(x) - 1)`` otherwise, with
    ``alpha = 1.67326324`` and ``scale = 1.05070098``. Use with ``lecun_normal`` weights.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape; ``selu(-1e4) == -scale * alpha``.

    Example:
        >>> selu(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 1.0507])
    """
    return F.selu(_float(x))


def celu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Continuously differentiable exponential linear unit.

    Formula: ``f(x) = max(0, x) + alpha * (exp(min(x, 0) / alpha) - 1)``.

    Args:
        x: input tensor.
        alpha: scale of the negative part (not 0).

    Returns:
        A tensor of the same shape.

    Raises:
        ValueError: if ``alpha`` is 0 or not a number.

    Example:
        >>> celu(torch.tensor([-1e4, 2.0]))
        tensor([-1.,  2.])
    """
    alpha = _number("alpha", alpha)
    if alpha == 0.0:
        raise ValueError(f"`alpha` must be non-zero (it divides x). Received: alpha={alpha}")
    return F.celu(_float(x), alpha=alpha)


def threshold(x: torch.Tensor, threshold: float, default_value: float) -> torch.Tensor:
    """``x`` where it exceeds ``threshold``, ``default_value`` elsewhere (Keras has no defaults).

    Formula: ``f(x) = x if x > threshold else default_value``.

    Args:
        x: input tensor.
        threshold: the value ``x`` must exceed to pass through.
        default_value: the value put where it does not.

    Returns:
        A tensor of the same shape.

    Raises:
        ValueError: if ``threshold`` or ``default_value`` is not a number.

    Example:
        >>> threshold(torch.tensor([-1.0, 0.0, 1.0, 2.0]), 1.0, 0.0)
        tensor([0., 0., 0., 2.])
    """
    limit = _number("threshold", threshold)
    value = _number("default_value", default_value)
    return F.threshold(_float(x), limit, value)


# ---------------------------------------------------------------------------------- smooth
def softsign(x: torch.Tensor) -> torch.Tensor:
    """Softsign: ``f(x) = x / (|x| + 1)``, in ``(-1, 1)``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape.

    Example:
        >>> softsign(torch.tensor([-1.0, 3.0]))
        tensor([-0.5000,  0.7500])
    """
    return F.softsign(_float(x))


def mish(x: torch.Tensor) -> torch.Tensor:
    """Mish (Misra, 2019): ``f(x) = x * tanh(softplus(x))``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape.

    Example:
        >>> mish(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    return F.mish(_float(x))


def exponential(x: torch.Tensor) -> torch.Tensor:
    """The exponential: ``f(x) = exp(x)`` (``inf`` beyond ``x = 88.7`` in float32).

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape.

    Example:
        >>> exponential(torch.tensor([0.0, 1.0]))
        tensor([1.0000, 2.7183])
    """
    return torch.exp(_float(x))


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logarithm of the sigmoid, computed stably: ``f(x) = -softplus(-x)``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape, ``<= 0``; ``log_sigmoid(-1e4) == -1e4`` (never ``-inf``).

    Example:
        >>> log_sigmoid(torch.tensor([0.0, -1e4]))
        tensor([-6.9315e-01, -1.0000e+04])
    """
    return F.logsigmoid(_float(x))


def squareplus(x: torch.Tensor, b: float = 4) -> torch.Tensor:
    """Squareplus (Barron, 2021), a smooth ReLU made of a square root.

    Formula: ``f(x) = (x + sqrt(x^2 + b)) / 2``. Computed as ``b / (2 (sqrt(x^2 + b) - x))``
    for ``x < 0`` (no cancellation) and with ``hypot`` (no overflow of ``x^2``).

    Args:
        x: input tensor.
        b: smoothness, ``>= 0`` (``b = 0`` is the ReLU).

    Returns:
        A tensor of the same shape, ``> 0`` when ``b > 0``.

    Raises:
        ValueError: for a negative ``b``.

    Example:
        >>> squareplus(torch.tensor([0.0, 1.5]))
        tensor([1., 2.])
    """
    b = _validation.non_negative_float("b", b)
    x = _float(x)
    if b == 0.0:
        return torch.relu(x)
    root_b = b**0.5
    pos, neg = x.clamp_min(0), x.clamp_max(0)  # each branch sees only its own half
    upper = (pos + torch.hypot(pos, torch.full_like(pos, root_b))) / 2
    lower = b / (2 * (torch.hypot(neg, torch.full_like(neg, root_b)) - neg))
    return torch.where(x >= 0, upper, lower)


def sparse_plus(x: torch.Tensor) -> torch.Tensor:
    """Sparse plus: a softplus that is exactly 0 below -1 and exactly ``x`` above 1.

    Formula: ``0`` for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape.

    Example:
        >>> sparse_plus(torch.tensor([-2.0, 0.0, 2.0]))
        tensor([0.0000, 0.2500, 2.0000])
    """
    x = _float(x)
    middle = 0.25 * (x.clamp(-1.0, 1.0) + 1).square()
    return torch.where(x >= 1, x, middle)


# ---------------------------------------------------------------------------------- hard
def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear sigmoid, Keras 3's definition (Keras 2 used ``0.2 x + 0.5``).

    Formula: ``f(x) = relu6(x + 3) / 6``: 0 for ``x <= -3``, 1 for ``x >= 3``, ``x / 6 + 1/2``
    between.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape, in ``[0, 1]``.

    Example:
        >>> hard_sigmoid(torch.tensor([-3.0, 1.5]))
        tensor([0.0000, 0.7500])
    """
    return F.hardsigmoid(_float(x))


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    """Hard SiLU, also called hard swish (Howard et al., 2019).

    Formula: ``f(x) = x * hard_sigmoid(x) = x * relu6(x + 3) / 6``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape.

    Example:
        >>> hard_silu(torch.tensor([-4.0, 0.0, 3.0]))
        tensor([-0., 0., 3.])
    """
    return F.hardswish(_float(x))


hard_swish = hard_silu


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear tanh: ``f(x) = clip(x, -1, 1)``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape, in ``[-1, 1]``.

    Example:
        >>> hard_tanh(torch.tensor([-2.0, 0.5, 2.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    return F.hardtanh(_float(x))


def sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Sparse sigmoid: ``0`` for ``x <= -1``, ``1`` for ``x >= 1``, ``(x + 1) / 2`` between.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape, in ``[0, 1]``.

    Example:
        >>> sparse_sigmoid(torch.tensor([-2.0, 0.0, 0.5, 2.0]))
        tensor([0.0000, 0.5000, 0.7500, 1.0000])
    """
    return (0.5 * (_float(x) + 1)).clamp(0.0, 1.0)


# ---------------------------------------------------------------------------------- shrinkage
def tanh_shrink(x: torch.Tensor) -> torch.Tensor:
    """``f(x) = x - tanh(x)``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape.

    Example:
        >>> tanh_shrink(torch.tensor([0.0, 1e4]))
        tensor([   0., 9999.])
    """
    return F.tanhshrink(_float(x))


def soft_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Soft thresholding: moves ``x`` toward 0 by ``threshold``, 0 inside ``[-threshold, threshold]``.

    Formula: ``x - threshold`` for ``x > threshold``, ``x + threshold`` for ``x < -threshold``, else 0.

    Args:
        x: input tensor.
        threshold: ``>= 0``.

    Returns:
        A tensor of the same shape.

    Raises:
        ValueError: for a negative ``threshold``.

    Example:
        >>> soft_shrink(torch.tensor([-1.0, 0.2, 2.0]))
        tensor([-0.5000,  0.0000,  1.5000])
    """
    return F.softshrink(_float(x), lambd=_validation.non_negative_float("threshold", threshold))


def hard_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Hard thresholding: ``x`` where ``|x| > threshold``, else 0.

    Args:
        x: input tensor.
        threshold: ``>= 0``.

    Returns:
        A tensor of the same shape.

    Raises:
        ValueError: for a negative ``threshold``.

    Example:
        >>> hard_shrink(torch.tensor([-1.0, 0.2, 2.0]))
        tensor([-1.,  0.,  2.])
    """
    return F.hardshrink(_float(x), lambd=_validation.non_negative_float("threshold", threshold))
