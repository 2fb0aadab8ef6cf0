"""Feature scaling inside the model: Rescaling and Normalization (with ``adapt``).

Example:
    >>> import numpy as np
    >>> layer = Normalization(axis=None)
    >>> layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    >>> layer(np.array([1.0, 2.0, 3.0])).round(decimals=4)
    tensor([-1.4142, -0.7071,  0.0000])
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable

import numpy as np
import torch

from easynn.layers.base import Layer, _is_symbolic

__all__ = ["Rescaling", "Normalization"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _as_float(inputs: torch.Tensor) -> torch.Tensor:
    return inputs if inputs.is_floating_point() else inputs.to(torch.get_default_dtype())


def _plain_value(value: Any) -> Any:
    """A number or a (nested) list of numbers, for get_config."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value).tolist()
    if isinstance(value, (tuple, list)):
        return [_plain_value(v) for v in value]
    return value


class Rescaling(Layer):
    """Multiplies inputs by ``scale`` and adds ``offset``: ``out = inputs * scale + offset``.

    Args:
        scale: a number, or one number per channel (broadcast against the last axis).
        offset: a number, or one per channel; 0 by default.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: any tensor; integer data (uint8 images) are computed in float.

    Returns:
        A float tensor of the input's shape.

    Raises:
        TypeError: if ``scale`` or ``offset`` is not a number or a list of numbers.

    Example:
        >>> import torch
        >>> Rescaling(1 / 127.5, offset=-1)(torch.tensor([0, 255], dtype=torch.uint8))
        tensor([-1.,  1.])
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            try:
                np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"`{name}` must be a number or a list of numbers. Received: {name}={value!r}"
                ) from None
        self.scale = _plain_value(scale)
        self.offset = _plain_value(offset)
        self._constants: dict = {}

    def _constant(self, value: Any, like: torch.Tensor) -> Any:
        if isinstance(value, numbers.Real):
            return value
        key = (id(value), like.dtype, like.device)
        if key not in self._constants:
            self._constants[key] = torch.as_tensor(value, dtype=like.dtype, device=like.device)
        return self._constants[key]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _as_float(inputs)
        return x * self._constant(self.scale, x) + self._constant(self.offset, x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, scale={self.scale}, offset={self.offset}"


def _batches(data: Any, batch_size: int = 256) -> Iterable[torch.Tensor]:
    """The feature batches of ``data``: an array/tensor, a Dataset, a DataLoader or any iterable."""
    if isinstance(data, (np.ndarray, torch.Tensor, list, tuple)) and not (
        isinstance(data, (list, tuple)) and data and isinstance(data[0], (torch.Tensor, np.ndarray)) and
        len({tuple(np.shape(d)) for d in data}) > 1
    ):
        yield torch.as_tensor(np.asarray(data) if not isinstance(data, torch.Tensor) else data)
        return
    if isinstance(data, torch.utils.data.Dataset) and not isinstance(data, torch.utils.data.IterableDataset):
        data = torch.utils.data.DataLoader(data, batch_size=batch_size)
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(
            "Normalization.adapt() expects a NumPy array, a tensor, a torch Dataset/DataLoader or an "
            f"iterable of batches. Received: data of type {type(data).__name__}"
        ) from None
    for batch in iterator:
        if isinstance(batch, (tuple, list)):  # (x, y) pairs: adapt on the features
            batch = batch[0]
        if isinstance(batch, dict):
            raise TypeError("Normalization.adapt() cannot adapt on dict batches; pass the feature tensor.")
        yield torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor) else batch)


class Normalization(Layer):
    """Shifts and scales features to mean 0 and variance 1: ``out = (x - mean) / sqrt(var)``.

    The mean and variance are either given, or learned from data by ``adapt(data)`` (one
    statistic per index of ``axis``; the other axes are reduced). With ``invert=True`` the layer
    undoes the normalization: ``out = mean + x * sqrt(var)``. The standard deviation is floored
    at 1e-7 (Keras's epsilon), so constant features do not divide by zero.

    Args:
        axis: the axis (or axes) kept: one mean per index of it. ``-1`` (default) normalizes each
            feature/channel; ``None`` uses one scalar mean and variance.
        mean: the mean to use instead of ``adapt`` (a number or an array broadcastable to the
            kept axes); ``variance`` must be given with it.
        variance: the variance to use instead of ``adapt``.
        invert: apply the inverse transformation.
        **kwargs: base layer arguments.

    Shape:
        Output has the input's shape. ``get_weights()`` (when adapting) is ``[mean, variance,
        count]`` as in Keras 3: mean and variance of the kept axes' shape, and an unused scalar
        ``count`` (so a Normalization of ``d`` features has ``2 * d + 1`` parameters).

    Raises:
        ValueError: if only one of ``mean``/``variance`` is given, if ``axis`` includes the
            batch axis, or if the layer is called before ``adapt`` without a mean.

    Example:
        >>> import torch
        >>> layer = Normalization(mean=3.0, variance=2.0)
        >>> layer(torch.tensor([[1.0], [3.0]])).round(decimals=4)
        tensor([[-1.4142],
                [ 0.0000]])
    """

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None, invert: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif isinstance(axis, (tuple, list)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = tuple(axis)
        else:
            raise TypeError(f"`axis` must be an int, a tuple of ints or None. Received: axis={axis!r}")
        if (mean is None) != (variance is None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean!r} and variance={variance!r}"
            )
        self.axis = axis
        self.input_mean = _plain_value(mean)
        self.input_variance = _plain_value(variance)
        self.invert = bool(invert)
        self._adapted = mean is not None
        self._checking_symbolically = False
        self._keep_axes: tuple[int, ...] = ()
        self._broadcast_shape: tuple[int, ...] = ()

    # ---------------------------------------------------------------- building
    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        keep = sorted(a + ndim if a < 0 else a for a in self.axis)
        if any(a < 0 or a >= ndim for a in keep):
            raise ValueError(
                f"Layer '{self.name}': `axis` {self.axis} is out of range for inputs of rank {ndim} "
                f"(shape {tuple(input_shape)})."
            )
        if 0 in keep and ndim > 1:
            raise ValueError(f"Layer '{self.name}': `axis` may not include the batch axis 0. Received: axis={self.axis}")
        if any(input_shape[a] is None for a in keep):
            raise ValueError(
                f"Layer '{self.name}': every kept axis {tuple(keep)} must have a known size. "
                f"Received input shape {tuple(input_shape)}."
            )
        self._keep_axes = tuple(keep)
        self._broadcast_shape = tuple(input_shape[a] if a in keep else 1 for a in range(ndim))
        stats_shape = tuple(input_shape[a] for a in keep)
        if self.input_mean is None:
            self.mean = self.add_weight(stats_shape, "zeros", trainable=False, name="mean")
            self.variance = self.add_weight(stats_shape, "ones", trainable=False, name="variance")
            # Keras 3 keeps a scalar `count` weight for backwards compatibility (never used).
            self.count = self.add_weight((), "zeros", trainable=False, name="count")
        else:
            dtype = self.dtype or torch.get_default_dtype()
            mean = torch.as_tensor(self.input_mean, dtype=dtype, device=self._build_device)
            variance = torch.as_tensor(self.input_variance, dtype=dtype, device=self._build_device)
            shape = self._broadcast_shape if mean.dim() else ()
            # Constants (not weights, as in Keras): not saved, not counted.
            self.register_buffer("mean", torch.broadcast_to(mean, stats_shape).reshape(shape) if shape else mean,
                                 persistent=False)
            self.register_buffer("variance", torch.broadcast_to(variance, stats_shape).reshape(shape)
                                 if shape else variance, persistent=False)

    # ---------------------------------------------------------------- adapting
    def adapt(self, data: Any, batch_size: int = 256, steps: int | None = None) -> None:
        """Compute the mean and variance of ``data`` over every axis but ``axis``.

        Args:
            data: a NumPy array, a tensor, a torch ``Dataset``/``DataLoader`` (``(x, y)`` batches
                use ``x``) or any iterable of batches.
            batch_size: batch size used to read a ``Dataset``.
            steps: read at most this many batches.

        Raises:
            ValueError: if the layer was given a fixed mean, or ``data`` is empty.
        """
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}' was given `mean` and `variance`; it cannot adapt().")
        count = 0
        mean = m2 = None
        for step, batch in enumerate(_batches(data, batch_size)):
            if steps is not None and step >= steps:
                break
            batch = batch.to(torch.float64)
            if batch.dim() == 0:
                batch = batch.reshape(1)
            if not self.built:
                self.build_from_shape(tuple(batch.shape))
            reduce = tuple(a for a in range(batch.dim()) if a not in self._keep_axes)
            n = batch.numel() // max(int(np.prod([batch.shape[a] for a in self._keep_axes])), 1)
            if n == 0:
                continue
            b_mean = batch.mean(dim=reduce) if reduce else batch
            b_m2 = ((batch - batch.mean(dim=reduce, keepdim=True)) ** 2).sum(dim=reduce) if reduce else torch.zeros_like(batch)
            if mean is None:
                count, mean, m2 = n, b_mean, b_m2
            else:  # Chan et al.: merge two (count, mean, sum of squared deviations) summaries
                delta = b_mean - mean
                total = count + n
                mean = mean + delta * (n / total)
                m2 = m2 + b_m2 + delta**2 * (count * n / total)
                count = total
        if mean is None:
            raise ValueError(f"Layer '{self.name}': adapt() received no data.")
        with torch.no_grad():
            self.mean.copy_(mean.reshape(self.mean.shape))
            self.variance.copy_((m2 / count).reshape(self.variance.shape))
        self._adapted = True

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        self._adapted = True  # set_weights / a loaded file fills the statistics
        return value

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if prefix + "mean" in state_dict:
            self._adapted = True
        return super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ---------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        if args and _is_symbolic(args[0]):  # building a functional model before adapt() is fine
            self._checking_symbolically = True
            try:
                return super().__call__(*args, **kwargs)
            finally:
                self._checking_symbolically = False
        return super().__call__(*args, **kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self._adapted and not self._checking_symbolically:
            raise ValueError(
                f"Layer '{self.name}' (Normalization) was called before adapt() and without `mean` "
                "and `variance`. Call layer.adapt(data) first, or pass mean=... and variance=...."
            )
        x = _as_float(inputs)
        shape = self._broadcast_shape if self.mean.dim() else ()
        mean = self.mean.reshape(shape).to(x.dtype)
        std = torch.sqrt(self.variance.reshape(shape).to(x.dtype)).clamp_min(_EPSILON)
        return mean + x * std if self.invert else (x - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            axis=None if not self.axis else (self.axis[0] if len(self.axis) == 1 else list(self.axis)),
            mean=self.input_mean, variance=self.input_variance, invert=self.invert,
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, invert={self.invert}"
