"""F-scores per class: ``FBetaScore`` and ``F1Score`` from running true-positive,
false-positive and false-negative counts.

Example:
    >>> import torch
    >>> m = F1Score(average="micro", threshold=0.5)
    >>> round(float(m(torch.tensor([[1, 0], [0, 1]]), torch.tensor([[0.9, 0.2], [0.8, 0.3]]))), 4)
    0.5
"""

from __future__ import annotations

import torch

from easynn._validation import one_of
from easynn.metrics._utils import divide_no_nan, pair, weights_like
from easynn.metrics.base import Metric

__all__ = ["FBetaScore", "F1Score"]


class FBetaScore(Metric):
    """The F-beta score per class: ``(1 + β²) P R / (β² P + R)`` from running tp, fp, fn.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (from the counts summed over
            classes), ``"macro"`` (the mean of the class scores) or ``"weighted"`` (their mean
            weighted by each class's number of true instances).
        beta: > 0; 1 gives F1.
        threshold: a prediction is positive when ``y_pred > threshold``; ``None`` marks each
            row's largest score.
        name: ``"fbeta_score"``. dtype: the result's dtype.

    Shape:
        ``y_true`` and ``y_pred``: ``(batch, classes)`` (one-hot or multi-hot labels).

    Raises:
        ValueError: for an unknown ``average``, ``beta <= 0``, a threshold outside (0, 1] or
            inputs that are not 2-D.

    Example:
        >>> import torch
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m(torch.tensor([[1, 1, 0]]), torch.tensor([[0.9, 0.1, 0.8]])).tolist()
        [1.0, 0.0, 0.0]
    """

    direction = "up"

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype=None,
    ):
        super().__init__(dtype=dtype, name=name)
        if average is not None:
            one_of("average", average, ("micro", "macro", "weighted"))
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"`beta` must be a float greater than 0. Received: beta={beta!r}")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1
        ):
            raise ValueError(f"`threshold` must be a float in the range (0, 1]. Received: threshold={threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._built = False

    def _build(self, classes: int) -> None:
        for key in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, key, self.add_variable((classes,), "zeros", dtype=torch.float64, name=key))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred)
        if y_pred.dim() != 2 or y_true.dim() != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2-D y_true and y_pred (batch, classes). Received: "
                f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
            )
        self._ensure_device(y_pred)
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            top = y_pred.max(dim=-1, keepdim=True).values
            predicted = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted, y_true = predicted.to(torch.float64), y_true.to(torch.float64)
        w = None if sample_weight is None else weights_like(y_true, sample_weight)
        total = (lambda v: v.sum(0)) if w is None else (lambda v: (v * w).sum(0))
        self.true_positives.value.add_(total(predicted * y_true))
        self.false_positives.value.add_(total(predicted * (1 - y_true)))
        self.false_negatives.value.add_(total((1 - predicted) * y_true))
        self.intermediate_weights.value.add_(total(y_true))

    def result(self) -> torch.Tensor:
        if not self._built:
            return torch.zeros((), dtype=self._dtype)
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = divide_no_nan(tp, tp + fp)
        recall = divide_no_nan(tp, tp + fn)
        b2 = self.beta**2
        score = divide_no_nan(precision * recall, b2 * precision + recall) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights.value
            score = (score * divide_no_nan(weights, weights.sum())).sum()
        elif self.average is not None:
            score = score.mean()
        return score.to(self._dtype)

    def get_config(self) -> dict:
        return {"average": self.average, "beta": self.beta, "threshold": self.threshold, **super().get_config()}


class F1Score(FBetaScore):
    """The F1 score per class, ``2 P R / (P + R)``: ``FBetaScore`` with ``beta=1``.

    Example:
        >>> import torch
        >>> m = F1Score(average="macro", threshold=0.5)
        >>> round(float(m(torch.tensor([[1, 0], [0, 1], [1, 0]]), torch.tensor([[0.9, 0.2], [0.6, 0.7], [0.3, 0.1]]))), 4)
        0.75
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score", dtype=None):
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("beta")
        return config
