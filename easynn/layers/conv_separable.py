"""Depthwise and separable convolutions: DepthwiseConv1D/2D and SeparableConv1D/2D.

A depthwise convolution filters each input channel on its own with ``depth_multiplier`` kernels
(PyTorch: a grouped convolution with ``groups = in``); output channel ``c * depth_multiplier + m``
is input channel ``c`` filtered by its ``m``-th kernel. A separable convolution follows it with a
1x1 ("pointwise") convolution that mixes the channels: far fewer weights than a full convolution
(MobileNet, Xception).

Keras's layouts in ``get_weights()``: depthwise kernel ``(*kernel_size, in, depth_multiplier)``,
pointwise kernel ``(1, ..., in * depth_multiplier, filters)``.

Example:
    >>> import torch
    >>> layer = SeparableConv2D(8, 3, padding="same")
    >>> layer(torch.zeros(2, 6, 6, 4)).shape
    torch.Size([2, 6, 6, 8])
    >>> layer.count_params()  # 3*3*4 + 4*8 + 8
    76
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from easynn import activations, constraints, initializers, regularizers
from easynn.layers.base import Layer
from easynn.layers.conv import _Conv, check_rank, from_nchw, pad_same_nchw, to_nchw

__all__ = ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
           "SeparableConvolution1D", "SeparableConvolution2D"]


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether ``a`` is the weight ``b`` or a detached view of it (get_weights passes those)."""
    return a is b or (a.data_ptr() == b.data_ptr() and a.shape == b.shape)


class _DepthwiseConv(_Conv):
    """A ``_Conv`` with ``groups = in`` and ``filters = in * depth_multiplier`` fixed at build."""

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        multiplier = _positive("depth_multiplier", depth_multiplier)
        super().__init__(
            filters=multiplier, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=constraints.get(depthwise_constraint, argument="depthwise_constraint"),
            bias_constraint=bias_constraint, **kwargs,
        )
        self.depth_multiplier = multiplier

    def build(self, input_shape) -> None:
        channels = int(input_shape[-1 if self.data_format == "channels_last" else 1])
        self.groups = channels
        self.filters = channels * self.depth_multiplier
        # _Conv draws the initial kernel in the layout (*k, 1, in*dm), whose fans differ from Keras's
        # (*k, in, dm); draw Keras's values here and copy them in afterwards.
        init = self.kernel_initializer
        self.kernel_initializer = initializers.get("zeros")
        super().build(input_shape)
        self.kernel_initializer = init
        with torch.no_grad():
            value = initializers.get(init)(
                (*self.kernel_size, channels, self.depth_multiplier),
                dtype=self.kernel.dtype, device=self.kernel.device,
            )
            self.kernel.copy_(self.torch_layout(self.kernel, value))

    # torch: (in*dm, 1, *k); Keras: (*k, in, dm).
    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        if weight.dim() == self.rank + 2:
            split = weight.reshape(self.groups, self.depth_multiplier, *weight.shape[2:])
            return split.permute(*range(2, 2 + self.rank), 0, 1)
        return weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        if weight.dim() == self.rank + 2:
            moved = value.permute(self.rank, self.rank + 1, *range(self.rank))
            return moved.reshape(weight.shape)
        return value

    def compute_output_shape(self, input_shape):
        axis = -1 if self.data_format == "channels_last" else 1
        channels = input_shape[axis]
        out = list(super().compute_output_shape(input_shape))
        out[axis] = None if channels is None else channels * self.depth_multiplier
        return tuple(out)

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        config.update(
            kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            depth_multiplier=self.depth_multiplier, data_format=self.data_format,
            dilation_rate=self.dilation_rate, activation=activations.serialize(self.activation),
            use_bias=self.use_bias, depthwise_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            depthwise_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            depthwise_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each channel filtered by its own ``depth_multiplier`` kernels.

    Formula (channels_last): ``out[n, i, j, c*M + m] = bias[c*M + m] + sum_{a, b}
    x[n, i*sh + a*dh, j*sw + b*dw, c] * kernel[a, b, c, m]`` (``M = depth_multiplier``).

    Args:
        kernel_size: an int or ``(kh, kw)``.
        strides: an int or ``(sh, sw)``; 1 by default.
        padding: ``"valid"`` or ``"same"``.
        depth_multiplier: kernels per input channel; 1 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        dilation_rate: an int or ``(dh, dw)``.
        activation: name or callable; ``None`` is linear.
        use_bias: whether to add a bias per output channel.
        depthwise_initializer: initializer of the Keras-layout kernel ``(kh, kw, in, M)``.
        bias_initializer: initializer of the bias.
        depthwise_regularizer: penalty on the kernel.
        bias_regularizer: penalty on the bias.
        depthwise_constraint: projection of the kernel after each update, on the Keras layout
            ``(kh, kw, in, M)``.
        bias_constraint: projection of the bias after each update.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, in)`` -> ``(batch, h', w', in * M)``; parameters ``kh*kw*in*M + in*M``.

    Example:
        >>> import torch
        >>> layer = DepthwiseConv2D(3, depth_multiplier=2)
        >>> layer(torch.zeros(1, 5, 5, 3)).shape
        torch.Size([1, 3, 3, 6])
        >>> layer.count_params()  # 3*3*3*2 + 6
        60
    """

    rank = 2


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution over sequences ``(batch, steps, channels)``.

    Args:
        kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
        use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
        bias_regularizer, depthwise_constraint, bias_constraint, **kwargs: as for
            :class:`DepthwiseConv2D` (one value each).

    Example:
        >>> import torch
        >>> DepthwiseConv1D(3)(torch.zeros(2, 8, 4)).shape
        torch.Size([2, 6, 4])
    """

    rank = 1


class _SeparableConv(_Conv):
    """Depthwise then pointwise convolution; the pointwise step is a 1x1 ``F.conv2d``."""

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        depth_multiplier: int = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        multiplier = _positive("depth_multiplier", depth_multiplier)
        super().__init__(
            filters=filters, kernel_size=kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=constraints.get(depthwise_constraint, argument="depthwise_constraint"),
            bias_constraint=bias_constraint, **kwargs,
        )
        if self.padding == "causal":
            raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
        self.depth_multiplier = multiplier
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint, argument="pointwise_constraint")

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)
        channels = int(input_shape[-1 if self.data_format == "channels_last" else 1])
        self.input_channels = channels
        mid = channels * self.depth_multiplier
        dtype = self.dtype or torch.get_default_dtype()
        self.depthwise_kernel = self.add_weight((mid, 1, *self.kernel_size), "zeros",
                                                regularizer=self.kernel_regularizer, name="depthwise_kernel",
                                                constraint=self.kernel_constraint)
        self.pointwise_kernel = self.add_weight((self.filters, mid, *(1,) * self.rank), "zeros",
                                                regularizer=self.pointwise_regularizer, name="pointwise_kernel",
                                                constraint=self.pointwise_constraint)
        with torch.no_grad():
            depthwise = initializers.get(self.kernel_initializer)(
                (*self.kernel_size, channels, self.depth_multiplier), dtype=dtype, device=self._build_device)
            pointwise = initializers.get(self.pointwise_initializer)(
                (*(1,) * self.rank, mid, self.filters), dtype=dtype, device=self._build_device)
            self.depthwise_kernel.copy_(self.torch_layout(self.depthwise_kernel, depthwise))
            self.pointwise_kernel.copy_(self.torch_layout(self.pointwise_kernel, pointwise))
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                        name="bias", constraint=self.bias_constraint)
        else:
            self.bias = None

    # depthwise: torch (in*M, 1, *k) <-> Keras (*k, in, M); pointwise: (F, in*M, 1..) <-> (1.., in*M, F).
    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        if _same(weight, self.depthwise_kernel):
            split = weight.reshape(self.input_channels, self.depth_multiplier, *weight.shape[2:])
            return split.permute(*range(2, 2 + self.rank), 0, 1)
        if _same(weight, self.pointwise_kernel):
            return weight.permute(*range(2, 2 + self.rank), 1, 0)
        return weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        if _same(weight, self.depthwise_kernel):
            return value.permute(self.rank, self.rank + 1, *range(self.rank)).reshape(weight.shape)
        if _same(weight, self.pointwise_kernel):
            return value.permute(self.rank + 1, self.rank, *range(self.rank))
        return value

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channel_axis = -1 if self.data_format == "channels_last" else 1
        if inputs.dim() != self.rank + 2 or inputs.shape[channel_axis] != self.input_channels:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 2} with {self.input_channels} "
                f"channels ({self.data_format}), but received shape {tuple(inputs.shape)}."
            )
        if not inputs.is_floating_point():
            inputs = inputs.to(self.depthwise_kernel.dtype)
        x = to_nchw(inputs, self.rank, self.data_format)
        kernel = (1,) * (2 - self.rank) + self.kernel_size
        strides = (1,) * (2 - self.rank) + self.strides
        dilation = (1,) * (2 - self.rank) + self.dilation_rate
        padding: Any = 0
        if self.padding == "same":
            x, padding = pad_same_nchw(x, kernel, strides, dilation)
        depthwise, pointwise = self.depthwise_kernel, self.pointwise_kernel
        if self.rank == 1:
            depthwise, pointwise = depthwise.unsqueeze(2), pointwise.unsqueeze(2)
        y = F.conv2d(x, depthwise, None, strides, padding, dilation, self.input_channels)
        y = F.conv2d(y, pointwise, self.bias)
        y = from_nchw(y, self.rank, self.data_format)
        return y if self._linear else self.activation(y)

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            data_format=self.data_format, dilation_rate=self.dilation_rate, depth_multiplier=self.depth_multiplier,
            activation=activations.serialize(self.activation), use_bias=self.use_bias,
            depthwise_initializer=initializers.serialize(self.kernel_initializer),
            pointwise_initializer=initializers.serialize(self.pointwise_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            depthwise_regularizer=regularizers.serialize(self.kernel_regularizer),
            pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            depthwise_constraint=constraints.serialize(self.kernel_constraint),
            pointwise_constraint=constraints.serialize(self.pointwise_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2-D convolution: a depthwise conv, then a 1x1 conv to ``filters``.

    Formula: ``out = activation(pointwise(depthwise(x)) + bias)``.

    Args:
        filters: number of output channels.
        kernel_size: an int or ``(kh, kw)`` of the depthwise step.
        strides, padding, data_format, dilation_rate: of the depthwise step, as for :class:`Conv2D`.
        depth_multiplier: depthwise kernels per input channel; 1 by default.
        activation: name or callable; ``None`` is linear.
        use_bias: whether to add a bias per filter.
        depthwise_initializer, pointwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: penalties.
        depthwise_constraint, pointwise_constraint, bias_constraint: projections after each
            update, on the Keras layouts ``(kh, kw, in, M)``, ``(1, 1, in*M, filters)``, ``(filters,)``.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, in)`` -> ``(batch, h', w', filters)``; parameters
        ``kh*kw*in*M + in*M*filters + filters``.

    Example:
        >>> import torch
        >>> SeparableConv2D(4, 3, depth_multiplier=2)(torch.zeros(1, 5, 5, 3)).shape
        torch.Size([1, 3, 3, 4])
    """

    rank = 2


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1-D convolution over sequences ``(batch, steps, channels)``.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, depthwise_constraint,
        pointwise_constraint, bias_constraint, **kwargs: as for :class:`SeparableConv2D` (one
            value each).

    Example:
        >>> import torch
        >>> SeparableConv1D(4, 3)(torch.zeros(2, 8, 3)).shape
        torch.Size([2, 6, 4])
    """

    rank = 1


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
