"""Weighted confusion counts at many thresholds at once, shared by the confusion-matrix metrics
(Precision, Recall, the count metrics, AUC and the ``...AtRecall`` family).

Each prediction is placed among the sorted thresholds with ``searchsorted`` and the weighted
label counts are summed per slot, so a batch costs O(N log T) and no host sync. A prediction
counts as positive at threshold ``t`` when ``y_pred > t`` (Keras's rule); a label is positive
when it is non-zero.

Example:
    >>> import torch
    >>> counts = confusion_counts(torch.tensor([0, 1, 1]), torch.tensor([0.7, 0.8, 0.2]), torch.tensor([0.5]))
    >>> {k: v.tolist() for k, v in counts.items()}
    {'tp': [1.0], 'fn': [1.0], 'fp': [1.0], 'tn': [0.0]}
"""

from __future__ import annotations

import torch

from easynn.metrics._utils import pair, weights_like

__all__ = ["confusion_counts"]

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


def confusion_counts(
    y_true,
    y_pred,
    thresholds: torch.Tensor,
    sample_weight=None,
    multi_label: bool = False,
    label_weights: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
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
    weight = (
        torch.ones_like(positive) if sample_weight is None else weights_like(positive, sample_weight).to(torch.float64)
    )
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


_VARIABLE_NAMES = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives", "fn": "false_negatives"}
