"""Activation functions, each with its derivative written next to it.

Every activation is a private ``torch.autograd.Function`` in PyTorch's modern form:
``forward(x, ...)`` computes the value (native torch ops are fine there), ``setup_context``
saves only what the derivative needs -- the *output* wherever the lecture writes the derivative
as a function of ``f(x)`` -- and ``backward`` applies the lecture's derivative in torch ops, so
that double backward, ``torch.vmap`` and ``torch.compile`` all work.

Each backward has two spellings of the same formula:

* the plain one, ``grad * f'(x)``, used whenever a graph of the backward itself is being
  recorded (``create_graph=True``, ``torch.func`` transforms), because it must stay
  differentiable;
* a fast one that builds ``f'(x)`` with plain float arithmetic (``sign``/``clamp`` instead of
  boolean masks) and writes in place into the single buffer backward has to allocate. It runs
  only when grad mode is off inside backward (an ordinary ``loss.backward()``), where nothing can
  observe the in-place writes.

float16/bfloat16 inputs keep their dtype; their derivatives are computed in float32.

Example:
    >>> import torch
    >>> from easynn import activations
    >>> activations.relu(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> activations.get("relu") is activations.relu
    True
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

__all__ = [
    "elu",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "prelu",
    "relu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
    "tanh",
]

_LOW_PRECISION = (torch.float16, torch.bfloat16)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _f32(t: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32 (derivatives lose too much precision in half types)."""
    return t.float() if t.dtype in _LOW_PRECISION else t


def _is_batched(grad: torch.Tensor) -> bool:
    functorch = torch._C._functorch
    return functorch.is_functorch_wrapped_tensor(grad) or functorch.is_legacy_batchedtensor(grad)


def _in_place_ok(grad: torch.Tensor) -> bool:
    """True when writing into a fresh buffer is safe and useful: backward's own graph is not
    recorded, no vmap is batching the gradient (``autograd.grad(..., is_grads_batched=True)``),
    and torch.compile is not tracing (its compiler fuses the plain formula by itself)."""
    if torch.compiler.is_compiling() or torch.is_grad_enabled():
        return False
    return not _is_batched(grad)


def _one(like: torch.Tensor) -> torch.Tensor:
    return torch.ones((), dtype=like.dtype, device=like.device)


def _zero(like: torch.Tensor) -> torch.Tensor:
    return torch.zeros((), dtype=like.dtype, device=like.device)


def _as_tensor(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x)


# ``Function.apply`` binds its arguments with ``inspect.signature`` on every call when a Function
# uses ``setup_context`` (about 25 µs, more than a small relu costs). All our arguments are passed
# positionally and complete, so in plain eager mode we call the C implementation directly; under
# torch.compile, functorch transforms (vmap, grad) or with functorch-wrapped inputs we keep the
# documented path, which those systems understand.
_C_APPLY = torch._C._FunctionBase.__dict__["apply"]
_is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def _apply(function: type, x: torch.Tensor, *args: Any) -> torch.Tensor:
    """``function.apply(x, *args)`` without per-call signature binding on the eager path."""
    if (
        torch.compiler.is_compiling()
        or torch._C._are_functorch_transforms_active()
        or _is_wrapped(x)
        or any(isinstance(a, torch.Tensor) and _is_wrapped(a) for a in args)
    ):
        return function.apply(x, *args)
    return _C_APPLY.__get__(None, function)(x, *args)


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)


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
    return _apply(_SigmoidFunction, _as_tensor(x))


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


# ---------------------------------------------------------------------------------- relu
class _ReLUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.relu(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    # f'(x) = I(x > 0), and x > 0 exactly where f(x) > 0
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if _in_place_ok(grad) and grad.dtype not in _LOW_PRECISION:
            return torch.sign(y).mul_(grad)  # y >= 0, so sign(y) is I(y > 0)
        return grad * (y > 0)


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
    return _apply(_SoftmaxFunction, _as_tensor(x), axis)


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


# ---------------------------------------------------------------------------------- registry
_REGISTRY: dict[str, Callable] = {
    "elu": elu,
    "gelu": gelu,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "silu": silu,
    "softmax": softmax,
    "softplus": softplus,
    "swish": swish,
    "tanh": tanh,
}
# The canonical name of each function (swish is silu, so it serializes as "silu", as in Keras).
_NAMES: dict[Callable, str] = {}
for _name, _fn in _REGISTRY.items():
    _NAMES.setdefault(_fn, _name)


def get(identifier: str | Callable | None) -> Callable:
    """Resolve an activation identifier to a function.

    Args:
        identifier: ``None`` or ``"linear"`` (identity), a name (``"relu"``, ``"sigmoid"``,
            ``"tanh"``, ``"leaky_relu"``, ``"elu"``, ``"softplus"``, ``"softmax"``, ``"silu"``,
            ``"swish"``, ``"gelu"``), or any callable, returned unchanged.

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything that is neither a string, a callable nor ``None``.

    Example:
        >>> get("relu") is relu, get(None) is linear
        (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _REGISTRY.get(identifier)
        if fn is None:
            names = ", ".join(sorted(_REGISTRY))
            raise ValueError(
                f"Unknown activation {identifier!r}. Expected one of: {names}, or a callable."
            )
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(
        "`activation` must be a string, a callable or None. "
        f"Received: activation={identifier!r} of type {type(identifier).__name__}"
    )


def serialize(fn: Callable | None) -> str | Callable:
    """The name of an easynn activation (``"relu"``, ...), so that ``get(serialize(fn)) is fn``.

    Args:
        fn: an activation function, or ``None`` (serialized as ``"linear"``).

    Returns:
        The registered name; any other callable is returned unchanged (it cannot be named).

    Example:
        >>> serialize(relu), serialize(swish), serialize(None)
        ('relu', 'silu', 'linear')
    """
    if fn is None:
        return "linear"
    try:
        return _NAMES[fn]
    except (KeyError, TypeError):
        return fn
