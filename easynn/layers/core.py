"""Core layers: the feedforward network's building blocks.

The lecture's layer is ``z = W a + b``, ``a' = f(z)``. Keras (and easynn) store ``W`` as a
``(in, out)`` kernel and compute ``f(a @ kernel + bias)`` on the last axis.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from easynn import activations, constraints, initializers, regularizers
from easynn._validation import positive_int as _positive_int
from easynn.layers.base import Layer
from easynn.layers.lambda_layer import Lambda  # noqa: F401  (kept importable from here)
from easynn.layers.symbolic import STRING, SymbolicTensor, string_batch

_LINEAR = activations.get(None)

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer", "Input", "Lambda", "TorchModuleWrapper"]


def fused_activation_name(fn: Callable | None) -> str | None:
    """``"softmax"``/``"sigmoid"`` when ``fn`` is easynn's softmax (last axis) or sigmoid."""
    if fn is activations.get("softmax"):
        return "softmax"
    if fn is activations.get("sigmoid"):
        return "sigmoid"
    return None




class Dense(Layer):
    """Densely connected layer: ``output = activation(inputs @ kernel + bias)``.

    Args:
        units: dimensionality of the output.
        activation: activation name (``"relu"``, ``"softmax"``, ...) or callable; ``None`` is linear.
            Names run easynn's own autograd Functions (``easynn.activations``).
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer of the ``(in, out)`` kernel (Keras's ``glorot_uniform``).
        bias_initializer: initializer of the bias (``zeros``).
        kernel_regularizer: penalty on the kernel, e.g. ``easynn.regularizers.l2(1e-4)``.
        bias_regularizer: penalty on the bias.
        kernel_constraint: projection of the ``(in, out)`` kernel after each update, e.g.
            ``easynn.constraints.MaxNorm(3)`` (norm of each unit's incoming weights).
        bias_constraint: projection of the bias after each update.
        **kwargs: base layer arguments (``name``, ``input_shape``, legacy ``input_dim``, ...).

    Shape:
        ``(batch, ..., in)`` -> ``(batch, ..., units)``; ``in`` is inferred on the first call.

    Raises:
        ValueError: on a non-positive ``units``, or when called on inputs whose last dimension
            differs from the one the layer was built for.

    Example:
        >>> import torch
        >>> layer = Dense(4, activation="relu")
        >>> layer(torch.ones(2, 3)).shape
        torch.Size([2, 4])
        >>> layer.get_weights()[0].shape  # Keras layout: (in, out)
        (3, 4)
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(
        self,
        units: int,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _positive_int("units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")
        self.input_dim: int | None = None

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 2 or more (batch, ..., features). "
                f"Received input shape {input_shape}."
            )
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            (self.input_dim, self.units), self.kernel_initializer, regularizer=self.kernel_regularizer, name="kernel",
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                        name="bias", constraint=self.bias_constraint)
        else:
            self.bias = None

    def call_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs @ kernel + bias``: the pre-activation ``z`` of the lecture."""
        if inputs.dim() < 2 or inputs.shape[-1] != self.input_dim:
            hint = " Add a batch axis for a single sample: x[None] (or x.reshape(1, -1))." if inputs.dim() == 1 else ""
            raise ValueError(
                f"Layer '{self.name}' expects inputs of shape (batch, ..., {self.input_dim}), "
                f"but received shape {tuple(inputs.shape)}.{hint}"
            )
        if not inputs.is_floating_point():  # integer data (uint8 pixels, counts): compute in float
            inputs = inputs.to(self.kernel.dtype)
        if inputs.dim() == 2 and self.bias is not None:
            return torch.addmm(self.bias, inputs, self.kernel)
        outputs = torch.matmul(inputs, self.kernel)
        return outputs + self.bias if self.bias is not None else outputs

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.call_logits(inputs)
        return outputs if self.activation is _LINEAR else self.activation(outputs)

    def final_activation(self) -> str | None:
        return fused_activation_name(self.activation)

    def _stored_variables(self) -> list:
        # Keras's Dense stores its kernel ("0") and bias ("1") only: a subclass that adds
        # variables stores them itself (keras-io's save_own_variables guide relies on it).
        return [self.kernel] + ([self.bias] if self.bias is not None else [])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config

    def extra_repr(self) -> str:
        act = activations.serialize(self.activation) if callable(self.activation) else None
        return f"name={self.name!r}, in={self.input_dim}, units={self.units}, activation={act}"


class Activation(Layer):
    """Applies an activation function, given by name or as a callable.

    Args:
        activation: ``"relu"``, ``"sigmoid"``, ``"softmax"``, ... or a callable ``fn(x)``.

    Example:
        >>> import torch
        >>> Activation("relu")(torch.tensor([[-1.0, 2.0]]))
        tensor([[0., 2.]])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(self, activation: str | Callable | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def final_activation(self) -> str | None:
        return fused_activation_name(self.activation)

    def call_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, activation={activations.serialize(self.activation)}"


class Dropout(Layer):
    """Inverted dropout: zeroes a ``rate`` fraction of inputs in training, scales the rest.

    Args:
        rate: fraction of units to drop, in ``[0, 1)``.
        noise_shape: unsupported in easynn except ``None`` (raises otherwise).
        seed: accepted for Keras compatibility; use ``easynn.utils.set_random_seed``.

    Call arguments:
        training: dropout is active only when ``True`` (``fit``), never in ``predict``.

    Example:
        >>> import torch
        >>> Dropout(0.5)(torch.ones(2, 2), training=False)
        tensor([[1., 1.],
                [1., 1.]])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported by easynn yet.")
        self.rate = float(rate)
        self.seed = seed

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0.0:
            return inputs
        return F.dropout(inputs, self.rate, training=True)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"


class Flatten(Layer):
    """Flattens every axis but the batch axis (channels_last order, as Keras).

    Example:
        >>> import torch
        >>> Flatten()(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
            )
        self.data_format = data_format

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the non-batch axes to ``target_shape`` (one entry may be ``-1``).

    Example:
        >>> import torch
        >>> Reshape((3, -1))(torch.zeros(2, 12)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, target_shape: Iterable[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            target_shape = tuple(int(s) for s in target_shape)
        except TypeError:
            raise TypeError(f"`target_shape` must be a tuple of integers. Received: target_shape={target_shape!r}") from None
        if sum(s == -1 for s in target_shape) > 1 or any(s == 0 or s < -1 for s in target_shape):
            raise ValueError(
                f"`target_shape` must hold positive integers and at most one -1. Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape

    def build(self, input_shape) -> None:
        size = math.prod(input_shape[1:])
        known = math.prod(s for s in self.target_shape if s != -1)
        if (-1 in self.target_shape and size % known) or (-1 not in self.target_shape and size != known):
            raise ValueError(
                f"Layer '{self.name}' cannot reshape inputs of shape {tuple(input_shape[1:])} "
                f"({size} values per sample) to target_shape={self.target_shape}."
            )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class InputLayer(Layer):
    """Declares the input shape (without the batch axis); the identity when called.

    Args:
        shape: input shape without the batch axis, e.g. ``(784,)``.
        batch_size: accepted for Keras compatibility.
        dtype: input dtype (``float32`` by default); ``"string"`` for text (lists of ``str``, or
            ``(batch,)``/``(batch, 1)`` NumPy arrays of ``str``) read by a ``TextVectorization``.
        batch_shape: shape with the batch axis (alternative to ``shape``).
        name: layer name.
    """

    def __init__(self, shape: Iterable[int] | None = None, batch_size: int | None = None, dtype: Any = None,
                 batch_shape: Iterable[int] | None = None, name: str | None = None, **kwargs: Any) -> None:
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, **kwargs)
        if shape is None and batch_shape is not None:
            shape = tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("InputLayer needs `shape`, e.g. InputLayer(shape=(784,)).")
        if isinstance(shape, int):
            shape = (shape,)
        try:
            shape = tuple(None if s is None else int(s) for s in shape)
        except TypeError:
            raise TypeError(f"`shape` must be a tuple of integers. Received: shape={shape!r}") from None
        if any(s is not None and s <= 0 for s in shape):
            raise ValueError(f"`shape` must hold positive integers. Received: shape={shape}")
        self.shape = shape
        self.batch_size = batch_size
        if isinstance(dtype, str) and dtype == STRING:  # text (Keras's tf.string): lists of str, which torch has no dtype for
            self.input_dtype: Any = STRING
        else:
            self.input_dtype = dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype or "float32"))
        self.output = SymbolicTensor((None,) + shape, self.input_dtype, name=self.name)
        self.output.input_layer = self
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.input_dtype is STRING:  # a list, or a (batch,) / (batch, 1) array of str -> a list of str
            return string_batch(inputs, f"Input '{self.name}'")
        return inputs

    def get_config(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": str(self.input_dtype).replace("torch.", "")}


def Input(shape: Iterable[int] | None = None, batch_size: int | None = None, dtype: Any = None,
          batch_shape: Iterable[int] | None = None, name: str | None = None) -> SymbolicTensor:
    """A symbolic input tensor: the start of a functional model (or of a Sequential).

    Args:
        shape: shape without the batch axis, e.g. ``(784,)``.
        batch_size, dtype, batch_shape, name: as ``InputLayer``.

    Returns:
        A ``SymbolicTensor`` with shape ``(None, *shape)``.

    Example:
        >>> Input(shape=(784,)).shape
        (None, 784)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name).output


class TorchModuleWrapper(Layer):
    """Wraps any ``torch.nn.Module`` as an easynn layer (Sequential does this automatically).

    Its parameters train with the rest of the model. ``training`` follows the model's mode, so
    ``nn.Dropout`` and ``nn.BatchNorm*`` inside behave per mode.

    Args:
        module: the torch module; its ``forward`` receives the layer's input.

    Example:
        >>> import torch
        >>> layer = TorchModuleWrapper(torch.nn.Linear(3, 2))
        >>> layer(torch.zeros(4, 3)).shape
        torch.Size([4, 2])
    """

    def __init__(self, module: nn.Module, **kwargs: Any) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchModuleWrapper expects a torch.nn.Module. Received: {module!r}")
        kwargs.setdefault("name", None)
        super().__init__(**kwargs)
        self.module = module
        self.module.train(self.training)

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):
            return self.module(*inputs)
        return self.module(inputs)

    def get_config(self) -> dict:
        raise TypeError(
            f"Layer '{self.name}' wraps the plain torch module {type(self.module).__name__}, whose "
            "constructor arguments easynn cannot know. Use save_weights()/load_weights() for such "
            "models, or write the module as an easynn Layer subclass to save the whole model."
        )

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
