"""Regression losses beyond MSE/MAE/Huber: mean absolute percentage error, mean squared
logarithmic error, log-cosh and the (negative) cosine similarity, with their classes.

Keras's clipping is kept, so no valid input gives ``inf`` or NaN: MAPE divides by
``max(|y_true|, 1e-7)``, MSLE takes ``log(max(y, 1e-7) + 1)``, log-cosh is computed as
``x + softplus(-2x) - log 2`` (no ``cosh`` overflow) and the cosine similarity divides by
``max(||y||, 1e-7)`` (a zero vector gives 0).

Example:
    >>> import torch
    >>> y_true = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    >>> round(float(LogCosh()(y_true, y_pred)), 3)  # Keras's documented 0.108
    0.108
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from easynn.losses._checks import EPSILON, _check_same, _last_axis_mean
from easynn.losses._function_loss import _axis, _float_pair, _FunctionLoss

__all__ = [
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "LogCosh",
    "CosineSimilarity",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "log_cosh",
    "cosine_similarity",
    "mape",
    "MAPE",
    "msle",
    "MSLE",
]

_LOG_2 = math.log(2.0)


def mean_absolute_percentage_error(y_true, y_pred) -> torch.Tensor:
    """Mean absolute percentage error, averaged over the last axis.

    Formula: ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))``.

    Args:
        y_true: targets; y_pred: predictions of the same shape (a trailing axis of 1 may differ).

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> mean_absolute_percentage_error(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 5.0]]))
        tensor([37.5000])
    """
    y_true, y_pred = _float_pair("mean_absolute_percentage_error", y_true, y_pred)
    return 100.0 * _last_axis_mean((y_true - y_pred).abs() / y_true.abs().clamp_min(EPSILON))


def mean_squared_logarithmic_error(y_true, y_pred) -> torch.Tensor:
    """Mean squared logarithmic error, averaged over the last axis.

    Formula: ``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2)``.

    Args:
        y_true: non-negative targets; y_pred: predictions of the same shape.

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> round(float(mean_squared_logarithmic_error(torch.tensor([[0.0]]), torch.tensor([[math.e - 1]]))), 4)
        1.0
    """
    y_true, y_pred = _float_pair("mean_squared_logarithmic_error", y_true, y_pred)
    diff = torch.log1p(y_pred.clamp_min(EPSILON)) - torch.log1p(y_true.clamp_min(EPSILON))
    return _last_axis_mean(diff.square())


def log_cosh(y_true, y_pred) -> torch.Tensor:
    """Logarithm of the hyperbolic cosine of the error, averaged over the last axis.

    Formula: with ``x = y_pred - y_true``, ``mean(log(cosh(x)))``, computed as
    ``x + softplus(-2x) - log 2``: about ``x^2 / 2`` for small errors and ``|x| - log 2`` for
    large ones.

    Args:
        y_true: targets; y_pred: predictions of the same shape.

    Returns:
        The per-sample loss, ``y_pred``'s shape without the last axis.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> log_cosh(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 100.0]]))
        tensor([49.6534])
    """
    y_true, y_pred = _float_pair("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return _last_axis_mean(x + F.softplus(-2.0 * x) - _LOG_2)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity (Keras's loss form: -1 is best, 0 orthogonal, 1 opposite).

    Formula: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` where
    ``l2_normalize(v) = v / max(||v||, 1e-7)``; a zero vector gives 0.

    Args:
        y_true: targets; y_pred: predictions of the same shape.
        axis: the features axis.

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.

    Raises:
        ValueError: for mismatched shapes or a non-integer ``axis``.

    Example:
        >>> import torch
        >>> out = cosine_similarity(torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [-1.0, -1.0]]))
        >>> [round(v, 4) + 0.0 for v in out.tolist()]  # orthogonal, opposite
        [0.0, 1.0]
    """
    axis = _axis(axis)
    y_true, y_pred = _float_pair("cosine_similarity", y_true, y_pred)
    unit_true = F.normalize(y_true, dim=axis, eps=EPSILON)
    unit_pred = F.normalize(y_pred, dim=axis, eps=EPSILON)
    return -(unit_true * unit_pred).sum(dim=axis)


mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error


class MeanAbsolutePercentageError(_FunctionLoss):
    """Class form of ``mean_absolute_percentage_error``.

    Args:
        reduction: Keras's reduction (``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``).
        name: the loss name.

    Raises:
        ValueError: for an unknown ``reduction``.

    Example:
        >>> import torch
        >>> loss = MeanAbsolutePercentageError()
        >>> float(loss(torch.tensor([[2.0, 1.0], [2.0, 3.0]]), torch.tensor([[1.0, 1.0], [1.0, 0.0]])))
        50.0
    """

    _fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_absolute_percentage_error"):
        super().__init__(name, reduction)


class MeanSquaredLogarithmicError(_FunctionLoss):
    """Class form of ``mean_squared_logarithmic_error`` (arguments as
    ``MeanAbsolutePercentageError``).

    Example:
        >>> import torch
        >>> loss = MeanSquaredLogarithmicError()
        >>> round(float(loss(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 0.0]]))), 3)
        0.24
    """

    _fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_squared_logarithmic_error"):
        super().__init__(name, reduction)


class LogCosh(_FunctionLoss):
    """Class form of ``log_cosh`` (arguments as ``MeanAbsolutePercentageError``).

    Example:
        >>> import torch
        >>> round(float(LogCosh()(torch.tensor([[0.0]]), torch.tensor([[1.0]]))), 4)
        0.4338
    """

    _fn = staticmethod(log_cosh)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh"):
        super().__init__(name, reduction)


class CosineSimilarity(_FunctionLoss):
    """Class form of ``cosine_similarity`` (the negative similarity, to minimise).

    Args:
        axis: the features axis.
        reduction: Keras's reduction.
        name: the loss name.

    Raises:
        ValueError: for a non-integer ``axis`` or an unknown ``reduction``.

    Example:
        >>> import torch
        >>> loss = CosineSimilarity()
        >>> round(float(loss(torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]]))), 4)
        -0.5
    """

    _fn = staticmethod(cosine_similarity)

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size", name: str = "cosine_similarity"):
        super().__init__(name, reduction, axis=_axis(axis))


_EXTENDED_CHECKS = {
    mean_absolute_percentage_error: _check_same,
    mean_squared_logarithmic_error: _check_same,
    log_cosh: _check_same,
    cosine_similarity: _check_same,
}
