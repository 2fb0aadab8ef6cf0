"""More normalization layers: GroupNormalization and UnitNormalization, with Keras 3's numbers.

Group normalization (Wu & He, 2018) splits the channels into ``groups`` and standardizes each
sample within each group: statistics never mix samples, so training and inference agree and
small batches are fine. Unit normalization scales each sample to unit L2 norm.

Example:
    >>> import torch
    >>> y = GroupNormalization(groups=2)(torch.tensor([[1.0, 3.0, 0.0, 0.0]]))
    >>> [round(v, 4) for v in y[0].tolist()]  # (x - mean) / sqrt(var + 1e-3) per group of 2
    [-0.9995, 0.9995, 0.0, 0.0]
    >>> UnitNormalization()(torch.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation, constraints, initializers, regularizers
from easynn.layers.base import Layer

__all__ = ["GroupNormalization", "UnitNormalization"]


def _feature_axis(layer: Layer, axis: int, input_shape) -> int:
    """``axis`` as a non-negative index of a non-batch axis of ``input_shape``."""
    rank = len(input_shape)
    if rank < 2 or not -rank <= axis < rank or axis % rank == 0:
        raise ValueError(
            f"Layer '{layer.name}': `axis` must name a non-batch axis of the input (rank {rank}). "
            f"Received: axis={axis}, input shape {tuple(input_shape)}."
        )
    return axis % rank


class GroupNormalization(Layer):
    """Normalize each sample over groups of channels: ``y = gamma * (x - mean_g) / sqrt(var_g + eps) + beta``.

    The channels of ``axis`` are split into ``groups`` consecutive groups; ``mean_g`` and ``var_g``
    (biased) are taken per sample and group over the group's channels and every other non-batch
    axis. ``gamma`` and ``beta`` are per channel. ``groups=1`` is close to LayerNormalization over
    all axes; ``groups=-1`` (one group per channel) is instance normalization.

    Args:
        groups: the number of groups (default 32), a divisor of the number of channels; ``-1`` for
            one group per channel.
        axis: the channel axis (``-1``, channels_last; ``1`` for channels_first).
        epsilon: added to the variance (Keras: 1e-3; torch: 1e-5).
        center: learn the offset ``beta``.
        scale: learn the scale ``gamma``.
        beta_initializer, gamma_initializer: initializers (``zeros``, ``ones``).
        beta_regularizer, gamma_regularizer: optional penalties.
        beta_constraint, gamma_constraint: optional projections after each optimizer update.
        **kwargs: base layer arguments.

    Shape:
        any shape of rank >= 2 -> the same shape. Weights: ``gamma`` then ``beta``, each
        ``(channels,)``, so ``2 * channels`` parameters (Keras's count).

    Raises:
        ValueError: for ``groups`` that is not a positive integer (or -1), more than or not a divisor
            of the number of channels, a non-positive ``epsilon``, or an ``axis`` out of range.
        TypeError: for a non-integer ``axis``.

    Example:
        >>> import torch
        >>> layer = GroupNormalization(groups=2)
        >>> layer(torch.randn(3, 5, 4)).shape
        torch.Size([3, 5, 4])
        >>> [w.shape for w in layer.get_weights()]  # gamma, beta
        [(4,), (4,)]
    """

    supports_masking = True  # per-sample statistics: the mask passes through (Keras)

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not (type(groups) is int and groups == -1):  # -1: one group per channel
            groups = _validation.positive_int("groups", groups)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.groups = groups
        self.axis = axis
        self.epsilon = _validation.positive_float("epsilon", epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint, argument="beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, argument="gamma_constraint")
        self._axis: int | None = None
        self._groups: int | None = None

    def build(self, input_shape) -> None:
        self._axis = _feature_axis(self, self.axis, input_shape)
        channels = int(input_shape[self._axis])
        groups = channels if self.groups == -1 else self.groups
        if groups > channels or channels % groups:
            raise ValueError(
                f"Layer '{self.name}': `groups` must divide the number of channels ({channels}, axis "
                f"{self.axis} of input shape {tuple(input_shape)}). Received: groups={self.groups}"
            )
        self._groups = groups
        self.gamma = (
            self.add_weight((channels,), self.gamma_initializer, regularizer=self.gamma_regularizer, name="gamma",
                            constraint=self.gamma_constraint)
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight((channels,), self.beta_initializer, regularizer=self.beta_regularizer, name="beta",
                            constraint=self.beta_constraint)
            if self.center
            else None
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if (
            inputs.dim() != len(self._build_input_shape)
            or inputs.shape[self._axis] != self._build_input_shape[self._axis]
        ):
            raise ValueError(
                f"Layer '{self.name}' was built for inputs of shape {tuple(self._build_input_shape)}, "
                f"but received shape {tuple(inputs.shape)}."
            )
        if not inputs.is_floating_point():
            inputs = inputs.to(torch.get_default_dtype())
        # torch's fused kernel wants the channels on dim 1: a view for channels_last inputs.
        x = inputs if self._axis == 1 else inputs.movedim(self._axis, 1)
        y = F.group_norm(x, self._groups, self.gamma, self.beta, self.epsilon)
        return y if self._axis == 1 else y.movedim(1, self._axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            groups=self.groups,
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, groups={self.groups}, axis={self.axis}, epsilon={self.epsilon}"


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``y = x / sqrt(max(sum(x^2), 1e-12))``.

    The floor ``1e-12`` (Keras's) keeps an all-zero sample at zero instead of NaN.

    Args:
        axis: an int or a list of ints, the axes of the norm (default ``-1``, the features).
        **kwargs: base layer arguments.

    Shape:
        any shape -> the same shape. No weights.

    Raises:
        TypeError: for an ``axis`` that is not an int or a list of ints.
        ValueError: for an ``axis`` outside the input's rank.

    Example:
        >>> import torch
        >>> UnitNormalization(axis=[1, 2])(torch.ones(1, 2, 2))
        tensor([[[0.5000, 0.5000],
                 [0.5000, 0.5000]]])
    """

    supports_masking = True  # per-sample: the mask passes through (Keras)

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise TypeError(f"`axis` must be an integer or a list of integers. Received: axis={axis!r}")
        self.axis = axis if isinstance(axis, int) else list(axis)
        self._axes: tuple[int, ...] = ()

    def build(self, input_shape) -> None:
        rank = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -rank <= a < rank for a in axes):
            raise ValueError(
                f"Layer '{self.name}': `axis` {self.axis} is out of range for inputs of rank {rank} "
                f"(shape {tuple(input_shape)})."
            )
        self._axes = tuple(sorted({a % rank for a in axes}))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not inputs.is_floating_point():
            inputs = inputs.to(torch.get_default_dtype())
        square_sum = inputs.square().sum(dim=self._axes, keepdim=True)
        return inputs * torch.rsqrt(square_sum.clamp_min(1e-12))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"
