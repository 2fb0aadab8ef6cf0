"""Colour augmentation in HSV space: RandomHue, RandomSaturation, and RandomColorJitter.

Like the other random layers they act only with ``training=True`` and draw one value per image,
vectorised over the batch. ``value_range`` gives the pixel range (``(0, 255)`` by default): the
images are mapped to ``[0, 1]``, converted to HSV with :func:`easynn.ops.image.rgb_to_hsv` (one
batched call), changed, converted back, clipped and mapped back. Half-precision images are
computed in float32 and returned in their own dtype.

Example:
    >>> import torch
    >>> red = torch.tensor([[[[255.0, 0.0, 0.0]]]])
    >>> RandomHue((1.0, 1.0))(red, training=True)  # half a turn: red -> cyan
    tensor([[[[  0., 255., 255.]]]])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.preprocessing import _image
from easynn.layers.preprocessing.augmentation import BaseRandomLayer
from easynn.layers.preprocessing.color import RandomBrightness, RandomContrast
from easynn.layers.preprocessing.enhance import _unit_range
from easynn.ops import image as image_ops

__all__ = ["RandomHue", "RandomSaturation", "RandomColorJitter"]


def _check_rgb(layer, x: torch.Tensor) -> None:
    if x.shape[1] != 3:
        raise ValueError(
            f"Layer '{layer.name}' expects RGB images with 3 channels, but received {x.shape[1]} channels."
        )


def _to_hsv(x: torch.Tensor, value_range) -> torch.Tensor:
    """NCHW images in ``value_range`` -> NCHW HSV in ``[0, 1]`` (float32 at least)."""
    low, high = value_range
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    return image_ops.rgb_to_hsv((work - low) / (high - low), data_format="channels_first")


def _from_hsv(hsv: torch.Tensor, value_range, dtype: torch.dtype) -> torch.Tensor:
    low, high = value_range
    rgb = image_ops.hsv_to_rgb(hsv, data_format="channels_first").clamp(0.0, 1.0)
    return (rgb * (high - low) + low).to(dtype)


class _HSVLayer(BaseRandomLayer):
    def __init__(
        self, factor: Any, value_range=(0, 255), data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._range = _unit_range("factor", factor)
        self.factor = factor if isinstance(factor, (int, float)) else list(factor)
        self.value_range = list(_image.check_value_range(value_range))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config


class RandomHue(_HSVLayer):
    """Rotates the hue of each RGB image by its own random amount.

    Formula: ``h' = (h + d) mod 1`` in HSV (hue as a fraction of a turn), with
    ``d = s * f / 2``, ``f ~ uniform(lower, upper)`` and a random sign ``s = +-1`` per image, as
    Keras: ``factor=0`` is the identity and ``factor=1`` turns by up to half a turn.

    Args:
        factor: ``f`` means ``[0, f]``; ``(lower, upper)`` a range; within ``[0, 1]``.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Call arguments:
        training: changes the hue only when ``True``.

    Raises:
        ValueError: for a factor outside ``[0, 1]`` or images without 3 channels.

    Example:
        >>> import torch
        >>> RandomHue(0.5, value_range=(0, 1))(torch.rand(2, 4, 4, 3), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        _check_rgb(self, x)
        n = x.shape[0]
        sign = torch.where(self._draws.uniform((n,), 0.0, 1.0) > 0.5, -1.0, 1.0)
        delta = (sign * self._draws.uniform((n,), *self._range) * 0.5).to(x.device)
        hsv = _to_hsv(x, self.value_range)
        hue = torch.remainder(hsv[:, 0] + delta.to(hsv.dtype)[:, None, None], 1.0)
        return _from_hsv(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1), self.value_range, x.dtype)


class RandomSaturation(_HSVLayer):
    """Scales the saturation of each RGB image by its own random amount.

    Formula: ``s' = clip(s * f / (1 - f), 0, 1)`` in HSV with ``f ~ uniform(lower, upper)``:
    ``f = 0`` gives grayscale (``R = G = B = max(R, G, B)``), ``f = 0.5`` the original image and
    ``f = 1`` full saturation (Keras's convention).

    Args:
        factor: ``f`` means ``[0, f]``; ``(lower, upper)`` a range; within ``[0, 1]``. Use
            ``(0.5, 0.5)`` for no change.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for a factor outside ``[0, 1]`` or images without 3 channels.

    Example:
        >>> import torch
        >>> RandomSaturation((0.0, 0.0))(torch.tensor([[[[200.0, 100.0, 50.0]]]]), training=True)
        tensor([[[[200., 200., 200.]]]])
    """

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        _check_rgb(self, x)
        f = self._draws.uniform((x.shape[0],), *self._range).double()
        # f / (1 - f), with f = 1 giving a huge gain (full saturation) instead of a division by zero.
        gain = (f / (1.0 - f).clamp_min(1e-7)).to(x.device)
        hsv = _to_hsv(x, self.value_range)
        saturation = (hsv[:, 1] * gain.to(hsv.dtype)[:, None, None]).clamp(0.0, 1.0)
        return _from_hsv(torch.stack([hsv[:, 0], saturation, hsv[:, 2]], dim=1), self.value_range, x.dtype)


class RandomColorJitter(BaseRandomLayer):
    """Random brightness, contrast, saturation and hue, applied in that order (each optional).

    Each factor left ``None`` skips its step; the others behave exactly like
    :class:`~easynn.layers.RandomBrightness`, :class:`~easynn.layers.RandomContrast`,
    :class:`RandomSaturation` and :class:`RandomHue` with the same factor and ``value_range``,
    each drawing its own amount per image.

    Args:
        value_range: ``(low, high)`` of the pixel values; ``(0, 255)`` by default.
        brightness_factor: as RandomBrightness's ``factor`` (``f`` means ``[-f, f]``, within ``[-1, 1]``).
        contrast_factor: as RandomContrast's ``factor`` (contrast in ``[1 - lower, 1 + upper]``).
        saturation_factor: as RandomSaturation's ``factor`` (``0.5`` is no change).
        hue_factor: as RandomHue's ``factor`` (``0`` is no change).
        seed: an int for reproducible draws (each step gets its own seed derived from it).
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for a bad factor (the message names it) or ``value_range``.

    Example:
        >>> import torch
        >>> jitter = RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=0)
        >>> jitter(torch.full((2, 4, 4, 3), 128.0), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    def __init__(
        self,
        value_range=(0, 255),
        brightness_factor: Any = None,
        contrast_factor: Any = None,
        saturation_factor: Any = None,
        hue_factor: Any = None,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = list(_image.check_value_range(value_range))
        self.brightness_factor = _stored(brightness_factor)
        self.contrast_factor = _stored(contrast_factor)
        self.saturation_factor = _stored(saturation_factor)
        self.hue_factor = _stored(hue_factor)
        steps = [
            (RandomBrightness, "brightness_factor", brightness_factor),
            (RandomContrast, "contrast_factor", contrast_factor),
            (RandomSaturation, "saturation_factor", saturation_factor),
            (RandomHue, "hue_factor", hue_factor),
        ]
        # A plain list (not registered sub-modules): the steps hold no weights and are rebuilt from
        # this layer's config. Each gets its own seed so that the four draws are independent.
        self._steps = []
        for i, (cls, name, factor) in enumerate(steps):
            if factor is None:
                continue
            step_seed = None if self.seed is None else self.seed + 1 + i
            try:
                step = cls(factor, value_range=self.value_range, seed=step_seed, data_format=self.data_format)
            except ValueError as error:
                raise ValueError(str(error).replace("factor", name)) from None
            self._steps.append(step)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        for step in self._steps:
            x = step.augment(x)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            value_range=self.value_range,
            brightness_factor=self.brightness_factor,
            contrast_factor=self.contrast_factor,
            saturation_factor=self.saturation_factor,
            hue_factor=self.hue_factor,
        )
        return config


def _stored(factor: Any) -> Any:
    """A factor as it goes into the config: a number, ``None``, or a list."""
    return factor if factor is None or isinstance(factor, (int, float)) else list(factor)
