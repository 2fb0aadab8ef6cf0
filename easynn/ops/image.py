"""The image family of ``keras.ops`` (``keras.ops.image``): resizing, geometric transforms,
patches and colour spaces.

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

import itertools
from typing import Any

import torch
import torch.nn.functional as F

from easynn import config
from easynn.ops._convert import real_floating as _float
from easynn.ops._convert import tensor
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = ["resize", "affine_transform", "map_coordinates", "extract_patches", "rgb_to_grayscale", "rgb_to_hsv",
           "hsv_to_rgb", "pad_images", "crop_images"]

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _data_format(data_format: str | None) -> str:
    value = config.image_data_format() if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
        )
    return value


def _batched_first(name: str, images: Any, data_format: str | None) -> tuple[Tensor, bool, str]:
    """``(batch, channels, height, width)``, whether a batch axis was added, and the data format."""
    x = _float(images)
    fmt = _data_format(data_format)
    if x.dim() not in (3, 4):
        raise ValueError(f"{name}(): `images` must be 3-D (one image) or 4-D (a batch). Received shape {tuple(x.shape)}")
    single = x.dim() == 3
    if single:
        x = x[None]
    if fmt == "channels_last":
        x = x.permute(0, 3, 1, 2)
    return x, single, fmt


def _restore(x: Tensor, single: bool, fmt: str) -> Tensor:
    if fmt == "channels_last":
        x = x.permute(0, 2, 3, 1)
    return x[0] if single else x


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


def _fix_index(index: Tensor, size: int, fill_mode: str) -> Tensor:
    """Map integer ``index`` into ``[0, size)`` by ``fill_mode`` (``constant`` is handled by the caller)."""
    if fill_mode == "nearest":
        return index.clamp(0, size - 1)
    if fill_mode == "wrap":
        return index % size
    if fill_mode == "mirror":  # ... 2 1 | 0 1 2 | 1 0 ...: a triangle wave of period 2(size - 1)
        period = 2 * max(size - 1, 1)
        folded = index % period
        return torch.where(folded >= size, period - folded, folded) if size > 1 else torch.zeros_like(index)
    if fill_mode == "reflect":  # ... 1 0 | 0 1 2 | 2 1 ...: period 2 size, edge repeated
        period = 2 * size
        folded = index % period
        return torch.where(folded >= size, period - 1 - folded, folded)
    return index


@op
def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0.0) -> Tensor:
    """Sample ``inputs`` at fractional ``coordinates`` (SciPy's ``ndimage.map_coordinates`` interface).

    Args:
        inputs: an N-D array.
        coordinates: ``(N, *output_shape)``: for each output point, its coordinate along each axis.
        order: 0 (nearest: coordinates rounded) or 1 (linear).
        fill_mode: how points outside the input are read: ``"constant"`` (``fill_value``),
            ``"nearest"``, ``"wrap"``, ``"mirror"``, ``"reflect"``.
        fill_value: the value outside the input with ``"constant"``.

    Returns:
        A tensor of ``output_shape``.

    Example:
        >>> map_coordinates(torch.tensor([0.0, 10.0, 20.0]), torch.tensor([[0.5, 1.25, 3.0]]), 1)
        tensor([ 5.0000, 12.5000,  0.0000])
    """
    x = tensor(inputs)
    coords = tensor(coordinates)
    coords = coords.to(x.dtype if x.is_floating_point() else torch.get_default_dtype())
    if coords.shape[0] != x.dim():
        raise ValueError(f"map_coordinates(): `coordinates` must start with one entry per input axis ({x.dim()}). "
                         f"Received coordinates shape {tuple(coords.shape)}")
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates(): order={order} is not implemented (use 0 or 1).")
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"map_coordinates(): `fill_mode` must be one of {_FILL_MODES}. Received: fill_mode={fill_mode!r}")
    corners_per_axis = []
    for axis in range(x.dim()):
        c = coords[axis]
        if order == 0:
            corners_per_axis.append([(torch.round(c).long(), None)])
        else:
            low = torch.floor(c)
            weight = c - low
            corners_per_axis.append([(low.long(), 1 - weight), (low.long() + 1, weight)])
    work = x if x.is_floating_point() else x.to(coords.dtype)
    out = torch.zeros(coords.shape[1:], dtype=work.dtype, device=x.device)
    for combo in itertools.product(*corners_per_axis):
        indices, valid, weight = [], None, None
        for axis, (index, w) in enumerate(combo):
            size = x.shape[axis]
            if fill_mode == "constant":
                inside = (index >= 0) & (index < size)
                valid = inside if valid is None else valid & inside
                index = index.clamp(0, size - 1)
            else:
                index = _fix_index(index, size, fill_mode)
            indices.append(index)
            if w is not None:
                weight = w if weight is None else weight * w
        values = work[tuple(indices)]
        if valid is not None:
            values = torch.where(valid, values, torch.as_tensor(fill_value, dtype=work.dtype, device=x.device))
        out = out + (values if weight is None else weight * values)
    return out if x.is_floating_point() or order == 1 else out.to(x.dtype)


@op
def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0.0, data_format: str | None = None) -> Tensor:
    """Apply projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` to images.

    Output pixel ``(x, y)`` (column, row) reads the input at
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``.

    Args:
        images: 3-D or 4-D images.
        transform: ``(8,)`` or ``(batch, 8)``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode, fill_value: as in ``map_coordinates``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> img = torch.arange(9.0).reshape(3, 3, 1)
        >>> affine_transform(img, [1, 0, 1, 0, 1, 0, 0, 0])[..., 0]  # shift left by one column
        tensor([[1., 2., 0.],
                [4., 5., 0.],
                [7., 8., 0.]])
    """
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"affine_transform(): `interpolation` must be 'bilinear' or 'nearest'. Received: {interpolation!r}")
    x, single, fmt = _batched_first("affine_transform", images, data_format)
    t = tensor(transform).to(dtype=x.dtype, device=x.device)
    if t.dim() == 1:
        t = t[None]
    if t.shape[-1] != 8 or t.dim() != 2 or t.shape[0] not in (1, x.shape[0]):
        raise ValueError(f"affine_transform(): `transform` must be (8,) or (batch, 8). Received shape {tuple(t.shape)}")
    t = t.expand(x.shape[0], 8)
    batch, channels, height, width = x.shape
    rows = torch.arange(height, dtype=x.dtype, device=x.device)[:, None].expand(height, width)
    cols = torch.arange(width, dtype=x.dtype, device=x.device)[None, :].expand(height, width)
    order = 1 if interpolation == "bilinear" else 0
    outputs = []
    for b in range(batch):
        a0, a1, a2, b0, b1, b2, c0, c1 = t[b]
        k = c0 * cols + c1 * rows + 1
        src_x = (a0 * cols + a1 * rows + a2) / k
        src_y = (b0 * cols + b1 * rows + b2) / k
        channel_index = torch.arange(channels, dtype=x.dtype, device=x.device)[:, None, None].expand(channels, height, width)
        coords = torch.stack([channel_index, src_y.expand(channels, height, width), src_x.expand(channels, height, width)])
        outputs.append(map_coordinates(x[b], coords, order, fill_mode, fill_value))
    return _restore(torch.stack(outputs), single, fmt)


@op
def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                    data_format: str | None = None) -> Tensor:
    """Patches of ``size`` as vectors: ``(batch, rows, cols, size_h * size_w * channels)`` (channels last),
    each vector ordered row, column, channel (TensorFlow's order).

    Example:
        >>> extract_patches(torch.arange(16.0).reshape(1, 4, 4, 1), 2).shape
        torch.Size([1, 2, 2, 4])
    """
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


_MISSING = ("gaussian_blur", "perspective_transform", "elastic_transform")


def __getattr__(name: str):
    if name in _MISSING:
        raise NotImplementedError(f"easynn.ops.image.{name} (keras.ops.image.{name}) is not implemented in easynn yet.")
    raise AttributeError(f"module 'easynn.ops.image' has no attribute {name!r}")
