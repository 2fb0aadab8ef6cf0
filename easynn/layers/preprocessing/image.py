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


_LANCZOS_RADIUS = {"lanczos3": 3, "lanczos5": 5}
_RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")


def _lanczos_matrix(in_size: int, out_size: int, radius: int, antialias: bool, dtype, device) -> torch.Tensor:
    """``(out_size, in_size)`` resampling weights along one axis with a Lanczos kernel.

    Formula: output pixel ``j`` sits at input coordinate ``c = (j + 0.5) * in / out - 0.5`` (half-pixel
    centres); input pixel ``i`` weighs ``L((i - c) / k)`` with ``L(t) = sinc(t) sinc(t / radius)`` for
    ``|t| < radius`` (0 beyond) and ``k = max(in / out, 1)`` when ``antialias`` (the kernel widens when
    downsampling), else 1; each row is normalised to sum 1 (pixels past the border are dropped).
    """
    scale = in_size / out_size
    stretch = max(scale, 1.0) if antialias else 1.0
    centres = (torch.arange(out_size, dtype=torch.float64) + 0.5) * scale - 0.5
    t = (torch.arange(in_size, dtype=torch.float64)[None, :] - centres[:, None]) / stretch
    weights = torch.where(t.abs() < radius, torch.sinc(t) * torch.sinc(t / radius), torch.zeros_like(t))
    total = weights.sum(dim=1, keepdim=True)
    weights = torch.where(total.abs() > 1e-12, weights / total, torch.zeros_like(weights))
    return weights.to(device=device, dtype=dtype)


def lanczos_resize_nchw(x: torch.Tensor, size: tuple[int, int], interpolation: str, antialias: bool) -> torch.Tensor:
    """Separable Lanczos resize of an NCHW batch: one weight matrix per axis, two matmuls.

    Matches TensorFlow's / JAX's ``scale_and_translate`` resize (the Keras TF and JAX backends); the
    result is not clipped, so it can overshoot the input's range slightly near edges, as theirs does.
    """
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    radius = _LANCZOS_RADIUS[interpolation]
    rows = _lanczos_matrix(x.shape[-2], size[0], radius, antialias, dtype, x.device)
    cols = _lanczos_matrix(x.shape[-1], size[1], radius, antialias, dtype, x.device)
    y = rows @ x.to(dtype) @ cols.T  # (out_h, in_h) @ (.., in_h, in_w) @ (in_w, out_w)
    return y.to(x.dtype)


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
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``
            or ``"lanczos5"`` (separable Lanczos with radius 3 or 5, see :func:`lanczos_resize_nchw`).
        crop_to_aspect_ratio: first crop the largest centred window with the target aspect
            ratio, so the image is not distorted.
        pad_to_aspect_ratio: first pad (centred, with ``fill_value``) to the target aspect ratio.
        fill_mode: ``"constant"`` only (how ``pad_to_aspect_ratio`` fills).
        fill_value: the padding value.
        antialias: low-pass filter when downsampling (``bilinear``/``bicubic``/``lanczos*``).
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
        self.interpolation = _image.check_interpolation(interpolation, _RESIZE_INTERPOLATIONS)
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
        if self.interpolation in _LANCZOS_RADIUS:
            y = lanczos_resize_nchw(x, (self.height, self.width), self.interpolation, self.antialias)
        else:
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
