"""Pooling layers: max/average pooling over windows, and global pooling.

The lecture's pooling replaces each ``p x p`` window by its maximum (or mean), shrinking the
feature map while keeping the channels. Keras's layout is channels_last ``(batch, h, w, c)``; as in
:mod:`easynn.layers.conv`, the input is viewed (not copied) as an NCHW tensor in
``torch.channels_last`` memory and pooled with PyTorch's own kernels.

Example:
    >>> import torch
    >>> MaxPooling2D()(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
    tensor([[ 5.,  7.],
            [13., 15.]])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.base import Layer
from easynn.layers.conv import (
    check_rank,
    from_nchw,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    same_padding,
    to_nchw,
)
from easynn.layers.masking import masked_max, masked_mean

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
    "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "GlobalMaxPool3D",
]


class _Pooling(Layer):
    """Windowed pooling of rank 1 or 2, computed on a 4-D NCHW view (rank 3: a 5-D NCDHW view)."""

    rank = 2
    mode = "max"

    def __init__(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != self.rank + 2:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 2}, but received shape "
                f"{tuple(inputs.shape)}."
            )
        x = to_nchw(inputs, self.rank, self.data_format)
        if self.rank == 3 and self.mode == "average" and x.device.type == "cpu" and x.dtype in (
            torch.float16, torch.bfloat16
        ):  # PyTorch has no half-precision avg_pool3d on the CPU: compute in float32
            return self.call(inputs.float()).to(inputs.dtype)
        kernel = (1,) * (2 - self.rank) + self.pool_size
        strides = (1,) * (2 - self.rank) + self.strides
        pads = [(0, 0)] * len(kernel)
        if self.padding == "same":
            pads = [same_padding(size, k, s) for size, k, s in zip(x.shape[2:], kernel, strides)]
        symmetric = all(before == after for before, after in pads)
        flat = [p for before, after in reversed(pads) for p in (before, after)]  # F.pad order
        max_pool, avg_pool = (F.max_pool3d, F.avg_pool3d) if self.rank == 3 else (F.max_pool2d, F.avg_pool2d)
        if self.mode == "max":
            if not symmetric:
                x = F.pad(x, flat, value=float("-inf"))
                pads = [(0, 0)] * len(kernel)
            y = max_pool(x, kernel, strides, tuple(p for p, _ in pads))
        elif symmetric:
            # Keras averages over the real inputs only: padding is not counted.
            y = avg_pool(x, kernel, strides, tuple(p for p, _ in pads), count_include_pad=False)
        else:
            # Asymmetric "same": sum of the zero-padded window / number of real inputs in it.
            y = avg_pool(F.pad(x, flat), kernel, strides)
            ones = x.new_ones((1, 1, *x.shape[2:]))
            y = y / avg_pool(F.pad(ones, flat), kernel, strides)
        return from_nchw(y, self.rank, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        out = []
        for size, k, s in zip(spatial, self.pool_size, self.strides):
            if size is None:
                out.append(None)
            elif self.padding == "same":
                out.append(-(-size // s))
            else:
                out.append((size - k) // s + 1)
        if self.data_format == "channels_last":
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            pool_size=self.pool_size, strides=self.strides, padding=self.padding,
            data_format=self.data_format,
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, "
            f"padding={self.padding!r}, data_format={self.data_format!r}"
        )


class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows: ``out[i, j, c] = max_{a, b} x[i*sh + a, j*sw + b, c]``.

    Args:
        pool_size: an int or ``(ph, pw)``; 2 by default.
        strides: an int or ``(sh, sw)``; ``None`` (default) means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's rule; padding never wins the max).
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, h', w', c)``.

    Example:
        >>> import torch
        >>> MaxPooling2D((2, 2))(torch.zeros(1, 5, 5, 3)).shape
        torch.Size([1, 2, 2, 3])
    """

    rank, mode = 2, "max"


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows; with ``"same"`` the padding is left out of the mean.

    Args:
        pool_size, strides, padding, data_format, **kwargs: as for :class:`MaxPooling2D`.

    Example:
        >>> import torch
        >>> AveragePooling2D(2)(torch.arange(4.0).reshape(1, 2, 2, 1)).flatten()
        tensor([1.5000])
    """

    rank, mode = 2, "average"


class MaxPooling1D(_Pooling):
    """Max over windows of a sequence ``(batch, steps, channels)``.

    Args:
        pool_size: an int; 2 by default.
        strides: an int; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (``None``) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> MaxPooling1D()(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten()
        tensor([3., 2.])
    """

    rank, mode = 1, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows of a sequence ``(batch, steps, channels)``.

    Args:
        pool_size, strides, padding, data_format, **kwargs: as for :class:`MaxPooling1D`.

    Example:
        >>> import torch
        >>> AveragePooling1D()(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten()
        tensor([2., 1.])
    """

    rank, mode = 1, "average"


class _GlobalPooling(Layer):
    """Mean or max over every spatial axis."""

    rank = 2
    mode = "average"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(first, first + self.rank))

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != self.rank + 2:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 2}, but received shape "
                f"{tuple(inputs.shape)}."
            )
        if self.mode == "average":
            return inputs.mean(dim=self._axes, keepdim=self.keepdims)
        return inputs.amax(dim=self._axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.keepdims:
            return tuple(1 if i in self._axes else s for i, s in enumerate(input_shape))
        return tuple(s for i, s in enumerate(input_shape) if i not in self._axes)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}, keepdims={self.keepdims}"


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: ``(batch, h, w, c)`` -> ``(batch, c)``.

    Args:
        data_format: ``"channels_last"`` (``None``) or ``"channels_first"``.
        keepdims: keep the pooled axes with size 1 (``(batch, 1, 1, c)``).
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> GlobalAveragePooling2D()(torch.ones(2, 3, 3, 4)).shape
        torch.Size([2, 4])
    """

    rank, mode = 2, "average"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width: ``(batch, h, w, c)`` -> ``(batch, c)``.

    Args:
        data_format, keepdims, **kwargs: as for :class:`GlobalAveragePooling2D`.

    Example:
        >>> import torch
        >>> GlobalMaxPooling2D(keepdims=True)(torch.ones(2, 3, 3, 4)).shape
        torch.Size([2, 1, 1, 4])
    """

    rank, mode = 2, "max"


class _GlobalPooling1D(_GlobalPooling):
    """Global pooling over time that skips masked timesteps (Keras's ``mask`` argument).

    With ``mask`` (bool ``(batch, steps)``, passed explicitly or carried by the input):
    average ``sum_t m_t x_t / sum_t m_t``, max over the steps with ``m_t``. The output has no
    time axis, so it carries no mask.
    """

    supports_masking = True

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        if mask is None:
            return super().call(inputs)
        if inputs.dim() != 3:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 3, but received shape {tuple(inputs.shape)}."
            )
        axis = self._axes[0]
        reduce = masked_mean if self.mode == "average" else masked_max
        out = reduce(inputs, mask, axis=axis)
        return out.unsqueeze(axis) if self.keepdims else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over time: ``(batch, steps, c)`` -> ``(batch, c)``; with a mask, over the real steps.

    Args:
        data_format, keepdims, **kwargs: as for :class:`GlobalAveragePooling2D`.

    Example:
        >>> import torch
        >>> GlobalAveragePooling1D()(torch.ones(2, 5, 4)).shape
        torch.Size([2, 4])
    """

    rank, mode = 1, "average"


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over time: ``(batch, steps, c)`` -> ``(batch, c)``; with a mask, over the real steps.

    Args:
        data_format, keepdims, **kwargs: as for :class:`GlobalAveragePooling2D`.

    Example:
        >>> import torch
        >>> GlobalMaxPooling1D()(torch.ones(2, 5, 4)).shape
        torch.Size([2, 4])
    """

    rank, mode = 1, "max"


class MaxPooling3D(_Pooling):
    """Max over ``pool_size`` windows of a volume ``(batch, d, h, w, channels)``.

    Args:
        pool_size: an int or ``(pd, ph, pw)``; 2 by default.
        strides: an int or a 3-tuple; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (``None``) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> MaxPooling3D()(torch.zeros(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank, mode = 3, "max"


class AveragePooling3D(_Pooling):
    """Mean over ``pool_size`` windows of a volume; with ``"same"`` the padding is not counted.

    Args:
        pool_size, strides, padding, data_format, **kwargs: as for :class:`MaxPooling3D`.

    Example:
        >>> import torch
        >>> AveragePooling3D(2)(torch.arange(8.0).reshape(1, 2, 2, 2, 1)).flatten()
        tensor([3.5000])
    """

    rank, mode = 3, "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over depth, height and width: ``(batch, d, h, w, c)`` -> ``(batch, c)``.

    Args:
        data_format, keepdims, **kwargs: as for :class:`GlobalAveragePooling2D`.

    Example:
        >>> import torch
        >>> GlobalAveragePooling3D(keepdims=True)(torch.ones(2, 3, 3, 3, 4)).shape
        torch.Size([2, 1, 1, 1, 4])
    """

    rank, mode = 3, "average"


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over depth, height and width: ``(batch, d, h, w, c)`` -> ``(batch, c)``.

    Args:
        data_format, keepdims, **kwargs: as for :class:`GlobalAveragePooling2D`.

    Example:
        >>> import torch
        >>> GlobalMaxPooling3D()(torch.ones(2, 3, 3, 3, 4)).shape
        torch.Size([2, 4])
    """

    rank, mode = 3, "max"


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
