"""``_Conv``: the shared N-D convolution behind ``Conv1D``, ``Conv2D``, ``Conv3D`` and the
depthwise/separable layers.

The kernel is stored in PyTorch's ``(out, in/groups, *k)`` layout, in channels_last memory when
the layer is channels_last (so cuDNN runs its NHWC kernels on the free ``(N, C, H, W)`` view of the
input); ``keras_layout``/``torch_layout`` translate to and from Keras's ``(*k, in/groups, out)``.
See :mod:`easynn.layers.conv` for the formula and the public layers.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from easynn import activations, constraints, initializers, regularizers
from easynn.layers._conv_utils import (
    check_rank,
    from_nchw,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    pad_same_nchw,
    to_nchw,
)
from easynn.layers.base import Layer

__all__: list[str] = []  # private: the public layers are in easynn.layers.conv


class _Conv(Layer):
    """Shared N-D convolution: rank 1 or 2 with ``F.conv2d`` on an NCHW view, rank 3 with ``F.conv3d``."""

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
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
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"`groups` must be a positive integer. Received: groups={groups!r}")
        if filters % groups:
            raise ValueError(
                f"`filters` must be divisible by `groups`. Received: filters={filters}, groups={groups}"
            )
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        allowed = ("valid", "same", "causal") if self.rank == 1 else ("valid", "same")
        self.padding = normalize_padding(padding, allowed)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` is not compatible with `dilation_rate > 1`. "
                f"Received: strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.groups = groups
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

    # The kernel lives as (out, in/groups, kh, kw) [rank 1: (out, in/groups, k)]; Keras's layout is
    # (kh, kw, in/groups, out) [(k, in/groups, out)].
    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        if weight.dim() == self.rank + 2:  # the kernel (the bias is 1-D)
            return weight.permute(*range(2, 2 + self.rank), 1, 0)
        return weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        if weight.dim() == self.rank + 2:
            return value.permute(self.rank + 1, self.rank, *range(self.rank))
        return value

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)
        channel_axis = -1 if self.data_format == "channels_last" else 1
        channels = int(input_shape[channel_axis])
        if channels % self.groups:
            raise ValueError(
                f"Layer '{self.name}': the number of input channels must be divisible by `groups`. "
                f"Received: input channels={channels}, groups={self.groups}"
            )
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        extents = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation_rate)]
        if self.padding == "valid" and any(s is not None and s < e for s, e in zip(spatial, extents)):
            raise ValueError(
                f"Layer '{self.name}': the (dilated) kernel of size {tuple(extents)} is larger than the "
                f"input's spatial size {tuple(spatial)} with padding='valid', so the output would be "
                f"empty. Use padding='same' or a smaller kernel_size. Received input shape {tuple(input_shape)}."
            )
        self.input_channels = channels
        keras_shape = (*self.kernel_size, channels // self.groups, self.filters)
        # Fans are Keras's (computed on the Keras shape), then the values move to torch's layout.
        with torch.no_grad():
            value = initializers.get(self.kernel_initializer)(
                keras_shape, dtype=self.dtype or torch.get_default_dtype(), device=self._build_device
            )
        self.kernel = self.add_weight(
            (self.filters, channels // self.groups, *self.kernel_size), "zeros",
            regularizer=self.kernel_regularizer, name="kernel", constraint=self.kernel_constraint,
        )
        with torch.no_grad():
            if self.data_format == "channels_last":
                self.kernel.data = self._nhwc_kernel_storage()
            self.kernel.copy_(self.torch_layout(self.kernel, value))
        if self.use_bias:
            self.bias = self.add_weight(
                (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer, name="bias",
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _nhwc_kernel_storage(self) -> torch.Tensor:
        """An empty kernel whose memory is channels_last (``in`` fastest), as cuDNN NHWC wants."""
        k = self.kernel
        if self.rank == 2:
            return torch.empty_like(k, memory_format=torch.channels_last)
        if self.rank == 3:
            return torch.empty_like(k, memory_format=torch.channels_last_3d)
        # (out, k, in) contiguous viewed as (out, in, k): unsqueeze(2) is channels_last 4-D.
        return torch.empty((k.shape[0], k.shape[2], k.shape[1]), dtype=k.dtype, device=k.device).permute(0, 2, 1)

    def _kernel4d(self) -> torch.Tensor:
        return self.kernel if self.rank >= 2 else self.kernel.unsqueeze(2)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channel_axis = -1 if self.data_format == "channels_last" else 1
        if inputs.dim() != self.rank + 2 or inputs.shape[channel_axis] != self.input_channels:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 2} with "
                f"{self.input_channels} channels ({self.data_format}), but received shape "
                f"{tuple(inputs.shape)}."
            )
        if not inputs.is_floating_point():  # integer data (uint8 images): compute in float
            inputs = inputs.to(self.kernel.dtype)
        x = to_nchw(inputs, self.rank, self.data_format)
        kernel = (1,) * (2 - self.rank) + self.kernel_size
        strides = (1,) * (2 - self.rank) + self.strides
        dilation = (1,) * (2 - self.rank) + self.dilation_rate
        padding: Any = 0
        if self.padding == "same":
            x, padding = pad_same_nchw(x, kernel, strides, dilation)
        elif self.padding == "causal":  # Conv1D only: all the padding goes on the left
            x = F.pad(x, ((kernel[1] - 1) * dilation[1], 0))
        conv = F.conv3d if self.rank == 3 else F.conv2d
        y = conv(x, self._kernel4d(), self.bias, strides, padding, dilation, self.groups)
        y = from_nchw(y, self.rank, self.data_format)
        return y if self._linear else self.activation(y)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        out = []
        for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate):
            if size is None:
                out.append(None)
            elif self.padding in ("same", "causal"):
                out.append(-(-size // s) if self.padding == "same" else size)
            else:
                out.append((size - (k - 1) * d - 1) // s + 1)
        if self.data_format == "channels_last":
            return (input_shape[0], *out, self.filters)
        return (input_shape[0], self.filters, *out)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
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
            f"name={self.name!r}, in={self.input_channels}, filters={self.filters}, "
            f"kernel_size={self.kernel_size}, strides={self.strides}, padding={self.padding!r}, "
            f"data_format={self.data_format!r}, activation={activations.serialize(self.activation)}"
        )
