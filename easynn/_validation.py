"""Argument checks shared by the whole package: one copy of each, Keras-style messages.

Every check names the argument, says what was expected and echoes what was received, so a
user's mistake reads like Keras's:

    `units` must be a positive integer. Received: units=0

Example:
    >>> from easynn import _validation
    >>> _validation.positive_int("units", 3)
    3
    >>> _validation.positive_int("units", 0)
    Traceback (most recent call last):
        ...
    ValueError: `units` must be a positive integer. Received: units=0
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable

__all__ = ["positive_int", "non_negative_int", "non_negative_float", "positive_float", "probability",
           "one_of", "int_tuple"]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` > 0; raises ``ValueError`` naming ``name`` otherwise."""
    if not _is_int(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def non_negative_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` >= 0; raises ``ValueError`` naming ``name`` otherwise."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def _real(name: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return float(value)


def non_negative_float(name: str, value: Any) -> float:
    """``value`` as a ``float`` >= 0 (not NaN); raises ``ValueError`` naming ``name`` otherwise."""
    number = _real(name, value, "a non-negative number")
    if number < 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return number


def positive_float(name: str, value: Any) -> float:
    """``value`` as a ``float`` > 0 (not NaN); raises ``ValueError`` naming ``name`` otherwise."""
    number = _real(name, value, "a positive number")
    if number <= 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return number


def probability(name: str, value: Any, *, inclusive_high: bool = False) -> float:
    """``value`` in ``[0, 1)`` (``[0, 1]`` with ``inclusive_high``), e.g. a dropout rate."""
    number = _real(name, value, "a number in [0, 1" + ("]" if inclusive_high else ")"))
    if number < 0 or number > 1 or (number == 1 and not inclusive_high):
        interval = "[0, 1]" if inclusive_high else "[0, 1)"
        raise ValueError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return number


def one_of(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``; else a ``ValueError`` listing them."""
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}. Received: {name}={value!r}")
    return value


def int_tuple(name: str, value: Any, length: int, *, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or a sequence of ``length`` ints, as a tuple of positive (or >= 0) ints.

    Example:
        >>> int_tuple("kernel_size", 3, 2)
        (3, 3)
    """
    items = (value,) * length if _is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    low = 0 if allow_zero else 1
    if len(items) != length or not all(_is_int(v) and v >= low for v in items):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"`{name}` must be a {kind} integer or a tuple of {length} {kind} integers. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in items)
