"""Keras's scopes: ``keras.name_scope`` (names of variables) and ``keras.device`` (where tensors go).

``with easynn.name_scope("encoder"):`` prefixes the path of every standalone ``Variable`` created
inside it (``"encoder/variable"``); scopes nest (``"encoder/block/w"``). Layer weights keep their
layer's path (``"dense/kernel"``), which is what saving and ``get_layer`` rely on.

``with easynn.device("cuda:0"):`` makes tensors created inside it (``easynn.ops.zeros``, new
``Variable``s, plain ``torch.zeros``) land on that device: it is ``torch.device`` used as a context
manager, with Keras's device names accepted (``"gpu:0"`` means ``"cuda:0"``).

Example:
    >>> from easynn.variables import Variable
    >>> with name_scope("encoder"):
    ...     with name_scope("block"):
    ...         w = Variable(initializer="zeros", shape=(2,), name="w")
    >>> w.path
    'encoder/block/w'
    >>> import torch
    >>> with device("cpu"):
    ...     torch.zeros(1).device.type
    'cpu'
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import torch

__all__ = ["name_scope", "device", "current_name_scope"]

_local = threading.local()


def _stack() -> list[str]:
    if not hasattr(_local, "names"):
        _local.names = []
    return _local.names


def current_name_scope() -> str:
    """The active name scopes joined by ``/`` (``""`` outside any)."""
    return "/".join(_stack())


class name_scope:  # noqa: N801 - Keras's name, used as ``with keras.name_scope(...)``
    """Prefix the paths of the variables created inside with ``name`` (Keras's ``keras.name_scope``).

    Args:
        name: the scope's name; it may not be empty or contain ``/``.

    Raises:
        ValueError: for a name that is not a non-empty string without ``/``.
    """

    def __init__(self, name: str, **kwargs):
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"`name` must be a non-empty string without '/'. Received: name={name!r}")
        self.name = name
        self._entered = False

    def __enter__(self) -> "name_scope":
        _stack().append(self.name)
        self._entered = True
        return self

    def __exit__(self, *exc) -> None:
        if self._entered:
            _stack().pop()
            self._entered = False


def _torch_device_name(device_name: str) -> str:
    if not isinstance(device_name, (str, torch.device)):
        raise ValueError(f"`device_name` must be a string such as 'cpu' or 'cuda:0'. Received: {device_name!r}")
    name = str(device_name).lower()
    if name.startswith("gpu"):
        name = "cuda" + name[3:]
    try:
        torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"Unknown device {device_name!r}: expected e.g. 'cpu', 'cuda', 'cuda:0' or 'gpu:0'.") from error
    return name


@contextlib.contextmanager
def device(device_name: str) -> Iterator[torch.device]:
    """Create the tensors of the block on ``device_name`` (Keras's ``keras.device``).

    Raises:
        ValueError: for a name that is not a device.
    """
    target = torch.device(_torch_device_name(device_name))
    with target:
        yield target
