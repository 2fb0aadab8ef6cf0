"""Self-gated activations (silu/swish, gelu: ``x`` times a smooth gate) and the identity.

Both gates are non-monotonic; the lecture asks whether such functions can be trained with
backpropagation (they can: tests train with each).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from easynn.activations._autograd import (
    _GELU_CUBIC,
    _INV_SQRT_2,
    _INV_SQRT_2PI,
    _SQRT_2_OVER_PI,
    _apply,
    _as_tensor,
    _f32,
    _in_place_ok,
    _one,
    _zero,
)

__all__ = ['silu', 'swish', 'gelu', 'linear']


# ---------------------------------------------------------------------------------- silu
class _SiLUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return F.silu(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0], output)

    # f'(x) = s(x) (1 + x (1 - s(x))) = s + f(x) (1 - s),  s = sigmoid(x)
    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g, x, y = _f32(grad), _f32(x), _f32(y)
        s = torch.sigmoid(x)
        if _in_place_ok(grad):  # lerp(y, 1, s) = y + s (1 - y) = s + y (1 - s)
            return torch.lerp(y, _one(y), s, out=s).mul_(g).to(grad.dtype)
        return (g * (s + y * (1 - s))).to(grad.dtype)


def silu(x: torch.Tensor) -> torch.Tensor:
    """Sigmoid linear unit, also called swish.

    Formula: ``f(x) = x * sigmoid(x)``; ``f'(x) = s + f(x)(1 - s)`` with ``s = sigmoid(x)``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape and dtype.

    Example:
        >>> silu(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """
    return _apply(_SiLUFunction, _as_tensor(x))


swish = silu


# ---------------------------------------------------------------------------------- gelu
class _GELUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, approximate):
        return F.gelu(x, approximate="tanh" if approximate else "none")

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.approximate = inputs[1]
        ctx.save_for_backward(inputs[0], output)

    # f'(x) = Phi(x) + x phi(x),  Phi = (1 + erf(x / sqrt 2)) / 2,  phi = exp(-x^2 / 2) / sqrt(2 pi)
    # (tanh form, t = tanh(k (x + c x^3)): f'(x) = (1 + t) / 2 + x (1 - t^2) k (1 + 3 c x^2) / 2)
    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g, x = _f32(grad), _f32(x)
        if ctx.approximate:
            inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3)
            t = torch.tanh(inner)
            slope = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope
            return (g * d).to(grad.dtype), None
        if _in_place_ok(grad):
            # Phi(x) = f(x) / x saves an erf pass (0/0 only at x = 0, where Phi = 1/2). Caveat:
            # for subnormal x (|x| < 1.2e-38 in float32) f(x) = x / 2 has few significant
            # bits, so Phi loses precision there (and is 0 for the smallest one, 1.4e-45).
            d = torch.div(_f32(y), x).nan_to_num_(nan=0.5, posinf=1.0, neginf=0.0)
            pdf = torch.addcmul(_zero(x), x, x, value=-0.5).exp_()  # sqrt(2 pi) * phi(x)
            return d.addcmul_(pdf, x, value=_INV_SQRT_2PI).mul_(g).to(grad.dtype), None
        cdf = 0.5 * (1 + torch.erf(x * _INV_SQRT_2))
        pdf = torch.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (g * (cdf + x * pdf)).to(grad.dtype), None


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit (exact by default, as in Keras).

    Formula: ``f(x) = x * Phi(x)`` with ``Phi`` the standard normal CDF; with
    ``approximate=True``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    ``f'(x) = Phi(x) + x phi(x)``.

    Args:
        x: input tensor.
        approximate: use the tanh approximation.

    Returns:
        A tensor of the same shape and dtype.

    Raises:
        TypeError: if ``approximate`` is not a bool.

    Example:
        >>> gelu(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """
    if not isinstance(approximate, bool):
        raise TypeError(f"`approximate` must be a bool. Received: approximate={approximate!r}")
    return _apply(_GELUFunction, _as_tensor(x), approximate)


# ---------------------------------------------------------------------------------- linear
def linear(x: torch.Tensor) -> torch.Tensor:
    """The identity: ``f(x) = x``, ``f'(x) = 1`` (what ``activation=None`` means).

    Args:
        x: input tensor.

    Returns:
        ``x`` itself.

    Example:
        >>> linear(torch.tensor([-1.0, 2.0]))
        tensor([-1.,  2.])
    """
    return x
