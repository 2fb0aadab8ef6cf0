"""Normalization layers: BatchNormalization and LayerNormalization with Keras's numbers.

Batch normalization (the lecture's BN): for each feature ``c`` of a batch,
``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, with ``mean``/``var`` the batch's
statistics in training and the moving averages in inference. The moving averages follow Keras:
``moving = momentum * moving + (1 - momentum) * batch_stat`` with ``momentum=0.99`` (torch's
``momentum=0.01``), ``epsilon=1e-3`` (torch: 1e-5), and the **biased** batch variance (torch
averages the unbiased one; easynn corrects it).

Example:
    >>> import torch
    >>> bn = BatchNormalization()
    >>> y = bn(torch.tensor([[0.0], [2.0], [4.0]]), training=True)  # mean 2, biased var 8/3
    >>> [round(float(v), 3) for v in y.detach().flatten()]
    [-1.225, 0.0, 1.225]
    >>> [round(float(w[0]), 4) for w in bn.get_weights()]  # gamma, beta, moving mean, moving var
    [1.0, 0.0, 0.02, 1.0167]
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import constraints, initializers, regularizers
from easynn.layers.base import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _check_fraction(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"`{name}` must be a number in [{low}, {high}]. Received: {name}={value!r}")
    return float(value)


def _check_epsilon(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"`epsilon` must be a positive number. Received: epsilon={value!r}")
    return float(value)


class BatchNormalization(Layer):
    """Normalize each feature with batch statistics (training) or moving averages (inference).

    Formula: ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``; in training ``mean``/``var``
    are the (biased) statistics of the batch over every axis but ``axis``, and
    ``moving_mean = momentum * moving_mean + (1 - momentum) * mean`` (same for the variance).

    Args:
        axis: the feature axis: ``-1`` (default, channels_last) or ``1`` for channels_first.
        momentum: Keras's momentum of the moving averages (0.99; torch's ``1 - momentum``).
        epsilon: added to the variance (Keras: 1e-3).
        center: learn the offset ``beta``.
        scale: learn the scale ``gamma``.
        beta_initializer, gamma_initializer: initializers (``zeros``, ``ones``).
        moving_mean_initializer, moving_variance_initializer: initializers (``zeros``, ``ones``).
        beta_regularizer, gamma_regularizer: optional penalties.
        beta_constraint, gamma_constraint: optional projections after each update.
        **kwargs: base layer arguments.

    Call arguments:
        training: ``True`` uses and updates batch statistics; ``False``/``None`` in inference
            (``None`` follows the module's train/eval mode). A layer with ``trainable=False``
            always runs in inference mode, as in Keras.

    Shape:
        any shape of rank >= 2; ``(batch, features)``, ``(batch, h, w, c)``, ...

    Raises:
        ValueError: for arguments out of range or an ``axis`` outside the input's rank.

    Example:
        >>> import torch
        >>> bn = BatchNormalization()
        >>> bn(torch.zeros(4, 8, 8, 3)).shape
        torch.Size([4, 8, 8, 3])
        >>> [w.shape for w in bn.get_weights()]
        [(3,), (3,), (3,), (3,)]
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis
        self.momentum = _check_fraction("momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_epsilon(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint, argument="beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, argument="gamma_constraint")
        self._axis: int | None = None

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 2 or more. Received input shape {input_shape}."
            )
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"`axis` must name a non-batch axis of the input (rank {rank}). "
                f"Received: axis={self.axis}, input shape {input_shape}."
            )
        self._axis = self.axis % rank
        features = (int(input_shape[self._axis]),)
        self.gamma = self.add_weight(
            features, self.gamma_initializer, regularizer=self.gamma_regularizer, name="gamma",
            constraint=self.gamma_constraint,
        ) if self.scale else None
        self.beta = self.add_weight(
            features, self.beta_initializer, regularizer=self.beta_regularizer, name="beta",
            constraint=self.beta_constraint,
        ) if self.center else None
        self.moving_mean = self.add_weight(
            features, self.moving_mean_initializer, trainable=False, name="moving_mean"
        )
        self.moving_variance = self.add_weight(
            features, self.moving_variance_initializer, trainable=False, name="moving_variance"
        )

    def _to_channel_dim1(self, inputs: torch.Tensor) -> torch.Tensor:
        # A view with the features on dim 1; for (N, H, W, C) it is channels_last memory (no copy).
        if self._axis == 1:
            return inputs
        if self._axis == inputs.dim() - 1:
            return inputs.permute(0, inputs.dim() - 1, *range(1, inputs.dim() - 1))
        return inputs.movedim(self._axis, 1)

    def _from_channel_dim1(self, outputs: torch.Tensor) -> torch.Tensor:
        if self._axis == 1:
            return outputs
        if self._axis == outputs.dim() - 1:
            return outputs.permute(0, *range(2, outputs.dim()), 1)
        return outputs.movedim(1, self._axis)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if inputs.dim() != len(self._build_input_shape or ()) or inputs.shape[self._axis] != self.moving_mean.shape[0]:
            raise ValueError(
                f"Layer '{self.name}' was built for inputs of shape {self._build_input_shape} "
                f"(axis {self.axis} of size {self.moving_mean.shape[0]}), but received shape "
                f"{tuple(inputs.shape)}."
            )
        x = self._to_channel_dim1(inputs)
        if not (training and self.trainable):
            y = F.batch_norm(
                x, self.moving_mean, self.moving_variance, self.gamma, self.beta, False, 0.0, self.epsilon
            )
            return self._from_channel_dim1(y)
        # Training: normalize with the batch statistics (fused kernel, gradients through them),
        # and let the kernel write the batch mean / unbiased variance into fresh buffers
        # (momentum 1.0), from which the moving averages are updated the Keras way.
        count = x.numel() // max(x.shape[1], 1)
        if count == 1:
            # One value per feature (a last batch of one sample, say): torch's kernel refuses it;
            # Keras normalizes with mean x and variance 0, so the output is beta.
            y, batch_mean, batch_var = self._one_value_batch_norm(x)  # variance 0, as the update below keeps
        else:
            batch_mean = x.new_zeros(self.moving_mean.shape, dtype=self.moving_mean.dtype)
            batch_var = x.new_zeros(self.moving_variance.shape, dtype=self.moving_variance.dtype)
            y = F.batch_norm(x, batch_mean, batch_var, self.gamma, self.beta, True, 1.0, self.epsilon)
        with torch.no_grad():
            self.moving_mean.lerp_(batch_mean, 1.0 - self.momentum)
            # torch stored var * n / (n - 1); Keras averages the biased variance.
            self.moving_variance.lerp_(batch_var * ((count - 1) / count), 1.0 - self.momentum)
        return self._from_channel_dim1(y)

    def _one_value_batch_norm(self, x: torch.Tensor):
        """Batch normalization in plain torch ops for a batch with one value per feature."""
        dims = [0] + list(range(2, x.dim()))
        mean = x.mean(dims, keepdim=True)
        var = (x - mean).square().mean(dims, keepdim=True)
        y = (x - mean) * torch.rsqrt(var + self.epsilon)
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.gamma is not None:
            y = y * self.gamma.view(shape)
        if self.beta is not None:
            y = y + self.beta.view(shape)
        return y, mean.detach().reshape(-1), var.detach().reshape(-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
        )
        return config

    def extra_repr(self) -> str:
        features = None if self._axis is None else int(self.moving_mean.shape[0])
        return (
            f"name={self.name!r}, axis={self.axis}, features={features}, momentum={self.momentum}, "
            f"epsilon={self.epsilon}"
        )


class LayerNormalization(Layer):
    """Normalize each sample over ``axis``: ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    ``mean`` and ``var`` (biased) are taken per sample over the axes in ``axis``; ``gamma`` and
    ``beta`` have the shape of those axes. No moving statistics: training and inference agree.

    Args:
        axis: an int or a list of ints (default ``-1``, the features).
        epsilon: added to the variance (Keras: 1e-3; torch: 1e-5).
        center: learn the offset ``beta``.
        scale: learn the scale ``gamma``.
        beta_initializer, gamma_initializer: initializers (``zeros``, ``ones``).
        beta_regularizer, gamma_regularizer: optional penalties.
        beta_constraint, gamma_constraint: optional projections after each update.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for an ``axis`` outside the input's rank or a non-positive ``epsilon``.

    Example:
        >>> import torch
        >>> LayerNormalization()(torch.tensor([[1.0, 3.0]]))
        tensor([[-0.9995,  0.9995]], grad_fn=<NativeLayerNormBackward0>)
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(
        self,
        axis: int | list[int] = -1,
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
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise TypeError(f"`axis` must be an integer or a list of integers. Received: axis={axis!r}")
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = _check_epsilon(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint, argument="beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, argument="gamma_constraint")
        self._axes: tuple[int, ...] = ()
        self._trailing = True

    def build(self, input_shape) -> None:
        rank = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -rank <= a < rank for a in axes):
            raise ValueError(
                f"`axis` {self.axis} is out of range for inputs of rank {rank} (shape {input_shape})."
            )
        self._axes = tuple(sorted({a % rank for a in axes}))
        # F.layer_norm handles the common case: the last k axes.
        self._trailing = self._axes == tuple(range(rank - len(self._axes), rank))
        shape = tuple(int(input_shape[a]) for a in self._axes)
        self.gamma = self.add_weight(
            shape, self.gamma_initializer, regularizer=self.gamma_regularizer, name="gamma",
            constraint=self.gamma_constraint,
        ) if self.scale else None
        self.beta = self.add_weight(
            shape, self.beta_initializer, regularizer=self.beta_regularizer, name="beta",
            constraint=self.beta_constraint,
        ) if self.center else None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self._trailing:
            shape = tuple(inputs.shape[a] for a in self._axes)
            return F.layer_norm(inputs, shape, self.gamma, self.beta, self.epsilon)
        var, mean = torch.var_mean(inputs, dim=self._axes, unbiased=False, keepdim=True)
        y = (inputs - mean) * torch.rsqrt(var + self.epsilon)
        broadcast = [inputs.shape[a] if a in self._axes else 1 for a in range(inputs.dim())]
        if self.gamma is not None:
            y = y * self.gamma.reshape(broadcast)
        if self.beta is not None:
            y = y + self.beta.reshape(broadcast)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
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
        return f"name={self.name!r}, axis={self.axis}, epsilon={self.epsilon}"
