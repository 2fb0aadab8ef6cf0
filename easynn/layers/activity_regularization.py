"""ActivityRegularization: the identity layer that adds an L1/L2 penalty on its input to the loss.

Keras 3 adds a layer's activity penalty on every call and divides it by the batch size (so the
strength does not depend on it); easynn's base ``Layer`` does the same for ``activity_regularizer``,
which this layer sets from ``l1`` and ``l2``.
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import regularizers
from easynn.layers.base import Layer

__all__ = ["ActivityRegularization"]


class ActivityRegularization(Layer):
    """The identity, plus an L1/L2 penalty on its input added to the loss (``layer.losses``).

    Formula: ``loss += (l1 * sum(|x|) + l2 * sum(x^2)) / batch_size`` on every call; Keras 3
    divides an activity penalty by the batch size so its strength does not depend on it.

    Args:
        l1: the L1 factor (a non-negative number).
        l2: the L2 factor (a non-negative number).
        **kwargs: base layer arguments (not ``activity_regularizer``: this layer sets it).

    Raises:
        ValueError: for a negative ``l1`` or ``l2``.
        TypeError: for a non-numeric ``l1``/``l2``, or an ``activity_regularizer`` argument.

    Example:
        >>> import torch
        >>> layer = ActivityRegularization(l1=0.5, l2=0.25)
        >>> layer(torch.tensor([[1.0, -2.0], [3.0, 0.0]])).tolist()
        [[1.0, -2.0], [3.0, 0.0]]
        >>> float(layer.losses[0])  # (0.5 * 6 + 0.25 * 14) / 2
        3.25
    """

    supports_masking = True  # the identity: the mask passes through (Keras)

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        if "activity_regularizer" in kwargs:
            raise TypeError(
                "ActivityRegularization sets its own activity_regularizer from `l1` and `l2`; do not pass "
                f"one. Received: activity_regularizer={kwargs['activity_regularizer']!r}"
            )
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = self.activity_regularizer.l1
        self.l2 = self.activity_regularizer.l2

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs  # the base Layer adds activity_regularizer(output) / batch_size

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update(l1=self.l1, l2=self.l2)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, l1={self.l1}, l2={self.l2}"
