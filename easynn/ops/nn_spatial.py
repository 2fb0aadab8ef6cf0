"""Spatial rearrangement and adaptive pooling of ``keras.ops.nn`` (re-exported by ``easynn.ops.nn``):
``depth_to_space``, ``space_to_depth``, ``adaptive_average_pool``, ``adaptive_max_pool``, ``unfold``.

Layouts are Keras's: ``channels_last`` unless ``data_format`` (or
``easynn.config.image_data_format()``) says otherwise. ``unfold`` is torch's ``F.unfold`` (NCHW), as
Keras's ``unfold`` is on every backend.

Example:
    >>> import torch
    >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
    >>> space_to_depth(x, 2).shape, depth_to_space(space_to_depth(x, 2), 2).equal(x)
    (torch.Size([1, 2, 2, 4]), True)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation
from easynn.ops._convert import floating as _float
from easynn.ops._convert import tensor
from easynn.ops._dispatch import op
from easynn.ops.nn_conv import _data_format

Tensor = torch.Tensor

__all__ = ["depth_to_space", "space_to_depth", "adaptive_average_pool", "adaptive_max_pool", "unfold"]


def _four_d(name: str, x: Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"{name}(): `x` must be 4-D (batch, height, width, channels) or channels first. "
                         f"Received: x.shape={tuple(x.shape)}")


# ------------------------------------------------------------------------------ depth <-> space
@op
def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move channels into ``block_size x block_size`` spatial blocks (the inverse of ``space_to_depth``).

    Formula (``b = block_size``, ``C = b * b * c``):
        channels_last: ``(N, H, W, C) -> (N, H b, W b, c)`` with
        ``out[n, h b + i, w b + j, k] = x[n, h, w, (i b + j) c + k]`` (TensorFlow's order: the block
        position is the high part of the channel index).
        channels_first: ``(N, C, H, W) -> (N, c, H b, W b)`` with
        ``out[n, k, h b + i, w b + j] = x[n, k b b + i b + j, h, w]`` (torch's ``pixel_shuffle``).

    Args:
        x: a 4-D tensor.
        block_size: the block side, a positive int; the channels must be divisible by its square.
        data_format: ``"channels_last"`` (the default, as Keras) or ``"channels_first"``; ``None``
            uses ``easynn.config.image_data_format()``.

    Returns:
        The rearranged tensor, same dtype.

    Raises:
        ValueError: ``x`` not 4-D, a bad ``block_size``, or channels not divisible by ``block_size ** 2``.

    Example:
        >>> depth_to_space(torch.arange(4.0).reshape(1, 1, 1, 4), 2)[0, ..., 0]
        tensor([[0., 1.],
                [2., 3.]])
    """
    x = tensor(x)
    b = _validation.positive_int("block_size", block_size)
    fmt = _data_format(data_format)
    _four_d("depth_to_space", x)
    channels = x.shape[-1] if fmt == "channels_last" else x.shape[1]
    if channels % (b * b):
        raise ValueError(f"depth_to_space(): the channels ({channels}) must be divisible by block_size ** 2 "
                         f"({b * b}). Received: x.shape={tuple(x.shape)}, block_size={b}")
    if fmt == "channels_first":
        return F.pixel_shuffle(x, b)
    n, h, w, _ = x.shape
    out = x.reshape(n, h, w, b, b, channels // (b * b)).permute(0, 1, 3, 2, 4, 5)
    return out.reshape(n, h * b, w * b, channels // (b * b))


@op
def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move each ``block_size x block_size`` spatial block into the channels (the inverse of ``depth_to_space``).

    Formula (``b = block_size``): channels_last ``(N, H b, W b, c) -> (N, H, W, b b c)`` with
    ``out[n, h, w, (i b + j) c + k] = x[n, h b + i, w b + j, k]``; channels_first
    ``(N, c, H b, W b) -> (N, c b b, H, W)`` as torch's ``pixel_unshuffle``.

    Args:
        x: a 4-D tensor; height and width divisible by ``block_size``.
        block_size: the block side, a positive int.
        data_format: ``"channels_last"`` (the default) or ``"channels_first"``; ``None`` uses
            ``easynn.config.image_data_format()``.

    Returns:
        The rearranged tensor, same dtype.

    Raises:
        ValueError: ``x`` not 4-D, a bad ``block_size``, or height/width not divisible by it.

    Example:
        >>> space_to_depth(torch.arange(4.0).reshape(1, 2, 2, 1), 2)
        tensor([[[[0., 1., 2., 3.]]]])
    """
    x = tensor(x)
    b = _validation.positive_int("block_size", block_size)
    fmt = _data_format(data_format)
    _four_d("space_to_depth", x)
    h, w = (x.shape[1], x.shape[2]) if fmt == "channels_last" else (x.shape[2], x.shape[3])
    if h % b or w % b:
        raise ValueError(f"space_to_depth(): height and width must be divisible by block_size. "
                         f"Received: x.shape={tuple(x.shape)}, block_size={b}")
    if fmt == "channels_first":
        return F.pixel_unshuffle(x, b)
    n, _, _, c = x.shape
    out = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
    return out.reshape(n, h // b, w // b, b * b * c)


# ------------------------------------------------------------------------------ adaptive pooling
_ADAPTIVE = {
    "average": {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d},
    "max": {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d},
}


def _adaptive(name: str, kind: str, inputs: Any, output_size: Any, data_format: str | None) -> Tensor:
    x = _float(inputs)
    fmt = _data_format(data_format)
    nd = x.dim() - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"{name}(): `inputs` must be 3-D, 4-D or 5-D (batch, spatial..., channels). "
                         f"Received: inputs.shape={tuple(x.shape)}")
    size = _validation.int_tuple("output_size", output_size, nd)
    if fmt == "channels_last":
        x = x.movedim(-1, 1)
    out = _ADAPTIVE[kind][nd](x, size)
    return out.movedim(1, -1) if fmt == "channels_last" else out


@op
def adaptive_average_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> Tensor:
    """Average pooling to a fixed ``output_size``, whatever the input size (1-D, 2-D or 3-D by rank).

    Formula: along each spatial axis of length ``L`` pooled to ``O``, output ``i`` averages the input
    window ``[floor(i L / O), ceil((i + 1) L / O))`` (windows may overlap), as torch's
    ``adaptive_avg_pool``.

    Args:
        inputs: ``(batch, *spatial, channels)`` (or channels first) with 1-3 spatial axes.
        output_size: an int (every spatial axis) or a tuple with one int per spatial axis.
        data_format: ``"channels_last"`` / ``"channels_first"`` (``image_data_format()`` by default).

    Returns:
        ``(batch, *output_size, channels)`` (or channels first); integer inputs give floats.

    Raises:
        ValueError: a bad rank or ``output_size``.

    Example:
        >>> adaptive_average_pool(torch.arange(6.0).reshape(1, 6, 1), 2)[0, :, 0]
        tensor([1., 4.])
    """
    return _adaptive("adaptive_average_pool", "average", inputs, output_size, data_format)


@op
def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> Tensor:
    """Max pooling to a fixed ``output_size`` (1-D, 2-D or 3-D by rank); windows as ``adaptive_average_pool``.

    Args:
        inputs: ``(batch, *spatial, channels)`` (or channels first) with 1-3 spatial axes.
        output_size: an int or a tuple with one int per spatial axis.
        data_format: ``"channels_last"`` / ``"channels_first"`` (``image_data_format()`` by default).

    Returns:
        ``(batch, *output_size, channels)`` (or channels first).

    Raises:
        ValueError: a bad rank or ``output_size``.

    Example:
        >>> adaptive_max_pool(torch.tensor([[[1.0], [5.0], [2.0], [0.0], [3.0]]]), 2)[0, :, 0]
        tensor([5., 3.])
    """
    return _adaptive("adaptive_max_pool", "max", inputs, output_size, data_format)


# ------------------------------------------------------------------------------ unfold (im2col)
@op
def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:  # noqa: A002
    """Sliding local blocks of a batched NCHW image as columns (torch's ``F.unfold``, im2col).

    Formula: ``out[n, (c kh + i) kw + j, l] = xpad[n, c, s_h r + d_h i, s_w q + d_w j]`` for block
    ``l = r * L_w + q``, where ``L_d = floor((size_d + 2 p_d - d_d (k_d - 1) - 1) / s_d) + 1``.

    Args:
        input: ``(N, C, H, W)``, always channels first (as Keras's ``unfold``).
        kernel_size: an int or ``(kh, kw)``.
        dilation: an int or a pair; spacing between kernel taps.
        padding: an int or a pair; zeros added on both sides of each spatial axis.
        stride: an int or a pair.

    Returns:
        ``(N, C * kh * kw, L)`` with ``L = L_h * L_w`` blocks.

    Raises:
        ValueError: ``input`` not 4-D or a bad size argument.

    Example:
        >>> unfold(torch.arange(9.0).reshape(1, 1, 3, 3), 2)[0]
        tensor([[0., 1., 3., 4.],
                [1., 2., 4., 5.],
                [3., 4., 6., 7.],
                [4., 5., 7., 8.]])
    """
    x = _float(input)
    if x.dim() != 4:
        raise ValueError(f"unfold(): `input` must be 4-D (N, C, H, W). Received: input.shape={tuple(x.shape)}")
    kernel = _validation.int_tuple("kernel_size", kernel_size, 2)
    dilation = _validation.int_tuple("dilation", dilation, 2)
    padding = _validation.int_tuple("padding", padding, 2, allow_zero=True)
    stride = _validation.int_tuple("stride", stride, 2)
    return F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)
