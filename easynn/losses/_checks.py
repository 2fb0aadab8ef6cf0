"""Shape checks and tensor helpers shared by the loss functions (no host sync: shapes only)."""

from __future__ import annotations

import warnings
from typing import Any

import torch

EPSILON = 1e-7  # Keras's backend.epsilon(): the clipping bound of probability crossentropies
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --------------------------------------------------------------------------- shape checks
# Shape comparisons only (no host sync): cheap enough to run on every call.

def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(x)


def _check_categorical(name: str, yt: tuple, yp: tuple) -> None:
    if len(yp) >= 1 and yp[-1] > 1 and (len(yt) == len(yp) - 1 or (len(yt) == len(yp) and yt[-1] == 1)):
        raise ValueError(
            f"`{name}` expects one-hot labels with the same shape as the predictions, but received "
            f"y_true.shape={yt} (integer class labels) and y_pred.shape={yp}. Use "
            "loss='sparse_categorical_crossentropy' for integer labels, or one-hot encode them "
            "with easynn.utils.to_categorical(y, num_classes)."
        )
    if yt != yp:
        raise ValueError(
            f"`{name}` expects y_true and y_pred of the same shape. Received: "
            f"y_true.shape={yt}, y_pred.shape={yp}."
        )


def _check_sparse(name: str, yt: tuple, yp: tuple) -> None:
    if len(yt) == len(yp) and len(yp) >= 1 and yt[-1] == yp[-1] and yp[-1] > 1:
        raise ValueError(
            f"`{name}` expects integer class labels of shape {yp[:-1]} (or {yp[:-1] + (1,)}), but "
            f"received y_true.shape={yt} which looks one-hot encoded (y_pred.shape={yp}). Use "
            "loss='categorical_crossentropy' for one-hot labels."
        )
    labels = yt[:-1] if len(yt) == len(yp) and len(yt) >= 1 and yt[-1] == 1 else yt
    if labels != yp[:-1]:
        raise ValueError(
            f"`{name}` expects y_true of shape {yp[:-1]} (one integer label per sample) for "
            f"y_pred of shape {yp}. Received: y_true.shape={yt}, y_pred.shape={yp}."
        )


_BROADCAST_WARNED: set = set()


def _broadcastable(yt: tuple, yp: tuple) -> bool:
    """NumPy broadcasting, right-aligned, with ``None`` (an unknown batch size) matching anything."""
    for a, b in zip(reversed(yt), reversed(yp)):
        if a is None or b is None or a == b or a == 1 or b == 1:
            continue
        return False
    return True


def _check_same(name: str, yt: tuple, yp: tuple) -> None:
    """y_true and y_pred must match, up to a trailing axis of size 1 (Keras squeezes/expands it).

    Other shapes that broadcast, e.g. ``(batch, 10)`` targets against ``(batch, 1)`` outputs,
    are computed as Keras computes them (broadcast, then averaged), with a warning once per
    shape pair: it is usually a mistake in the targets. Shapes that do not broadcast raise.
    """
    if yt == yp or yt + (1,) == yp or yt == yp + (1,):
        return
    if len(yt) == len(yp) and _broadcastable(yt, yp):
        key = (name, yt, yp)
        if key not in _BROADCAST_WARNED:
            _BROADCAST_WARNED.add(key)
            warnings.warn(
                f"`{name}` received y_true.shape={yt} and y_pred.shape={yp}: they are broadcast together "
                "and the loss averages over the broadcast shape, as Keras does. If the shapes should "
                "match, fix the targets (or the model's last layer).",
                UserWarning,
                stacklevel=3,
            )
        return
    raise ValueError(
        f"`{name}` expects y_true and y_pred of the same shape. Received: y_true.shape={yt}, "
        f"y_pred.shape={yp}."
    )


def _match_rank(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Cast y_true to y_pred's dtype and give it y_pred's rank (trailing axis of size 1)."""
    if y_true.dim() == y_pred.dim() - 1:
        y_true = y_true.unsqueeze(-1)
    elif y_true.dim() == y_pred.dim() + 1:
        y_true = y_true.squeeze(-1)
    return y_true.to(y_pred.dtype)


def _last_axis_mean(values: torch.Tensor) -> torch.Tensor:
    # A 1-D target is already one value per sample; otherwise average the last axis like Keras.
    return values.mean(dim=-1) if values.dim() >= 2 else values


def _as_tensor(x: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    if like is not None:
        return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, device=like.device)
    if not isinstance(x, torch.Tensor):
        return torch.as_tensor(x, dtype=torch.get_default_dtype())
    # Mixed precision: compute losses in float32 (1e-7 clipping and log are poor in half).
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
