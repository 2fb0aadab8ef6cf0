"""What every recurrent layer shares: states, masks, statefulness, dropout masks and the step loop.

The loop is Keras's recurrence with a mask ``m_t`` (``True`` = real step):

    out_t, s'_t = step(x_t, s_{t-1})
    s_t   = m_t ? s'_t : s_{t-1}                        (masked steps keep the state)
    y_t   = m_t ? out_t : y_{t-1}   (y_{-1} = 0)        (zeros instead with zero_output_for_mask)

``go_backwards`` reverses the inputs (and the mask) before the loop; the outputs come in the order
they were computed, as in Keras. A stateful layer starts each call from the states the previous
call ended with (detached: gradients do not flow between batches) until ``reset_states()``.

Example:
    >>> import torch
    >>> step = lambda x, s: (x + s[0], [x + s[0]])  # a running sum
    >>> x = torch.ones(1, 3, 1)
    >>> mask = torch.tensor([[True, False, True]])
    >>> seq, last, states = masked_loop(step, x, [torch.zeros(1, 1)], mask)
    >>> seq[0, :, 0].tolist(), states[0].item()
    ([1.0, 1.0, 2.0], 2.0)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from easynn.layers.base import Layer

__all__ = ["masked_loop", "contiguous_spans", "check_mask", "RecurrentBase", "dropout_mask", "has_symbolic",
           "first_shape"]


def has_symbolic(value: Any) -> bool:
    """Whether ``value`` (a tensor, or nested lists of them) holds a functional-API placeholder."""
    from easynn.layers.symbolic import SymbolicTensor

    if isinstance(value, SymbolicTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_symbolic(v) for v in value)
    return False


def first_shape(input_shape: Any) -> Any:
    """The main input's shape when the layer was called on ``[inputs, *initial_states]``."""
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
        return tuple(input_shape[0])
    return input_shape


def dropout_mask(like: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted-dropout multipliers (0 or ``1/(1-rate)``) shaped like ``like``: one draw per sequence."""
    keep = torch.rand(like.shape, dtype=like.dtype, device=like.device, generator=generator) >= rate
    return keep.to(like.dtype) / (1.0 - rate)


def check_mask(layer: Layer, mask: Any, inputs: torch.Tensor) -> torch.Tensor | None:
    """``mask`` as a bool ``(batch, timesteps)`` tensor, or a ValueError naming the shapes."""
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):  # Keras passes [input_mask, None, ...] with initial states
        mask = mask[0]
        if mask is None:
            return None
    mask = torch.as_tensor(mask, device=inputs.device)
    if mask.dim() == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if tuple(mask.shape) != tuple(inputs.shape[:2]):
        raise ValueError(
            f"Layer '{layer.name}' expects a mask of shape (batch, timesteps) = {tuple(inputs.shape[:2])} "
            f"for inputs of shape {tuple(inputs.shape)}, but received a mask of shape {tuple(mask.shape)}."
        )
    return mask.bool()


def masked_loop(
    step: Callable[[torch.Tensor, list[torch.Tensor]], tuple[torch.Tensor, list[torch.Tensor]]],
    inputs: torch.Tensor,
    states: list[torch.Tensor],
    mask: torch.Tensor | None = None,
    zero_output_for_mask: bool = False,
    return_sequences: bool = True,
) -> tuple[torch.Tensor | None, torch.Tensor, list[torch.Tensor]]:
    """Run ``step`` over axis 1 of ``inputs`` with Keras's mask rules (see the module docstring).

    Args:
        step: ``(x_t, states) -> (output_t, new_states)``.
        inputs: ``(batch, timesteps, ...)``, already reversed for ``go_backwards``.
        states: the initial states (a list of tensors with the batch axis first).
        mask: optional bool ``(batch, timesteps)``.
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        return_sequences: also stack every step's output.

    Returns:
        ``(sequence or None, last_output, final_states)``.
    """
    outputs: list[torch.Tensor] = []
    prev: torch.Tensor | None = None
    for t in range(inputs.shape[1]):
        out, new_states = step(inputs[:, t], states)
        if mask is not None:
            m = mask[:, t]
            if prev is None:
                prev = torch.zeros_like(out)
            keep_out = m.view(-1, *([1] * (out.dim() - 1)))
            out = torch.where(keep_out, out, torch.zeros_like(out) if zero_output_for_mask else prev)
            new_states = [
                torch.where(m.view(-1, *([1] * (n.dim() - 1))), n, s) for n, s in zip(new_states, states)
            ]
        states = list(new_states)
        prev = out
        if return_sequences:
            outputs.append(out)
    if prev is None:
        raise ValueError("Recurrent layers need at least one timestep; received a sequence of length 0.")
    sequence = torch.stack(outputs, dim=1) if return_sequences else None
    return sequence, prev, states


def contiguous_spans(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(start, length)`` per row when each row's ``True`` steps form one block, else ``None``.

    Right-padded masks (``[1, 1, 0]``) and their reversal (``[0, 1, 1]``, what ``go_backwards``
    sees) are blocks; such masks run on the fused kernel with packed sequences. This reads the
    mask on the host once (the lengths must be on the CPU for packing anyway).
    """
    steps = mask.shape[1]
    lengths = mask.sum(dim=1)
    start = mask.int().argmax(dim=1)
    position = torch.arange(steps, device=mask.device)
    block = (position >= start[:, None]) & (position < (start + lengths)[:, None])
    if not bool(torch.equal(block, mask)):
        return None
    return start, lengths


def _state_shape(size: Any) -> tuple[int, ...]:
    if isinstance(size, int):
        return (size,)
    if isinstance(size, (list, tuple)) and all(isinstance(s, int) for s in size):
        return tuple(size)
    if hasattr(size, "as_list"):  # a TensorShape-like object
        return tuple(size.as_list())
    raise ValueError(f"A state size must be an int or a tuple of ints. Received: {size!r}")


def flat_state_shapes(state_size: Any) -> list[tuple[int, ...]]:
    """One shape (without the batch axis) per state: ``4 -> [(4,)]``, ``[4, 4] -> [(4,), (4,)]``,
    ``[[4], [2, 3]] -> [(4,), (2, 3)]``."""
    if isinstance(state_size, int):
        return [(state_size,)]
    return [_state_shape(s) for s in state_size]


class RecurrentBase(Layer):
    """Base of the recurrent layers: arguments, initial and stateful states, masks, outputs.

    Subclasses provide ``state_shapes()`` (one shape per state, batch axis excluded),
    ``output_units()`` and ``_run(x, states, mask, training) -> (sequence, last, states)``
    where ``x`` is already reversed for ``go_backwards`` and ``mask`` is a bool tensor or None.
    """

    def __init__(
        self,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted; the results are the same either way
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._stateful_states: list[torch.Tensor] | None = None
        self._stateful_from_probe = False

    # ------------------------------------------------------------------ to override
    def state_shapes(self) -> list[tuple[int, ...]]:
        raise NotImplementedError

    def output_units(self) -> Any:
        raise NotImplementedError

    def _run(self, x, states, mask, training):
        raise NotImplementedError

    # ------------------------------------------------------------------ states
    def _zero_states(self, batch: int, like: torch.Tensor) -> list[torch.Tensor]:
        return [like.new_zeros((batch, *shape)) for shape in self.state_shapes()]

    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        batch = x.shape[0]
        shapes = self.state_shapes()
        if initial_state is None:
            carried = self._stateful_states if self.stateful else None
            if carried is not None and carried[0].shape[0] != batch:
                if not self._stateful_from_probe:
                    raise ValueError(
                        f"Layer '{self.name}' is stateful and holds states for batch size "
                        f"{carried[0].shape[0]}, but received inputs of shape {tuple(x.shape)}. A "
                        "stateful RNN needs the same batch size on every call (call reset_states() "
                        "to start over with another batch size)."
                    )
                carried = None
            if carried is not None:
                return [s.to(device=x.device, dtype=x.dtype) for s in carried]
            return self._initial_from_cell(batch, x) or self._zero_states(batch, x)
        states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
        states = [torch.as_tensor(s, device=x.device, dtype=x.dtype) for s in states]
        expected = [(batch, *shape) for shape in shapes]
        if [tuple(s.shape) for s in states] != expected:
            raise ValueError(
                f"Layer '{self.name}' expects `initial_state` to be {len(expected)} tensor(s) of "
                f"shape(s) {expected}. Received shapes {[tuple(s.shape) for s in states]}."
            )
        return states

    def _initial_from_cell(self, batch: int, x: torch.Tensor) -> list[torch.Tensor] | None:
        return None

    @property
    def states(self) -> list[torch.Tensor | None]:
        """The states a stateful layer carries to its next call (``None`` before the first call)."""
        if self._stateful_states is None:
            return [None] * len(self.state_shapes()) if self.built else [None]
        return list(self._stateful_states)

    def reset_states(self, states: Any = None) -> None:
        """Forget the carried states (zeros on the next call), or set them to ``states``.

        Raises:
            RuntimeError: when the layer is not stateful.
        """
        if not self.stateful:
            raise RuntimeError(f"Layer '{self.name}' is not stateful; create it with stateful=True.")
        if states is None:
            self._stateful_states = None
            return
        states = [states] if isinstance(states, torch.Tensor) else list(states)
        self._stateful_states = [torch.as_tensor(s).detach() for s in states]
        self._stateful_from_probe = False

    reset_state = reset_states

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any):
        # Keras's seq2seq idiom ``LSTM(...)(x, initial_state=[h, c])`` on functional-API tensors:
        # the graph records the states as inputs (``[x, h, c]``), which ``call`` unpacks.
        state = kwargs.get("initial_state")
        if state is not None and args and has_symbolic([args[0], state]):
            kwargs = {k: v for k, v in kwargs.items() if k != "initial_state"}
            states = list(state) if isinstance(state, (list, tuple)) else [state]
            return super().__call__([args[0], *states], *args[1:], **kwargs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool | None = None):
        if isinstance(inputs, (list, tuple)):  # [inputs, *initial_states] (see __call__)
            inputs, extra = inputs[0], list(inputs[1:])
            initial_state = extra or initial_state
        if not isinstance(inputs, torch.Tensor) or inputs.dim() < 3:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 3 or more (batch, timesteps, ...), but "
                f"received shape {tuple(getattr(inputs, 'shape', ()))}."
            )
        mask = check_mask(self, mask, inputs)
        x = inputs.flip(1) if self.go_backwards else inputs
        if mask is not None and self.go_backwards:
            mask = mask.flip(1)
        states = self._initial_states(x, initial_state)
        sequence, last, states = self._run(x, states, mask, bool(training))
        if self.stateful:
            self._stateful_states = [s.detach() for s in states]
            self._stateful_from_probe = not torch.is_grad_enabled() and not self.training
        output = sequence if self.return_sequences else last
        if self.return_state:
            return [output, *states]
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output mask: the input mask for ``return_sequences``, else ``None`` (Keras)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_shapes())
        return output_mask

    def compute_output_shape(self, input_shape):
        input_shape = first_shape(input_shape)
        batch, steps = input_shape[0], input_shape[1]
        units = self.output_units()
        units = tuple(units) if isinstance(units, (list, tuple)) else (units,)
        output = (batch, steps, *units) if self.return_sequences else (batch, *units)
        if self.return_state:
            return [output] + [(batch, *shape) for shape in self.state_shapes()]
        return output

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
        )
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        return config


def split_states(states: Sequence[torch.Tensor], counts: Sequence[int]) -> list[list[torch.Tensor]]:
    """Cut a flat list of states into consecutive groups of ``counts``."""
    out, start = [], 0
    for count in counts:
        out.append(list(states[start:start + count]))
        start += count
    return out


def recurrent_arguments(layer) -> dict:
    """The constructor arguments a recurrent layer and its cell share, as ``get_config`` stores them
    (``recurrent_activation`` only for gated cells: LSTM, GRU)."""
    from easynn import activations, constraints, initializers, regularizers

    config = dict(
        units=layer.units,
        activation=activations.serialize(layer.activation),
        use_bias=layer.use_bias,
        kernel_initializer=initializers.serialize(layer.kernel_initializer),
        recurrent_initializer=initializers.serialize(layer.recurrent_initializer),
        bias_initializer=initializers.serialize(layer.bias_initializer),
        kernel_regularizer=regularizers.serialize(layer.kernel_regularizer),
        recurrent_regularizer=regularizers.serialize(layer.recurrent_regularizer),
        bias_regularizer=regularizers.serialize(layer.bias_regularizer),
        kernel_constraint=constraints.serialize(layer.kernel_constraint),
        recurrent_constraint=constraints.serialize(layer.recurrent_constraint),
        bias_constraint=constraints.serialize(layer.bias_constraint),
        dropout=layer.dropout,
        recurrent_dropout=layer.recurrent_dropout,
        seed=layer.seed,
    )
    if layer.gates > 1:
        config["recurrent_activation"] = activations.serialize(layer.recurrent_activation)
    return config

