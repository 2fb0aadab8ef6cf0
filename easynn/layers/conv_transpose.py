"""Transposed convolutions: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose (one N-d implementation).

A transposed convolution is the gradient of a convolution with respect to its input: each input
pixel scatters ``value * kernel`` into a ``stride``-spaced output window, so a stride of 2 doubles
the spatial size. It is what decoders, segmenters and GAN generators use to upsample.

Keras's sizes per spatial axis (``k`` the dilated kernel extent ``(kernel - 1) * dilation + 1``):

* ``output_padding=None``: ``"valid"`` gives ``in * s + max(k - s, 0)``; ``"same"`` gives
  ``in * s`` (the transposed conv of TensorFlow's "same" convolution: the full output cropped by
  ``max(k - s, 0) // 2`` at the start);
* ``output_padding=op``: ``(in - 1) * s + k - 2 * pad + op`` with ``pad = k // 2`` for "same", 0
  for "valid".

The work is one ``F.conv_transpose{1,2,3}d`` call on a channels-first *view* of the input; when
PyTorch cannot express the size directly, the result is narrowed (a view, no copy). Keras stores
the kernel as ``(*kernel_size, filters, in)``; ``get_weights()``/``set_weights()`` use that layout.

Example:
    >>> import torch
    >>> layer = Conv2DTranspose(8, 3, strides=2, padding="same")
    >>> layer(torch.zeros(2, 7, 7, 4)).shape
    torch.Size([2, 14, 14, 8])
    >>> layer.get_weights()[0].shape  # Keras layout (kh, kw, filters, in)
    (3, 3, 8, 4)
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from easynn import activations, constraints, initializers, regularizers
from easynn.layers.base import Layer
from easynn.layers.conv import check_rank, normalize_data_format, normalize_padding, normalize_tuple

__all__ = [
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
]

_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def transpose_output_length(size, kernel: int, stride: int, padding: str, output_padding: int | None,
                            dilation: int = 1):
    """Keras's output length of a transposed convolution along one axis (``None`` stays ``None``)."""
    if size is None:
        return None
    extent = (kernel - 1) * dilation + 1
    if output_padding is None:
        return size * stride + (max(extent - stride, 0) if padding == "valid" else 0)
    pad = extent // 2 if padding == "same" else 0
    return (size - 1) * stride + extent - 2 * pad + output_padding


def _crop_before(kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int) -> int:
    """How many leading positions of the full transposed output Keras drops on one axis."""
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0
    if output_padding is None:
        return max(extent - stride, 0) // 2
    return extent // 2


class _ConvTranspose(Layer):
    """Shared N-d transposed convolution (rank 1, 2 or 3)."""

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"`filters` must be a positive integer. Received: filters={filters!r}")
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        if output_padding is None:
            self.output_padding = None
        else:
            values = (output_padding,) * self.rank if isinstance(output_padding, int) else tuple(output_padding)
            if len(values) != self.rank or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
                raise ValueError(
                    f"`output_padding` must be a non-negative integer or a tuple of {self.rank} such integers. "
                    f"Received: output_padding={output_padding!r}"
                )
            if any(op >= s for op, s in zip(values, self.strides)):
                raise ValueError(
                    "`output_padding` must be smaller than `strides` along every axis. "
                    f"Received: output_padding={values}, strides={self.strides}"
                )
            self.output_padding = values
        self.activation = activations.get(activation)
        self._linear = self.activation is activations.get(None)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")
        self.input_channels: int | None = None

    # torch stores the kernel as (in, filters, *k); Keras as (*k, filters, in).
    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        if weight.dim() == self.rank + 2:
            return weight.permute(*range(2, 2 + self.rank), 1, 0)
        return weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        if weight.dim() == self.rank + 2:
            return value.permute(self.rank + 1, self.rank, *range(self.rank))
        return value

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)
        channels = int(input_shape[-1 if self.data_format == "channels_last" else 1])
        self.input_channels = channels
        keras_shape = (*self.kernel_size, self.filters, channels)
        with torch.no_grad():  # fans are Keras's (on its layout); values then move to torch's
            value = initializers.get(self.kernel_initializer)(
                keras_shape, dtype=self.dtype or torch.get_default_dtype(), device=self._build_device
            )
        self.kernel = self.add_weight((channels, self.filters, *self.kernel_size), "zeros",
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      constraint=self.kernel_constraint)
        with torch.no_grad():
            if self.data_format == "channels_last" and self.rank in (2, 3):
                fmt = torch.channels_last if self.rank == 2 else torch.channels_last_3d
                self.kernel.data = torch.empty_like(self.kernel, memory_format=fmt)
            self.kernel.copy_(self.torch_layout(self.kernel, value))
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                        name="bias", constraint=self.bias_constraint)
        else:
            self.bias = None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channel_axis = -1 if self.data_format == "channels_last" else 1
        if inputs.dim() != self.rank + 2 or inputs.shape[channel_axis] != self.input_channels:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 2} with {self.input_channels} "
                f"channels ({self.data_format}), but received shape {tuple(inputs.shape)}."
            )
        if not inputs.is_floating_point():
            inputs = inputs.to(self.kernel.dtype)
        x = inputs.movedim(-1, 1) if self.data_format == "channels_last" else inputs
        ops = self.output_padding or (None,) * self.rank
        crops, torch_ops, lengths = [], [], []
        for size, k, s, d, op in zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate, ops):
            before = _crop_before(k, s, self.padding, op, d)
            length = transpose_output_length(size, k, s, self.padding, op, d)
            full = (size - 1) * s + (k - 1) * d + 1
            crops.append(before)
            torch_ops.append(length - full + 2 * before)  # the zeros torch must add at the end
            lengths.append(length)
        exact = all(0 <= op < max(s, d) for op, s, d in zip(torch_ops, self.strides, self.dilation_rate))
        y = _CONV_TRANSPOSE[self.rank](
            x, self.kernel, self.bias, self.strides, tuple(crops),
            tuple(torch_ops) if exact else tuple(max(op, 0) for op in torch_ops), 1, self.dilation_rate,
        )
        if not exact:  # "same" with an odd k - s: the last position is dropped (a view)
            for axis, length in enumerate(lengths):
                y = y.narrow(axis + 2, 0, length)
        if self.data_format == "channels_last":
            y = y.movedim(1, -1)
        return y if self._linear else self.activation(y)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        ops = self.output_padding or (None,) * self.rank
        out = [transpose_output_length(size, k, s, self.padding, op, d)
               for size, k, s, d, op in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, ops)]
        if self.data_format == "channels_last":
            return (input_shape[0], *out, self.filters)
        return (input_shape[0], self.filters, *out)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            output_padding=self.output_padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, in={self.input_channels}, filters={self.filters}, kernel_size={self.kernel_size}, "
            f"strides={self.strides}, padding={self.padding!r}, output_padding={self.output_padding}, "
            f"data_format={self.data_format!r}"
        )


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"): upsamples images by ``strides``.

    Formula (channels_last, before cropping): ``out[n, i*sh + a*dh, j*sw + b*dw, f] +=
    x[n, i, j, c] * kernel[a, b, f, c]``, plus ``bias[f]``.

    Args:
        filters: number of output channels.
        kernel_size: an int or ``(kh, kw)``.
        strides: an int or ``(sh, sw)``; 1 by default.
        padding: ``"valid"`` or ``"same"`` (case-insensitive); see the module docstring for sizes.
        output_padding: ``None`` (default) or an int / pair, each smaller than the stride: extra
            rows/columns at the end of the output.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        dilation_rate: an int or ``(dh, dw)``.
        activation: name or callable applied to the output; ``None`` is linear.
        use_bias: whether to add a bias per filter.
        kernel_initializer: initializer of the Keras-layout kernel ``(kh, kw, filters, in)``.
        bias_initializer: initializer of the bias (``zeros``).
        kernel_regularizer: penalty on the kernel.
        bias_regularizer: penalty on the bias.
        kernel_constraint: projection of the kernel after each update, on the Keras layout
            ``(kh, kw, filters, in)``.
        bias_constraint: projection of the bias after each update.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, in)`` -> ``(batch, h', w', filters)``; parameters ``kh*kw*in*filters + filters``.

    Raises:
        ValueError: for invalid arguments (e.g. ``output_padding >= strides``) or inputs of the
            wrong rank / channel count.

    Example:
        >>> import torch
        >>> layer = Conv2DTranspose(8, 3)
        >>> layer(torch.zeros(1, 5, 5, 4)).shape
        torch.Size([1, 7, 7, 8])
        >>> layer.count_params()  # 3*3*4*8 + 8
        296
    """

    rank = 2


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over sequences ``(batch, steps, channels)``.

    Args:
        filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint, **kwargs: as for
            :class:`Conv2DTranspose` (one value per argument).

    Shape:
        ``(batch, steps, in)`` -> ``(batch, steps', filters)``; kernel ``(k, filters, in)``.

    Example:
        >>> import torch
        >>> Conv1DTranspose(2, 3, strides=2)(torch.zeros(4, 5, 3)).shape
        torch.Size([4, 11, 2])
    """

    rank = 1


class Conv3DTranspose(_ConvTranspose):
    """3-D transposed convolution over volumes ``(batch, d, h, w, channels)``.

    Args:
        filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint, **kwargs: as for
            :class:`Conv2DTranspose` (three values per argument).

    Shape:
        ``(batch, d, h, w, in)`` -> ``(batch, d', h', w', filters)``; kernel ``(kd, kh, kw, filters, in)``.

    Example:
        >>> import torch
        >>> Conv3DTranspose(2, 2, strides=2)(torch.zeros(1, 2, 3, 4, 5)).shape
        torch.Size([1, 4, 6, 8, 2])
    """

    rank = 3


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
