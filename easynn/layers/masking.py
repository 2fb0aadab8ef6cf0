"""Masking: mark timesteps to skip, and the masked reductions that mask consumers use.

``Masking(mask_value)`` computes ``mask[b, t] = any(x[b, t, :] != mask_value)`` and zeroes the
masked steps: ``y = x * mask[..., None]``. Layers after it (RNNs, pooling, attention) skip
the masked steps. The functions below are the masked reductions over the time axis:

    masked_sum(x, m)  = sum_t m_t x_t
    masked_mean(x, m) = sum_t m_t x_t / sum_t m_t              (Keras's GlobalAveragePooling1D)
    masked_max(x, m)  = max over the steps with m_t            (the dtype's lowest value if none)

Example:
    >>> import torch
    >>> x = torch.tensor([[[1.0], [3.0], [0.0]]])
    >>> Masking(0.0).compute_mask(x).tolist()
    [[True, True, False]]
    >>> masked_mean(x, torch.tensor([[True, True, False]])).tolist()
    [[2.0]]
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer

__all__ = ["Masking", "masked_sum", "masked_mean", "masked_max", "expand_mask", "call_with_mask"]


def expand_mask(x: torch.Tensor, mask: torch.Tensor, axis: int = 1) -> torch.Tensor:
    """``mask`` ``(batch, steps)`` as a float tensor broadcastable to ``x`` along ``axis``.

    Raises:
        ValueError: when the mask's shape is not ``x``'s first two axes.
    """
    mask = torch.as_tensor(mask, device=x.device)
    if tuple(mask.shape) != (x.shape[0], x.shape[axis]):
        raise ValueError(
            f"Expected a mask of shape (batch, steps) = {(x.shape[0], x.shape[axis])} for inputs of "
            f"shape {tuple(x.shape)}. Received a mask of shape {tuple(mask.shape)}."
        )
    shape = [mask.shape[0]] + [1] * (x.dim() - 1)
    shape[axis] = mask.shape[1]
    return mask.reshape(shape).to(x.dtype)


def masked_sum(x: torch.Tensor, mask: torch.Tensor | None, axis: int = 1) -> torch.Tensor:
    """Sum of ``x`` over ``axis`` counting only the steps where ``mask`` is true."""
    if mask is None:
        return x.sum(dim=axis)
    return (x * expand_mask(x, mask, axis)).sum(dim=axis)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None, axis: int = 1) -> torch.Tensor:
    """Mean of ``x`` over ``axis`` over the steps where ``mask`` is true (Keras's masked
    ``GlobalAveragePooling1D``). Rows without any real step give 0 (Keras gives NaN there).

    Example:
        >>> import torch
        >>> masked_mean(torch.tensor([[1.0, 2.0, 9.0]]), torch.tensor([[1, 1, 0]])).item()
        1.5
    """
    if mask is None:
        return x.mean(dim=axis)
    m = expand_mask(x, mask, axis)
    return (x * m).sum(dim=axis) / m.sum(dim=axis).clamp(min=1)


def masked_max(x: torch.Tensor, mask: torch.Tensor | None, axis: int = 1) -> torch.Tensor:
    """Max of ``x`` over ``axis`` over the steps where ``mask`` is true (rows without any real step
    give the dtype's lowest value).

    Example:
        >>> import torch
        >>> masked_max(torch.tensor([[1.0, 2.0, 9.0]]), torch.tensor([[1, 1, 0]])).item()
        2.0
    """
    if mask is None:
        return x.amax(dim=axis)
    m = expand_mask(x, mask, axis).bool()
    low = torch.finfo(x.dtype).min if x.is_floating_point() else torch.iinfo(x.dtype).min
    return x.masked_fill(~m, low).amax(dim=axis)


def _call_takes_mask(layer: Any) -> bool:
    import inspect

    fn = getattr(layer, "call", None)
    try:
        return fn is not None and "mask" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


def call_with_mask(layer: Any, inputs: Any, mask: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """Call ``layer`` with Keras 3's mask rules; return ``(outputs, output_mask)``.

    The rules (what ``Sequential`` and the functional graph do between layers):
        * the layer's ``call`` receives ``mask=`` only when it declares a ``mask`` argument and
          the mask is not ``None`` (an explicit ``mask=`` in ``kwargs`` wins);
        * the output mask is ``layer.compute_mask(inputs, mask)`` when the layer supports
          masking or generates masks (``Embedding(mask_zero=True)``, ``Masking``), else ``None``.

    Args:
        layer: any layer (plain torch modules never take or make masks).
        inputs: the layer's input (tensor or list).
        mask: the incoming mask (bool ``(batch, timesteps)``) or ``None``.
        **kwargs: other call arguments (``training``...).

    Returns:
        ``(outputs, output_mask)``.

    Example:
        >>> import torch
        >>> from easynn.layers.embedding import Embedding
        >>> from easynn.layers.rnn.lstm_gru import LSTM
        >>> ids = torch.tensor([[4, 2, 0]])
        >>> x, m = call_with_mask(Embedding(5, 3, mask_zero=True), ids)
        >>> m.tolist()
        [[True, True, False]]
        >>> y, m2 = call_with_mask(LSTM(2), x, m)
        >>> tuple(y.shape), m2
        ((1, 2), None)
    """
    if mask is not None and "mask" not in kwargs and _call_takes_mask(layer):
        kwargs["mask"] = mask
    outputs = layer(inputs, **kwargs)
    compute = getattr(layer, "compute_mask", None)
    if compute is None:
        return outputs, None
    generates = isinstance(layer, Masking) or getattr(layer, "mask_zero", False)
    if not (generates or getattr(layer, "supports_masking", False)):
        return outputs, None
    return outputs, compute(inputs, mask)


class Masking(Layer):
    """Mask the timesteps whose features all equal ``mask_value`` (and zero them).

    Formula: ``mask[b, t] = any_f(x[b, t, f] != mask_value)``; ``y = x * mask[..., None]``.

    Args:
        mask_value: the padding value (``0.0``).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, timesteps, features)`` (any rank >= 2; the last axis is the features).

    Shape:
        Same as the input. ``compute_mask`` returns a bool ``(batch, timesteps)`` tensor.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0, 2.0], [-1.0, -1.0]]])
        >>> Masking(mask_value=-1.0)(x).tolist()
        [[[1.0, 2.0], [-0.0, -0.0]]]
    """

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(f"`mask_value` must be a number. Received: mask_value={mask_value!r}")
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        return (inputs != self.mask_value).any(dim=-1)

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        keep = self.compute_mask(inputs)
        return inputs * keep.unsqueeze(-1).to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mask_value={self.mask_value}"
