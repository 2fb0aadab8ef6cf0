"""``MonitorCallback``: the one rule that decides whether a logged quantity should go down or up.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share it, as in Keras 3. With
``mode="auto"`` the direction of ``monitor`` (a ``val_`` prefix is ignored) is:

1. ``"min"`` for a name ending in ``loss``;
2. the metric's own ``direction`` when a metric the model was compiled with (or holds) is
   logged under that name — so a custom metric can set ``direction = "up"``;
3. the ``direction`` of a known easynn metric name (``easynn.metrics.direction``), such as
   ``accuracy``, ``auc``, ``precision`` (up) or ``mae``, ``false_positives`` (down);
4. otherwise a ``ValueError`` asking for ``mode="min"`` or ``mode="max"``.

Example:
    >>> resolve_mode("EarlyStopping", "val_precision", "auto")
    'max'
    >>> resolve_mode("EarlyStopping", "val_my_loss", "auto")
    'min'
"""

from __future__ import annotations

import operator
from typing import Any

from easynn import metrics as metrics_module
from easynn.callbacks.base import Callback

__all__ = ["MonitorCallback", "check_mode", "resolve_mode"]


def check_mode(owner: str, mode: Any) -> str:
    """``mode`` if it is ``"auto"``, ``"min"`` or ``"max"``; a ``ValueError`` naming ``owner`` otherwise."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: `mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    return mode


def _model_metric_directions(model) -> dict[str, str]:
    """``{logged name: direction}`` for the metric objects of a compiled model."""
    found: dict[str, str] = {}
    trainer = getattr(model, "_trainer", None)
    metric_lists = getattr(trainer, "metrics", None) or []
    output_names = list(getattr(trainer, "output_names", None) or [])
    several = len(output_names) > 1
    for out_name, metric_list in zip(output_names, metric_lists):
        for metric in metric_list or []:
            direction = getattr(metric, "direction", None)
            if direction in ("up", "down"):
                found[f"{out_name}_{metric.name}" if several else metric.name] = direction
    try:
        held = list(getattr(model, "metrics", None) or [])  # Keras 3's Model.metrics, where the model has it
    except Exception:  # noqa: BLE001 - a model mid-construction; the compiled metrics above suffice
        held = []
    for metric in held:
        if callable(getattr(metric, "names", None)) and isinstance(getattr(metric, "metrics", None), list):
            pairs = list(zip(metric.names(), metric.metrics))  # a container of the compiled metrics
        else:
            pairs = [(getattr(metric, "name", None), metric)]
        for name, inner in pairs:
            direction = getattr(inner, "direction", None)
            if isinstance(name, str) and direction in ("up", "down"):
                found.setdefault(name, direction)
    return found


def resolve_mode(owner: str, monitor: str, mode: str, model: Any = None) -> str:
    """``"min"`` or ``"max"`` for ``monitor``; ``"auto"`` follows the rule in the module docstring.

    Raises:
        ValueError: when ``mode="auto"`` cannot tell the direction of ``monitor``.
    """
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    if name.endswith("loss"):
        return "min"
    direction = _model_metric_directions(model).get(name) if model is not None else None
    if direction is None:
        direction = metrics_module.direction(name)
    if direction is not None:
        return "max" if direction == "up" else "min"
    raise ValueError(
        f"{owner} callback received monitor={monitor!r}, but easynn cannot tell whether that metric should be "
        "maximized or minimized. Pass mode='max' to track its highest value or mode='min' for its lowest "
        "(or give your Metric class a `direction = \"up\"` / `\"down\"` attribute)."
    )


class MonitorCallback(Callback):
    """Base class of the callbacks that watch ``monitor`` and act when it improves (Keras 3).

    Args:
        monitor: the log key to watch.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see the module docstring for ``"auto"``).
        baseline: a reference value for subclasses (``None``: none).
        min_delta: the least change that counts as an improvement (its sign is ignored).

    Attributes:
        monitor_op: ``operator.lt`` or ``operator.gt``, set on first use by ``_set_monitor_op``.

    Raises:
        ValueError: for an unknown ``mode``; on first use, for a ``mode="auto"`` whose
            direction cannot be told.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = check_mode(type(self).__name__, mode)
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        if resolve_mode(type(self).__name__, self.monitor, self.mode, self.model) == "min":
            self.monitor_op = operator.lt
        else:
            self.monitor_op = operator.gt

    def _is_improvement(self, value, reference) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta`` (always, without a reference)."""
        if self.monitor_op is None:
            self._set_monitor_op()
        if reference is None:
            return True
        delta = self.min_delta if self.monitor_op is operator.gt else -self.min_delta
        return bool(self.monitor_op(value - delta, reference))

    def _worst(self) -> float:
        """``inf`` when smaller is better, ``-inf`` when larger is (for messages)."""
        if self.monitor_op is None:
            self._set_monitor_op()
        return float("inf") if self.monitor_op is operator.lt else float("-inf")
