"""``Lambda``: a function of tensors as a layer, with Keras's ``output_shape``, ``mask`` and
``arguments`` (the declared output shape is checked against what the function returns)."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from easynn.layers.base import Layer

__all__ = ["Lambda"]


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x * 2)``.

    Args:
        function: ``fn(inputs, **arguments)``; it also receives ``mask=`` and ``training=`` when
            its signature names them (as in Keras).
        output_shape: the output shape without the batch axis (a tuple, ``None`` for a free
            axis, or a list of tuples for several outputs), or a callable
            ``fn(input_shape) -> output_shape`` taking and returning shapes *with* the batch axis.
            Optional: easynn infers shapes by running the function. When given, it is checked
            against what the function returns, so a wrong declaration fails at the call that
            reveals it instead of silently misleading ``summary()`` and later layers.
        mask: the output mask: ``None`` (the layer drops masks), a callable
            ``fn(inputs, mask) -> mask``, or a tensor.
        arguments: extra keyword arguments for ``function``.

    Raises:
        TypeError: for a non-callable ``function`` or ``arguments`` that is not a dict.
        ValueError: when the output does not match ``output_shape``.

    A Lambda is saved only when its function is a named, registered function
    (``easynn.saving.register_keras_serializable``); an anonymous ``lambda`` cannot be stored,
    because easynn never stores code in model files: write a small ``Layer`` subclass instead.

    Example:
        >>> import torch
        >>> scale = Lambda(lambda x, factor: x * factor, arguments={"factor": 3.0}, output_shape=(2,))
        >>> scale(torch.ones(4, 2))[0]
        tensor([3., 3.])
    """

    def __init__(self, function: Callable, output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"`function` must be callable. Received: function={function!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"`arguments` must be a dict of keyword arguments. Received: arguments={arguments!r}")
        if output_shape is not None and not callable(output_shape):
            output_shape = _as_shape_structure(output_shape)
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            names = inspect.signature(function).parameters
        except (TypeError, ValueError):  # builtins without a signature
            names = {}
        self._fn_takes_mask = "mask" in names
        self._fn_takes_training = "training" in names

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        outputs = self.function(inputs, **kwargs)
        if self._output_shape is not None:
            self._check_output_shape(inputs, outputs)
        return outputs

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self) -> dict:
        # easynn.saving writes a Lambda itself (the function by registered name, never as code).
        raise TypeError(
            f"Lambda layer '{self.name}' cannot be serialized by get_config(): easynn never stores code. "
            "Save the model with model.save(): a Lambda whose function is a registered, named function "
            "(@easynn.saving.register_keras_serializable) is stored by name; otherwise write a Layer subclass."
        )

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while isinstance(first, list):
            first = first[0]
        batch = first[0] if isinstance(first, tuple) and first else None
        if isinstance(self._output_shape, list):
            return [(batch,) + shape for shape in self._output_shape]
        return (batch,) + self._output_shape

    def _check_output_shape(self, inputs, outputs) -> None:
        input_shape = _shapes_of(inputs)
        declared = self.compute_output_shape(input_shape)
        actual = _shapes_of(outputs)
        declared_list = declared if isinstance(declared, list) else [declared]
        actual_list = actual if isinstance(actual, list) else [actual]
        if len(declared_list) != len(actual_list) or not all(
            _shape_matches(tuple(d), a) for d, a in zip(declared_list, actual_list)
        ):
            raise ValueError(
                f"Lambda layer '{self.name}' was declared with output_shape={self._output_shape!r}, "
                f"but its function returned shape {actual} for inputs of shape {input_shape}. "
                "Fix output_shape (it excludes the batch axis unless it is a callable) or leave it out: "
                "easynn infers shapes by running the function."
            )


def _as_shape_structure(shape):
    """A Lambda ``output_shape``: a tuple of ints/None, or a list of such tuples."""
    if isinstance(shape, list) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [_as_shape_structure(tuple(s)) for s in shape]
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)) or not all(s is None or (isinstance(s, int) and s >= 0) for s in shape):
        raise TypeError(
            "`output_shape` must be a tuple of non-negative ints or None (without the batch axis), a list of "
            f"such tuples, or a callable. Received: output_shape={shape!r}"
        )
    return tuple(shape)


def _shapes_of(value):
    if isinstance(value, (list, tuple)):
        return [_shapes_of(v) for v in value]
    return tuple(value.shape)


def _shape_matches(declared: tuple, actual) -> bool:
    if not isinstance(actual, tuple) or len(declared) != len(actual):
        return False
    return all(d is None or a is None or d == a for d, a in zip(declared, actual))
