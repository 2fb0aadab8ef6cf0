"""Shared by the callbacks that watch a logged quantity: is larger or smaller better?"""

from __future__ import annotations

__all__ = ["check_mode", "resolve_mode"]

# Metric names whose larger values are better (Keras marks these metrics with direction "up").
_UP = ("acc", "accuracy", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "cosine_similarity",
       "fmeasure", "true_positives", "true_negatives")
# ... and whose smaller values are better.
_DOWN = ("loss", "error", "crossentropy", "mse", "mae", "mape", "msle", "hinge", "kl_divergence",
         "kld", "poisson", "logcosh", "huber", "false_positives", "false_negatives")


def check_mode(owner: str, mode) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: `mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    return mode


def resolve_mode(owner: str, monitor: str, mode: str) -> str:
    """``"min"`` or ``"max"``; ``"auto"`` decides from the monitored name as Keras does.

    Raises:
        ValueError: when ``mode="auto"`` cannot tell the direction of ``monitor``.
    """
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    last = name.split("_")[-1]
    if name in _UP or last in _UP or "accuracy" in name:
        return "max"
    if name in _DOWN or last in _DOWN or any(name.endswith(d) for d in _DOWN):
        return "min"
    raise ValueError(
        f"{owner} received monitor={monitor!r} but cannot tell whether that metric should be maximized "
        "or minimized. Pass mode='max' to track its highest value or mode='min' for its lowest."
    )

