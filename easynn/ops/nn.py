"""The neural-network family of ``keras.ops``: activations and ``polar`` here; one_hot/multi_hot and
the crossentropies in ``nn_losses``, normalisation in ``nn_normalization``, convolution, pooling,
attention and the CTC loss in ``nn_conv``, depth/space moves, adaptive pooling and ``unfold`` in
``nn_spatial``, ``ctc_decode`` in ``nn_ctc`` (all re-exported, so ``ops.nn.one_hot`` and
``ops.nn.conv`` work).

Layouts are Keras's: images are ``channels_last`` unless ``data_format`` (or
``easynn.config.image_data_format()``) says otherwise, and kernels are ``(*spatial, in, out)``.
Padding ``"same"`` pads as TensorFlow does (the extra pixel at the end), so strided convolutions
and poolings give Keras's numbers. Activations that easynn implements itself (``relu``, ``gelu``,
``softmax``...) call ``easynn.activations``, with their hand-written derivatives.

Example:
    >>> import torch
    >>> from easynn.ops import nn
    >>> nn.one_hot(torch.tensor([0, 2]), 3)
    tensor([[1., 0., 0.],
            [0., 0., 1.]])
    >>> nn.conv(torch.ones(1, 4, 4, 1), torch.ones(3, 3, 1, 2), padding="same").shape
    torch.Size([1, 4, 4, 2])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import activations as _activations
from easynn.ops._convert import floating as _float
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "log_sigmoid", "leaky_relu", "hard_sigmoid",
    "hard_silu", "hard_swish", "elu", "selu", "gelu", "celu", "glu", "hard_tanh", "hard_shrink", "soft_shrink",
    "tanh_shrink", "threshold", "squareplus", "sparse_plus", "sparsemax", "softmax", "log_softmax",
    "one_hot", "multi_hot", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "moments", "batch_normalization", "normalize", "layer_normalization", "rms_normalization",
    "conv", "conv_transpose", "depthwise_conv", "separable_conv", "max_pool", "average_pool",
    "ctc_loss", "dot_product_attention", "psnr", "sparse_sigmoid", "polar",
    "depth_to_space", "space_to_depth", "adaptive_average_pool", "adaptive_max_pool", "unfold", "ctc_decode",
]


# ------------------------------------------------------------------------------ activations
@op
def relu(x: Any) -> Tensor:
    """``max(x, 0)`` (``easynn.activations.relu``)."""
    return _activations.relu(_float(x))


@op
def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``.

    Example:
        >>> relu6(torch.tensor([-1.0, 3.0, 9.0]))
        tensor([0., 3., 6.])
    """
    return _activations.relu(_float(x), max_value=6.0)


@op
def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))`` (``easynn.activations.sigmoid``)."""
    return _activations.sigmoid(_float(x))


@op
def softplus(x: Any) -> Tensor:
    """``log(1 + exp(x))`` (``easynn.activations.softplus``)."""
    return _activations.softplus(_float(x))


@op
def sparse_sigmoid(x: Any) -> Tensor:
    """Piecewise-linear sigmoid: 0 for ``x <= -1``, ``(x + 1) / 2`` between, 1 for ``x >= 1``.

    Args:
        x: input tensor (integers are computed as floats).

    Returns:
        A tensor of ``x``'s shape in ``[0, 1]``.

    Example:
        >>> sparse_sigmoid(torch.tensor([-6.0, -1.0, 0.0, 0.5, 6.0]))
        tensor([0.0000, 0.0000, 0.5000, 0.7500, 1.0000])
    """
    x = _float(x)
    return torch.clamp((x + 1) / 2, 0.0, 1.0)


@op
def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``."""
    x = _float(x)
    return x / (1 + x.abs())


@op
def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (``easynn.activations.silu``)."""
    return _activations.silu(_float(x))


swish = silu


@op
def log_sigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    return F.logsigmoid(_float(x))


@op
def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (``easynn.activations.leaky_relu``)."""
    return _activations.leaky_relu(_float(x), negative_slope=negative_slope)


@op
def hard_sigmoid(x: Any) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between.

    Example:
        >>> hard_sigmoid(torch.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return F.hardsigmoid(_float(x))


@op
def hard_silu(x: Any) -> Tensor:
    """``x * hard_sigmoid(x)``."""
    return F.hardswish(_float(x))


hard_swish = hard_silu


@op
def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (``easynn.activations.elu``)."""
    return _activations.elu(_float(x), alpha=alpha)


@op
def selu(x: Any) -> Tensor:
    """``scale * elu(x, alpha)`` with Klambauer et al.'s constants (1.0507..., 1.6732...)."""
    return F.selu(_float(x))


@op
def gelu(x: Any, approximate: bool = True) -> Tensor:
    """``x * Phi(x)``; the tanh approximation by default, as ``keras.ops.gelu`` (``easynn.activations.gelu``)."""
    return _activations.gelu(_float(x), approximate=bool(approximate))


@op
def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return F.celu(_float(x), alpha=alpha)


@op
def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: split ``x`` in halves ``a, b`` along ``axis``, return ``a * sigmoid(b)``.

    Raises:
        ValueError: if the axis has odd length.
    """
    x = _float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu(): axis {axis} must have even length. Received shape {tuple(x.shape)}")
    return F.glu(x, dim=axis)


@op
def hard_tanh(x: Any) -> Tensor:
    """``clip(x, -1, 1)``."""
    return F.hardtanh(_float(x))


@op
def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(_float(x), lambd=threshold)


@op
def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    return F.softshrink(_float(x), lambd=threshold)


@op
def tanh_shrink(x: Any) -> Tensor:
    """``x - tanh(x)``."""
    return F.tanhshrink(_float(x))


@op
def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(_float(x), threshold, default_value)


@op
def squareplus(x: Any, b: float = 4) -> Tensor:
    """``(x + sqrt(x^2 + b)) / 2``."""
    x = _float(x)
    return (x + torch.sqrt(x * x + b)) / 2


@op
def sparse_plus(x: Any) -> Tensor:
    """0 for ``x <= -1``, ``x`` for ``x >= 1``, ``(x + 1)^2 / 4`` between."""
    x = _float(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, (x + 1) ** 2 / 4))


@op
def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis`` (Martins & Astudillo).

    Example:
        >>> sparsemax(torch.tensor([2.0, 0.0, -1.0]))
        tensor([1., 0., 0.])
    """
    x = _float(x).movedim(axis, -1)
    z = torch.sort(x, dim=-1, descending=True).values
    k = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)
    cumulative = z.cumsum(-1)
    support = (1 + k * z) > cumulative
    k_z = support.sum(-1, keepdim=True)
    tau = (cumulative.gather(-1, k_z - 1) - 1) / k_z.to(x.dtype)
    return torch.clamp(x - tau, min=0).movedim(-1, axis)


@op
def softmax(x: Any, axis: Any = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (a tuple: jointly over those axes)."""
    x = _float(x)
    if isinstance(axis, (tuple, list)):
        return torch.exp(x - torch.logsumexp(x, dim=tuple(axis), keepdim=True))
    return _activations.softmax(x, axis=axis)


@op
def log_softmax(x: Any, axis: Any = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``."""
    x = _float(x)
    if isinstance(axis, (tuple, list)):
        return x - torch.logsumexp(x, dim=tuple(axis), keepdim=True)
    return F.log_softmax(x, dim=axis)


@op
def polar(abs_: Any, angle: Any) -> Tensor:
    """The complex number with magnitude ``abs_`` and phase ``angle``: ``abs_ * (cos(angle) + i sin(angle))``.

    Args:
        abs_: magnitudes (real; integers are computed as floats).
        angle: phases in radians, broadcastable with ``abs_``.

    Returns:
        A complex tensor (complex64 for float32 inputs, complex128 for float64).

    Example:
        >>> polar(torch.tensor([2.0]), torch.tensor([0.0]))
        tensor([2.+0.j])
    """
    magnitude, phase = _float(abs_), _float(angle)
    if magnitude.is_complex() or phase.is_complex():
        raise TypeError(f"polar(): `abs_` and `angle` must be real. Received dtypes {magnitude.dtype}, {phase.dtype}")
    dtype = torch.promote_types(magnitude.dtype, phase.dtype)
    if dtype not in (torch.float32, torch.float64):
        dtype = torch.float32
    magnitude, phase = torch.broadcast_tensors(magnitude.to(dtype), phase.to(device=magnitude.device, dtype=dtype))
    return torch.polar(magnitude, phase)


# encodings and crossentropies live in nn_losses, normalisation in nn_normalization, convolution,
# pooling, attention, CTC loss and PSNR in nn_conv, depth/space moves, adaptive pooling and unfold in
# nn_spatial, CTC decoding in nn_ctc (all re-exported here as keras.ops.nn.xxx)
from easynn.ops.nn_conv import (  # noqa: E402
    average_pool,
    conv,
    conv_transpose,
    ctc_loss,
    depthwise_conv,
    dot_product_attention,
    max_pool,
    psnr,
    separable_conv,
)
from easynn.ops.nn_ctc import ctc_decode  # noqa: E402
from easynn.ops.nn_losses import (  # noqa: E402
    binary_crossentropy,
    categorical_crossentropy,
    multi_hot,
    one_hot,
    sparse_categorical_crossentropy,
)
from easynn.ops.nn_normalization import (  # noqa: E402
    batch_normalization,
    layer_normalization,
    moments,
    normalize,
    rms_normalization,
)
from easynn.ops.nn_spatial import (  # noqa: E402
    adaptive_average_pool,
    adaptive_max_pool,
    depth_to_space,
    space_to_depth,
    unfold,
)
