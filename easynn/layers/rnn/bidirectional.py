"""Bidirectional: one recurrent layer reads the sequence forwards, a copy reads it backwards.

Formula: ``y = merge(forward(x), backward(x))`` where ``backward`` has ``go_backwards`` flipped;
with ``return_sequences`` its outputs are reversed back so that step ``t`` of both halves
refers to input step ``t``. ``merge``: ``concat`` (last axis), ``sum``, ``mul``, ``ave``, or
``None`` (the two outputs as a list).

Example:
    >>> import torch
    >>> from easynn.layers.rnn.lstm import LSTM
    >>> layer = Bidirectional(LSTM(4, return_sequences=True))
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    >>> layer.count_params()  # 2 * 4 * (4 * (3 + 4) + 4)
    256
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation
from easynn.layers.base import Layer
from easynn.layers.rnn.base import first_shape, has_symbolic
from easynn.layers.rnn.nested import deserialize_nested, serialize_nested

__all__ = ["Bidirectional"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_with(layer: Layer, **changes: Any) -> Layer:
    config = layer.get_config()
    config.update(changes)
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Bidirectional wrapper for recurrent layers (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``).

    Args:
        layer: the forward layer (a recurrent layer instance; a fresh copy named
            ``forward_<name>`` is used, as in Keras).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None``.
        weights: optional initial weights (forward's, then backward's), as ``set_weights``.
        backward_layer: optional explicit backward layer; it must have ``go_backwards`` opposite
            to ``layer`` and the same ``return_sequences`` and ``return_state``.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional list: the forward layer's states, then the backward layer's.
        mask: optional bool ``(batch, timesteps)``, given to both layers.
        training: given to both layers.

    Returns:
        The merged output; with ``return_state``, ``[output, *forward_states, *backward_states]``
        (``merge_mode=None``: ``[forward_output, backward_output, *states]``).

    Raises:
        ValueError: for an unknown merge mode, a layer that is not recurrent, or a mismatched
            ``backward_layer``.

    Example:
        >>> import torch
        >>> from easynn.layers.rnn.gru import GRU
        >>> out = Bidirectional(GRU(2), merge_mode="sum")(torch.zeros(3, 4, 5))
        >>> out.shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: list | None = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards") or not hasattr(layer, "return_sequences"):
            raise ValueError(
                "Please initialize `Bidirectional` with a recurrent layer instance (LSTM, GRU, "
                f"SimpleRNN, RNN). Received: layer={layer!r}"
            )
        self.merge_mode = _validation.one_of("merge_mode", merge_mode, _MERGE_MODES)
        self.forward_layer = _copy_with(layer, name=f"forward_{layer.name}")
        if backward_layer is None:
            self.backward_layer = _copy_with(
                layer, name=f"backward_{layer.name}", go_backwards=not layer.go_backwards
            )
        else:
            if not isinstance(backward_layer, Layer):
                raise ValueError(f"`backward_layer` must be a layer instance. Received: {backward_layer!r}")
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError(
                    "Forward layer and backward layer should have different `go_backwards` values. "
                    f"Received: forward go_backwards={layer.go_backwards}, backward "
                    f"go_backwards={backward_layer.go_backwards}"
                )
            for attr in ("return_sequences", "return_state", "stateful"):
                if getattr(layer, attr) != getattr(backward_layer, attr):
                    raise ValueError(
                        f"Forward layer and backward layer should have the same `{attr}`. Received: "
                        f"forward {attr}={getattr(layer, attr)}, backward {attr}={getattr(backward_layer, attr)}"
                    )
            self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = getattr(layer, "stateful", False)
        self.supports_masking = True
        if self.return_sequences:  # Keras: masked steps of each half output zeros
            for half in (self.forward_layer, self.backward_layer):
                if hasattr(half, "zero_output_for_mask"):
                    half.zero_output_for_mask = True
        self._initial_weights = weights

    def build(self, input_shape) -> None:
        input_shape = first_shape(input_shape)
        for half in (self.forward_layer, self.backward_layer):
            if not half.built:
                half.build_from_shape(tuple(input_shape), device=self._build_device)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _n_states(self, half: Layer) -> int:
        return len(half.state_shapes()) if hasattr(half, "state_shapes") else 0

    def __call__(self, *args: Any, **kwargs: Any):
        state = kwargs.get("initial_state")  # symbolic states become inputs, as for the RNN layers
        if state is not None and args and has_symbolic([args[0], state]):
            kwargs = {k: v for k, v in kwargs.items() if k != "initial_state"}
            states = list(state) if isinstance(state, (list, tuple)) else [state]
            return super().__call__([args[0], *states], *args[1:], **kwargs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool | None = None):
        if isinstance(inputs, (list, tuple)):
            inputs, extra = inputs[0], list(inputs[1:])
            initial_state = extra or initial_state
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        fw_state = bw_state = None
        if initial_state is not None:
            states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
            n_fw = self._n_states(self.forward_layer)
            if len(states) != n_fw + self._n_states(self.backward_layer):
                raise ValueError(
                    f"Layer '{self.name}' expects `initial_state` to hold the forward layer's "
                    f"{n_fw} state(s) and then the backward layer's. Received {len(states)} tensor(s)."
                )
            fw_state, bw_state = states[:n_fw], states[n_fw:]
        y_fw = self.forward_layer(inputs, initial_state=fw_state, mask=mask, training=training)
        y_bw = self.backward_layer(inputs, initial_state=bw_state, mask=mask, training=training)
        states: list[torch.Tensor] = []
        if self.return_state:
            states = list(y_fw[1:]) + list(y_bw[1:])
            y_fw, y_bw = y_fw[0], y_bw[0]
        if self.return_sequences:
            y_bw = y_bw.flip(1)
        if self.merge_mode == "concat":
            output: Any = torch.cat([y_fw, y_bw], dim=-1)
        elif self.merge_mode == "sum":
            output = y_fw + y_bw
        elif self.merge_mode == "ave":
            output = (y_fw + y_bw) / 2
        elif self.merge_mode == "mul":
            output = y_fw * y_bw
        else:
            output = [y_fw, y_bw]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def reset_states(self, states: Any = None) -> None:
        """Reset both halves' carried states (stateful layers)."""
        for half in (self.forward_layer, self.backward_layer):
            half.reset_states()

    reset_state = reset_states

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            n = self._n_states(self.forward_layer) + self._n_states(self.backward_layer)
            return masks + [None] * n
        return masks[0] if len(masks) == 1 else masks

    def compute_output_shape(self, input_shape):
        fw = self.forward_layer.compute_output_shape(tuple(first_shape(input_shape)))
        out, states = (fw[0], list(fw[1:])) if self.return_state else (fw, [])
        out = tuple(out)
        if self.merge_mode == "concat":
            merged: Any = (*out[:-1], out[-1] * 2)
        elif self.merge_mode is None:
            merged = [out, out]
        else:
            merged = out
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + states + states
        return merged

    def get_config(self) -> dict:
        config = super().get_config()
        layer = serialize_nested(self.forward_layer)
        layer["config"] = dict(layer["config"], name=layer["config"]["name"].removeprefix("forward_"))
        config.update(layer=layer, merge_mode=self.merge_mode, backward_layer=serialize_nested(self.backward_layer))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Bidirectional":
        config = dict(config)
        config["layer"] = deserialize_nested(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_nested(config["backward_layer"])
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"
