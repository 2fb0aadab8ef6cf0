"""``Sequential``: a plain stack of layers, each feeding the next.

Example:
    >>> import torch, easynn
    >>> model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(2, activation="softmax")])
    >>> model(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn

from easynn.layers.base import Layer
from easynn.layers.core import InputLayer, TorchModuleWrapper
from easynn.layers.symbolic import STRING, SymbolicTensor
from easynn.models.model import Model
from easynn.saving.registry import register_builtin

__all__ = ["Sequential"]


@register_builtin
class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: layers to add, in order. The first may be ``easynn.Input(shape=...)`` or an
            ``InputLayer``; plain ``torch.nn.Module`` objects are wrapped automatically.
        name: the model's name.
        trainable: whether ``fit`` updates the weights.

    Raises:
        TypeError: when something that is not a layer or module is added.
        ValueError: when two layers share a name.
    """

    def __init__(self, layers: Iterable[Any] | None = None, trainable: bool = True, name: str | None = None, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack = nn.ModuleList()
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list:
        """The layers, in order (the input layer is not listed, as in Keras)."""
        return list(self._stack)

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append ``layer`` to the stack.

        Raises:
            TypeError: if ``layer`` is not an easynn layer, a torch module or an ``Input``.
            ValueError: if its name is already used in this model.
        """
        if isinstance(layer, SymbolicTensor):
            layer = getattr(layer, "input_layer", None) or InputLayer(shape=layer.shape[1:])
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An Input can only be the first layer of a Sequential model.")
            self._input_layer = layer
            self._build_from_input_shape((None,) + layer.shape, layer.input_dtype)
            return
        if isinstance(layer, nn.Module) and not isinstance(layer, Layer):
            layer = TorchModuleWrapper(layer)
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only easynn layers, torch.nn.Module objects and easynn.Input tensors can be added to "
                f"a Sequential model. Received: {layer!r} of type {type(layer).__name__}."
            )
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name '{layer.name}' "
                "is already the name of a layer in this model."
            )
        if not self._stack and self._input_layer is None and layer._declared_input_shape is not None:
            self._input_layer = InputLayer(shape=layer._declared_input_shape)
        self._stack.append(layer)
        if self._input_layer is not None and rebuild:
            self._build_from_input_shape((None,) + self._input_layer.shape, self._input_layer.input_dtype)

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer.

        Raises:
            TypeError: if the model has no layers.
        """
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack[-1]
        del self._stack[-1]
        self._trainer = None
        return layer

    def _build_from_input_shape(self, shape, dtype) -> None:
        """Build every layer by running zeros of ``shape`` through the stack."""
        if not self._stack:
            self.built = True
            self._build_input_shape = shape
            return
        device = next((p.device for p in self.parameters()), None)
        if dtype is STRING:  # a text model (Input(dtype="string") before TextVectorization): dummy strings
            probe = SymbolicTensor(shape, STRING)._probe(device=device)
        else:
            probe = torch.zeros(tuple(2 if s is None else s for s in shape), dtype=dtype, device=device)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                self(probe)
        finally:
            self.train(was_training)
            self._clear_losses()

    def _build_on(self, inputs) -> None:
        # The first real call builds each layer on the real inputs (their dtype included).
        self._building = True
        try:
            super()._build_on(inputs)
        finally:
            self._building = False

    def build(self, input_shape=None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch axis included,
        ``None`` allowed), as ``keras.Sequential.build`` does.

        Raises:
            ValueError: without an input shape when the model has no ``Input``.
        """
        if getattr(self, "_building", False):  # building from a real call: the layers build as it runs
            return
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("build() needs an input_shape, e.g. model.build((None, 784)).")
            input_shape = (None,) + self._input_layer.shape
        self._building = True
        try:
            self._build_from_input_shape(tuple(input_shape), torch.float32)
        finally:
            self._building = False
        self._build_input_shape = tuple(input_shape)
        self.built = True

    def _conform(self, inputs):
        # As the functional model does (and Keras 2's): integer inputs (uint8 images, say) are
        # cast to a floating Input's dtype; an integer Input (for an Embedding) keeps them.
        layer = self._input_layer
        if (layer is not None and isinstance(inputs, torch.Tensor) and layer.input_dtype.is_floating_point
                and not inputs.is_floating_point()):
            return inputs.to(layer.input_dtype)
        return inputs

    def call(self, inputs, training=None):
        inputs = self._conform(inputs)
        for layer in self._stack:
            inputs = layer(inputs, training=training)
        return inputs

    def final_activation(self) -> str | None:
        return self._stack[-1].final_activation() if self._stack else None

    @property
    def inputs(self) -> list:
        """The model's symbolic input, as a one-element list (needs an ``Input`` first)."""
        if self._input_layer is None:
            raise AttributeError(
                f"Sequential model '{self.name}' has no inputs yet: start it with easynn.Input(shape=...)."
            )
        if "_symbolic_outputs" not in self.__dict__:
            self._trace_symbolically()
        return [self._input_layer.output]

    @property
    def outputs(self) -> list:
        """The symbolic output of the last layer, as a one-element list (Keras's ``model.outputs``)."""
        inputs = self.inputs
        return list(self.__dict__["_symbolic_outputs"]) if inputs else []

    def _trace_symbolically(self) -> None:
        """Call the layers once on the Input's symbolic tensor, so each layer has ``input``/``output``."""
        tensor = self._input_layer.output
        for layer in self._stack:
            tensor = layer(tensor)
        self.__dict__["_symbolic_outputs"] = [tensor]

    @property
    def input_shape(self):
        """Input shape with ``None`` batch axis, once known."""
        if self._input_layer is not None:
            return (None,) + self._input_layer.shape
        if self._build_input_shape is not None:
            return (None,) + tuple(self._build_input_shape[1:])
        raise AttributeError("The model has no defined input shape yet: call it on data or start it with easynn.Input.")

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "layers": []}
        from easynn import saving

        if self._input_layer is not None:
            config["layers"].append(saving.serialize_layer(self._input_layer))
        config["layers"] += [saving.serialize_layer(layer) for layer in self._stack]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from easynn import saving

        layers = [saving.deserialize_layer(spec, custom_objects) for spec in config.get("layers", [])]
        return cls(layers=layers, name=config.get("name"), trainable=config.get("trainable", True))
