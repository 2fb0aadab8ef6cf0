"""``AUC``: the area under the ROC or precision-recall curve, from confusion counts taken on the
device at ``num_thresholds`` thresholds.

Example:
    >>> import torch
    >>> m = AUC(curve="PR", summation_method="majoring")
    >>> round(float(m(torch.tensor([0, 1]), torch.tensor([0.2, 0.9]))), 4)
    1.0
"""

from __future__ import annotations

import torch

from easynn._validation import one_of
from easynn.metrics._counts import _EPSILON, _VARIABLE_NAMES, _check_thresholds, confusion_counts
from easynn.metrics._utils import as_float_list, divide_no_nan, pair
from easynn.metrics.base import Metric

__all__ = ["AUC"]


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts at ``num_thresholds`` thresholds.

    Formula: the thresholds are ``-1e-7, 1/(T-1), ..., (T-2)/(T-1), 1 + 1e-7`` (Keras's). ROC:
    Σ over consecutive thresholds of ``(fpr_i - fpr_{i+1}) * height``; PR: recall against
    precision. ``summation_method="interpolation"`` uses trapezoids for ROC and Davis &
    Goadrich's (2006) interpolation of precision for PR; ``"minoring"``/``"majoring"`` use the
    lower/upper Riemann sums.

    Args:
        num_thresholds: 200. curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: ``"auc"``. dtype: the result's dtype.
        thresholds: explicit thresholds in [0, 1] (``num_thresholds`` becomes their count + 2).
        multi_label: one curve per label (last axis), averaged (weighted by ``label_weights``).
        num_labels: accepted for Keras compatibility (inferred from the data).
        label_weights: per-label weights of the average (multi_label) or of the counts.
        from_logits: apply a sigmoid to ``y_pred`` first.

    Raises:
        ValueError: for an unknown ``curve`` or ``summation_method``, or ``num_thresholds <= 1``.

    Example:
        >>> import torch
        >>> m = AUC()
        >>> round(float(m(torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 0.5, 0.3, 0.9]))), 4)
        0.75
    """

    direction = "up"

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype=None,
        thresholds=None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights=None,
        from_logits: bool = False,
    ):
        super().__init__(dtype=dtype, name=name or "auc")
        self.curve = one_of("curve", str(curve).upper(), ("ROC", "PR"))
        self.summation_method = one_of(
            "summation_method", str(summation_method).lower(), ("interpolation", "minoring", "majoring")
        )
        if thresholds is not None:
            inner = sorted(_check_thresholds(as_float_list("thresholds", thresholds)))
            num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(
                    f"`num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds!r}"
                )
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self.thresholds = [0.0 - _EPSILON] + inner + [1.0 + _EPSILON]
        self._explicit_thresholds = thresholds is not None
        self._threshold_tensor = torch.tensor(self.thresholds, dtype=torch.float32)
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else torch.as_tensor(label_weights, dtype=torch.float64)
        self.from_logits = bool(from_logits)
        self._built = False
        if not self.multi_label or num_labels is not None:
            self._build(1 if not self.multi_label else int(num_labels))

    def _build(self, labels: int) -> None:
        shape = (self.num_thresholds,) if not self.multi_label else (self.num_thresholds, labels)
        for kind in ("tp", "fp", "tn", "fn"):
            setattr(
                self,
                _VARIABLE_NAMES[kind],
                self.add_variable(shape, "zeros", dtype=torch.float64, name=_VARIABLE_NAMES[kind]),
            )
        self._built = True

    def to(self, device) -> "Metric":
        super().to(device)
        self._threshold_tensor = self._threshold_tensor.to(device)
        return self

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred)
        self._ensure_device(y_pred)
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        if not self._built:
            self._build(y_pred.shape[-1])
        counts = confusion_counts(
            y_true, y_pred, self._threshold_tensor, sample_weight, self.multi_label, self.label_weights
        )
        for kind in ("tp", "fp", "tn", "fn"):
            getattr(self, _VARIABLE_NAMES[kind]).value.add_(counts[kind])

    def _interpolated_pr(self, tp, fp, fn) -> torch.Tensor:
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(both, divide_no_nan(p[:-1], p[1:].clamp_min(0)), torch.ones_like(p[1:]))
        return divide_no_nan(slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp_min(0)).sum(0)

    def result(self) -> torch.Tensor:
        if not self._built:
            return torch.zeros((), dtype=self._dtype)
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        if self.curve == "PR" and self.summation_method == "interpolation":
            by_label = self._interpolated_pr(tp, fp, fn)
        else:
            recall = divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2
            elif self.summation_method == "minoring":
                heights = torch.minimum(y[:-1], y[1:])
            else:
                heights = torch.maximum(y[:-1], y[1:])
            by_label = ((x[:-1] - x[1:]) * heights).sum(0)
        if self.multi_label:
            if self.label_weights is None:
                return by_label.mean().to(self._dtype)
            weights = self.label_weights.to(by_label.device)
            return divide_no_nan((by_label * weights).sum(), weights.sum()).to(self._dtype)
        return by_label.to(self._dtype)

    def get_config(self) -> dict:
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "from_logits": self.from_logits,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            **super().get_config(),
        }
        if self._explicit_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
