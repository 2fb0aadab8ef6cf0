"""``StackedRNNCells``: several RNN cells run one after another at each step, as one cell.

Example:
    >>> import torch
    >>> from easynn.layers.rnn.cells import GRUCell, SimpleRNNCell
    >>> stack = StackedRNNCells([SimpleRNNCell(3), GRUCell(2)])
    >>> out, states = stack(torch.zeros(4, 5), stack.get_initial_state(4))
    >>> tuple(out.shape), [tuple(s.shape) for s in states]
    ((4, 2), [(4, 3), (4, 2)])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer
from easynn.layers.rnn.base import flat_state_shapes

__all__ = ["StackedRNNCells"]


class StackedRNNCells(Layer):
    """Several cells run one after another at each step, as one cell (for ``RNN``).

    The states are the cells' states one after the other, flattened (``state_size`` lists one
    entry per state); the output is the last cell's output.

    Args:
        cells: a list of cells.
        **kwargs: base layer arguments.

    Example:
        >>> from easynn.layers.rnn.cells import LSTMCell, SimpleRNNCell
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
