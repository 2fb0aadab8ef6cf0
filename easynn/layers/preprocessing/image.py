"""Deterministic image preprocessing inside the model: Resizing and CenterCrop.

Both take ``(batch, height, width, channels)`` images by default (``data_format="channels_first"``
for ``(batch, channels, height, width)``), or one image without the batch axis, and run on the
images' device with PyTorch's ``F.interpolate``.

Example:
    >>> import torch
    >>> Resizing(4, 6)(torch.zeros(2, 8, 8, 3)).shape
    torch.Size([2, 4, 6, 3])
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.base import Layer
from easynn.layers.conv import normalize_data_format
from easynn.layers.preprocessing import _image

__all__ = ["Resizing", "CenterCrop"]


def _size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _image_output_shape(input_shape, height: int, width: int, data_format: str):
    shape = list(input_shape)
    if data_format == "channels_last":
        shape[-3], shape[-2] = height, width
    else:
        shape[-2], shape[-1] = height, width
    return tuple(shape)


class Resizing(Layer):
    """Resizes images to ``(height, width)``.

    Formula: ``F.interpolate`` with half-pixel centres (TensorFlow's and Keras's convention);
    ``"nearest"`` is PyTorch's ``nearest-exact``, the same rounding as Keras.

    Args:
        height: output height.
        width: output width.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"`` or ``"area"``.
        crop_to_aspect_ratio: first crop the largest centred window with the target aspect
            ratio, so the image is not distorted.
        pad_to_aspect_ratio: first pad (centred, with ``fill_value``) to the target aspect ratio.
        fill_mode: ``"constant"`` only (how ``pad_to_aspect_ratio`` fills).
        fill_value: the padding value.
        antialias: low-pass filter when downsampling (``bilinear``/``bicubic``).
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, height, width, c)``; integer images come out as float.

    Raises:
        ValueError: for a non-positive size, an unknown interpolation, both aspect-ratio options,
            or inputs that are not images.

    Example:
        >>> import torch
        >>> Resizing(2, 2, interpolation="nearest")(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
        tensor([[ 5.,  7.],
                [13., 15.]])
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = _size("height", height)
        self.width = _size("width", width)
        self.interpolation = _image.check_interpolation(interpolation)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True. "
                f"Received: crop_to_aspect_ratio={crop_to_aspect_ratio}, pad_to_aspect_ratio={pad_to_aspect_ratio}"
            )
        if fill_mode != "constant":
            raise ValueError(f"`fill_mode` must be 'constant' for Resizing. Received: fill_mode={fill_mode!r}")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        _image.check_image_rank(self, inputs)
        x, unbatched = _image.to_nchw_images(_image.float_images(inputs), self.data_format)
        height, width = x.shape[-2:]
        if self.crop_to_aspect_ratio:
            top, left, h, w = _image.crop_box(height, width, self.height, self.width)
            x = x[..., top:top + h, left:left + w]
        elif self.pad_to_aspect_ratio:
            pad_h = max(height, int(width * self.height / self.width))
            pad_w = max(width, int(height * self.width / self.height))
            top, left = (pad_h - height) // 2, (pad_w - width) // 2
            x = F.pad(x, (left, pad_w - width - left, top, pad_h - height - top), value=self.fill_value)
        y = _image.resize_nchw(x, (self.height, self.width), self.interpolation, self.antialias)
        return _image.from_nchw_images(y, self.data_format, unbatched)

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            height=self.height, width=self.width, interpolation=self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio, pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode, fill_value=self.fill_value, antialias=self.antialias,
            data_format=self.data_format,
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size=({self.height}, {self.width}), interpolation={self.interpolation!r}"


class CenterCrop(Layer):
    """Crops the central ``(height, width)`` window of each image.

    The window starts at ``((h - height) // 2, (w - width) // 2)``. An image smaller than the
    target is first cropped to the target aspect ratio and resized (bilinear), as Keras does.

    Args:
        height: output height.
        width: output width.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, height, width, c)``.

    Example:
        >>> import torch
        >>> CenterCrop(2, 2)(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
        tensor([[ 5.,  6.],
                [ 9., 10.]])
    """

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = _size("height", height)
        self.width = _size("width", width)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        _image.check_image_rank(self, inputs)
        x, unbatched = _image.to_nchw_images(_image.float_images(inputs), self.data_format)
        height, width = x.shape[-2:]
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            y = x[..., top:top + self.height, left:left + self.width]
        else:
            y = _image.smart_resize_nchw(x, (self.height, self.width))
        return _image.from_nchw_images(y, self.data_format, unbatched)

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height=self.height, width=self.width, data_format=self.data_format)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size=({self.height}, {self.width})"
