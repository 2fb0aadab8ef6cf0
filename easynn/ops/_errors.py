"""Errors of easynn.ops: Keras-style messages that name the op, its arguments, shapes and dtypes.

A torch error escaping an op (a bare ``RuntimeError`` from deep inside torch) is turned into a
``ValueError`` (shapes) or ``TypeError`` (dtypes) naming what the user passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

__all__ = ["ConversionError", "AxisError", "describe", "fail"]


class ConversionError(TypeError):
    """Raised by the conversion helpers for a value that is not a tensor; ``op`` names the op."""


class AxisError(ValueError, IndexError):
    """An axis out of range (a ValueError, and an IndexError as NumPy's AxisError is)."""


def describe(x: Any) -> str:
    """``shape=(2, 3), dtype=float32`` for error messages."""
    if isinstance(x, Tensor):
        dtype = str(x.dtype).replace("torch.", "")
        return f"shape={tuple(x.shape)}, dtype={dtype}"
    if isinstance(x, np.ndarray):
        return f"shape={x.shape}, dtype={x.dtype}"
    return f"{type(x).__name__} {x!r:.40}"


_TYPE_WORDS = ("not implemented for", "dtype", "expected scalar type", "must be", "type ", "Boolean", "bool")
_SHAPE_WORDS = ("size of tensor", "shape", "broadcast", "dimension", "mat1 and mat2", "must match", "size mismatch",
                "out of range", "invalid", "number of")


def fail(name: str, error: Exception, **operands: Any) -> Exception:
    """A Keras-style ValueError/TypeError for a torch RuntimeError raised inside op ``name``."""
    message = str(error).split("\n")[0]
    received = "; ".join(f"{arg}: {describe(value)}" for arg, value in operands.items())
    is_shape = any(word in message for word in _SHAPE_WORDS)
    is_type = not is_shape and any(word in message for word in _TYPE_WORDS)
    cls = TypeError if is_type else ValueError
    what = "unsupported dtypes" if is_type else "incompatible arguments"
    return cls(f"{name}(): {what}. Received {received}. (torch: {message})")
