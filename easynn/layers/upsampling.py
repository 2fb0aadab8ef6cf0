"""Upsampling layers: UpSampling1D/2D/3D repeat each step, pixel or voxel ``size`` times.

All take Keras's channels_last layout by default (``data_format="channels_first"`` where Keras has
it). Nearest upsampling is one ``F.interpolate`` with an integer scale (the same values as
repeating each pixel; integer tensors repeat instead, interpolate has no integer kernels),
bilinear upsampling ``F.interpolate`` with half-pixel centres as Keras.

Example:
    >>> import torch
    >>> UpSampling2D(2)(torch.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0]
    tensor([[0., 0., 1., 1.],
            [0., 0., 1., 1.],
            [2., 2., 3., 3.],
            [2., 2., 3., 3.]])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers._shape_utils import check_input_rank, spatial_axes
from easynn.layers.base import Layer
from easynn.layers.conv import check_rank, normalize_data_format, normalize_tuple

__all__ = ["UpSampling1D", "UpSampling2D", "UpSampling3D"]


class _UpSampling(Layer):
    rank = 2

    def __init__(self, size: Any = 2, data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, self.rank, "size")
        self.data_format = normalize_data_format(data_format)
        allowed = ("nearest", "bilinear") if self.rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(
                f"`interpolation` must be one of {', '.join(repr(a) for a in allowed)}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        check_input_rank(self, inputs, self.rank)
        x = inputs.movedim(-1, 1) if self.data_format == "channels_last" else inputs
        if self.interpolation == "nearest":
            if all(s == 1 for s in self.size):
                return inputs
            if not x.is_floating_point():  # interpolate has no integer kernels: repeat instead
                y = x
                for axis, s in enumerate(self.size):
                    y = y.repeat_interleave(s, dim=axis + 2)
            else:
                y = F.interpolate(x, scale_factor=self.size, mode="nearest")
        else:
            size = tuple(n * s for n, s in zip(x.shape[2:], self.size))
            y = F.interpolate(x if x.is_floating_point() else x.float(), size=size, mode="bilinear",
                              align_corners=False)
        return y.movedim(1, -1) if self.data_format == "channels_last" else y

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, s in zip(spatial_axes(self.rank, self.data_format), self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * s
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format)
        if self.rank == 2:
            config["interpolation"] = self.interpolation
        return config


class UpSampling1D(_UpSampling):
    """Repeats each time step ``size`` times: ``(batch, steps, features)`` -> ``(batch, steps * size, features)``.

    Args:
        size: the repetition factor; 2 by default.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten()
        tensor([1., 1., 2., 2.])
    """

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size=size, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size[0]
        del config["data_format"]
        return config


class UpSampling2D(_UpSampling):
    """Upsamples images by ``size``: nearest repeats each pixel, bilinear interpolates.

    Args:
        size: an int or ``(sh, sw)``; 2 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default) or ``"bilinear"`` (half-pixel centres).
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, h * sh, w * sw, c)``.

    Example:
        >>> import torch
        >>> UpSampling2D((2, 3))(torch.zeros(1, 2, 2, 4)).shape
        torch.Size([1, 4, 6, 4])
    """

    rank = 2


class UpSampling3D(_UpSampling):
    """Repeats each voxel ``size`` times along depth, height and width.

    Args:
        size: an int or ``(sd, sh, sw)``; 2 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> UpSampling3D(2)(torch.zeros(1, 1, 2, 3, 4)).shape
        torch.Size([1, 2, 4, 6, 4])
    """

    rank = 3

    def __init__(self, size: Any = 2, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(size=size, data_format=data_format, **kwargs)
