"""The loss functions: per-sample values with Keras's formulas and numerics."""

from __future__ import annotations

from contextlib import nullcontext as _nullcontext
from typing import Callable

import torch
import torch.nn.functional as F

from easynn.losses._checks import (
    EPSILON,
    _as_tensor,
    _check_categorical,
    _check_same,
    _check_sparse,
    _last_axis_mean,
    _match_rank,
)
from easynn.losses._logits import straight_through, tagged_logits

# --------------------------------------------------------------------------- functions

def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> torch.Tensor:
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities.

    Formula: ``-Σ_c y_c · log(clip(p_c / Σ_k p_k, 1e-7, 1 - 1e-7))``; with ``from_logits=True``,
    ``-Σ_c y_c · log_softmax(z)_c`` whose gradient per sample is ``softmax(z) - y``.

    Args:
        y_true: one-hot labels, same shape as ``y_pred``.
        y_pred: probabilities (or logits when ``from_logits=True``).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``; labels become ``y (1 - s) + s / C``.
        axis: the class axis.

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.

    Raises:
        ValueError: for integer labels (use ``sparse_categorical_crossentropy``) or mismatched shapes.

    Example:
        >>> import torch
        >>> float(categorical_crossentropy(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))[0])
        16.11809539794922
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_categorical("categorical_crossentropy", tuple(y_true.shape), tuple(y_pred.shape))
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        return -(y_true * torch.log_softmax(y_pred, dim=axis)).sum(dim=axis)
    logits = tagged_logits(y_pred, "softmax") if axis in (-1, y_pred.dim() - 1) else None
    with torch.no_grad() if logits is not None else _nullcontext():
        probs = y_pred / y_pred.sum(dim=axis, keepdim=True)
        clipped = -(y_true * probs.clamp(EPSILON, 1.0 - EPSILON).log()).sum(dim=axis)
    if logits is None:
        return clipped
    fused = -(y_true * torch.log_softmax(_as_tensor(logits), dim=axis)).sum(dim=axis)
    return straight_through(fused, clipped)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1) -> torch.Tensor:
    """Crossentropy between integer class labels and predicted class probabilities.

    Formula: ``-log(clip(p_y / Σ_k p_k, 1e-7, 1 - 1e-7))``; with ``from_logits=True``,
    ``-log_softmax(z)_y`` (``F.cross_entropy``).

    Args:
        y_true: integer labels (int or float dtype) of shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: probabilities (or logits) of shape ``(batch, C)``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose samples get loss 0 (and are left out of the mean by
            ``SparseCategoricalCrossentropy``).
        axis: the class axis.

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for one-hot labels (use ``categorical_crossentropy``) or mismatched shapes.

    Example:
        >>> import torch
        >>> round(float(sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.05, 0.95, 0.0]]))[0]), 4)
        0.0513
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    if axis != -1 and axis != y_pred.dim() - 1:
        y_pred = y_pred.movedim(axis, -1)
    _check_sparse("sparse_categorical_crossentropy", tuple(y_true.shape), tuple(y_pred.shape))
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
    target = y_true.long()
    ignore = -100 if ignore_class is None else int(ignore_class)
    if not from_logits:
        logits = tagged_logits(y_pred, "softmax")
        with torch.no_grad() if logits is not None else _nullcontext():
            probs = y_pred / y_pred.sum(dim=-1, keepdim=True)
            clipped = _nll(probs.clamp(EPSILON, 1.0 - EPSILON).log(), target, ignore)
        if logits is None:
            return clipped
        return straight_through(_nll(torch.log_softmax(_as_tensor(logits), dim=-1), target, ignore), clipped)
    return _nll(torch.log_softmax(y_pred, dim=-1), target, ignore)


def _nll(log_prob: torch.Tensor, target: torch.Tensor, ignore: int) -> torch.Tensor:
    """``-log_prob[..., target]`` per sample, 0 where ``target == ignore``."""
    if log_prob.dim() > 2:
        log_prob = log_prob.movedim(-1, 1)
    elif log_prob.dim() == 1:  # a single unbatched sample
        return F.nll_loss(log_prob.unsqueeze(0), target.reshape(1), ignore_index=ignore, reduction="none")[0]
    return F.nll_loss(log_prob, target, ignore_index=ignore, reduction="none")


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> torch.Tensor:
    """Binary crossentropy, averaged over the last axis.

    Formula: ``-(y log(p) + (1 - y) log(1 - p))`` with ``p = clip(y_pred, 1e-7, 1 - 1e-7)``; with
    ``from_logits=True`` it is ``F.binary_cross_entropy_with_logits`` (gradient ``sigmoid(z) - y``).

    Args:
        y_true: 0/1 (or soft) labels, shape ``(batch, d)`` or ``(batch,)``.
        y_pred: probabilities (or logits), the same shape (a trailing axis of 1 may differ).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: labels become ``y (1 - s) + s / 2``.
        axis: the axis averaged over.

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> round(float(binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.8]]))[0]), 4)
        0.2231
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("binary_crossentropy", tuple(y_true.shape), tuple(y_pred.shape))
    y_true = _match_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        return values.mean(dim=axis) if values.dim() >= 2 else values
    logits = tagged_logits(y_pred, "sigmoid")
    with torch.no_grad() if logits is not None else _nullcontext():
        # Keras's clipped formula, written out (autocast-safe, unlike F.binary_cross_entropy).
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
        clipped = values.mean(dim=axis) if values.dim() >= 2 else values
    if logits is None:
        return clipped
    fused = F.binary_cross_entropy_with_logits(_as_tensor(logits), y_true, reduction="none")
    return straight_through(fused.mean(dim=axis) if fused.dim() >= 2 else fused, clipped)


def mean_squared_error(y_true, y_pred) -> torch.Tensor:
    """Mean of ``(y_true - y_pred)²`` over the last axis.

    Args:
        y_true: targets; y_pred: predictions of the same shape (a trailing axis of 1 may differ).

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for mismatched shapes (which torch would silently broadcast).

    Example:
        >>> import torch
        >>> mean_squared_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([0.5000])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("mean_squared_error", tuple(y_true.shape), tuple(y_pred.shape))
    return _last_axis_mean((y_pred - _match_rank(y_true, y_pred)).square())


def mean_absolute_error(y_true, y_pred) -> torch.Tensor:
    """Mean of ``|y_true - y_pred|`` over the last axis (see ``mean_squared_error``).

    Example:
        >>> import torch
        >>> mean_absolute_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[2.0, 1.0]]))
        tensor([1.])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("mean_absolute_error", tuple(y_true.shape), tuple(y_pred.shape))
    return _last_axis_mean((y_pred - _match_rank(y_true, y_pred)).abs())


def huber(y_true, y_pred, delta: float = 1.0) -> torch.Tensor:
    """Huber loss, averaged over the last axis.

    Formula: with ``e = y_pred - y_true``: ``½ e²`` if ``|e| <= delta`` else
    ``delta (|e| - ½ delta)``.

    Example:
        >>> import torch
        >>> huber(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 3.0]]))
        tensor([1.3125])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("huber", tuple(y_true.shape), tuple(y_pred.shape))
    return _last_axis_mean(F.huber_loss(y_pred, _match_rank(y_true, y_pred), reduction="none", delta=float(delta)))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_CHECKS: dict[Callable, Callable] = {
    categorical_crossentropy: _check_categorical,
    sparse_categorical_crossentropy: _check_sparse,
    binary_crossentropy: _check_same,
    mean_squared_error: _check_same,
    mean_absolute_error: _check_same,
    huber: _check_same,
}
_FUSED_KINDS = {
    categorical_crossentropy: "categorical",
    sparse_categorical_crossentropy: "sparse_categorical",
    binary_crossentropy: "binary",
}
