"""Batches of Python strings in the data pipeline (for text layers such as ``TextVectorization``).

torch has no string tensors, so ``to_tensor`` (``_batch.py``) leaves a batch of strings as a
``StringBatch``: a ``list`` of ``str`` with the few tensor methods the pipeline uses (``shape``,
``dim``, ``to``, slicing, ``index_select``). The model's first layer receives it as a list.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["StringBatch", "is_string_batch", "strings"]


class StringBatch(list):
    """A batch of Python strings that the data pipeline carries like a 1-D tensor (text layers).

    Text preprocessing layers (``TextVectorization``) take strings; torch has no string tensors,
    so ``to_tensor`` leaves strings as this ``list`` with the few tensor methods the pipeline uses
    (``shape``, ``dim``, ``to``, slicing, ``index_select``); the model's first layer gets a list.
    """

    @property
    def shape(self) -> tuple:
        return (len(self),)

    device = torch.device("cpu")

    def dim(self) -> int:
        return 1

    def numel(self) -> int:
        return len(self)

    def element_size(self) -> int:
        return 0

    def is_floating_point(self) -> bool:
        return False

    def to(self, *args, **kwargs) -> "StringBatch":
        return self

    def pin_memory(self) -> "StringBatch":
        return self

    def index_select(self, dim: int, index) -> "StringBatch":
        return StringBatch(self[i] for i in np.asarray(torch.as_tensor(index).cpu()).tolist())

    def __getitem__(self, key):
        item = list.__getitem__(self, key)
        return StringBatch(item) if isinstance(key, slice) else item


def is_string_batch(value: Any) -> bool:
    """A non-empty list/tuple of ``str``, or a ``(n,)``/``(n, 1)`` NumPy array of ``str`` (or of objects
    that are all ``str``); other string arrays stay errors of ``to_tensor``."""
    if isinstance(value, StringBatch):
        return True
    if isinstance(value, (list, tuple)):
        return bool(value) and all(isinstance(v, str) for v in value)
    if isinstance(value, np.ndarray) and value.size and (value.ndim == 1 or value.shape[1:] == (1,)):
        return value.dtype.kind in "US" or (value.dtype == object and all(isinstance(v, str) for v in value.flat))
    return False


def strings(value: Any) -> StringBatch:
    """``value`` (see ``is_string_batch``) as a ``StringBatch``; an ``(n, 1)`` array gives ``n`` strings."""
    if isinstance(value, np.ndarray):
        array = value.reshape(len(value), -1)[:, 0] if value.ndim > 1 else value
        return StringBatch(v.decode() if isinstance(v, bytes) else str(v) for v in array.tolist())
    return StringBatch(value)
