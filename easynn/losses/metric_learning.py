"""Metric-learning losses: Circle loss (Sun et al., 2020, https://arxiv.org/abs/2002.10857), as
Keras 3 computes it.

``y_true`` holds integer class labels ``(batch,)``; ``y_pred`` holds L2-normalised embeddings
``(batch, dim)`` (end the model with ``UnitNormalization``). Every pair of embeddings with the same
label is a positive pair, every pair with different labels a negative pair. The loss pulls
positives to a cosine distance below ``margin`` and pushes negatives beyond ``1 - margin``, each
pair weighted by how far it is from its optimum, so the pairs that are most wrong dominate.

Reduction: the function marks the samples whose loss is positive (samples without any positive
or negative pair get 0); with ``"sum_over_batch_size"``/``"mean"`` the class divides by the
number of those samples, not by the batch size, as Keras does (its ``circle`` sets that mask on
its output); ``"sum"`` sums all; ``"mean_with_sample_weight"`` divides by the weights of the
marked samples.

Example:
    >>> import torch
    >>> emb = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6]])
    >>> [round(v, 3) for v in circle(torch.tensor([0, 0, 1]), emb).tolist()]  # the last has no positive pair
    [38.4, 60.928, 0.0]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation
from easynn.losses._checks import _as_tensor
from easynn.losses._function_loss import _flag, _FunctionLoss

__all__ = ["Circle", "circle"]


def _check_circle(name: str, yt: tuple, yp: tuple) -> None:
    """Labels ``(batch,)`` or ``(batch, 1)`` for embeddings ``(batch, dim)`` (shapes only)."""
    labels_ok = len(yt) == 1 or (len(yt) == 2 and yt[-1] == 1)
    if len(yp) != 2 or not labels_ok or (yt[0] is not None and yp[0] is not None and yt[0] != yp[0]):
        raise ValueError(
            f"`{name}` expects integer labels of shape (batch,) and embeddings of shape (batch, dim). "
            f"Received: y_true.shape={yt}, y_pred.shape={yp}."
        )


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


def _labels(labels: Any, like: torch.Tensor) -> torch.Tensor:
    labels = _as_tensor(labels, like)
    if labels.dim() == 2 and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    return labels.to(device=like.device).long()


def _masked_logsumexp(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``log Σ exp(values)`` over the masked entries of each row; ``-inf`` for an empty row.

    Empty rows are computed on zeros and replaced afterwards, so their gradient is 0, not NaN.
    """
    has_any = mask.any(dim=1)
    inputs = torch.where(mask, values, torch.full_like(values, float("-inf")))
    inputs = torch.where(has_any.unsqueeze(1), inputs, torch.zeros_like(values))
    out = torch.logsumexp(inputs, dim=1)
    return torch.where(has_any, out, torch.full_like(out, float("-inf")))


def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal: bool = True,
    gamma: float = 80.0,
    margin: float = 0.4,
) -> torch.Tensor:
    """Circle loss of each sample against the reference embeddings (the batch itself by default).

    Formula: with cosine distances ``d_ij = max(1 - e_i · r_j, 0)``, positives ``P_i`` (same label,
    ``j != i`` when ``remove_diagonal``) and negatives ``N_i`` (other labels),
    ``loss_i = softplus(logsumexp_{j∈P_i}(-γ · relu(m + d_ij) · (m - d_ij))
    + logsumexp_{j∈N_i}(γ · relu(1 + m - d_ij) · (1 - m - d_ij)))``, where an empty set's
    logsumexp is ``-inf`` (so a sample without positives, or without negatives, has loss 0).
    The result carries ``_keras_mask = loss > 0``, which the ``Circle`` class reduces with.

    Args:
        y_true: integer labels, ``(batch,)`` or ``(batch, 1)``.
        y_pred: L2-normalised embeddings, ``(batch, dim)``.
        ref_labels: labels of the reference embeddings (default: ``y_true``).
        ref_embeddings: L2-normalised reference embeddings (default: ``y_pred``).
        remove_diagonal: leave each sample's pair with itself out of its positives.
        gamma: the scale of the similarity scores (Keras's default 80).
        margin: the relaxation margin ``m`` (Keras's default 0.4).

    Returns:
        The per-sample losses, shape ``(batch,)``.

    Raises:
        ValueError: for shapes that are not labels ``(batch,)`` and embeddings ``(batch, dim)``, a
            negative ``gamma``, or a non-boolean ``remove_diagonal``.

    Example:
        >>> import torch
        >>> emb = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> circle(torch.tensor([0, 1]), emb)  # no sample has a positive pair
        tensor([0., 0.])
    """
    gamma = _validation.non_negative_float("gamma", gamma)
    margin = _number("margin", margin)
    remove_diagonal = _flag("remove_diagonal", remove_diagonal)
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    labels = _labels(y_true, y_pred)
    _check_circle("circle", tuple(labels.shape), tuple(y_pred.shape))
    refs = y_pred if ref_embeddings is None else _as_tensor(ref_embeddings, y_pred).to(y_pred.dtype)
    ref = labels if ref_labels is None else _labels(ref_labels, y_pred)
    _check_circle("circle", tuple(ref.shape), tuple(refs.shape))

    distances = (1.0 - y_pred @ refs.T).clamp_min(0.0)
    positive = labels.unsqueeze(1) == ref.unsqueeze(0)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool, device=positive.device)
    # Each pair's weight grows with its distance from the optimum (0 for positives' distance
    # -m, 1 + m for negatives'), clipped at 0; the scores are centred on the decision margins.
    pos_weights = (margin + distances).clamp_min(0.0)
    neg_weights = (1.0 + margin - distances).clamp_min(0.0)
    pos_scores = -gamma * pos_weights * (margin - distances)
    neg_scores = gamma * neg_weights * (1.0 - margin - distances)
    loss = F.softplus(_masked_logsumexp(pos_scores, positive) + _masked_logsumexp(neg_scores, negative))
    loss._keras_mask = loss.detach() > 0
    return loss


class Circle(_FunctionLoss):
    """Class form of ``circle`` (Keras's ``Circle``): the mean over the samples with a positive
    loss (see the module docstring for the reductions).

    Args:
        gamma: the scale of the similarity scores (default 80).
        margin: the relaxation margin (default 0.4).
        remove_diagonal: leave each sample's pair with itself out of its positives (default True).
        reduction: Keras's reduction (``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``).
        name: the loss name (default ``"circle"``).
        dtype: accepted for Keras compatibility; the loss is computed in the embeddings' dtype
            (float32 at least), and ``dtype`` is not part of the config, as in Keras.

    Raises:
        ValueError: for a negative ``gamma``, a non-boolean ``remove_diagonal`` or an unknown
            ``reduction``.

    Example:
        >>> import torch
        >>> emb = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6]])
        >>> round(float(Circle()(torch.tensor([0, 0, 1]), emb)), 3)  # (38.4 + 60.928) / 2: the zero is left out
        49.664
    """

    _fn = staticmethod(circle)
    _check = staticmethod(_check_circle)

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str = "circle",
        dtype=None,
    ):
        super().__init__(
            name,
            reduction,
            gamma=_validation.non_negative_float("gamma", gamma),
            margin=_number("margin", margin),
            remove_diagonal=_flag("remove_diagonal", remove_diagonal),
        )
        self.dtype = dtype


_EXTENDED_CHECKS = {circle: _check_circle}
