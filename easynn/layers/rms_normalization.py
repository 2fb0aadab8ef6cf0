"""``RMSNormalization``: root-mean-square normalization with a learned scale (Keras 3's layer)."""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation, initializers
from easynn.layers.base import Layer

__all__ = ["RMSNormalization"]


class RMSNormalization(Layer):
    """Scale each sample by the inverse root mean square over ``axis``, then by a learned ``scale``.

    ``y = x * rsqrt(mean(x^2, axis) + epsilon) * scale``

    Unlike ``LayerNormalization`` the mean is not subtracted and there is no offset.

    Args:
        axis: an int or a list of ints, the axes to normalize over (default ``-1``, the features).
            ``scale`` has the shape of the input along these axes.
        epsilon: a small positive number added to the mean square (default ``1e-6``).
        **kwargs: base layer arguments.

    Shape:
        any shape -> the same shape. One weight, ``scale`` (initialised to ones).

    Raises:
        TypeError: for an ``axis`` that is not an int or a list of ints.
        ValueError: for a non-positive ``epsilon``, or an ``axis`` outside the input's rank.

    Example:
        >>> import torch
        >>> RMSNormalization()(torch.tensor([[3.0, 4.0]])).detach()  # rms = sqrt(12.5)
        tensor([[0.8485, 1.1314]])
    """

    supports_masking = True  # per-sample: the mask passes through

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise TypeError(f"`axis` must be an integer or a list of integers. Received: axis={axis!r}")
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = _validation.positive_float("epsilon", epsilon)
        self._axes: tuple[int, ...] = ()
        self._scale_view: tuple[int, ...] = ()

    def build(self, input_shape) -> None:
        rank = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -rank <= a < rank for a in axes):
            raise ValueError(
                f"Layer '{self.name}': `axis` {self.axis} is out of range for inputs of rank {rank} "
                f"(shape {tuple(input_shape)})."
            )
        resolved = [a % rank for a in axes]
        if len(set(resolved)) != len(resolved):
            raise ValueError(f"`axis` must not repeat an axis. Received: axis={self.axis!r}")
        if 0 in resolved:
            raise ValueError(f"`axis` must not include the batch axis 0. Received: axis={self.axis!r}")
        self._axes = tuple(sorted(resolved))
        # Keras's layout: the input's sizes along ``axis``, in the order given.
        shape = tuple(int(input_shape[a]) for a in resolved)
        self.scale = self.add_weight(shape, initializers.get("ones"), name="scale")
        order = sorted(range(len(resolved)), key=lambda i: resolved[i])
        self._permutation = tuple(order)  # scale's axes in increasing input-axis order
        self._scale_view = tuple(int(input_shape[a]) if a in resolved else 1 for a in range(rank))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not inputs.is_floating_point():
            inputs = inputs.to(torch.get_default_dtype())
        mean_square = inputs.square().mean(dim=self._axes, keepdim=True)
        scale = self.scale.permute(self._permutation).reshape(self._scale_view)
        return inputs * torch.rsqrt(mean_square + self.epsilon) * scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, epsilon={self.epsilon}"
