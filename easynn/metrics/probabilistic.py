"""Probabilistic metrics: the crossentropies, Kullback-Leibler divergence and Poisson.

Each is the sample-weighted mean of a per-sample value; all have ``direction = "down"``.

Example:
    >>> import torch
    >>> m = KLDivergence()
    >>> round(float(m(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]]))), 4)
    0.1438
"""

from __future__ import annotations

import torch

from easynn import losses as _losses
from easynn.metrics._utils import float_pair, last_axis_mean
from easynn.metrics.reduction import MeanMetricWrapper

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "kl_divergence",
    "kld",
    "poisson",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
]

_EPSILON = 1e-7

# keras.metrics exports the loss functions themselves (per-sample values, no reduction).
binary_crossentropy = _losses.binary_crossentropy
categorical_crossentropy = _losses.categorical_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
binary_focal_crossentropy = _losses.binary_focal_crossentropy
categorical_focal_crossentropy = _losses.categorical_focal_crossentropy


def kl_divergence(y_true, y_pred) -> torch.Tensor:
    """``Σ y_true log(y_true / y_pred)`` over the last axis, both clipped to ``[1e-7, 1]``.

    Example:
        >>> kl_divergence(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]))
        tensor([0.])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true, y_pred = y_true.clamp(_EPSILON, 1.0), y_pred.clamp(_EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


kld = kl_divergence


def poisson(y_true, y_pred) -> torch.Tensor:
    """``mean(y_pred - y_true log(y_pred + 1e-7))`` over the last axis.

    Example:
        >>> poisson(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([1.0000])
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return last_axis_mean(y_pred - y_true * torch.log(y_pred + _EPSILON))


class KLDivergence(MeanMetricWrapper):
    """Sample mean of ``kl_divergence``."""

    direction = "down"

    def __init__(self, name: str = "kl_divergence", dtype=None):
        super().__init__(kl_divergence, name, dtype)


class Poisson(MeanMetricWrapper):
    """Sample mean of ``poisson``."""

    direction = "down"

    def __init__(self, name: str = "poisson", dtype=None):
        super().__init__(poisson, name, dtype)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Sample mean of the categorical crossentropy (one-hot labels)."""

    direction = "down"

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype=None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
    ):
        super().__init__(
            _losses.categorical_crossentropy,
            name,
            dtype,
            from_logits=bool(from_logits),
            label_smoothing=float(label_smoothing),
        )


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Sample mean of the sparse categorical crossentropy (integer labels)."""

    direction = "down"

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype=None, from_logits: bool = False):
        super().__init__(_losses.sparse_categorical_crossentropy, name, dtype, from_logits=bool(from_logits))


class BinaryCrossentropy(MeanMetricWrapper):
    """Sample mean of the binary crossentropy."""

    direction = "down"

    def __init__(
        self, name: str = "binary_crossentropy", dtype=None, from_logits: bool = False, label_smoothing: float = 0.0
    ):
        super().__init__(
            _losses.binary_crossentropy,
            name,
            dtype,
            from_logits=bool(from_logits),
            label_smoothing=float(label_smoothing),
        )
