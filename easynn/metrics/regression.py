"""Regression metrics: squared/absolute/percentage/log errors, RMSE, cosine similarity, log-cosh
and the coefficient of determination R².

Errors have ``direction = "down"``; ``CosineSimilarity`` and ``R2Score`` have ``"up"``.

Example:
    >>> import torch
    >>> m = RootMeanSquaredError()
    >>> float(m(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 0.0]])))
    0.7071067690849304
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from easynn import losses as _losses
from easynn._validation import non_negative_int, one_of
from easynn.metrics._utils import divide_no_nan, float_pair, last_axis_mean, weights_like
from easynn.metrics.base import Metric
from easynn.metrics.reduction import Mean, MeanMetricWrapper

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "R2Score",
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "cosine_similarity",
    "log_cosh",
    "logcosh",
    "huber",
]

_EPSILON = 1e-7  # Keras's backend.epsilon()

mean_squared_error = mse = _losses.mean_squared_error
mean_absolute_error = mae = _losses.mean_absolute_error
huber = _losses.huber  # keras.metrics.huber is keras.losses.huber (per sample, delta=1.0)


def mean_absolute_percentage_error(y_true, y_pred) -> torch.Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis.

    Example:
        >>> mean_absolute_percentage_error(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 5.0]]))
        tensor([37.5000])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return 100.0 * last_axis_mean(((y_true - y_pred) / y_true.abs().clamp_min(_EPSILON)).abs())


mape = mean_absolute_percentage_error


def mean_squared_logarithmic_error(y_true, y_pred) -> torch.Tensor:
    """``mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))²)`` over the last axis.

    Example:
        >>> round(float(mean_squared_logarithmic_error(torch.tensor([[0.0]]), torch.tensor([[math.e - 1]]))), 4)
        1.0
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    diff = torch.log1p(y_pred.clamp_min(_EPSILON)) - torch.log1p(y_true.clamp_min(_EPSILON))
    return last_axis_mean(diff.square())


msle = mean_squared_logarithmic_error


def cosine_similarity(y_true, y_pred, axis: int = -1) -> torch.Tensor:
    """``Σ (y_true / ||y_true||) (y_pred / ||y_pred||)`` along ``axis`` (1 for the same direction).

    Example:
        >>> [round(v, 4) for v in cosine_similarity(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([[2.0, 0.0], [-1.0, -1.0]])).tolist()]
        [1.0, -1.0]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return (F.normalize(y_true, dim=axis) * F.normalize(y_pred, dim=axis)).sum(dim=axis)


def log_cosh(y_true, y_pred) -> torch.Tensor:
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis, computed as
    ``x + softplus(-2x) - log 2`` so that large errors do not overflow.

    Example:
        >>> log_cosh(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 100.0]]))
        tensor([49.6534])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    x = y_pred - y_true
    return last_axis_mean(x + F.softplus(-2.0 * x) - math.log(2.0))


logcosh = log_cosh


class MeanSquaredError(MeanMetricWrapper):
    """Sample mean of the mean squared error."""

    direction = "down"

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Sample mean of the mean absolute error."""

    direction = "down"

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Sample mean of ``mean_absolute_percentage_error`` (in percent)."""

    direction = "down"

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Sample mean of ``mean_squared_logarithmic_error``."""

    direction = "down"

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Sample mean of ``cosine_similarity`` along ``axis``."""

    direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype=None, axis: int = -1):
        super().__init__(cosine_similarity, name, dtype, axis=int(axis))


class LogCoshError(MeanMetricWrapper):
    """Sample mean of ``log_cosh`` (the logarithm of the hyperbolic cosine of the error)."""

    direction = "down"

    def __init__(self, name: str = "logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(Σ w (y_pred - y_true)² / Σ w)`` over every element seen.

    Example:
        >>> m = RootMeanSquaredError()
        >>> float(m(torch.tensor([2.0, 4.0]), torch.tensor([2.0, 0.0]), sample_weight=torch.tensor([3.0, 1.0])))
        2.0
    """

    direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = float_pair(y_true, y_pred)
        super().update_state((y_pred - y_true).square(), sample_weight)

    def result(self) -> torch.Tensor:
        return super().result().sqrt()


class R2Score(Metric):
    """The coefficient of determination, ``R² = 1 - Σ w (y - ŷ)² / Σ w (y - ȳ)²``, per output.

    Computed from running sums, so it equals scikit-learn's ``r2_score`` over all samples seen.

    Args:
        class_aggregation: ``"uniform_average"`` (mean of the per-output scores),
            ``"variance_weighted_average"`` (weighted by each output's variance) or ``None``
            (one score per output).
        num_regressors: for the adjusted R², ``1 - (1 - R²)(n - 1)/(n - p - 1)``; 0 for plain R².
        name: ``"r2_score"``. dtype: the result's dtype.

    Raises:
        ValueError: for an unknown ``class_aggregation`` or a negative ``num_regressors``.

    Example:
        >>> m = R2Score()
        >>> float(m(torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[1.0], [2.0], [2.0]])))
        0.5
    """

    direction = "up"

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype=None,
    ):
        super().__init__(dtype=dtype, name=name)
        if class_aggregation is not None:
            one_of("class_aggregation", class_aggregation, ("uniform_average", "variance_weighted_average"))
        self.class_aggregation = class_aggregation
        self.num_regressors = non_negative_int("num_regressors", num_regressors)
        self._built = False

    def _build(self, num_outputs: int) -> None:
        make = lambda name: self.add_variable((num_outputs,), "zeros", dtype=torch.float64, name=name)  # noqa: E731
        self.squared_sum, self.sum, self.total_mse, self.count = (
            make(n) for n in ("squared_sum", "sum", "residual", "count")
        )
        self.num_samples = self.add_variable((), "zeros", dtype=torch.float64, name="num_samples")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = float_pair(y_true, y_pred)
        if y_pred.dim() == 1:
            y_true, y_pred = y_true.unsqueeze(-1), y_pred.unsqueeze(-1)
        if y_pred.dim() != 2:
            raise ValueError(
                f"R2Score expects 1-D or 2-D inputs (batch, outputs). Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        self._ensure_device(y_pred)
        if not self._built:
            self._build(y_pred.shape[-1])
        y_true, y_pred = y_true.double(), y_pred.double()
        w = torch.ones_like(y_true) if sample_weight is None else weights_like(y_true, sample_weight)
        weighted = y_true * w
        self.sum.value.add_(weighted.sum(0))
        self.squared_sum.value.add_((y_true * weighted).sum(0))
        self.total_mse.value.add_(((y_true - y_pred).square() * w).sum(0))
        self.count.value.add_(w.sum(0))
        self.num_samples.value.add_(y_true.shape[0])

    def result(self) -> torch.Tensor:
        if not self._built:
            return torch.zeros((), dtype=self._dtype)
        mean = self.sum.value / self.count.value
        total = self.squared_sum.value - self.sum.value * mean
        raw = 1 - self.total_mse.value / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            r2 = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            r2 = divide_no_nan((total * raw).sum(), total.sum())
        else:
            r2 = raw
        if self.num_regressors:
            n, p = float(self.num_samples.value), self.num_regressors  # adjusted R²: one host read
            if p >= n - 1:
                warnings.warn(
                    f"R2Score: num_regressors={p} needs more than {p + 1} samples; returning plain R².",
                    UserWarning,
                    stacklevel=2,
                )
            else:
                r2 = 1 - (1 - r2) * (n - 1) / (n - p - 1)
        return r2.to(self._dtype)

    def get_config(self) -> dict:
        return {
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
            **super().get_config(),
        }
