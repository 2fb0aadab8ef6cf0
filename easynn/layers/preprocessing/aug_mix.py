"""AugMix (Hendrycks et al., 2020): a mix of several randomly augmented copies of the images, as Keras 3.

Formula (Keras's ``AugMix``; one draw per batch, as Keras):

    w ~ Dirichlet(alpha, ..., alpha)             num_chains mixing weights
    m ~ Beta(alpha, alpha)                        the weight of the original images
    chain_i = op_i,k( ... op_i,1(x))              up to chain_depth ops, each picked uniformly from the
                                                  op list plus "none" (so a chain may be shorter)
    out = clip(m * x + (1 - m) * sum_i w_i * chain_i,  value_range)

The ops are Keras's, all at strength ``factor`` (a number ``f`` means the range ``(0, f)``):
RandomShear, RandomTranslation, RandomRotation, RandomPosterization (``max(1, int(8 * f))``),
Solarization, AutoContrast, Equalization, and with ``all_ops`` also RandomBrightness,
RandomColorDegeneration, RandomContrast and RandomSharpness. Each op draws its own random amounts
per image. The layer acts only with ``training=True`` (inside ``fit``), as easynn's other random
image layers; Keras's also augments when called without ``training``.

Example:
    >>> import torch
    >>> layer = AugMix(value_range=(0, 1), seed=0)
    >>> x = torch.rand(4, 8, 8, 3)
    >>> layer(x, training=True).shape, torch.equal(layer(x), x)
    (torch.Size([4, 8, 8, 3]), True)
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from easynn import _validation
from easynn.layers.preprocessing import _image
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

__all__ = ["AugMix"]


def _factor_pair(factor: Any) -> tuple[float, float]:
    """Keras's AugMix ``factor``: ``f`` in [0, 1] -> ``(0, f)``; a pair within [0, 1] -> sorted."""
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        pair = (0.0, float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in factor):
        pair = tuple(sorted(float(v) for v in factor))
    else:
        pair = (-1.0, -1.0)
    if not (0.0 <= pair[0] and pair[1] <= 1.0):
        raise ValueError(f"The `factor` argument should be a number (or a list of two numbers) in the range [0, 1]. "
                         f"Received: factor={factor!r}")
    return pair


class AugMix(BaseRandomLayer):
    """Mixes ``num_chains`` randomly augmented copies of the batch with the batch itself (AugMix).

    See the module docstring for the formula and the list of operations.

    Args:
        value_range: ``(low, high)`` of the pixel values; ``(0, 255)`` by default.
        num_chains: number of augmented copies mixed; 3.
        chain_depth: the most operations in a chain; 3 (each of the ``chain_depth`` slots picks
            an operation or nothing).
        factor: strength of the operations in ``[0, 1]``; ``f`` means ``(0, f)``, or a pair. 0.3.
        alpha: the Dirichlet and Beta concentration (> 0); 1.0.
        all_ops: also use RandomBrightness, RandomColorDegeneration, RandomContrast and
            RandomSharpness; True.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the geometric operations.
        seed: an int for reproducible picks, mixing weights and operation draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: images ``(batch, height, width, channels)`` (or one image without the batch axis,
            or channels first); integer images are computed as floats.
        training: augments only when ``True``.

    Shape:
        The input's shape.

    Returns:
        The mixed images (floating point), clipped to ``value_range``; the inputs unchanged when
        not training.

    Raises:
        ValueError: for a ``num_chains`` that is not a positive integer, a negative or non-integer
            ``chain_depth``, a ``factor`` outside ``[0, 1]``, a non-positive ``alpha``, a bad
            ``value_range`` or ``interpolation``, or images that are not rank 3 or 4.
        TypeError: for an ``all_ops`` that is not a bool.

    Example:
        >>> import torch
        >>> layer = AugMix(value_range=(0, 255), num_chains=2, chain_depth=2, seed=1)
        >>> out = layer(torch.full((2, 6, 6, 3), 100.0), training=True)
        >>> out.shape, bool(out.min() >= 0) and bool(out.max() <= 255)
        (torch.Size([2, 6, 6, 3]), True)
    """

    def __init__(self, value_range=(0, 255), num_chains: int = 3, chain_depth: int = 3, factor: Any = 0.3,
                 alpha: float = 1.0, all_ops: bool = True, interpolation: str = "bilinear", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = list(_image.check_value_range(value_range))
        self.num_chains = _validation.positive_int("num_chains", num_chains)
        self.chain_depth = _validation.non_negative_int("chain_depth", chain_depth)
        self._factor = _factor_pair(factor)
        self.factor = factor if isinstance(factor, numbers.Real) else list(factor)
        self.alpha = _validation.positive_float("alpha", alpha)
        if not isinstance(all_ops, bool):
            raise TypeError(f"`all_ops` must be a bool. Received: all_ops={all_ops!r}")
        self.all_ops = all_ops
        self.interpolation = _image.check_interpolation(interpolation, ("bilinear", "nearest"))
        f, vr, fmt = list(self._factor), self.value_range, "channels_first"  # the ops see augment()'s NCHW batch

        def sub_seed(i: int) -> int | None:
            return None if seed is None else int(seed) + 1 + i

        ops = [
            RandomShear(f, f, interpolation=self.interpolation, seed=sub_seed(0), data_format=fmt),
            RandomTranslation(f, f, interpolation=self.interpolation, seed=sub_seed(1), data_format=fmt),
            RandomRotation(f, interpolation=self.interpolation, seed=sub_seed(2), data_format=fmt),
            RandomPosterization(max(1, int(8 * self._factor[1])), value_range=vr, seed=sub_seed(3), data_format=fmt),
            Solarization(f, f, value_range=vr, seed=sub_seed(4), data_format=fmt),
            AutoContrast(value_range=vr, data_format=fmt),
            Equalization(value_range=vr, data_format=fmt),
        ]
        if all_ops:
            ops += [
                RandomBrightness(f, value_range=vr, seed=sub_seed(5), data_format=fmt),
                RandomColorDegeneration(f, value_range=vr, seed=sub_seed(6), data_format=fmt),
                RandomContrast(f, value_range=vr, seed=sub_seed(7), data_format=fmt),
                RandomSharpness(f, value_range=vr, seed=sub_seed(8), data_format=fmt),
            ]
        self.ops = ops  # a plain list: the ops have no weights and are not saved (rebuilt from the config)

    def _mixing_weights(self) -> tuple[np.ndarray, float]:
        """``(chain weights ~ Dirichlet(alpha), original's weight ~ Beta(alpha, alpha))`` for this batch."""
        rng = np.random.default_rng(int(self._draws.integers((1,), 2**31 - 2)[0]))
        return rng.dirichlet([self.alpha] * self.num_chains), float(rng.beta(self.alpha, self.alpha))

    def _chains(self) -> list[list[Any]]:
        """The ops of each chain: ``chain_depth`` picks each, among the ops and "none"."""
        picks = self._draws.integers((self.num_chains, self.chain_depth), len(self.ops)).tolist()
        return [[self.ops[i] for i in row if i < len(self.ops)] for row in picks]

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        chain_weights, original_weight = self._mixing_weights()
        mixed = torch.zeros_like(x)
        for weight, chain in zip(chain_weights.tolist(), self._chains()):
            y = x
            for op in chain:
                y = op(y, training=True) if isinstance(op, BaseRandomLayer) else op(y)
            mixed = mixed + weight * y
        out = original_weight * x + (1.0 - original_weight) * mixed
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(value_range=self.value_range, num_chains=self.num_chains, chain_depth=self.chain_depth,
                      factor=self.factor, alpha=self.alpha, all_ops=self.all_ops, interpolation=self.interpolation)
        return config
