"""Small Keras utilities about data tuples, symbolic tensors and dtypes.

* ``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight``: what a ``train_step(data)`` receives
  and how to take it apart (Keras's rules);
* ``is_keras_tensor`` / ``get_source_inputs``: the functional API's symbolic tensors;
* ``standardize_dtype``: any dtype spelling as Keras's canonical name (``"float32"``...).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from easynn.layers.symbolic import SymbolicTensor
from easynn.training.loop import unpack_data

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight", "is_keras_tensor", "get_source_inputs",
           "standardize_dtype"]


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Pack ``x``, ``y`` and ``sample_weight`` as ``fit`` passes them to ``train_step``.

    ``x`` alone stays as it is (a tuple or list ``x`` is wrapped as ``(x,)`` so that it is not
    mistaken for ``(x, y)``); otherwise ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
        >>> pack_x_y_sample_weight(1, 2)
        (1, 2)
        >>> pack_x_y_sample_weight([1, 2])
        ([1, 2],)
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Raises:
        ValueError: for a tuple of more than three entries.

    Example:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
    """
    return unpack_data(data)


def is_keras_tensor(value: Any) -> bool:
    """Whether ``value`` is a symbolic tensor of the functional API (made by ``Input`` or a layer).

    Example:
        >>> import easynn
        >>> is_keras_tensor(easynn.Input((3,))), is_keras_tensor(torch.zeros(3))
        (True, False)
    """
    return isinstance(value, SymbolicTensor)


def get_source_inputs(tensor: Any) -> list:
    """The ``Input`` tensors that ``tensor`` (a symbolic tensor) was computed from, in order.

    Raises:
        TypeError: if ``tensor`` is not a symbolic tensor.

    Example:
        >>> import easynn
        >>> a, b = easynn.Input((2,), name="a"), easynn.Input((2,), name="b")
        >>> out = easynn.layers.Dense(1)(easynn.layers.Add()([a, b]))
        >>> [t.name for t in get_source_inputs(out)] == [a.name, b.name]
        True
    """
    if not isinstance(tensor, SymbolicTensor):
        raise TypeError(f"`tensor` must be a symbolic tensor (from easynn.Input or a layer). Received: {tensor!r}")
    found: list = []
    seen: set = set()
    stack = [tensor]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        node = current.node
        parents = [t for t in _flatten(node.inputs) if isinstance(t, SymbolicTensor)] if node is not None else []
        if not parents:  # an Input (or a tensor made by an InputLayer node)
            found.append(current)
        stack.extend(reversed(parents))
    return found


def _flatten(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [item for entry in value for item in _flatten(entry)]
    if isinstance(value, dict):
        return [item for entry in value.values() for item in _flatten(entry)]
    return [value]


def standardize_dtype(dtype: Any) -> str:
    """Keras's canonical dtype name: ``"float32"``, ``"int64"``, ``"bool"``... (``None``: floatx).

    Takes strings (``"float"``, ``"double"``, ``"int"``), torch and NumPy dtypes, and Python types.

    Raises:
        ValueError: for something that is not a dtype.

    Example:
        >>> standardize_dtype(torch.float16), standardize_dtype("double"), standardize_dtype(int)
        ('float16', 'float64', 'int64')
    """
    if dtype is None:
        return str(torch.get_default_dtype()).replace("torch.", "")
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    aliases = {"float": "float32", "double": "float64", "half": "float16", "int": "int64", "long": "int64",
               "bool_": "bool", float: "float32", int: "int64", bool: "bool"}
    if isinstance(dtype, (str, type)) and dtype in aliases:
        return aliases[dtype]
    if isinstance(dtype, str) and dtype == "bfloat16":
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}") from None
