"""Batch logs that cost no host synchronisation unless read, and never go stale.

At each batch end the loop hands callbacks a ``BatchLogs``: a mapping built from a *snapshot*
of the running results taken on the device (small tensor copies, no sync). A value is moved to
the host only when a callback reads it, and a callback that keeps the object reads that batch's
values later, not the latest ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable

import torch

__all__ = ["BatchLogs", "to_float_logs"]


def to_float_logs(values: Mapping) -> dict:
    """``{name: float}`` from results that may be tensors, numbers or nested dicts (flattened)."""
    out: dict = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            out.update(to_float_logs(value))
        elif isinstance(value, torch.Tensor):
            out[name] = float(value.detach()) if value.numel() == 1 else value.detach().cpu().numpy()
        else:
            out[name] = value
    return out


class BatchLogs(Mapping):
    """A read-only mapping over a device-side snapshot; values become floats when first read."""

    def __init__(self, snapshot: Callable[[], Mapping] | Mapping):
        self._snapshot = snapshot() if callable(snapshot) else snapshot
        self._values: dict | None = None

    def _resolve(self) -> dict:
        if self._values is None:
            self._values = to_float_logs(self._snapshot)
            self._snapshot = None
        return self._values

    def __getitem__(self, key):
        return self._resolve()[key]

    def __iter__(self):
        return iter(self._resolve())

    def __len__(self) -> int:
        return len(self._resolve())

    def __repr__(self) -> str:
        return repr(self._resolve())
