"""Colour augmentation inside the model: contrast, brightness, grayscale, inversion, auto-contrast.

The random layers act only with ``training=True`` and draw one value per image, vectorised over
the batch; ``value_range`` is the range of the pixel values (``(0, 255)`` by default; ``(0, 1)``
for images already rescaled), used for the amount of change and to clip the result.

Example:
    >>> import torch
    >>> layer = RandomBrightness(0.2, seed=0)
    >>> layer(torch.full((2, 2, 2, 3), 100.0), training=False)[0, 0, 0]
    tensor([100., 100., 100.])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer
from easynn.layers.conv import normalize_data_format
from easynn.layers.preprocessing import _image
from easynn.layers.preprocessing.augmentation import BaseRandomLayer

__all__ = ["RandomContrast", "RandomBrightness", "RandomGrayscale", "RandomInvert", "AutoContrast"]

_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # ITU-R 601 luma, as Keras's rgb_to_grayscale


class RandomContrast(BaseRandomLayer):
    """Scales each image's contrast by its own random factor.

    Formula: ``out = clip((x - mean) * c + mean, *value_range)`` with ``mean`` the per-channel mean
    of the image and ``c ~ uniform(1 - lower, 1 + upper)``.

    Args:
        factor: ``f`` means ``lower = upper = f``; or ``(lower, upper)``; each in ``[0, 1]``.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomContrast(0.5)(torch.zeros(2, 4, 4, 3), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    def __init__(self, factor: Any, value_range=(0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else list(factor)
        if isinstance(factor, (tuple, list)) and len(factor) == 2:
            lower, upper = (_image.factor_range("factor", v, symmetric=False)[0] for v in factor)
        else:
            lower, upper = _image.factor_range("factor", factor, symmetric=False)
        if not (0.0 <= lower <= 1.0 and 0.0 <= upper <= 1.0):
            raise ValueError(f"`factor` must be in [0, 1] (or a pair of such numbers). Received: factor={factor!r}")
        self._range = (1.0 - lower, 1.0 + upper)
        self.value_range = list(_image.check_value_range(value_range))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        c = self._draws.uniform((x.shape[0], 1, 1, 1), *self._range, x.device).to(x.dtype)
        mean = x.mean(dim=(-2, -1), keepdim=True)
        return ((x - mean) * c + mean).clamp(*self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config


class RandomBrightness(BaseRandomLayer):
    """Adds a random brightness offset to each image.

    Formula: ``out = clip(x + u * (high - low), low, high)``, ``u ~ uniform(lower, upper)``, the
    same offset for every pixel and channel of one image.

    Args:
        factor: ``f`` means ``[-f, f]``; or ``(lower, upper)``; within ``[-1, 1]``.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomBrightness((0.5, 0.5), value_range=(0, 1))(torch.zeros(1, 2, 2, 1), training=True).flatten()
        tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """

    def __init__(self, factor: Any, value_range=(0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else list(factor)
        self._range = _image.factor_range("factor", factor, low=-1.0, high=1.0)
        self.value_range = list(_image.check_value_range(value_range))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        delta = self._draws.uniform((x.shape[0], 1, 1, 1), *self._range, x.device).to(x.dtype) * (high - low)
        return (x + delta).clamp(low, high)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config


class RandomGrayscale(BaseRandomLayer):
    """Turns each RGB image to grayscale with probability ``factor`` (keeping 3 channels).

    Formula: ``gray = 0.2989 R + 0.5870 G + 0.1140 B``, copied to the three channels.

    Args:
        factor: probability of converting an image, in ``[0, 1]``; 0.5 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for images without 3 channels.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[[1.0, 0.0, 0.0]]]])
        >>> RandomGrayscale(factor=1.0)(x, training=True)
        tensor([[[[0.2989, 0.2989, 0.2989]]]])
    """

    def __init__(self, factor: float = 0.5, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"`factor` must be a probability in [0, 1]. Received: factor={factor!r}")
        self.factor = float(factor)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 3:
            raise ValueError(
                f"Layer '{self.name}' expects RGB images with 3 channels, but received {x.shape[1]} channels."
            )
        weights = torch.tensor(_GRAY_WEIGHTS, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
        gray = (x * weights).sum(dim=1, keepdim=True).expand_as(x)
        pick = self._draws.uniform((x.shape[0], 1, 1, 1), 0.0, 1.0, x.device) < self.factor
        return torch.where(pick, gray, x)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomInvert(BaseRandomLayer):
    """Inverts each image (``low + high - x``) with probability ``factor``.

    Args:
        factor: probability of inverting an image, in ``[0, 1]``; 1.0 by default.
        value_range: ``(low, high)`` of the pixel values.
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomInvert(value_range=(0, 1))(torch.tensor([[[[0.25]]]]), training=True).flatten()
        tensor([0.7500])
    """

    def __init__(self, factor: float = 1.0, value_range=(0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"`factor` must be a probability in [0, 1]. Received: factor={factor!r}")
        self.factor = float(factor)
        self.value_range = list(_image.check_value_range(value_range))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        pick = self._draws.uniform((x.shape[0], 1, 1, 1), 0.0, 1.0, x.device) < self.factor
        return torch.where(pick, (low + high) - x, x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config


class AutoContrast(Layer):
    """Stretches each channel of each image to the full ``value_range`` (deterministic).

    Formula: ``out = low + (x - min) / (max - min) * (high - low)`` with ``min``/``max`` per image and
    channel; a constant channel is left unchanged.

    Args:
        value_range: ``(low, high)`` of the pixel values.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> AutoContrast(value_range=(0, 1))(torch.tensor([[[[0.2], [0.4]]]])).flatten()
        tensor([0., 1.])
    """

    def __init__(self, value_range=(0, 255), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_range = list(_image.check_value_range(value_range))
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        _image.check_image_rank(self, inputs)
        x, unbatched = _image.to_nchw_images(_image.float_images(inputs), self.data_format)
        low, high = self.value_range
        lo = x.amin(dim=(-2, -1), keepdim=True)
        hi = x.amax(dim=(-2, -1), keepdim=True)
        span = hi - lo
        stretched = low + (x - lo) / torch.where(span > 0, span, torch.ones_like(span)) * (high - low)
        y = torch.where(span > 0, stretched, x)
        return _image.from_nchw_images(y, self.data_format, unbatched)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(value_range=self.value_range, data_format=self.data_format)
        return config
