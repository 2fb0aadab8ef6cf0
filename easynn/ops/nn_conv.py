"""Convolution, pooling, attention and CTC of ``keras.ops.nn`` (re-exported by ``easynn.ops.nn``).

Layouts are Keras's: images/sequences are ``channels_last`` unless ``data_format`` (or
``easynn.config.image_data_format()``) says otherwise, kernels are ``(*spatial, in, out)``, and
padding ``"same"`` pads as TensorFlow does (the extra pixel at the end), so strided convolutions
and poolings give Keras's numbers.

Example:
    >>> import torch
    >>> conv(torch.ones(1, 4, 4, 1), torch.ones(3, 3, 1, 2), padding="same").shape
    torch.Size([1, 4, 4, 2])
"""

from __future__ import annotations

import math as _math
from typing import Any

import torch
import torch.nn.functional as F

from easynn import config
from easynn.ops._convert import fail, tensor
from easynn.ops._convert import floating as _float
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = ["conv", "conv_transpose", "depthwise_conv", "separable_conv", "max_pool", "average_pool", "ctc_loss",
           "dot_product_attention", "psnr"]


# ------------------------------------------------------------------------------ convolution & pooling
def _data_format(data_format: str | None) -> str:
    value = config.image_data_format() if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
        )
    return value


def _padding(padding: str) -> str:
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    return value


def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints. Received: {name}={value}")
    return value


def _to_first(x: Tensor, data_format: str) -> Tensor:
    return x.movedim(-1, 1) if data_format == "channels_last" else x


def _from_first(x: Tensor, data_format: str) -> Tensor:
    return x.movedim(1, -1) if data_format == "channels_last" else x


def _same_pads(sizes, kernel, strides, dilation) -> list[int]:
    """F.pad arguments (last axis first) for TensorFlow's 'same' padding."""
    pads: list[int] = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        effective = (k - 1) * d + 1
        out = -(-size // s)
        total = max((out - 1) * s + effective - size, 0)
        pads = [total // 2, total - total // 2] + pads
    return pads


def _check_rank(name: str, inputs: Tensor, kernel: Tensor | None = None) -> int:
    nd = inputs.dim() - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"{name}(): `inputs` must be 3-D, 4-D or 5-D (batch, spatial..., channels). "
                         f"Received shape {tuple(inputs.shape)}")
    if kernel is not None and kernel.dim() != nd + 2:
        raise ValueError(f"{name}(): `kernel` must have rank {nd + 2} for inputs of shape {tuple(inputs.shape)}. "
                         f"Received kernel shape {tuple(kernel.shape)}")
    return nd


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _conv_first(name: str, x: Tensor, weight: Tensor, nd: int, strides, padding, dilation, groups: int) -> Tensor:
    if padding == "same":
        x = F.pad(x, _same_pads(x.shape[2:], weight.shape[2:], strides, dilation))
    try:
        return _CONV[nd](x, weight, None, strides, 0, dilation, groups)
    except RuntimeError as error:
        raise fail(name, error, inputs=x, kernel=weight) from None


@op
def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
         dilation_rate: Any = 1) -> Tensor:
    """N-D convolution (1-3 spatial axes) with a Keras kernel ``(*spatial, in_channels / groups, out_channels)``.

    Args:
        inputs: ``(batch, *spatial, channels)`` (or channels first).
        kernel: the kernel; ``in_channels / groups`` gives grouped convolution.
        strides: int or tuple.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` / ``"channels_first"`` (``image_data_format()`` by default).
        dilation_rate: int or tuple.

    Raises:
        ValueError: for ranks, channels or sizes that do not fit.
    """
    x, kernel = _float(inputs), tensor(kernel)
    nd = _check_rank("conv", x, kernel)
    fmt, padding = _data_format(data_format), _padding(padding)
    x = _to_first(x, fmt)
    in_channels = x.shape[1]
    if in_channels % kernel.shape[-2]:
        raise ValueError(
            f"conv(): inputs have {in_channels} channels, which is not a multiple of the kernel's input channels "
            f"{kernel.shape[-2]} (kernel shape {tuple(kernel.shape)})."
        )
    weight = kernel.to(x.dtype).permute(nd + 1, nd, *range(nd))
    out = _conv_first("conv", x, weight, nd, _tuple(strides, nd, "strides"), padding,
                      _tuple(dilation_rate, nd, "dilation_rate"), in_channels // kernel.shape[-2])
    return _from_first(out, fmt)


@op
def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> Tensor:
    """Depthwise convolution with a kernel ``(*spatial, in_channels, channel_multiplier)``: each input
    channel gets its own ``channel_multiplier`` filters."""
    x, kernel = _float(inputs), tensor(kernel)
    nd = _check_rank("depthwise_conv", x, kernel)
    fmt, padding = _data_format(data_format), _padding(padding)
    x = _to_first(x, fmt)
    in_channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    if x.shape[1] != in_channels:
        raise ValueError(f"depthwise_conv(): inputs have {x.shape[1]} channels but the kernel expects {in_channels} "
                         f"(kernel shape {tuple(kernel.shape)}).")
    weight = kernel.to(x.dtype).reshape(*kernel.shape[:nd], 1, in_channels * multiplier).permute(nd + 1, nd, *range(nd))
    out = _conv_first("depthwise_conv", x, weight, nd, _tuple(strides, nd, "strides"), padding,
                      _tuple(dilation_rate, nd, "dilation_rate"), in_channels)
    return _from_first(out, fmt)


@op
def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """A depthwise convolution followed by a 1x1 convolution with ``pointwise_kernel``
    ``(*ones, in_channels * multiplier, out_channels)``."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


@op
def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", output_padding: Any = None,
                   data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """Transposed convolution with a Keras kernel ``(*spatial, out_channels, in_channels)``.

    Output length per axis, as in Keras: ``in * stride + max(k - stride, 0)`` (``"valid"``) or
    ``in * stride`` (``"same"``) without ``output_padding``; with it,
    ``(in - 1) * stride + k - 2 * pad + output_padding`` (``pad = k // 2`` for ``"same"``, else 0),
    with ``k`` the dilated kernel size. ``"same"`` is the adjoint of ``conv(..., padding="same")``.
    """
    x, kernel = _float(inputs), tensor(kernel)
    nd = _check_rank("conv_transpose", x, kernel)
    fmt, padding = _data_format(data_format), _padding(padding)
    x = _to_first(x, fmt)
    strides, dilation = _tuple(strides, nd, "strides"), _tuple(dilation_rate, nd, "dilation_rate")
    if x.shape[1] != kernel.shape[-1]:
        raise ValueError(f"conv_transpose(): inputs have {x.shape[1]} channels but the kernel expects "
                         f"{kernel.shape[-1]} (kernel shape {tuple(kernel.shape)}).")
    weight = kernel.to(x.dtype).permute(nd + 1, nd, *range(nd))
    try:
        full = _CONV_T[nd](x, weight, None, strides, 0, 0, 1, dilation)
    except RuntimeError as error:
        raise fail("conv_transpose", error, inputs=x, kernel=kernel) from None
    out_pad = None if output_padding is None else _tuple(output_padding, nd, "output_padding")
    for axis in range(nd):
        size, k, s = x.shape[2 + axis], (kernel.shape[axis] - 1) * dilation[axis] + 1, strides[axis]
        if out_pad is None:
            length = size * s if padding == "same" else size * s + max(k - s, 0)
            start = max(k - s, 0) // 2 if padding == "same" else 0
        else:
            pad = k // 2 if padding == "same" else 0
            length, start = (size - 1) * s + k - 2 * pad + out_pad[axis], pad
        dim = 2 + axis
        have = full.shape[dim] - start
        if have < length:
            pads = [0, 0] * (full.dim() - dim - 1) + [0, length - have]
            full = F.pad(full, pads)
        full = full.narrow(dim, start, length)
    return _from_first(full, fmt)


def _pool(name: str, inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str | None) -> Tensor:
    x = _float(inputs)
    nd = _check_rank(name, x)
    fmt, padding = _data_format(data_format), _padding(padding)
    size = _tuple(pool_size, nd, "pool_size")
    stride = size if strides is None else _tuple(strides, nd, "strides")
    x = _to_first(x, fmt)
    if padding == "valid" and any(n < k for n, k in zip(x.shape[2:], size)):
        raise ValueError(f"{name}(): pool_size {size} is larger than the input's spatial shape {tuple(x.shape[2:])} "
                         "with padding='valid'.")
    pads = _same_pads(x.shape[2:], size, stride, (1,) * nd) if padding == "same" else [0] * (2 * nd)
    if name == "max_pool":
        padded = F.pad(x, pads, value=float("-inf")) if any(pads) else x
        out = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd](padded, size, stride)
    else:
        pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
        if any(pads):  # average over the real pixels only, as Keras does
            total = pool(F.pad(x, pads), size, stride)
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
            out = total / pool(F.pad(ones, pads), size, stride)
        else:
            out = pool(x, size, stride)
    return _from_first(out, fmt)


@op
def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> Tensor:
    """Max pooling over 1-3 spatial axes (``strides`` defaults to ``pool_size``).

    Example:
        >>> max_pool(torch.arange(16.0).reshape(1, 4, 4, 1), 2)[0, ..., 0]
        tensor([[ 5.,  7.],
                [13., 15.]])
    """
    return _pool("max_pool", inputs, pool_size, strides, padding, data_format)


@op
def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> Tensor:
    """Average pooling over 1-3 spatial axes; with ``"same"`` padding the padded pixels are not counted."""
    return _pool("average_pool", inputs, pool_size, strides, padding, data_format)


# ------------------------------------------------------------------------------ sequence & attention
@op
def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any, mask_index: int = 0) -> Tensor:
    """Connectionist temporal classification loss, one value per sample.

    Args:
        target: ``(batch, max_label_length)`` integer labels.
        output: ``(batch, max_time, num_classes)`` logits.
        target_length: ``(batch,)`` label lengths.
        output_length: ``(batch,)`` output lengths.
        mask_index: the blank class.
    """
    output = _float(output)
    log_probs = F.log_softmax(output, dim=-1).transpose(0, 1)
    target = tensor(target).long().to(output.device)
    try:
        return F.ctc_loss(log_probs, target, tensor(output_length).long(), tensor(target_length).long(),
                          blank=int(mask_index), reduction="none", zero_infinity=False)
    except RuntimeError as error:
        raise fail("ctc_loss", error, target=target, output=output) from None


@op
def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None, scale: Any = None,
                          is_causal: bool = False, flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> Tensor:
    """Scaled dot-product attention on Keras's layout ``(batch, length, heads, head_dim)``.

    ``softmax(q k^T * scale + bias, masked) v`` with ``scale = 1 / sqrt(head_dim)`` by default.
    ``mask`` is boolean, True where attention is allowed. Fewer key/value heads than query heads
    (grouped-query attention) are repeated.

    Raises:
        ValueError: for inputs that are not 4-D, or head counts that do not divide.
    """
    q, k, v = _float(query), tensor(key), tensor(value)
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError("dot_product_attention(): query, key and value must be 4-D (batch, length, heads, head_dim). "
                         f"Received {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}.")
    heads, kv_heads = q.shape[2], k.shape[2]
    if heads % kv_heads:
        raise ValueError(f"dot_product_attention(): query heads ({heads}) must be a multiple of key heads ({kv_heads}).")
    q, k, v = q.transpose(1, 2), k.to(q.dtype).transpose(1, 2), v.to(q.dtype).transpose(1, 2)
    if kv_heads != heads:
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
    scale = 1.0 / _math.sqrt(q.shape[-1]) if scale is None else float(scale)
    logits = torch.matmul(q, k.transpose(-2, -1)) * scale
    if attn_logits_soft_cap is not None:
        logits = torch.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + tensor(bias).to(logits.dtype)
    if mask is not None:
        logits = logits.masked_fill(~tensor(mask).to(torch.bool), float("-inf"))
    if is_causal:
        length_q, length_k = logits.shape[-2], logits.shape[-1]
        causal = torch.ones(length_q, length_k, dtype=torch.bool, device=logits.device).tril(length_k - length_q)
        logits = logits.masked_fill(~causal, float("-inf"))
    weights = torch.softmax(logits, dim=-1)
    return torch.matmul(weights, v).transpose(1, 2)


@op
def psnr(x1: Any, x2: Any, max_val: float) -> Tensor:
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mean((x1 - x2)^2))`` over all entries.

    Raises:
        ValueError: if the shapes differ.
    """
    x1, x2 = _float(x1), _float(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"psnr(): x1 and x2 must have the same shape. Received {tuple(x1.shape)} and {tuple(x2.shape)}.")
    mse = torch.mean((x1 - x2) ** 2)
    return 20 * _math.log10(max_val) - 10 * torch.log10(mse)
