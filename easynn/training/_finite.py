"""The NaN/inf check of in-memory training data, done once per array.

``fit`` refuses data with NaN or infinite values before any weight changes (Keras does not look;
a NaN input would only show up later as a NaN loss). The check is one read of the data: a sum is
finite exactly when every value is, so one memory-bound pass decides (about 1 ms per 60 MB here);
only a non-finite sum, which an overflow of large finite values can also cause, pays for the
exact count.

The same array passed to ``fit`` again (``fit`` in a loop, a notebook cell run twice) is not read
again while it is provably the same data:

* a **torch tensor** is re-checked after any in-place change: its version counter moves;
* a **NumPy array** is remembered by identity, buffer address, shape, strides and dtype; NumPy
  has no version counter, so values written into the same array *in place* after a ``fit``
  are not re-checked (a NaN put there shows up as a NaN loss, which ``TerminateOnNaN`` stops).

Everything else (lists, dicts of arrays, ...) is checked every time.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch

from easynn.training._batch import leaves

__all__ = ["check_finite"]

# id(user's array) -> (weak reference to it, the signature it was checked with)
_checked: dict[int, tuple[weakref.ref, tuple]] = {}


def _signature(source: Any) -> tuple | None:
    if isinstance(source, torch.Tensor):
        return ("tensor", source.data_ptr(), tuple(source.shape), source.stride(), source.dtype, source._version)
    if isinstance(source, np.ndarray):
        return ("numpy", source.__array_interface__["data"][0], source.shape, source.strides, source.dtype.str)
    return None


def _already_checked(source: Any) -> bool:
    entry = _checked.get(id(source))
    return entry is not None and entry[0]() is source and entry[1] == _signature(source)


def _remember(source: Any) -> None:
    signature = _signature(source)
    if signature is None:
        return
    key = id(source)
    try:
        ref = weakref.ref(source, lambda _, key=key: _checked.pop(key, None))
    except TypeError:  # an object that cannot be weakly referenced: nothing to remember
        return
    _checked[key] = (ref, signature)


def _count_non_finite(value: Any) -> int:
    bad = 0
    for leaf in leaves(value):
        if not leaf.is_floating_point() or leaf.numel() == 0:
            continue
        if bool(torch.isfinite(leaf.sum())):
            continue
        bad += int((~torch.isfinite(leaf)).sum())
    return bad


def check_finite(value: Any, label: str, source: Any = None) -> None:
    """Raise if the tensors of ``value`` hold NaN or infinite values.

    Args:
        value: the converted tensor(s).
        label: the argument's name for the message (``"x"``, ``"y"``).
        source: what the user passed (the array before conversion), to skip a repeated check.

    Raises:
        ValueError: naming the argument and the number of bad values.

    Example:
        >>> check_finite(torch.tensor([1.0, float("nan")]), "x")
        Traceback (most recent call last):
        ...
        ValueError: `x` contains 1 NaN or infinite value(s). Clean or impute the data before training.
    """
    if source is not None and _already_checked(source):
        return
    bad = _count_non_finite(value)
    if bad:
        raise ValueError(f"`{label}` contains {bad} NaN or infinite value(s). Clean or impute the data before training.")
    if source is not None:
        _remember(source)
