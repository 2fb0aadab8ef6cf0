"""Confusion-matrix metrics at thresholds: the counts (TruePositives ... FalseNegatives),
Precision and Recall. ``AUC`` (``easynn.metrics.auc``) and ``FBetaScore``/``F1Score``
(``easynn.metrics.f_score``) are importable from here too.

Counts are taken on the device for every threshold at once (``easynn.metrics._counts``): a
prediction counts as positive at threshold ``t`` when ``y_pred > t`` (Keras's rule); a label is
positive when it is non-zero.

Example:
    >>> import torch
    >>> p = Precision()
    >>> float(p(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 1.0, 0.0, 0.0])))
    0.5
"""

from __future__ import annotations

import torch

from easynn._validation import positive_int
from easynn.metrics._counts import _NEG_INF, _VARIABLE_NAMES, _check_thresholds, _filter_top_k, confusion_counts
from easynn.metrics._utils import as_float_list, divide_no_nan, pair, weights_like
from easynn.metrics.auc import AUC
from easynn.metrics.base import Metric
from easynn.metrics.f_score import F1Score, FBetaScore

__all__ = [
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "FBetaScore",
    "F1Score",
    "confusion_counts",
]


class _Thresholded(Metric):
    """Shared state of the thresholded metrics: counts per threshold, updated on the device."""

    _kinds: tuple[str, ...] = ()

    def __init__(
        self,
        thresholds=None,
        default_threshold: float = 0.5,
        name=None,
        dtype=None,
        top_k: int | None = None,
        class_id: int | None = None,
    ):
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
            setattr(
                self,
                _VARIABLE_NAMES[kind],
                self.add_variable((len(values),), "zeros", dtype=torch.float64, name=_VARIABLE_NAMES[kind]),
            )

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
                sample_weight = weights_like(y_pred.float(), sample_weight)[..., self.class_id]
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        counts = confusion_counts(y_true, y_pred, self._sorted, sample_weight)
        for kind in self._kinds:
            getattr(self, _VARIABLE_NAMES[kind]).value.add_(counts[kind][self._unsort])

    def _maybe_scalar(self, value: torch.Tensor) -> torch.Tensor:
        return (value[0] if self._single else value).to(self._dtype)

    def get_config(self) -> dict:
        return {"thresholds": self.init_thresholds, **super().get_config()}


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

    def __init__(
        self,
        thresholds=None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str = "precision",
        dtype=None,
    ):
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

    def __init__(
        self, thresholds=None, top_k: int | None = None, class_id: int | None = None, name: str = "recall", dtype=None
    ):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        tp = self.true_positives.value
        return self._maybe_scalar(divide_no_nan(tp, tp + self.false_negatives.value))
