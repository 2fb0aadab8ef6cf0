"""Filters of ``keras.ops.image`` (re-exported by ``easynn.ops.image``): ``gaussian_blur`` and
``sobel_edges``.

Images are ``(height, width, channels)`` or ``(batch, height, width, channels)`` by default
(``data_format="channels_first"`` or ``easynn.config.set_image_data_format`` for the other
layout). Integer images are computed and returned as floats. Every filter is a cross-correlation
of each channel with a small kernel (a grouped ``conv2d``).

Example:
    >>> import torch
    >>> gaussian_blur(torch.ones(1, 5, 5, 2)).shape
    torch.Size([1, 5, 5, 2])
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation
from easynn.ops._dispatch import op
from easynn.ops._image_layout import _batched_first, _restore

Tensor = torch.Tensor

__all__ = ["gaussian_blur", "sobel_edges"]


def _pair_of_floats(name: str, value: Any) -> tuple[float, float]:
    items = (value, value) if isinstance(value, numbers.Real) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != 2:
        raise ValueError(f"`{name}` must be a positive number or a tuple of two. Received: {name}={value!r}")
    return tuple(_validation.positive_float(name, float(v) if isinstance(v, Tensor) else v) for v in items)


def _gaussian_1d(size: int, sigma: float, dtype: torch.dtype, device: Any) -> Tensor:
    """``exp(-t^2 / (2 sigma^2))`` at ``t = i - (size - 1) / 2``, normalised to sum 1."""
    t = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def _depthwise(x: Tensor, kernel: Tensor) -> Tensor:
    """Cross-correlate every channel of NCHW ``x`` with the 2-D ``kernel`` (no padding)."""
    channels = x.shape[1]
    weight = kernel.to(x.dtype).expand(channels, 1, *kernel.shape)
    return F.conv2d(x, weight, groups=channels)


@op
def gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                  data_format: str | None = None) -> Tensor:
    """Blur each channel with a Gaussian kernel (zero padding, output the size of the input).

    Formula: the kernel is ``outer(g_h, g_w)`` with ``g(t) = exp(-t^2 / (2 sigma^2)) / sum`` at the
    ``kernel_size`` taps ``t = i - (k - 1) / 2``; ``out = x * kernel`` (cross-correlation), the image
    padded with zeros by ``(k - 1) // 2`` before and ``k // 2`` after on each axis (``k // 2`` on both
    sides for the usual odd sizes, as Keras). Computed separably: one vertical, one horizontal pass.

    Args:
        images: 3-D (one image) or 4-D (a batch).
        kernel_size: ``(height, width)`` of the kernel (an int for both), positive ints.
        sigma: ``(sigma_height, sigma_width)`` standard deviations (a number for both), positive.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The blurred images, same shape; float dtype.

    Raises:
        ValueError: bad rank, ``kernel_size`` or ``sigma``.

    Example:
        >>> x = torch.zeros(3, 3, 1)
        >>> x[1, 1, 0] = 1.0
        >>> gaussian_blur(x, (3, 3), (1.0, 1.0))[..., 0]
        tensor([[0.0751, 0.1238, 0.0751],
                [0.1238, 0.2042, 0.1238],
                [0.0751, 0.1238, 0.0751]])
    """
    kh, kw = _validation.int_tuple("kernel_size", kernel_size, 2)
    sigma_h, sigma_w = _pair_of_floats("sigma", sigma)
    x, single, fmt = _batched_first("gaussian_blur", images, data_format)
    x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
    x = _depthwise(x, _gaussian_1d(kh, sigma_h, x.dtype, x.device)[:, None])
    x = _depthwise(x, _gaussian_1d(kw, sigma_w, x.dtype, x.device)[None, :])
    return _restore(x, single, fmt)


_SOBEL_Y = ((-1.0, -2.0, -1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 1.0))


@op
def sobel_edges(images: Any, data_format: str | None = None) -> Tensor:
    """Sobel gradients ``[dy, dx]`` of each channel (TensorFlow's ``tf.image.sobel_edges``).

    Formula: ``dy = x * [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]``, ``dx = x * transpose(that kernel)``
    (cross-correlation), the image padded by one pixel with ``"reflect"`` padding.

    Args:
        images: 4-D ``(batch, height, width, channels)`` (or channels first); a 3-D single image is
            accepted too. Height and width must be at least 2.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        ``(batch, height, width, channels, 2)`` (channels first: ``(batch, channels, height, width, 2)``),
        the last axis holding ``[dy, dx]``; float dtype.

    Raises:
        ValueError: bad rank or images smaller than 2x2.

    Example:
        >>> x = torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 3)[None, :, :, None]  # a vertical edge
        >>> sobel_edges(x)[0, 1, :, 0, 1]  # dx along the middle row
        tensor([0., 4., 4., 0.])
    """
    x, single, fmt = _batched_first("sobel_edges", images, data_format)
    if x.shape[-2] < 2 or x.shape[-1] < 2:
        raise ValueError(f"sobel_edges(): images must be at least 2x2. Received images of "
                         f"{x.shape[-2]}x{x.shape[-1]} pixels")
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    kernel_y = torch.tensor(_SOBEL_Y, dtype=x.dtype, device=x.device)
    out = torch.stack([_depthwise(padded, kernel_y), _depthwise(padded, kernel_y.T)], dim=-1)  # (B, C, H, W, 2)
    if fmt == "channels_last":
        out = out.permute(0, 2, 3, 1, 4)
    return out[0] if single else out
