"""Small tensor helpers shared by the metric modules (inputs to tensors, rank matching, sample
weights broadcast to values)."""

from __future__ import annotations

from typing import Any

import torch

from easynn.metrics.variable import _tensor, _unwrap


def pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """``(y_true, y_pred)`` as tensors on ``y_pred``'s device, detached; half floats to float32."""
    y_pred = _tensor(_unwrap(y_pred)).detach()
    if y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    return _tensor(_unwrap(y_true), y_pred.device).detach(), y_pred


def match_rank(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """``y_true`` in ``y_pred``'s dtype and rank (a trailing axis of size 1 added or dropped)."""
    if y_true.dim() == y_pred.dim() - 1:
        y_true = y_true.unsqueeze(-1)
    elif y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true.to(y_pred.dtype if y_pred.is_floating_point() else torch.get_default_dtype())


def float_pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """Float ``(y_true, y_pred)`` of the same rank."""
    y_true, y_pred = pair(y_true, y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    return match_rank(y_true, y_pred), y_pred


def last_axis_mean(values: torch.Tensor) -> torch.Tensor:
    """One value per sample: the mean over the last axis (a 1-D input is already per sample)."""
    return values.mean(dim=-1) if values.dim() >= 2 else values


def weights_like(values: torch.Tensor, sample_weight) -> torch.Tensor | None:
    """``sample_weight`` broadcast to ``values`` (a trailing axis of 1 squeezed, axes added)."""
    if sample_weight is None:
        return None
    w = _tensor(sample_weight, values.device).to(values.dtype)
    if w.dim() > values.dim() and w.shape[-1] == 1:
        w = w.squeeze(-1)
    while w.dim() < values.dim():
        w = w.unsqueeze(-1)
    return w.expand_as(values)


def divide_no_nan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a / b`` with 0 where ``b == 0`` (Keras's ``divide_no_nan``)."""
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return torch.where(b == 0, torch.zeros_like(a * b), a / safe)


def as_float_list(name: str, value: Any) -> list[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    try:
        values = [float(v) for v in value]
    except TypeError:
        raise ValueError(f"`{name}` must be a float or a list of floats. Received: {name}={value!r}") from None
    return values
