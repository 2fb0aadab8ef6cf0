"""Margin (hinge) losses for maximum-margin classifiers: ``hinge``, ``squared_hinge`` and
``categorical_hinge``, with their classes.

The targets of ``hinge``/``squared_hinge`` are -1/1; 0/1 targets are mapped to -1/1 first when
every target is 0 or 1, as Keras does (decided on the device: no host sync).

Example:
    >>> import torch
    >>> y_true = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = torch.tensor([[0.6, 0.4], [0.4, 0.6]])
    >>> round(float(Hinge()(y_true, y_pred)), 4)  # Keras's documented 1.3
    1.3
"""

from __future__ import annotations

import torch

from easynn.losses._checks import _check_categorical, _check_same, _last_axis_mean
from easynn.losses._function_loss import _float_pair, _FunctionLoss

__all__ = ["Hinge", "SquaredHinge", "CategoricalHinge", "hinge", "squared_hinge", "categorical_hinge"]


def _signed(y_true: torch.Tensor) -> torch.Tensor:
    """0/1 targets as -1/1; any other targets (already -1/1) unchanged."""
    binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred) -> torch.Tensor:
    """Hinge loss, averaged over the last axis.

    Formula: ``mean(max(1 - y_true * y_pred, 0))``; ``y_true`` in {-1, 1} (or {0, 1}, mapped to
    {-1, 1}).

    Args:
        y_true: -1/1 (or 0/1) targets.
        y_pred: predicted scores, the same shape (a trailing axis of 1 may differ).

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]]))
        tensor([0.2500])
    """
    y_true, y_pred = _float_pair("hinge", y_true, y_pred)
    return _last_axis_mean((1.0 - _signed(y_true) * y_pred).clamp_min(0.0))


def squared_hinge(y_true, y_pred) -> torch.Tensor:
    """Squared hinge loss, averaged over the last axis.

    Formula: ``mean(max(1 - y_true * y_pred, 0)^2)``; 0/1 targets are mapped to -1/1.

    Args:
        y_true: -1/1 (or 0/1) targets.
        y_pred: predicted scores, the same shape.

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> squared_hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]]))
        tensor([0.1250])
    """
    y_true, y_pred = _float_pair("squared_hinge", y_true, y_pred)
    return _last_axis_mean((1.0 - _signed(y_true) * y_pred).clamp_min(0.0).square())


def categorical_hinge(y_true, y_pred) -> torch.Tensor:
    """Categorical (multi-class) hinge loss for one-hot targets.

    Formula: ``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` (the true class's
    score) and ``neg = max((1 - y_true) * y_pred)`` (the best other score).

    Args:
        y_true: one-hot targets, shape ``(batch, classes)``.
        y_pred: predicted scores, the same shape.

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for integer labels or mismatched shapes.

    Example:
        >>> import torch
        >>> categorical_hinge(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.6]]))
        tensor([0.7000])
    """
    y_true, y_pred = _float_pair("categorical_hinge", y_true, y_pred, _check_categorical)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp_min(0.0)


class Hinge(_FunctionLoss):
    """Class form of ``hinge``.

    Args:
        reduction: Keras's reduction (``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``).
        name: the loss name.

    Raises:
        ValueError: for an unknown ``reduction``.

    Example:
        >>> import torch
        >>> float(Hinge(reduction="sum")(torch.tensor([[1.0], [-1.0]]), torch.tensor([[0.5], [0.5]])))
        2.0
    """

    _fn = staticmethod(hinge)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge"):
        super().__init__(name, reduction)


class SquaredHinge(_FunctionLoss):
    """Class form of ``squared_hinge`` (arguments as ``Hinge``).

    Example:
        >>> import torch
        >>> float(SquaredHinge()(torch.tensor([[1.0], [-1.0]]), torch.tensor([[0.5], [0.5]])))
        1.25
    """

    _fn = staticmethod(squared_hinge)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "squared_hinge"):
        super().__init__(name, reduction)


class CategoricalHinge(_FunctionLoss):
    """Class form of ``categorical_hinge`` (arguments as ``Hinge``; one-hot targets).

    Example:
        >>> import torch
        >>> round(float(CategoricalHinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.6]]))), 4)
        0.7
    """

    _fn = staticmethod(categorical_hinge)
    _check = staticmethod(_check_categorical)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "categorical_hinge"):
        super().__init__(name, reduction)


_EXTENDED_CHECKS = {hinge: _check_same, squared_hinge: _check_same, categorical_hinge: _check_categorical}
