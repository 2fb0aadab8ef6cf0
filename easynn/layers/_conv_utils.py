"""Argument and layout helpers shared by the convolution, pooling and reshaping layers.

Keras's arguments (``kernel_size=3``, ``padding="Same"``, ``data_format=None``) are normalized
here, and channels_last tensors are viewed (never copied) as the ``(N, C, H, W)`` shapes that
PyTorch's convolutions take. TensorFlow's "same" padding rule lives here too.

Example:
    >>> normalize_tuple(3, 2, "kernel_size")
    (3, 3)
    >>> same_padding(5, 3, 2)  # out = ceil(5 / 2) = 3; total padding 2, split (1, 1)
    (1, 1)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.base import Layer

__all__ = [
    "normalize_data_format", "normalize_tuple", "normalize_padding", "same_padding", "to_nchw", "from_nchw",
    "check_rank", "pad_same_nchw",
]


def normalize_data_format(value: Any) -> str:
    """``None``/``"channels_last"`` -> ``"channels_last"``; ``"channels_first"`` stays."""
    if value is None:
        return "channels_last"
    if isinstance(value, str) and value.lower() in ("channels_last", "channels_first"):
        return value.lower()
    raise ValueError(
        "`data_format` must be 'channels_last', 'channels_first' or None. "
        f"Received: data_format={value!r}"
    )


def normalize_tuple(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of ``rank`` positive ints -> a tuple of ``rank`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank:
        values = tuple(value)
    else:
        raise ValueError(
            f"`{name}` must be an integer or a tuple of {rank} integers. Received: {name}={value!r}"
        )
    if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values):
        raise ValueError(f"`{name}` must contain positive integers. Received: {name}={value!r}")
    return values


def normalize_padding(value: Any, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    """Lower-case a padding name and check it is one of ``allowed``."""
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise ValueError(
        f"`padding` must be one of {', '.join(repr(a) for a in allowed)}. Received: padding={value!r}"
    )


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras "same" padding of one axis: ``(before, after)``, the extra one after.

    ``out = ceil(size / stride)``; ``total = max((out - 1) * stride + (kernel - 1) * dilation + 1
    - size, 0)``; ``before = total // 2``.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def to_nchw(inputs: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """View ``inputs`` as a 4-D ``(N, C, H, W)`` tensor without copying (rank 1: ``H = 1``).

    Rank 3 gives the 5-D ``(N, C, D, H, W)`` view.
    """
    if rank == 1:
        inputs = inputs.unsqueeze(1 if data_format == "channels_last" else 2)
    if data_format == "channels_last":
        return inputs.movedim(-1, 1)
    return inputs


def from_nchw(outputs: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """Inverse of :func:`to_nchw` (again a view)."""
    if data_format == "channels_last":
        outputs = outputs.movedim(1, -1)
        return outputs.squeeze(1) if rank == 1 else outputs
    return outputs.squeeze(2) if rank == 1 else outputs


def check_rank(layer: Layer, input_shape, rank: int) -> None:
    """Raise a Keras-like error unless ``input_shape`` is ``(batch, *spatial, channels)``."""
    if not isinstance(input_shape, tuple) or len(input_shape) != rank + 2:
        raise ValueError(
            f"Layer '{layer.name}' expects inputs of rank {rank + 2} (batch, "
            f"{', '.join(['spatial'] * rank)}, channels), but received input shape {input_shape}."
        )


def pad_same_nchw(x: torch.Tensor, kernel, strides, dilation, value: float = 0.0):
    """Pad an NCHW (or NCDHW) view for "same"; returns ``(x, symmetric_padding)``.

    When every axis pads symmetrically the padding is handed to the op (no copy); otherwise the
    input is padded with ``F.pad`` (extra row/column at the bottom/right, as TensorFlow does).
    """
    pads = [same_padding(size, k, s, d) for size, k, s, d in zip(x.shape[2:], kernel, strides, dilation)]
    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    flat = [p for before, after in reversed(pads) for p in (before, after)]  # F.pad: last axis first
    return F.pad(x, flat, value=value), (0,) * len(pads)
