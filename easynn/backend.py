"""``keras.backend``: the backend utilities Keras 3 scripts call, answered for PyTorch.

Example:
    >>> from easynn import backend
    >>> backend.backend(), backend.floatx(), backend.standardize_dtype("float")
    ('torch', 'float32', 'float32')
    >>> backend.result_type("int32", "float32")
    'float32'
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import torch

from easynn.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

__all__ = [
    "backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format", "set_image_data_format",
    "clear_session", "is_keras_tensor", "is_tensor", "standardize_dtype", "result_type", "int_shape",
    "is_float_dtype", "is_int_dtype", "get_uid", "device",
]

_UIDS: dict[str, int] = {}


def clear_session(free_memory: bool = True) -> None:
    """Reset the name counters (the next ``Dense`` is ``dense`` again) and free cached memory.

    Args:
        free_memory: also run the garbage collector and empty torch's CUDA cache.
    """
    from easynn.layers import base

    base._NAME_COUNTS.clear()
    _UIDS.clear()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def get_uid(prefix: str = "") -> int:
    """1, 2, 3... per ``prefix``: Keras's counter for default names."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor of the functional API (made by ``easynn.Input`` and layer calls)."""
    from easynn.layers.symbolic import SymbolicTensor

    return isinstance(x, SymbolicTensor)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a backend (torch) tensor."""
    return isinstance(x, torch.Tensor)


_DTYPE_NAMES = {
    "float": "float32", "double": "float64", "half": "float16", "int": "int32", "long": "int64",
    "bool_": "bool", "uint": "uint32",
}


def standardize_dtype(dtype: Any = None) -> str:
    """Keras's name for a dtype: ``torch.float32``, ``np.float32``, ``"float"``, ``float`` -> ``"float32"``.

    ``None`` gives ``floatx()``; Python ``int`` is ``"int32"`` and ``float`` ``"float32"``, as in Keras on torch.

    Raises:
        ValueError: for something that is not a dtype.
    """
    if dtype is None:
        return floatx()
    if dtype is float:
        return "float32"
    if dtype is int:
        return "int32"
    if dtype is bool:
        return "bool"
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if hasattr(dtype, "dtype") and not isinstance(dtype, (type, str, np.dtype)):
        return standardize_dtype(dtype.dtype)
    name = dtype if isinstance(dtype, str) else None
    if name is None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = getattr(dtype, "name", None)
    if isinstance(name, str):
        name = _DTYPE_NAMES.get(name, name.replace("torch.", ""))
        if isinstance(getattr(torch, name, None), torch.dtype):
            return name
    raise ValueError(f"Invalid dtype: {dtype!r}. Expected a dtype name such as 'float32' or a torch/NumPy dtype.")


def result_type(*dtypes: Any) -> str:
    """The dtype an op on operands of ``dtypes`` returns (Python ``int``/``float`` are weak types).

    Example:
        >>> result_type("int8", "int16"), result_type("int32", float)
        ('int16', 'float32')
    """
    from easynn.ops._convert import result_type as _result_type

    return _result_type(*dtypes)


def int_shape(x: Any) -> tuple:
    """The shape of a tensor, array or symbolic tensor as a tuple (``None`` for unknown axes)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"int_shape() expects a tensor. Received: {type(x).__name__}")
    return tuple(None if s is None else int(s) for s in shape)


def is_float_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating type (``float16``, ``bfloat16``, ``float32``, ``float64``)."""
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is an integer type (signed or unsigned)."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def device(device_name: str):
    """``with backend.device("cuda:0"):`` new tensors default to that device (``torch.device`` context)."""
    return torch.device(device_name)
