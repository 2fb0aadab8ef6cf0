"""EinsumDense: a dense layer whose product is any einsum, as Keras's (used by transformer code).

Formula: ``y = activation(einsum(equation, x, kernel) + bias)``. The kernel's shape follows from
the equation: its axes that appear in the input take the input's sizes, the others the sizes in
``output_shape``. The bias covers the output axes named in ``bias_axes`` (broadcast over the
others).

Example:
    >>> import torch
    >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
    >>> layer(torch.zeros(3, 5, 8)).shape
    torch.Size([3, 5, 2, 4])
    >>> [tuple(w.shape) for w in layer.weights]  # kernel (8, 2, 4), bias (2, 4)
    [(8, 2, 4), (2, 4)]
"""

from __future__ import annotations

import re
from typing import Any

import torch

from easynn import activations, constraints, initializers, regularizers
from easynn.layers.base import Layer

__all__ = ["EinsumDense"]

_EQUATION = re.compile(r"^(\.\.\.)?([a-zA-Z]+)(\.\.\.)?,([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]+)(\.\.\.)?$")


class EinsumDense(Layer):
    """A layer computing ``einsum(equation, inputs, kernel) + bias``.

    Args:
        equation: ``"ab,bc->ac"``, ``"...b,bc->...c"`` or ``"ab...,bc->ac..."`` style: one input,
            one kernel, one output; the first input axis is the batch unless an ellipsis
            stands for the leading axes.
        output_shape: sizes of the output axes (without the batch axis and the ellipsis axes);
            an int for one axis; ``None`` entries are read from the input.
        activation: applied to the result.
        bias_axes: output axes (letters) that get a bias, or ``None``.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: as ``Dense``.
        kernel_constraint, bias_constraint: projections after each update (the kernel has the
            shape of the equation's kernel term, e.g. ``(in, out)`` for ``"ab,bc->ac"``).
        **kwargs: base layer arguments.

    Raises:
        ValueError: for an equation that is not of the forms above, ``bias_axes`` letters that
            are not in the output, or output sizes that cannot be determined.

    Example:
        >>> import torch
        >>> dense = EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")
        >>> dense(torch.zeros(2, 3)).shape, dense.count_params()  # like Dense(4): 3 * 4 + 4
        (torch.Size([2, 4]), 16)
    """

    def __init__(
        self,
        equation: str,
        output_shape: Any,
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        match = _EQUATION.match(str(equation).replace(" ", ""))
        if match is None or (match.group(1) and match.group(3)) or (match.group(5) and match.group(7)):
            raise ValueError(
                "`equation` must be of the form 'ab,bc->ac', '...ab,bc->...ac' or 'ab...,bc->ac...'. "
                f"Received: equation={equation!r}"
            )
        left, right = bool(match.group(1)), bool(match.group(3))
        if (left, right) != (bool(match.group(5)), bool(match.group(7))):
            raise ValueError(f"The ellipsis must be on the same side of input and output. Received: equation={equation!r}")
        self.equation = equation
        self._input_spec, self._kernel_spec, self._output_spec = match.group(2), match.group(4), match.group(6)
        self._elided = "left" if left else "right" if right else None
        shape = (output_shape,) if isinstance(output_shape, int) or output_shape is None else tuple(output_shape)
        self.partial_output_shape = shape
        self.activation = activations.get(activation)
        if bias_axes is not None:
            missing = [c for c in bias_axes if c not in self._output_spec]
            if missing:
                raise ValueError(
                    f"`bias_axes` letters must appear in the output of the equation {equation!r}. "
                    f"Received: bias_axes={bias_axes!r} (not in the output: {''.join(missing)})"
                )
        self.bias_axes = bias_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")

    def _input_size(self, input_shape, char: str) -> int | None:
        i = self._input_spec.index(char)
        if self._elided == "left":
            return input_shape[len(input_shape) - len(self._input_spec) + i]
        return input_shape[i]

    def _output_sizes(self, input_shape) -> dict[str, int]:
        spec = self._output_spec
        named = spec if self._elided == "left" else spec[1:]  # the batch axis has no size given
        if len(self.partial_output_shape) != len(named):
            raise ValueError(
                f"`output_shape` must have {len(named)} entries for the output axes {named!r} of "
                f"{self.equation!r}. Received: output_shape={self.partial_output_shape!r}"
            )
        sizes = {}
        for char, size in zip(named, self.partial_output_shape):
            if size is None and char in self._input_spec:
                size = self._input_size(input_shape, char)
            sizes[char] = size
        return sizes

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        out = self._output_sizes(input_shape)
        kernel_shape = []
        for char in self._kernel_spec:
            size = self._input_size(input_shape, char) if char in self._input_spec else out.get(char)
            if size is None:
                raise ValueError(
                    f"Cannot find the size of kernel axis '{char}' of {self.equation!r} from input shape "
                    f"{input_shape} and output_shape={self.partial_output_shape!r}."
                )
            kernel_shape.append(int(size))
        self.full_output_shape = out
        self.kernel = self.add_weight(tuple(kernel_shape), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      constraint=self.kernel_constraint)
        if self.bias_axes:
            first = min(self._output_spec.find(c) for c in self.bias_axes)
            bias_shape = [int(out[c]) if c in self.bias_axes else 1 for c in self._output_spec[first:]]
            if self._elided == "right":
                bias_shape += [1] * (len(input_shape) - len(self._input_spec))
            self.bias = self.add_weight(tuple(bias_shape), self.bias_initializer,
                                        regularizer=self.bias_regularizer, name="bias",
                                        constraint=self.bias_constraint)
        else:
            self.bias = None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        out = torch.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out) if self.activation is not None else out

    def get_config(self) -> dict:
        config = super().get_config()
        shape = self.partial_output_shape
        config.update(
            equation=self.equation,
            output_shape=shape[0] if len(shape) == 1 else list(shape),
            activation=activations.serialize(self.activation),
            bias_axes=self.bias_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, equation={self.equation!r}, output_shape={self.partial_output_shape}"
