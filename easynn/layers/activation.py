"""Activation layers: thin ``Layer`` shells over ``easynn.activations``.

Each layer stores its arguments, calls the matching function of ``easynn.activations`` (whose
backward is written by hand from the lecture's derivative table) and returns its arguments from
``get_config``. ``PReLU`` and ``Maxout`` also own weights.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable

import torch

from easynn import activations, constraints, initializers, regularizers
from easynn._validation import positive_int as _positive_int
from easynn.layers.base import Layer

__all__ = ["ELU", "LeakyReLU", "Maxout", "PReLU", "ReLU", "Softmax"]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)




class ReLU(Layer):
    """Rectified linear unit, with Keras's optional cap, leak and threshold.

    Formula: ``f(x) = max_value`` for ``x >= max_value``; ``x`` for ``threshold <= x < max_value``;
    ``negative_slope * (x - threshold)`` otherwise. With the defaults, ``max(0, x)``.

    Args:
        max_value: upper bound of the output (``None``: unbounded).
        negative_slope: slope below the threshold.
        threshold: where the linear part starts.
        **kwargs: base layer arguments (``name``, ...).

    Shape:
        Any shape; the output has the input's shape.

    Raises:
        ValueError: for a negative ``max_value`` or ``negative_slope``.

    Example:
        >>> import torch
        >>> ReLU()(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
        >>> ReLU(max_value=1.0)(torch.tensor([-1.0, 2.0]))
        tensor([0., 1.])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_value is not None and _number("max_value", max_value) < 0:
            raise ValueError(
                f"`max_value` of a ReLU layer must be non-negative. Received: max_value={max_value}"
            )
        if _number("negative_slope", negative_slope) < 0:
            raise ValueError(
                "`negative_slope` of a ReLU layer must be non-negative. "
                f"Received: negative_slope={negative_slope}"
            )
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = _number("threshold", threshold)

    def call(self, inputs):
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, max_value={self.max_value}, "
            f"negative_slope={self.negative_slope}, threshold={self.threshold}"
        )


class LeakyReLU(Layer):
    """Leaky ReLU: ``f(x) = x if x > 0 else negative_slope * x``.

    Args:
        negative_slope: slope for ``x <= 0`` (Keras's layer default is 0.3).
        **kwargs: base layer arguments; the Keras 2 name ``alpha=`` is accepted with a
            ``DeprecationWarning``.

    Shape:
        Any shape; the output has the input's shape.

    Raises:
        ValueError: for a negative ``negative_slope``.

    Example:
        >>> import torch
        >>> LeakyReLU()(torch.tensor([-1.0, 2.0]))
        tensor([-0.3000,  2.0000])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "`alpha` is a Keras 2 argument of LeakyReLU; use `negative_slope` instead.",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(**kwargs)
        if _number("negative_slope", negative_slope) < 0:
            raise ValueError(
                "`negative_slope` of a LeakyReLU layer must be non-negative. "
                f"Received: negative_slope={negative_slope}"
            )
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return activations.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, negative_slope={self.negative_slope}"


class PReLU(Layer):
    """Parametric ReLU: ``f(x) = max(0, x) + alpha * min(0, x)`` with a learned ``alpha``.

    ``alpha`` has one entry per unit (shape ``input_shape[1:]``); the axes in ``shared_axes``
    share one slope (their size in ``alpha`` is 1), as in Keras.

    Args:
        alpha_initializer: initializer of ``alpha`` (``"zeros"``: starts as a ReLU).
        alpha_regularizer: penalty on ``alpha``.
        alpha_constraint: projection of ``alpha`` after each update (e.g. ``"non_neg"``).
        shared_axes: axes (1-based, the batch axis excluded, as in Keras) along which the slope
            is shared, e.g. ``[1, 2]`` for one slope per channel of ``(batch, H, W, C)`` images.
        **kwargs: base layer arguments.

    Shape:
        Any shape; the output has the input's shape.

    Raises:
        ValueError: for a shared axis that the input does not have, or an unknown ``alpha_constraint``.

    Example:
        >>> import torch
        >>> layer = PReLU(shared_axes=[1, 2])
        >>> layer(torch.zeros(2, 4, 4, 3)).shape
        torch.Size([2, 4, 4, 3])
        >>> layer.count_params()
        3
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | Iterable[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_constraint = constraints.get(alpha_constraint, argument="alpha_constraint")
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, int):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = [int(a) for a in shared_axes]

    def build(self, input_shape) -> None:
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(param_shape):
                raise ValueError(
                    f"`shared_axes` must be between 1 and {len(param_shape)} for inputs of shape "
                    f"{tuple(input_shape)} (axis 0 is the batch). Received: "
                    f"shared_axes={self.shared_axes}"
                )
            param_shape[axis - 1] = 1
        self.alpha = self.add_weight(
            shape=param_shape,
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
            name="alpha",
        )

    def call(self, inputs):
        return activations.prelu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, shared_axes={self.shared_axes}"


class ELU(Layer):
    """Exponential linear unit: ``f(x) = x if x > 0 else alpha * (exp(x) - 1)``.

    Args:
        alpha: scale of the negative part.
        **kwargs: base layer arguments.

    Shape:
        Any shape; the output has the input's shape.

    Example:
        >>> import torch
        >>> ELU(alpha=0.5)(torch.tensor([-1e4, 2.0]))
        tensor([-0.5000,  2.0000])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = _number("alpha", alpha)

    def call(self, inputs):
        return activations.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, alpha={self.alpha}"


class Softmax(Layer):
    """Softmax along ``axis``: ``f(x)_i = exp(x_i) / sum_j exp(x_j)``.

    A model that ends with ``Softmax()`` (``axis=-1``) trains through the fused, numerically
    stable softmax + crossentropy: ``final_activation()`` says ``"softmax"`` and
    ``call_logits`` returns the inputs unchanged.

    Args:
        axis: the axis to normalize along.
        **kwargs: base layer arguments.

    Shape:
        Any shape; the output has the input's shape.

    Example:
        >>> import torch
        >>> Softmax()(torch.tensor([[0.0, 0.0]]))
        tensor([[0.5000, 0.5000]])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def call(self, inputs):
        return activations.softmax(inputs, self.axis)

    def final_activation(self) -> str | None:
        return "softmax" if self.axis == -1 else None

    def call_logits(self, inputs):
        if self.axis != -1:
            raise NotImplementedError("call_logits is only defined for Softmax(axis=-1).")
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, axis={self.axis}"


class Maxout(Layer):
    """Maxout: a dense layer with ``units * pieces`` outputs, then the max over each unit's pieces.

    Formula: ``z = inputs @ kernel + bias`` reshaped to ``(..., units, pieces)``;
    ``output = max(z, axis=-1)``. Output feature ``j`` is the max of ``z[..., j * pieces + k]``
    for ``k < pieces``. The gradient of the max reaches the winning piece only.

    Args:
        units: number of output units.
        pieces: number of linear pieces per unit.
        use_bias: whether to add a bias.
        kernel_initializer: initializer of the ``(in, units * pieces)`` kernel.
        bias_initializer: initializer of the bias.
        kernel_regularizer: penalty on the kernel.
        bias_regularizer: penalty on the bias.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, ..., in)`` -> ``(batch, ..., units)``.

    Raises:
        ValueError: for non-positive ``units``/``pieces``, or inputs whose last dimension
            differs from the one the layer was built for.

    Example:
        >>> import torch
        >>> layer = Maxout(4, pieces=3)
        >>> layer(torch.ones(2, 10)).shape
        torch.Size([2, 4])
        >>> layer.count_params()  # 10 * 12 + 12
        132
    """

    def __init__(
        self,
        units: int,
        pieces: int = 2,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _positive_int("units", units)
        self.pieces = _positive_int("pieces", pieces)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape) -> None:
        in_features = int(input_shape[-1])
        out_features = self.units * self.pieces
        self.kernel = self.add_weight(
            shape=(in_features, out_features),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(out_features,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                name="bias",
            )
        else:
            self.bias = None

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Layer '{self.name}' expects inputs with last dimension {self.kernel.shape[0]}, "
                f"but received shape {tuple(inputs.shape)}."
            )
        z = inputs @ self.kernel
        if self.bias is not None:
            z = z + self.bias
        z = z.reshape(*z.shape[:-1], self.units, self.pieces)
        return torch.max(z, dim=-1).values

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, units={self.units}, pieces={self.pieces}"
