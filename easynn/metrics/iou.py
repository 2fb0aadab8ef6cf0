"""Intersection-over-union metrics from a running confusion matrix: ``IoU`` (chosen classes),
``MeanIoU`` (all classes), ``BinaryIoU`` (thresholded scores), ``OneHotIoU`` and ``OneHotMeanIoU``
(one-hot labels).

For class ``c``: ``IoU_c = tp_c / (tp_c + fp_c + fn_c)``; classes that never occur in labels
or predictions are left out of the mean. ``direction = "up"``.

Example:
    >>> import torch
    >>> m = MeanIoU(num_classes=2)
    >>> float(m(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1])))
    0.3333333432674408
"""

from __future__ import annotations

import math
import numbers

import torch

from easynn._validation import positive_int
from easynn.metrics._utils import divide_no_nan, pair, weights_like
from easynn.metrics.base import Metric

__all__ = ["IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"]


class IoU(Metric):
    """Mean IoU over ``target_class_ids``, from a ``(num_classes, num_classes)`` confusion matrix
    (rows: true class, columns: predicted class).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        name: ``"io_u"`` (Keras's snake_case of the class name). dtype: the result's dtype.
        ignore_class: a label value left out (e.g. a "void" class), or ``None``.
        sparse_y_true, sparse_y_pred: ``False`` for one-hot / score inputs (argmax over ``axis``).
        axis: the class axis for non-sparse inputs.

    Raises:
        ValueError: for a non-positive ``num_classes`` or a target id out of range.
    """

    direction = "up"

    def __init__(
        self,
        num_classes: int,
        target_class_ids,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        super().__init__(dtype=dtype, name=name)
        self.num_classes = positive_int("num_classes", num_classes)
        ids = [int(i) for i in target_class_ids]
        if not ids:
            raise ValueError(f"`target_class_ids` must name at least one class. Received: target_class_ids={ids}")
        if any(not 0 <= i < self.num_classes for i in ids):
            raise ValueError(f"`target_class_ids` must be in [0, {self.num_classes}). Received: target_class_ids={ids}")
        self.target_class_ids = ids
        self.ignore_class = ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = bool(sparse_y_true), bool(sparse_y_pred), int(axis)
        self.total_cm = self.add_variable(
            (self.num_classes, self.num_classes), "zeros", dtype=torch.float64, name="total_confusion_matrix"
        )

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred)
        self._ensure_device(y_pred)
        if not self.sparse_y_true:
            y_true = y_true.argmax(dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(dim=self.axis)
        if y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1:
            y_true = y_true.squeeze(-1)
        elif y_pred.dim() == y_true.dim() + 1 and y_pred.shape[-1] == 1:
            y_pred = y_pred.squeeze(-1)
        weight = None if sample_weight is None else weights_like(y_true.to(torch.float64), sample_weight).reshape(-1)
        y_true, y_pred = y_true.reshape(-1).long(), y_pred.reshape(-1).long()
        if self.ignore_class is not None:
            keep = (y_true != self.ignore_class).to(torch.float64)
            weight = keep if weight is None else weight * keep
            y_true = torch.where(y_true == self.ignore_class, torch.zeros_like(y_true), y_true)
        index = y_true * self.num_classes + y_pred
        # index_add_ into the fixed-size matrix: bincount would read the largest label on the host.
        values = torch.ones_like(index, dtype=torch.float64) if weight is None else weight.double()
        self.total_cm.value.view(-1).index_add_(0, index, values)

    def result(self) -> torch.Tensor:
        cm = self.total_cm.value
        predicted, actual, tp = cm.sum(0), cm.sum(1), cm.diagonal()
        denominator = predicted + actual - tp
        ids = torch.tensor(self.target_class_ids, device=cm.device)
        denominator, tp = denominator[ids], tp[ids]
        valid = (denominator != 0).sum().to(cm.dtype)
        return divide_no_nan(divide_no_nan(tp, denominator).sum(), valid).to(self._dtype)

    def get_config(self) -> dict:
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
            **super().get_config(),
        }


class MeanIoU(IoU):
    """Mean IoU over all ``num_classes`` classes (Keras's ``MeanIoU``); arguments as ``IoU``.

    Example:
        >>> import torch
        >>> m = MeanIoU(num_classes=3, sparse_y_pred=False)
        >>> float(m(torch.tensor([0, 1]), torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])))
        1.0
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        super().__init__(
            num_classes,
            range(positive_int("num_classes", num_classes)),
            name or "mean_io_u",
            dtype,
            ignore_class,
            sparse_y_true,
            sparse_y_pred,
            axis,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("target_class_ids")
        return config


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels and per-class scores (argmax of both)."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ):
        super().__init__(num_classes, name or "one_hot_mean_io_u", dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("sparse_y_true")
        return config


class BinaryIoU(IoU):
    """IoU of class 0 and/or 1 for scores thresholded at ``threshold`` (Keras's ``BinaryIoU``).

    A prediction ``>= threshold`` counts as class 1, below it as class 0; then, as in ``IoU``,
    ``IoU_c = tp_c / (tp_c + fp_c + fn_c)`` is averaged over ``target_class_ids`` (a class absent
    from both labels and predictions is left out of the mean).

    Args:
        target_class_ids: ``(0,)``, ``(1,)`` or ``(0, 1)`` (the default: the mean of both IoUs).
        threshold: the cut between class 0 and class 1. Keras applies it to probabilities or
            logits alike (``threshold=0`` for logits), so any finite number is accepted.
        name: ``"binary_io_u"`` by default. dtype: the result's dtype.

    Raises:
        ValueError: for a target id outside ``{0, 1}`` or a ``threshold`` that is not a finite number.

    Example:
        >>> import torch
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)  # Keras's documented example
        >>> round(float(m(torch.tensor([0, 1, 0, 1]), torch.tensor([0.1, 0.2, 0.4, 0.7]))), 6)
        0.333333
    """

    def __init__(self, target_class_ids=(0, 1), threshold: float = 0.5, name: str | None = None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not math.isfinite(threshold):
            raise ValueError(f"`threshold` must be a finite number. Received: threshold={threshold!r}")
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred)
        super().update_state(y_true, (y_pred >= self.threshold).long(), sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, **Metric.get_config(self)}


class OneHotIoU(IoU):
    """``IoU`` over ``target_class_ids`` for one-hot labels (and, by default, per-class scores):
    both are turned into class ids by an argmax over ``axis`` (Keras's ``OneHotIoU``).

    Args:
        num_classes: the number of classes (the length of the one-hot axis).
        target_class_ids: the classes whose IoU is averaged.
        name: ``"one_hot_io_u"`` by default. dtype: the result's dtype.
        ignore_class: a class id left out, or ``None``.
        sparse_y_pred: ``True`` when predictions are already class ids.
        axis: the class axis.

    Raises:
        ValueError: for a missing or non-positive ``num_classes`` or a target id out of range.

    Example:
        >>> import torch
        >>> y_true = torch.tensor([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
        >>> y_pred = torch.tensor([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])  # Keras's documented example
        >>> round(float(m(y_true, y_pred, sample_weight=torch.tensor([0.1, 0.2, 0.3, 0.4]))), 4)
        0.0714
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ):
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("sparse_y_true")
        return config
