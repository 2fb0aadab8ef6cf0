"""Sequence losses: the connectionist temporal classification loss (``ctc``, ``CTC``) for
unsegmented sequence labelling (speech, handwriting), computed by ``F.ctc_loss``.

Keras's conventions: ``y_pred`` holds logits of shape ``(batch, time_steps, num_classes)``,
class 0 is the blank, ``y_true`` holds the integer labels of each sample followed by 0-padding.

Example:
    >>> import torch
    >>> round(float(CTC()(torch.tensor([[1, 2]]), torch.zeros(1, 4, 3))), 4)  # -log(15 / 81)
    1.6864
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from easynn.losses._function_loss import _FunctionLoss

__all__ = ["CTC", "ctc"]


def _check_ctc(name: str, yt: tuple, yp: tuple) -> None:
    if len(yt) != 2:
        raise ValueError(
            f"`{name}` expects targets `y_true` of shape (batch_size, max_length) holding integer labels "
            f"(0 is the blank/padding). Received: y_true.shape={yt}"
        )
    if len(yp) != 3:
        raise ValueError(
            f"`{name}` expects logits `y_pred` of shape (batch_size, max_length, num_classes). "
            f"Received: y_pred.shape={yp}"
        )
    if yt[0] is not None and yp[0] is not None and yt[0] != yp[0]:
        raise ValueError(
            f"`{name}` expects y_true and y_pred with the same batch size. Received: "
            f"y_true.shape={yt}, y_pred.shape={yp}"
        )


def ctc(y_true, y_pred) -> torch.Tensor:
    """Connectionist temporal classification loss (Graves et al., 2006), per sample.

    Formula: ``-log sum over alignments a of prod_t softmax(y_pred)[t, a_t]`` over the
    alignments that collapse (merge repeats, drop blanks) to the label sequence. Class 0 is the
    blank; each row of ``y_true`` holds the labels followed by 0-padding, and its label length
    is its count of non-zero entries. Every sample uses all ``max_length`` time steps. Computed
    by ``F.ctc_loss`` on ``log_softmax(y_pred)`` in float32 at least.

    Args:
        y_true: integer labels of shape ``(batch, max_label_length)``, 0-padded.
        y_pred: logits (not probabilities) of shape ``(batch, time_steps, num_classes)``.

    Returns:
        The per-sample loss of shape ``(batch,)`` (``inf`` when no alignment fits the steps).

    Raises:
        ValueError: for targets that are not rank 2 or logits that are not rank 3.

    Example:
        >>> import math, torch
        >>> out = ctc(torch.tensor([[1]]), torch.zeros(1, 2, 2))  # uniform: 3 of 4 paths give "1"
        >>> round(float(out[0]), 4), round(-math.log(3 / 4), 4)
        (0.2877, 0.2877)
    """
    y_pred = y_pred if isinstance(y_pred, torch.Tensor) else torch.as_tensor(y_pred)
    y_true = y_true if isinstance(y_true, torch.Tensor) else torch.as_tensor(y_true, device=y_pred.device)
    _check_ctc("ctc", tuple(y_true.shape), tuple(y_pred.shape))
    logits = y_pred if y_pred.dtype in (torch.float32, torch.float64) else y_pred.float()
    log_probs = torch.log_softmax(logits, dim=-1).transpose(0, 1)  # (time, batch, classes)
    targets = y_true.long()
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    input_lengths = torch.full((batch,), steps, dtype=torch.long, device=log_probs.device)
    target_lengths = (targets != 0).sum(dim=-1)
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="none")


class CTC(_FunctionLoss):
    """Class form of ``ctc`` (arguments as ``KLDivergence``).

    Example:
        >>> import torch
        >>> round(float(CTC()(torch.tensor([[1], [1]]), torch.zeros(2, 2, 2))), 4)
        0.2877
    """

    _fn = staticmethod(ctc)
    _check = staticmethod(_check_ctc)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "ctc"):
        super().__init__(name, reduction)


_EXTENDED_CHECKS = {ctc: _check_ctc}
