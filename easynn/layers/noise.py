"""Regularization layers that perturb activations: spatial, Gaussian and alpha dropout, Gaussian noise.

Every random layer is active only when ``training=True`` (inside ``fit``) and the identity
otherwise, as Keras's. Its ``seed`` means what it means in Keras: an int gives a reproducible
*stream* of draws (an ``easynn.random.SeedGenerator``; each call advances it, so two layers made
with the same seed draw the same masks call after call); ``None`` draws from torch's global
generator, like ``Dropout``, so ``easynn.utils.set_random_seed`` makes a run reproducible.

Example:
    >>> import torch
    >>> x = torch.ones(2, 3, 4)
    >>> bool((SpatialDropout1D(0.5)(x) == x).all())  # outside fit: the identity
    True
    >>> y = SpatialDropout1D(0.5, seed=0)(x, training=True)
    >>> bool((y == y[:, :1]).all())  # a channel is kept or dropped at every time step
    True
"""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn import _validation, config, random
from easynn.layers.base import Layer

__all__ = [
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
]

# SELU's constants (Klambauer et al., 2017): AlphaDropout sets dropped units to SELU's
# negative saturation value -scale * alpha.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _data_format(value: Any) -> str:
    """``None`` -> ``easynn.config.image_data_format()``; else the checked, lower-cased value."""
    if value is None:
        return config.image_data_format()
    if isinstance(value, str) and value.lower() in ("channels_last", "channels_first"):
        return value.lower()
    raise ValueError(
        f"`data_format` must be 'channels_last', 'channels_first' or None. Received: data_format={value!r}"
    )


def _float_inputs(inputs: torch.Tensor) -> torch.Tensor:
    return inputs if inputs.is_floating_point() else inputs.to(torch.get_default_dtype())


class _RandomLayer(Layer):
    """A layer that draws random numbers, seeded as described in the module docstring."""

    supports_masking = True  # elementwise: the mask passes through (Keras)

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = None if seed is None else _validation.non_negative_int("seed", seed)
        # Stored past nn.Module on purpose: as a submodule its [seed, counter] state would follow the
        # layer to the GPU, and reading it for every draw would wait for the device. It is no weight.
        self.__dict__["seed_generator"] = None if seed is None else random.SeedGenerator(self.seed)

    def _generator(self, device: torch.device) -> torch.Generator | None:
        # Under torch.compile a generator argument breaks the graph: draw from the global one there.
        if self.seed_generator is None or torch.compiler.is_compiling():
            return None
        return torch.Generator(device=device).manual_seed(self.seed_generator.next())

    def _uniform(self, shape, like: torch.Tensor) -> torch.Tensor:
        return torch.rand(shape, generator=self._generator(like.device), device=like.device, dtype=like.dtype)

    def _normal(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self._generator(like.device), device=like.device, dtype=like.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _SpatialDropout(_RandomLayer):
    """Dropout of whole feature maps: one keep/drop draw per (sample, channel)."""

    _rank = 0  # the input rank, batch axis included

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _validation.probability("rate", rate)
        self.data_format = _data_format(data_format)

    def _check_rank(self, shape) -> None:
        if len(shape) != self._rank:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects inputs of rank {self._rank} "
                f"(batch, {'..., ' * (self._rank - 2)}channels). Received input shape {tuple(shape)}."
            )

    def build(self, input_shape) -> None:
        self._check_rank(input_shape)

    def noise_shape(self, input_shape) -> tuple[int, ...]:
        """The keep mask's shape: ``(batch, 1, ..., channels)`` (``(batch, channels, 1, ...)`` first)."""
        batch, ones = int(input_shape[0]), (1,) * (self._rank - 2)
        if self.data_format == "channels_first":
            return (batch, int(input_shape[1]), *ones)
        return (batch, *ones, int(input_shape[-1]))

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        self._check_rank(inputs.shape)
        if not training or self.rate == 0.0:
            return inputs
        inputs = _float_inputs(inputs)
        # Inverted dropout on a broadcast mask: kept maps are scaled by 1 / (1 - rate).
        keep = self._uniform(self.noise_shape(inputs.shape), inputs) >= self.rate
        return inputs * (keep.to(inputs.dtype) * (1.0 / (1.0 - self.rate)))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        if self._rank > 3:
            config["data_format"] = self.data_format
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}, data_format={self.data_format!r}"


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole 1D feature maps: each channel is dropped for every time step at once.

    Formula: ``y = x * m / (1 - rate)`` with ``m`` of shape ``(batch, 1, channels)``, each entry 0
    with probability ``rate`` and 1 otherwise (Tompson et al., 2014).

    Args:
        rate: fraction of the channels to drop, in ``[0, 1)``.
        seed: an int for a reproducible stream of masks; ``None`` uses torch's global generator.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        training: dropout is active only when ``True`` (``fit``); the identity otherwise.

    Shape:
        ``(batch, steps, channels)`` -> the same shape.

    Raises:
        ValueError: for a ``rate`` outside ``[0, 1)``, or inputs that are not 3-D.

    Example:
        >>> import torch
        >>> y = SpatialDropout1D(0.5, seed=3)(torch.ones(4, 5, 6), training=True)
        >>> sorted(set(y.flatten().tolist()))
        [0.0, 2.0]
    """

    _rank = 3

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole 2D feature maps (channels), for convolutional networks.

    Formula: ``y = x * m / (1 - rate)`` with ``m`` of shape ``(batch, 1, 1, channels)``
    (``(batch, channels, 1, 1)`` for ``channels_first``), each entry 0 with probability ``rate``.

    Args:
        rate: fraction of the channels to drop, in ``[0, 1)``.
        data_format: ``"channels_last"`` (``None``: ``easynn.config.image_data_format()``) or
            ``"channels_first"``.
        seed: an int for a reproducible stream of masks; ``None`` uses torch's global generator.
        **kwargs: base layer arguments.

    Call arguments:
        training: dropout is active only when ``True``; the identity otherwise.

    Shape:
        ``(batch, rows, cols, channels)`` (or ``(batch, channels, rows, cols)``) -> the same.

    Raises:
        ValueError: for a ``rate`` outside ``[0, 1)``, a bad ``data_format``, or non-4-D inputs.

    Example:
        >>> import torch
        >>> y = SpatialDropout2D(0.5, seed=0)(torch.ones(2, 3, 3, 4), training=True)
        >>> bool((y == y[:, :1, :1, :]).all())
        True
    """

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole 3D feature maps (channels) of volumes.

    Formula: ``y = x * m / (1 - rate)`` with ``m`` of shape ``(batch, 1, 1, 1, channels)``
    (``(batch, channels, 1, 1, 1)`` for ``channels_first``), each entry 0 with probability ``rate``.

    Args:
        rate: fraction of the channels to drop, in ``[0, 1)``.
        data_format: ``"channels_last"`` (``None``: the configured default) or ``"channels_first"``.
        seed: an int for a reproducible stream of masks; ``None`` uses torch's global generator.
        **kwargs: base layer arguments.

    Call arguments:
        training: dropout is active only when ``True``; the identity otherwise.

    Shape:
        ``(batch, d1, d2, d3, channels)`` (or ``(batch, channels, d1, d2, d3)``) -> the same.

    Raises:
        ValueError: for a ``rate`` outside ``[0, 1)``, a bad ``data_format``, or non-5-D inputs.

    Example:
        >>> import torch
        >>> SpatialDropout3D(0.3)(torch.ones(1, 2, 2, 2, 3)).shape
        torch.Size([1, 2, 2, 2, 3])
    """

    _rank = 5


class GaussianNoise(_RandomLayer):
    """Adds zero-centred Gaussian noise in training: a regularizer and a data augmentation.

    Formula: ``y = x + stddev * n`` with ``n ~ N(0, 1)`` drawn per entry; ``y = x`` at inference.

    Args:
        stddev: standard deviation of the noise, a non-negative number. (Keras 3 also caps it at 1;
            easynn accepts larger values, useful for inputs on a larger scale.)
        seed: an int for a reproducible stream of noise; ``None`` uses torch's global generator.
        **kwargs: base layer arguments.

    Call arguments:
        training: noise is added only when ``True``; the identity otherwise.

    Raises:
        ValueError: for a negative (or non-numeric) ``stddev``.

    Example:
        >>> import torch
        >>> layer = GaussianNoise(0.1, seed=0)
        >>> y = layer(torch.zeros(10000), training=True)
        >>> round(float(y.std()), 1)
        0.1
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.stddev = _validation.non_negative_float("stddev", stddev)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.stddev == 0.0:
            return inputs
        inputs = _float_inputs(inputs)
        return inputs + self.stddev * self._normal(inputs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(stddev=self.stddev, seed=self.seed)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, stddev={self.stddev}"


class GaussianDropout(_RandomLayer):
    """Multiplies by 1-centred Gaussian noise in training: dropout's mean and variance, no zeros.

    Formula: ``y = x * (1 + s * n)`` with ``n ~ N(0, 1)`` per entry and ``s = sqrt(rate / (1 - rate))``,
    the standard deviation of inverted dropout's multiplier; ``E[y] = x``.

    Args:
        rate: the drop probability of the dropout it imitates, in ``[0, 1)``.
        seed: an int for a reproducible stream of noise; ``None`` uses torch's global generator.
        **kwargs: base layer arguments.

    Call arguments:
        training: noise is applied only when ``True``; the identity otherwise.

    Raises:
        ValueError: for a ``rate`` outside ``[0, 1)``.

    Example:
        >>> import torch
        >>> y = GaussianDropout(0.5, seed=0)(torch.ones(10000), training=True)
        >>> round(float(y.mean()), 1), round(float(y.std()), 1)  # 1 and sqrt(0.5 / 0.5)
        (1.0, 1.0)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _validation.probability("rate", rate)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0.0:
            return inputs
        inputs = _float_inputs(inputs)
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * self._normal(inputs))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"


class AlphaDropout(_RandomLayer):
    """Dropout for self-normalizing (SELU) networks: keeps the inputs' mean and variance.

    Dropped units are set to SELU's saturation value ``alpha' = -scale * alpha`` (not 0), then an
    affine map restores zero mean and unit variance for inputs of mean 0 and variance 1.

    Formula: with ``m`` the keep mask (1 with probability ``1 - rate``),
    ``y = a * (x * m + alpha' * (1 - m)) + b``,
    ``a = ((1 - rate) * (1 + rate * alpha'^2)) ** -0.5`` and ``b = -a * alpha' * rate``.

    Args:
        rate: the drop probability, in ``[0, 1)``.
        noise_shape: the mask's shape, broadcast to the inputs (``None``: the inputs' shape); a
            ``None`` entry takes the inputs' size, e.g. ``(None, 1, None)`` shares the mask over time.
        seed: an int for a reproducible stream of masks; ``None`` uses torch's global generator.
        **kwargs: base layer arguments.

    Call arguments:
        training: active only when ``True``; the identity otherwise.

    Raises:
        ValueError: for a ``rate`` outside ``[0, 1)``, or a ``noise_shape`` that does not broadcast
            to the inputs.

    Example:
        >>> import torch
        >>> x = torch.randn(20000, generator=torch.Generator().manual_seed(0))
        >>> y = AlphaDropout(0.2, seed=0)(x, training=True)
        >>> abs(float(y.mean())) < 0.05, round(float(y.std()), 1)
        (True, 1.0)
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _validation.probability("rate", rate)
        if noise_shape is not None:
            try:
                noise_shape = [None if d is None else _validation.positive_int("noise_shape", d) for d in noise_shape]
            except (TypeError, ValueError):
                raise ValueError(
                    "`noise_shape` must be None or a list of positive integers or None entries. "
                    f"Received: noise_shape={noise_shape!r}"
                ) from None
        self.noise_shape = noise_shape

    def _mask_shape(self, shape: torch.Size) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(shape)
        out = tuple(int(s) if d is None else d for d, s in zip(self.noise_shape, shape))
        if len(self.noise_shape) != len(shape) or any(d not in (1, s) for d, s in zip(out, shape)):
            raise ValueError(
                f"Layer '{self.name}': `noise_shape` {self.noise_shape} does not broadcast to the input "
                f"shape {tuple(shape)}: each entry must be None, 1 or the input's size on that axis."
            )
        return out

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0.0:
            return inputs
        inputs = _float_inputs(inputs)
        saturation = -_SELU_ALPHA * _SELU_SCALE
        keep = (self._uniform(self._mask_shape(inputs.shape), inputs) >= self.rate).to(inputs.dtype)
        # Dropped units become `saturation`: mean rate*sat, variance (1-rate)(1+rate*sat^2) for
        # standardized inputs; a and b map them back to mean 0, variance 1.
        a = ((1.0 - self.rate) * (1.0 + self.rate * saturation**2)) ** -0.5
        b = -a * saturation * self.rate
        return a * (inputs * keep + saturation * (1.0 - keep)) + b

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"
