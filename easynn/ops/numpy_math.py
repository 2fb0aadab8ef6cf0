"""Element-wise arithmetic and math of ``keras.ops`` (NumPy family) on torch.

Every function takes tensors, NumPy arrays, Python scalars or lists (see ``easynn.ops._convert`` for
the conversion and promotion rules), broadcasts as NumPy does and returns a torch tensor on the
input's device. Integer ``floor_divide``/``mod`` round toward minus infinity as in NumPy; ``divide``
of integers returns floats; float functions (``sin``, ``exp``, ``sqrt``...) of integers return
``floatx()``. Torch errors (shapes that do not broadcast, unsupported dtypes) come back as
``ValueError``/``TypeError`` naming the op and the operands' shapes and dtypes.

Example:
    >>> import easynn.ops as ops
    >>> ops.add([1, 2], 0.5)
    tensor([1.5000, 2.5000])
    >>> ops.floor_divide(ops.convert_to_tensor([-7, 7]), 2), ops.mod(ops.convert_to_tensor([-7, 7]), 3)
    (tensor([-4,  3], dtype=torch.int32), tensor([2, 1], dtype=torch.int32))
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from easynn.ops._convert import Tensor, _floatx_dtype, fail, is_int, like, pair, scalar_or_tensor, tensor
from easynn.ops._dispatch import binary_op, op

__all__ = [
    "abs", "absolute", "add", "angle", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "cbrt", "ceil", "clip", "conj", "conjugate", "cos", "cosh", "deg2rad", "divide",
    "divide_no_nan", "exp", "exp2", "expm1", "floor", "floor_divide", "gcd", "heaviside", "hypot", "imag",
    "lcm", "ldexp", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2", "maximum", "minimum", "mod",
    "multiply", "nan_to_num", "negative", "nextafter", "power", "rad2deg", "real", "reciprocal", "round",
    "sign", "sin", "sinh", "sqrt", "square", "subtract", "tan", "tanh", "true_divide", "trunc",
]


def _binary(torch_fn: Callable, name: str, x1: Any, x2: Any) -> Tensor:
    # Fast path: two tensors, or a tensor and a Python number torch takes as a weak scalar.
    if not isinstance(x1, Tensor):
        x1 = like(x1, x2) if isinstance(x2, Tensor) else tensor(x1)
    if not isinstance(x2, Tensor):
        x2 = scalar_or_tensor(x2, x1)
    try:
        return torch_fn(x1, x2)
    except (RuntimeError, TypeError) as error:
        raise fail(name, error, x1=x1, x2=x2) from None


def _binary_float(torch_fn: Callable, name: str, x1: Any, x2: Any) -> Tensor:
    """Binary ops torch only computes on floats: integer/bool operands are computed in floatx."""
    x1, x2 = pair(x1, x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = torch.float64 if dtype == torch.int64 else _floatx_dtype()
    try:
        return torch_fn(x1.to(dtype), x2.to(dtype))
    except (RuntimeError, TypeError) as error:
        raise fail(name, error, x1=x1, x2=x2) from None


@binary_op(torch.add)
def add(x1: Any, x2: Any) -> Tensor:
    """``x1 + x2``, element-wise with broadcasting.

    Example:
        >>> add(torch.tensor([1, 2]), torch.tensor([[10], [20]]))
        tensor([[11, 12],
                [21, 22]])
    """
    return _binary(torch.add, "add", x1, x2)


@binary_op(torch.subtract)
def subtract(x1: Any, x2: Any) -> Tensor:
    """``x1 - x2``, element-wise (bool operands are computed as the other operand's dtype)."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == torch.bool:
        x1 = x1.to(torch.int32 if x2.dtype == torch.bool else x2.dtype)
    if x2.dtype == torch.bool:
        x2 = x2.to(x1.dtype)
    return _binary(torch.subtract, "subtract", x1, x2)


@binary_op(torch.multiply)
def multiply(x1: Any, x2: Any) -> Tensor:
    """``x1 * x2``, element-wise."""
    return _binary(torch.multiply, "multiply", x1, x2)


@binary_op(torch.true_divide)
def divide(x1: Any, x2: Any) -> Tensor:
    """True division ``x1 / x2``; integer inputs give floats.

    Example:
        >>> divide(torch.tensor([1, 3]), 2)
        tensor([0.5000, 1.5000])
    """
    return _binary(torch.true_divide, "divide", x1, x2)


@op
def true_divide(x1: Any, x2: Any) -> Tensor:
    """Alias of :func:`divide`."""
    return _binary(torch.true_divide, "true_divide", x1, x2)


@op
def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2``, but 0 where ``x2 == 0`` (gradients stay finite there too).

    Example:
        >>> divide_no_nan(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0]))
        tensor([0.0000, 0.5000])
    """
    x1, x2 = pair(x1, x2)
    zero = x2 == 0
    safe = torch.where(zero, torch.ones_like(x2), x2)
    quotient = _binary(torch.true_divide, "divide_no_nan", x1, safe)
    return torch.where(zero, torch.zeros_like(quotient), quotient)


@op
def floor_divide(x1: Any, x2: Any) -> Tensor:
    """``x1 // x2`` rounded toward minus infinity (NumPy's rule, also for negative integers)."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return _binary(torch.floor_divide, "floor_divide", x1, x2)


@op
def mod(x1: Any, x2: Any) -> Tensor:
    """``x1 % x2`` with the sign of ``x2`` (NumPy's ``mod``/``remainder``)."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return _binary(torch.remainder, "mod", x1, x2)


@op
def power(x1: Any, x2: Any) -> Tensor:
    """``x1 ** x2``, element-wise.

    Example:
        >>> power(torch.tensor([2, 3]), 2)
        tensor([4, 9])
    """
    if not isinstance(x1, Tensor):
        x1 = like(x1, x2) if isinstance(x2, Tensor) else tensor(x1)
    if isinstance(x2, Tensor) or type(x2) not in (int, float):
        x2 = like(x2, x1)
    try:
        return torch.pow(x1, x2)
    except (RuntimeError, TypeError) as error:
        raise fail("power", error, x1=x1, x2=x2) from None


@op
def maximum(x1: Any, x2: Any) -> Tensor:
    """Element-wise maximum (NaN propagates, as in NumPy)."""
    if isinstance(x2, Tensor) and _is_number(x1):
        x1, x2 = x2, x1
    if isinstance(x1, Tensor) and _is_number(x2) and x1.dtype != torch.bool:
        return torch.clamp(x1, min=x2)  # a weak Python scalar, no tensor made for it (nor copied to the device)
    x1, x2 = pair(x1, x2)
    return _binary(torch.maximum, "maximum", x1, x2)


@op
def minimum(x1: Any, x2: Any) -> Tensor:
    """Element-wise minimum (NaN propagates, as in NumPy)."""
    if isinstance(x2, Tensor) and _is_number(x1):
        x1, x2 = x2, x1
    if isinstance(x1, Tensor) and _is_number(x2) and x1.dtype != torch.bool:
        return torch.clamp(x1, max=x2)
    x1, x2 = pair(x1, x2)
    return _binary(torch.minimum, "minimum", x1, x2)


def _is_number(x: Any) -> bool:
    return type(x) is float or type(x) is int


@op
def arctan2(x1: Any, x2: Any) -> Tensor:
    """Element-wise arc tangent of ``x1 / x2`` choosing the quadrant."""
    return _binary_float(torch.atan2, "arctan2", x1, x2)


@op
def hypot(x1: Any, x2: Any) -> Tensor:
    """``sqrt(x1**2 + x2**2)``, element-wise."""
    return _binary_float(torch.hypot, "hypot", x1, x2)


@op
def logaddexp(x1: Any, x2: Any) -> Tensor:
    """``log(exp(x1) + exp(x2))`` computed without overflow."""
    return _binary_float(torch.logaddexp, "logaddexp", x1, x2)


@op
def logaddexp2(x1: Any, x2: Any) -> Tensor:
    """``log2(2**x1 + 2**x2)`` computed without overflow."""
    return _binary_float(torch.logaddexp2, "logaddexp2", x1, x2)


@op
def heaviside(x1: Any, x2: Any) -> Tensor:
    """Heaviside step: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``."""
    return _binary_float(torch.heaviside, "heaviside", x1, x2)


@op
def nextafter(x1: Any, x2: Any) -> Tensor:
    """The next floating-point value after ``x1`` toward ``x2``."""
    return _binary_float(torch.nextafter, "nextafter", x1, x2)


@op
def gcd(x1: Any, x2: Any) -> Tensor:
    """Greatest common divisor of integers, element-wise."""
    return _binary(torch.gcd, "gcd", *pair(x1, x2))


@op
def lcm(x1: Any, x2: Any) -> Tensor:
    """Least common multiple of integers, element-wise."""
    return _binary(torch.lcm, "lcm", *pair(x1, x2))


@op
def ldexp(x1: Any, x2: Any) -> Tensor:
    """``x1 * 2**x2`` for an integer exponent ``x2``."""
    x1, x2 = pair(x1, x2)
    if not is_int(x2.dtype):
        raise TypeError(f"ldexp(): `x2` must have an integer dtype. Received: x2.dtype={x2.dtype}")
    return _binary_float(torch.ldexp, "ldexp", x1, x2)


@op
def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """Limit the values of ``x`` to ``[x_min, x_max]`` (bool inputs are clipped as int32).

    Example:
        >>> clip(torch.tensor([-2.0, 0.5, 3.0]), 0, 1)
        tensor([0.0000, 0.5000, 1.0000])
    """
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    lo = x_min if x_min is None or type(x_min) in (int, float) else like(x_min, x)
    hi = x_max if x_max is None or type(x_max) in (int, float) else like(x_max, x)
    try:
        out = torch.clamp(x, lo, hi)
    except (RuntimeError, TypeError) as error:
        raise fail("clip", error, x=x, x_min=x_min, x_max=x_max) from None
    return out


@op
def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (default: the dtype's extremes)."""
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


@op
def absolute(x: Any) -> Tensor:
    """Element-wise absolute value (bool stays bool)."""
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


@op
def abs(x: Any) -> Tensor:  # noqa: A001 - Keras's name
    """Element-wise absolute value; alias of :func:`absolute`.

    Example:
        >>> abs(torch.tensor([-1.5, 2.0]))
        tensor([1.5000, 2.0000])
    """
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


@op
def negative(x: Any) -> Tensor:
    """``-x``, element-wise (bool input raises TypeError, as in NumPy)."""
    x = tensor(x)
    if x.dtype == torch.bool:
        raise TypeError("negative(): `x` must not be bool (NumPy rejects it too; use logical_not). "
                        f"Received: x.dtype=bool, shape={tuple(x.shape)}")
    return torch.negative(x)


@op
def square(x: Any) -> Tensor:
    """``x * x``, element-wise (bool gives int32)."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.square(x)


@op
def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each element (same dtype)."""
    return torch.sign(tensor(x))


def _to_float(x: Tensor) -> Tensor:
    if x.is_floating_point() or x.is_complex():
        return x
    return x.to(_floatx_dtype())


@op
def ceil(x: Any) -> Tensor:
    """Smallest integer >= x, as a float tensor (integers become floatx, as in Keras)."""
    return torch.ceil(_to_float(tensor(x)))


@op
def floor(x: Any) -> Tensor:
    """Largest integer <= x, as a float tensor (integers become floatx, as in Keras)."""
    return torch.floor(_to_float(tensor(x)))


@op
def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - Keras's name
    """Round half to even to ``decimals`` places (integer inputs keep their dtype).

    Example:
        >>> round(torch.tensor([0.5, 1.5, 2.675]), 1)
        tensor([0.5000, 1.5000, 2.7000])
    """
    x = tensor(x)
    if x.is_floating_point():
        return torch.round(x, decimals=decimals)
    if x.dtype == torch.bool or decimals >= 0:
        return x
    return torch.round(x.to(torch.float64), decimals=decimals).to(x.dtype)


@op
def trunc(x: Any) -> Tensor:
    """Round toward zero (integer and bool inputs are returned as they are)."""
    x = tensor(x)
    return torch.trunc(x) if x.is_floating_point() else x


@op
def reciprocal(x: Any) -> Tensor:
    """``1 / x``, element-wise (integers give floats)."""
    return torch.reciprocal(tensor(x))


@op
def cbrt(x: Any) -> Tensor:
    """Cube root, element-wise (real, also for negative inputs)."""
    x = _to_float(tensor(x))
    return torch.sign(x) * torch.abs(x).pow(1.0 / 3.0)


@op
def conjugate(x: Any) -> Tensor:
    """Complex conjugate, element-wise (real inputs are returned as they are)."""
    return torch.conj(tensor(x)).resolve_conj()


@op
def conj(x: Any) -> Tensor:
    """Alias of :func:`conjugate`."""
    return torch.conj(tensor(x)).resolve_conj()


@op
def real(x: Any) -> Tensor:
    """Real part, element-wise."""
    x = tensor(x)
    return torch.real(x) if x.is_complex() else x


@op
def imag(x: Any) -> Tensor:
    """Imaginary part, element-wise (zeros for real inputs)."""
    x = tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(_to_float(x))


@op
def angle(x: Any) -> Tensor:
    """Argument of complex numbers (0 or pi for reals), element-wise."""
    return torch.angle(_to_float(tensor(x)))


def _unary(name: str, torch_fn: Callable, summary: str) -> Callable:
    """A public float op ``name(x)`` calling ``torch_fn``; integers compute in floatx (torch's rule)."""

    def fn(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = tensor(x)
        if not x.is_floating_point() and not x.is_complex():
            x = x.to(_floatx_dtype())
        return torch_fn(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = summary
    fn.__module__ = __name__
    return op(fn)


# One line per op: name, torch function, summary. Keras computes each in floats.
sqrt = _unary("sqrt", torch.sqrt, "Square root, element-wise (integers give floats).")
exp = _unary("exp", torch.exp, "``e**x``, element-wise.")
exp2 = _unary("exp2", torch.exp2, "``2**x``, element-wise.")
expm1 = _unary("expm1", torch.expm1, "``exp(x) - 1``, accurate near 0.")
log = _unary("log", torch.log, "Natural logarithm, element-wise.")
log10 = _unary("log10", torch.log10, "Base-10 logarithm, element-wise.")
log1p = _unary("log1p", torch.log1p, "``log(1 + x)``, accurate near 0.")
log2 = _unary("log2", torch.log2, "Base-2 logarithm, element-wise.")
sin = _unary("sin", torch.sin, "Sine, element-wise.")
cos = _unary("cos", torch.cos, "Cosine, element-wise.")
tan = _unary("tan", torch.tan, "Tangent, element-wise.")
sinh = _unary("sinh", torch.sinh, "Hyperbolic sine, element-wise.")
cosh = _unary("cosh", torch.cosh, "Hyperbolic cosine, element-wise.")
tanh = _unary("tanh", torch.tanh, "Hyperbolic tangent, element-wise.")
arcsin = _unary("arcsin", torch.asin, "Inverse sine, element-wise.")
arccos = _unary("arccos", torch.acos, "Inverse cosine, element-wise.")
arctan = _unary("arctan", torch.atan, "Inverse tangent, element-wise.")
arcsinh = _unary("arcsinh", torch.asinh, "Inverse hyperbolic sine, element-wise.")
arccosh = _unary("arccosh", torch.acosh, "Inverse hyperbolic cosine, element-wise.")
arctanh = _unary("arctanh", torch.atanh, "Inverse hyperbolic tangent, element-wise.")
deg2rad = _unary("deg2rad", torch.deg2rad, "Degrees to radians, element-wise.")
rad2deg = _unary("rad2deg", torch.rad2deg, "Radians to degrees, element-wise.")
