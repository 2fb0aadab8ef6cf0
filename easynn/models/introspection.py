"""Looking inside a model: ``summary``, ``get_layer`` and ``layers`` (mixed into ``Model``)."""

from __future__ import annotations

import torch

from easynn._traceback import filter_traceback
from easynn.layers.base import Layer

__all__ = ["IntrospectionMixin"]


class IntrospectionMixin:
    """Keras's ``summary()``, ``get_layer()`` and ``layers`` of a model."""

    @filter_traceback
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None) -> None:
        """Print a table of layers (name and type), output shapes and parameter counts."""
        import inspect

        from easynn.layers.summary import print_summary

        options = {"line_length": line_length, "positions": positions, "print_fn": print_fn,
                   "expand_nested": expand_nested, "show_trainable": show_trainable, "layer_range": layer_range}
        accepted = inspect.signature(print_summary).parameters
        unsupported = [name for name, value in options.items() if name not in accepted and value not in (None, False)]
        if unsupported:
            raise NotImplementedError(f"summary() does not support {', '.join(unsupported)} yet.")
        print_summary(self, **{name: value for name, value in options.items() if name in accepted})

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or index."""
        layers = list(getattr(self, "layers", []))
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Index {index} is out of range: the model has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: {[getattr(item, 'name', item) for item in layers]}.")

    @property
    def layers(self) -> list:
        """The model's direct sublayers, in the order they were created.

        Layers kept in a list or dict attribute (held in a ``ModuleList`` / ``ModuleDict``) are listed
        themselves, as Keras tracks them, not their container.
        """
        out: list = []
        pending = list(self.children())
        while pending:
            module = pending.pop(0)
            if isinstance(module, (torch.nn.ModuleList, torch.nn.ModuleDict)):
                pending[:0] = list(module.children())
            else:
                out.append(module)
        return out

    def reset_states(self) -> None:
        """Reset the states of every stateful layer inside (Keras's ``model.reset_states()``)."""
        for layer in self.modules():
            if layer is not self and getattr(layer, "stateful", False) and callable(getattr(layer, "reset_states", None)):
                layer.reset_states()
