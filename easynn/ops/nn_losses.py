"""Crossentropies of ``keras.ops.nn`` and the label encodings they take: ``one_hot``, ``multi_hot``,
``categorical_crossentropy``, ``sparse_categorical_crossentropy``, ``binary_crossentropy``
(re-exported by ``easynn.ops.nn``, so ``ops.nn.one_hot`` and ``ops.one_hot`` work).

The crossentropies return one value per sample (per element for the binary one), unreduced.
Probabilities are clipped to ``[eps, 1 - eps]`` with ``easynn.config.epsilon()`` as Keras does;
``from_logits=True`` uses a log-softmax (log-sigmoid) instead, which is exact and stable.

Example:
    >>> import torch
    >>> target = one_hot(torch.tensor([1]), 3)
    >>> target
    tensor([[0., 1., 0.]])
    >>> categorical_crossentropy(target, torch.tensor([[0.25, 0.5, 0.25]]))
    tensor([0.6931])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import config
from easynn.ops._convert import floating as _float
from easynn.ops._convert import tensor, to_torch_dtype
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = [
    "one_hot", "multi_hot", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
]


# ------------------------------------------------------------------------------ encodings
def _out_dtype(dtype: Any) -> torch.dtype:
    return to_torch_dtype(dtype) if dtype is not None else torch.get_default_dtype()


@op
def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> Tensor:
    """One-hot vectors of integer labels; out-of-range labels (e.g. -1) give all-zero vectors.

    Args:
        x: integer labels of any shape.
        num_classes: the length of each vector.
        axis: where the new axis goes.
        dtype: the output dtype (``floatx()`` by default).
    """
    if sparse:
        raise ValueError("one_hot(): sparse=True is not supported with the torch backend.")
    x = tensor(x)
    if x.is_floating_point():
        x = x.long()
    x = x.long()
    num_classes = int(num_classes)
    valid = (x >= 0) & (x < num_classes)
    out = F.one_hot(torch.where(valid, x, torch.zeros_like(x)), num_classes) * valid.unsqueeze(-1)
    out = out.to(_out_dtype(dtype))
    if axis != -1:
        out = out.movedim(-1, axis)
    return out


@op
def multi_hot(inputs: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> Tensor:
    """Multi-hot vectors: each row of integer labels ``(batch, k)`` becomes ``(batch, num_classes)``
    with 1 at every label present (a 1-D input is one sample).

    Example:
        >>> multi_hot(torch.tensor([[0, 2], [1, 1]]), 3)
        tensor([[1., 0., 1.],
                [0., 1., 0.]])
    """
    inputs = tensor(inputs)
    single = inputs.dim() == 1
    hot = one_hot(inputs[None] if single else inputs, num_classes, dtype=dtype, sparse=sparse)
    out = hot.amax(dim=-2)
    out = out[0] if single else out
    if axis != -1:
        out = out.movedim(-1, axis)
    return out


# ------------------------------------------------------------------------------ losses
def _check_same_shape(name: str, target: Tensor, output: Tensor) -> None:
    if target.shape != output.shape:
        raise ValueError(
            f"{name}(): `target` and `output` must have the same shape. Received target {tuple(target.shape)}, "
            f"output {tuple(output.shape)}."
        )


@op
def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Tensor:
    """``-sum(target * log(output))`` along ``axis`` (one value per sample).

    Probabilities are renormalised to sum to 1 and clipped to ``[eps, 1 - eps]`` as Keras does;
    with ``from_logits=True`` a log-softmax is used instead.
    """
    output = _float(output)
    target = tensor(target).to(output.dtype)
    _check_same_shape("categorical_crossentropy", target, output)
    if from_logits:
        log_p = F.log_softmax(output, dim=axis)
    else:
        eps = config.epsilon()
        probs = output / output.sum(dim=axis, keepdim=True)
        log_p = torch.log(probs.clamp(eps, 1 - eps))
    return -(target * log_p).sum(dim=axis)


@op
def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Categorical crossentropy with integer class ``target`` (shape ``output.shape`` without ``axis``)."""
    output = _float(output)
    target = tensor(target)
    if target.dim() == output.dim() and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = output.shape[:axis % output.dim()] + output.shape[axis % output.dim() + 1:]
    if target.shape != expected:
        raise ValueError(
            f"sparse_categorical_crossentropy(): `target` must have shape {tuple(expected)} for output "
            f"{tuple(output.shape)}. Received target {tuple(target.shape)}."
        )
    if from_logits:
        log_p = F.log_softmax(output, dim=axis)
    else:
        eps = config.epsilon()
        log_p = torch.log((output / output.sum(dim=axis, keepdim=True)).clamp(eps, 1 - eps))
    return -log_p.gather(axis, target.long().unsqueeze(axis)).squeeze(axis)


@op
def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Element-wise ``-(t log p + (1 - t) log(1 - p))`` (``p`` clipped to ``[eps, 1 - eps]``)."""
    output = _float(output)
    target = tensor(target).to(output.dtype)
    _check_same_shape("binary_crossentropy", target, output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = config.epsilon()
    p = output.clamp(eps, 1 - eps)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
