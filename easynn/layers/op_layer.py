"""``OpLayer``: one ``easynn.ops`` call recorded as a node of a functional model.

When an op receives a symbolic tensor (``x = ops.relu(ops.matmul(inputs, w))``, ``x[:, 0]``,
``a + b``), the dispatch hook this module registers makes an ``OpLayer``
holding the op's public name and its constant arguments (as JSON), and calls it on the symbolic
inputs. The model then runs, summarises, trains, saves and loads it like any layer: the config
is ``{"op": "matmul", "args": [...], "kwargs": {...}}``, and loading looks the op up by name
inside ``easynn.ops`` (no code is stored).

Example:
    >>> import torch, easynn
    >>> from easynn import ops
    >>> inputs = easynn.Input(shape=(3,))
    >>> outputs = ops.relu(inputs * 2.0)
    >>> model = easynn.Model(inputs, outputs)
    >>> model(torch.tensor([[-1.0, 0.5, 2.0]]))
    tensor([[0., 1., 4.]])
    >>> [type(layer).__name__ for layer in model.layers]
    ['InputLayer', 'OpLayer', 'OpLayer']
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer, unique_name
from easynn.layers.symbolic import SymbolicTensor
from easynn.ops import _dispatch, _symbolic

__all__ = ["OpLayer", "call_op_symbolically"]


class OpLayer(Layer):
    """A layer that applies one ``easynn.ops`` function (made for you by ops on symbolic tensors).

    Args:
        op: the op's public name (``"matmul"``, ``"image.resize"``).
        args: the positional arguments, encoded; ``{"__input__": i}`` is the ``i``-th input tensor.
        kwargs: the keyword arguments, encoded the same way.
        **kwargs: ``Layer`` arguments (``name``...).

    Call arguments:
        inputs: the input tensor, or the list of input tensors when the op reads several.

    Raises:
        ValueError: if ``op`` is not the name of an easynn op.
    """

    _warns_on_dropped_mask = False  # Keras's ops never warn about masks

    def __init__(self, op: str, args: list | None = None, kwargs: dict | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.op = op
        self.op_args = list(args or [])
        self.op_kwargs = dict(kwargs or {})
        self._fn = _symbolic.resolve(op)
        self._num_inputs = _count_inputs([self.op_args, self.op_kwargs])
        self._probe_fill = "uniform"  # probe with values in [0.5, 1.5): inv/log/sqrt are defined there
        # Constants are decoded once; each call only puts the input tensors into their slots.
        slots = [_Slot(i) for i in range(self._num_inputs)]
        self._args = _symbolic.decode(self.op_args, slots)
        self._kwargs = {key: _symbolic.decode(value, slots) for key, value in self.op_kwargs.items()}

    def call(self, inputs):
        tensors = list(inputs) if self._num_inputs != 1 else [inputs]
        args = [_fill(a, tensors) for a in self._args]
        kwargs = {key: _fill(value, tensors) for key, value in self._kwargs.items()}
        return self._fn(*args, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"op": self.op, "args": self.op_args, "kwargs": self.op_kwargs})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, op={self.op!r}"


class _Slot:
    """Where the ``index``-th input tensor goes in a decoded argument."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _fill(value: Any, tensors: list) -> Any:
    kind = type(value)
    if kind is _Slot:
        return tensors[value.index]
    if kind is list or kind is tuple:
        return kind(_fill(v, tensors) for v in value)
    if kind is dict:
        return {k: _fill(v, tensors) for k, v in value.items()}
    if kind is slice:
        return slice(_fill(value.start, tensors), _fill(value.stop, tensors), _fill(value.step, tensors))
    if isinstance(value, torch.Tensor) and tensors and isinstance(tensors[0], torch.Tensor) \
            and value.device != tensors[0].device:
        return value.to(tensors[0].device)  # a constant follows the inputs to the GPU
    return value


def _count_inputs(value: Any) -> int:
    found: set[int] = set()

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for v in item:
                walk(v)
        elif isinstance(item, dict):
            if "__input__" in item:
                found.add(int(item["__input__"]))
            else:
                for v in item.values():
                    walk(v)

    walk(value)
    return len(found)


def call_op_symbolically(op_name: str, fn, args: tuple, kwargs: dict):
    """The dispatch handler: record ``fn(*args, **kwargs)`` on symbolic tensors as an ``OpLayer`` node."""
    encoded_args, encoded_kwargs, inputs = _symbolic.split_call(
        args, kwargs, lambda v: isinstance(v, SymbolicTensor))
    layer = OpLayer(op=_symbolic.public_name(op_name, fn), args=encoded_args, kwargs=encoded_kwargs,
                    name=unique_name(op_name))
    return layer(inputs[0] if len(inputs) == 1 else list(inputs))


# Every easynn.ops call that receives a SymbolicTensor becomes an OpLayer node (ops cannot import
# layers, so the layers package registers itself; easynn/layers/__init__.py imports this module).
_dispatch.register_symbolic_type(SymbolicTensor, call_op_symbolically)
