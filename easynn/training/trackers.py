"""What ``model.metrics`` holds for a compiled model: a loss tracker and the compiled metrics.

As in Keras 3, ``model.metrics`` starts with ``Mean(name="loss")`` (here ``LossTracker``: the mean
of the batch losses weighted by batch size) followed by one ``CompileMetrics`` container for the
metrics given to ``compile``. Both keep their state as device tensors (no host sync per update);
``result()`` returns tensors, and the loop turns them into floats only for logs.
"""

from __future__ import annotations

import torch

__all__ = ["LossTracker", "CompileMetrics"]


def _per_output(value, names: list[str]) -> list:
    if isinstance(value, dict):
        return [value.get(name) for name in names]
    return list(value) if isinstance(value, (list, tuple)) else [value]


class LossTracker:
    """The running mean of the loss, weighted by the number of samples of each batch.

    Formula: ``Σ_b n_b · loss_b / Σ_b n_b`` — a per-sample mean, never a mean of batch means.

    Example:
        >>> import torch
        >>> tracker = LossTracker()
        >>> tracker.update_state(torch.tensor(1.0), sample_weight=3)
        >>> tracker.update_state(torch.tensor(3.0), sample_weight=1)
        >>> float(tracker.result())
        1.5
    """

    def __init__(self, name: str = "loss", device=None) -> None:
        self.name = name
        self.total = torch.zeros((), device=device)
        self.count = torch.zeros((), device=device)

    @property
    def variables(self) -> list[torch.Tensor]:
        return [self.total, self.count]

    def update_state(self, values, sample_weight=None) -> None:
        values = values.detach().float() if isinstance(values, torch.Tensor) else torch.tensor(float(values))
        if values.device != self.total.device:
            self.total, self.count = self.total.to(values.device), self.count.to(values.device)
        weight = 1 if sample_weight is None else sample_weight
        if values.dim():
            values = values.mean()
        if isinstance(weight, (int, float)):  # the hot path: one fused multiply-add, no temporary
            self.total.add_(values, alpha=weight)
        else:
            self.total.add_(values * weight)
        self.count.add_(weight)

    def result(self) -> torch.Tensor:
        return self.total / self.count.clamp_min(1)

    def reset_state(self) -> None:
        self.total.zero_()
        self.count.zero_()

    def to(self, device) -> "LossTracker":
        self.total, self.count = self.total.to(device), self.count.to(device)
        return self


class CompileMetrics:
    """The metrics given to ``compile``, one list per output, as one metric-like object.

    ``result()`` is a dict ``{log name: value}``; names get the output's name as a prefix when
    the model has several outputs (``"output_1_accuracy"``), as in Keras.

    Args:
        metric_lists: one list of metric objects per output.
        output_names: the outputs' names.
    """

    name = "compile_metrics"

    def __init__(self, metric_lists: list[list], output_names: list[str]) -> None:
        self.metric_lists = metric_lists
        self.output_names = output_names

    @property
    def metrics(self) -> list:
        return [metric for metric_list in self.metric_lists for metric in metric_list]

    @property
    def variables(self) -> list[torch.Tensor]:
        return [v for metric in self.metrics for v in getattr(metric, "variables", [])]

    def names(self) -> list[str]:
        several = len(self.output_names) > 1
        return [f"{out}_{metric.name}" if several else metric.name
                for out, metric_list in zip(self.output_names, self.metric_lists) for metric in metric_list]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        targets, outputs = _per_output(y_true, self.output_names), _per_output(y_pred, self.output_names)
        for metric_list, target, output in zip(self.metric_lists, targets, outputs):
            if target is None:
                continue
            mask = getattr(output, "_keras_mask", None)
            output = output.detach()
            if mask is not None:  # masked timesteps leave the metrics (Keras)
                output._keras_mask = mask
            for metric in metric_list:
                # `metrics` ignore sample weights, `weighted_metrics` use them (Keras).
                weight = sample_weight if getattr(metric, "_weighted", True) else None
                metric.update_state(target, output, weight)

    def result(self) -> dict:
        return {name: metric.result() for name, metric in zip(self.names(), self.metrics)}

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def __bool__(self) -> bool:
        return bool(self.metrics)
