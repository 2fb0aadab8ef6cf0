"""Image layout helpers shared by the ``easynn.ops.image*`` modules: the data format, and images as
a ``(batch, channels, height, width)`` float batch and back."""

from __future__ import annotations

from typing import Any

import torch

from easynn import config
from easynn.ops._convert import real_floating as _float

Tensor = torch.Tensor


def _data_format(data_format: str | None) -> str:
    value = config.image_data_format() if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
        )
    return value


def _batched_first(name: str, images: Any, data_format: str | None) -> tuple[Tensor, bool, str]:
    """``(batch, channels, height, width)``, whether a batch axis was added, and the data format."""
    x = _float(images)
    fmt = _data_format(data_format)
    if x.dim() not in (3, 4):
        raise ValueError(f"{name}(): `images` must be 3-D (one image) or 4-D (a batch). Received shape {tuple(x.shape)}")
    single = x.dim() == 3
    if single:
        x = x[None]
    if fmt == "channels_last":
        x = x.permute(0, 3, 1, 2)
    return x, single, fmt


def _restore(x: Tensor, single: bool, fmt: str) -> Tensor:
    if fmt == "channels_last":
        x = x.permute(0, 2, 3, 1)
    return x[0] if single else x
