"""The fused softmax/sigmoid + crossentropy, without a side door into the model.

``easynn.activations.softmax`` and ``sigmoid`` tag their output with the tensor they came from
(``output._keras_logits``, the name Keras uses) and the activation's name
(``output._keras_activation``). A probability-space crossentropy that receives such an output
computes from the logits instead:

* the **gradient** is the exact one of the stable log-sum-exp form, ``ŷ − y`` per sample (the
  lecture's result), even for a confident wrong prediction where the clipped formula's gradient
  is zero and training stalls;
* the **value** is Keras's clipped one (``-log(clip(p, 1e-7, 1 - 1e-7))``, at most 16.118 per
  sample), so ``fit``'s logs, ``evaluate`` and the loss function called by hand agree with each
  other and with Keras.

Both at once is a straight-through estimate: ``fused + (clipped − fused).detach()`` has the
clipped value and the fused gradient. The model's output keeps passing through its own layer
call (hooks, autocast, activity regularizers, dtype policies all apply); only the loss looks at
the tag.
"""

from __future__ import annotations

import torch

__all__ = ["tag_logits", "tagged_logits", "straight_through"]


def tag_logits(output: torch.Tensor, logits: torch.Tensor, activation: str) -> torch.Tensor:
    """Mark ``output`` as ``activation(logits)`` (``"softmax"`` or ``"sigmoid"``); returns it."""
    output._keras_logits = logits
    output._keras_activation = activation
    return output


def tagged_logits(y_pred, activation: str) -> torch.Tensor | None:
    """The logits ``y_pred`` was computed from by ``activation``, or ``None``.

    Only a tag of the matching activation and shape counts: a sigmoid output given to the
    categorical crossentropy is computed in probability space, as in Keras.
    """
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is None or getattr(y_pred, "_keras_activation", None) != activation:
        return None
    if logits.shape != y_pred.shape:
        return None
    return logits


def straight_through(fused: torch.Tensor, clipped: torch.Tensor) -> torch.Tensor:
    """A tensor with ``clipped``'s value and ``fused``'s gradient."""
    return fused + (clipped.detach() - fused.detach())


# ------------------------------------------------------------------ the fused sparse crossentropy
def clipped_sparse_crossentropy(logits: torch.Tensor, labels: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Mean sparse crossentropy of ``(batch, classes)`` logits and int64 labels: Keras's clipped
    value (each sample's ``-log p_y`` clipped to ``[low, high]``), the exact fused gradient.

    Clipping ``-log p`` to ``[low, high]`` is clipping ``log p`` to ``[-high, -low]``, so the
    clipped value needs no pass over the probabilities: one ``log_softmax`` feeds both the fused
    mean (whose gradient is the lecture's ``(softmax(z) - onehot(y)) / batch``) and, detached,
    the clipped mean. Every graph node is one of torch's own, as in ``F.cross_entropy``: no
    Python runs in the backward pass.

    Example:
        >>> z = torch.tensor([[30.0, 0.0], [0.0, 0.0]], requires_grad=True)
        >>> loss = clipped_sparse_crossentropy(z, torch.tensor([1, 0]), 1e-7, 16.118)
        >>> round(loss.item(), 3)  # (16.118 + 0.693) / 2: the wrong sample's 30 is clipped
        8.406
        >>> loss.backward(); z.grad[0].tolist()  # but its gradient is the exact (p - y) / 2
        [0.5, -0.5]
    """
    log_probs = torch.log_softmax(logits, 1)
    fused = torch.nn.functional.nll_loss(log_probs, labels)
    clipped = torch.nn.functional.nll_loss(log_probs.detach().clamp(-high, -low), labels)
    return straight_through(fused, clipped)
