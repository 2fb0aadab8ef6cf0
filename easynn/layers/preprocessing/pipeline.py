"""Pipeline: a plain layer that applies a list of layers one after the other (Keras 3).

Formula: ``pipeline(x) = layers[-1](... layers[1](layers[0](x)))``.

How it differs from ``Sequential``: a ``Pipeline`` is a ``Layer``, not a ``Model`` (no
``compile``/``fit``/``summary``, no input shape of its own); each layer is called as it is, on
whatever it receives (tensors, NumPy arrays, dicts of images and labels); and, as in Keras, a
``Pipeline`` called on its own without ``training`` runs in training mode (``training=True`` is the
default of Keras's ``Pipeline.call``), so an augmentation pipeline called on a batch of data
augments it. Inside a model it follows the model: augmenting in ``fit``, not in ``predict``.

Example:
    >>> import torch
    >>> from easynn.layers.preprocessing.numeric import Rescaling
    >>> pipe = Pipeline([Rescaling(2.0), Rescaling(1.0, offset=-1.0)])
    >>> pipe(torch.tensor([0.0, 1.0, 2.0]))
    tensor([-1.,  1.,  3.])
    >>> [type(layer).__name__ for layer in pipe.layers]
    ['Rescaling', 'Rescaling']
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from easynn.layers.base import _CALL_CONTEXT, Layer
from easynn.layers.rnn.base import has_symbolic
from easynn.layers.rnn.nested import deserialize_nested, serialize_nested

__all__ = ["Pipeline"]


def _holds_symbolic(value: Any) -> bool:
    """Whether ``value`` (tensors in lists, tuples or dicts) holds a functional-API placeholder."""
    if isinstance(value, dict):
        return any(_holds_symbolic(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_symbolic(v) for v in value)
    return has_symbolic(value)


class Pipeline(Layer):
    """Applies a series of layers to an input, as Keras 3's ``keras.layers.Pipeline``.

    Useful for preprocessing, in particular image augmentation (``RandomFlip``,
    ``RandomRotation``, ...), inside a model or on batches of data.

    Args:
        layers: a list (or tuple) of easynn layers, applied in order.
        name: the layer's name (``pipeline``, ``pipeline_1``, ... by default).

    Call arguments:
        inputs: what the first layer takes (a batched tensor, or a dict for ``MixUp``/``CutMix``).
        training: passed to every layer. Left out on a call of the ``Pipeline`` itself it is
            ``True`` (Keras's default); inside a model, the model's mode.

    Shape:
        The last layer's output shape (``compute_output_shape`` chains the layers' own).

    Returns:
        The output of the last layer (the input itself for an empty list).

    Raises:
        TypeError: if ``layers`` is not a list or tuple of easynn layers.

    Example:
        >>> import torch
        >>> from easynn.layers.preprocessing.augmentation import RandomFlip
        >>> from easynn.layers.preprocessing.image import CenterCrop
        >>> augment = Pipeline([RandomFlip("horizontal", seed=0), CenterCrop(2, 2)])
        >>> augment(torch.zeros(4, 6, 6, 3)).shape
        torch.Size([4, 2, 2, 3])
    """

    def __init__(self, layers: Any, name: str | None = None) -> None:
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"`layers` must be a list of layers. Received: layers={layers!r}")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"`layers` must contain only easynn layers. Received: layers[{index}]={layer!r} "
                    f"(of type {type(layer).__name__})."
                )
        super().__init__(name=name)
        self._pipeline_layers = nn.ModuleList(layers)
        # Each layer sets its own output mask; the Pipeline adds none (compute_mask below).
        self.supports_masking = True

    @property
    def layers(self) -> list:
        """The layers, in the order they are applied."""
        return list(self._pipeline_layers)

    def __call__(self, *args: Any, **kwargs: Any):
        if ("training" not in kwargs and _CALL_CONTEXT.root is None and not torch.compiler.is_compiling()
                and not _holds_symbolic(args)):
            # A call of the Pipeline itself on data: Keras's call(training=True). (Not on functional-API
            # tensors: the model passes its own mode to the node when it runs.)
            kwargs["training"] = True
        return super().__call__(*args, **kwargs)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = inputs
        for layer in self._pipeline_layers:
            if layer._call_takes_training:
                outputs = layer(outputs, training=training)
            else:
                outputs = layer(outputs)
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """``None``: the output carries the mask its last layer gave it, if any."""
        return None

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self._pipeline_layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict:
        """``{"layers": [...], "name": ...}``, as Keras (each layer as ``{"class_name", "config"}``)."""
        return {"layers": [serialize_nested(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Pipeline":
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                f"Received config with layers={layers!r}."
            )
        return cls(layers=[deserialize_nested(spec) for spec in layers], name=config.get("name"))

    def extra_repr(self) -> str:
        return f"name={self.name!r}, layers={len(self._pipeline_layers)}"
