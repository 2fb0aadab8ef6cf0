"""Symbolic tensors: the placeholders the functional API is built from.

``easynn.Input(shape=(784,))`` returns a ``SymbolicTensor``. Calling a layer on symbolic tensors
does not compute anything; it records a ``Node`` (which layer, which inputs) and returns new
symbolic tensors with the output shape. ``easynn.Model(inputs, outputs)`` then walks these nodes
back from the outputs to get the graph it runs.

Shapes are found by running the layer once on zeros of batch size 2 (in inference mode, without
gradients): every layer, including plain PyTorch modules, thereby gets built with the real shape.

Example:
    >>> from easynn.layers.core import Dense, Input
    >>> x = Input(shape=(3,))
    >>> y = Dense(4)(x)
    >>> y.shape
    (None, 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["SymbolicTensor", "Node", "call_symbolically", "infer_output_shape"]

_PROBE_BATCH = 2
# Unknown non-batch axes (images of any size, sequences of any length) are probed at two sizes;
# an output axis that changes with them is unknown too.
_FREE_SIZES = (64, 96)


@dataclass(eq=False)
class Node:
    """One call of ``layer`` on symbolic ``inputs`` (a tensor or list of tensors)."""

    layer: Any
    inputs: Any
    kwargs: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)


class SymbolicTensor:
    """A placeholder with a shape (batch axis ``None``) and a dtype, made by a ``Node``.

    Args:
        shape: the shape including the batch axis, which is ``None``.
        dtype: the torch dtype the real tensor will have.
        node: the node that produced it (``None`` for an ``Input``).
        index: which output of ``node`` it is.
        name: a readable name.
    """

    def __init__(self, shape, dtype=torch.float32, node: Node | None = None, index: int = 0, name: str | None = None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape}, dtype={str(self.dtype).replace('torch.', '')}, name={self.name}>"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        raise TypeError(
            f"A symbolic tensor (from easynn.Input) was passed to the PyTorch function "
            f"{getattr(func, '__name__', func)}. Plain torch modules and functions cannot run on "
            "symbolic tensors: wrap the module with easynn.layers.TorchModuleWrapper(module), or a "
            "function with easynn.layers.Lambda(fn), and call that on the symbolic tensor."
        )

    def _probe(self, device=None, free: int = _FREE_SIZES[0]) -> torch.Tensor:
        """Zeros of this shape: batch axis ``_PROBE_BATCH``, other unknown axes ``free``."""
        shape = (_PROBE_BATCH,) + tuple(free if s is None else s for s in self.shape[1:])
        return torch.zeros(shape, dtype=self.dtype, device=device)

    @property
    def has_free_axes(self) -> bool:
        """Whether a non-batch axis is unknown (``Input(shape=(None, None, 3))``)."""
        return any(s is None for s in self.shape[1:])


def _map(value, fn):
    if isinstance(value, (list, tuple)):
        return type(value)(_map(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return fn(value)


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flatten(v)]
    return [value]


def _run_on_probes(layer, inputs, kwargs, free: int = _FREE_SIZES[0]):
    """Run ``layer`` on zeros shaped like the symbolic ``inputs``; returns real outputs."""
    probes = _map(inputs, lambda t: t._probe(free=free) if isinstance(t, SymbolicTensor) else t)
    was_training = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            outputs = layer(probes, **kwargs)
    finally:
        layer.train(was_training)
        if hasattr(layer, "_clear_losses"):
            layer._clear_losses()
    return outputs


def call_symbolically(layer, args, kwargs) -> Any:
    """Record ``layer(*args, **kwargs)`` on symbolic inputs and return symbolic outputs."""
    inputs = args[0]
    if len(args) > 1:
        raise TypeError(
            f"Layer '{getattr(layer, 'name', layer)}' was called on symbolic tensors with "
            f"{len(args)} positional arguments; pass several inputs as one list instead."
        )
    symbolic_kwargs = [k for k, v in kwargs.items() if any(isinstance(t, SymbolicTensor) for t in _flatten(v))]
    if symbolic_kwargs:
        raise NotImplementedError(
            f"Layer '{getattr(layer, 'name', layer)}' was called with symbolic tensors in the keyword "
            f"argument(s) {symbolic_kwargs}; the functional API takes symbolic tensors only as the "
            "layer's inputs (e.g. LSTM(..., initial_state=[h, c]) on Input tensors is not supported). "
            "Subclass easynn.Model and pass the tensors in call() instead."
        )
    outputs = _run_on_probes(layer, inputs, kwargs)
    free_axes = any(isinstance(t, SymbolicTensor) and t.has_free_axes for t in _flatten(inputs))
    # With unknown input axes, a second probe at another size shows which output axes follow them.
    others = iter(_flatten(_run_on_probes(layer, inputs, kwargs, free=_FREE_SIZES[1]))) if free_axes else None
    node = Node(layer=layer, inputs=inputs, kwargs=dict(kwargs))
    counter = iter(range(10**6))

    def to_symbolic(tensor):
        index = next(counter)
        shape = (None,) + tuple(tensor.shape[1:])
        if others is not None:
            other = next(others)
            shape = (None,) + tuple(a if a == b else None for a, b in zip(tensor.shape[1:], other.shape[1:]))
        symbolic = SymbolicTensor(shape, tensor.dtype, node=node, index=index, name=f"{getattr(layer, 'name', 'layer')}:{index}")
        node.outputs.append(symbolic)
        return symbolic

    return _map(outputs, to_symbolic)


def infer_output_shape(layer, input_shape):
    """Output shape of ``layer`` for ``input_shape`` (``None`` allowed for the batch axis)."""
    if isinstance(input_shape, list):
        inputs = [SymbolicTensor(s) for s in input_shape]
    else:
        inputs = SymbolicTensor(input_shape)
    outputs = _run_on_probes(layer, inputs, {})
    return _map(outputs, lambda t: (input_shape[0] if not isinstance(input_shape, list) else None,) + tuple(t.shape[1:]))
