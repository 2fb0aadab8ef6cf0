"""Probabilistic losses beyond the three crossentropies: Kullback-Leibler divergence, Poisson,
and the binary and categorical focal crossentropies (Lin et al., 2017), with their classes (CTC is
in ``sequence.py``).

Keras's numerics are kept: probabilities are clipped to ``[1e-7, 1 - 1e-7]`` before a log
(``kl_divergence`` clips both sides to ``[1e-7, 1]``), ``poisson`` takes ``log(y_pred + 1e-7)``,
and the focal losses with ``from_logits=True`` apply the sigmoid/softmax and then the same
clipping, so zeros, ones and huge logits give finite values and gradients.

Example:
    >>> import torch
    >>> y_true = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = torch.tensor([[0.6, 0.4], [0.4, 0.6]])
    >>> round(float(KLDivergence()(y_true, y_pred)), 3)  # Keras's documented 0.458
    0.458
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from easynn import _validation
from easynn.losses._checks import EPSILON, _check_categorical, _check_same, _last_axis_mean
from easynn.losses._function_loss import _axis, _flag, _float_pair, _FunctionLoss, _smoothing

__all__ = [
    "KLDivergence",
    "Poisson",
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "kl_divergence",
    "kld",
    "KLD",
    "poisson",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
]


# --------------------------------------------------------------------------- divergence, counts
def kl_divergence(y_true, y_pred) -> torch.Tensor:
    """Kullback-Leibler divergence ``KL(y_true || y_pred)``, summed over the last axis.

    Formula: ``sum(t * log(t / p))`` with ``t = clip(y_true, 1e-7, 1)`` and
    ``p = clip(y_pred, 1e-7, 1)``.

    Args:
        y_true: target distributions; y_pred: predicted distributions, the same shape.

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> round(float(kl_divergence(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]]))), 4)
        0.1438
    """
    y_true, y_pred = _float_pair("kl_divergence", y_true, y_pred)
    t, p = y_true.clamp(EPSILON, 1.0), y_pred.clamp(EPSILON, 1.0)
    return (t * torch.log(t / p)).sum(dim=-1)


kld = KLD = kl_divergence


def poisson(y_true, y_pred) -> torch.Tensor:
    """Poisson negative log-likelihood (without the ``log(y_true!)`` constant), averaged over the
    last axis.

    Formula: ``mean(y_pred - y_true * log(y_pred + 1e-7))``; ``y_pred`` is a predicted rate >= 0.

    Args:
        y_true: observed counts; y_pred: predicted rates, the same shape.

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> poisson(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([1.0000])
    """
    y_true, y_pred = _float_pair("poisson", y_true, y_pred)
    return _last_axis_mean(y_pred - y_true * torch.log(y_pred + EPSILON))


# --------------------------------------------------------------------------- focal crossentropies
def _gamma(value: Any) -> float:
    return _validation.non_negative_float("gamma", value)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Binary crossentropy scaled down on easy examples, averaged over ``axis``.

    Formula: with ``p = sigmoid(y_pred)`` if ``from_logits`` else ``y_pred``,
    ``bce = -(y log(clip(p)) + (1 - y) log(1 - clip(p)))`` (clip to ``[1e-7, 1 - 1e-7]``),
    ``p_t = y p + (1 - y)(1 - p)``: ``mean((1 - p_t)^gamma * bce)``, times
    ``w = y alpha + (1 - y)(1 - alpha)`` with ``apply_class_balancing``. ``gamma = 0`` gives the
    binary crossentropy.

    Args:
        y_true: 0/1 (or soft) labels; y_pred: probabilities (or logits), the same shape.
        apply_class_balancing: weigh class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: the class-1 weight, in ``[0, 1]``.
        gamma: the focusing exponent, ``>= 0``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``; labels become ``y (1 - s) + s / 2``.
        axis: the axis averaged over.

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.

    Raises:
        ValueError: for mismatched shapes or an argument out of range.

    Example:
        >>> import torch
        >>> out = binary_focal_crossentropy(torch.tensor([[0.0, 1.0], [0.0, 0.0]]),
        ...                                 torch.tensor([[0.6, 0.4], [0.4, 0.6]]), gamma=2.0)
        >>> [round(v, 3) for v in out.tolist()]  # Keras's documented [0.330, 0.206]
        [0.33, 0.206]
    """
    _flag("apply_class_balancing", apply_class_balancing)
    alpha = _validation.probability("alpha", alpha, inclusive_high=True)
    gamma, label_smoothing, axis = _gamma(gamma), _smoothing(label_smoothing), _axis(axis)
    _flag("from_logits", from_logits)
    y_true, y_pred = _float_pair("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = torch.sigmoid(y_pred) if from_logits else y_pred
    clipped = p.clamp(EPSILON, 1.0 - EPSILON)
    bce = -(y_true * clipped.log() + (1.0 - y_true) * (1.0 - clipped).log())
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    focal = (1.0 - p_t).clamp_min(0.0).pow(gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return focal.mean(dim=axis) if focal.dim() >= 2 else focal


def _alpha_weights(alpha: Any) -> float | tuple[float, ...]:
    """A non-negative number, or a sequence of them (one weight per class)."""
    if isinstance(alpha, (list, tuple)):
        return tuple(_validation.non_negative_float("alpha", a) for a in alpha)
    return _validation.non_negative_float("alpha", alpha)


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha: float | Sequence[float] = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Categorical crossentropy scaled down on confident classes (one-hot labels).

    Formula: with ``p = softmax(y_pred)`` if ``from_logits`` else ``y_pred``, renormalised by its
    sum along ``axis`` (an all-zero row stays 0) and clipped to ``[1e-7, 1 - 1e-7]``:
    ``sum(alpha * (1 - p)^gamma * (-y log p), axis)``.

    Args:
        y_true: one-hot (or soft) labels; y_pred: probabilities (or logits), the same shape.
        alpha: a weight for every class, or a list with one weight per class.
        gamma: the focusing exponent, ``>= 0``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``; labels become ``y (1 - s) + s / C``.
        axis: the class axis.

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.

    Raises:
        ValueError: for integer labels, mismatched shapes or an argument out of range.

    Example:
        >>> import torch
        >>> out = categorical_focal_crossentropy(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        ...                                      torch.tensor([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]))
        >>> [round(v, 5) for v in out.tolist()]  # Keras's documented [2.63401289e-04, 6.75912094e-01]
        [0.00026, 0.67591]
    """
    alpha, gamma = _alpha_weights(alpha), _gamma(gamma)
    label_smoothing, axis = _smoothing(label_smoothing), _axis(axis)
    _flag("from_logits", from_logits)
    y_true, y_pred = _float_pair("categorical_focal_crossentropy", y_true, y_pred, _check_categorical)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    p = torch.softmax(y_pred, dim=axis) if from_logits else y_pred
    # (the sum's floor only changes an all-zero row, which would otherwise give 0 / 0 = NaN)
    total = p.sum(dim=axis, keepdim=True).clamp_min(torch.finfo(p.dtype).tiny)
    p = (p / total).clamp(EPSILON, 1.0 - EPSILON)
    weight = torch.as_tensor(alpha, dtype=p.dtype, device=p.device)  # per class: the last axis
    focal = weight * (1.0 - p).pow(gamma) * (-y_true * p.log())
    return focal.sum(dim=axis)


# --------------------------------------------------------------------------- classes
class KLDivergence(_FunctionLoss):
    """Class form of ``kl_divergence``.

    Args:
        reduction: Keras's reduction (``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``).
        name: the loss name.

    Raises:
        ValueError: for an unknown ``reduction``.

    Example:
        >>> import torch
        >>> float(KLDivergence()(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]])))
        0.0
    """

    _fn = staticmethod(kl_divergence)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "kl_divergence"):
        super().__init__(name, reduction)


class Poisson(_FunctionLoss):
    """Class form of ``poisson`` (arguments as ``KLDivergence``).

    Example:
        >>> import torch
        >>> round(float(Poisson()(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[1.0, 1.0], [0.0, 0.0]]))), 4)
        0.5
    """

    _fn = staticmethod(poisson)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "poisson"):
        super().__init__(name, reduction)


class BinaryFocalCrossentropy(_FunctionLoss):
    """Class form of ``binary_focal_crossentropy`` (Keras's arguments and defaults).

    Example:
        >>> import torch
        >>> loss = BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
        >>> round(float(loss(torch.tensor([0.0, 1.0, 0.0, 0.0]), torch.tensor([-18.6, 0.51, 2.94, -12.8]))), 3)
        0.691
    """

    _fn = staticmethod(binary_focal_crossentropy)

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
    ):
        super().__init__(
            name,
            reduction,
            apply_class_balancing=_flag("apply_class_balancing", apply_class_balancing),
            alpha=_validation.probability("alpha", alpha, inclusive_high=True),
            gamma=_gamma(gamma),
            from_logits=_flag("from_logits", from_logits),
            label_smoothing=_smoothing(label_smoothing),
            axis=_axis(axis),
        )


class CategoricalFocalCrossentropy(_FunctionLoss):
    """Class form of ``categorical_focal_crossentropy`` (Keras's arguments and defaults).

    Example:
        >>> import torch
        >>> loss = CategoricalFocalCrossentropy()
        >>> y_true = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> round(float(loss(y_true, torch.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]))), 5)
        0.23315
    """

    _fn = staticmethod(categorical_focal_crossentropy)
    _check = staticmethod(_check_categorical)

    def __init__(
        self,
        alpha: float | Sequence[float] = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
    ):
        alpha = _alpha_weights(alpha)
        super().__init__(
            name,
            reduction,
            alpha=list(alpha) if isinstance(alpha, tuple) else alpha,
            gamma=_gamma(gamma),
            from_logits=_flag("from_logits", from_logits),
            label_smoothing=_smoothing(label_smoothing),
            axis=_axis(axis),
        )


_EXTENDED_CHECKS = {
    kl_divergence: _check_same,
    poisson: _check_same,
    binary_focal_crossentropy: _check_same,
    categorical_focal_crossentropy: _check_categorical,
}
