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

# _DropoutCell (the shared arguments, weights and dropout masks) and StackedRNNCells live in
# their own modules; both stay importable from here.
from easynn.layers.rnn.cell_base import _DropoutCell as _DropoutCell
from easynn.layers.rnn.cell_base import _first as _first
from easynn.layers.rnn.stacked_cells import StackedRNNCells as StackedRNNCells

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]


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
