"""Blur and non-affine warps inside the model: RandomGaussianBlur, RandomPerspective,
RandomElasticTransform.

Each acts only with ``training=True`` and is the identity at inference. As in Keras, ``factor``
is a *probability*: per image ``p ~ uniform(lower, upper)`` is drawn and the image is changed when
``uniform(0, 1) < p`` (``factor=0``: never; ``(1, 1)``: always). Everything is vectorised over
the batch: the blurs are two grouped 1-D convolutions with one kernel per image, the warps one
``grid_sample`` reading each output pixel from its own source point.

Example:
    >>> import torch
    >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
    >>> torch.equal(RandomPerspective(factor=0.0)(x, training=True), x)
    True
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.preprocessing import _image
from easynn.layers.preprocessing.augmentation import BaseRandomLayer
from easynn.layers.preprocessing.enhance import _unit_range

__all__ = ["RandomGaussianBlur", "RandomPerspective", "RandomElasticTransform", "gaussian_blur_nchw"]

_WARP_INTERPOLATIONS = ("bilinear", "nearest")


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    return x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32


def _normal(draws: _image.RandomDraws, shape) -> torch.Tensor:
    """Standard normal noise from the layer's generator (torch's global one under torch.compile)."""
    if draws.generator is None or torch.compiler.is_compiling():
        return torch.randn(tuple(shape))
    return torch.randn(tuple(shape), generator=draws.generator)


def _chosen(draws: _image.RandomDraws, n: int, probability: tuple[float, float], device) -> torch.Tensor:
    """``(n, 1, 1, 1)`` booleans: image ``i`` is changed when ``uniform(0, 1) < p_i``."""
    p = draws.uniform((n,), *probability)
    return (draws.uniform((n,), 0.0, 1.0) < p).to(device).reshape(n, 1, 1, 1)


def _gaussian_kernels(sigma: torch.Tensor, size: int, dtype: torch.dtype) -> torch.Tensor:
    """``(len(sigma), size)``: normalised 1-D Gaussians ``exp(-t^2 / (2 sigma^2))``, ``t`` centred."""
    t = torch.arange(size, dtype=dtype, device=sigma.device) - (size - 1) / 2
    kernels = torch.exp(-0.5 * (t / sigma.to(dtype)[:, None]) ** 2)
    return kernels / kernels.sum(dim=1, keepdim=True)


def gaussian_blur_nchw(
    x: torch.Tensor, sigma_y: torch.Tensor, sigma_x: torch.Tensor, kernel_size: tuple[int, int]
) -> torch.Tensor:
    """Blur image ``i`` of an NCHW batch with its own Gaussian (``sigma_y[i]``, ``sigma_x[i]``).

    Formula: the 2-D kernel is the outer product of two normalised 1-D Gaussians of
    ``kernel_size = (kh, kw)`` taps; the image is zero-padded by ``(kh // 2, kw // 2)`` (Keras's
    ``gaussian_blur``). Separable: one vertical and one horizontal grouped convolution, equal to
    the 2-D convolution with the outer-product kernel.
    """
    n, c, height, width = x.shape
    kh, kw = kernel_size
    dtype = _work_dtype(x)
    ky = _gaussian_kernels(sigma_y.to(x.device), kh, dtype).repeat_interleave(c, dim=0)
    kx = _gaussian_kernels(sigma_x.to(x.device), kw, dtype).repeat_interleave(c, dim=0)
    y = x.to(dtype).reshape(1, n * c, height, width)
    y = F.conv2d(y, ky.reshape(n * c, 1, kh, 1), padding=(kh // 2, 0), groups=n * c)
    y = F.conv2d(y, kx.reshape(n * c, 1, 1, kw), padding=(0, kw // 2), groups=n * c)
    return y.reshape(n, c, height, width).to(x.dtype)


def _sample(
    x: torch.Tensor,
    source_x: torch.Tensor,
    source_y: torch.Tensor,
    interpolation: str,
    fill_mode: str,
    fill_value: float,
) -> torch.Tensor:
    """Output pixel ``(n, :, i, j)`` reads ``x[n]`` at the pixel coordinates ``(source_x, source_y)[n, i, j]``
    (pixel centres at integers), with ``fill_mode`` outside the image."""
    n, _, height, width = x.shape
    dtype = _work_dtype(x)
    grid = torch.stack([(2 * source_x + 1) / width - 1, (2 * source_y + 1) / height - 1], dim=-1).to(dtype)
    if fill_mode == "wrap":  # normalised coordinates span [-1, 1]: a period of 2
        grid = torch.remainder(grid + 1.0, 2.0) - 1.0
    padding = {"reflect": "reflection", "nearest": "border", "constant": "zeros", "wrap": "zeros"}[fill_mode]
    source = x.to(dtype)
    y = F.grid_sample(source, grid, mode=interpolation, padding_mode=padding, align_corners=False)
    if fill_mode == "constant" and fill_value != 0:
        # The zero padding's share of each output pixel, filled with fill_value instead.
        inside = F.grid_sample(
            source.new_ones((n, 1, height, width)), grid, mode=interpolation, padding_mode="zeros", align_corners=False
        )
        y = y + (1.0 - inside) * fill_value
    return y.to(x.dtype)


def _pixel_grid(height: int, width: int, dtype: torch.dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.arange(height, dtype=dtype, device=device)[:, None].expand(height, width)
    cols = torch.arange(width, dtype=dtype, device=device)[None, :].expand(height, width)
    return rows, cols


def homographies(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """``(N, 3, 3)`` projective maps ``H`` with ``H @ (end_k, 1) ~ (start_k, 1)`` for the 4 corners ``k``.

    Args:
        start: ``(N, 4, 2)`` points ``(x, y)`` in the input image.
        end: ``(N, 4, 2)`` where those points land in the output.

    Returns:
        ``H`` (last entry 1), found by solving the 8 linear equations
        ``x = (h0 u + h1 v + h2) / (h6 u + h7 v + 1)``, ``y = (h3 u + h4 v + h5) / (h6 u + h7 v + 1)``.
    """
    start, end = start.double(), end.double()
    u, v = end[..., 0], end[..., 1]
    xs, ys = start[..., 0], start[..., 1]
    zero, one = torch.zeros_like(u), torch.ones_like(u)
    x_rows = torch.stack([u, v, one, zero, zero, zero, -xs * u, -xs * v], dim=-1)
    y_rows = torch.stack([zero, zero, zero, u, v, one, -ys * u, -ys * v], dim=-1)
    a = torch.stack([x_rows, y_rows], dim=2).reshape(-1, 8, 8)
    b = torch.stack([xs, ys], dim=2).reshape(-1, 8)
    h = torch.linalg.solve(a, b)
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=1).reshape(-1, 3, 3)


def _probability_and_value_range(layer, factor: Any, value_range) -> None:
    layer._probability = _unit_range("factor", factor)
    layer.factor = factor if isinstance(factor, (int, float)) else list(factor)
    if value_range is not None:
        layer.value_range = list(_image.check_value_range(value_range))


class RandomGaussianBlur(BaseRandomLayer):
    """Blurs each image, with probability drawn from ``factor``, by a Gaussian of random width.

    Formula: per image ``sigma_y, sigma_x ~ uniform(sigma)`` (plus ``1e-6``); the blur is the
    zero-padded convolution with the ``kernel_size`` Gaussian of those widths (see
    :func:`gaussian_blur_nchw`); the output is clipped to ``value_range``.

    Args:
        factor: probability range: ``f`` means ``p ~ uniform(0, f)``, or ``(lower, upper)``;
            within ``[0, 1]``; 1.0 by default. ``0`` leaves every image unchanged.
        kernel_size: an odd int, or a pair ``(height, width)`` of odd ints; 3 by default.
        sigma: ``s`` means ``uniform(0, s)``, or ``(lower, upper)``; non-negative; 1.0 by default.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        seed: an int for reproducible draws.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for a bad ``factor``, ``kernel_size``, ``sigma`` or ``value_range``.

    Example:
        >>> import torch
        >>> blur = RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0))
        >>> out = blur(torch.full((1, 3, 3, 1), 9.0), training=True)
        >>> round(float(out[0, 1, 1, 0]), 3)  # the centre keeps all of the kernel's mass
        9.0
    """

    def __init__(
        self,
        factor: Any = 1.0,
        kernel_size: Any = 3,
        sigma: Any = 1.0,
        value_range=(0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        _probability_and_value_range(self, factor, value_range)
        sizes = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
        if len(sizes) != 2 or not all(
            isinstance(k, numbers.Integral) and not isinstance(k, bool) and k > 0 and k % 2 == 1 for k in sizes
        ):
            raise ValueError(
                f"`kernel_size` must be an odd positive integer or a pair of them. Received: kernel_size={kernel_size!r}"
            )
        self._kernel = (int(sizes[0]), int(sizes[1]))
        self.kernel_size = kernel_size if isinstance(kernel_size, numbers.Integral) else list(self._kernel)
        if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool) and sigma >= 0:
            self._sigma = (0.0, float(sigma))
        else:
            self._sigma = _image.factor_range("sigma", sigma, low=0.0)
        self.sigma = sigma if isinstance(sigma, (int, float)) else list(sigma)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        if self._probability[1] == 0:
            return x
        n = x.shape[0]
        chosen = _chosen(self._draws, n, self._probability, x.device)
        sigma = self._draws.uniform((n, 2), *self._sigma) + 1e-6
        blurred = gaussian_blur_nchw(x, sigma[:, 0], sigma[:, 1], self._kernel)
        return torch.where(chosen, blurred, x).clamp(*self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=self.factor, kernel_size=self.kernel_size, sigma=self.sigma, value_range=self.value_range)
        return config


class RandomPerspective(BaseRandomLayer):
    """Moves the corners of each image, with probability drawn from ``factor``: a perspective warp.

    Formula (Keras's draw): the corners ``c = (0, 0), (w-1, 0), (0, h-1), (w-1, h-1)`` go to
    ``c * (1 + d)`` with ``d ~ uniform(-scale / 2, scale / 2)`` per coordinate (so the top-left
    corner stays). The output pixel ``p`` reads the input at ``H(p)``, ``H`` the homography taking
    the moved corners back to the original ones; outside the image it reads ``fill_value``.

    Args:
        factor: probability range: ``f`` means ``p ~ uniform(0, f)``, or ``(lower, upper)``;
            within ``[0, 1]``; 1.0 by default.
        scale: how far the corners move, a number in ``[0, 1]``; 1.0 by default (0: no change).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value read outside the image.
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for a bad ``factor``, ``scale`` or ``interpolation``.

    Example:
        >>> import torch
        >>> RandomPerspective(scale=0.5, seed=0)(torch.rand(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(
        self,
        factor: Any = 1.0,
        scale: float = 1.0,
        interpolation: str = "bilinear",
        fill_value: float = 0.0,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        _probability_and_value_range(self, factor, None)
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not 0 <= scale <= 1:
            raise ValueError(f"`scale` must be a number in [0, 1]. Received: scale={scale!r}")
        self.scale = float(scale)
        self.interpolation = _image.check_interpolation(interpolation, _WARP_INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        if self._probability[1] == 0 or height < 2 or width < 2:
            return x
        chosen = _chosen(self._draws, n, self._probability, x.device)
        corners = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]])
        start = corners.expand(n, 4, 2)
        end = start * (1.0 + self._draws.uniform((n, 4, 2), -0.5 * self.scale, 0.5 * self.scale))
        h = homographies(start, end).to(device=x.device, dtype=_work_dtype(x))
        rows, cols = _pixel_grid(height, width, h.dtype, x.device)
        points = torch.stack([cols, rows, torch.ones_like(rows)], dim=-1).reshape(1, -1, 3)
        source = points @ h.transpose(1, 2)  # (n, H*W, 3), homogeneous
        source = (source[..., :2] / source[..., 2:]).reshape(n, height, width, 2)
        warped = _sample(x, source[..., 0], source[..., 1], self.interpolation, "constant", self.fill_value)
        return torch.where(chosen, warped, x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            factor=self.factor, scale=self.scale, interpolation=self.interpolation, fill_value=self.fill_value
        )
        return config


class RandomElasticTransform(BaseRandomLayer):
    """Distorts each image by a smooth random displacement field, with probability drawn from ``factor``.

    Formula (Keras's): per image ``s ~ uniform(scale)``, ``alpha = 0.1 s max(h, w)``,
    ``sigma = 0.05 s min(h, w)``; ``dx, dy`` are standard normal noise times ``sigma``, blurred by
    the Gaussian of width ``sigma`` (``int(6 sigma) | 1`` taps, zero padding); the output pixel
    ``(x, y)`` reads the input at ``(x + alpha dx, y + alpha dy)``; clipped to ``value_range``.

    Args:
        factor: probability range: ``f`` means ``p ~ uniform(0, f)``, or ``(lower, upper)``;
            within ``[0, 1]``; 1.0 by default.
        scale: ``s`` means ``uniform(0, s)``, or ``(lower, upper)``; within ``[0, 1]``; 1.0 by default.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        value_range: ``(low, high)`` of the pixel values; the output is clipped to it.
        seed: an int for reproducible draws.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for a bad ``factor``, ``scale``, ``interpolation``, ``fill_mode`` or ``value_range``.

    Example:
        >>> import torch
        >>> RandomElasticTransform(seed=0)(torch.rand(2, 16, 16, 1) * 255, training=True).shape
        torch.Size([2, 16, 16, 1])
    """

    def __init__(
        self,
        factor: Any = 1.0,
        scale: Any = 1.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        value_range=(0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        _probability_and_value_range(self, factor, value_range)
        self._scale = _unit_range("scale", scale)
        self.scale = scale if isinstance(scale, (int, float)) else list(scale)
        self.interpolation = _image.check_interpolation(interpolation, _WARP_INTERPOLATIONS)
        self.fill_mode = _image.check_fill_mode(fill_mode)
        self.fill_value = float(fill_value)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        if self._probability[1] == 0 or self._scale[1] == 0:
            return x
        chosen = _chosen(self._draws, n, self._probability, x.device)
        s = self._draws.uniform((n,), *self._scale)
        alpha = 0.1 * max(height, width) * s
        sigma = (0.05 * min(height, width) * s).clamp_min(1e-6)
        taps = int(6 * 0.05 * min(height, width) * self._scale[1]) | 1  # the widest sigma's kernel for all
        noise = _normal(self._draws, (n, 2, height, width)) * sigma[:, None, None, None]
        dtype = _work_dtype(x)
        field = gaussian_blur_nchw(noise.to(device=x.device, dtype=dtype), sigma, sigma, (taps, taps))
        field = field * alpha.to(device=x.device, dtype=dtype)[:, None, None, None]
        rows, cols = _pixel_grid(height, width, dtype, x.device)
        warped = _sample(x, cols + field[:, 0], rows + field[:, 1], self.interpolation, self.fill_mode, self.fill_value)
        return torch.where(chosen, warped, x).clamp(*self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            factor=self.factor,
            scale=self.scale,
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            value_range=self.value_range,
        )
        return config
