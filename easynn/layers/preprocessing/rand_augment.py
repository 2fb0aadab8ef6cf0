"""RandAugment: ``num_ops`` augmentations drawn at random from a fixed list, at one strength.

Example:
    >>> import torch
    >>> layer = RandAugment(value_range=(0, 1), seed=0)
    >>> layer(torch.rand(4, 8, 8, 3), training=True).shape
    torch.Size([4, 8, 8, 3])
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from easynn.layers.preprocessing.augmentation import (
    BaseRandomLayer,
    RandomRotation,
    RandomShear,
    RandomTranslation,
)
from easynn.layers.preprocessing.color import AutoContrast, RandomBrightness, RandomContrast
from easynn.layers.preprocessing.enhance import (
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)

__all__ = ["RandAugment"]


class RandAugment(BaseRandomLayer):
    """Applies ``num_ops`` operations, each picked at random from Keras's RandAugment list.

    The list: RandomShear, RandomTranslation, RandomRotation, RandomBrightness,
    RandomColorDegeneration, RandomContrast, RandomSharpness, RandomPosterization, Solarization,
    AutoContrast, Equalization; every one is built with strength ``factor`` (posterization keeps
    ``8 - round(4 * factor)`` to 7 bits). The operations are picked once per call (per batch, as
    Keras); each then draws its own random amounts per image.

    Args:
        value_range: ``(low, high)`` of the pixel values.
        num_ops: how many operations to apply in a row; 2 by default.
        factor: strength in ``[0, 1]``; 0.5 by default.
        interpolation: ``"bilinear"`` (default) or ``"nearest"`` for the geometric operations.
        seed: an int for reproducible picks and draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Call arguments:
        training: augments only when ``True``.

    Raises:
        ValueError: for ``num_ops < 0`` or ``factor`` outside ``[0, 1]``.
    """

    def __init__(self, value_range=(0, 255), num_ops: int = 2, factor: float = 0.5, interpolation: str = "bilinear",
                 seed: int | None = None, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(num_ops, bool) or not isinstance(num_ops, numbers.Integral) or num_ops < 0:
            raise ValueError(f"`num_ops` must be a non-negative integer. Received: num_ops={num_ops!r}")
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor <= 1:
            raise ValueError(f"`factor` must be a number in [0, 1]. Received: factor={factor!r}")
        self.value_range = list(value_range)
        self.num_ops = int(num_ops)
        self.factor = float(factor)
        self.interpolation = interpolation
        f, fmt, vr = self.factor, self.data_format, self.value_range

        def sub_seed(i: int) -> int | None:
            return None if seed is None else int(seed) + 1 + i

        self.ops = [
            RandomShear(f, f, interpolation=interpolation, seed=sub_seed(0), data_format=fmt),
            RandomTranslation(f, f, interpolation=interpolation, seed=sub_seed(1), data_format=fmt),
            RandomRotation(f, interpolation=interpolation, seed=sub_seed(2), data_format=fmt),
            RandomBrightness(f, value_range=vr, seed=sub_seed(3), data_format=fmt),
            RandomColorDegeneration(f, value_range=vr, seed=sub_seed(4), data_format=fmt),
            RandomContrast(f, value_range=vr, seed=sub_seed(5), data_format=fmt),
            RandomSharpness(f, value_range=vr, seed=sub_seed(6), data_format=fmt),
            RandomPosterization((max(1, 8 - round(4 * f)), 8), value_range=vr, seed=sub_seed(7), data_format=fmt),
            Solarization(f, f, value_range=vr, seed=sub_seed(8), data_format=fmt),
            AutoContrast(value_range=vr, data_format=fmt),
            Equalization(value_range=vr, data_format=fmt),
        ]

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training:
            return inputs
        x = inputs
        for _ in range(self.num_ops):
            op = self.ops[int(self._draws.integers((1,), len(self.ops) - 1)[0])]
            x = op(x, training=True) if isinstance(op, BaseRandomLayer) else op(x)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(value_range=self.value_range, num_ops=self.num_ops, factor=self.factor,
                      interpolation=self.interpolation)
        return config
