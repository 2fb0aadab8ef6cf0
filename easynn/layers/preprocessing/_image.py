"""Helpers shared by the image preprocessing layers: layouts, resizing, warping, random draws.

Images are ``(batch, height, width, channels)`` ("channels_last", Keras's default) or
``(batch, channels, height, width)``; a single image without the batch axis is accepted too.
Every helper works on an NCHW *view* (``permute``, no copy) so PyTorch's own kernels
(``F.interpolate``, ``F.grid_sample``) do the work for the whole batch at once.

Geometric augmentations are written as one affine map per sample, in pixel coordinates centred
on the image: ``source = A @ target + t``. :func:`warp` turns the ``(batch, 2, 3)`` matrices into
a sampling grid with one batched matmul and calls ``grid_sample`` once.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

__all__ = [
    "to_nchw_images", "from_nchw_images", "float_images", "check_image_rank", "resize_nchw",
    "smart_resize_nchw", "warp", "RandomDraws", "factor_range", "check_interpolation",
    "check_fill_mode", "check_value_range", "spatial_size",
]

_INTERPOLATE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}
_GRID_MODES = ("bilinear", "nearest", "bicubic")
_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def check_image_rank(layer, inputs: torch.Tensor) -> None:
    """Images must be rank 4 (a batch) or rank 3 (one image)."""
    if inputs.dim() not in (3, 4):
        raise ValueError(
            f"Layer '{layer.name}' expects images of rank 4 (batch, height, width, channels) or rank 3 "
            f"(one image), but received an input of shape {tuple(inputs.shape)}."
        )


def float_images(inputs: torch.Tensor) -> torch.Tensor:
    """Integer images (uint8) are computed in the default float dtype, as Keras casts them."""
    return inputs if inputs.is_floating_point() else inputs.to(torch.get_default_dtype())


def to_nchw_images(inputs: torch.Tensor, data_format: str) -> tuple[torch.Tensor, bool]:
    """``(x_nchw, unbatched)``: a 4-D NCHW view of ``inputs`` (a batch is added to one image)."""
    unbatched = inputs.dim() == 3
    x = inputs.unsqueeze(0) if unbatched else inputs
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)
    return x, unbatched


def from_nchw_images(x: torch.Tensor, data_format: str, unbatched: bool) -> torch.Tensor:
    """Inverse of :func:`to_nchw_images`."""
    if data_format == "channels_last":
        x = x.permute(0, 2, 3, 1)
    return x.squeeze(0) if unbatched else x


def spatial_size(input_shape, data_format: str) -> tuple[Any, Any]:
    """``(height, width)`` of an image shape (batched or not)."""
    shape = tuple(input_shape)
    if data_format == "channels_last":
        return shape[-3], shape[-2]
    return shape[-2], shape[-1]


def check_interpolation(value: Any, allowed=tuple(_INTERPOLATE_MODES)) -> str:
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    hint = ""
    if isinstance(value, str) and value.lower() in ("lanczos3", "lanczos5", "mitchellcubic", "gaussian"):
        hint = " PyTorch has no such kernel; use 'bicubic' (closest) or 'bilinear'."
    raise ValueError(
        f"`interpolation` must be one of {', '.join(repr(a) for a in allowed)}. "
        f"Received: interpolation={value!r}.{hint}"
    )


def check_fill_mode(value: Any) -> str:
    if isinstance(value, str) and value.lower() in _FILL_MODES:
        return value.lower()
    raise ValueError(
        f"`fill_mode` must be one of {', '.join(repr(a) for a in _FILL_MODES)}. Received: fill_mode={value!r}"
    )


def check_value_range(value: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not low < high:
        raise ValueError(
            f"`value_range` must be a pair (low, high) with low < high. Received: value_range={value!r}"
        )
    return low, high


def factor_range(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 symmetric: bool = True) -> tuple[float, float]:
    """Keras's ``factor`` argument: ``f`` -> ``(-f, f)`` (or ``(f, f)``); a pair -> its sorted bounds."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (-abs(float(value)), abs(float(value))) if symmetric else (float(value), float(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value
    ):
        pair = tuple(sorted((float(value[0]), float(value[1]))))  # Keras sorts the bounds
    else:
        raise ValueError(
            f"`{name}` must be a number or a tuple (lower, upper) of numbers. Received: {name}={value!r}"
        )
    if (low is not None and pair[0] < low) or (high is not None and pair[1] > high):
        raise ValueError(f"`{name}` must lie within [{low}, {high}]. Received: {name}={value!r}")
    return pair


def resize_nchw(x: torch.Tensor, size: tuple[int, int], interpolation: str, antialias: bool = False) -> torch.Tensor:
    """``F.interpolate`` with Keras's corner convention (half-pixel centres)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    mode = _INTERPOLATE_MODES[interpolation]
    kwargs: dict[str, Any] = {}
    if mode in ("bilinear", "bicubic"):
        kwargs = {"align_corners": False, "antialias": antialias}
    y = F.interpolate(x, size=tuple(size), mode=mode, **kwargs)
    return y.clamp(x.amin(), x.amax()) if mode == "bicubic" else y


def crop_box(height: int, width: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """The largest centred ``(top, left, h, w)`` window of the target aspect ratio."""
    crop_h = min(height, int(width * target_h / target_w))
    crop_w = min(width, int(height * target_w / target_h))
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def smart_resize_nchw(x: torch.Tensor, size: tuple[int, int], interpolation: str = "bilinear") -> torch.Tensor:
    """Crop the centred window of the target aspect ratio, then resize (Keras's smart_resize)."""
    top, left, h, w = crop_box(x.shape[-2], x.shape[-1], size[0], size[1])
    return resize_nchw(x[..., top:top + h, left:left + w], size, interpolation)


def _wrap_grid(grid: torch.Tensor) -> torch.Tensor:
    # Normalised coordinates (align_corners=False): the image spans [-1, 1]; wrap is a period of 2.
    return torch.remainder(grid + 1.0, 2.0) - 1.0


def warp(x: torch.Tensor, matrices: torch.Tensor, interpolation: str, fill_mode: str, fill_value: float) -> torch.Tensor:
    """Resample each image of an NCHW batch through its own affine map.

    Args:
        x: ``(N, C, H, W)`` floating images.
        matrices: ``(N, 2, 3)``; in pixel units centred on the image, the output pixel at
            ``(u, v)`` (column, row) reads the input at ``matrices[n] @ (u, v, 1)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        fill_mode: what is read outside the image: ``"reflect"`` (``d c b a | a b c d``),
            ``"wrap"``, ``"nearest"`` (edge pixel) or ``"constant"`` (``fill_value``).
        fill_value: the value of ``"constant"``.

    Returns:
        The ``(N, C, H, W)`` warped batch.
    """
    n, _, height, width = x.shape
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    ys = torch.arange(height, device=x.device, dtype=dtype) + 0.5 - height / 2
    xs = torch.arange(width, device=x.device, dtype=dtype) + 0.5 - width / 2
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    base = torch.stack([gx, gy, torch.ones_like(gx)], dim=-1).reshape(1, height * width, 3)
    source = base @ matrices.to(device=x.device, dtype=dtype).transpose(1, 2)  # (N, H*W, 2) pixels
    scale = torch.tensor([2.0 / width, 2.0 / height], device=x.device, dtype=dtype)
    grid = (source * scale).reshape(n, height, width, 2)
    padding = {"reflect": "reflection", "nearest": "border", "constant": "zeros", "wrap": "zeros"}[fill_mode]
    if fill_mode == "wrap":
        grid = _wrap_grid(grid)
    source_x = x.to(dtype)
    y = F.grid_sample(source_x, grid, mode=interpolation, padding_mode=padding, align_corners=False)
    if fill_mode == "constant" and fill_value != 0:
        # What the zero padding contributed, weighted like a pixel: 1 - (interpolated ones).
        inside = F.grid_sample(source_x.new_ones((n, 1, height, width)), grid, mode=interpolation,
                               padding_mode="zeros", align_corners=False)
        y = y + (1.0 - inside) * fill_value
    return y.to(x.dtype)


class RandomDraws:
    """Random numbers for the augmentation layers: a seeded ``torch.Generator`` or torch's global one.

    Draws are made on the CPU (a few numbers per batch) and moved to the images' device, so a seed
    gives the same augmentations on every device. Under ``torch.compile`` the global generator is
    used instead (a generator argument would break the graph).
    """

    def __init__(self, seed: int | None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self.generator = None if seed is None else torch.Generator().manual_seed(self.seed)

    def _rand(self, shape) -> torch.Tensor:
        # Inside torch.compile (fit(jit_compile=True)) a generator argument breaks the graph, so the
        # draws come from torch's global generator there (seeded by torch.manual_seed).
        if self.generator is None or torch.compiler.is_compiling():
            return torch.rand(tuple(shape))
        return torch.rand(tuple(shape), generator=self.generator)

    def uniform(self, shape, low: float, high: float, device=None) -> torch.Tensor:
        return (low + (high - low) * self._rand(shape)).to(device)

    def integers(self, shape, high: torch.Tensor | int, device=None) -> torch.Tensor:
        """Uniform integers in ``[0, high]`` (inclusive), elementwise ``high``."""
        values = self._rand(shape)
        return torch.floor(values * (torch.as_tensor(high, dtype=values.dtype) + 1)).long().to(device)
