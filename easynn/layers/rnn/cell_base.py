"""``_DropoutCell``: what ``SimpleRNNCell``, ``LSTMCell`` and ``GRUCell`` share.

Keras's arguments of a recurrent cell (units, activations, initializers, regularizers,
constraints), its weights (``kernel (in, gates*units)``, ``recurrent_kernel (units,
gates*units)``, ``bias``) in Keras's layout, and Keras's ``DropoutRNNCell`` masks: one input
mask and one recurrent mask per sequence, drawn on the first step and reused until ``RNN``
resets them. See :mod:`easynn.layers.rnn.cells` for the cells' formulas.
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation, activations, constraints, initializers, regularizers
from easynn.layers.base import Layer
from easynn.layers.rnn.base import dropout_mask, flat_state_shapes, recurrent_arguments

__all__: list[str] = []  # private: the public cells are in easynn.layers.rnn.cells


def _first(states: Any) -> torch.Tensor:
    return states[0] if isinstance(states, (list, tuple)) else states


class _DropoutCell(Layer):
    """Keras's per-sequence dropout masks for cells (``get_dropout_mask`` / ``reset_dropout_mask``)."""

    gates = 1

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
        self.recurrent_constraint = constraints.get(recurrent_constraint, argument="recurrent_constraint")
        self.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")
        self.dropout = _validation.probability("dropout", dropout)
        self.recurrent_dropout = _validation.probability("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._dp_mask: torch.Tensor | None = None
        self._rec_dp_mask: torch.Tensor | None = None

    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def get_dropout_mask(self, inputs: torch.Tensor) -> torch.Tensor | None:
        if not self.dropout:
            return None
        if self._dp_mask is None or self._dp_mask.shape != inputs.shape:
            self._dp_mask = dropout_mask(torch.ones_like(inputs), self.dropout)
        return self._dp_mask

    def get_recurrent_dropout_mask(self, state: torch.Tensor) -> torch.Tensor | None:
        if not self.recurrent_dropout:
            return None
        if self._rec_dp_mask is None or self._rec_dp_mask.shape != state.shape:
            self._rec_dp_mask = dropout_mask(torch.ones_like(state), self.recurrent_dropout)
        return self._rec_dp_mask

    def reset_dropout_mask(self) -> None:
        self._dp_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._rec_dp_mask = None

    def get_initial_state(self, batch_size: int | None = None) -> list[torch.Tensor]:
        dtype = self.dtype or torch.get_default_dtype()
        return [torch.zeros((batch_size, *shape), dtype=dtype) for shape in flat_state_shapes(self.state_size)]

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _initial_bias(self, shape, dtype=None, device=None):
        return self.bias_initializer(shape, dtype=dtype, device=device)

    def build(self, input_shape) -> None:
        in_dim = int(input_shape[-1])
        g = self.gates * self.units
        self.kernel = self.add_weight((in_dim, g), self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      name="kernel", constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            (self.units, g), self.recurrent_initializer, regularizer=self.recurrent_regularizer, name="recurrent_kernel",
            constraint=self.recurrent_constraint,
        )
        self.bias = (
            self.add_weight(self._bias_shape(), self._initial_bias, regularizer=self.bias_regularizer, name="bias",
                            constraint=self.bias_constraint)
            if self.use_bias else None
        )

    def _dropped(self, inputs, h, training):
        if training:
            dp = self.get_dropout_mask(inputs)
            rec = self.get_recurrent_dropout_mask(h)
            inputs = inputs if dp is None else inputs * dp
            h = h if rec is None else h * rec
        return inputs, h

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(recurrent_arguments(self))
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"
