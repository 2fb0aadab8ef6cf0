"""Comparisons, logic, bitwise ops, ``where``/``select`` and value tests of ``keras.ops`` on torch.

Comparisons and tests return bool tensors; operands broadcast and promote as in
``easynn.ops.numpy_math``. Bitwise ops need integer or bool inputs (a float raises ``TypeError``
naming the op).

Example:
    >>> import easynn.ops as ops
    >>> ops.greater(ops.convert_to_tensor([1, 5]), 2)
    tensor([False,  True])
    >>> ops.where(ops.convert_to_tensor([True, False]), 1.0, 0)
    tensor([1., 0.])
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from easynn.ops._convert import Tensor, convert_to_tensor, fail, is_int, like, pair, tensor
from easynn.ops._dispatch import op

__all__ = [
    "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "equal", "greater", "greater_equal", "isclose", "isfinite", "isin", "isinf", "isnan",
    "isneginf", "isposinf", "isreal", "left_shift", "less", "less_equal", "logical_and", "logical_not",
    "logical_or", "logical_xor", "not_equal", "right_shift", "select", "signbit", "where",
]


def _compare(torch_fn: Callable, name: str, x1: Any, x2: Any, scalars: bool = True) -> Tensor:
    if not isinstance(x1, Tensor):
        x1 = like(x1, x2) if isinstance(x2, Tensor) else tensor(x1)
    if not isinstance(x2, Tensor):
        x2 = x2 if scalars and type(x2) in (int, float, bool) else like(x2, x1)
    try:
        return torch_fn(x1, x2)
    except (RuntimeError, TypeError) as error:
        raise fail(name, error, x1=x1, x2=x2) from None


def _binary_op(name: str, torch_fn: Callable, summary: str, scalars: bool = True) -> Callable:
    """A public op ``name(x1, x2)``; ``scalars``: the torch function takes a Python number as ``x2``."""

    def fn(x1: Any, x2: Any) -> Tensor:
        return _compare(torch_fn, name, x1, x2, scalars)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = summary
    fn.__module__ = __name__
    return op(fn)


equal = _binary_op("equal", torch.eq, "``x1 == x2``, element-wise (bool result).")
not_equal = _binary_op("not_equal", torch.ne, "``x1 != x2``, element-wise (bool result).")
greater = _binary_op("greater", torch.gt, "``x1 > x2``, element-wise (bool result).")
greater_equal = _binary_op("greater_equal", torch.ge, "``x1 >= x2``, element-wise (bool result).")
less = _binary_op("less", torch.lt, "``x1 < x2``, element-wise (bool result).")
less_equal = _binary_op("less_equal", torch.le, "``x1 <= x2``, element-wise (bool result).")
logical_and = _binary_op("logical_and", torch.logical_and, "Truth of ``x1 and x2``, element-wise.",
                          scalars=False)
logical_or = _binary_op("logical_or", torch.logical_or, "Truth of ``x1 or x2``, element-wise.",
                          scalars=False)
logical_xor = _binary_op("logical_xor", torch.logical_xor, "Truth of ``x1 xor x2``, element-wise.",
                          scalars=False)


def _bitwise(name: str, torch_fn: Callable, summary: str) -> Callable:
    def fn(x: Any, y: Any) -> Tensor:
        x, y = pair(x, y)
        for arg, value in (("x", x), ("y", y)):
            if not (is_int(value.dtype) or value.dtype == torch.bool):
                raise TypeError(f"{name}(): `{arg}` must have an integer or bool dtype. "
                                f"Received: {arg}.dtype={value.dtype}")
        return _compare(torch_fn, name, x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = summary
    fn.__module__ = __name__
    return op(fn)


bitwise_and = _bitwise("bitwise_and", torch.bitwise_and, "Bitwise AND of integers/bools.")
bitwise_or = _bitwise("bitwise_or", torch.bitwise_or, "Bitwise OR of integers/bools.")
bitwise_xor = _bitwise("bitwise_xor", torch.bitwise_xor, "Bitwise XOR of integers/bools.")
bitwise_left_shift = _bitwise("bitwise_left_shift", torch.bitwise_left_shift, "``x << y`` for integers.")
bitwise_right_shift = _bitwise("bitwise_right_shift", torch.bitwise_right_shift, "``x >> y`` for integers.")
left_shift = _bitwise("left_shift", torch.bitwise_left_shift, "Alias of :func:`bitwise_left_shift`.")
right_shift = _bitwise("right_shift", torch.bitwise_right_shift, "Alias of :func:`bitwise_right_shift`.")


@op
def bitwise_invert(x: Any) -> Tensor:
    """Bitwise NOT (``~x``) of integers/bools."""
    x = tensor(x)
    if not (is_int(x.dtype) or x.dtype == torch.bool):
        raise TypeError(f"bitwise_invert(): `x` must have an integer or bool dtype. Received: x.dtype={x.dtype}")
    return torch.bitwise_not(x)


@op
def bitwise_not(x: Any) -> Tensor:
    """Alias of :func:`bitwise_invert`."""
    return bitwise_invert.__wrapped__(x)


@op
def logical_not(x: Any) -> Tensor:
    """Truth of ``not x``, element-wise."""
    return torch.logical_not(tensor(x))


@op
def isnan(x: Any) -> Tensor:
    """True where ``x`` is NaN."""
    return torch.isnan(tensor(x))


@op
def isinf(x: Any) -> Tensor:
    """True where ``x`` is +inf or -inf."""
    return torch.isinf(tensor(x))


@op
def isfinite(x: Any) -> Tensor:
    """True where ``x`` is neither NaN nor infinite."""
    return torch.isfinite(tensor(x))


@op
def isposinf(x: Any) -> Tensor:
    """True where ``x`` is +inf."""
    return torch.isposinf(tensor(x))


@op
def isneginf(x: Any) -> Tensor:
    """True where ``x`` is -inf."""
    return torch.isneginf(tensor(x))


@op
def isreal(x: Any) -> Tensor:
    """True where the imaginary part is 0 (everywhere for real dtypes)."""
    return torch.isreal(tensor(x))


@op
def signbit(x: Any) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0)."""
    x = tensor(x)
    if x.dtype == torch.bool:
        return torch.zeros_like(x)
    return torch.signbit(x)


@op
def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """``|x1 - x2| <= atol + rtol * |x2|``, element-wise (NumPy's ``isclose``).

    Example:
        >>> isclose(torch.tensor([1.0, 2.0]), torch.tensor([1.0 + 1e-7, 2.1]))
        tensor([ True, False])
    """
    x1, x2 = pair(x1, x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    x1, x2 = x1.to(dtype), x2.to(dtype)
    try:
        x1, x2 = torch.broadcast_tensors(x1, x2)
        return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except (RuntimeError, TypeError) as error:
        raise fail("isclose", error, x1=x1, x2=x2) from None


@op
def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of ``x1`` occurs in ``x2``."""
    x1, x2 = pair(x1, x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    if dtype == torch.bool:
        dtype = torch.int32
    return torch.isin(x1.to(dtype), x2.to(dtype), assume_unique=assume_unique, invert=invert)


@op
def where(condition: Any, x1: Any = None, x2: Any = None) -> Tensor | tuple[Tensor, ...]:
    """``x1`` where ``condition`` is true, else ``x2``; with only ``condition``, its nonzero indices.

    Example:
        >>> where(torch.tensor([True, False, True]), torch.tensor([1, 2, 3]), 0)
        tensor([1, 0, 3])
    """
    condition = tensor(condition)
    if x1 is None and x2 is None:
        return tuple(index.to(torch.int32) for index in torch.where(condition))
    if x1 is None or x2 is None:
        raise ValueError("where(): `x1` and `x2` must be given together, or both left out to get the indices "
                         f"where `condition` is true. Received: x1={x1 is not None and '...'}, "
                         f"x2={x2 is not None and '...'}")
    if condition.dtype != torch.bool:
        condition = condition != 0
    # torch.where takes a Python number as a weak scalar (as Keras does), except int with a bool tensor
    if not (_weak_scalar_with(x1, x2) or _weak_scalar_with(x2, x1)):
        x1, x2 = pair(x1, x2)
    device = x1.device if isinstance(x1, Tensor) else x2.device
    if device != condition.device:
        condition = condition.to(device)
    try:
        return torch.where(condition, x1, x2)
    except (RuntimeError, TypeError) as error:
        raise fail("where", error, condition=condition, x1=x1, x2=x2) from None


def _weak_scalar_with(scalar: Any, other: Any) -> bool:
    """True when torch may take ``scalar`` as a Python number next to the tensor ``other`` (Keras's weak type)."""
    kind = type(scalar)
    return (kind is float or kind is int) and isinstance(other, Tensor) and \
        not (kind is int and other.dtype == torch.bool)


@op
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Tensor:
    """Per element, the entry of ``choicelist`` for the first true condition of ``condlist``, else ``default``.

    Example:
        >>> x = torch.tensor([-2, 0, 3])
        >>> select([x < 0, x > 0], [x * 10, x * 100], default=-1)
        tensor([-20,  -1, 300])
    """
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)):
        raise TypeError("select(): `condlist` and `choicelist` must be lists. "
                        f"Received: {type(condlist).__name__} and {type(choicelist).__name__}")
    if len(condlist) != len(choicelist) or not condlist:
        raise ValueError("select(): `condlist` and `choicelist` must be non-empty and of the same length. "
                         f"Received: len(condlist)={len(condlist)}, len(choicelist)={len(choicelist)}")
    choices = [tensor(c) for c in choicelist]
    dtype = choices[0].dtype
    for choice in choices[1:]:
        dtype = torch.promote_types(dtype, choice.dtype)
    out = like(default, choices[0]).to(dtype)
    for cond, choice in zip(reversed(condlist), reversed(choices)):
        cond = convert_to_tensor(cond)
        if cond.dtype != torch.bool:
            raise TypeError(f"select(): every entry of `condlist` must be a bool tensor. Received: {cond.dtype}")
        try:
            out = torch.where(cond, choice.to(dtype), out)
        except RuntimeError as error:
            raise fail("select", error, condition=cond, choice=choice) from None
    return out
