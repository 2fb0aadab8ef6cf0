"""Saturating activations: the logistic sigmoid, tanh, softplus and softmax.

Their derivatives are functions of the output (sigmoid, tanh, softmax) or the logistic
function itself (softplus), as the lecture's table writes them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from easynn.activations._autograd import (
    _apply,
    _as_tensor,
    _f32,
    _in_place_ok,
    _one,
    _zero,
)

__all__ = ['sigmoid', 'tanh', 'softplus', 'softmax']


# ---------------------------------------------------------------------------------- sigmoid
class _SigmoidFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.sigmoid(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    # f'(x) = f(x)(1 - f(x))
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        g, y = _f32(grad), _f32(y)
        if _in_place_ok(grad):  # lerp(y, 0, y) = y - y*y in one pass, then times g
            return torch.lerp(y, _zero(y), y).mul_(g).to(grad.dtype)
        return (g * y * (1 - y)).to(grad.dtype)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid.

    Formula: ``f(x) = 1 / (1 + exp(-x))``; ``f'(x) = f(x)(1 - f(x))``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape and dtype, in ``[0, 1]``; ``sigmoid(-1e4) == 0``.

    Example:
        >>> sigmoid(torch.tensor([0.0, -1e4]))
        tensor([0.5000, 0.0000])
    """
    x = _as_tensor(x)
    output = _apply(_SigmoidFunction, x)
    output._keras_logits = x  # the binary crossentropy reads the logits (easynn.losses._logits)
    output._keras_activation = "sigmoid"
    return output


# ---------------------------------------------------------------------------------- tanh
class _TanhFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.tanh(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    # f'(x) = 1 - f(x)^2
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        g, y = _f32(grad), _f32(y)
        if _in_place_ok(grad):  # addcmul(1, y, y, -1) = 1 - y*y in one pass
            return torch.addcmul(_one(y), y, y, value=-1.0).mul_(g).to(grad.dtype)
        return (g * (1 - y * y)).to(grad.dtype)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent.

    Formula: ``f(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))``; ``f'(x) = 1 - f(x)^2``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape and dtype, in ``[-1, 1]``.

    Example:
        >>> tanh(torch.tensor([0.0, 1e4]))
        tensor([0., 1.])
    """
    return _apply(_TanhFunction, _as_tensor(x))



class _SoftplusFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        # Above the threshold log(1 + exp(x)) == x to the dtype's precision; no overflow.
        return F.softplus(x, beta=1.0, threshold=40.0 if x.dtype == torch.float64 else 20.0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    # f'(x) = 1 / (1 + exp(-x))
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g, x = _f32(grad), _f32(x)
        if _in_place_ok(grad):
            return torch.sigmoid(x).mul_(g).to(grad.dtype)
        return (g * torch.sigmoid(x)).to(grad.dtype)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """Softplus, a smooth ReLU.

    Formula: ``f(x) = log(1 + exp(x))``; ``f'(x) = 1 / (1 + exp(-x))``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape and dtype; ``softplus(1e4) == 1e4`` (never ``inf``).

    Example:
        >>> softplus(torch.tensor([0.0, 1e4]))
        tensor([6.9315e-01, 1.0000e+04])
    """
    return _apply(_SoftplusFunction, _as_tensor(x))


# ---------------------------------------------------------------------------------- softmax
class _SoftmaxFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, axis):
        return torch.softmax(x, axis)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.axis = inputs[1]
        ctx.save_for_backward(output)

    # J^T g = y * (g - sum(g * y, axis))   (Jacobian: dy_i/dx_j = y_i (I(i = j) - y_j))
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        g, y = _f32(grad), _f32(y)
        if _in_place_ok(grad):
            gy = g * y
            return gy.addcmul_(y, gy.sum(ctx.axis, keepdim=True), value=-1.0).to(grad.dtype), None
        return (y * (g - (g * y).sum(ctx.axis, keepdim=True))).to(grad.dtype), None


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Softmax along ``axis``: non-negative outputs that sum to 1.

    Formula: ``f(x)_i = exp(x_i) / sum_j exp(x_j)``; backward ``y * (g - sum(g * y, axis))``.

    Args:
        x: input tensor.
        axis: the axis to normalize along.

    Returns:
        A tensor of the same shape and dtype.

    Raises:
        TypeError: if ``axis`` is not an integer.

    Example:
        >>> softmax(torch.tensor([0.0, 0.0, 1e4]))
        tensor([0., 0., 1.])
    """
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
    x = _as_tensor(x)
    output = _apply(_SoftmaxFunction, x, axis)
    if axis == -1 or axis == x.dim() - 1:  # the crossentropies read the logits (easynn.losses._logits)
        output._keras_logits = x
        output._keras_activation = "softmax"
    return output
