"""Filters of ``keras.ops.image`` (re-exported by ``easynn.ops.image``): ``gaussian_blur``,
``sobel_edges`` and the ``ssim`` similarity index.

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
from easynn.ops._convert import tensor
from easynn.ops._dispatch import op
from easynn.ops._image_layout import _batched_first, _restore

Tensor = torch.Tensor

__all__ = ["gaussian_blur", "sobel_edges", "ssim"]


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


@op
def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> Tensor:
    """Structural similarity index (Wang et al. 2004) of two images, as ``tf.image.ssim`` computes it.

    Formula: with ``E[.]`` the ``filter_size`` Gaussian window (``filter_sigma``, no padding: "valid"),
    ``mu_x = E[x]``, ``s_x = E[x^2] - mu_x^2``, ``s_xy = E[x y] - mu_x mu_y``, ``c1 = (k1 max_val)^2``,
    ``c2 = (k2 max_val)^2``:
    ``ssim_map = (2 mu_x mu_y + c1) (2 s_xy + c2) / ((mu_x^2 + mu_y^2 + c1) (s_x + s_y + c2))``, and the
    result is its mean over the positions and channels of each image.

    Args:
        image1: 3-D (one image) or 4-D (a batch).
        image2: the same shape.
        max_val: the dynamic range of the pixel values (1.0 for ``[0, 1]`` images, 255.0 for bytes).
        filter_size: the Gaussian window side, an odd positive int no larger than the images.
        filter_sigma: the window's standard deviation.
        k1, k2: the stabilising constants.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        One SSIM per image: shape ``(batch,)``, or a scalar for 3-D inputs; 1 for identical images.

    Raises:
        ValueError: different shapes, a bad ``filter_size`` (even, or larger than the images) or ``filter_sigma``.

    Example:
        >>> x = torch.linspace(0, 1, 48).reshape(4, 4, 3)
        >>> round(ssim(x, x, filter_size=3).item(), 4), round(ssim(x, 1 - x, filter_size=3).item(), 4)
        (1.0, -0.8524)
    """
    size = _validation.positive_int("filter_size", filter_size)
    if size % 2 == 0:
        raise ValueError(f"`filter_size` must be an odd positive integer. Received: filter_size={filter_size!r}")
    sigma = _validation.positive_float("filter_sigma", filter_sigma)
    x, single, _ = _batched_first("ssim", image1, data_format)
    y, _, _ = _batched_first("ssim", image2, data_format)
    if x.shape != y.shape:
        raise ValueError(f"ssim(): `image1` and `image2` must have the same shape. Received "
                         f"{tuple(tensor(image1).shape)} and {tuple(tensor(image2).shape)}")
    if size > x.shape[-2] or size > x.shape[-1]:
        raise ValueError(f"ssim(): the images ({x.shape[-2]}x{x.shape[-1]}) must be at least filter_size "
                         f"({size}) on each side")
    dtype = torch.promote_types(x.dtype, y.dtype)
    x, y = x.to(dtype), y.to(dtype)
    window = _gaussian_1d(size, sigma, x.dtype, x.device)

    def mean(v: Tensor) -> Tensor:
        return _depthwise(_depthwise(v, window[:, None]), window[None, :])

    mu_x, mu_y = mean(x), mean(y)
    var_x, var_y, cov = mean(x * x) - mu_x ** 2, mean(y * y) - mu_y ** 2, mean(x * y) - mu_x * mu_y
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    index = (2 * mu_x * mu_y + c1) * (2 * cov + c2) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    out = index.mean(dim=(1, 2, 3))
    return out[0] if single else out
