"""TimeDistributed: apply one layer (one set of weights) to every timestep of a sequence.

Formula: ``y[:, t] = layer(x[:, t])`` for every ``t``, computed in one call on the
``(batch * timesteps, ...)`` reshaped input.

Example:
    >>> import torch
    >>> from easynn.layers.core import Dense
    >>> layer = TimeDistributed(Dense(4))
    >>> layer(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 10, 4])
    >>> layer.count_params()  # one Dense(4) on 3 features
    16
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from easynn.layers.base import Layer
from easynn.layers.rnn.nested import deserialize_nested, serialize_nested

__all__ = ["TimeDistributed"]


def _takes(module: nn.Module, name: str) -> bool:
    fn = getattr(module, "call", None) if isinstance(module, Layer) else module.forward
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


class TimeDistributed(Layer):
    """Apply ``layer`` to every temporal slice of the input.

    Args:
        layer: a layer (or ``torch.nn.Module``) taking ``(batch, ...)`` inputs.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, timesteps, ...)``.
        training: passed to the layer.
        mask: optional bool ``(batch, timesteps)``; passed (flattened) to a layer whose ``call``
            takes ``mask``, and returned as the output mask.

    Raises:
        ValueError: for a non-layer argument or inputs of rank < 3.

    Example:
        >>> import torch
        >>> from easynn.layers.core import Dense
        >>> TimeDistributed(Dense(2, use_bias=False))(torch.ones(1, 3, 4)).shape
        torch.Size([1, 3, 2])
    """

    def __init__(self, layer: nn.Module, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, nn.Module):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a layer instance. Received: layer={layer!r}"
            )
        self.layer = layer
        self.supports_masking = True

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(
                f"`TimeDistributed` requires inputs of rank 3 or more (batch, timesteps, ...). "
                f"Received input shape {input_shape}."
            )
        if isinstance(self.layer, Layer) and not self.layer.built:
            batch = None if input_shape[0] is None or input_shape[1] is None else input_shape[0] * input_shape[1]
            self.layer.build_from_shape((batch, *input_shape[2:]), device=self._build_device)

    def call(self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None):
        if inputs.dim() < 3:
            raise ValueError(
                f"`TimeDistributed` requires inputs of rank 3 or more (batch, timesteps, ...). "
                f"Received shape {tuple(inputs.shape)}."
            )
        batch, steps = inputs.shape[:2]
        flat = inputs.reshape(batch * steps, *inputs.shape[2:])
        kwargs: dict[str, Any] = {}
        if isinstance(self.layer, Layer) and _takes(self.layer, "training"):
            kwargs["training"] = training
        if mask is not None and _takes(self.layer, "mask"):
            kwargs["mask"] = torch.as_tensor(mask).reshape(batch * steps, *torch.as_tensor(mask).shape[2:])
        out = self.layer(flat, **kwargs)
        return out.reshape(batch, steps, *out.shape[1:])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = serialize_nested(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "TimeDistributed":
        config = dict(config)
        config["layer"] = deserialize_nested(config["layer"])
        return cls(**config)
