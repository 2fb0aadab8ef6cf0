"""Geometric transforms of ``keras.ops.image`` (re-exported by ``easynn.ops.image``): sampling at
coordinates (``map_coordinates``), projective transforms (``affine_transform``,
``perspective_transform``), ``elastic_transform`` and kernel resampling (``scale_and_translate``).

Pixel ``(row, column)`` centres sit at integer coordinates; points outside the image are read by
``fill_mode`` (``"constant"`` with ``fill_value``, ``"nearest"``, ``"wrap"``, ``"mirror"``,
``"reflect"``). Images are ``channels_last`` unless ``data_format`` (or
``easynn.config.image_data_format()``) says otherwise; integer images are computed as floats.

Example:
    >>> import torch
    >>> img = torch.arange(9.0).reshape(3, 3, 1)
    >>> affine_transform(img, [1, 0, 0, 0, 1, 0, 0, 0]).equal(img)  # the identity
    True
"""

from __future__ import annotations

import itertools
from typing import Any

import torch

from easynn import _validation
from easynn.ops._convert import tensor
from easynn.ops._dispatch import op
from easynn.ops._image_layout import _batched_first, _restore
from easynn.ops.image_filters import gaussian_blur

Tensor = torch.Tensor

__all__ = ["map_coordinates", "affine_transform", "perspective_transform", "elastic_transform",
           "scale_and_translate"]

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


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


def _points(name: str, value: Any) -> Tensor:
    points = tensor(value).to(torch.float64)
    if points.dim() == 2:
        points = points[None]
    if points.dim() != 3 or points.shape[1:] != (4, 2):
        raise ValueError(f"perspective_transform(): `{name}` must be (4, 2) or (batch, 4, 2) points (x, y). "
                         f"Received shape {tuple(tensor(value).shape)}")
    return points


def _homography(start: Tensor, end: Tensor) -> Tensor:
    """``(batch, 8)`` coefficients of the projective map taking each ``end`` point to its ``start`` point.

    For ``(x, y) -> (u, v)``: ``u = (a0 x + a1 y + a2) / (c0 x + c1 y + 1)``, ``v = (b0 x + b1 y + b2) / (...)``;
    each of the 4 point pairs gives two equations linear in the 8 unknowns.
    """
    x, y = end[..., 0], end[..., 1]
    u, v = start[..., 0], start[..., 1]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], dim=-1)  # (batch, 4, 8)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], dim=-1)
    system = torch.stack([rows_u, rows_v], dim=2).reshape(-1, 8, 8)
    rhs = torch.stack([u, v], dim=-1).reshape(-1, 8, 1)
    try:
        return torch.linalg.solve(system, rhs)[..., 0]
    except RuntimeError:
        raise ValueError("perspective_transform(): the points do not define a perspective transform (three of "
                         "the four points are on one line).") from None


@op
def perspective_transform(images: Any, start_points: Any, end_points: Any, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: str | None = None) -> Tensor:
    """Warp images so that the quadrilateral ``start_points`` of the input lands on ``end_points``.

    Formula: the homography ``H`` (8 coefficients, ``H[2, 2] = 1``) with ``H(end_i) = start_i`` for the
    four point pairs is solved for; output pixel ``(x, y)`` (column, row) reads the input at ``H(x, y)``
    (``affine_transform`` with that transform), points outside the input giving ``fill_value``.

    Args:
        images: 3-D (one image) or 4-D (a batch).
        start_points: ``(4, 2)`` or ``(batch, 4, 2)`` points ``(x, y)`` in the input image.
        end_points: the same shape: where those points go in the output image.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value outside the input.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The warped images, same shape; float dtype.

    Raises:
        ValueError: bad shapes, mismatched point sets, a degenerate quadrilateral, or a bad ``interpolation``.

    Example:
        >>> img = torch.arange(9.0).reshape(3, 3, 1)
        >>> corners = [[0, 0], [2, 0], [0, 2], [2, 2]]
        >>> moved = [[1, 0], [3, 0], [1, 2], [3, 2]]  # one pixel to the right
        >>> perspective_transform(img, corners, moved)[..., 0]
        tensor([[0., 0., 1.],
                [0., 3., 4.],
                [0., 6., 7.]])
    """
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"perspective_transform(): `interpolation` must be 'bilinear' or 'nearest'. "
                         f"Received: interpolation={interpolation!r}")
    start, end = _points("start_points", start_points), _points("end_points", end_points)
    if start.shape != end.shape:
        raise ValueError(f"perspective_transform(): `start_points` and `end_points` must have the same shape. "
                         f"Received {tuple(start.shape)} and {tuple(end.shape)}")
    transform = _homography(start, end)
    dims = tensor(images).dim()
    if dims == 3 and transform.shape[0] != 1:
        raise ValueError(f"perspective_transform(): one image needs (4, 2) points. Received {transform.shape[0]} "
                         "sets of points")
    if dims == 3:
        transform = transform[0]
    return affine_transform.__wrapped__(images, transform, interpolation, "constant", fill_value, data_format)


def _torch_generator(seed: Any) -> torch.Generator | None:
    """A CPU generator for ``seed``: None (torch's global stream), an int, or an object with ``next()``
    (an ``easynn.random.SeedGenerator``)."""
    if seed is None:
        return None
    if hasattr(seed, "next") and callable(seed.next):
        seed = seed.next()
    seed = _validation.non_negative_int("seed", seed)
    return torch.Generator().manual_seed(seed)


@op
def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value: float = 0.0, seed: Any = None,
                      data_format: str | None = None) -> Tensor:
    """Random elastic deformation: every pixel reads the input at a smoothly displaced position.

    Formula: ``dx, dy ~ sigma * N(0, 1)`` per pixel (one field per image, shared by its channels),
    smoothed by ``gaussian_blur`` with a ``(int(6 sigma) | 1)``-tap kernel of standard deviation
    ``sigma``; output pixel ``(row, col)`` reads the input at ``(row + alpha dy, col + alpha dx)``
    (``map_coordinates`` with ``fill_mode``), as Keras's torch backend.

    Args:
        images: 3-D (one image) or 4-D (a batch).
        alpha: the displacement scale (0 leaves the images unchanged).
        sigma: the smoothness of the displacement field (and the noise scale), positive.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: how points outside the images are read: ``"reflect"`` (default), ``"constant"``,
            ``"nearest"``, ``"wrap"``, ``"mirror"``.
        fill_value: the value outside with ``"constant"``.
        seed: None (torch's global random stream), an int (the same deformation each call), or an
            ``easynn.random.SeedGenerator`` (a new deformation each call, reproducible).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The deformed images, same shape; float dtype.

    Raises:
        ValueError: bad rank, ``sigma``, ``interpolation``, ``fill_mode`` or ``seed``.

    Example:
        >>> x = torch.rand(8, 8, 1)
        >>> elastic_transform(x, alpha=0.0, seed=1).equal(x), elastic_transform(x, seed=1).equal(elastic_transform(x, seed=1))
        (True, True)
    """
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"elastic_transform(): `interpolation` must be 'bilinear' or 'nearest'. "
                         f"Received: interpolation={interpolation!r}")
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"elastic_transform(): `fill_mode` must be one of {_FILL_MODES}. Received: fill_mode={fill_mode!r}")
    sigma = _validation.positive_float("sigma", sigma)
    alpha = float(alpha)
    generator = _torch_generator(seed)
    x, single, fmt = _batched_first("elastic_transform", images, data_format)
    batch, channels, height, width = x.shape
    noise = torch.randn((batch, 2, height, width), generator=generator, dtype=x.dtype) * sigma
    taps = int(6 * sigma) | 1
    field = gaussian_blur.__wrapped__(noise.to(x.device), (taps, taps), (sigma, sigma), "channels_first")
    rows = torch.arange(height, dtype=x.dtype, device=x.device)[:, None] + alpha * field[:, 0]
    cols = torch.arange(width, dtype=x.dtype, device=x.device)[None, :] + alpha * field[:, 1]
    order = 1 if interpolation == "bilinear" else 0
    channel_index = torch.arange(channels, dtype=x.dtype, device=x.device)[:, None, None].expand(channels, height, width)
    outputs = []
    for b in range(batch):
        coords = torch.stack([channel_index, rows[b].expand(channels, height, width),
                              cols[b].expand(channels, height, width)])
        outputs.append(map_coordinates.__wrapped__(x[b], coords, order, fill_mode, fill_value))
    return _restore(torch.stack(outputs), single, fmt)


def _triangle(x: Tensor) -> Tensor:
    return torch.clamp(1 - x, min=0)


def _keys_cubic(x: Tensor) -> Tensor:
    """Keys' cubic convolution kernel with a = -0.5 (``x >= 0``)."""
    near = (1.5 * x - 2.5) * x * x + 1
    far = ((-0.5 * x + 2.5) * x - 4) * x + 2
    return torch.where(x < 1, near, torch.where(x < 2, far, torch.zeros_like(x)))


def _lanczos(radius: int):
    def kernel(x: Tensor) -> Tensor:
        safe = torch.where(x > 1e-3, x, torch.ones_like(x))
        value = radius * torch.sin(torch.pi * safe) * torch.sin(torch.pi * safe / radius) / (torch.pi ** 2 * safe ** 2)
        return torch.where(x > radius, torch.zeros_like(x), torch.where(x > 1e-3, value, torch.ones_like(x)))
    return kernel


_RESAMPLE_KERNELS = {
    "linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "triangle": _triangle,
    "cubic": _keys_cubic, "bicubic": _keys_cubic, "tricubic": _keys_cubic,
    "lanczos3": _lanczos(3), "lanczos5": _lanczos(5),
}


def _resample_weights(in_size: int, out_size: int, scale: Tensor, translation: Tensor, kernel, antialias: bool) -> Tensor:
    """``(in_size, out_size)``: how much input sample ``i`` contributes to output sample ``o``."""
    dtype, device = scale.dtype, scale.device
    inv = 1 / scale
    width = torch.clamp(inv, min=1.0) if antialias else torch.ones_like(inv)
    sample = (torch.arange(out_size, dtype=dtype, device=device) + 0.5) * inv - translation * inv - 0.5
    weights = kernel((sample[None, :] - torch.arange(in_size, dtype=dtype, device=device)[:, None]).abs() / width)
    total = weights.sum(dim=0, keepdim=True)
    usable = total.abs() > 1000 * torch.finfo(torch.float32).eps
    weights = torch.where(usable, weights / torch.where(total != 0, total, torch.ones_like(total)),
                          torch.zeros_like(weights))
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return torch.where(inside[None, :], weights, torch.zeros_like(weights))


@op
def scale_and_translate(images: Any, output_shape: Any, scale: Any, translation: Any, spatial_dims: Any, method: str,
                        antialias: bool = True) -> Tensor:
    """Resample ``images`` to ``output_shape`` under ``out = in * scale + translation`` (JAX's ``scale_and_translate``).

    Formula: along each axis ``d`` of ``spatial_dims`` (half-pixel centres), output sample ``o`` sits at the
    input position ``s = (o + 0.5 - translation) / scale - 0.5``; it is ``sum_i w(|s - i| / k) x[i] / sum_i
    w(|s - i| / k)`` with the ``method``'s kernel ``w`` and ``k = max(1 / scale, 1)`` when ``antialias``
    (widened to low-pass filter when shrinking), else ``k = 1``; outputs whose ``s`` lies outside
    ``[-0.5, size - 0.5]`` are 0.

    Args:
        images: a tensor of any rank.
        output_shape: the full output shape, one int per axis; non-spatial axes keep their size (``None``
            there means "unchanged", handy for the batch axis of a functional model).
        scale: one scale per spatial axis.
        translation: one translation per spatial axis (in output pixels).
        spatial_dims: the axes resampled, e.g. ``(1, 2)`` for ``(batch, height, width, channels)``.
        method: ``"linear"`` (also ``"bilinear"``, ``"trilinear"``, ``"triangle"``), ``"cubic"`` (Keys,
            a = -0.5; also ``"bicubic"``, ``"tricubic"``), ``"lanczos3"`` or ``"lanczos5"``.
        antialias: widen the kernel when downsampling.

    Returns:
        A float tensor of ``output_shape``.

    Raises:
        ValueError: a bad ``method``, ``output_shape`` or mismatched ``scale``/``translation``/``spatial_dims``.

    Example:
        >>> scale_and_translate(torch.tensor([1.0, 2.0, 3.0]), (3,), [1.0], [1.0], [0], "linear")
        tensor([0., 1., 2.])
    """
    if method not in _RESAMPLE_KERNELS:
        raise ValueError(f"scale_and_translate(): `method` must be one of {tuple(_RESAMPLE_KERNELS)}. "
                         f"Received: method={method!r}")
    x = tensor(images)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    dims = [int(d) % x.dim() if x.dim() else int(d) for d in spatial_dims]
    shape = list(output_shape) if isinstance(output_shape, (tuple, list, torch.Size)) else None
    if shape is None or len(shape) != x.dim():
        raise ValueError(f"scale_and_translate(): `output_shape` must have one entry per axis of images ({x.dim()}). "
                         f"Received: output_shape={output_shape!r}")
    shape = [x.shape[axis] if size is None and axis not in dims else size for axis, size in enumerate(shape)]
    shape = list(_validation.int_tuple("output_shape", shape, x.dim(), allow_zero=True))
    scales = tensor(scale).to(dtype=x.dtype, device=x.device).reshape(-1)
    shifts = tensor(translation).to(dtype=x.dtype, device=x.device).reshape(-1)
    if scales.numel() != len(dims) or shifts.numel() != len(dims):
        raise ValueError(f"scale_and_translate(): `scale` and `translation` need one value per spatial dim "
                         f"({len(dims)}). Received {scales.numel()} and {shifts.numel()}")
    for axis in range(x.dim()):
        if axis not in dims and shape[axis] != x.shape[axis]:
            raise ValueError(f"scale_and_translate(): axis {axis} is not in spatial_dims, so output_shape must keep "
                             f"its size {x.shape[axis]}. Received: output_shape={tuple(output_shape)}")
    kernel = _RESAMPLE_KERNELS[method]
    for axis, s, t in zip(dims, scales, shifts):
        weights = _resample_weights(x.shape[axis], shape[axis], s, t, kernel, bool(antialias))
        x = torch.tensordot(x, weights, dims=([axis], [0])).movedim(-1, axis)
    return x
