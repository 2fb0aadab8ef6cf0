"""Small helpers shared by the upsampling, padding/cropping and reshaping layers.

Which axes of a ``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)`` tensor are the
spatial ones, whether an argument is a true ``int`` (not a ``bool``), and the input-rank check
that names the layer.

Example:
    >>> spatial_axes(2, "channels_last"), spatial_axes(2, "channels_first")
    ((1, 2), (2, 3))
    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer

__all__ = ["spatial_axes", "is_int", "check_input_rank"]


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The positions of the ``rank`` spatial axes in a batched tensor of ``data_format``."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def is_int(value: Any) -> bool:
    """``True`` for a Python ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_input_rank(layer: Layer, inputs: torch.Tensor, rank: int) -> None:
    """Raise a ValueError naming ``layer`` unless ``inputs`` has ``rank`` spatial axes (plus batch, channels)."""
    if inputs.dim() != rank + 2:
        raise ValueError(
            f"Layer '{layer.name}' expects inputs of rank {rank + 2}, but received shape {tuple(inputs.shape)}."
        )
