"""Symbolic tensors: the placeholders the functional API is built from.

``easynn.Input(shape=(784,))`` returns a ``SymbolicTensor``. Calling a layer on symbolic tensors
does not compute anything; it records a ``Node`` (which layer, which inputs) and returns new
symbolic tensors with the output shape. ``easynn.Model(inputs, outputs)`` then walks these nodes
back from the outputs to get the graph it runs.

Shapes are found by running the layer once on zeros of batch size 2 (in inference mode, without
gradients): every layer, including plain PyTorch modules, thereby gets built with the real shape.
A string input (``Input(shape=(1,), dtype="string")``, for ``TextVectorization``) is probed with a
list of short dummy strings instead, since torch has no string tensors (see ``STRING``).

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

import numpy as np
import torch

__all__ = ["SymbolicTensor", "Node", "STRING", "call_symbolically", "infer_output_shape", "string_batch"]

_PROBE_BATCH = 2
# Unknown non-batch axes (images of any size, sequences of any length) are probed at two sizes;
# an output axis that changes with them is unknown too.
_FREE_SIZES = (64, 96)

# The dtype of a string input (``Input(shape=(1,), dtype="string")``): torch has no string tensors,
# so such a SymbolicTensor carries this name, and its probes are ``_StringProbe`` lists of words
# (one word at the first probe size, two at the second: a text layer's output length is then free).
STRING = "string"
_PROBE_WORDS = {_FREE_SIZES[0]: "probe", _FREE_SIZES[1]: "probe text"}



# The call keyword a graph node carries when its layer was called on several positional tensors.
POSITIONAL_INPUTS = "_positional_inputs"

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

    _keras_mask: "SymbolicTensor | None" = None  # set on outputs of mask-producing layers

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

    # ------------------------------------------------------------------ ops on symbolic tensors
    # Each operator is the easynn.ops function of the same meaning, so ``a + b``, ``x[:, 0]`` and
    # ``x @ w`` become graph nodes (OpLayer), as in Keras's functional API.
    __array_ufunc__ = None  # ``numpy_array + x`` defers to ``x.__radd__`` instead of looping
    __hash__ = object.__hash__

    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        return _ops().true_divide(self, other)

    def __rtruediv__(self, other):
        return _ops().true_divide(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().absolute(self)

    def __invert__(self):
        return _ops().logical_not(self)

    def __and__(self, other):
        return _ops().logical_and(self, other)

    def __rand__(self, other):
        return _ops().logical_and(other, self)

    def __or__(self, other):
        return _ops().logical_or(self, other)

    def __ror__(self, other):
        return _ops().logical_or(other, self)

    def __xor__(self, other):
        return _ops().logical_xor(self, other)

    def __rxor__(self, other):
        return _ops().logical_xor(other, self)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __eq__(self, other):  # noqa: D105 - a graph node, as in Keras (hash stays identity-based)
        return _ops().equal(self, other)

    def __ne__(self, other):
        return _ops().not_equal(self, other)

    def __getitem__(self, key):
        return _ops().get_item(self, key)

    def __iter__(self):
        raise TypeError(
            "A symbolic tensor cannot be iterated or unpacked while the model is being built; use "
            "easynn.ops.unstack(x, axis=...) or index it (x[:, 0])."
        )

    def __bool__(self):
        raise TypeError(
            "A symbolic tensor has no truth value while the model is being built (it holds no data). Use "
            "easynn.ops.where / easynn.ops.cond inside a Layer's call() for data-dependent choices."
        )

    def __len__(self):
        if self.shape and self.shape[0] is not None:
            return self.shape[0]
        raise TypeError("len() of a symbolic tensor whose first axis (the batch) is unknown.")

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return _ops().transpose(self)

    def numpy(self):
        raise TypeError(
            "A symbolic tensor (from easynn.Input) holds no data, so it has no numpy() value. Build the model "
            "with easynn.Model(inputs, outputs) and call it on arrays."
        )

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        raise TypeError(
            f"A symbolic tensor (from easynn.Input) was passed to the PyTorch function "
            f"{getattr(func, '__name__', func)}. Plain torch modules and functions cannot run on "
            "symbolic tensors: wrap the module with easynn.layers.TorchModuleWrapper(module), or a "
            "function with easynn.layers.Lambda(fn), and call that on the symbolic tensor."
        )

    def _probe(self, device=None, free: int = _FREE_SIZES[0], fill: str | None = None) -> torch.Tensor:
        """Zeros of this shape: batch axis ``_PROBE_BATCH``, other unknown axes ``free``.

        ``fill="uniform"`` gives floats in ``[0.5, 1.5)`` instead (from a fixed private generator,
        so the global random stream is untouched): ops such as ``inv`` or ``log`` fail or give
        NaN on zeros.
        """
        if self.dtype == STRING:  # text: a batch of short dummy strings (see STRING)
            return _StringProbe([_PROBE_WORDS.get(free, "probe")] * _PROBE_BATCH)
        shape = (_PROBE_BATCH,) + tuple(free if s is None else s for s in self.shape[1:])
        if fill == "uniform" and (self.dtype.is_floating_point or self.dtype.is_complex):
            generator = torch.Generator().manual_seed(0)
            return (torch.rand(shape, generator=generator) + 0.5).to(dtype=self.dtype, device=device)
        return torch.zeros(shape, dtype=self.dtype, device=device)

    @property
    def has_free_axes(self) -> bool:
        """Whether a non-batch axis is unknown (``Input(shape=(None, None, 3))``), or the output
        shape may depend on the data (strings: a text layer's output length follows the text)."""
        return self.dtype == STRING or any(s is None for s in self.shape[1:])


class _StringProbe(list):
    """A batch of strings standing in for a string input while a layer call is recorded.

    Like the data pipeline's ``StringBatch`` (``easynn.training``, which this layer may not import):
    a ``list`` of ``str`` with a 1-D ``shape``, so text layers take it as they take real batches.
    """

    @property
    def shape(self) -> tuple:
        return (len(self),)

    def dim(self) -> int:
        return 1


def string_batch(value: Any, where: str) -> list:
    """``value`` as a list of ``str``: a list/tuple of ``str``, or a ``(batch,)``/``(batch, 1)``
    NumPy array of ``str``/``bytes``/objects that are ``str`` (as Keras's ``TextVectorization`` takes).

    Raises:
        TypeError: for anything else, naming ``where`` (the input that received it).
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return value if isinstance(value, list) else list(value)
    if isinstance(value, np.ndarray) and (value.ndim == 1 or value.shape[1:] == (1,)) and value.dtype.kind in "USO":
        items = value.reshape(-1).tolist()
        items = [v.decode("utf-8") if isinstance(v, bytes) else v for v in items]
        if all(isinstance(v, str) for v in items):
            return items
    shape = getattr(value, "shape", None)
    raise TypeError(
        f"{where} takes strings (dtype='string'): a list of str, or a NumPy array of str of shape (batch,) or "
        f"(batch, 1). Received: {type(value).__name__}" + ("" if shape is None else f" of shape {tuple(shape)}")
    )


def _map(value, fn):
    if isinstance(value, (list, tuple)):
        items = [_map(v, fn) for v in value]
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple (ops.top_k)
            return type(value)(*items)
        return type(value)(items)
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return fn(value)


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flatten(v)]
    return [value]


def _masked_probe(tensor: "SymbolicTensor", free: int, fill: str | None) -> torch.Tensor:
    """The probe of ``tensor``; one that carries a mask gets an all-true ``_keras_mask``."""
    probe = tensor._probe(free=free, fill=fill)
    if tensor._keras_mask is not None:
        probe._keras_mask = torch.ones(tensor._keras_mask._probe(free=free).shape, dtype=torch.bool)
    return probe


def _run_on_probes(layer, inputs, kwargs, free: int = _FREE_SIZES[0]):
    """Run ``layer`` on zeros shaped like the symbolic ``inputs``; returns real outputs."""
    fill = getattr(layer, "_probe_fill", None)
    probes = _map(inputs, lambda t: _masked_probe(t, free, fill) if isinstance(t, SymbolicTensor) else t)
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
    if len(args) > 1:  # layer(a, b): one list input in the graph, spread back out when it runs
        inputs = list(args)
        kwargs = {**kwargs, POSITIONAL_INPUTS: True}
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
    if isinstance(getattr(layer, "__dict__", None), dict):  # layer.input / layer.output read these
        layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    if isinstance(outputs, list) and outputs and all(isinstance(v, str) for v in outputs):
        # A layer that returns strings (a text-cleaning Lambda): one string tensor, not one per string.
        symbolic = SymbolicTensor((None,), STRING, node=node, name=f"{getattr(layer, 'name', 'layer')}:0")
        node.outputs.append(symbolic)
        return symbolic
    counter = iter(range(10**6))

    def to_symbolic(tensor):
        index = next(counter)
        shape = (None,) + tuple(tensor.shape[1:])
        if others is not None:
            other = next(others)
            shape = (None,) + tuple(a if a == b else None for a, b in zip(tensor.shape[1:], other.shape[1:]))
        symbolic = SymbolicTensor(shape, tensor.dtype, node=node, index=index, name=f"{getattr(layer, 'name', 'layer')}:{index}")
        mask = getattr(tensor, "_keras_mask", None)
        if isinstance(mask, torch.Tensor):  # the output carries a mask: so does the symbolic tensor
            symbolic._keras_mask = SymbolicTensor(shape[: mask.dim()], torch.bool, name=f"{symbolic.name}:mask")
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


def _ops():
    from easynn import ops

    return ops
