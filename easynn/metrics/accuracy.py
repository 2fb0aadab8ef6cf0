"""Accuracy metrics: exact match, binary (thresholded), categorical, sparse and top-k.

Each function returns one value per sample (1.0 for a hit, 0.0 for a miss); each class is its
sample-weighted mean over every batch seen, logged under Keras's name. All have
``direction = "up"``.

Example:
    >>> import torch
    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state(torch.tensor([0, 2]), torch.tensor([[0.9, 0.1, 0.0], [0.5, 0.4, 0.1]]))
    >>> float(m.result())
    0.5
"""

from __future__ import annotations

import torch

from easynn._validation import positive_int
from easynn.metrics._utils import match_rank, pair
from easynn.metrics.reduction import MeanMetricWrapper

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
]


def _hits(mask: torch.Tensor) -> torch.Tensor:
    return mask.to(torch.get_default_dtype())


def accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where ``y_true == y_pred`` element-wise (a trailing axis of 1 may differ).

    Example:
        >>> accuracy(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4]))
        tensor([1., 1., 0.])
    """
    y_true, y_pred = pair(y_true, y_pred)
    if y_true.dim() != y_pred.dim():
        y_true = (
            match_rank(y_true, y_pred) if y_pred.is_floating_point() else match_rank(y_true, y_pred).to(y_pred.dtype)
        )
    return _hits(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> torch.Tensor:
    """Per-sample fraction of ``(y_pred > threshold) == y_true`` over the last axis.

    Example:
        >>> binary_accuracy(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.7], [0.6]]))
        tensor([1., 0.])
    """
    y_true, y_pred = pair(y_true, y_pred)
    y_true = match_rank(y_true, y_pred)
    hits = _hits((y_pred > threshold).to(y_true.dtype) == y_true)
    return hits.mean(dim=-1) if hits.dim() >= 2 else hits


def categorical_accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels).

    Example:
        >>> categorical_accuracy(torch.tensor([[0, 1], [1, 0]]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
        tensor([1., 0.])
    """
    y_true, y_pred = pair(y_true, y_pred)
    return _hits(y_true.argmax(dim=-1) == y_pred.argmax(dim=-1))


def _sparse_labels(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true.long()


def sparse_categorical_accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where the integer label equals ``argmax(y_pred)``.

    Example:
        >>> sparse_categorical_accuracy(torch.tensor([[2], [1]]), torch.tensor([[0.1, 0.2, 0.7], [0.9, 0.05, 0.05]]))
        tensor([1., 0.])
    """
    y_true, y_pred = pair(y_true, y_pred)
    return _hits(_sparse_labels(y_true, y_pred) == y_pred.argmax(dim=-1))


def _in_top_k(labels: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    # As Keras on torch: a label counts when its score is >= the k-th largest score (ties count).
    k = min(int(k), y_pred.shape[-1])
    kth = y_pred.topk(k, dim=-1).values[..., -1:]
    target = y_pred.gather(-1, labels.unsqueeze(-1))
    return _hits((target >= kth).squeeze(-1))


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> torch.Tensor:
    """1.0 where the one-hot label's class is among the ``k`` highest scores.

    Example:
        >>> top_k_categorical_accuracy(torch.tensor([[0, 0, 1]]), torch.tensor([[0.5, 0.1, 0.4]]), k=2)
        tensor([1.])
    """
    y_true, y_pred = pair(y_true, y_pred)
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> torch.Tensor:
    """1.0 where the integer label is among the ``k`` highest scores.

    Example:
        >>> sparse_top_k_categorical_accuracy(torch.tensor([1]), torch.tensor([[0.5, 0.1, 0.4]]), k=2)
        tensor([0.])
    """
    y_true, y_pred = pair(y_true, y_pred)
    return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true``, element-wise."""

    direction = "up"

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold)`` matches binary labels.

    Args:
        name: ``"binary_accuracy"``. dtype: result dtype. threshold: 0.5.
    """

    direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        if isinstance(name, (int, float)) and not isinstance(name, bool):  # easynn 0.x: BinaryAccuracy(0.7)
            name, threshold = "binary_accuracy", name
        super().__init__(binary_accuracy, name, dtype, threshold=float(threshold))


class CategoricalAccuracy(MeanMetricWrapper):
    """Argmax accuracy for one-hot labels."""

    direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Argmax accuracy for integer labels."""

    direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top ``k`` predictions (``k=5``)."""

    direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=positive_int("k", k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top ``k`` predictions (``k=5``).

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=1)
        >>> float(m(torch.tensor([0, 1]), torch.tensor([[0.9, 0.1], [0.8, 0.2]])))
        0.5
    """

    direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=positive_int("k", k))
