"""``Wrapper`` (the base of layers that hold one other layer) and ``SpectralNormalization``.

``SpectralNormalization(layer)`` keeps the wrapped layer's kernel at spectral norm about 1: during
training, before each forward pass, the largest singular value ``sigma`` of the kernel (in Keras's
layout, reshaped to ``(-1, units)``) is estimated by power iteration, and the kernel is divided
by it in place (Keras 3's semantics: the normalized kernel is what the optimizer then updates).
Outside training the layer is just the wrapped layer.

Example:
    >>> import torch
    >>> from easynn.layers.core import Dense
    >>> layer = SpectralNormalization(Dense(3))
    >>> _ = layer(torch.zeros(2, 4))
    >>> [tuple(w.shape) for w in layer.get_weights()]  # vector_u, then Dense's kernel and bias
    [(1, 3), (4, 3), (3,)]
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation, initializers
from easynn.layers.base import Layer
from easynn.layers.rnn.nested import deserialize_nested, serialize_nested

__all__ = ["Wrapper", "SpectralNormalization"]

_NORM_EPSILON = 1e-7  # Keras's backend.epsilon(), the floor of a norm in ``normalize``


class Wrapper(Layer):
    """Base class for layers that wrap one other layer (Keras's ``keras.layers.Wrapper``).

    It builds the wrapped layer on the wrapper's input shape, and stores it in the config as
    ``{"class_name", "config"}``. Subclasses implement ``call``.

    Args:
        layer: the ``Layer`` to wrap.
        **kwargs: base layer arguments.

    Raises:
        ValueError: if ``layer`` is not an easynn ``Layer``.
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"`layer` must be an easynn Layer instance to wrap. Received: layer={layer!r} "
                f"of type {type(layer).__name__}."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape) -> None:
        if not self.layer.built:
            self.layer.build_from_shape(tuple(input_shape), device=self._build_device)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = serialize_nested(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Wrapper":
        config = dict(config)
        config["layer"] = deserialize_nested(config["layer"])
        return cls(**config)


def _normalize(x: torch.Tensor) -> torch.Tensor:
    return x / torch.linalg.vector_norm(x).clamp_min(_NORM_EPSILON)


class SpectralNormalization(Wrapper):
    """Divide the wrapped layer's kernel by its spectral norm, estimated by power iteration.

    With ``W`` the kernel in Keras's layout reshaped to ``(-1, units)`` and ``u`` the stored
    ``(1, units)`` vector, each training call repeats ``power_iterations`` times
    ``v = normalize(u W^T)``, ``u = normalize(v W)``; then ``sigma = v W u^T``, ``u`` is stored
    and the kernel becomes ``W / sigma`` (in place, outside autograd). An all-zero kernel is left
    alone.

    Args:
        layer: a layer with a ``kernel`` (Dense, Conv*, ...) or ``embeddings`` (Embedding) weight.
        power_iterations: power-iteration steps per training call (default 1), a positive int.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: the wrapped layer's input.
        training: normalize the kernel only when true (``fit`` sets it).

    Shape:
        the wrapped layer's. Weights: ``vector_u`` ``(1, units)`` (non-trainable, truncated normal
        with stddev 0.02), then the wrapped layer's.

    Raises:
        ValueError: for a ``power_iterations`` that is not a positive int, a ``layer`` that is not
            a Layer, or one with neither ``kernel`` nor ``embeddings`` (when built).

    Example:
        >>> import torch
        >>> from easynn.layers.core import Dense
        >>> torch.manual_seed(0) and None
        >>> layer = SpectralNormalization(Dense(4), power_iterations=20)
        >>> _ = layer(torch.zeros(1, 3), training=True)
        >>> round(float(torch.linalg.matrix_norm(layer.layer.kernel.detach(), ord=2)), 4)
        1.0
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        self.power_iterations = _validation.positive_int("power_iterations", power_iterations)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        kernel = self._kernel()
        units = self.layer.keras_layout(kernel).shape[-1]
        self.vector_u = self.add_weight(
            (1, units), initializers.TruncatedNormal(stddev=0.02), trainable=False, name="vector_u",
            dtype=kernel.dtype,
        )

    def _kernel(self) -> torch.Tensor:
        for name in ("kernel", "embeddings"):
            weight = getattr(self.layer, name, None)
            if isinstance(weight, torch.Tensor):
                return weight
        raise ValueError(
            f"SpectralNormalization: {type(self.layer).__name__} object has no attribute 'kernel' nor "
            "'embeddings'. Wrap a layer with a kernel (Dense, Conv2D, ...) or an Embedding."
        )

    @torch.no_grad()
    def normalize_weights(self) -> None:
        """One power-iteration update of ``vector_u`` and the division of the kernel by ``sigma``."""
        kernel = self._kernel()
        keras_kernel = self.layer.keras_layout(kernel)
        if not bool(torch.any(keras_kernel != 0)):
            return
        w = keras_kernel.reshape(-1, keras_kernel.shape[-1])
        u = self.vector_u.to(w.dtype)
        v = u
        for _ in range(self.power_iterations):
            v = _normalize(u @ w.T)
            u = _normalize(v @ w)
        sigma = (v @ w @ u.T).reshape(())
        self.vector_u.copy_(u)
        kernel.div_(sigma)

    def call(self, inputs, training: bool | None = None):
        if training is None:
            training = self.training
        if training:
            self.normalize_weights()
        return self.layer(inputs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, power_iterations={self.power_iterations}"
