"""A metric's state variable: ``MetricVariable``, a device tensor with Keras's ``Variable``
methods (``assign``, ``assign_add``, ``assign_sub``, ``value``, ``numpy()``), changed in place so
that references stay valid and no update syncs with the host.

Example:
    >>> import torch
    >>> v = MetricVariable(torch.zeros(()), name="count")
    >>> _ = v.assign_add(torch.tensor(2.0))
    >>> float(v + 1)
    3.0
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["MetricVariable"]


def _tensor(x: Any, device=None) -> torch.Tensor:
    if isinstance(x, MetricVariable):
        x = x.value
    if isinstance(x, torch.Tensor):
        return x if device is None or x.device == torch.device(device) else x.to(device)
    return torch.as_tensor(x, device=device)


def _unwrap(x):
    if isinstance(x, MetricVariable):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    return x


class MetricVariable:
    """A metric's state tensor with Keras's ``Variable`` methods.

    ``assign``, ``assign_add`` and ``assign_sub`` change the tensor in place (references stay
    valid, no host sync); ``value`` is the tensor; ``numpy()`` copies it to the host. Torch
    functions and arithmetic accept the variable directly, and tensor attributes (``shape``,
    ``dtype``, ``device``, ``detach()``, ``copy_()`` ...) are forwarded to the tensor.

    Example:
        >>> v = MetricVariable(torch.zeros(2), name="total")
        >>> _ = v.assign_add(torch.tensor([1.0, 2.0]))
        >>> (v * 2).tolist(), v.numpy().tolist()
        ([2.0, 4.0], [1.0, 2.0])
    """

    def __init__(self, value: torch.Tensor, name: str = "variable", aggregation: str = "sum", owner=None):
        self._value = value
        self.name = name
        self.aggregation = aggregation
        self._owner = owner

    @property
    def value(self) -> torch.Tensor:
        """The state tensor itself."""
        return self._value

    def _coerce(self, value) -> Any:
        value = _unwrap(value)
        if isinstance(value, torch.Tensor):
            if value.device != self._value.device:
                # Follow the data to its device (all the owner's variables move together).
                if self._owner is not None:
                    self._owner.to(value.device)
                else:
                    self._value = self._value.to(value.device)
            return value.detach()
        return value

    def assign(self, value) -> "MetricVariable":
        """Set the value in place (broadcast to the variable's shape)."""
        value = self._coerce(value)
        if isinstance(value, torch.Tensor):
            self._value.copy_(value)
        else:
            self._value.fill_(value)
        return self

    def assign_add(self, value) -> "MetricVariable":
        """``variable += value`` in place."""
        self._value.add_(self._coerce(value))
        return self

    def assign_sub(self, value) -> "MetricVariable":
        """``variable -= value`` in place."""
        self._value.sub_(self._coerce(value))
        return self

    def numpy(self):
        """A host (numpy) copy of the value: synchronises with the device."""
        return self._value.detach().cpu().numpy()

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_value", "_owner"):
            raise AttributeError(name)
        return getattr(self._value, name)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return func(*_unwrap(tuple(args)), **{k: _unwrap(v) for k, v in (kwargs or {}).items()})

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __getitem__(self, index):
        return self._value[_unwrap(index)]

    def __format__(self, spec: str) -> str:
        return format(self._value.item() if self._value.dim() == 0 else self._value, spec)

    def __repr__(self) -> str:
        return f"<MetricVariable name={self.name!r} shape={tuple(self._value.shape)} dtype={self._value.dtype}>"

    __hash__ = object.__hash__


def _binary_op(name: str):
    def op(self, *args):
        return getattr(self._value, name)(*[_unwrap(a) for a in args])

    op.__name__ = name
    return op


for _name in (
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__floordiv__",
    "__pow__",
    "__rpow__",
    "__neg__",
    "__abs__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__matmul__",
    "__rmatmul__",
):
    setattr(MetricVariable, _name, _binary_op(_name))
