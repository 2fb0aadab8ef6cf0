"""Batch-mixing augmentations: MixUp and CutMix.

Both pair each image with another image of the same batch (a random permutation) and mix them;
called on ``{"images": x, "labels": y}`` they mix the (one-hot, float) labels by the same amounts
and return the same dict. They act only with ``training=True``. Each sample gets its own mixing
weight (MixUp) or its own box (CutMix), drawn in one vectorised call.

Example:
    >>> import torch
    >>> x = torch.zeros(4, 2, 2, 1)
    >>> MixUp(seed=0)(x, training=False) is x
    True
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from easynn.layers.preprocessing import _image
from easynn.layers.preprocessing.augmentation import BaseRandomLayer

__all__ = ["MixUp", "CutMix"]


def _beta(draws: _image.RandomDraws, n: int, alpha: float) -> torch.Tensor:
    """``n`` draws of Beta(alpha, alpha); reproducible from the layer's generator when seeded."""
    distribution = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))
    if draws.generator is None:
        return distribution.sample((n,))
    seed = int(torch.randint(0, 2**62, (1,), generator=draws.generator))
    with torch.random.fork_rng(devices=[]):  # torch's samplers take no generator: seed a private stream
        torch.manual_seed(seed)
        return distribution.sample((n,))


def _positive_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


class _MixingLayer(BaseRandomLayer):
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if isinstance(inputs, dict):
            if "images" not in inputs:
                raise ValueError(f"Layer '{self.name}' expects a dict with an 'images' key. Received keys: {list(inputs)}")
            images, labels = inputs["images"], inputs.get("labels")
        else:
            images, labels = inputs, None
        if not training:
            return inputs
        if not isinstance(images, torch.Tensor):
            images = torch.as_tensor(images)
        _image.check_image_rank(self, images)
        x, unbatched = _image.to_nchw_images(_image.float_images(images), self.data_format)
        n = x.shape[0]
        order = torch.randperm(n, generator=self._draws.generator).to(x.device)
        mixed, kept = self.mix(x, order)  # kept: (n,) fraction of each image that stays its own
        out_images = _image.from_nchw_images(mixed, self.data_format, unbatched)
        if not isinstance(inputs, dict):
            return out_images
        result = dict(inputs)
        result["images"] = out_images
        if labels is not None:
            labels = torch.as_tensor(labels, device=x.device)
            labels = labels if labels.is_floating_point() else labels.to(x.dtype)
            weight = kept.to(labels.dtype).reshape(n, *(1,) * (labels.dim() - 1))
            result["labels"] = weight * labels + (1.0 - weight) * labels[order]
        return result

    def mix(self, x: torch.Tensor, order: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape


class MixUp(_MixingLayer):
    """Mixes each image with another image of the batch: ``out = w * x + (1 - w) * x[perm]``.

    ``w ~ Beta(alpha, alpha)``, one per sample; labels (when given in a dict) are mixed the same way.

    Args:
        alpha: the Beta distribution's parameter; 0.2 by default (mostly small mixes).
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: images, or ``{"images": images, "labels": one_hot_labels}``.
        training: mixes only when ``True``.

    Example:
        >>> import torch
        >>> out = MixUp(seed=1)({"images": torch.rand(4, 2, 2, 3), "labels": torch.eye(4)}, training=True)
        >>> torch.allclose(out["labels"].sum(dim=1), torch.ones(4))
        True
    """

    def __init__(self, alpha: float = 0.2, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = _positive_number("alpha", alpha)

    def mix(self, x: torch.Tensor, order: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weight = _beta(self._draws, x.shape[0], self.alpha).to(device=x.device, dtype=x.dtype)
        w = weight.reshape(-1, 1, 1, 1)
        return w * x + (1.0 - w) * x[order], weight

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class CutMix(_MixingLayer):
    """Pastes a random box of another image of the batch into each image.

    Per sample: ``lam ~ Beta(factor, factor)``; a box of side ``sqrt(1 - lam)`` times the image's,
    centred at a uniform random pixel and clipped to the image, is copied from ``x[perm]``. Labels
    (when given in a dict) are mixed by the area actually kept.

    Args:
        factor: the Beta distribution's parameter; 1.0 by default (uniform box areas).
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> CutMix(seed=0)(torch.rand(4, 8, 8, 3), training=True).shape
        torch.Size([4, 8, 8, 3])
    """

    def __init__(self, factor: float = 1.0, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _positive_number("factor", factor)

    def mix(self, x: torch.Tensor, order: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, _, height, width = x.shape
        lam = _beta(self._draws, n, self.factor)
        ratio = torch.sqrt(1.0 - lam)
        cut_h, cut_w = (ratio * height).long(), (ratio * width).long()
        center_y = self._draws.integers((n,), height - 1)
        center_x = self._draws.integers((n,), width - 1)
        top, bottom = (center_y - cut_h // 2).clamp(0, height), (center_y + cut_h // 2).clamp(0, height)
        left, right = (center_x - cut_w // 2).clamp(0, width), (center_x + cut_w // 2).clamp(0, width)
        rows = torch.arange(height)[None, :]
        cols = torch.arange(width)[None, :]
        inside_rows = (rows >= top[:, None]) & (rows < bottom[:, None])  # (n, H)
        inside_cols = (cols >= left[:, None]) & (cols < right[:, None])  # (n, W)
        box = (inside_rows[:, :, None] & inside_cols[:, None, :]).to(x.device)[:, None]  # (n, 1, H, W)
        area = ((bottom - top) * (right - left)).to(torch.float32) / (height * width)
        return torch.where(box, x[order], x), (1.0 - area).to(x.device)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config
