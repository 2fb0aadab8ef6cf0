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
