"""``RNN(cell)``: run any cell over the time axis, with Keras's masks, states and statefulness.

Formula: ``out_t, s_t = cell(x_t, s_{t-1})`` for ``t = 0..T-1`` (see ``rnn.base`` for the
mask rules). The cell is any layer with ``state_size`` and ``call(inputs, states)``; a list of
cells is stacked with :class:`StackedRNNCells`.

Example:
    >>> import torch
    >>> from easynn.layers.rnn.cells import GRUCell
    >>> layer = RNN(GRUCell(4), return_sequences=True)
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer
from easynn.layers.rnn.base import RecurrentBase, first_shape, flat_state_shapes, masked_loop
from easynn.layers.rnn.cells import StackedRNNCells
from easynn.layers.rnn.nested import deserialize_nested, serialize_nested

__all__ = ["RNN"]


class RNN(RecurrentBase):
    """Recurrent layer over a cell: Keras's base RNN layer.

    Args:
        cell: a cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, a user's layer with
            ``state_size`` and ``call(inputs, states, training=None) -> (output, new_states)``;
            optional ``output_size`` and ``get_initial_state(batch_size)``), or a list of cells.
        return_sequences: return every step's output instead of the last one.
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: read the sequence backwards.
        stateful: carry the final states to the next call (same batch size; ``reset_states()``).
        unroll: accepted for Keras compatibility (same results).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, timesteps, ...)``.
        initial_state: optional list of the cell's states.
        mask: optional bool ``(batch, timesteps)``.
        training: passed to the cell.

    Raises:
        ValueError: for a cell without ``state_size`` or ``call``, and bad state or mask shapes.

    Example:
        >>> import torch
        >>> from easynn.layers.rnn.cells import LSTMCell, SimpleRNNCell
        >>> layer = RNN([SimpleRNNCell(3), LSTMCell(2)], return_state=True)
        >>> [tuple(t.shape) for t in layer(torch.zeros(4, 6, 5))]
        [(4, 2), (4, 3), (4, 2), (4, 2)]
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, zero_output_for_mask=zero_output_for_mask, **kwargs,
        )
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not callable(getattr(cell, "call", None)):
            raise ValueError(
                f"Argument `cell` of RNN '{self.name}' should have a `call` method. Received: cell={cell!r}"
            )
        if getattr(cell, "state_size", None) is None:
            raise ValueError(
                f"The RNN cell should have a `state_size` attribute (an int, or one entry per state). "
                f"Received: cell={type(cell).__name__} without state_size."
            )
        self.cell = cell

    def state_shapes(self) -> list[tuple[int, ...]]:
        return flat_state_shapes(self.cell.state_size)

    def output_units(self) -> Any:
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else self.state_shapes()[0]

    def build(self, input_shape) -> None:
        input_shape = first_shape(input_shape)
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 3 or more (batch, timesteps, ...), "
                f"but received input shape {input_shape}."
            )
        step_shape = (input_shape[0], *input_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build_from_shape(step_shape, device=self._build_device)

    def _initial_from_cell(self, batch: int, x: torch.Tensor) -> list[torch.Tensor] | None:
        make = getattr(self.cell, "get_initial_state", None)
        if make is None:
            return None
        states = make(batch_size=batch)
        states = [states] if isinstance(states, torch.Tensor) else list(states)
        return [torch.as_tensor(s).to(device=x.device, dtype=x.dtype) for s in states]

    def _run(self, x, states, mask, training):
        for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(self.cell, name):
                getattr(self.cell, name)()
        def step(x_t, s):
            out, new = self.cell(x_t, s, training=training)
            new = [new] if isinstance(new, torch.Tensor) else list(new)
            return out, new

        return masked_loop(
            step, x, states, mask, zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=self.return_sequences,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config["cell"] = serialize_nested(self.cell)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        config = dict(config)
        config["cell"] = deserialize_nested(config["cell"])
        return cls(**config)
