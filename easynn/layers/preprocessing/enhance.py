"""More Keras 3 colour augmentations: sharpness, solarization, posterization, colour degeneration.

Like the other random layers they act only with ``training=True``, draw one value per image
(vectorised over the batch) and take ``value_range`` (``(0, 255)`` by default) for the pixels.

Example:
    >>> import torch
    >>> layer = Solarization(value_range=(0, 255))
    >>> layer(torch.tensor([[[[59.0, 62.0, 63.0]]]]), training=True)  # no threshold: every pixel flips
    tensor([[[[196., 193., 192.]]]])
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.base import Layer
from easynn.layers.conv import normalize_data_format
from easynn.layers.preprocessing import _image
from easynn.layers.preprocessing.augmentation import BaseRandomLayer
from easynn.layers.preprocessing.color import _GRAY_WEIGHTS

__all__ = ["RandomSharpness", "Solarization", "RandomPosterization", "RandomColorDegeneration", "Equalization",
           "RandomErasing"]


def _unit_range(name: str, value: Any) -> tuple[float, float]:
    """A factor in [0, 1]: ``f`` -> ``(0, f)``; a pair -> its sorted bounds."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (0.0, float(value))
    else:
        pair = _image.factor_range(name, value)
    if not (0.0 <= pair[0] and pair[1] <= 1.0):
        raise ValueError(f"`{name}` must be a number (or a pair of numbers) in [0, 1]. Received: {name}={value!r}")
    return pair


def _to_255(x: torch.Tensor, value_range) -> torch.Tensor:
    low, high = value_range
    return x if (low, high) == (0.0, 255.0) else (x - low) * (255.0 / (high - low))


def _from_255(x: torch.Tensor, value_range) -> torch.Tensor:
    low, high = value_range
    return x if (low, high) == (0.0, 255.0) else x * ((high - low) / 255.0) + low


class _ColorLayer(BaseRandomLayer):
    def __init__(self, factor: Any, value_range=(0, 255), data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else list(factor)
        self.value_range = list(_image.check_value_range(value_range))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config


class RandomSharpness(_ColorLayer):
    """Blurs or sharpens each image by its own random amount.

    Formula: ``out = clip(x + (1 - 2 f) * (blur(x) - x))`` with ``f ~ uniform(lower, upper)`` and
    ``blur`` the 3x3 smoothing kernel ``[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13`` (zero padding):
    ``f = 0`` is fully blurred, ``0.5`` the original, ``1`` twice as sharp.

    Args:
        factor: ``f`` means ``[0, f]``; ``(lower, upper)`` a range; within ``[0, 1]``.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> x = torch.full((1, 3, 3, 1), 10.0)
        >>> RandomSharpness((0.5, 0.5))(x, training=True).flatten()  # 0.5: unchanged
        tensor([10., 10., 10., 10., 10., 10., 10., 10., 10.])
    """

    def __init__(self, factor: Any, value_range=(0, 255), data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self._range = _unit_range("factor", factor)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        kernel = torch.ones(3, 3, dtype=x.dtype, device=x.device)
        kernel[1, 1] = 5.0
        kernel = (kernel / 13.0).expand(c, 1, 3, 3)
        blurred = F.conv2d(x, kernel, padding=1, groups=c)
        f = self._draws.uniform((n, 1, 1, 1), *self._range, x.device).to(x.dtype)
        return (x + (1.0 - 2.0 * f) * (blurred - x)).clamp(*self.value_range)


class Solarization(BaseRandomLayer):
    """Inverts every pixel above a random threshold, after adding a random brightness.

    Formula (in ``[0, 255]``): ``y = clip(x + a, 0, 255)``; ``out = y if y < t else 255 - y``, with
    ``a ~ 255 * uniform(addition_factor)`` and ``t ~ 255 * uniform(threshold_factor)`` per image.

    Args:
        addition_factor: ``f`` means ``[0, f]``; or a pair; within ``[0, 1]``. 0 by default.
        threshold_factor: the same for the threshold; 0 by default (every pixel inverted).
        value_range: ``(low, high)`` of the pixel values.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments (``data_format`` included).

    Example:
        >>> import torch
        >>> Solarization(threshold_factor=(0.5, 0.5), value_range=(0, 1))(
        ...     torch.tensor([[[[0.25, 0.75]]]]), training=True)
        tensor([[[[0.2500, 0.2500]]]])
    """

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0, value_range=(0, 255),
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = list(_unit_range("addition_factor", addition_factor))
        self.threshold_factor = list(_unit_range("threshold_factor", threshold_factor))
        self.value_range = list(_image.check_value_range(value_range))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        add = self._draws.uniform((n, 1, 1, 1), *self.addition_factor, x.device).to(x.dtype) * 255.0
        threshold = self._draws.uniform((n, 1, 1, 1), *self.threshold_factor, x.device).to(x.dtype) * 255.0
        y = (_to_255(x, self.value_range) + add).clamp(0.0, 255.0)
        return _from_255(torch.where(y < threshold, y, 255.0 - y), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(addition_factor=self.addition_factor, threshold_factor=self.threshold_factor,
                      value_range=self.value_range)
        return config


class RandomPosterization(_ColorLayer):
    """Keeps only the top ``bits`` bits of each 8-bit channel value.

    Formula (in ``[0, 255]``): ``out = (floor(x) >> (8 - bits)) << (8 - bits)``; ``bits`` is
    drawn per image in ``[lower, upper)`` as Keras does (exactly ``bits`` when both bounds agree).

    Args:
        factor: an int ``b`` (bits in ``[1, b)``; ``1`` keeps 1 bit) or a pair ``(lower, upper)``,
            within ``[1, 8]``.
        value_range: ``(low, high)`` of the pixel values.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomPosterization((2, 2))(torch.tensor([[[[200.0, 100.0]]]]), training=True)
        tensor([[[[192.,  64.]]]])
    """

    def __init__(self, factor: Any, value_range=(0, 255), data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        if isinstance(factor, numbers.Integral) and not isinstance(factor, bool):
            bounds = (1, int(factor))
        elif isinstance(factor, (tuple, list)) and len(factor) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in factor
        ):
            bounds = tuple(sorted(int(v) for v in factor))
        else:
            bounds = (0, 0)
        if not (1 <= bounds[0] and bounds[1] <= 8):
            raise ValueError(f"`factor` must be an integer (or a pair of integers) in [1, 8]. Received: factor={factor!r}")
        self._bounds = bounds

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        low, high = self._bounds
        if low == high:
            bits = torch.full((n,), low, dtype=torch.long)
        else:
            bits = low + self._draws.integers((n,), high - low - 1)
        step = (2.0 ** (8 - bits)).to(device=x.device, dtype=x.dtype).reshape(n, 1, 1, 1)
        pixels = _to_255(x, self.value_range).clamp(0.0, 255.0).floor()
        return _from_255(torch.floor(pixels / step) * step, self.value_range)


class RandomColorDegeneration(_ColorLayer):
    """Blends each image towards its grayscale version by a random amount.

    Formula: ``out = clip(x + f * (gray(x) - x))``, ``f ~ uniform(lower, upper)``, with
    ``gray = 0.2989 R + 0.5870 G + 0.1140 B``.

    Args:
        factor: ``f`` means ``[0, f]``; or a pair; within ``[0, 1]``.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RandomColorDegeneration((1.0, 1.0))(torch.tensor([[[[255.0, 0.0, 0.0]]]]), training=True)
        tensor([[[[76.2195, 76.2195, 76.2195]]]])
    """

    def __init__(self, factor: Any, value_range=(0, 255), data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self._range = _unit_range("factor", factor)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 3:
            raise ValueError(
                f"Layer '{self.name}' expects RGB images with 3 channels, but received {x.shape[1]} channels."
            )
        weights = torch.tensor(_GRAY_WEIGHTS, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
        gray = (x * weights).sum(dim=1, keepdim=True)
        f = self._draws.uniform((x.shape[0], 1, 1, 1), *self._range, x.device).to(x.dtype)
        return (x + f * (gray - x)).clamp(*self.value_range)


def equalize_nchw(x: torch.Tensor, value_range, bins: int = 256) -> torch.Tensor:
    """Histogram equalization of every channel of every image at once (PIL's rule).

    Per channel: ``hist`` of the pixel values in ``bins`` bins; ``step = (count - count of the
    last non-empty bin) // (bins - 1)``; ``lut = (cumsum(hist) + step // 2) // step`` shifted one bin
    right (starting at 0); pixels map through ``lut``. A channel with ``step == 0`` is unchanged.
    """
    n, c, height, width = x.shape
    scaled = (_to_255(x, value_range) * ((bins - 1) / 255.0)).clamp(0, bins - 1)
    index = scaled.to(torch.long).reshape(n * c, height * width)
    hist = torch.zeros(n * c, bins, dtype=torch.long, device=x.device).scatter_add_(1, index, torch.ones_like(index))
    last = hist.gather(1, index.amax(dim=1, keepdim=True))  # the count of the brightest value present
    step = (height * width - last) // (bins - 1)
    safe = step.clamp_min(1)
    lut = (hist.cumsum(dim=1) + safe // 2) // safe
    lut = torch.cat([torch.zeros_like(lut[:, :1]), lut[:, :-1]], dim=1).clamp(0, bins - 1)
    mapped = lut.gather(1, index).to(x.dtype) * (255.0 / (bins - 1))
    out = torch.where(step > 0, mapped, _to_255(x, value_range).reshape(n * c, -1))
    return _from_255(out.reshape(n, c, height, width), value_range)


class Equalization(Layer):
    """Equalizes the histogram of each channel of each image (deterministic, also at inference).

    Formula: see :func:`equalize_nchw` (PIL's ``ImageOps.equalize`` on ``bins`` levels).

    Args:
        value_range: ``(low, high)`` of the pixel values.
        bins: number of histogram bins; 256 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> Equalization(value_range=(0, 3), bins=4)(torch.tensor([[[[0.0], [0.0], [1.0], [2.0]]]])).flatten()
        tensor([0., 0., 2., 3.])
    """

    def __init__(self, value_range=(0, 255), bins: int = 256, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_range = list(_image.check_value_range(value_range))
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ValueError(f"`bins` must be an integer >= 2. Received: bins={bins!r}")
        self.bins = bins
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        _image.check_image_rank(self, inputs)
        x, unbatched = _image.to_nchw_images(_image.float_images(inputs), self.data_format)
        y = equalize_nchw(x, self.value_range, self.bins)
        return _image.from_nchw_images(y, self.data_format, unbatched)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(value_range=self.value_range, bins=self.bins, data_format=self.data_format)
        return config


class RandomErasing(BaseRandomLayer):
    """Erases a random rectangle of each image (Random Erasing), with probability drawn from ``factor``.

    Per image: ``(a, b) ~ uniform(scale)``; the patch is ``sqrt(a) * width`` wide and
    ``sqrt(b) * height`` high at a uniform position; it is filled with ``fill_value`` (or, with
    ``None``, Gaussian noise times ``value_range[1]``), clipped to ``value_range``; the image is
    erased when ``uniform(0, 1) < p`` with ``p ~ uniform(factor)``.

    Args:
        factor: ``f`` means ``p`` in ``[0, f]``; or a pair; within ``[0, 1]``. 1.0 by default.
        scale: ``(low, high)`` within ``[0, 1]``; ``(0.02, 0.33)`` by default.
        fill_value: a number, one number per channel, or ``None`` (noise, the default).
        value_range: ``(low, high)`` of the pixel values.
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> out = RandomErasing(scale=(0.25, 0.25), fill_value=0.0, seed=0)(torch.ones(1, 4, 4, 1), training=True)
        >>> int((out == 0).sum())  # a 2x2 patch
        4
    """

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: Any = None, value_range=(0, 255),
                 seed: int | None = None, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._range = _unit_range("factor", factor)
        self.factor = factor if isinstance(factor, (int, float)) else list(factor)
        self.scale = list(_unit_range("scale", scale))
        if fill_value is not None and not isinstance(fill_value, (int, float)) and not (
            isinstance(fill_value, (tuple, list)) and all(isinstance(v, (int, float)) for v in fill_value)
        ):
            raise ValueError(
                f"`fill_value` must be None, a number or one number per channel. Received: fill_value={fill_value!r}"
            )
        self.fill_value = list(fill_value) if isinstance(fill_value, (tuple, list)) else fill_value
        self.value_range = list(_image.check_value_range(value_range))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, c, height, width = x.shape
        sides = torch.sqrt(self._draws.uniform((n, 2), *self.scale))
        length_x, length_y = sides[:, 0] * width, sides[:, 1] * height
        x0 = self._draws.uniform((n,), 0.0, 1.0) * (width - length_x)
        y0 = self._draws.uniform((n,), 0.0, 1.0) * (height - length_y)
        cols = torch.arange(width, dtype=x0.dtype)[None, :]
        rows = torch.arange(height, dtype=y0.dtype)[None, :]
        in_x = (cols >= x0[:, None]) & (cols < (x0 + length_x)[:, None])  # (n, W)
        in_y = (rows >= y0[:, None]) & (rows < (y0 + length_y)[:, None])  # (n, H)
        erase = self._draws.uniform((n,), 0.0, 1.0) < self._draws.uniform((n,), *self._range)
        mask = (in_y[:, :, None] & in_x[:, None, :] & erase[:, None, None])[:, None].to(x.device)
        if self.fill_value is None:
            noise = torch.randn(x.shape, generator=self._draws.generator) if self._draws.generator is not None \
                else torch.randn(x.shape)
            fill = noise.to(device=x.device, dtype=x.dtype) * self.value_range[1]
        else:
            fill = torch.as_tensor(self.fill_value, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
        fill = fill.clamp(*self.value_range)
        return torch.where(mask, fill.expand_as(x), x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, scale=self.scale, fill_value=self.fill_value, value_range=self.value_range)
        return config
