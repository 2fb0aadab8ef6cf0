"""Convolution layers: Conv1D and Conv2D with Keras's arguments and channels_last default.

The lecture's convolution slides a ``kh x kw x in`` kernel over the image and sums:
``out[i, j, f] = sum_{a, b, c} x[i*s + a*d, j*s + b*d, c] * K[a, b, c, f] + bias[f]``.

Keras keeps images as ``(batch, height, width, channels)`` ("channels_last") and kernels as
``(kh, kw, in, out)``. PyTorch's kernels are ``(out, in, kh, kw)`` and its convolutions take
``(N, C, H, W)`` *shapes*, but they accept any *memory layout*. So easynn never copies data around:
a channels_last input ``x`` of shape ``(N, H, W, C)`` is viewed as ``x.permute(0, 3, 1, 2)``, an
``(N, C, H, W)`` tensor whose memory is in PyTorch's ``torch.channels_last`` format; the kernel is
stored in that format too, so cuDNN runs its NHWC kernels and the output, permuted back, is again a
free view. ``get_weights()``/``set_weights()`` still speak Keras's ``(kh, kw, in, out)`` layout.

Example:
    >>> import torch
    >>> layer = Conv2D(8, 3, padding="same")
    >>> layer(torch.zeros(2, 28, 28, 1)).shape
    torch.Size([2, 28, 28, 8])
    >>> layer.get_weights()[0].shape  # Keras layout (kh, kw, in, out)
    (3, 3, 1, 8)
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from easynn import activations, constraints, initializers, regularizers
from easynn.layers.base import Layer

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D"]


# ---------------------------------------------------------------------- shared argument helpers
def normalize_data_format(value: Any) -> str:
    """``None``/``"channels_last"`` -> ``"channels_last"``; ``"channels_first"`` stays."""
    if value is None:
        return "channels_last"
    if isinstance(value, str) and value.lower() in ("channels_last", "channels_first"):
        return value.lower()
    raise ValueError(
        "`data_format` must be 'channels_last', 'channels_first' or None. "
        f"Received: data_format={value!r}"
    )


def normalize_tuple(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of ``rank`` positive ints -> a tuple of ``rank`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank:
        values = tuple(value)
    else:
        raise ValueError(
            f"`{name}` must be an integer or a tuple of {rank} integers. Received: {name}={value!r}"
        )
    if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values):
        raise ValueError(f"`{name}` must contain positive integers. Received: {name}={value!r}")
    return values


def normalize_padding(value: Any, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    """Lower-case a padding name and check it is one of ``allowed``."""
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise ValueError(
        f"`padding` must be one of {', '.join(repr(a) for a in allowed)}. Received: padding={value!r}"
    )


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras "same" padding of one axis: ``(before, after)``, the extra one after.

    ``out = ceil(size / stride)``; ``total = max((out - 1) * stride + (kernel - 1) * dilation + 1
    - size, 0)``; ``before = total // 2``.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def to_nchw(inputs: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """View ``inputs`` as a 4-D ``(N, C, H, W)`` tensor without copying (rank 1: ``H = 1``).

    Rank 3 gives the 5-D ``(N, C, D, H, W)`` view.
    """
    if rank == 1:
        inputs = inputs.unsqueeze(1 if data_format == "channels_last" else 2)
    if data_format == "channels_last":
        return inputs.movedim(-1, 1)
    return inputs


def from_nchw(outputs: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """Inverse of :func:`to_nchw` (again a view)."""
    if data_format == "channels_last":
        outputs = outputs.movedim(1, -1)
        return outputs.squeeze(1) if rank == 1 else outputs
    return outputs.squeeze(2) if rank == 1 else outputs


def check_rank(layer: Layer, input_shape, rank: int) -> None:
    """Raise a Keras-like error unless ``input_shape`` is ``(batch, *spatial, channels)``."""
    if not isinstance(input_shape, tuple) or len(input_shape) != rank + 2:
        raise ValueError(
            f"Layer '{layer.name}' expects inputs of rank {rank + 2} (batch, "
            f"{', '.join(['spatial'] * rank)}, channels), but received input shape {input_shape}."
        )


def pad_same_nchw(x: torch.Tensor, kernel, strides, dilation, value: float = 0.0):
    """Pad an NCHW (or NCDHW) view for "same"; returns ``(x, symmetric_padding)``.

    When every axis pads symmetrically the padding is handed to the op (no copy); otherwise the
    input is padded with ``F.pad`` (extra row/column at the bottom/right, as TensorFlow does).
    """
    pads = [same_padding(size, k, s, d) for size, k, s, d in zip(x.shape[2:], kernel, strides, dilation)]
    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    flat = [p for before, after in reversed(pads) for p in (before, after)]  # F.pad: last axis first
    return F.pad(x, flat, value=value), (0,) * len(pads)


# ---------------------------------------------------------------------- the layers
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


class Conv2D(_Conv):
    """2-D convolution over images: ``activation(conv2d(inputs, kernel) + bias)``.

    Formula (channels_last): ``out[n, i, j, f] = bias[f] + sum_{a, b, c}
    x[n, i*sh + a*dh, j*sw + b*dw, c] * kernel[a, b, c, f]`` after padding.

    Args:
        filters: number of output channels.
        kernel_size: an int or ``(kh, kw)``.
        strides: an int or ``(sh, sw)``; 1 by default.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / stride)``,
            TensorFlow's rule: any odd extra padding goes at the bottom/right). Case-insensitive.
        data_format: ``"channels_last"`` (``None``, the default: ``(batch, h, w, channels)``) or
            ``"channels_first"`` (``(batch, channels, h, w)``).
        dilation_rate: an int or ``(dh, dw)``; cannot exceed 1 together with ``strides``.
        groups: number of channel groups; ``in`` and ``filters`` must be divisible by it.
        activation: name or callable applied to the output; ``None`` is linear.
        use_bias: whether to add a bias per filter.
        kernel_initializer: initializer of the Keras-layout kernel (``glorot_uniform``, fans
            ``kh*kw*in`` and ``kh*kw*filters``).
        bias_initializer: initializer of the bias (``zeros``).
        kernel_regularizer: penalty on the kernel.
        bias_regularizer: penalty on the bias.
        kernel_constraint: projection of the kernel after each update, seen in Keras's layout
            ``(kh, kw, in, out)``: ``MaxNorm(3, axis=[0, 1, 2])`` bounds each filter's norm.
        bias_constraint: projection of the bias after each update.
        **kwargs: base layer arguments (``name``, ``activity_regularizer``, ``input_shape``, ...).

    Shape:
        ``(batch, h, w, in)`` -> ``(batch, h', w', filters)`` (channels_last).

    Raises:
        ValueError: for invalid arguments or inputs of the wrong rank / channel count.

    Example:
        >>> import torch
        >>> layer = Conv2D(4, (3, 3), strides=2, padding="same")
        >>> layer(torch.zeros(1, 5, 5, 3)).shape
        torch.Size([1, 3, 3, 4])
        >>> layer.count_params()  # 3*3*3*4 + 4
        112
    """

    rank = 2


class Conv1D(_Conv):
    """1-D convolution over sequences ``(batch, steps, channels)``.

    Formula (channels_last): ``out[n, t, f] = bias[f] + sum_{a, c} x[n, t*s + a*d, c] *
    kernel[a, c, f]`` after padding.

    Args:
        filters: number of output channels.
        kernel_size: an int (or a 1-tuple).
        strides: an int; 1 by default.
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (all padding on the left, so output
            ``t`` sees only inputs up to ``t``).
        data_format: ``"channels_last"`` (``None``) or ``"channels_first"`` (``(batch, channels,
            steps)``).
        dilation_rate, groups, activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint, **kwargs: as
            for :class:`Conv2D`.

    Shape:
        ``(batch, steps, in)`` -> ``(batch, steps', filters)``; kernel ``(k, in, filters)`` in
        ``get_weights()``.

    Example:
        >>> import torch
        >>> Conv1D(2, 3)(torch.zeros(4, 10, 5)).shape
        torch.Size([4, 8, 2])
    """

    rank = 1


class Conv3D(_Conv):
    """3-D convolution over volumes ``(batch, depth, height, width, channels)``.

    Formula (channels_last): ``out[n, i, j, k, f] = bias[f] + sum_{a, b, e, c}
    x[n, i*s1 + a*d1, j*s2 + b*d2, k*s3 + e*d3, c] * kernel[a, b, e, c, f]`` after padding.

    Args:
        filters: number of output channels.
        kernel_size: an int or ``(kd, kh, kw)``.
        strides, padding, data_format, dilation_rate, groups, activation, use_bias,
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint, **kwargs: as for :class:`Conv2D` (3 values where
            Conv2D takes 2).

    Shape:
        ``(batch, d, h, w, in)`` -> ``(batch, d', h', w', filters)``; kernel ``(kd, kh, kw,
        in/groups, filters)`` in ``get_weights()``.

    Example:
        >>> import torch
        >>> layer = Conv3D(2, 3, padding="same")
        >>> layer(torch.zeros(1, 4, 4, 4, 3)).shape
        torch.Size([1, 4, 4, 4, 2])
        >>> layer.count_params()  # 3*3*3*3*2 + 2
        164
    """

    rank = 3


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
