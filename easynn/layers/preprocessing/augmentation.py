"""Geometric data augmentation inside the model: flips, rotations, zooms, translations, crops.

Each layer acts only when called with ``training=True`` (inside ``fit``); at inference it returns
its input unchanged (RandomCrop resizes instead, as Keras). Every sample in the batch gets its own
random transformation, drawn in one vectorised call: flips are one ``torch.where``, rotations,
zooms and translations one ``grid_sample`` over the batch, crops one gather.

``seed`` (an int) makes the sequence of augmentations reproducible: each layer owns a
``torch.Generator`` seeded with it. Without a seed, torch's global generator is used (so
``torch.manual_seed`` / ``easynn.utils.set_random_seed`` controls it).

Example:
    >>> import torch
    >>> flip = RandomFlip("horizontal", seed=0)
    >>> images = torch.arange(4.0).reshape(1, 1, 4, 1)
    >>> torch.equal(flip(images), images)  # inference: identity
    True
"""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn.layers.base import Layer
from easynn.layers.conv import normalize_data_format
from easynn.layers.preprocessing import _image
from easynn.layers.preprocessing.image import _image_output_shape, _size

__all__ = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomShear", "RandomCrop"]

_WARP_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


class BaseRandomLayer(Layer):
    """An augmentation layer: seeded draws, identity at inference, batched NCHW work in ``augment``."""

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._draws = _image.RandomDraws(seed)
        self.seed = self._draws.seed
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training:
            return self.inference(inputs)
        _image.check_image_rank(self, inputs)
        x, unbatched = _image.to_nchw_images(_image.float_images(inputs), self.data_format)
        y = self.augment(x)
        return _image.from_nchw_images(y, self.data_format, unbatched)

    def inference(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def augment(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(seed=self.seed, data_format=self.data_format)
        return config


class _AffineLayer(BaseRandomLayer):
    """Shared arguments of the warping layers (fill mode, interpolation)."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = _image.check_fill_mode(fill_mode)
        self.interpolation = _image.check_interpolation(interpolation, _WARP_INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def matrices(self, n: int, height: int, width: int) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        return _image.warp(x, self.matrices(n, height, width), self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, interpolation=self.interpolation, fill_value=self.fill_value)
        return config


class RandomFlip(BaseRandomLayer):
    """Flips each image left-right and/or up-down with probability 1/2, independently per sample.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: an int for reproducible flips.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Call arguments:
        training: flips only when ``True``.

    Example:
        >>> import torch
        >>> x = torch.arange(4.0).reshape(1, 1, 4, 1)
        >>> RandomFlip("horizontal")(x, training=False).flatten()
        tensor([0., 1., 2., 3.])
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self._MODES:
            raise ValueError(
                f"`mode` must be one of {', '.join(repr(m) for m in self._MODES)}. Received: mode={mode!r}"
            )
        self.mode = mode

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = self._draws.uniform((n, 1, 1, 1), 0.0, 1.0, x.device) < 0.5
            x = torch.where(flip, x.flip(-1), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = self._draws.uniform((n, 1, 1, 1), 0.0, 1.0, x.device) < 0.5
            x = torch.where(flip, x.flip(-2), x)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config["mode"] = self.mode
        return config


class RandomRotation(_AffineLayer):
    """Rotates each image by its own random angle about the centre.

    Formula: angle ``= 2 * pi * uniform(lower, upper)``, positive counter-clockwise; the output pixel
    ``p`` reads the input at ``R(-angle) p`` (bilinear by default), outside pixels by ``fill_mode``.

    Args:
        factor: a fraction of a full turn: ``f`` means ``[-f, f]``, ``(lower, upper)`` a range.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        seed: an int for reproducible rotations.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomRotation(0.1)(torch.zeros(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else list(factor)
        self._range = _image.factor_range("factor", factor)

    def matrices(self, n: int, height: int, width: int) -> torch.Tensor:
        angle = self._draws.uniform((n,), *self._range) * (2 * math.pi)
        cos, sin, zero = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)
        return torch.stack([torch.stack([cos, -sin, zero], -1), torch.stack([sin, cos, zero], -1)], 1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_AffineLayer):
    """Zooms each image in or out about its centre by its own random factor.

    Formula: ``zoom = 1 + uniform(lower, upper)`` per axis; the output pixel ``p`` (centred) reads
    the input at ``zoom * p``, so a positive factor zooms out (the image shrinks) and a negative
    one zooms in.

    Args:
        height_factor: ``f`` means ``[-f, f]``; ``(lower, upper)`` a range, each > -1.
        width_factor: the same for the width; ``None`` (default) keeps the aspect ratio (the
            height's zoom is used for both axes).
        fill_mode, interpolation, seed, fill_value, data_format, **kwargs: as for
            :class:`RandomRotation`.

    Example:
        >>> import torch
        >>> RandomZoom(0.2)(torch.zeros(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor if isinstance(height_factor, (int, float)) else list(height_factor)
        self.width_factor = (width_factor if width_factor is None or isinstance(width_factor, (int, float))
                             else list(width_factor))
        self._height_range = _image.factor_range("height_factor", height_factor, low=-1.0)
        self._width_range = None if width_factor is None else _image.factor_range("width_factor", width_factor, low=-1.0)
        if self._height_range[0] == -1.0 or (self._width_range and self._width_range[0] == -1.0):
            raise ValueError(
                "Zoom factors must be > -1 (a zoom of 0 is undefined). "
                f"Received: height_factor={height_factor!r}, width_factor={width_factor!r}"
            )

    def matrices(self, n: int, height: int, width: int) -> torch.Tensor:
        zoom_y = 1.0 + self._draws.uniform((n,), *self._height_range)
        zoom_x = zoom_y if self._width_range is None else 1.0 + self._draws.uniform((n,), *self._width_range)
        zero = torch.zeros_like(zoom_y)
        return torch.stack([torch.stack([zoom_x, zero, zero], -1), torch.stack([zero, zoom_y, zero], -1)], 1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomTranslation(_AffineLayer):
    """Shifts each image by its own random fraction of its height and width.

    Formula: ``dy = uniform(h_lower, h_upper) * height``, ``dx = uniform(w_lower, w_upper) * width``;
    the output pixel ``p`` reads the input at ``p - (dx, dy)`` (positive: down / right).

    Args:
        height_factor: ``f`` means ``[-f, f]``; ``(lower, upper)`` a range within ``[-1, 1]``.
        width_factor: the same for the width.
        fill_mode, interpolation, seed, fill_value, data_format, **kwargs: as for
            :class:`RandomRotation`.

    Example:
        >>> import torch
        >>> RandomTranslation(0.1, 0.1)(torch.zeros(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor if isinstance(height_factor, (int, float)) else list(height_factor)
        self.width_factor = width_factor if isinstance(width_factor, (int, float)) else list(width_factor)
        self._height_range = _image.factor_range("height_factor", height_factor, low=-1.0, high=1.0)
        self._width_range = _image.factor_range("width_factor", width_factor, low=-1.0, high=1.0)

    def matrices(self, n: int, height: int, width: int) -> torch.Tensor:
        dy = self._draws.uniform((n,), *self._height_range) * height
        dx = self._draws.uniform((n,), *self._width_range) * width
        one, zero = torch.ones_like(dx), torch.zeros_like(dx)
        return torch.stack([torch.stack([one, zero, -dx], -1), torch.stack([zero, one, -dy], -1)], 1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomShear(_AffineLayer):
    """Shears each image by its own random amounts along x and/or y (about the top-left corner).

    Formula (pixel indices): the output pixel ``(x, y)`` reads the input at
    ``(x + sx * y, sy * x + y)``; ``sx ~ uniform(x_factor)``, ``sy ~ uniform(y_factor)``, both
    negated together for a random half of the images, as Keras does.

    Args:
        x_factor: ``f`` means ``[-f, f]``; or a pair within ``[0, 1]``. 0 by default.
        y_factor: the same for the y axis.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible shears.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomShear(0.2, 0.2)(torch.zeros(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, x_factor: Any = 0.0, y_factor: Any = 0.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor = x_factor if isinstance(x_factor, (int, float)) else list(x_factor)
        self.y_factor = y_factor if isinstance(y_factor, (int, float)) else list(y_factor)
        self._x_range = _image.factor_range("x_factor", x_factor, low=-1.0, high=1.0)
        self._y_range = _image.factor_range("y_factor", y_factor, low=-1.0, high=1.0)
        if not isinstance(x_factor, (int, float)) and min(x_factor) < 0 or (
            not isinstance(y_factor, (int, float)) and min(y_factor) < 0
        ):
            raise ValueError(
                f"Shear factors must be in [0, 1]. Received: x_factor={x_factor!r}, y_factor={y_factor!r}"
            )

    def matrices(self, n: int, height: int, width: int) -> torch.Tensor:
        sign = torch.where(self._draws.uniform((n,), 0.0, 1.0) > 0.5, -1.0, 1.0)
        sy = self._draws.uniform((n,), *self._y_range) * sign
        sx = self._draws.uniform((n,), *self._x_range) * sign
        one = torch.ones_like(sx)
        # Keras shears about pixel (0, 0); the warp's coordinates are centred: shift by the centre.
        cx, cy = (width - 1) / 2, (height - 1) / 2
        return torch.stack([torch.stack([one, sx, sx * cy], -1), torch.stack([sy, one, sy * cx], -1)], 1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(x_factor=self.x_factor, y_factor=self.y_factor)
        return config


class RandomCrop(BaseRandomLayer):
    """Crops a random ``(height, width)`` window from each image (its own offset per sample).

    At inference, and in training for an image smaller than the target, the largest centred
    window of the target aspect ratio is resized to ``(height, width)`` instead (Keras's rule).

    Args:
        height: output height.
        width: output width.
        seed: an int for reproducible crops.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, height, width, c)`` in training and at inference.

    Example:
        >>> import torch
        >>> RandomCrop(4, 4, seed=1)(torch.zeros(2, 8, 8, 3), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    def __init__(self, height: int, width: int, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = _size("height", height)
        self.width = _size("width", width)

    def inference(self, inputs: torch.Tensor) -> torch.Tensor:
        _image.check_image_rank(self, inputs)
        x, unbatched = _image.to_nchw_images(_image.float_images(inputs), self.data_format)
        y = _image.smart_resize_nchw(x, (self.height, self.width))
        return _image.from_nchw_images(y, self.data_format, unbatched)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, c, height, width = x.shape
        if height < self.height or width < self.width:
            return _image.smart_resize_nchw(x, (self.height, self.width))
        top = self._draws.integers((n,), height - self.height, x.device)
        left = self._draws.integers((n,), width - self.width, x.device)
        rows = (top[:, None] + torch.arange(self.height, device=x.device))[:, None, :, None]
        cols = (left[:, None] + torch.arange(self.width, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        channel = torch.arange(c, device=x.device)[None, :, None, None]
        return x[batch, channel, rows, cols]

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config
