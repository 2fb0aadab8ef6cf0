"""Correlation metrics: Pearson's and Lin's concordance correlation coefficients, as Keras 3
computes them.

Each function returns one coefficient per slice along ``axis`` (per sample for ``(batch, d)``
inputs with ``axis=-1``); the classes are sample-weighted means of those values over every batch
seen (``MeanMetricWrapper``), so a metric's value after several batches is the mean of the
per-sample coefficients, not the coefficient of the pooled data. Slices with no variance give 0,
never NaN: the denominators carry Keras's ``epsilon`` (1e-7). Inputs of shape ``(batch,)`` are
one slice per batch (one coefficient per batch, averaged over batches); ``(batch, 1)`` outputs
give one-element slices, whose coefficient is 0, as in Keras.

Example:
    >>> import torch
    >>> y_true = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]])
    >>> y_pred = torch.tensor([[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]])
    >>> [round(v, 4) for v in concordance_correlation(y_true, y_pred).tolist()]  # Keras's documented values
    [0.9756, 0.9877]
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.metrics._utils import float_pair
from easynn.metrics.reduction import MeanMetricWrapper

__all__ = ["PearsonCorrelation", "ConcordanceCorrelation", "pearson_correlation", "concordance_correlation"]

_EPSILON = 1e-7  # Keras's backend.epsilon()


def _axis(value: Any) -> int | tuple[int, ...]:
    """An int or a tuple of ints (a list, as JSON gives it back, becomes a tuple)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(a, int) and not isinstance(a, bool) for a in value):
        return tuple(value)
    raise ValueError(f"`axis` must be an integer or a tuple of integers. Received: axis={value!r}")


def pearson_correlation(y_true, y_pred, axis: Any = -1) -> torch.Tensor:
    """Pearson's correlation coefficient along ``axis``.

    Formula: with ``a = y_true - mean(y_true)`` and ``b = y_pred - mean(y_pred)`` (means and
    population standard deviations over ``axis``),
    ``mean((a / (std(a) + 1e-7)) · (b / (std(b) + 1e-7)))``; 0 where either side is constant.

    Args:
        y_true, y_pred: tensors of the same shape (a trailing axis of size 1 may differ).
        axis: the axis (or tuple of axes) the coefficient is computed over.

    Returns:
        The coefficients, the inputs' shape without ``axis``.

    Raises:
        ValueError: for a bad ``axis``.

    Example:
        >>> import torch
        >>> y_true = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]])
        >>> y_pred = torch.tensor([[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]])
        >>> [round(v, 4) for v in pearson_correlation(y_true, y_pred).tolist()]  # Keras's documented values
        [1.0, 0.9934]
    """
    axis = _axis(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    a = y_true - y_true.mean(dim=axis, keepdim=True)
    b = y_pred - y_pred.mean(dim=axis, keepdim=True)
    a = a / (a.std(dim=axis, keepdim=True, correction=0) + _EPSILON)
    b = b / (b.std(dim=axis, keepdim=True, correction=0) + _EPSILON)
    return (a * b).mean(dim=axis)


def concordance_correlation(y_true, y_pred, axis: Any = -1) -> torch.Tensor:
    """Lin's concordance correlation coefficient along ``axis``: correlation that also penalises
    a shift or a change of scale between predictions and targets.

    Formula: ``2 cov(y_true, y_pred) / (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))² + 1e-7)``
    with population (co)variances over ``axis``; 0 when both sides are constant.

    Args:
        y_true, y_pred: tensors of the same shape (a trailing axis of size 1 may differ).
        axis: the axis (or tuple of axes) the coefficient is computed over.

    Returns:
        The coefficients, the inputs' shape without ``axis``.

    Raises:
        ValueError: for a bad ``axis``.

    Example:
        >>> import torch
        >>> round(float(concordance_correlation(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 3.0, 4.0]))), 4)
        0.5714
    """
    axis = _axis(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    mean_true = y_true.mean(dim=axis, keepdim=True)
    mean_pred = y_pred.mean(dim=axis, keepdim=True)
    var_true = (y_true - mean_true).square().mean(dim=axis, keepdim=True)
    var_pred = (y_pred - mean_pred).square().mean(dim=axis, keepdim=True)
    norm = var_true + var_pred + (mean_true - mean_pred).square()
    covariance = (y_true - mean_true) * (y_pred - mean_pred)
    return (2.0 * covariance / (norm + _EPSILON)).mean(dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean of ``pearson_correlation`` over every sample seen (Keras's ``PearsonCorrelation``).

    Args:
        name: ``"pearson_correlation"`` by default. dtype: the result's dtype.
        axis: the axis (or tuple of axes) each coefficient is computed over.

    Raises:
        ValueError: for a bad ``axis``.

    Example:
        >>> import torch
        >>> m = PearsonCorrelation()
        >>> m.update_state(torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]]),
        ...                torch.tensor([[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]]))
        >>> round(float(m.result()), 4)  # Keras documents 0.9966996
        0.9967
    """

    direction = "up"

    def __init__(self, name: str = "pearson_correlation", dtype=None, axis: Any = -1):
        self.axis = _axis(axis)
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=self.axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean of ``concordance_correlation`` over every sample seen (Keras's
    ``ConcordanceCorrelation``).

    Args:
        name: ``"concordance_correlation"`` by default. dtype: the result's dtype.
        axis: the axis (or tuple of axes) each coefficient is computed over.

    Raises:
        ValueError: for a bad ``axis``.

    Example:
        >>> import torch
        >>> m = ConcordanceCorrelation()
        >>> m.update_state(torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]]),
        ...                torch.tensor([[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]]))
        >>> round(float(m.result()), 4)  # Keras documents 0.98163204
        0.9816
    """

    direction = "up"

    def __init__(self, name: str = "concordance_correlation", dtype=None, axis: Any = -1):
        self.axis = _axis(axis)
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=self.axis)
