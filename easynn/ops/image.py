"""The image family of ``keras.ops`` (``keras.ops.image``): resizing, patches, colour spaces, padding
and cropping here; geometric transforms (``map_coordinates``, ``affine_transform``,
``perspective_transform``, ``elastic_transform``, ``scale_and_translate``) in ``image_geometry``, filters (``gaussian_blur``,
``sobel_edges``, ``ssim``) in ``image_filters`` and volume patches / patch reassembly in
``image_patches``, all re-exported as ``image.xxx``.

Images are ``(height, width, channels)`` or ``(batch, height, width, channels)`` by default
(``data_format="channels_first"`` or ``easynn.config.set_image_data_format`` for the other
layout). Integer images are computed in ``floatx()`` and returned as floats.

Example:
    >>> import torch
    >>> from easynn.ops import image
    >>> image.resize(torch.ones(1, 4, 4, 3), (2, 2)).shape
    torch.Size([1, 2, 2, 3])
    >>> image.rgb_to_grayscale(torch.ones(2, 2, 3)).shape
    torch.Size([2, 2, 1])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.ops._dispatch import op
from easynn.ops._image_layout import _batched_first, _restore

# geometric transforms and filters live in their own modules; they are keras.ops.image.xxx too
from easynn.ops.image_filters import gaussian_blur, sobel_edges, ssim
from easynn.ops.image_geometry import (
    affine_transform,
    elastic_transform,
    map_coordinates,
    perspective_transform,
    scale_and_translate,
)
from easynn.ops.image_patches import extract_patches_3d, reconstruct_patches, reconstruct_patches_3d

Tensor = torch.Tensor

__all__ = ["resize", "affine_transform", "map_coordinates", "extract_patches", "rgb_to_grayscale", "rgb_to_hsv",
           "hsv_to_rgb", "pad_images", "crop_images", "gaussian_blur", "sobel_edges", "perspective_transform", "extract_patches_3d",
           "reconstruct_patches", "reconstruct_patches_3d", "ssim", "elastic_transform",
           "scale_and_translate"]

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}


@op
def resize(images: Any, size: Any, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> Tensor:
    """Resize images to ``size = (height, width)``.

    Args:
        images: 3-D or 4-D images.
        size: the output ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"`` or ``"area"`` (pixel centres
            at half-integers, i.e. ``align_corners=False``; nearest rounds half-pixel centres).
        antialias: low-pass filter when downsampling (bilinear/bicubic).
        crop_to_aspect_ratio: first crop the largest centred window with the output's aspect ratio.
        pad_to_aspect_ratio: first pad (with ``fill_value``) to the output's aspect ratio, centred.
        fill_mode: only ``"constant"``.
        fill_value: the padding value.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Raises:
        ValueError: for an unknown interpolation, a bad size, or both aspect-ratio options.
        NotImplementedError: for Keras's ``"lanczos3"``/``"lanczos5"``.
    """
    if interpolation in ("lanczos3", "lanczos5"):
        raise NotImplementedError(f"resize(): interpolation={interpolation!r} is not implemented in easynn.")
    if interpolation not in _MODES:
        raise ValueError(f"resize(): `interpolation` must be one of {sorted(_MODES)}. Received: interpolation={interpolation!r}")
    if not isinstance(size, (list, tuple)) or len(size) != 2 or not all(int(s) > 0 for s in size):
        raise ValueError(f"resize(): `size` must be (height, width) with positive ints. Received: size={size!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize(): only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True.")
    if fill_mode != "constant":
        raise ValueError(f"resize(): `fill_mode` must be 'constant'. Received: fill_mode={fill_mode!r}")
    height, width = int(size[0]), int(size[1])
    x, single, fmt = _batched_first("resize", images, data_format)
    in_h, in_w = x.shape[-2], x.shape[-1]
    if crop_to_aspect_ratio:
        crop_h = max(min(in_h, int(in_w * height / width)), 1)
        crop_w = max(min(in_w, int(in_h * width / height)), 1)
        top, left = int((in_h - crop_h) / 2), int((in_w - crop_w) / 2)
        x = x[..., top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        pad_h = max(in_h, int(in_w * height / width))
        pad_w = max(in_w, int(in_h * width / height))
        top, left = int((pad_h - in_h) / 2), int((pad_w - in_w) / 2)
        x = F.pad(x, (left, pad_w - in_w - left, top, pad_h - in_h - top), value=float(fill_value))
    mode = _MODES[interpolation]
    kwargs: dict = {}
    if mode in ("bilinear", "bicubic"):
        kwargs = {"align_corners": False, "antialias": bool(antialias)}
    elif antialias and mode == "nearest-exact":
        mode = "area" if (x.shape[-2] >= height and x.shape[-1] >= width) else mode
    out = F.interpolate(x, size=(height, width), mode=mode, **kwargs)
    return _restore(out, single, fmt)




@op
def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                    data_format: str | None = None) -> Tensor:
    """Patches of ``size`` as vectors: ``(batch, rows, cols, size_h * size_w * channels)`` (channels last),
    each vector ordered row, column, channel (TensorFlow's order). A ``size`` of three ints extracts
    3-D patches of volumes (``extract_patches_3d``), as Keras does.

    Example:
        >>> extract_patches(torch.arange(16.0).reshape(1, 4, 4, 1), 2).shape
        torch.Size([1, 2, 2, 4])
    """
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d.__wrapped__(images, size, strides, dilation_rate, padding, data_format)
    x, single, fmt = _batched_first("extract_patches", images, data_format)
    kh, kw = (size, size) if isinstance(size, int) else tuple(size)
    sh, sw = (kh, kw) if strides is None else ((strides, strides) if isinstance(strides, int) else tuple(strides))
    dh, dw = (dilation_rate, dilation_rate) if isinstance(dilation_rate, int) else tuple(dilation_rate)
    if padding.lower() == "same":
        pads = []
        for n, k, s, d in ((x.shape[-1], kw, sw, dw), (x.shape[-2], kh, sh, dh)):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads += [total // 2, total - total // 2]
        x = F.pad(x, pads)
    elif padding.lower() != "valid":
        raise ValueError(f"extract_patches(): `padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    batch, channels, height, width = x.shape
    cols = F.unfold(x, (kh, kw), dilation=(dh, dw), stride=(sh, sw))  # (B, C*kh*kw, L), order (c, kh, kw)
    out_h = (height - (kh - 1) * dh - 1) // sh + 1
    out_w = (width - (kw - 1) * dw - 1) // sw + 1
    patches = cols.reshape(batch, channels, kh * kw, out_h, out_w).permute(0, 3, 4, 2, 1)
    patches = patches.reshape(batch, out_h, out_w, kh * kw * channels)
    if fmt == "channels_first":
        patches = patches.permute(0, 3, 1, 2)
    return patches[0] if single else patches


@op
def rgb_to_grayscale(images: Any, data_format: str | None = None) -> Tensor:
    """``0.2989 R + 0.5870 G + 0.1140 B``, keeping a channel axis of size 1."""
    x, single, fmt = _batched_first("rgb_to_grayscale", images, data_format)
    if x.shape[1] != 3:
        raise ValueError(f"rgb_to_grayscale(): images must have 3 channels. Received {x.shape[1]}")
    weights = torch.tensor([0.2989, 0.5870, 0.1140], dtype=x.dtype, device=x.device)
    gray = (x * weights[None, :, None, None]).sum(dim=1, keepdim=True)
    return _restore(gray, single, fmt)


@op
def rgb_to_hsv(images: Any, data_format: str | None = None) -> Tensor:
    """RGB in ``[0, 1]`` to HSV in ``[0, 1]`` (hue as a fraction of a turn)."""
    x, single, fmt = _batched_first("rgb_to_hsv", images, data_format)
    if x.shape[1] != 3:
        raise ValueError(f"rgb_to_hsv(): images must have 3 channels. Received {x.shape[1]}")
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    value = x.amax(dim=1)
    spread = value - x.amin(dim=1)
    safe_value = torch.where(value > 0, value, torch.ones_like(value))
    saturation = torch.where(value > 0, spread / safe_value, torch.zeros_like(value))
    safe = torch.where(spread > 0, spread, torch.ones_like(spread))
    hue = torch.where(value == r, (g - b) / safe, torch.where(value == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    hue = torch.where(spread > 0, (hue / 6) % 1.0, torch.zeros_like(hue))
    return _restore(torch.stack([hue, saturation, value], dim=1), single, fmt)


@op
def hsv_to_rgb(images: Any, data_format: str | None = None) -> Tensor:
    """HSV in ``[0, 1]`` to RGB in ``[0, 1]`` (the inverse of ``rgb_to_hsv``)."""
    x, single, fmt = _batched_first("hsv_to_rgb", images, data_format)
    if x.shape[1] != 3:
        raise ValueError(f"hsv_to_rgb(): images must have 3 channels. Received {x.shape[1]}")
    h, s, v = x[:, 0], x[:, 1], x[:, 2]
    # Each channel is v minus a clipped triangle of the hue: n = 5 (red), 3 (green), 1 (blue).
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = (n + h * 6) % 6
        channels.append(v - v * s * torch.clamp(torch.minimum(k, 4 - k), 0, 1))
    return _restore(torch.stack(channels, dim=1), single, fmt)


@op
def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None, target_height: int | None = None,
               target_width: int | None = None, data_format: str | None = None) -> Tensor:
    """Zero-pad images; give two of top/bottom/target_height (and of left/right/target_width)."""
    x, single, fmt = _batched_first("pad_images", images, data_format)
    height, width = x.shape[-2], x.shape[-1]
    top, bottom = _two_of("pad_images", top_padding, bottom_padding, target_height, height, "top_padding",
                          "bottom_padding", "target_height")
    left, right = _two_of("pad_images", left_padding, right_padding, target_width, width, "left_padding",
                          "right_padding", "target_width")
    return _restore(F.pad(x, (left, right, top, bottom)), single, fmt)


@op
def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None, target_height: int | None = None,
                target_width: int | None = None, data_format: str | None = None) -> Tensor:
    """Crop images; give two of top/bottom/target_height (and of left/right/target_width)."""
    x, single, fmt = _batched_first("crop_images", images, data_format)
    height, width = x.shape[-2], x.shape[-1]
    top, bottom = _two_of("crop_images", top_cropping, bottom_cropping, None if target_height is None else
                          2 * height - target_height, height, "top_cropping", "bottom_cropping", "target_height")
    left, right = _two_of("crop_images", left_cropping, right_cropping, None if target_width is None else
                          2 * width - target_width, width, "left_cropping", "right_cropping", "target_width")
    if top + bottom >= height or left + right >= width:
        raise ValueError(f"crop_images(): the cropping leaves no pixels of images {height}x{width}.")
    return _restore(x[..., top:height - bottom, left:width - right], single, fmt)


def _two_of(name, first, second, target, size, first_name, second_name, target_name) -> tuple[int, int]:
    given = [v is not None for v in (first, second, target)]
    if sum(given) == 1 and target is None:
        return int(first or 0), int(second or 0)
    if sum(given) == 0:
        return 0, 0
    if sum(given) != 2:
        raise ValueError(f"{name}(): give exactly two of `{first_name}`, `{second_name}`, `{target_name}`.")
    if target is None:
        return int(first), int(second)
    extra = int(target) - size
    if first is None:
        return extra - int(second), int(second)
    return int(first), extra - int(first)
