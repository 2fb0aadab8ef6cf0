"""Best value of one rate subject to a floor on another, over ``num_thresholds`` thresholds:
``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``, ``PrecisionAtRecall`` and
``RecallAtPrecision`` (Keras's names, thresholds and rule).

The thresholds are ``0, 1/(T-1), ..., (T-2)/(T-1), 1``; the counts are accumulated on the
device for all of them at once (see ``confusion.confusion_counts``). The result is the largest
value of the first rate among the thresholds where the second rate reaches its target (0 when
none does). ``direction = "up"``.

Example:
    >>> import torch
    >>> m = PrecisionAtRecall(recall=0.5, num_thresholds=3)
    >>> float(m(torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 0.3, 0.8, 0.9])))
    1.0
"""

from __future__ import annotations

import torch

from easynn._validation import probability
from easynn.metrics._counts import confusion_counts
from easynn.metrics._utils import divide_no_nan, pair, weights_like
from easynn.metrics.base import Metric

__all__ = ["SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision"]


class _Constrained(Metric):
    """Counts at ``num_thresholds`` thresholds; subclasses pick (value, constraint) rates."""

    direction = "up"
    _target_name = ""

    def __init__(self, target: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.target = probability(self._target_name, target, inclusive_high=True)
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
            raise ValueError(f"`num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds!r}")
        self.num_thresholds = num_thresholds
        self.class_id = None if class_id is None else int(class_id)
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [0.0] + inner + [1.0]
        self._threshold_tensor = torch.tensor(self.thresholds, dtype=torch.float32)
        for key in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, key, self.add_variable((num_thresholds,), "zeros", dtype=torch.float64, name=key))

    def to(self, device) -> "Metric":
        super().to(device)
        self._threshold_tensor = self._threshold_tensor.to(device)
        return self

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred)
        self._ensure_device(y_pred)
        if self.class_id is not None:
            if sample_weight is not None:
                sample_weight = weights_like(y_pred.float(), sample_weight)[..., self.class_id]
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        counts = confusion_counts(y_true, y_pred, self._threshold_tensor, sample_weight)
        for key, kind in (
            ("true_positives", "tp"),
            ("false_positives", "fp"),
            ("true_negatives", "tn"),
            ("false_negatives", "fn"),
        ):
            getattr(self, key).value.add_(counts[kind])

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def result(self) -> torch.Tensor:
        value, constraint = self._rates()
        feasible = constraint >= self.target
        best = torch.where(feasible, value, torch.zeros_like(value)).max()
        return best.to(self._dtype)

    def _counts(self):
        return (
            self.true_positives.value,
            self.false_positives.value,
            self.true_negatives.value,
            self.false_negatives.value,
        )

    def get_config(self) -> dict:
        return {
            self._target_name: self.target,
            "num_thresholds": self.num_thresholds,
            "class_id": self.class_id,
            **super().get_config(),
        }


class SensitivityAtSpecificity(_Constrained):
    """The best sensitivity (recall, ``tp / (tp + fn)``) where specificity
    (``tn / (tn + fp)``) >= ``specificity``.

    Args:
        specificity: the floor, in [0, 1]. num_thresholds: 200. class_id: the class to use.
        name, dtype: as ``Metric``.
    """

    _target_name = "specificity"

    def __init__(
        self, specificity: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None
    ):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def _rates(self):
        tp, fp, tn, fn = self._counts()
        return divide_no_nan(tp, tp + fn), divide_no_nan(tn, tn + fp)


class SpecificityAtSensitivity(_Constrained):
    """The best specificity where sensitivity >= ``sensitivity`` (arguments as
    ``SensitivityAtSpecificity``)."""

    _target_name = "sensitivity"

    def __init__(
        self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None
    ):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def _rates(self):
        tp, fp, tn, fn = self._counts()
        return divide_no_nan(tn, tn + fp), divide_no_nan(tp, tp + fn)


class PrecisionAtRecall(_Constrained):
    """The best precision where recall >= ``recall`` (arguments as ``SensitivityAtSpecificity``)."""

    _target_name = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def _rates(self):
        tp, fp, _, fn = self._counts()
        return divide_no_nan(tp, tp + fp), divide_no_nan(tp, tp + fn)


class RecallAtPrecision(_Constrained):
    """The best recall where precision >= ``precision`` (arguments as ``SensitivityAtSpecificity``).

    Example:
        >>> import torch
        >>> m = RecallAtPrecision(precision=0.8, num_thresholds=3)
        >>> float(m(torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 0.3, 0.8, 0.9])))
        1.0
    """

    _target_name = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def _rates(self):
        tp, fp, _, fn = self._counts()
        return divide_no_nan(tp, tp + fn), divide_no_nan(tp, tp + fp)
