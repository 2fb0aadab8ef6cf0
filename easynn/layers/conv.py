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

# The helpers and _Conv moved to their own modules; they are re-exported here, where the
# pooling, reshaping, transposed and separable convolution modules (and users) import them from.
from easynn.layers._conv_utils import check_rank as check_rank
from easynn.layers._conv_utils import from_nchw as from_nchw
from easynn.layers._conv_utils import normalize_data_format as normalize_data_format
from easynn.layers._conv_utils import normalize_padding as normalize_padding
from easynn.layers._conv_utils import normalize_tuple as normalize_tuple
from easynn.layers._conv_utils import pad_same_nchw as pad_same_nchw
from easynn.layers._conv_utils import same_padding as same_padding
from easynn.layers._conv_utils import to_nchw as to_nchw
from easynn.layers.conv_base import _Conv as _Conv

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D"]


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
