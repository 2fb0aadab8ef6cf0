"""Reduction metrics: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (the mean of a per-sample
function, which every accuracy, regression, hinge and probabilistic metric is).

``MeanMetricWrapper`` reads the mask a prediction carries (``y_pred._keras_mask``, set by
``Embedding(mask_zero=True)`` or ``Masking`` and propagated to the model's output) and uses it as
a sample weight, as Keras 3 does: masked timesteps leave both the sum and the count, so a padded
sequence model's accuracy is the accuracy over its real tokens.

Example:
    >>> import torch
    >>> y_pred = torch.tensor([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]])  # (batch, timesteps, classes)
    >>> y_pred._keras_mask = torch.tensor([[True, True, False]])  # the last timestep is padding
    >>> m = MeanMetricWrapper(lambda t, p: (p.argmax(-1) == t).float(), name="acc")
    >>> float(m(torch.tensor([[0, 0, 0]]), y_pred))  # 1 hit among the 2 real timesteps
    0.5
"""

from __future__ import annotations

from typing import Callable

import torch

from easynn.metrics._utils import weights_like
from easynn.metrics.base import Metric
from easynn.metrics.variable import _tensor, _unwrap

__all__ = ["Sum", "Mean", "MeanMetricWrapper"]


def _masked_weights(values: torch.Tensor, sample_weight, mask) -> torch.Tensor | None:
    """The sample weights of ``values`` with a prediction's mask folded in (Keras's ``apply_mask``
    with ``reduction="sum"``): ``w · m``, or ``m`` alone without weights.

    ``mask`` (bool, ``(batch, timesteps)``) must index the leading axes of ``values``; a mask of
    any other shape is left out, as the losses leave it out.
    """
    mask = _tensor(mask, values.device)
    if values.dim() < mask.dim() or tuple(values.shape[: mask.dim()]) != tuple(mask.shape):
        return sample_weight
    keep = mask.to(values.dtype)
    while keep.dim() < values.dim():
        keep = keep.unsqueeze(-1)
    keep = keep.expand_as(values)
    weights = weights_like(values, sample_weight)
    return keep if weights is None else weights * keep


class Sum(Metric):
    """Weighted sum of values: ``Σ w_i v_i``.

    Example:
        >>> m = Sum()
        >>> float(m(torch.tensor([1.0, 3.0, 5.0])))
        9.0
    """

    direction = None

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable((), "zeros", dtype=torch.float64, name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values = _tensor(values)
        self._ensure_device(values)
        values = values.detach()
        values = values if values.is_floating_point() else values.to(self.total.dtype)
        w = weights_like(values, sample_weight)
        self.total.value.add_((values if w is None else values * w).sum())

    def result(self) -> torch.Tensor:
        return self.total.value.to(self._dtype)


class Mean(Metric):
    """Weighted mean of values: ``Σ w_i v_i / Σ w_i`` (0 before any update).

    Example:
        >>> m = Mean()
        >>> m.update_state(torch.tensor([1.0, 3.0]))
        >>> m.update_state(torch.tensor([5.0]), sample_weight=torch.tensor([2.0]))
        >>> float(m.result())
        3.5
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable((), "zeros", dtype=torch.float64, name="total")
        self.count = self.add_variable((), "zeros", dtype=torch.float64, name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values = _tensor(values)
        self._ensure_device(values)
        values = values.detach()
        if not values.is_floating_point():
            values = values.to(self.total.dtype)
        w = weights_like(values, sample_weight)
        if w is None:
            self.total.value.add_(values.sum())
            self.count.value.add_(values.numel())
        else:
            self.total.value.add_((values * w).sum())
            self.count.value.add_(w.sum())

    def result(self) -> torch.Tensor:
        return (self.total.value / self.count.value.clamp_min(1e-12)).to(self._dtype)


class MeanMetricWrapper(Mean):
    """Sample-weighted mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Formula: ``Σ w·m·fn(y_true, y_pred) / Σ w·m`` where ``w`` is the sample weight and ``m`` the
    mask carried by ``y_pred`` (``y_pred._keras_mask``; 1 everywhere when there is none).

    Args:
        fn: returns one value per sample (or per element).
        name: the logged name (defaults to ``fn.__name__``).
        dtype: the result's dtype.
        **kwargs: passed to ``fn``.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: (t - p).abs(), name="abs_err")
        >>> float(m(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0])))
        1.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        mask = getattr(y_pred, "_keras_mask", None)  # read first: conversions drop the attribute
        with torch.no_grad():
            values = _tensor(self._fn(_unwrap(y_true), _unwrap(y_pred), **self._fn_kwargs)).detach()
        if mask is not None:
            if not values.is_floating_point():
                values = values.to(torch.float64)
            sample_weight = _masked_weights(values, sample_weight, mask)
        super().update_state(values, sample_weight)

    @property
    def fn(self) -> Callable:
        """The wrapped per-sample function."""
        return self._fn

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}
