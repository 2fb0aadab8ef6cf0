"""Confusion-matrix metrics: thresholded counts (TruePositives ... FalseNegatives), Precision,
Recall, AUC (ROC and PR) and F1Score/FBetaScore.

Counts are taken on the device for every threshold at once: each prediction is placed among the
sorted thresholds with ``searchsorted`` and the weighted label counts are summed per slot, so a
batch costs O(N log T) and no host sync. A prediction counts as positive at threshold ``t``
when ``y_pred > t`` (Keras's rule); a label is positive when it is non-zero.

Example:
    >>> import torch
    >>> p = Precision()
    >>> float(p(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 1.0, 0.0, 0.0])))
    0.5
"""

from __future__ import annotations

import torch

from easynn._validation import one_of, positive_int
from easynn.metrics._utils import as_float_list, divide_no_nan, pair
from easynn.metrics.base import Metric, _weights_like

__all__ = [
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
    "FBetaScore", "F1Score",
]

_EPSILON = 1e-7
_NEG_INF = -1e10


def _check_thresholds(thresholds: list[float]) -> list[float]:
    for t in thresholds:
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: thresholds={thresholds}")
    return thresholds


def _filter_top_k(y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """Keep each row's ``k`` largest scores; the others become -1e10 (never above a threshold)."""
    k = min(k, y_pred.shape[-1])
    # A stable sort keeps the lowest indices among ties, as Keras's top_k does.
    top = torch.sort(y_pred, dim=-1, descending=True, stable=True).indices[..., :k]
    keep = torch.zeros_like(y_pred, dtype=torch.bool).scatter_(-1, top, True)
    return torch.where(keep, y_pred, torch.full_like(y_pred, _NEG_INF))


def confusion_counts(y_true, y_pred, thresholds: torch.Tensor, sample_weight=None, multi_label: bool = False,
                     label_weights: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Weighted ``tp, fp, tn, fn`` at each of the sorted ``thresholds``.

    Returns tensors of shape ``(T,)`` (all entries pooled) or ``(T, labels)`` with
    ``multi_label`` (the last axis of ``y_pred`` holds the labels).
    """
    y_true, y_pred = pair(y_true, y_pred)
    if y_true.dim() == y_pred.dim() - 1:
        y_true = y_true.unsqueeze(-1)
    elif y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    y_pred = y_pred.to(thresholds.dtype)
    positive = (y_true != 0).expand_as(y_pred).to(torch.float64)
    weight = torch.ones_like(positive) if sample_weight is None else _weights_like(positive, sample_weight).to(torch.float64)
    if label_weights is not None and not multi_label:
        weight = weight * label_weights.to(weight.device, torch.float64)
    num_t = thresholds.shape[0]
    labels = y_pred.shape[-1] if multi_label else 1
    y_pred, positive, weight = (t.reshape(-1, labels) for t in (y_pred, positive, weight))
    slot = torch.searchsorted(thresholds, y_pred.contiguous(), right=False)  # count of thresholds < y_pred
    flat = (slot * labels + torch.arange(labels, device=slot.device)).reshape(-1)
    hist_pos = torch.zeros((num_t + 1) * labels, dtype=torch.float64, device=y_pred.device)
    hist_neg = torch.zeros_like(hist_pos)
    hist_pos.index_add_(0, flat, (weight * positive).reshape(-1))
    hist_neg.index_add_(0, flat, (weight * (1 - positive)).reshape(-1))
    below_pos = hist_pos.reshape(num_t + 1, labels).cumsum(0)[:num_t]  # predictions <= threshold i
    below_neg = hist_neg.reshape(num_t + 1, labels).cumsum(0)[:num_t]
    total_pos = hist_pos.reshape(num_t + 1, labels).sum(0)
    total_neg = hist_neg.reshape(num_t + 1, labels).sum(0)
    counts = {"tp": total_pos - below_pos, "fn": below_pos, "fp": total_neg - below_neg, "tn": below_neg}
    return counts if multi_label else {k: v.squeeze(-1) for k, v in counts.items()}


class _Thresholded(Metric):
    """Shared state of the thresholded metrics: counts per threshold, updated on the device."""

    _kinds: tuple[str, ...] = ()

    def __init__(self, thresholds=None, default_threshold: float = 0.5, name=None, dtype=None,
                 top_k: int | None = None, class_id: int | None = None):
        super().__init__(dtype=dtype, name=name)
        self.init_thresholds = thresholds
        values = [default_threshold] if thresholds is None else as_float_list("thresholds", thresholds)
        if thresholds is not None:
            _check_thresholds(values)
        self._single = thresholds is None or isinstance(thresholds, (int, float))
        self.top_k = None if top_k is None else positive_int("top_k", top_k)
        self.class_id = None if class_id is None else int(class_id)
        order = sorted(range(len(values)), key=values.__getitem__)
        self.thresholds = values
        self._sorted = torch.tensor([values[i] for i in order], dtype=torch.float32)
        self._unsort = torch.tensor(sorted(range(len(values)), key=order.__getitem__))
        for kind in self._kinds:
            setattr(self, _VARIABLE_NAMES[kind], self.add_variable((len(values),), "zeros", dtype=torch.float64,
                                                                   name=_VARIABLE_NAMES[kind]))

    def to(self, device) -> "Metric":
        super().to(device)
        self._sorted, self._unsort = self._sorted.to(device), self._unsort.to(device)
        return self

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred)
        self._ensure_device(y_pred)
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            if sample_weight is not None:
                sample_weight = _weights_like(y_pred.float(), sample_weight)[..., self.class_id]
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        counts = confusion_counts(y_true, y_pred, self._sorted, sample_weight)
        for kind in self._kinds:
            getattr(self, _VARIABLE_NAMES[kind]).value.add_(counts[kind][self._unsort])

    def _maybe_scalar(self, value: torch.Tensor) -> torch.Tensor:
        return (value[0] if self._single else value).to(self._dtype)

    def get_config(self) -> dict:
        return {"thresholds": self.init_thresholds, **super().get_config()}


_VARIABLE_NAMES = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives", "fn": "false_negatives"}


def _count_class(kind: str, direction: str, doc: str):
    class Count(_Thresholded):
        _kinds = (kind,)

        def __init__(self, thresholds=None, name: str | None = None, dtype=None):
            super().__init__(thresholds, 0.5, name or _VARIABLE_NAMES[kind], dtype)

        def result(self) -> torch.Tensor:
            return self._maybe_scalar(getattr(self, _VARIABLE_NAMES[kind]).value)

    Count.direction = direction
    Count.__doc__ = doc
    return Count


_COUNT_DOC = """The weighted number of {what} (``y_pred > threshold``, ``threshold=0.5``).

    Args:
        thresholds: a float or a list of floats in [0, 1]; with a list, ``result()`` has one
            count per threshold.
        name: ``"{name}"``. dtype: the result's dtype.

    Example:
        >>> import torch
        >>> m = {cls}()
        >>> float(m(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0.0, 1.0, 1.0])))
        {value}
    """


class TruePositives(_count_class("tp", "up", "")):
    __doc__ = _COUNT_DOC.format(what="true positives", name="true_positives", cls="TruePositives", value="2.0")


class FalsePositives(_count_class("fp", "down", "")):
    __doc__ = _COUNT_DOC.format(what="false positives", name="false_positives", cls="FalsePositives", value="1.0")


class TrueNegatives(_count_class("tn", "up", "")):
    __doc__ = _COUNT_DOC.format(what="true negatives", name="true_negatives", cls="TrueNegatives", value="0.0")


class FalseNegatives(_count_class("fn", "down", "")):
    __doc__ = _COUNT_DOC.format(what="false negatives", name="false_negatives", cls="FalseNegatives", value="1.0")


class Precision(_Thresholded):
    """``tp / (tp + fp)``: the fraction of predicted positives that are positive (0 when none).

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5; with ``top_k``, every
            kept score counts).
        top_k: count only each row's ``k`` highest scores as predictions.
        class_id: the class (last-axis index) to compute it for.
        name: ``"precision"``. dtype: the result's dtype.

    Example:
        >>> import torch
        >>> float(Precision(top_k=1)(torch.tensor([[0, 0, 1], [0, 1, 0]]), torch.tensor([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])))
        0.5
    """

    direction = "up"
    _kinds = ("tp", "fp")

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str = "precision", dtype=None):
        super().__init__(thresholds, 0.5 if top_k is None else _NEG_INF, name, dtype, top_k, class_id)

    def result(self) -> torch.Tensor:
        tp = self.true_positives.value
        return self._maybe_scalar(divide_no_nan(tp, tp + self.false_positives.value))

    def get_config(self) -> dict:
        return {"top_k": self.top_k, "class_id": self.class_id, **super().get_config()}


class Recall(Precision):
    """``tp / (tp + fn)``: the fraction of positives that are predicted positive (0 when none).

    Arguments as ``Precision``; the name defaults to ``"recall"``.

    Example:
        >>> import torch
        >>> float(Recall()(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0.0, 1.0, 1.0])))
        0.6666666865348816
    """

    _kinds = ("tp", "fn")

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str = "recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        tp = self.true_positives.value
        return self._maybe_scalar(divide_no_nan(tp, tp + self.false_negatives.value))


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

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype=None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None, from_logits: bool = False):
        super().__init__(dtype=dtype, name=name or "auc")
        self.curve = one_of("curve", str(curve).upper(), ("ROC", "PR"))
        self.summation_method = one_of("summation_method", str(summation_method).lower(),
                                       ("interpolation", "minoring", "majoring"))
        if thresholds is not None:
            inner = sorted(_check_thresholds(as_float_list("thresholds", thresholds)))
            num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"`num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds!r}")
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
            setattr(self, _VARIABLE_NAMES[kind], self.add_variable(shape, "zeros", dtype=torch.float64,
                                                                   name=_VARIABLE_NAMES[kind]))
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
        counts = confusion_counts(y_true, y_pred, self._threshold_tensor, sample_weight, self.multi_label,
                                  self.label_weights)
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
        config = {"num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "from_logits": self.from_logits,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  **super().get_config()}
        if self._explicit_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


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

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype=None):
        super().__init__(dtype=dtype, name=name)
        if average is not None:
            one_of("average", average, ("micro", "macro", "weighted"))
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"`beta` must be a float greater than 0. Received: beta={beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 < threshold <= 1):
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
            raise ValueError(f"{type(self).__name__} expects 2-D y_true and y_pred (batch, classes). Received: "
                             f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")
        self._ensure_device(y_pred)
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            top = y_pred.max(dim=-1, keepdim=True).values
            predicted = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted, y_true = predicted.to(torch.float64), y_true.to(torch.float64)
        w = None if sample_weight is None else _weights_like(y_true, sample_weight)
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
        b2 = self.beta ** 2
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
