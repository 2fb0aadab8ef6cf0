"""RNN cells: one step of a recurrence, for ``RNN(cell)``. Weights in Keras's layout and order.

A cell is a layer with ``state_size`` (an int, or one entry per state), optionally
``output_size``, and ``call(inputs, states, training=None) -> (output, new_states)``.

    SimpleRNNCell: h' = act(x K + h R + b)
    LSTMCell:      i, f, c~, o = split(x K + h R + b);  c' = s(f) c + s(i) act(c~);  h' = s(o) act(c')
    GRUCell:       z, r = s(x Kz + h Rz + bz), s(x Kr + h Rr + br)
                   h~ = act(x Kh + bh + r * (h Rh + b'h))   (reset_after; else act(x Kh + bh + (r h) Rh))
                   h' = z h + (1 - z) h~

Dropout (Keras's ``DropoutRNNCell``): one input mask and one recurrent mask per sequence, drawn on
the first step of a sequence and reused; ``RNN`` clears them before each sequence.

Example:
    >>> import torch
    >>> cell = LSTMCell(3)
    >>> h, (h2, c) = cell(torch.zeros(2, 4), [torch.zeros(2, 3), torch.zeros(2, 3)])
    >>> h.shape, cell.count_params()  # 4 * (3 * (4 + 3) + 3)
    (torch.Size([2, 3]), 96)
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation, activations, constraints, initializers, regularizers
from easynn.layers.base import Layer
from easynn.layers.rnn.base import dropout_mask, flat_state_shapes, recurrent_arguments

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]


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


class SimpleRNNCell(_DropoutCell):
    """One step of :class:`SimpleRNN`: ``h' = act(x @ kernel + h @ recurrent_kernel + bias)``.

    Args:
        units, activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
        seed, **kwargs: as for ``SimpleRNN``.

    Call arguments:
        inputs: ``(batch, features)``; states: ``[h]`` (or ``h``); training: enables dropout.

    Returns:
        ``(h', [h'])``.

    Example:
        >>> import torch
        >>> cell = SimpleRNNCell(2, kernel_initializer="ones", recurrent_initializer="zeros")
        >>> cell(torch.ones(1, 3), [torch.zeros(1, 2)])[0].tolist()  # tanh(3)
        [[0.9950547814369202, 0.9950547814369202]]
    """

    gates = 1

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any) -> None:
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def call(self, inputs, states, training=None):
        x, h = self._dropped(inputs, _first(states), training)
        out = x @ self.kernel + h @ self.recurrent_kernel
        if self.bias is not None:
            out = out + self.bias
        out = self.activation(out)
        return out, [out]


class LSTMCell(_DropoutCell):
    """One step of :class:`LSTM` (Keras gate order ``i, f, c, o``; states ``[h, c]``).

    Args:
        units, activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, unit_forget_bias, kernel_regularizer,
        recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint, dropout, recurrent_dropout, seed, **kwargs: as
        for ``LSTM``.

    Call arguments:
        inputs: ``(batch, features)``; states: ``[h, c]``; training: enables dropout.

    Returns:
        ``(h', [h', c'])``.

    Example:
        >>> import torch
        >>> cell = LSTMCell(2)
        >>> [tuple(w.shape) for w in (cell(torch.zeros(1, 3), [torch.zeros(1, 2)] * 2), cell.kernel)[1:]]
        [(3, 8)]
    """

    gates = 4

    def __init__(self, units: int, *args: Any, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def _initial_bias(self, shape, dtype=None, device=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype, device=device)
        u = self.units
        return torch.cat([
            self.bias_initializer((u,), dtype=dtype, device=device), torch.ones(u, dtype=dtype, device=device),
            self.bias_initializer((2 * u,), dtype=dtype, device=device),
        ])

    def call(self, inputs, states, training=None):
        h, c = states
        x, hd = self._dropped(inputs, h, training)
        z = x @ self.kernel + hd @ self.recurrent_kernel
        if self.bias is not None:
            z = z + self.bias
        i, f, g, o = z.chunk(4, dim=-1)
        act, rec = self.activation, self.recurrent_activation
        c = rec(f) * c + rec(i) * act(g)
        h = rec(o) * act(c)
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_DropoutCell):
    """One step of :class:`GRU` (Keras gate order ``z, r, h``; bias ``(2, 3*units)`` when
    ``reset_after``).

    Args:
        units, activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed, reset_after, **kwargs: as for ``GRU``.

    Call arguments:
        inputs: ``(batch, features)``; states: ``[h]`` (or ``h``); training: enables dropout.

    Returns:
        ``(h', [h'])``.

    Example:
        >>> import torch
        >>> cell = GRUCell(2)
        >>> _ = cell(torch.zeros(1, 3), [torch.zeros(1, 2)])
        >>> [tuple(w.shape) for w in cell.get_weights()]
        [(3, 6), (2, 6), (2, 6)]
    """

    gates = 3

    def __init__(self, units: int, *args: Any, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, *args, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        h = _first(states)
        x, hd = self._dropped(inputs, h, training)
        u = self.units
        if self.bias is None:
            in_bias = rec_bias = 0.0
        elif self.reset_after:
            in_bias, rec_bias = self.bias[0], self.bias[1]
        else:
            in_bias, rec_bias = self.bias, 0.0
        xw = x @ self.kernel + in_bias
        x_z, x_r, x_h = xw.split(u, dim=-1)
        rec, act = self.recurrent_activation, self.activation
        if self.reset_after:
            hu = hd @ self.recurrent_kernel + rec_bias
            h_z, h_r, h_h = hu.split(u, dim=-1)
            z, r = rec(x_z + h_z), rec(x_r + h_r)
            hh = act(x_h + r * h_h)
        else:
            h_z, h_r = (hd @ self.recurrent_kernel[:, : 2 * u]).split(u, dim=-1)
            z, r = rec(x_z + h_z), rec(x_r + h_r)
            hh = act(x_h + (r * hd) @ self.recurrent_kernel[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]

    def get_config(self) -> dict:
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


class StackedRNNCells(Layer):
    """Several cells run one after another at each step, as one cell (for ``RNN``).

    The states are the cells' states one after the other, flattened (``state_size`` lists one
    entry per state); the output is the last cell's output.

    Args:
        cells: a list of cells.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> stack = StackedRNNCells([SimpleRNNCell(3), LSTMCell(2)])
        >>> stack.state_size, stack.output_size
        ([3, 2, 2], 2)
    """

    def __init__(self, cells: list, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("`cells` must be a non-empty list of RNN cells. Received: cells=[]")
        for cell in cells:
            if not hasattr(cell, "state_size") or not callable(getattr(cell, "call", None)):
                raise ValueError(
                    f"Every cell needs a `state_size` attribute and a `call(inputs, states)` method. "
                    f"Received: {cell!r}"
                )
        self.cells = cells

    def _counts(self) -> list[int]:
        return [len(flat_state_shapes(cell.state_size)) for cell in self.cells]

    @property
    def state_size(self) -> list:
        sizes: list = []
        for cell in self.cells:
            size = cell.state_size
            sizes += [size] if isinstance(size, int) else list(size)
        return sizes

    @property
    def output_size(self) -> Any:
        last = self.cells[-1]
        return getattr(last, "output_size", None) or flat_state_shapes(last.state_size)[0][-1]

    def get_initial_state(self, batch_size: int | None = None) -> list[torch.Tensor]:
        states: list[torch.Tensor] = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state"):
                states += list(cell.get_initial_state(batch_size))
            else:
                states += [torch.zeros((batch_size, *s)) for s in flat_state_shapes(cell.state_size)]
        return states

    def reset_dropout_mask(self) -> None:
        for cell in self.cells:
            for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                if hasattr(cell, name):
                    getattr(cell, name)()

    reset_recurrent_dropout_mask = reset_dropout_mask

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build_from_shape(shape, device=self._build_device)
            size = getattr(cell, "output_size", None) or flat_state_shapes(cell.state_size)[0][-1]
            shape = (shape[0], size)

    def call(self, inputs, states, training=None):
        new_states: list[torch.Tensor] = []
        start = 0
        x = inputs
        for cell, count in zip(self.cells, self._counts()):
            own = list(states[start:start + count])
            start += count
            x, cell_states = cell(x, own if count > 1 or not isinstance(cell.state_size, int) else own, training=training)
            new_states += [cell_states] if isinstance(cell_states, torch.Tensor) else list(cell_states)
        return x, new_states

    def get_config(self) -> dict:
        from easynn.layers.rnn.nested import serialize_nested

        config = super().get_config()
        config["cells"] = [serialize_nested(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict) -> "StackedRNNCells":
        from easynn.layers.rnn.nested import deserialize_nested

        config = dict(config)
        config["cells"] = [deserialize_nested(c) for c in config["cells"]]
        return cls(**config)
