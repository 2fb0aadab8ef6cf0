"""Overlap losses for segmentation masks: Dice and Tversky, with their classes.

Both compare a predicted soft mask with a target mask by their overlap, summed over ``axis``
(``None``, Keras's default, sums over every axis, batch included, and gives one number; pass the
non-batch axes, e.g. ``axis=(1, 2, 3)``, for one loss per sample). ``1e-7`` in the denominator
keeps empty masks finite (their loss is 1).

Example:
    >>> import torch
    >>> y_true = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    >>> y_pred = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    >>> round(float(dice(y_true, y_pred)), 4)  # 1 - 2 * 1 / (2 + 2)
    0.5
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation
from easynn.losses._checks import EPSILON, _check_same
from easynn.losses._function_loss import _axes, _float_pair, _FunctionLoss, _sum

__all__ = ["Dice", "Tversky", "dice", "tversky"]

Axes = Any  # None, an int or a tuple of ints


def dice(y_true, y_pred, axis: Axes = None) -> torch.Tensor:
    """Dice loss: one minus the Dice coefficient (F1 score of the soft masks).

    Formula: ``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)``, sums over
    ``axis``.

    Args:
        y_true: target mask (0/1); y_pred: predicted mask in ``[0, 1]``, the same shape.
        axis: the axes summed over: ``None`` (all), an int or a tuple of ints.

    Returns:
        The loss with ``axis`` reduced (a scalar for ``axis=None``).

    Raises:
        ValueError: for mismatched shapes or a bad ``axis``.

    Example:
        >>> import torch
        >>> y_true = torch.tensor([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
        >>> y_pred = torch.tensor([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
        >>> [round(v, 4) for v in dice(y_true, y_pred, axis=(1, 2, 3)).tolist()]  # Keras's documented numbers
        [0.5, 0.7576]
        >>> round(float(dice(y_true, y_pred)), 4)
        0.6164
    """
    axis = _axes(axis)
    y_true, y_pred = _float_pair("dice", y_true, y_pred)
    overlap = _sum(y_true * y_pred, axis)
    return 1.0 - 2.0 * overlap / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis: Axes = None) -> torch.Tensor:
    """Tversky loss (Salehi et al., 2017): a Dice loss with separate weights on the two errors.

    Formula: with ``I = sum(y_true * y_pred)``, ``1 - I / (I + alpha * sum(y_true * (1 - y_pred))
    + beta * sum((1 - y_true) * y_pred) + 1e-7)``, sums over ``axis``. This is Keras's formula
    term for term (``alpha`` multiplies the missed-target term); ``alpha = beta = 0.5`` is the
    Dice loss.

    Args:
        y_true: target mask (0/1); y_pred: predicted mask in ``[0, 1]``, the same shape.
        alpha: weight of ``sum(y_true * (1 - y_pred))``, ``>= 0``.
        beta: weight of ``sum((1 - y_true) * y_pred)``, ``>= 0``.
        axis: the axes summed over: ``None`` (all), an int or a tuple of ints.

    Returns:
        The loss with ``axis`` reduced (a scalar for ``axis=None``).

    Raises:
        ValueError: for mismatched shapes, a negative ``alpha``/``beta`` or a bad ``axis``.

    Example:
        >>> import torch
        >>> y_true = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> y_pred = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
        >>> round(float(tversky(y_true, y_pred, alpha=0.7, beta=0.3)), 4)  # 1 - 1 / (1 + 0.7 + 0.3)
        0.5
    """
    alpha = _validation.non_negative_float("alpha", alpha)
    beta = _validation.non_negative_float("beta", beta)
    axis = _axes(axis)
    y_true, y_pred = _float_pair("tversky", y_true, y_pred)
    overlap = _sum(y_true * y_pred, axis)
    missed = _sum(y_true * (1.0 - y_pred), axis)
    extra = _sum((1.0 - y_true) * y_pred, axis)
    return 1.0 - overlap / (overlap + alpha * missed + beta * extra + EPSILON)


class Dice(_FunctionLoss):
    """Class form of ``dice``.

    Args:
        reduction: Keras's reduction (``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``).
        name: the loss name.
        axis: the axes summed over (``None``: all, one loss for the batch).

    Raises:
        ValueError: for a bad ``axis`` or an unknown ``reduction``.

    Example:
        >>> import torch
        >>> loss = Dice(axis=(1,), reduction=None)
        >>> loss(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
        tensor([0., 1.])
    """

    _fn = staticmethod(dice)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "dice", axis: Axes = None):
        super().__init__(name, reduction, axis=_axes(axis))


class Tversky(_FunctionLoss):
    """Class form of ``tversky`` (Keras's arguments and defaults).

    Example:
        >>> import torch
        >>> loss = Tversky(alpha=0.7, beta=0.3)
        >>> round(float(loss(torch.tensor([[1.0, 1.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0, 1.0]]))), 4)
        0.5
    """

    _fn = staticmethod(tversky)

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky",
        axis: Axes = None,
    ):
        super().__init__(
            name,
            reduction,
            alpha=_validation.non_negative_float("alpha", alpha),
            beta=_validation.non_negative_float("beta", beta),
            axis=_axes(axis),
        )


_EXTENDED_CHECKS = {dice: _check_same, tversky: _check_same}
