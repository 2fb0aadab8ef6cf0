"""Rectifiers: relu, leaky_relu, prelu and elu (piecewise-linear below or above zero).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from easynn.activations._autograd import (
    _LOW_PRECISION,  # noqa: F401
    _apply,
    _as_tensor,
    _check_number,
    _f32,
    _in_place_ok,
    _one,
)

__all__ = ['relu', 'leaky_relu', 'prelu', 'elu']

_THRESHOLD_BACKWARD = torch.ops.aten.threshold_backward.default


# ---------------------------------------------------------------------------------- relu
class _ReLUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.relu(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    # f'(x) = I(x > 0), and x > 0 exactly where f(x) > 0: grad * I(y > 0) in one kernel
    # (threshold_backward keeps grad where y > 0 and writes 0 elsewhere; it is differentiable,
    # batched under vmap and exact in every dtype).
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _THRESHOLD_BACKWARD(grad, y, 0)


def relu(x: torch.Tensor, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> torch.Tensor:
    """Rectified linear unit, with Keras's optional slope, cap and threshold.

    Formula: ``f(x) = max(0, x)``; ``f'(x) = I(x > 0)``. In general (Keras's ``relu``):
    ``f(x) = x`` for ``x >= threshold``, ``negative_slope * (x - threshold)`` below it, then
    ``min(f(x), max_value)``.

    Args:
        x: input tensor.
        negative_slope: slope below the threshold (``0`` is the plain ReLU).
        max_value: cap on the output (``6`` gives ReLU6), or ``None``.
        threshold: where the function switches from the slope to the identity.

    Returns:
        A tensor of the same shape and dtype.

    Raises:
        ValueError: for a negative ``max_value``.

    Example:
        >>> relu(torch.tensor([-2.0, 0.0, 3.0]))
        tensor([0., 0., 3.])
        >>> relu(torch.tensor([-2.0, 3.0, 9.0]), max_value=6.0)
        tensor([0., 3., 6.])
    """
    x = _as_tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _apply(_ReLUFunction, x)  # the lecture's ReLU: the hot path
    if max_value is not None and max_value < 0:
        raise ValueError(f"`max_value` must be non-negative or None. Received: max_value={max_value}")
    if threshold == 0.0:
        out = _apply(_ReLUFunction, x) if negative_slope == 0.0 else leaky_relu(x, negative_slope)
    else:  # composed of torch ops; autograd differentiates it
        out = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    return out if max_value is None else torch.clamp(out, max=max_value)


# ---------------------------------------------------------------------------------- leaky_relu
class _LeakyReLUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, negative_slope):
        return F.leaky_relu(x, negative_slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, negative_slope = inputs
        ctx.negative_slope = negative_slope
        # With a slope >= 0 the output is positive exactly where the input is.
        ctx.save_for_backward(output if negative_slope >= 0 else x)

    # f'(x) = I(x > 0) + a * I(x <= 0)
    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        a = ctx.negative_slope
        g, z = _f32(grad), _f32(z)
        if _in_place_ok(grad):
            if 0.0 <= a <= 1.0:  # sign(z) in {-1, 0, 1}, clamped to [a, 1], is f'(x)
                d = torch.sign(z).clamp_(min=a, max=1.0)
            else:  # a + (1 - a) * I(z > 0)
                d = torch.sign(z).clamp_(min=0.0).mul_(1.0 - a).add_(a)
            return d.mul_(g).to(grad.dtype), None
        return (g * torch.where(z > 0, 1.0, a)).to(grad.dtype), None


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """Leaky rectified linear unit (Keras's default slope 0.2; torch's is 0.01).

    Formula: ``f(x) = x if x > 0 else negative_slope * x``;
    ``f'(x) = I(x > 0) + negative_slope * I(x <= 0)``.

    Args:
        x: input tensor.
        negative_slope: slope for ``x <= 0``.

    Returns:
        A tensor of the same shape and dtype.

    Raises:
        TypeError: if ``negative_slope`` is not a number.

    Example:
        >>> leaky_relu(torch.tensor([-1.0, 2.0]))
        tensor([-0.2000,  2.0000])
    """
    negative_slope = _check_number("negative_slope", negative_slope)
    return _apply(_LeakyReLUFunction, _as_tensor(x), negative_slope)


# ---------------------------------------------------------------------------------- prelu
class _PReLUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, alpha):
        if alpha.numel() == 1 or (
            x.dim() == 2 and alpha.dim() > 0 and alpha.numel() == alpha.shape[-1] == x.shape[1]
        ):
            # torch's kernel takes a slope per channel of axis 1 (or one slope): same values
            return F.prelu(x, alpha.reshape(-1))
        # max(0, x) + alpha * min(0, x): exact for any alpha (no x - (1 - alpha) x cancellation).
        return torch.addcmul(torch.relu(x), torch.clamp_max(x, 0), alpha)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, alpha = inputs
        ctx.save_for_backward(x, alpha)

    # df/dx = I(x > 0) + alpha * I(x <= 0);  df/dalpha = min(0, x)
    @staticmethod
    def backward(ctx, grad):
        x, alpha = ctx.saved_tensors
        g, x32, a = _f32(grad), _f32(x), _f32(alpha)
        grad_x = grad_alpha = None
        if _in_place_ok(grad):
            if ctx.needs_input_grad[0]:  # lerp(alpha, 1, I(x > 0)) = f'(x), one pass
                d = torch.sign(x32).clamp_(min=0.0)
                grad_x = torch.lerp(a, _one(a), d, out=d).mul_(g).to(grad.dtype)
            if ctx.needs_input_grad[1]:
                grad_alpha = torch.clamp_max(x32, 0).mul_(g).sum_to_size(alpha.shape)
        else:
            if ctx.needs_input_grad[0]:
                grad_x = g * torch.where(x32 > 0, _one(a), a)
            if ctx.needs_input_grad[1]:
                grad_alpha = (g * torch.clamp_max(x32, 0)).sum_to_size(alpha.shape)
        if grad_x is not None:
            grad_x = grad_x.to(grad.dtype)
        if grad_alpha is not None:
            grad_alpha = grad_alpha.to(alpha.dtype)
        return grad_x, grad_alpha


def prelu(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Parametric ReLU: a leaky ReLU whose slopes ``alpha`` are learned.

    Formula: ``f(x) = max(0, x) + alpha * min(0, x)``; ``df/dx = I(x > 0) + alpha * I(x <= 0)``,
    ``df/dalpha = min(0, x)`` (summed over the axes ``alpha`` is broadcast along).

    Args:
        x: input tensor.
        alpha: slopes, broadcastable to ``x`` the NumPy way (trailing axes aligned), e.g. shape
            ``x.shape[1:]`` for one slope per unit, or ``(1, 1, C)`` for one per channel.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Raises:
        TypeError: if ``alpha`` is not a tensor.
        ValueError: if ``alpha`` does not broadcast to ``x``'s shape.

    Example:
        >>> prelu(torch.tensor([[-1.0, 2.0]]), torch.tensor([0.5, 0.1]))
        tensor([[-0.5000,  2.0000]])
    """
    x = _as_tensor(x)
    if not isinstance(alpha, torch.Tensor):
        raise TypeError(f"`alpha` must be a torch.Tensor. Received: alpha={alpha!r}")
    try:
        shape = torch.broadcast_shapes(x.shape, alpha.shape)
    except RuntimeError:
        shape = None
    if shape != x.shape:
        raise ValueError(
            "`alpha` must broadcast to the input's shape. "
            f"Received: alpha.shape={tuple(alpha.shape)} for input shape {tuple(x.shape)}"
        )
    if alpha.dtype != x.dtype:
        alpha = alpha.to(x.dtype)
    return _apply(_PReLUFunction, x, alpha)


# ---------------------------------------------------------------------------------- elu
class _ELUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, alpha):
        return F.elu(x, alpha)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, alpha = inputs
        ctx.alpha = alpha
        # For x <= 0, f'(x) = alpha * exp(x) = f(x) + alpha, so the output is enough when
        # alpha >= 0 (then f(x) > 0 exactly where x > 0); a negative alpha also needs x.
        ctx.save_for_backward(output, output if alpha >= 0 else x)

    # f'(x) = I(x > 0) + I(x <= 0) * alpha * exp(x)   [alpha * exp(x) = f(x) + alpha]
    @staticmethod
    def backward(ctx, grad):
        y, z = ctx.saved_tensors
        a = ctx.alpha
        g, y, z = _f32(grad), _f32(y), _f32(z)
        if _in_place_ok(grad) and a >= 0:
            if a == 1.0:  # g * (1 + min(y, 0)) = g + g * min(y, 0), one extra pass
                m = torch.clamp_max(y, 0)
                return torch.addcmul(g, m, g, out=m).to(grad.dtype), None
            d = torch.clamp_max(y, 0).add_(a)  # y + a where x <= 0, a elsewhere
            d.add_(torch.sign(z).clamp_(min=0.0), alpha=1.0 - a)
            return d.mul_(g).to(grad.dtype), None
        return (g * torch.where(z > 0, _one(y), y + a)).to(grad.dtype), None


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit.

    Formula: ``f(x) = max(0, x) + min(0, alpha * (exp(x) - 1))``;
    ``f'(x) = I(x > 0) + I(x <= 0) * alpha * exp(x)``.

    Args:
        x: input tensor.
        alpha: scale of the negative part.

    Returns:
        A tensor of the same shape and dtype; ``elu(-1e4) == -alpha``.

    Raises:
        TypeError: if ``alpha`` is not a number.

    Example:
        >>> elu(torch.tensor([-1e4, 0.0, 2.0]))
        tensor([-1.,  0.,  2.])
    """
    alpha = _check_number("alpha", alpha)
    return _apply(_ELUFunction, _as_tensor(x), alpha)


# ---------------------------------------------------------------------------------- softplus
