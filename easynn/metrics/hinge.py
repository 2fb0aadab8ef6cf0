"""Hinge metrics for ±1 (or 0/1) labels: ``Hinge``, ``SquaredHinge`` and ``CategoricalHinge``.

0/1 labels are mapped to -1/1 first, as Keras does. All have ``direction = "down"``.

Example:
    >>> import torch
    >>> float(Hinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.6, 0.4]])))
    1.100000023841858
"""

from __future__ import annotations

import torch

from easynn.metrics._utils import float_pair, last_axis_mean
from easynn.metrics.reduction import MeanMetricWrapper

__all__ = ["Hinge", "SquaredHinge", "CategoricalHinge", "hinge", "squared_hinge", "categorical_hinge"]


def _signed(y_true: torch.Tensor) -> torch.Tensor:
    # Keras converts binary 0/1 labels to -1/1 (labels already in {-1, 1} are kept).
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred) -> torch.Tensor:
    """``mean(max(1 - y_true y_pred, 0))`` over the last axis.

    Example:
        >>> hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]]))
        tensor([0.2500])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return last_axis_mean((1.0 - _signed(y_true) * y_pred).clamp_min(0))


def squared_hinge(y_true, y_pred) -> torch.Tensor:
    """``mean(max(1 - y_true y_pred, 0)²)`` over the last axis.

    Example:
        >>> squared_hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]]))
        tensor([0.1250])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return last_axis_mean((1.0 - _signed(y_true) * y_pred).clamp_min(0).square())


def categorical_hinge(y_true, y_pred) -> torch.Tensor:
    """``max(max((1 - y_true) y_pred) - Σ y_true y_pred + 1, 0)`` for one-hot labels.

    Example:
        >>> categorical_hinge(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.6]]))
        tensor([0.7000])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).max(dim=-1).values
    return (neg - pos + 1.0).clamp_min(0)


class Hinge(MeanMetricWrapper):
    """Sample mean of ``hinge``."""

    direction = "down"

    def __init__(self, name: str = "hinge", dtype=None):
        super().__init__(hinge, name, dtype)


class SquaredHinge(MeanMetricWrapper):
    """Sample mean of ``squared_hinge``."""

    direction = "down"

    def __init__(self, name: str = "squared_hinge", dtype=None):
        super().__init__(squared_hinge, name, dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Sample mean of ``categorical_hinge``."""

    direction = "down"

    def __init__(self, name: str = "categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name, dtype)
